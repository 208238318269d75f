// Tests for the TUN/TAP driver. The messages and argument checks run everywhere; opening real
// devices needs root, the built addon and /dev/net/tun, and happens only inside a network
// namespace the test creates (and deletes). The stack-level behaviour over TAP is in test/interop.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { CryptoRng, TapPort, describeOpenError, netnsPath, tapUnavailable } from './tap.js';
import type { Instant } from '../time/instant.js';

const run = promisify(execFile);
const driver = { now: (): Instant => 0 as Instant, kick: (): void => {} };

describe('TAP errors say what is needed, on one line', () => {
  test('no privilege: CAP_NET_ADMIN, unshare -rn, or a device created for the user', () => {
    const m = describeOpenError('EPERM', 'ioctl(TUNSETIFF)', 'tap0', 'tap', undefined);
    expect(m).toBe('cannot open TAP device tap0: operation not permitted (needs CAP_NET_ADMIN: run as root, under unshare -rn, or create the device with: ip tuntap add dev tap0 mode tap user $USER)');
    expect(describeOpenError('EPERM', 'ioctl(TUNSETIFF)', 'tun%d', 'tun', undefined)).toContain('ip tuntap add dev NAME mode tun user $USER');
  });
  test('a /dev/net/tun closed to the user, a missing device node, a busy name, a missing namespace', () => {
    expect(describeOpenError('EACCES', 'open /dev/net/tun', 'tap0', 'tap', undefined)).toMatch(/permission denied on \/dev\/net\/tun \(run as root, .*unshare -rn.*ip tuntap add dev tap0 mode tap user \$USER\)$/);
    expect(describeOpenError('ENOENT', 'open /dev/net/tun', 'tap0', 'tap', undefined)).toContain('no /dev/net/tun (load the tun module with: modprobe tun');
    expect(describeOpenError('EBUSY', 'ioctl(TUNSETIFF)', 'tap0', 'tap', undefined)).toContain('device or resource busy');
    expect(describeOpenError('EINVAL', 'ioctl(TUNSETIFF)', 'tap0', 'tap', undefined)).toContain('not a TAP device');
    expect(describeOpenError('ENOENT', 'open netns', 'tap0', 'tap', 'lab')).toBe('cannot open TAP device tap0: no network namespace lab (create it with: ip netns add lab)');
    expect(describeOpenError('EPERM', 'ioctl(SIOCSIFFLAGS)', 'tap0', 'tap', undefined)).toContain('setting the link up needs CAP_NET_ADMIN');
    for (const c of ['EPERM', 'EACCES', 'ENOENT', 'EBUSY', 'EINVAL', 'EMFILE']) expect(describeOpenError(c, 'ioctl(TUNSETIFF)', 'tap0', 'tap', undefined)).not.toContain('\n');
  });
  test('a missing addon says how to build it', () => {
    expect(tapUnavailable('/nonexistent/synack_tun.node')).toBe(process.platform === 'linux'
      ? 'TAP support is not built: run `npm run build:native` (needs python3, make, g++)'
      : `TAP/TUN support is Linux only (this is ${process.platform})`);
  });
  test('bad arguments are refused before anything is opened', () => {
    expect(() => TapPort.open({ name: 'a-name-longer-than-15', driver })).toThrow(/1-15 bytes/);
    expect(() => TapPort.open({ name: 'tap/0', driver })).toThrow(/invalid/);
    expect(() => TapPort.open({ name: 'tap0', mtu: 20, driver })).toThrow(/MTU must be an integer from 68/);
    expect(() => TapPort.open({ name: 'tap0', mode: 'tup' as 'tap', driver })).toThrow(/mode must be 'tap' or 'tun'/);
  });
  test('netns names map to /run/netns; paths stay paths', () => {
    expect(netnsPath('lab')).toBe('/run/netns/lab');
    expect(netnsPath('/proc/1/ns/net')).toBe('/proc/1/ns/net');
  });
  test('CryptoRng gives 32-bit words that are not all equal', () => {
    const r = new CryptoRng();
    const xs = Array.from({ length: 600 }, () => r.nextU32()); // crosses a refill of the 256-word block
    expect(xs.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32)).toBe(true);
    expect(new Set(xs).size).toBeGreaterThan(590);
  });
});

const unavailable = tapUnavailable();
const NO_DEVICES = process.platform !== 'linux' ? 'Linux only'
  : process.getuid?.() !== 0 ? 'needs root'
    : !existsSync('/dev/net/tun') ? 'needs /dev/net/tun'
      : unavailable;

