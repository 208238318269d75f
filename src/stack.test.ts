// Scenario tests for the Stack: two (or three) stacks on simulated links in virtual time:
// ARP and NDP exchanges, ping over IPv4 and IPv6, UDP both ways, ICMP port unreachable,
// resolution failure, fragmentation end to end, loopback, path MTU, and the hooks for TCP.
import { describe, expect, test } from 'vitest';
import { Stack } from './stack.js';
import { SimRng } from './sim/rng.js';
import { Simulation } from './sim/driver.js';
import { PointToPoint, Switch } from './link/memory.js';
import type { Port } from './link/link.js';
import { IpAddr } from './wire/ip-addr.js';
import { type Duration, type Instant, millis, seconds } from './time/instant.js';
import type { EchoReply } from './ip/icmp.js';
import type { NetError } from './ip/errors.js';
import type { IcmpError, PacketInfo, TransportHandler } from './ip/transport.js';
import { EtherType } from './wire/ethernet.js';
import { getU16 } from './wire/net-order.js';

const A4 = IpAddr.from('10.0.0.1');
const B4 = IpAddr.from('10.0.0.2');
const A6 = IpAddr.from('2001:db8::1');
const B6 = IpAddr.from('2001:db8::2');

interface Pair {
  sim: Simulation;
  a: Stack;
  b: Stack;
  link: PointToPoint;
  /** Every frame each side sent, in order. */
  sentByA: Uint8Array[];
  sentByB: Uint8Array[];
}

/** Wraps a port to record what the stack sends. */
function tap(port: Port, log: Uint8Array[]): Port {
  const p: Port = {
    medium: port.medium,
    mtu: port.mtu,
    onFrame: undefined,
    send(frame, now) {
      log.push(frame.slice());
      port.send(frame, now);
    },
  };
  port.onFrame = (f, now) => p.onFrame?.(f, now);
  return p;
}

function pair(opts: { mtu?: number; delay?: Duration; medium?: 'ethernet' | 'ip'; seed?: number } = {}): Pair {
  const rng = new SimRng(opts.seed ?? 1);
  const sim = new Simulation();
  const link = new PointToPoint({ mtu: opts.mtu ?? 1500, delay: opts.delay ?? millis(1), medium: opts.medium ?? 'ethernet' });
  const a = new Stack({ rng: rng.fork('a'), name: 'a' });
  const b = new Stack({ rng: rng.fork('b'), name: 'b' });
  const sentByA: Uint8Array[] = [];
  const sentByB: Uint8Array[] = [];
  const eth = (opts.medium ?? 'ethernet') === 'ethernet';
  a.addInterface({ port: tap(link.a, sentByA), ipv4: '10.0.0.1/24', ipv6: '2001:db8::1/64', ...(eth ? { mac: '02:00:00:00:00:0a' } : {}) });
  b.addInterface({ port: tap(link.b, sentByB), ipv4: '10.0.0.2/24', ipv6: '2001:db8::2/64', ...(eth ? { mac: '02:00:00:00:00:0b' } : {}) });
  sim.add(link, 'link').add(a, 'a').add(b, 'b');
  return { sim, a, b, link, sentByA, sentByB };
}

const ethertype = (f: Uint8Array): number => getU16(f, 12);

function collectEcho(s: Stack): EchoReply[] {
  const got: EchoReply[] = [];
  s.ip.icmp.onEchoReply = (r) => got.push({ ...r, data: r.data.slice() });
  return got;
}

