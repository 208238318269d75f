// The IP layer's input path, driven with crafted frames through `stack.ingress`: every kind of
// bad frame is counted by reason and never throws; fragment reassembly end to end (in order,
// out of order, overlapping, timeout with ICMP Time Exceeded, memory limit); and fuzzing with
// random bytes and mutated valid frames.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { Stack } from '../src/stack.js';
import { SimRng } from '../src/sim/rng.js';
import type { Medium, Port } from '../src/link/link.js';
import { IpAddr } from '../src/wire/ip-addr.js';
import { EtherType, MacAddr } from '../src/wire/ethernet.js';
import { emitIpv4 } from '../src/wire/ipv4.js';
import { emitIpv6 } from '../src/wire/ipv6.js';
import { emitUdp } from '../src/wire/udp.js';
import { emitArp } from '../src/wire/arp.js';
import { emitIcmpv4 } from '../src/wire/icmpv4.js';
import { emitIcmpv6, icmpv6Length, type Icmpv6Repr } from '../src/wire/icmpv6.js';
import { type Instant, seconds } from '../src/time/instant.js';

const US_MAC = MacAddr.from('02:00:00:00:00:01');
const PEER_MAC = MacAddr.from('02:00:00:00:00:02');
const US4 = IpAddr.from('10.0.0.1');
const PEER4 = IpAddr.from('10.0.0.2');
const US6 = IpAddr.from('2001:db8::1');
const PEER6 = IpAddr.from('2001:db8::2');
const T = (s: number) => seconds(s) as number as Instant;

interface Host {
  stack: Stack;
  ifindex: number;
  sent: Uint8Array[];
}

function host(medium: Medium = 'ethernet', opts: { reassemblyMemory?: number } = {}): Host {
  const sent: Uint8Array[] = [];
  const port: Port = { medium, mtu: 1500, onFrame: undefined, send: (f) => sent.push(f) };
  const stack = new Stack({ rng: new SimRng(42), ...opts });
  const ifindex = stack.addInterface({ port, ipv4: '10.0.0.1/24', ipv6: '2001:db8::1/64', ...(medium === 'ethernet' ? { mac: US_MAC } : {}) });
  // Teach the neighbour cache the peer, so answers go out without ARP/NDP first.
  stack.ip.neighbors.learn(ifindex, PEER4, PEER_MAC, { create: true, solicited: true, override: true }, T(0));
  stack.ip.neighbors.learn(ifindex, PEER6, PEER_MAC, { create: true, solicited: true, override: true }, T(0));
  return { stack, ifindex, sent };
}

function eth(type: number, payload: Uint8Array, dst: MacAddr = US_MAC): Uint8Array {
  const f = new Uint8Array(14 + payload.length);
  dst.write(f, 0);
  PEER_MAC.write(f, 6);
  f[12] = type >>> 8;
  f[13] = type & 255;
  f.set(payload, 14);
  return f;
}

interface V4 { src?: IpAddr; dst?: IpAddr; protocol?: number; id?: number; mf?: boolean; offset?: number; ttl?: number; ecn?: number }
function ipv4(h: V4, payload: Uint8Array): Uint8Array {
  const p = new Uint8Array(20 + payload.length);
  p.set(payload, 20);
  emitIpv4({
    src: h.src ?? PEER4, dst: h.dst ?? US4, protocol: h.protocol ?? 17, ttl: h.ttl ?? 64, dscp: 0, ecn: h.ecn ?? 0,
    identification: h.id ?? 1, dontFragment: false, moreFragments: h.mf ?? false, fragmentOffset: h.offset ?? 0, payloadLen: payload.length,
  }, p);
  return p;
}

interface V6 { src?: IpAddr; dst?: IpAddr; nextHeader?: number; hopLimit?: number }
function ipv6(h: V6, payload: Uint8Array): Uint8Array {
  const p = new Uint8Array(40 + payload.length);
  p.set(payload, 40);
  emitIpv6({ src: h.src ?? PEER6, dst: h.dst ?? US6, nextHeader: h.nextHeader ?? 17, hopLimit: h.hopLimit ?? 64, dscp: 0, ecn: 0, flowLabel: 0, payloadLen: payload.length }, p);
  return p;
}

