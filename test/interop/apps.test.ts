// Interop with real Debian clients and servers: curl fetching from synack's HTTP/1.0 responder
// (src/cli/tap.ts, over the low-level socket API), synack fetching from `python3 -m http.server`,
// `ping` / `ping -6` to synack (ICMP echo, RFC 792 / RFC 4443 §4, with ARP and NDP resolution on
// the way: RFC 826, RFC 4861 §7, and fragmentation both ways: RFC 791 §3.2, RFC 8200 §4.5), ICMP
// port unreachable for UDP (RFC 1122 §3.2.2.1, RFC 4443 §3.1), and the same over a TUN device.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { HttpResponder } from '../../src/cli/tap.js';
import { ADDR, Envs, sha256, type Synack } from './host.js';
import { have, interopSkipReason } from './netns.js';

const SKIP = interopSkipReason() ?? (have('curl') ? undefined : 'interop apps need curl (apt-get install curl)') ?? (have('ping') ? undefined : 'interop apps need ping (apt-get install iputils-ping)');
const PEER = fileURLToPath(new URL('./peer.py', import.meta.url));
const FILE = 2 * 1024 * 1024;

/** An HTTP/1.0 GET over synack's sockets: the status line and the body. */
async function httpGet(synack: Synack, host: string, port: number, path: string): Promise<{ status: string; body: Uint8Array }> {
  const s = await synack.connect(host, port);
  const hostHeader = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  await synack.writeAll(s, new TextEncoder().encode(`GET ${path} HTTP/1.0\r\nHost: ${hostHeader}\r\nUser-Agent: synack-interop\r\n\r\n`));
  const res = await synack.readAll(s, 30_000, true);
  s.close();
  synack.kick();
  const all = res.data!;
  let end = -1;
  for (let i = 0; i + 3 < all.length; i++) {
    if (all[i] === 13 && all[i + 1] === 10 && all[i + 2] === 13 && all[i + 3] === 10) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new Error(`no end of headers in ${all.length} bytes`);
  const head = new TextDecoder().decode(all.subarray(0, end));
  return { status: head.split('\r\n')[0] ?? '', body: all.subarray(end + 4) };
}

describe.skipIf(SKIP !== undefined)(`interop: Debian tools against synack${SKIP !== undefined ? ` (skipped: ${SKIP})` : ''}`, () => {
  const envs = new Envs();
  const dirs: string[] = [];
  afterEach(async () => {
    await envs.teardown();
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  for (const family of [4, 6] as const) {
    const K = ADDR[family].kernel;
    const S = ADDR[family].synack;
    const url = (addr: string, port: number, path: string): string => `http://${addr.includes(':') ? `[${addr}]` : addr}:${port}${path}`;

    test(`IPv${family}: curl fetches a 2 MB file from an HTTP/1.0 server running on synack`, async () => {
      const env = await envs.start();
      const file = randomBytes(FILE);
      const l = env.synack.listen(80, family);
      const http = new HttpResponder(l, (_m, path) => (path === '/file' ? { status: 200, body: file } : { status: 404, body: new Uint8Array(0) }), () => env.synack.kick());
      const out = join(await mkdtemp(join(tmpdir(), 'synack-curl-')), 'got');
      dirs.push(join(out, '..'));
      const r = await env.ns.exec('curl', '-sS', '--max-time', '30', '-o', out, '-w', '%{http_code} %{size_download}', url(S, 80, '/file'));
      expect(r.stdout).toBe(`200 ${FILE}`);
      expect(sha256(await readFile(out))).toBe(sha256(file));
      const missing = await env.ns.exec('curl', '-sS', '--max-time', '10', '-o', '/dev/null', '-w', '%{http_code}', url(S, 80, '/nope'));
      expect(missing.stdout).toBe('404');
      expect(http.served).toBe(2);
      http.close();
    });

    test(`IPv${family}: synack fetches a 2 MB file from python3 -m http.server in the kernel's namespace`, async () => {
      const env = await envs.start();
      const dir = await mkdtemp(join(tmpdir(), 'synack-www-'));
      dirs.push(dir);
      const file = randomBytes(FILE);
      await writeFile(join(dir, 'file.bin'), file);
      env.ns.spawn('python3', '-m', 'http.server', '8000', '--bind', K, '--directory', dir);
      await env.ns.listening(8000);
      const res = await httpGet(env.synack, K, 8000, '/file.bin');
      expect(res.status).toMatch(/^HTTP\/1\.[01] 200/);
      expect(res.body.length).toBe(FILE);
      expect(sha256(res.body)).toBe(sha256(file));
    });

    test(`IPv${family}: ping${family === 6 ? ' -6' : ''} gets echo replies from synack, also 3000-byte ones fragmented both ways; the kernel learned synack's MAC by ${family === 4 ? 'ARP' : 'NDP'}`, async () => {
      const env = await envs.start();
      const r = await env.ns.exec('ping', `-${family}`, '-c', '3', '-i', '0.2', '-W', '5', '-s', '1000', S);
      expect(r.stdout).toMatch(/3 packets transmitted, 3 received/);
      const stack = env.synack.host.stack;
      const icmp = family === 4 ? stack.counters.icmp : stack.counters.icmp6;
      expect(icmp.InEchos).toBe(3);
      expect(icmp.OutEchoReps).toBe(3);
      // RFC 826 / RFC 4861 §7.2: the kernel resolved 10.77.0.2 / fd77::2 to synack's MAC.
      const mac = stack.interface(env.synack.host.ifindex)!.mac!.toString();
      const neigh = await env.ns.ip(`-${family}`, 'neigh', 'show', S);
      expect(neigh.stdout).toContain(`lladdr ${mac}`);
      // 3000 bytes do not fit the 1500-byte MTU: the kernel fragments the request, synack
      // reassembles it (RFC 791 §3.2, RFC 8200 §4.5) and fragments its reply, which the kernel reassembles.
      const ip = family === 4 ? stack.counters.ip : stack.counters.ip6;
      const big = await env.ns.exec('ping', `-${family}`, '-c', '2', '-i', '0.2', '-W', '5', '-s', '3000', S);
      expect(big.stdout).toMatch(/2 packets transmitted, 2 received/);
      expect(ip.ReasmOKs).toBe(2);
      expect(ip.FragOKs).toBe(2);
      expect(ip.FragCreates).toBeGreaterThanOrEqual(4);
    });

    test(`IPv${family}: a UDP datagram to a closed port on synack gets ICMP port unreachable; the kernel reports ECONNREFUSED`, async () => {
      const env = await envs.start();
      const script = `import socket,errno
s=socket.socket(socket.AF_INET${family === 6 ? '6' : ''},socket.SOCK_DGRAM);s.settimeout(5);s.connect((${JSON.stringify(S)},9999))
s.send(b'hello')
try:
  s.recv(100);print('reply')
except ConnectionRefusedError:
  print('ECONNREFUSED')
except socket.timeout:
  print('timeout')`;
      const r = await env.ns.exec('python3', '-c', script);
      expect(r.stdout.trim()).toBe('ECONNREFUSED');
      const icmp = family === 4 ? env.synack.host.stack.counters.icmp : env.synack.host.stack.counters.icmp6;
      expect(icmp.OutDestUnreachs).toBe(1);
    });
  }

  test('TUN (medium ip): ping both families, and a TCP exchange both ways with the kernel', async () => {
    const env = await envs.start({ mode: 'tun' });
    expect(env.synack.host.tap.medium).toBe('ip');
    const p4 = await env.ns.exec('ping', '-4', '-c', '2', '-i', '0.2', '-W', '5', ADDR[4].synack);
    expect(p4.stdout).toMatch(/2 packets transmitted, 2 received/);
    const p6 = await env.ns.exec('ping', '-6', '-c', '2', '-i', '0.2', '-W', '5', ADDR[6].synack);
    expect(p6.stdout).toMatch(/2 packets transmitted, 2 received/);
    // synack client -> kernel server, then kernel client -> synack server, 1 MB each.
    const peer = env.ns.spawn('python3', PEER, 'server', ADDR[4].kernel, '6001', 'recv', 'send:1048576', 'close');
    await peer.event('listening');
    const s = await env.synack.connect(ADDR[4].kernel, 6001);
    const data = randomBytes(1 << 20);
    await env.synack.writeAll(s, data);
    s.shutdown('write');
    env.synack.kick();
    const got = await env.synack.readAll(s);
    const done = await peer.event('done');
    expect(done['recv_sha256']).toBe(sha256(data));
    expect(got.sha256).toBe(done['sent_sha256']);
    s.close();
    const l = env.synack.listen(6002, 6);
    const client = env.ns.spawn('python3', PEER, 'client', ADDR[6].synack, '6002', 'send:1048576', 'shutdown', 'recv', 'close');
    const a = await env.synack.accept(l);
    const up = await env.synack.readAll(a);
    await env.synack.writeAll(a, data);
    a.close();
    env.synack.kick();
    const cdone = await client.event('done');
    expect(up.sha256).toBe(cdone['sent_sha256']);
    expect(cdone['recv_sha256']).toBe(sha256(data));
    l.close();
  });
});