describe('ARP (RFC 826)', () => {
  test('the first packet to a neighbour sends one broadcast request; the reply fills both caches; the queued packet goes out', () => {
    const p = pair();
    const replies = collectEcho(p.a);
    expect(p.a.ip.icmp.ping(B4, 7, 1, Uint8Array.of(1, 2, 3), p.sim.now)).toBeUndefined();
    // Nothing sent yet but the ARP request: the echo request waits in the neighbour queue.
    expect(p.sentByA.map(ethertype)).toEqual([EtherType.ARP]);
    const req = p.sentByA[0]!;
    expect(Array.from(req.subarray(0, 6))).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(p.a.ip.neighbors.lookup(2, B4, p.sim.now)?.state).toBe('INCOMPLETE');
    p.sim.run({ maxDuration: seconds(1) });
    expect(p.b.counters.arp).toMatchObject({ InRequests: 1, OutReplies: 1 });
    expect(p.a.counters.arp).toMatchObject({ OutRequests: 1, InReplies: 1 });
    expect(p.a.ip.neighbors.lookup(2, B4, p.sim.now)).toMatchObject({ state: 'REACHABLE' });
    expect(p.a.ip.neighbors.lookup(2, B4, p.sim.now)?.mac?.toString()).toBe('02:00:00:00:00:0b');
    // RFC 826: the target learns the sender from the request (no ARP of its own needed).
    expect(p.b.ip.neighbors.lookup(2, A4, p.sim.now)?.mac?.toString()).toBe('02:00:00:00:00:0a');
    expect(p.b.counters.arp.OutRequests).toBe(0);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatchObject({ family: 4, identifier: 7, sequence: 1 });
    expect(Array.from(replies[0]!.data)).toEqual([1, 2, 3]);
  });

  test('a request for an address that is not ours is not answered and creates no entry', () => {
    const p = pair();
    p.a.ip.icmp.ping(IpAddr.from('10.0.0.77'), 1, 1, new Uint8Array(0), p.sim.now);
    p.sim.run({ maxDuration: millis(500) });
    expect(p.b.counters.arp.OutReplies).toBe(0);
    expect(p.b.ip.neighbors.size).toBe(0);
  });

  test('entries go STALE after the reachable time; use moves them to DELAY, then PROBE with a unicast request (RFC 4861 §7.3.3)', () => {
    const p = pair();
    collectEcho(p.a);
    p.a.ip.icmp.ping(B4, 1, 1, new Uint8Array(0), p.sim.now);
    p.sim.run({ maxDuration: seconds(1) });
    p.sim.advance(seconds(31));
    expect(p.a.ip.neighbors.lookup(2, B4, p.sim.now)?.state).toBe('STALE');
    const before = p.sentByA.length;
    p.a.ip.icmp.ping(B4, 1, 2, new Uint8Array(0), p.sim.now);
    // The packet goes at once with the stale MAC; no probe yet.
    expect(p.sentByA.slice(before).map(ethertype)).toEqual([EtherType.IPv4]);
    expect(p.a.ip.neighbors.lookup(2, B4, p.sim.now)?.state).toBe('DELAY');
    p.sim.run({ maxDuration: seconds(4) });
    expect(p.sentByA.slice(before).map(ethertype)).toEqual([EtherType.IPv4]);
    p.sim.run({ maxDuration: seconds(1) });
    const probe = p.sentByA.slice(before).find((f) => ethertype(f) === EtherType.ARP)!;
    expect(Array.from(probe.subarray(0, 6))).toEqual([2, 0, 0, 0, 0, 0x0b]); // unicast
    p.sim.run({ maxDuration: seconds(1) });
    expect(p.a.ip.neighbors.lookup(2, B4, p.sim.now)?.state).toBe('REACHABLE');
  });

  test('an upper-layer confirmation keeps a used entry from being probed', () => {
    const p = pair();
    collectEcho(p.a);
    p.a.ip.icmp.ping(B4, 1, 1, new Uint8Array(0), p.sim.now);
    p.sim.run({ maxDuration: seconds(1) });
    p.sim.advance(seconds(31));
    p.a.ip.icmp.ping(B4, 1, 2, new Uint8Array(0), p.sim.now);
    p.a.ip.confirmReachable(p.a.ip.route(B4)!, p.sim.now);
    p.sim.run({ maxDuration: seconds(10) });
    expect(p.a.counters.arp.OutRequests).toBe(1);
    expect(p.a.ip.neighbors.lookup(2, B4, p.sim.now)?.state).toBe('REACHABLE');
  });
});