function fragHeader(next: number, offset: number, more: boolean, id: number, data: Uint8Array): Uint8Array {
  const b = new Uint8Array(8 + data.length);
  b[0] = next;
  b[2] = offset >>> 8;
  b[3] = (offset & 0xf8) | (more ? 1 : 0);
  b[4] = id >>> 24;
  b[5] = (id >>> 16) & 255;
  b[6] = (id >>> 8) & 255;
  b[7] = id & 255;
  b.set(data, 8);
  return b;
}

function udp(src: IpAddr, dst: IpAddr, sport: number, dport: number, data: Uint8Array): Uint8Array {
  const u = new Uint8Array(8 + data.length);
  u.set(data, 8);
  emitUdp({ srcPort: sport, dstPort: dport, payloadLen: data.length }, u, src, dst);
  return u;
}

function icmp4Echo(seq: number): Uint8Array {
  const m = new Uint8Array(8 + 4);
  emitIcmpv4({ type: 'echo-request', id: 1, seq, data: Uint8Array.of(1, 2, 3, 4) }, m);
  return m;
}

function icmp6(repr: Icmpv6Repr, src: IpAddr, dst: IpAddr): Uint8Array {
  const m = new Uint8Array(icmpv6Length(repr));
  emitIcmpv6(repr, m, src, dst);
  return m;
}

function arp(op: 'request' | 'reply', target: IpAddr): Uint8Array {
  const a = new Uint8Array(28);
  emitArp({ operation: op, senderMac: PEER_MAC, senderIp: PEER4, targetMac: op === 'request' ? MacAddr.ZERO : US_MAC, targetIp: target }, a);
  return a;
}

const data = (n: number, seed = 1) => new Uint8Array(n).map((_, i) => (i * 13 + seed) & 255);