describe.skipIf(NO_DEVICES !== undefined)(`TapPort on real devices${NO_DEVICES !== undefined ? ` (skipped: ${NO_DEVICES})` : ''}`, () => {
  const namespaces: string[] = [];
  const ports: TapPort[] = [];
  afterEach(async () => {
    for (const p of ports.splice(0)) p.close(); // before the namespace goes: the fd pins it
    for (const ns of namespaces.splice(0)) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  });
  async function netns(): Promise<string> {
    const ns = `synack-${randomBytes(4).toString('hex')}`;
    await run('ip', ['netns', 'add', ns]);
    namespaces.push(ns);
    return ns;
  }
  const ipIn = async (ns: string, ...args: string[]): Promise<string> => (await run('ip', ['-n', ns, ...args])).stdout;

  test('TAP: opened inside a namespace, frames flow both ways, one write per frame, closing removes the device', async () => {
    const ns = await netns();
    const frames: Uint8Array[] = [];
    let kicks = 0;
    const port = TapPort.open({ name: 'tap7', netns: ns, up: true, driver: { now: () => 42 as Instant, kick: () => { kicks++; } } });
    ports.push(port);
    port.onFrame = (f, now) => {
      expect(now).toBe(42);
      frames.push(f);
    };
    expect(port.medium).toBe('ethernet');
    expect(port.name).toBe('tap7');
    expect(port.mtu).toBe(1500);
    const link = JSON.parse(await ipIn(ns, '-j', 'link', 'show', 'tap7')) as { ifindex: number; flags: string[] }[];
    expect(link[0]?.ifindex).toBe(port.ifindex);
    expect(link[0]?.flags).toContain('UP');
    // The kernel sends an ARP request for a neighbour on the link: it reaches us as one frame.
    await ipIn(ns, 'addr', 'add', '10.77.0.1/24', 'dev', 'tap7');
    const pinger = execFile('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '1', '10.77.0.2']);
    const deadline = Date.now() + 5_000;
    while (!frames.some((f) => f[12] === 0x08 && f[13] === 0x06) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    pinger.kill();
    const arp = frames.find((f) => f[12] === 0x08 && f[13] === 0x06);
    expect(arp).toBeDefined();
    expect(arp!.length).toBe(42); // 14 Ethernet + 28 ARP, no padding: one read, one frame
    expect(kicks).toBe(frames.length);
    // Two frames written back to back arrive as two frames (never joined).
    const before = JSON.parse(await ipIn(ns, '-s', '-j', 'link', 'show', 'tap7')) as { stats64: { rx: { packets: number } } }[];
    const frame = new Uint8Array(60);
    frame.fill(0xff, 0, 6); // broadcast
    frame.set([0x02, 0, 0, 0, 0, 9], 6);
    frame.set([0x88, 0xb5], 12); // local experimental EtherType: the kernel counts and drops it
    port.send(frame, 0 as Instant);
    port.send(frame.slice(), 0 as Instant);
    expect(port.stats.txFrames).toBe(2);
    expect(port.stats.txBytes).toBe(120);
    const after = JSON.parse(await ipIn(ns, '-s', '-j', 'link', 'show', 'tap7')) as { stats64: { rx: { packets: number } } }[];
    expect(after[0]!.stats64.rx.packets - before[0]!.stats64.rx.packets).toBe(2);
    port.close();
    expect(port.closed).toBe(true);
    port.send(frame, 0 as Instant); // after close: counted, never thrown
    expect(port.stats.txErrors['EBADF']).toBe(1);
    expect(await ipIn(ns, 'link', 'show')).not.toContain('tap7');
  });

  test('TUN: medium ip, bare IP packets', async () => {
    const ns = await netns();
    const port = TapPort.open({ name: 'tun7', mode: 'tun', netns: ns, up: true, driver });
    ports.push(port);
    const frames: Uint8Array[] = [];
    port.onFrame = (f) => frames.push(f);
    expect(port.medium).toBe('ip');
    await ipIn(ns, 'addr', 'add', '10.77.0.1', 'peer', '10.77.0.2', 'dev', 'tun7');
    const pinger = execFile('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '1', '10.77.0.2']);
    const deadline = Date.now() + 5_000;
    while (!frames.some((f) => f[0] === 0x45 && f[9] === 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    pinger.kill();
    const echo = frames.find((f) => f[0] === 0x45 && f[9] === 1); // IPv4, protocol ICMP, no link header
    expect(echo).toBeDefined();
    expect(echo![20]).toBe(8); // echo request
  });

  test('deleting the device under an open port: onError fires once, the port is closed, and sending is counted, not thrown', async () => {
    const ns = await netns();
    const port = TapPort.open({ name: 'tap9', netns: ns, up: true, driver });
    ports.push(port);
    const errors: string[] = [];
    port.onError = (e) => errors.push(`${e.code}: ${e.message}`);
    await ipIn(ns, 'link', 'del', 'tap9');
    const deadline = Date.now() + 5_000;
    while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^E[A-Z]+: reading TAP device tap9 failed with E[A-Z]+$/);
    expect(port.closed).toBe(true);
    port.send(new Uint8Array(60), 0 as Instant);
    expect(port.stats.txErrors['EBADF']).toBe(1);
  });

  test('a missing namespace and a name in use are one-line errors', async () => {
    expect(() => TapPort.open({ name: 'tap7', netns: 'synack-does-not-exist', driver })).toThrow('cannot open TAP device tap7: no network namespace synack-does-not-exist (create it with: ip netns add synack-does-not-exist)');
    const ns = await netns();
    ports.push(TapPort.open({ name: 'tap8', netns: ns, driver }));
    expect(() => TapPort.open({ name: 'tap8', netns: ns, driver })).toThrow(/cannot open TAP device tap8: device or resource busy/);
  });

  test('without privilege (uid nobody): the one-line message, not a stack trace', async () => {
    const src = fileURLToPath(new URL('./tap.ts', import.meta.url));
    const code = `const { TapPort } = await import(${JSON.stringify(src)}); try { TapPort.open({ name: 'synack-np0', driver: { now: () => 0, kick() {} } }); console.log('opened'); } catch (e) { console.log(e.code + ' ' + e.message); }`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { uid: 65534, gid: 65534, env: { ...process.env, HOME: '/tmp' }, cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8' }).trim();
    // /dev/net/tun is mode 0600 on some systems (EACCES opening it) and 0666 on most (EPERM at TUNSETIFF).
    expect(out).toMatch(/^(EACCES cannot open TAP device synack-np0: permission denied on \/dev\/net\/tun|EPERM cannot open TAP device synack-np0: operation not permitted \(needs CAP_NET_ADMIN)/);
    expect(out).toContain('ip tuntap add dev synack-np0 mode tap user $USER');
    expect(out.split('\n')).toHaveLength(1);
  });
});