describe('NDP (RFC 4861 §7)', () => {
  test('NS goes to the solicited-node group with SLLA; NA comes back with S, O and TLLA; then echo', () => {
    const p = pair();
    const replies = collectEcho(p.a);
    p.a.ip.icmp.ping(B6, 9, 3, Uint8Array.of(0xaa), p.sim.now);
    expect(p.sentByA.map(ethertype)).toEqual([EtherType.IPv6]);
    const ns = p.sentByA[0]!;
    // 33:33:ff:00:00:02 for ff02::1:ff00:2 (RFC 2464 §7)
    expect(Array.from(ns.subarray(0, 6))).toEqual([0x33, 0x33, 0xff, 0, 0, 2]);
    expect(ns[14 + 7]).toBe(255); // Hop Limit 255
    expect(ns[14 + 40]).toBe(135); // Neighbor Solicitation
    expect(IpAddr.read(ns, 14 + 24, 6).toString()).toBe('ff02::1:ff00:2');
    expect(ns[14 + 40 + 24]).toBe(1); // Source Link-Layer Address option
    p.sim.run({ maxDuration: seconds(1) });
    const na = p.sentByB.find((f) => f[14 + 40] === 136)!;
    expect(na).toBeDefined();
    expect(na[14 + 40 + 4]! & 0xe0).toBe(0x60); // S and O, not R
    expect(na[14 + 40 + 24]).toBe(2); // Target Link-Layer Address option
    expect(p.a.ip.neighbors.lookup(2, B6, p.sim.now)).toMatchObject({ state: 'REACHABLE' });
    // §7.2.3: the solicited node learned the solicitor as STALE, then used it (its echo reply): DELAY.
    expect(p.b.ip.neighbors.lookup(2, A6, p.sim.now)).toMatchObject({ state: 'DELAY' });
    expect(p.b.counters.icmp6.OutNeighborSolicits).toBe(0);
    expect(p.a.counters.icmp6).toMatchObject({ OutNeighborSolicits: 1, InNeighborAdvertisements: 1 });
    expect(replies).toEqual([expect.objectContaining({ family: 6, identifier: 9, sequence: 3, ttl: 64 })]);
  });

  test('link-local addresses are derived from the MAC and resolve too', () => {
    const p = pair();
    const ll = p.b.interface(2)!.ipv6[0]!.addr;
    expect(ll.toString()).toBe('fe80::ff:fe00:b');
    const replies = collectEcho(p.a);
    p.a.ip.icmp.ping(ll, 1, 1, new Uint8Array(0), p.sim.now);
    p.sim.run({ maxDuration: seconds(1) });
    expect(replies).toHaveLength(1);
    expect(replies[0]!.from.toString()).toBe('fe80::ff:fe00:b');
  });
});

describe('ping', () => {
  test('IPv4 and IPv6 echo between two stacks, many in a row', () => {
    const p = pair();
    const replies = collectEcho(p.a);
    for (let i = 0; i < 5; i++) {
      p.a.ip.icmp.ping(B4, 1, i, Uint8Array.of(i), p.sim.now);
      p.a.ip.icmp.ping(B6, 1, i, Uint8Array.of(i), p.sim.now);
      p.sim.run({ maxDuration: millis(100) });
    }
    expect(replies.filter((r) => r.family === 4).map((r) => r.sequence)).toEqual([0, 1, 2, 3, 4]);
    expect(replies.filter((r) => r.family === 6).map((r) => r.sequence)).toEqual([0, 1, 2, 3, 4]);
    expect(p.b.counters.icmp).toMatchObject({ InEchos: 5, OutEchoReps: 5 });
    expect(p.b.counters.icmp6).toMatchObject({ InEchos: 5, OutEchoReps: 5 });
    expect(p.a.counters.drops).toEqual({});
    expect(p.b.counters.drops).toEqual({});
  });

  test('ping over a medium "ip" link (no ARP/NDP)', () => {
    const p = pair({ medium: 'ip' });
    const replies = collectEcho(p.a);
    p.a.ip.icmp.ping(B4, 1, 1, new Uint8Array(8), p.sim.now);
    p.a.ip.icmp.ping(B6, 1, 2, new Uint8Array(8), p.sim.now);
    p.sim.run({ maxDuration: millis(10) });
    expect(replies.map((r) => r.family)).toEqual([4, 6]);
    expect(p.a.counters.arp.OutRequests).toBe(0);
  });

  test('ping our own addresses and loopback: delivered on the next poll, never re-entrantly', () => {
    const p = pair();
    const replies = collectEcho(p.a);
    for (const dst of ['127.0.0.1', '::1', '10.0.0.1', '2001:db8::1', '127.1.2.3']) {
      p.a.ip.icmp.ping(IpAddr.from(dst), 1, 1, new Uint8Array(0), p.sim.now);
    }
    expect(replies).toHaveLength(0); // not within the call
    expect(p.a.pollAt()).toBe(p.sim.now);
    p.sim.run({ maxDuration: millis(1) });
    expect(replies.map((r) => r.from.toString())).toEqual(['127.0.0.1', '::1', '10.0.0.1', '2001:db8::1', '127.1.2.3']);
    expect(p.sentByA).toHaveLength(0);
  });

  test('no route: ENETUNREACH', () => {
    const p = pair();
    expect(p.a.ip.icmp.ping(IpAddr.from('192.0.2.1'), 1, 1, new Uint8Array(0), p.sim.now)).toBe('ENETUNREACH');
    expect(p.a.counters.ip.OutNoRoutes).toBe(1);
  });
});