describe('bad frames are counted by reason, never thrown', () => {
  const udpOk = () => udp(PEER4, US4, 1000, 53, data(10));
  const badChecksum = () => {
    const p = ipv4({}, udpOk());
    p[10]! ^= 0xff;
    return p;
  };
  const cases: [string, () => Uint8Array, string][] = [
    ['a runt Ethernet frame', () => new Uint8Array(10), 'eth:truncated'],
    ['a frame for another MAC', () => eth(EtherType.IPv4, ipv4({}, udpOk()), MacAddr.from('02:99:99:99:99:99')), 'eth:not-for-us'],
    ['an unknown EtherType (LLDP)', () => eth(0x88cc, data(40)), 'eth:unknown-ethertype'],
    ['a group source MAC', () => { const f = eth(EtherType.IPv4, ipv4({}, udpOk())); f[6] = 0x01; return f; }, 'eth:bad-source'],
    ['IPv4: 10 bytes', () => eth(EtherType.IPv4, data(10)), 'ipv4:truncated'],
    ['IPv4: version 5', () => { const p = ipv4({}, udpOk()); p[0] = 0x55; return eth(EtherType.IPv4, p); }, 'ipv4:bad-version'],
    ['IPv4: IHL 4', () => { const p = ipv4({}, udpOk()); p[0] = 0x44; return eth(EtherType.IPv4, p); }, 'ipv4:bad-header-length'],
    ['IPv4: bad header checksum', () => eth(EtherType.IPv4, badChecksum()), 'ipv4:bad-checksum'],
    ['IPv4: total length past the frame', () => eth(EtherType.IPv4, ipv4({}, udpOk()).subarray(0, 30)), 'ipv4:bad-total-length'],
    ['IPv4: broadcast source', () => eth(EtherType.IPv4, ipv4({ src: IpAddr.from('255.255.255.255') }, udpOk())), 'ipv4:bad-source'],
    ['IPv4: loopback source from outside', () => eth(EtherType.IPv4, ipv4({ src: IpAddr.from('127.0.0.1') }, udpOk())), 'ipv4:bad-source'],
    ['IPv4: not for us (we do not forward)', () => eth(EtherType.IPv4, ipv4({ dst: IpAddr.from('10.0.0.9') }, udpOk())), 'ipv4:not-for-us'],
    ['IPv4: 127.0.0.1 arriving on eth0', () => eth(EtherType.IPv4, ipv4({ dst: IpAddr.from('127.0.0.1') }, udpOk())), 'ipv4:not-for-us'],
    ['IPv4: unknown protocol', () => eth(EtherType.IPv4, ipv4({ protocol: 99 }, data(8))), 'ipv4:unknown-protocol'],
    ['IPv4: non-last fragment not a multiple of 8', () => eth(EtherType.IPv4, ipv4({ mf: true }, data(13))), 'frag:bad-length'],
    ['UDP: bad checksum', () => { const u = udpOk(); u[9]! ^= 1; return eth(EtherType.IPv4, ipv4({}, u)); }, 'udp:bad-checksum'],
    ['UDP: length past the datagram', () => { const u = udpOk(); u[5] = 200; return eth(EtherType.IPv4, ipv4({}, u)); }, 'udp:bad-length'],
    ['UDP: 4 bytes', () => eth(EtherType.IPv4, ipv4({}, data(4))), 'udp:truncated'],
    ['UDP: closed port', () => eth(EtherType.IPv4, ipv4({}, udp(PEER4, US4, 1, 9, data(1)))), 'udp:no-port'],
    ['ICMP: bad checksum', () => { const m = icmp4Echo(1); m[9]! ^= 1; return eth(EtherType.IPv4, ipv4({ protocol: 1 }, m)); }, 'icmpv4:bad-checksum'],
    ['ICMP: timestamp (unsupported)', () => { const m = new Uint8Array(20); m[0] = 13; emitFixChecksum(m); return eth(EtherType.IPv4, ipv4({ protocol: 1 }, m)); }, 'icmpv4:unsupported'],
    ['ICMP: echo to broadcast (ignored, as Linux)', () => eth(EtherType.IPv4, ipv4({ protocol: 1, dst: IpAddr.from('10.0.0.255') }, icmp4Echo(1)), MacAddr.BROADCAST), 'icmpv4:echo-to-broadcast'],
    ['ICMP: an error quoting a datagram that is not ours', () => eth(EtherType.IPv4, ipv4({ protocol: 1 }, icmpError4(ipv4({ src: IpAddr.from('10.0.0.7'), dst: PEER4 }, data(8))))), 'icmpv4:quote-not-ours'],
    ['ARP: truncated', () => eth(EtherType.ARP, data(12).fill(0).map((_, i) => [0, 1, 8, 0, 6, 4, 0, 1][i] ?? 0)), 'arp:truncated'],
    ['ARP: not Ethernet/IPv4', () => { const a = arp('request', US4); a[1] = 6; return eth(EtherType.ARP, a); }, 'arp:unsupported'],
    ['ARP: our own MAC as sender', () => { const a = arp('request', US4); US_MAC.write(a, 8); return eth(EtherType.ARP, a); }, 'arp:own-frame'],
    ['ARP: someone claims our address', () => { const a = arp('request', PEER4); US4.write(a, 14); return eth(EtherType.ARP, a); }, 'arp:address-conflict'],
    ['IPv6: 20 bytes', () => eth(EtherType.IPv6, data(20)), 'ipv6:truncated'],
    ['IPv6: version 4 in an IPv6 frame', () => eth(EtherType.IPv6, ipv4({}, data(40))), 'ipv6:bad-version'],
    ['IPv6: payload length past the frame', () => eth(EtherType.IPv6, ipv6({}, udp(PEER6, US6, 1, 53, data(10))).subarray(0, 50)), 'ipv6:bad-total-length'],
    ['IPv6: Hop-by-Hop not first', () => eth(EtherType.IPv6, ipv6({ nextHeader: 60 }, Uint8Array.of(0, 0, 1, 4, 0, 0, 0, 0))), 'ipv6:bad-extension-header'],
    ['IPv6: routing header with segments left', () => eth(EtherType.IPv6, ipv6({ nextHeader: 43 }, Uint8Array.of(59, 0, 0, 1, 0, 0, 0, 0))), 'ipv6:unsupported'],
    ['IPv6: multicast source', () => eth(EtherType.IPv6, ipv6({ src: IpAddr.from('ff02::1') }, udp(PEER6, US6, 1, 53, data(4)))), 'ipv6:bad-source'],
    ['IPv6: not for us', () => eth(EtherType.IPv6, ipv6({ dst: IpAddr.from('2001:db8::9') }, data(8))), 'ipv6:not-for-us'],
    ['IPv6: a group we did not join', () => eth(EtherType.IPv6, ipv6({ dst: IpAddr.from('ff02::2') }, data(8)), MacAddr.from('33:33:00:00:00:02')), 'ipv6:not-for-us'],
    ['IPv6: no next header', () => eth(EtherType.IPv6, ipv6({ nextHeader: 59 }, data(8))), 'ipv6:no-next-header'],
    ['IPv6: unknown next header', () => eth(EtherType.IPv6, ipv6({ nextHeader: 99 }, data(8))), 'ipv6:unknown-protocol'],
    ['IPv6: UDP with a zero checksum (RFC 8200 §8.1)', () => { const u = udp(PEER6, US6, 1, 53, data(4)); u[6] = 0; u[7] = 0; return eth(EtherType.IPv6, ipv6({}, u)); }, 'udp:bad-checksum'],
    ['IPv6: fragment with M set, not a multiple of 8', () => eth(EtherType.IPv6, ipv6({ nextHeader: 44 }, fragHeader(17, 0, true, 1, data(13)))), 'frag:bad-length'],
    ['ICMPv6: bad checksum', () => { const m = icmp6({ type: 'echo-request', id: 1, seq: 1, data: data(4) }, PEER6, US6); m[9]! ^= 1; return eth(EtherType.IPv6, ipv6({ nextHeader: 58 }, m)); }, 'icmpv6:bad-checksum'],
    ['NDP: NS with Hop Limit 64', () => eth(EtherType.IPv6, ipv6({ nextHeader: 58, hopLimit: 64 }, icmp6({ type: 'neighbor-solicitation', target: US6, sourceLinkAddr: PEER_MAC }, PEER6, US6))), 'ndp:bad-hop-limit'],
    ['NDP: NS for an address that is not ours', () => eth(EtherType.IPv6, ipv6({ nextHeader: 58, hopLimit: 255 }, icmp6({ type: 'neighbor-solicitation', target: PEER6, sourceLinkAddr: PEER_MAC }, PEER6, US6))), 'ndp:not-our-target'],
    ['NDP: NS with a multicast target', () => eth(EtherType.IPv6, ipv6({ nextHeader: 58, hopLimit: 255 }, icmp6({ type: 'neighbor-solicitation', target: IpAddr.from('ff02::1'), sourceLinkAddr: PEER_MAC }, PEER6, US6))), 'icmpv6:bad-value'],
  ];
  test.each(cases)('%s -> %s', (_name, make, reason) => {
    const h = host();
    expect(() => h.stack.ingress(h.ifindex, make(), T(1))).not.toThrow();
    h.stack.poll(T(1));
    expect(h.stack.counters.drops).toEqual({ [reason]: 1 });
  });

  test('header errors land in the netstat counters too', () => {
    const h = host();
    h.stack.ingress(h.ifindex, eth(EtherType.IPv4, badChecksum()), T(0));
    h.stack.ingress(h.ifindex, eth(EtherType.IPv4, data(10)), T(0));
    h.stack.ingress(h.ifindex, eth(EtherType.IPv4, ipv4({ dst: IpAddr.from('10.0.0.9') }, data(8))), T(0));
    expect(h.stack.counters.ip).toMatchObject({ InReceives: 3, InHdrErrors: 1, InCsumErrors: 1, InTruncatedPkts: 1, InAddrErrors: 1, InDelivers: 0 });
  });

  test('an unknown protocol is answered with protocol unreachable quoting the datagram', () => {
    const h = host();
    const dgram = ipv4({ protocol: 99 }, data(8));
    h.stack.ingress(h.ifindex, eth(EtherType.IPv4, dgram), T(0));
    expect(h.sent).toHaveLength(1);
    const icmp = h.sent[0]!.subarray(14 + 20);
    expect([icmp[0], icmp[1]]).toEqual([3, 2]);
    expect(icmp.subarray(8)).toEqual(dgram);
  });

  test('a medium "ip" interface dispatches on the version nibble', () => {
    const h = host('ip');
    h.stack.ingress(h.ifindex, Uint8Array.of(0x70, 0, 0), T(0));
    h.stack.ingress(h.ifindex, new Uint8Array(0), T(0));
    expect(h.stack.counters.drops).toEqual({ 'ip:bad-version': 2 });
    h.stack.ingress(h.ifindex, ipv4({ protocol: 1 }, icmp4Echo(5)), T(0));
    expect(h.sent).toHaveLength(1);
    expect(h.sent[0]![0]! >>> 4).toBe(4);
  });

  test('an unknown ifindex is counted', () => {
    const h = host();
    h.stack.ingress(99, new Uint8Array(60), T(0));
    expect(h.stack.counters.drops).toEqual({ 'link:no-interface': 1 });
  });
});

