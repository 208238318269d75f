// Interop: path MTU discovery through a Linux router. Two namespaces: R routes between synack's
// TAP link (MTU 1500) and a veth pair whose router end has MTU 1280, and H is the server behind
// it (its own end of the veth keeps MTU 1500, so it announces the full MSS in its SYN-ACK and
// only the router knows the path is narrower). synack sends with DF (RFC 1191 §3), R answers
// with ICMP "fragmentation needed" / ICMPv6 Packet Too Big carrying 1280, synack validates the
// quoted TCP header (RFC 5927 §4.1), lowers the path MTU (RFC 1191 §3, RFC 8201 §4) and its MSS,
// resends, and the bytes arrive exact.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { IpAddr } from '../../src/wire/ip-addr.js';
import { TSHARK, tsharkFields } from '../util/tshark.js';
import { Envs, sha256 } from './host.js';
import { Netns, interopSkipReason } from './netns.js';

const SKIP = interopSkipReason();
const PEER = fileURLToPath(new URL('./peer.py', import.meta.url));
const NARROW = 1280; // the router's veth: the IPv6 minimum (RFC 8200 §5), also fine for IPv4
const SERVER = { 4: '10.77.1.2', 6: 'fd77:1::2' } as const;

describe.skipIf(SKIP !== undefined)(`interop: path MTU through a Linux router${SKIP !== undefined ? ` (skipped: ${SKIP})` : ''}`, () => {
  const envs = new Envs();
  const extra: Netns[] = [];
  let dir = '';
  afterEach(async () => {
    await envs.teardown();
    for (const ns of extra.splice(0)) await ns.destroy();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
    dir = '';
  });

  for (const family of [4, 6] as const) {
    test(`IPv${family}: ${family === 4 ? 'ICMP fragmentation needed' : 'ICMPv6 Packet Too Big'} from the router lowers synack's path MTU to ${NARROW} and its MSS follows; 1 MB arrives exact`, async () => {
      // R: the kernel end of the TAP link (10.77.0.1, fd77::1), routing to H over the narrow veth.
      const env = await envs.start({ capture: true, gateways: ['10.77.0.1', 'fd77::1'] });
      const r = env.ns;
      const h = await Netns.create();
      extra.push(h);
      await r.ip('link', 'add', 'r0', 'type', 'veth', 'peer', 'name', 'h0', 'netns', h.name);
      await r.ip('link', 'set', 'r0', 'mtu', String(NARROW));
      await r.ip('addr', 'add', '10.77.1.1/24', 'dev', 'r0');
      await r.ip('-6', 'addr', 'add', 'fd77:1::1/64', 'dev', 'r0', 'nodad');
      await r.ip('link', 'set', 'r0', 'up');
      await r.exec('sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1');
      await h.ip('addr', 'add', '10.77.1.2/24', 'dev', 'h0');
      await h.ip('-6', 'addr', 'add', 'fd77:1::2/64', 'dev', 'h0', 'nodad');
      await h.ip('link', 'set', 'h0', 'up');
      await h.ip('route', 'add', 'default', 'via', '10.77.1.1');
      await h.ip('-6', 'route', 'add', 'default', 'via', 'fd77:1::1');

      const server = h.spawn('python3', PEER, 'server', SERVER[family], '5201', 'recv', 'close');
      await server.event('listening');
      const synack = env.synack;
      const s = await synack.connect(SERVER[family], 5201);
      const tcb = s.connection!;
      const full = family === 4 ? 1460 : 1440;
      expect(tcb.peerMss).toBe(full); // H announced its own link's MSS: only the router knows better
      expect(tcb.mss).toBe(full - 12);
      const data = randomBytes(1 << 20);
      await synack.writeAll(s, data);
      s.shutdown('write');
      synack.kick();
      const done = await server.event('done');
      expect(done['received']).toBe(data.length);
      expect(done['recv_sha256']).toBe(sha256(data));

      const dst = IpAddr.parse(SERVER[family]);
      if (!dst.ok) throw new Error(dst.error);
      expect(synack.host.stack.ip.pmtu.get(dst.value)).toBe(NARROW);
      expect(tcb.mss).toBe(NARROW - (family === 4 ? 40 : 60) - 12);
      const c = synack.host.stack.counters;
      if (family === 4) expect(c.icmp.InDestUnreachs).toBeGreaterThanOrEqual(1);
      else expect(c.icmp6.InPktTooBigs).toBeGreaterThanOrEqual(1);

      if (TSHARK.path !== undefined) {
        dir = await mkdtemp(join(tmpdir(), 'synack-pmtu-'));
        const pcap = join(dir, 'pmtu.pcap');
        await synack.savePcap(pcap);
        const icmp = await tsharkFields(pcap, [family === 4 ? 'icmp.mtu' : 'icmpv6.mtu'], { filter: family === 4 ? 'icmp.type == 3 && icmp.code == 4' : 'icmpv6.type == 2' });
        expect(icmp.length).toBeGreaterThanOrEqual(1);
        expect(icmp[0]![family === 4 ? 'icmp.mtu' : 'icmpv6.mtu']).toBe(String(NARROW));
        // After the first ICMP, nothing synack sends towards H is larger than the path allows.
        const rows = await tsharkFields(pcap, ['frame.number', 'ip.len', 'ipv6.plen', 'tcp.len', '_ws.col.Protocol'], { filter: `tcp.dstport == 5201 || icmp || icmpv6.type == 2` });
        const firstIcmp = rows.findIndex((x) => x['_ws.col.Protocol'].startsWith('ICMP'));
        const after = rows.slice(firstIcmp + 1).filter((x) => !x['_ws.col.Protocol'].startsWith('ICMP'));
        const ipLen = (x: Record<string, string>): number => (family === 4 ? Number(x['ip.len']) : Number(x['ipv6.plen']) + 40);
        // Segments sent before the ICMP arrived may still be in flight, so look at the later half.
        const late = after.slice(Math.floor(after.length / 2));
        expect(late.length).toBeGreaterThan(100);
        expect(Math.max(...late.map(ipLen))).toBeLessThanOrEqual(NARROW);
        expect(Math.max(...late.map(ipLen))).toBe(NARROW); // and full-sized at the new MTU
      }
      s.close();
    });
  }
});