describe('UDP (RFC 768)', () => {
  function exchange(family: 4 | 6): void {
    const p = pair();
    const [addrA, addrB] = family === 4 ? [A4, B4] : [A6, B6];
    const sa = p.a.udp.bind(IpAddr.any(family), 5000);
    const sb = p.b.udp.bind(addrB, 53);
    let readable = 0;
    sb.onReadable = () => readable++;
    expect(sa.sendTo(new TextEncoder().encode('hello'), addrB, 53, p.sim.now)).toEqual({ ok: true, value: 5 });
    p.sim.run({ maxDuration: millis(100) });
    expect(readable).toBe(1);
    const d = sb.recv()!;
    expect(new TextDecoder().decode(d.data)).toBe('hello');
    expect(d.from.equals(addrA)).toBe(true);
    expect(d.port).toBe(5000);
    expect(d.to.equals(addrB)).toBe(true);
    expect(sb.sendTo(new TextEncoder().encode('world!'), d.from, d.port, p.sim.now).ok).toBe(true);
    p.sim.run({ maxDuration: millis(100) });
    expect(new TextDecoder().decode(sa.recv()!.data)).toBe('world!');
    expect(sa.recv()).toBeUndefined();
    const ca = family === 4 ? p.a.counters.udp : p.a.counters.udp6;
    const cb = family === 4 ? p.b.counters.udp : p.b.counters.udp6;
    expect(ca).toMatchObject({ OutDatagrams: 1, InDatagrams: 1, InErrors: 0 });
    expect(cb).toMatchObject({ OutDatagrams: 1, InDatagrams: 1, InErrors: 0 });
  }
  test('datagrams both ways over IPv4', () => exchange(4));
  test('datagrams both ways over IPv6', () => exchange(6));

  test('a datagram to a closed port gets ICMP port unreachable, reported to the sender as ECONNREFUSED (v4 and v6)', () => {
    const p = pair();
    for (const [family, dst] of [[4, B4], [6, B6]] as const) {
      const s = p.a.udp.bind(IpAddr.any(family), 0);
      const errors: NetError[] = [];
      s.onError = (e) => errors.push(e);
      s.sendTo(Uint8Array.of(1), dst, 9999, p.sim.now);
      p.sim.run({ maxDuration: millis(100) });
      expect(errors.map((e) => [e.code, e.port])).toEqual([['ECONNREFUSED', 9999]]);
    }
    expect(p.b.counters.udp.NoPorts).toBe(1);
    expect(p.b.counters.udp6.NoPorts).toBe(1);
    expect(p.b.counters.icmp.OutDestUnreachs).toBe(1);
    expect(p.b.counters.icmp6.OutDestUnreachs).toBe(1);
    expect(p.a.counters.icmp.InDestUnreachs).toBe(1);
  });

  test('ICMP errors are rate limited per destination (burst 6, then 1 per second)', () => {
    const p = pair();
    const s = p.a.udp.bind(IpAddr.any(4), 0);
    let errors = 0;
    s.onError = () => errors++;
    for (let i = 0; i < 10; i++) s.sendTo(Uint8Array.of(i), B4, 9999, p.sim.now);
    p.sim.run({ maxDuration: millis(100) });
    expect(errors).toBe(6);
    expect(p.b.counters.icmp.OutRateLimitHost).toBe(4);
    p.sim.advance(seconds(1));
    s.sendTo(Uint8Array.of(0), B4, 9999, p.sim.now);
    p.sim.run({ maxDuration: millis(100) });
    expect(errors).toBe(7);
  });

  test('ICMP errors to ourselves over loopback are not rate limited (as Linux)', () => {
    const p = pair();
    const s = p.a.udp.bind(IpAddr.any(4), 0);
    let errors = 0;
    s.onError = () => errors++;
    for (let i = 0; i < 20; i++) s.sendTo(Uint8Array.of(i), IpAddr.from('127.0.0.1'), 9999, p.sim.now);
    p.sim.run({ maxDuration: millis(1) });
    expect(errors).toBe(20);
  });

  test('bind: EADDRINUSE on conflicts, EADDRNOTAVAIL for foreign addresses, ephemeral ports from the range', () => {
    const p = pair();
    p.a.udp.bind(A4, 7);
    expect(() => p.a.udp.bind(A4, 7)).toThrow(/bind EADDRINUSE: address already in use 10\.0\.0\.1:7/);
    expect(() => p.a.udp.bind(IpAddr.any(4), 7)).toThrow(expect.objectContaining({ code: 'EADDRINUSE' }));
    expect(() => p.a.udp.bind(IpAddr.from('10.9.9.9'), 8)).toThrow(expect.objectContaining({ code: 'EADDRNOTAVAIL' }));
    expect(() => p.a.udp.bind(IpAddr.any(4), 70000)).toThrow(RangeError);
    p.a.udp.bind(IpAddr.any(6), 7); // other family: no conflict
    const ports = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const s = p.a.udp.bind(IpAddr.any(4), 0);
      expect(s.localPort).toBeGreaterThanOrEqual(32768);
      expect(s.localPort).toBeLessThanOrEqual(60999);
      ports.add(s.localPort);
    }
    expect(ports.size).toBe(50);
  });

  test('ephemeral ports are exhausted with EADDRINUSE and come back on close', () => {
    const a = new Stack({ rng: new SimRng(3), ephemeralPorts: [40000, 40003] });
    const socks = [0, 1, 2, 3].map(() => a.udp.bind(IpAddr.any(4), 0));
    expect(new Set(socks.map((s) => s.localPort))).toEqual(new Set([40000, 40001, 40002, 40003]));
    expect(() => a.udp.bind(IpAddr.any(4), 0)).toThrow(expect.objectContaining({ code: 'EADDRINUSE' }));
    socks[2]!.close();
    expect(a.udp.bind(IpAddr.any(4), 0).localPort).toBe(socks[2]!.localPort);
  });

  test('the receive queue has a byte limit; excess datagrams are dropped and counted', () => {
    const p = pair();
    const sb = p.b.udp.bind(IpAddr.any(4), 9);
    sb.receiveBufferBytes = 2500;
    const sa = p.a.udp.bind(IpAddr.any(4), 0);
    for (let i = 0; i < 5; i++) sa.sendTo(new Uint8Array(1000), B4, 9, p.sim.now);
    p.sim.run({ maxDuration: millis(100) });
    expect(sb.pending).toBe(2);
    expect(p.b.counters.udp.RcvbufErrors).toBe(3);
    expect(p.b.counters.drops['udp:rcvbuf-full']).toBe(3);
  });

  test('sendTo errors: EMSGSIZE over 65507 bytes, ENETUNREACH without a route, EINVAL for the wrong family', () => {
    const p = pair();
    const s = p.a.udp.bind(IpAddr.any(4), 0);
    expect(s.sendTo(new Uint8Array(65508), B4, 9, p.sim.now)).toMatchObject({ ok: false, error: { code: 'EMSGSIZE' } });
    expect(s.sendTo(new Uint8Array(1), IpAddr.from('192.0.2.1'), 9, p.sim.now)).toMatchObject({ ok: false, error: { code: 'ENETUNREACH' } });
    expect(s.sendTo(new Uint8Array(1), B6, 9, p.sim.now)).toMatchObject({ ok: false, error: { code: 'EINVAL' } });
  });

  test('UDP over loopback (checksum offload on lo) works for both families', () => {
    const p = pair();
    for (const addr of [IpAddr.from('127.0.0.1'), IpAddr.from('::1'), A4]) {
      const srv = p.a.udp.bind(addr, 7777);
      const cli = p.a.udp.bind(IpAddr.any(addr.family), 0);
      cli.sendTo(Uint8Array.of(42), addr, 7777, p.sim.now);
      p.sim.run({ maxDuration: millis(1) });
      expect(srv.recv()?.data[0]).toBe(42);
      srv.close();
    }
  });
});

