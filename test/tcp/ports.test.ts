// Transcripts of ports and bind (RFC 9293 §3.10.1, RFC 6056, and Linux's bind rules): ephemeral
// ports from the configured range, EADDRINUSE and SO_REUSEADDR as Linux applies them,
// EADDRNOTAVAIL when no 4-tuple is free, and the demux order: exact 4-tuple, then a listener
// on (address, port), then a wildcard listener.
import { describe, expect, test } from 'vitest';
import { Harness, LOCAL, Pair, REMOTE, flagBits, summarize } from '../util/tcp-harness.js';
import { IpAddr } from '../../src/wire/ip-addr.js';
import { emitTcp, tcpHeaderLength, type TcpRepr } from '../../src/wire/tcp.js';
import { seq } from '../../src/tcp/seq.js';
import { defaultSocketOptions } from '../../src/tcp/tcp.js';
import type { Binding } from '../../src/tcp/tcp.js';
import { CLIENT_PORT, SERVER_PORT, bytes, drain, established, out } from './fixtures.js';

const LOCAL2 = IpAddr.from('10.0.0.9');
const REMOTE2 = IpAddr.from('10.0.0.3');

/** Delivers a segment from `src` to `dst` (any local address) and returns our replies with their source address. */
function inject(h: Harness, src: IpAddr, dst: IpAddr, s: { flags: string; seq: number; ack?: number; srcPort: number; dstPort: number; data?: number }): string[] {
  const r: TcpRepr = {
    srcPort: s.srcPort, dstPort: s.dstPort, seq: seq(s.seq), ack: seq(s.ack ?? 0), flags: flagBits(s.flags),
    window: 65535, urgent: 0, options: {}, payload: new Uint8Array(s.data ?? 0),
  };
  const b = new Uint8Array(tcpHeaderLength(r.options) + r.payload.length);
  emitTcp(r, b, { src, dst });
  h.ip.pendingDst = src;
  h.tcp.input({ src, dst }, b, h.now);
  return h.takeSent().map((x) => `${x.src.toString()} ${summarize(x.seg)}`);
}

describe('ephemeral ports (RFC 6056; Linux ip_local_port_range)', () => {
  test('connect() takes ports from the configured range until every 4-tuple to the destination is used, then fails with EADDRNOTAVAIL (RFC 6056 §3.2; Linux __inet_hash_connect)', () => {
    const h = new Harness({ portRange: { low: 50000, high: 50009 } });
    const ports = new Set<number>();
    for (let i = 0; i < 10; i++) {
      const s = h.sockets.socket();
      expect(s.connect(REMOTE, SERVER_PORT)).toBe('EINPROGRESS');
      ports.add(s.localPort!);
    }
    expect([...ports].sort()).toEqual([50000, 50001, 50002, 50003, 50004, 50005, 50006, 50007, 50008, 50009]);
    expect(h.sockets.socket().connect(REMOTE, SERVER_PORT)).toBe('EADDRNOTAVAIL');
    // Another destination port makes other 4-tuples: the same local ports serve again.
    const other = h.sockets.socket();
    expect(other.connect(REMOTE, SERVER_PORT + 1)).toBe('EINPROGRESS');
    expect(other.localPort! >= 50000 && other.localPort! <= 50009).toBe(true);
  });

  test('bind() to port 0 picks a free port from the range, skipping ports in use (RFC 6056 §3.1; Linux inet_csk_find_open_port)', () => {
    const h = new Harness({ portRange: { low: 50000, high: 50001 } });
    const a = h.sockets.socket();
    expect(a.bind(LOCAL, 0)).toBeUndefined();
    const b = h.sockets.socket();
    expect(b.bind(LOCAL, 0)).toBeUndefined();
    expect([a.localPort, b.localPort].sort()).toEqual([50000, 50001]);
    expect(h.sockets.socket().bind(LOCAL, 0)).toBe('EADDRINUSE');
  });

  test('connect() skips ports that bind() reserved (Linux __inet_hash_connect)', () => {
    const h = new Harness({ portRange: { low: 50000, high: 50001 } });
    expect(h.sockets.socket().bind(LOCAL, 50000)).toBeUndefined();
    const s = h.sockets.socket();
    expect(s.connect(REMOTE, SERVER_PORT)).toBe('EINPROGRESS');
    expect(s.localPort).toBe(50001);
  });

  test('EADDRNOTAVAIL when every port of a 3-port range holds a connection in TIME-WAIT to the one destination (RFC 9293 §3.10.1; Linux __inet_hash_connect)', () => {
    const p = new Pair(1_000, { portRange: { low: 40000, high: 40002 } });
    const srv = p.b.sockets.socket();
    expect(srv.bind(REMOTE, SERVER_PORT)).toBeUndefined();
    expect(srv.listen(8)).toBeUndefined();
    const used: number[] = [];
    for (let i = 0; i < 3; i++) {
      const c = p.a.sockets.socket();
      expect(c.connect(REMOTE, SERVER_PORT)).toBe('EINPROGRESS');
      p.advance(10);
      const child = srv.accept();
      if (typeof child === 'string') throw new Error(child);
      c.close(); // we close first: our side ends in TIME-WAIT
      p.advance(10);
      child.close();
      p.advance(10);
      expect(c.state).toBe('TIME-WAIT');
      used.push(c.localPort!);
    }
    expect(used.sort()).toEqual([40000, 40001, 40002]);
    expect(p.a.sockets.socket().connect(REMOTE, SERVER_PORT)).toBe('EADDRNOTAVAIL');
    // After 2*MSL the ports are free again.
    p.advance(60_000);
    expect(p.a.sockets.socket().connect(REMOTE, SERVER_PORT)).toBe('EINPROGRESS');
  });

  test('connect() from a bound port whose 4-tuple to that destination is taken fails with EADDRNOTAVAIL (Linux __inet_hash_connect)', () => {
    const c = established();
    const s = c.h.sockets.socket();
    expect(s.setOption('reuseAddress', true)).toBeUndefined();
    expect(s.bind(LOCAL, c.localPort)).toBeUndefined();
    expect(s.connect(REMOTE, SERVER_PORT)).toBe('EADDRNOTAVAIL');
  });
});