/** Fills in an ICMPv4 checksum over the whole message. */
function emitFixChecksum(m: Uint8Array): void {
  m[2] = 0;
  m[3] = 0;
  let s = 0;
  for (let i = 0; i < m.length; i += 2) s += (m[i]! << 8) | (m[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  m[2] = (~s >>> 8) & 255;
  m[3] = ~s & 255;
}

function icmpError4(quoted: Uint8Array): Uint8Array {
  const m = new Uint8Array(8 + quoted.length);
  emitIcmpv4({ type: 'destination-unreachable', code: 1, nextHopMtu: 0, quoted }, m);
  return m;
}

describe('ARP and NDP answers', () => {
  test('an ARP request for our address is answered to the asker, and teaches us the asker', () => {
    const h = host();
    const stranger = IpAddr.from('10.0.0.3');
    const a = arp('request', US4);
    stranger.write(a, 14);
    h.stack.ingress(h.ifindex, eth(EtherType.ARP, a, MacAddr.BROADCAST), T(0));
    expect(h.sent).toHaveLength(1);
    const r = h.sent[0]!;
    expect(MacAddr.read(r, 0).equals(PEER_MAC)).toBe(true);
    expect((r[14 + 6]! << 8) | r[14 + 7]!).toBe(2); // reply
    expect(IpAddr.read(r, 14 + 14, 4).equals(US4)).toBe(true);
    expect(h.stack.ip.neighbors.lookup(h.ifindex, stranger, T(0))?.state).toBe('STALE');
  });

  test('an NS for our address gets a solicited NA with our MAC; a DAD probe gets an all-nodes NA', () => {
    const h = host();
    h.stack.ingress(h.ifindex, eth(EtherType.IPv6, ipv6({ nextHeader: 58, hopLimit: 255 }, icmp6({ type: 'neighbor-solicitation', target: US6, sourceLinkAddr: PEER_MAC }, PEER6, US6))), T(0));
    const na = h.sent[0]!;
    expect(na[14 + 40]).toBe(136);
    expect(na[14 + 44]! & 0xe0).toBe(0x60);
    expect(MacAddr.read(na, 0).equals(PEER_MAC)).toBe(true);
    const snm = IpAddr.from('ff02::1:ff00:1');
    const dad = ipv6({ src: IpAddr.any(6), dst: snm, nextHeader: 58, hopLimit: 255 }, icmp6({ type: 'neighbor-solicitation', target: US6, sourceLinkAddr: undefined }, IpAddr.any(6), snm));
    h.stack.ingress(h.ifindex, eth(EtherType.IPv6, dad, MacAddr.ipv6Multicast(snm)), T(0));
    const na2 = h.sent[1]!;
    expect(IpAddr.read(na2, 14 + 24, 6).toString()).toBe('ff02::1');
    expect(na2[14 + 44]! & 0x40).toBe(0); // S clear
  });
});

describe('fragment reassembly through ingress', () => {
  function fragments4(id: number, whole: Uint8Array, size: number, protocol = 17): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let off = 0; off < whole.length; off += size) {
      const end = Math.min(whole.length, off + size);
      out.push(eth(EtherType.IPv4, ipv4({ id, protocol, offset: off, mf: end < whole.length }, whole.subarray(off, end))));
    }
    return out;
  }
  function fragments6(id: number, whole: Uint8Array, size: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let off = 0; off < whole.length; off += size) {
      const end = Math.min(whole.length, off + size);
      out.push(eth(EtherType.IPv6, ipv6({ nextHeader: 44 }, fragHeader(17, off, end < whole.length, id, whole.subarray(off, end)))));
    }
    return out;
  }

  test.each([
    ['IPv4 in order', 4, [0, 1, 2, 3]],
    ['IPv4 out of order', 4, [3, 1, 0, 2]],
    ['IPv6 in order', 6, [0, 1, 2, 3]],
    ['IPv6 out of order', 6, [2, 0, 3, 1]],
  ] as const)('%s', (_name, family, order) => {
    const h = host();
    const sock = h.stack.udp.bind(IpAddr.any(family), 53);
    const payload = data(3000);
    const whole = family === 4 ? udp(PEER4, US4, 1000, 53, payload) : udp(PEER6, US6, 1000, 53, payload);
    const frags = family === 4 ? fragments4(7, whole, 800) : fragments6(7, whole, 800);
    for (const i of order) h.stack.ingress(h.ifindex, frags[i]!, T(0));
    expect(sock.recv()?.data).toEqual(payload);
    const c = family === 4 ? h.stack.counters.ip : h.stack.counters.ip6;
    expect(c).toMatchObject({ ReasmReqds: 4, ReasmOKs: 1, ReasmFails: 0 });
    expect(h.stack.counters.drops).toEqual({});
  });

  test('overlapping fragments discard the datagram (v4 and v6)', () => {
    const h = host();
    const sock = h.stack.udp.bind(IpAddr.any(4), 53);
    const whole = udp(PEER4, US4, 1000, 53, data(2000));
    const frags = fragments4(9, whole, 800);
    h.stack.ingress(h.ifindex, frags[0]!, T(0));
    h.stack.ingress(h.ifindex, eth(EtherType.IPv4, ipv4({ id: 9, offset: 400, mf: true }, whole.subarray(400, 1200))), T(0));
    for (const f of frags.slice(1)) h.stack.ingress(h.ifindex, f, T(0));
    expect(sock.recv()).toBeUndefined();
    expect(h.stack.counters.ip.ReasmFails).toBe(1);
    expect(h.stack.counters.drops).toMatchObject({ 'frag:overlap': 1, 'frag:discarded-datagram': 2 });

    const sock6 = h.stack.udp.bind(IpAddr.any(6), 53);
    const whole6 = udp(PEER6, US6, 1000, 53, data(2000));
    const f6 = fragments6(9, whole6, 800);
    h.stack.ingress(h.ifindex, f6[1]!, T(0));
    h.stack.ingress(h.ifindex, eth(EtherType.IPv6, ipv6({ nextHeader: 44 }, fragHeader(17, 1592, true, 9, whole6.subarray(1592, 1608)))), T(0));
    h.stack.ingress(h.ifindex, f6[0]!, T(0));
    h.stack.ingress(h.ifindex, f6[2]!, T(0));
    expect(sock6.recv()).toBeUndefined();
    expect(h.stack.counters.ip6.ReasmFails).toBe(1);
  });

  test('timeout: 30 s (v4) and 60 s (v6), then ICMP Time Exceeded code 1 to the source when the first fragment came', () => {
    const h = host();
    h.stack.ingress(h.ifindex, fragments4(3, udp(PEER4, US4, 1, 53, data(2000)), 800)[0]!, T(0));
    h.stack.ingress(h.ifindex, fragments6(3, udp(PEER6, US6, 1, 53, data(2000)), 800)[0]!, T(0));
    h.stack.ingress(h.ifindex, fragments4(4, udp(PEER4, US4, 1, 53, data(2000)), 800)[1]!, T(0)); // no first fragment
    expect(h.stack.pollAt()).toBe(T(30));
    h.stack.poll(T(30));
    expect(h.stack.counters.ip).toMatchObject({ ReasmTimeout: 2, ReasmFails: 2 });
    expect(h.sent).toHaveLength(1);
    const te = h.sent[0]!.subarray(14 + 20);
    expect([te[0], te[1]]).toEqual([11, 1]);
    h.stack.poll(T(59));
    expect(h.stack.counters.ip6.ReasmTimeout).toBe(0);
    h.stack.poll(T(60));
    expect(h.stack.counters.ip6).toMatchObject({ ReasmTimeout: 1, ReasmFails: 1 });
    const te6 = h.sent.find((f) => f[12] === 0x86 && f[14 + 6] === 58)!.subarray(14 + 40);
    expect([te6[0], te6[1]]).toEqual([3, 1]);
    expect(h.stack.ip.reassembler.pollAt()).toBeUndefined();
  });

  test('the per-stack memory limit refuses what does not fit and frees the datagram', () => {
    const h = host('ethernet', { reassemblyMemory: 4000 });
    const a = fragments4(1, udp(PEER4, US4, 1, 53, data(6000)), 1480);
    for (const f of a.slice(0, 3)) h.stack.ingress(h.ifindex, f, T(0));
    expect(h.stack.counters.drops['frag:memory']).toBe(1);
    expect(h.stack.ip.reassembler.memory).toBeLessThanOrEqual(4000);
    // A smaller datagram still fits afterwards.
    const sock = h.stack.udp.bind(IpAddr.any(4), 53);
    for (const f of fragments4(2, udp(PEER4, US4, 1, 53, data(2000)), 1000)) h.stack.ingress(h.ifindex, f, T(0));
    expect(sock.recv()?.data.length).toBe(2000);
  });

  test('a fragment that would pass 65535 octets is dropped (IPv6: with Parameter Problem at the Fragment Offset)', () => {
    const h = host();
    h.stack.ingress(h.ifindex, eth(EtherType.IPv4, ipv4({ id: 1, offset: 65512, mf: false }, data(16))), T(0));
    h.stack.ingress(h.ifindex, eth(EtherType.IPv6, ipv6({ nextHeader: 44 }, fragHeader(17, 65528, false, 1, data(16)))), T(0));
    expect(h.stack.counters.drops['frag:too-big']).toBe(2);
    const pp = h.sent.find((f) => f[12] === 0x86 && f[14 + 40] === 4)!;
    expect(pp[14 + 40 + 1]).toBe(0); // code 0
    expect((pp[14 + 40 + 6]! << 8) | pp[14 + 40 + 7]!).toBe(42); // pointer: 40 + 2
  });
});