describe('fragmentation end to end', () => {
  test('a 5000-byte UDP datagram is fragmented by the sender and reassembled by the receiver (v4 and v6)', () => {
    const p = pair();
    const data = new Uint8Array(5000).map((_, i) => (i * 7) & 255);
    for (const [family, dst] of [[4, B4], [6, B6]] as const) {
      const sb = p.b.udp.bind(IpAddr.any(family), 4444);
      const sa = p.a.udp.bind(IpAddr.any(family), 0);
      expect(sa.sendTo(data, dst, 4444, p.sim.now).ok).toBe(true);
      p.sim.run({ maxDuration: millis(100) });
      const got = sb.recv();
      expect(got?.data).toEqual(data);
    }
    expect(p.a.counters.ip).toMatchObject({ FragOKs: 1, FragCreates: 4 });
    expect(p.b.counters.ip).toMatchObject({ ReasmReqds: 4, ReasmOKs: 1, ReasmFails: 0 });
    expect(p.a.counters.ip6.FragOKs).toBe(1);
    expect(p.b.counters.ip6.ReasmOKs).toBe(1);
    // Every fragment fits the MTU.
    for (const f of p.sentByA) expect(f.length).toBeLessThanOrEqual(1514);
  });
});

describe('path MTU (RFC 1191, RFC 8201)', () => {
  test('a frag-needed from a router lowers Route.mtu, bumps the generation, reaches the transport, and expires after 10 minutes', () => {
    const p = pair();
    const seen: IcmpError[] = [];
    const handler: TransportHandler = { input: () => {}, icmpError: (e) => seen.push({ ...e }) };
    p.a.registerTransport(253, handler);
    const r0 = p.a.ip.route(IpAddr.from('10.0.0.2'))!;
    expect(r0.mtu).toBe(1500);
    // b plays a router: it sends a to "fragmentation needed" quoting a datagram from a with protocol 253.
    const quoted = new Uint8Array(28);
    quoted.set([0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 253, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x12, 0x34, 0x56, 0x78]);
    const icmp = new Uint8Array(8 + 28);
    icmp.set([3, 4, 0, 0, 0, 0, 0x05, 0x78], 0); // type 3 code 4, next-hop MTU 1400
    icmp.set(quoted, 8);
    sendRawIcmp4(p, icmp);
    p.sim.run({ maxDuration: millis(100) });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ kind: 'frag-needed', code: 4, mtu: 1400, family: 4, local: false });
    expect(Array.from(seen[0]!.quoted.subarray(0, 4))).toEqual([0x12, 0x34, 0x56, 0x78]);
    const r1 = p.a.ip.route(B4)!;
    expect(r1.mtu).toBe(1400);
    expect(r1.generation).toBeGreaterThan(r0.generation);
    p.sim.advance(seconds(601));
    expect(p.a.ip.route(B4)!.mtu).toBe(1500);
    expect(p.a.ip.generation).toBeGreaterThan(r1.generation);
  });
});