describe('bind conflicts (Linux inet_csk_bind_conflict; RFC 9293 §3.10.1)', () => {
  test('a second bind to the same address and port fails with EADDRINUSE, also when one address is the wildcard', () => {
    const h = new Harness();
    expect(h.sockets.socket().bind(LOCAL, 8080)).toBeUndefined();
    expect(h.sockets.socket().bind(LOCAL, 8080)).toBe('EADDRINUSE');
    expect(h.sockets.socket().bind(IpAddr.any(4), 8080)).toBe('EADDRINUSE');
    expect(h.sockets.socket().bind(LOCAL, 8081)).toBeUndefined();
  });

  test('bind to an address that is not ours fails with EADDRNOTAVAIL (RFC 9293 §3.10.1, MUST-46)', () => {
    const h = new Harness();
    expect(h.sockets.socket().bind(IpAddr.from('192.0.2.1'), 8080)).toBe('EADDRNOTAVAIL');
  });

  test('SO_REUSEADDR: two sockets with it may bind the same port while neither listens; once one listens, the other cannot listen and no third may bind (Linux SO_REUSEADDR)', () => {
    const h = new Harness();
    const a = h.sockets.socket();
    const b = h.sockets.socket();
    a.setOption('reuseAddress', true);
    b.setOption('reuseAddress', true);
    expect(a.bind(LOCAL, 8080)).toBeUndefined();
    expect(b.bind(LOCAL, 8080)).toBeUndefined();
    const plain = h.sockets.socket();
    expect(plain.bind(LOCAL, 8080)).toBe('EADDRINUSE'); // both sides need SO_REUSEADDR
    expect(a.listen(5)).toBeUndefined();
    expect(b.listen(5)).toBe('EADDRINUSE');
    const c = h.sockets.socket();
    c.setOption('reuseAddress', true);
    expect(c.bind(LOCAL, 8080)).toBe('EADDRINUSE');
    // Closing the listener frees the port for the next listener.
    a.close();
    expect(b.listen(5)).toBeUndefined();
  });

  test('a port held by a connection in TIME-WAIT can be bound with SO_REUSEADDR but not without (Linux SO_REUSEADDR)', () => {
    const c = established({ side: 'server', setup: (s) => s.setOption('reuseAddress', true) });
    c.s.close();
    c.flush();
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(2) });
    c.send({ flags: 'FIN+ACK', seq: c.p(1), ack: c.u(2) });
    expect(c.state).toBe('TIME-WAIT');
    c.listener!.close();
    expect(c.h.sockets.socket().bind(LOCAL, SERVER_PORT)).toBe('EADDRINUSE');
    const again = c.h.sockets.socket();
    again.setOption('reuseAddress', true);
    expect(again.bind(LOCAL, SERVER_PORT)).toBeUndefined();
    expect(again.listen(5)).toBeUndefined();
    expect(c.state).toBe('TIME-WAIT');
  });

  test('bind after the TIME-WAIT expires succeeds without SO_REUSEADDR (RFC 9293 §3.10.7.4)', () => {
    const c = established({ side: 'server' });
    c.s.close();
    c.flush();
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(2) });
    c.send({ flags: 'FIN+ACK', seq: c.p(1), ack: c.u(2) });
    c.listener!.close();
    expect(c.h.sockets.socket().bind(LOCAL, SERVER_PORT)).toBe('EADDRINUSE');
    c.advance(60_000);
    expect(c.h.sockets.socket().bind(LOCAL, SERVER_PORT)).toBeUndefined();
  });
});