describe('fuzzing ingress', () => {
  const valid = (): Uint8Array[] => [
    eth(EtherType.ARP, arp('request', US4), MacAddr.BROADCAST),
    eth(EtherType.IPv4, ipv4({ protocol: 1 }, icmp4Echo(1))),
    eth(EtherType.IPv4, ipv4({}, udp(PEER4, US4, 1000, 53, data(20)))),
    eth(EtherType.IPv4, ipv4({}, udp(PEER4, US4, 1000, 99, data(20)))),
    eth(EtherType.IPv4, ipv4({ mf: true, id: 5 }, data(64))),
    eth(EtherType.IPv4, ipv4({ offset: 64, id: 5 }, data(30))),
    eth(EtherType.IPv4, ipv4({ protocol: 1 }, icmpError4(ipv4({ src: US4, dst: PEER4 }, udp(US4, PEER4, 53, 1000, data(4)))))),
    eth(EtherType.IPv6, ipv6({ nextHeader: 58 }, icmp6({ type: 'echo-request', id: 1, seq: 1, data: data(8) }, PEER6, US6))),
    eth(EtherType.IPv6, ipv6({ nextHeader: 58, hopLimit: 255 }, icmp6({ type: 'neighbor-solicitation', target: US6, sourceLinkAddr: PEER_MAC }, PEER6, US6))),
    eth(EtherType.IPv6, ipv6({}, udp(PEER6, US6, 1000, 53, data(20)))),
    eth(EtherType.IPv6, ipv6({ nextHeader: 44 }, fragHeader(17, 0, true, 9, data(64)))),
    eth(EtherType.IPv6, ipv6({ nextHeader: 0 }, Uint8Array.of(17, 0, 1, 4, 0, 0, 0, 0, ...udp(PEER6, US6, 1, 53, data(3))))),
  ];

  test('random bytes, on Ethernet and bare-IP interfaces, never throw', () => {
    const eh = host();
    const ih = host('ip');
    eh.stack.udp.bind(IpAddr.any(4), 53);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, v6) => {
      if (bytes.length > 0) bytes[0] = (bytes[0]! & 0x0f) | (v6 ? 0x60 : 0x40);
      eh.stack.ingress(eh.ifindex, bytes, T(0));
      ih.stack.ingress(ih.ifindex, bytes, T(0));
      eh.stack.ingress(eh.ifindex, eth(v6 ? EtherType.IPv6 : EtherType.IPv4, bytes), T(0));
      eh.stack.ingress(eh.ifindex, eth(EtherType.ARP, bytes), T(0));
    }), { numRuns: 3000, seed: 0x5eed });
    eh.stack.poll(T(100));
  });

  test('mutated valid frames (bit flips, byte changes, truncation, extension) never throw, and the stack keeps working', () => {
    const h = host();
    h.stack.udp.bind(IpAddr.any(4), 53);
    h.stack.udp.bind(IpAddr.any(6), 53);
    const frames = valid();
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('extend' as const), extra: fc.uint8Array({ maxLength: 40 }) }),
    );
    fc.assert(fc.property(fc.nat({ max: frames.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.nat({ max: 120 }), (which, muts, t) => {
      let f = frames[which]!.slice();
      for (const m of muts) {
        switch (m.kind) {
          case 'flip': f[m.at % f.length]! ^= 1 << m.bit; break;
          case 'set': f[m.at % f.length] = m.value; break;
          case 'truncate': f = f.subarray(0, m.at % (f.length + 1)); break;
          case 'extend': { const g = new Uint8Array(f.length + m.extra.length); g.set(f); g.set(m.extra, f.length); f = g; break; }
        }
      }
      h.stack.ingress(h.ifindex, f, T(t));
      h.stack.poll(T(t));
    }), { numRuns: 5000, seed: 0x5eed });
    h.stack.poll(T(1000));
    // Still answers ping afterwards. A mutated ARP or ICMP frame can leave the peer's neighbour
    // entry being re-resolved, and then the reply rightly waits for ARP: the peer answers the
    // way it would (an ARP reply), and the echo reply must be among what the stack sends.
    const before = h.sent.length;
    h.stack.ingress(h.ifindex, eth(EtherType.IPv4, ipv4({ protocol: 1 }, icmp4Echo(77))), T(1000));
    h.stack.ingress(h.ifindex, eth(EtherType.ARP, arp('reply', US4)), T(1000));
    h.stack.poll(T(1000));
    const echoReplies = h.sent.slice(before).filter((f) => f[12] === 0x08 && f[13] === 0x00 && f[14 + 9] === 1 && f[14 + 20] === 0);
    expect(echoReplies).toHaveLength(1);
  });
});