/** Makes b send an ICMPv4 message (type/code/body given, checksum filled) to a. */
function sendRawIcmp4(p: Pair, icmp: Uint8Array): void {
  let s = 0;
  for (let i = 0; i < icmp.length; i += 2) s += (icmp[i]! << 8) | (icmp[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  icmp[2] = (~s >>> 8) & 255;
  icmp[3] = ~s & 255;
  const route = p.b.ip.route(A4)!;
  const frame = p.b.ip.allocFrame(route, icmp.length);
  frame.set(icmp, p.b.ip.l4Offset(route));
  p.b.ip.transmit(route, frame, 1, icmp.length, p.sim.now);
}

describe('resolution failure', () => {
  test('3 broadcast ARP requests 1 s apart, then the queued packets are dropped and UDP hears EHOSTUNREACH for each', () => {
    const p = pair();
    const s = p.a.udp.bind(IpAddr.any(4), 0);
    const errors: { code: string; at: Instant }[] = [];
    s.onError = (e) => errors.push({ code: e.code, at: p.sim.now });
    const ghost = IpAddr.from('10.0.0.99');
    for (let i = 0; i < 5; i++) s.sendTo(Uint8Array.of(i), ghost, 9, p.sim.now);
    p.sim.run({ maxDuration: seconds(10) });
    expect(p.sentByA.filter((f) => ethertype(f) === EtherType.ARP)).toHaveLength(3);
    expect(errors.map((e) => e.code)).toEqual(Array(5).fill('EHOSTUNREACH'));
    expect(errors[0]!.at).toBe(seconds(3));
    expect(p.a.counters.neigh.unresolved_discards).toBe(5);
    expect(p.a.counters.neigh.res_failed).toBe(1);
    expect(p.a.ip.neighbors.size).toBe(0);
  });

  test('IPv6: 3 NS, then EHOSTUNREACH to the transport as a local address-unreachable', () => {
    const p = pair();
    const seen: IcmpError[] = [];
    p.a.registerTransport(253, { input: () => {}, icmpError: (e) => seen.push(e) });
    const ghost = IpAddr.from('2001:db8::99');
    const route = p.a.ip.route(ghost)!;
    const frame = p.a.ip.allocFrame(route, 8);
    frame.set([0, 1, 0, 2], p.a.ip.l4Offset(route));
    p.a.ip.transmit(route, frame, 253, 8, p.sim.now);
    p.sim.run({ maxDuration: seconds(10) });
    expect(p.a.counters.icmp6.OutNeighborSolicits).toBe(3);
    expect(seen).toEqual([expect.objectContaining({ kind: 'unreachable', code: 3, family: 6, local: true, from: undefined })]);
    expect(seen[0]!.dst.equals(ghost)).toBe(true);
  });
});

describe('TCP hooks', () => {
  test('a registered transport receives datagrams with a reused PacketInfo; its pollable is polled by the stack', () => {
    const p = pair();
    const got: { src: string; ttl: number; data: number[] }[] = [];
    let infoObject: PacketInfo | undefined;
    const tcpLike: TransportHandler = {
      input(pkt, payload) {
        if (infoObject !== undefined) expect(pkt).toBe(infoObject); // one object, reused
        infoObject = pkt as PacketInfo;
        got.push({ src: pkt.src.toString(), ttl: pkt.ttl, data: Array.from(payload) });
      },
    };
    p.b.registerTransport(6, tcpLike);
    let polls = 0;
    let due: Instant | undefined = millis(500) as number as Instant;
    p.b.addPollable({ pollAt: () => due, poll: () => { polls++; due = undefined; } });
    for (let i = 0; i < 2; i++) {
      const route = p.a.ip.route(B4)!;
      const frame = p.a.ip.allocFrame(route, 4);
      frame.set([i, 2, 3, 4], p.a.ip.l4Offset(route));
      expect(p.a.ip.transmit(route, frame, 6, 4, p.sim.now)).toBeUndefined();
    }
    p.sim.run({ maxDuration: seconds(1) });
    expect(got).toEqual([{ src: '10.0.0.1', ttl: 64, data: [0, 2, 3, 4] }, { src: '10.0.0.1', ttl: 64, data: [1, 2, 3, 4] }]);
    expect(polls).toBe(1);
    // TCP segments carry DF (RFC 1191 §3).
    const seg = p.sentByA.find((f) => ethertype(f) === EtherType.IPv4 && f[14 + 9] === 6)!;
    expect(seg[14 + 6]! & 0x40).toBe(0x40);
  });

  test('a TCP segment over the path MTU with DF is refused with EMSGSIZE', () => {
    const p = pair();
    const route = p.a.ip.route(B4)!;
    const frame = p.a.ip.allocFrame(route, 1481);
    expect(p.a.ip.transmit(route, frame, 6, 1481, p.sim.now)).toBe('EMSGSIZE');
    expect(p.a.counters.ip.FragFails).toBe(1);
  });

  test('an unknown protocol gets ICMP protocol unreachable (v4) / parameter problem code 1 (v6)', () => {
    const p = pair();
    const seen: IcmpError[] = [];
    p.a.registerTransport(200, { input: () => {}, icmpError: (e) => seen.push(e) });
    for (const dst of [B4, B6]) {
      const route = p.a.ip.route(dst)!;
      const frame = p.a.ip.allocFrame(route, 8);
      p.a.ip.transmit(route, frame, 200, 8, p.sim.now);
    }
    p.sim.run({ maxDuration: millis(100) });
    expect(p.b.counters.ip.InUnknownProtos).toBe(1);
    expect(p.b.counters.ip6.InUnknownProtos).toBe(1);
    expect(seen.map((e) => [e.kind, e.code, e.family])).toEqual([['unreachable', 2, 4], ['param-problem', 1, 6]]);
  });
});

describe('routing through a gateway', () => {
  test('a default route sends via the gateway\'s MAC; the router is another stack that does not forward', () => {
    const rng = new SimRng(5);
    const sim = new Simulation();
    const sw = new Switch();
    const a = new Stack({ rng: rng.fork('a') });
    const gw = new Stack({ rng: rng.fork('gw') });
    a.addInterface({ port: sw.port(), ipv4: '192.168.1.10/24' });
    gw.addInterface({ port: sw.port(), ipv4: '192.168.1.1/24' });
    a.addRoute('default', '192.168.1.1');
    sim.add(sw).add(a).add(gw);
    const r = a.ip.route(IpAddr.from('8.8.8.8'))!;
    expect(r.nextHop.toString()).toBe('192.168.1.1');
    expect(r.src.toString()).toBe('192.168.1.10');
    a.ip.icmp.ping(IpAddr.from('8.8.8.8'), 1, 1, new Uint8Array(0), sim.now);
    sim.run({ maxDuration: seconds(1) });
    // The gateway resolved and received the packet, but does not forward (a host): InAddrErrors.
    expect(gw.counters.arp.OutReplies).toBe(1);
    expect(gw.counters.ip.InAddrErrors).toBe(1);
    expect(() => a.addRoute('10.0.0.0/8', '172.16.0.1')).toThrow(/not on a connected network/);
  });
});

describe('configuration errors name the value', () => {
  test('bad addresses, MACs and MTUs', () => {
    const s = new Stack({ rng: new SimRng(1) });
    const link = new PointToPoint();
    expect(() => s.addInterface({ port: link.a, ipv4: '10.0.0.300/24' })).toThrow(/10\.0\.0\.300/);
    expect(() => s.addInterface({ port: link.a, ipv4: '10.0.0.1/33' })).toThrow(/prefix length/);
    expect(() => s.addInterface({ port: link.a, ipv4: '2001:db8::1/64' })).toThrow(/not an IPv4 address/);
    expect(() => s.addInterface({ port: link.a, mac: '01:00:00:00:00:01' })).toThrow(/group address/);
    expect(() => s.addInterface({ port: new PointToPoint({ mtu: 1000 }).a, ipv6: '2001:db8::1/64' })).toThrow(/1280/);
  });
});