describe('demultiplexing (RFC 9293 §3.10.7)', () => {
  test('a segment goes to the connection with the exact 4-tuple before any listener on its port (RFC 9293 §3.10.7)', () => {
    const c = established({ side: 'server' });
    // Same local port, same peer address, the connection's remote port: the connection takes it.
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: bytes(4) })).toEqual([out('ACK', c.u(1), c.p(5))]);
    expect(drain(c.s).data).toEqual(Array.from(bytes(4)));
    // Another remote port: the listener answers the SYN.
    c.h.peerSends({ flags: 'SYN', seq: 9, srcPort: CLIENT_PORT + 1, dstPort: SERVER_PORT });
    expect(c.h.takeSent().map((s) => [s.seg.flags, s.seg.dstPort])).toEqual([[0x12, CLIENT_PORT + 1]]);
    // Another remote address with the same remote port is another 4-tuple: an ACK there meets the listener's RST.
    c.h.ip.addrs.push(LOCAL2);
    expect(inject(c.h, REMOTE2, LOCAL, { flags: 'ACK', seq: c.p(1), ack: c.u(1), srcPort: CLIENT_PORT, dstPort: SERVER_PORT }))
      .toEqual([`10.0.0.1 ${out('RST', c.u(1))}`]);
    expect(c.state).toBe('ESTABLISHED');
  });

  test('listeners on two addresses of one port each take only their own address (RFC 9293 §3.10.1 MUST-42)', () => {
    const h = new Harness();
    h.ip.addrs.push(LOCAL2);
    const a = h.sockets.socket();
    const b = h.sockets.socket();
    expect(a.bind(LOCAL, SERVER_PORT)).toBeUndefined();
    expect(b.bind(LOCAL2, SERVER_PORT)).toBeUndefined();
    expect(a.listen(5)).toBeUndefined();
    expect(b.listen(5)).toBeUndefined();
    expect(inject(h, REMOTE, LOCAL2, { flags: 'SYN', seq: 1, srcPort: CLIENT_PORT, dstPort: SERVER_PORT })[0]).toMatch(/^10\.0\.0\.9 SYN\+ACK/);
    expect(inject(h, REMOTE, LOCAL, { flags: 'SYN', seq: 1, srcPort: CLIENT_PORT, dstPort: SERVER_PORT })[0]).toMatch(/^10\.0\.0\.1 SYN\+ACK/);
    const [la, lb] = [...h.tcp.allListeners()];
    expect([la!.synQueue.size, lb!.synQueue.size]).toEqual([1, 1]);
  });

  test('a wildcard listener takes every local address; a SYN-ACK leaves from the address the SYN was sent to (RFC 9293 §3.10.7.2, MUST-45)', () => {
    const h = new Harness();
    h.ip.addrs.push(LOCAL2);
    const w = h.sockets.socket();
    expect(w.bind(IpAddr.any(4), SERVER_PORT)).toBeUndefined();
    expect(w.listen(5)).toBeUndefined();
    expect(inject(h, REMOTE, LOCAL2, { flags: 'SYN', seq: 1, srcPort: CLIENT_PORT, dstPort: SERVER_PORT })[0]).toMatch(/^10\.0\.0\.9 SYN\+ACK/);
    expect(inject(h, REMOTE, LOCAL, { flags: 'SYN', seq: 1, srcPort: CLIENT_PORT, dstPort: SERVER_PORT })[0]).toMatch(/^10\.0\.0\.1 SYN\+ACK/);
  });

  test('a listener on (address, port) is preferred to a wildcard listener on the same port (Linux inet_lookup_listener scoring)', () => {
    // The socket API refuses this pair as Linux does without SO_REUSEPORT, so the two listeners are
    // made through the TCP layer directly to observe the lookup order.
    const h = new Harness();
    h.ip.addrs.push(LOCAL2);
    const opts = defaultSocketOptions(h.tcp.config);
    const wild: Binding = { addr: IpAddr.any(4), port: SERVER_PORT, reuseAddr: true, listening: false };
    const spec: Binding = { addr: LOCAL2, port: SERVER_PORT, reuseAddr: true, listening: false };
    const lw = h.tcp.listen(wild, 5, opts);
    const ls = h.tcp.listen(spec, 5, opts);
    if (typeof lw === 'string' || typeof ls === 'string') throw new Error('listen');
    expect(h.tcp.findListener(LOCAL2, SERVER_PORT)).toBe(ls);
    expect(h.tcp.findListener(LOCAL, SERVER_PORT)).toBe(lw);
    inject(h, REMOTE, LOCAL2, { flags: 'SYN', seq: 1, srcPort: CLIENT_PORT, dstPort: SERVER_PORT });
    inject(h, REMOTE, LOCAL, { flags: 'SYN', seq: 1, srcPort: CLIENT_PORT, dstPort: SERVER_PORT });
    expect([ls.synQueue.size, lw.synQueue.size]).toEqual([1, 1]);
    expect(h.tcp.findListener(LOCAL, SERVER_PORT + 1)).toBeUndefined();
  });
});
