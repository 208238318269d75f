// Transcripts of a listener's two queues, as Linux keeps them (RFC 9293 §3.10.7.2 leaves queue
// limits to the implementation): the SYN queue of half-open children and the accept queue of
// established ones, their limits from listen()'s backlog, overflow handling, and close().
import { describe, expect, test } from 'vitest';
import { Harness, LOCAL, REMOTE } from '../util/tcp-harness.js';
import type { TcpSocket } from '../../src/api/socket.js';
import { flagsToString } from '../../src/wire/tcp.js';
import { CLIENT_PORT, SERVER_PORT, Conn, bytes, drain, listening, out, synReceived } from './fixtures.js';

/** The peer at `port` sends a SYN; returns the connection (our ISS from the SYN-ACK) or undefined if nothing came back. */
function syn(h: Harness, listener: TcpSocket, port: number, iss = 1000 * port): Conn | undefined {
  h.peerSends({ flags: 'SYN', seq: iss, srcPort: port, dstPort: SERVER_PORT });
  const sent = h.takeSent();
  if (sent.length === 0) return undefined;
  expect(sent.map((s) => flagsToString(s.seg.flags))).toEqual(['SYN+ACK']);
  const c = new Conn(h, SERVER_PORT, port, sent[0]!.seg.seq, iss, 65535);
  c.listener = listener;
  return c;
}

/** The peer completes the handshake with its ACK; returns what we sent in reply. */
function ack(c: Conn): string[] {
  return c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1) });
}

describe('passive OPEN (RFC 9293 §3.10.1)', () => {
  test('CLOSED -> LISTEN: before listen() a SYN to the port meets a RST; after it, a SYN-ACK (RFC 9293 §3.10.1 passive OPEN, §3.10.7.1)', () => {
    const h = new Harness();
    const s = h.sockets.socket();
    expect(s.bind(LOCAL, SERVER_PORT)).toBeUndefined();
    expect(s.state).toBe('CLOSED');
    h.peerSends({ flags: 'SYN', seq: 7, srcPort: CLIENT_PORT, dstPort: SERVER_PORT });
    expect(h.takeSummary()).toEqual([out('RST+ACK', 0, 8)]);
    expect(s.listen(5)).toBeUndefined();
    expect(s.state).toBe('LISTEN');
    h.peerSends({ flags: 'SYN', seq: 7, srcPort: CLIENT_PORT, dstPort: SERVER_PORT });
    expect(h.takeSent().map((x) => flagsToString(x.seg.flags))).toEqual(['SYN+ACK']);
  });

  test('LISTEN -> SYN-SENT is not offered: connect() on a listening socket fails with EINVAL (RFC 9293 §3.10.1; Deviation: as POSIX and Linux inet_stream_connect)', () => {
    const { listener } = listening();
    expect(listener.connect(REMOTE, 9999)).toBe('EINVAL');
    expect(listener.state).toBe('LISTEN');
  });
});

describe('accept queue (Linux sk_acceptq_is_full; RFC 9293 §3.10.7.2)', () => {
  test('LISTEN: the accept queue holds backlog + 1 children; a SYN while it is full is dropped and counted in ListenOverflows (Linux tcp_conn_request)', () => {
    const { h, listener } = listening({ backlog: 2 });
    for (let i = 0; i < 3; i++) {
      const c = syn(h, listener, CLIENT_PORT + i)!;
      expect(ack(c)).toEqual([]);
      expect(c.state).toBe('ESTABLISHED');
    }
    expect(syn(h, listener, CLIENT_PORT + 3)).toBeUndefined();
    expect(h.tcp.counters.ListenOverflows).toBe(1);
    expect(h.tcp.counters.ListenDrops).toBe(1);
    // accept() makes room: the next SYN is answered.
    expect(typeof listener.accept()).not.toBe('string');
    expect(syn(h, listener, CLIENT_PORT + 3)).toBeDefined();
  });

  test('SYN-RECEIVED: with the accept queue full the completing ACK is dropped, the SYN-ACK retransmitted later, and the re-sent ACK completes once there is room (Linux tcp_check_req, ListenOverflows)', () => {
    const { h, listener } = listening({ backlog: 2 });
    for (let i = 0; i < 2; i++) expect(ack(syn(h, listener, CLIENT_PORT + i)!)).toEqual([]);
    const c3 = syn(h, listener, CLIENT_PORT + 2)!;
    const c4 = syn(h, listener, CLIENT_PORT + 3)!;
    expect(ack(c3)).toEqual([]); // the third child fills the queue (backlog + 1)
    expect(ack(c4)).toEqual([]); // dropped: no room
    expect(c4.state).toBe('SYN-RECEIVED');
    expect(h.tcp.counters.ListenOverflows).toBe(1);
    expect(c4.advance(1000)).toEqual([out('SYN+ACK', c4.u(0), c4.p(1))]);
    expect(ack(c4)).toEqual([]);
    expect(c4.state).toBe('SYN-RECEIVED');
    expect(h.tcp.counters.ListenOverflows).toBe(2);
    expect(typeof listener.accept()).not.toBe('string');
    expect(ack(c4)).toEqual([]);
    expect(c4.state).toBe('ESTABLISHED');
    const accepted: number[] = [];
    for (;;) {
      const s = listener.accept();
      if (typeof s === 'string') break;
      accepted.push(s.remotePort!);
    }
    expect(accepted).toEqual([CLIENT_PORT + 1, CLIENT_PORT + 2, CLIENT_PORT + 3]);
  });

  test('SYN-RECEIVED: with abortOnOverflow the completing ACK of a full accept queue gets <SEQ=SEG.ACK><CTL=RST> and the child is dropped (Linux tcp_abort_on_overflow, tcp_check_req embryonic_reset)', () => {
    const { h, listener } = listening({ backlog: 2, cfg: { abortOnOverflow: true } });
    for (let i = 0; i < 2; i++) expect(ack(syn(h, listener, CLIENT_PORT + i)!)).toEqual([]);
    const c3 = syn(h, listener, CLIENT_PORT + 2)!;
    const c4 = syn(h, listener, CLIENT_PORT + 3)!;
    expect(ack(c3)).toEqual([]);
    expect(ack(c4)).toEqual([out('RST', c4.u(1))]);
    expect(c4.state).toBe('CLOSED');
    expect(h.tcp.counters.ListenOverflows).toBe(1);
    expect(c4.advance(100_000)).toEqual([]); // no SYN-ACK retransmissions for it
    expect(listener.state).toBe('LISTEN');
  });

  test('LISTEN: listen() on a listening socket changes its backlog (Linux inet_listen)', () => {
    const { h, listener } = listening({ backlog: 0 });
    expect(ack(syn(h, listener, CLIENT_PORT)!)).toEqual([]);
    expect(syn(h, listener, CLIENT_PORT + 1)).toBeUndefined();
    expect(listener.listen(4)).toBeUndefined();
    expect(syn(h, listener, CLIENT_PORT + 1)).toBeDefined();
  });
});

describe('SYN queue (Linux inet_csk_reqsk_queue_is_full, SYN cookies off)', () => {
  test('LISTEN: with backlog half-open children a further SYN is dropped silently and counted in ListenDrops (Linux tcp_conn_request)', () => {
    // SYN cookies (on by default when the queue is full, as Linux) are tested in test/defences.
    const { h, listener } = listening({ backlog: 2, cfg: { syncookies: 0 } });
    expect(syn(h, listener, CLIENT_PORT)).toBeDefined();
    expect(syn(h, listener, CLIENT_PORT + 1)).toBeDefined();
    expect(syn(h, listener, CLIENT_PORT + 2)).toBeUndefined();
    expect(h.tcp.counters.ListenDrops).toBe(1);
    expect(h.tcp.counters.ListenOverflows).toBe(0);
  });

  test('LISTEN: a half-open child that completes frees its SYN queue slot (Linux reqsk_queue)', () => {
    const { h, listener } = listening({ backlog: 2 });
    const a = syn(h, listener, CLIENT_PORT)!;
    syn(h, listener, CLIENT_PORT + 1);
    expect(ack(a)).toEqual([]);
    expect(syn(h, listener, CLIENT_PORT + 2)).toBeDefined();
  });

  test('LISTEN: a SYN for a 4-tuple that already has a child is that child\'s business, not a second child (RFC 9293 §3.10.7; Linux tcp_check_req)', () => {
    const c = synReceived();
    expect(c.send({ flags: 'SYN', seq: c.p(0) })).toEqual([out('SYN+ACK', c.u(0), c.p(1))]);
    const l = [...c.h.tcp.allListeners()][0]!;
    expect(l.synQueue.size).toBe(1);
  });

  test('LISTEN: text in a SYN is not acknowledged; the peer sends it again after the handshake (RFC 9293 §3.10.7.2; Deviation: like Linux without Fast Open)', () => {
    const { h, listener } = listening();
    h.peerSends({ flags: 'SYN', seq: 100, srcPort: CLIENT_PORT, dstPort: SERVER_PORT, data: bytes(20) });
    const sa = h.takeSent();
    expect(sa.map((s) => [flagsToString(s.seg.flags), s.seg.ack])).toEqual([['SYN+ACK', 101]]);
    const c = new Conn(h, SERVER_PORT, CLIENT_PORT, sa[0]!.seg.seq, 100, 65535);
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: bytes(20) })).toEqual([out('ACK', c.u(1), c.p(21))]);
    const child = listener.accept();
    if (typeof child === 'string') throw new Error(child);
    expect(drain(child).data).toEqual(Array.from(bytes(20)));
  });
});

describe('closing a listener (RFC 9293 §3.10.4; Linux inet_csk_listen_stop)', () => {
  test('LISTEN -> CLOSED: close() resets established children nobody accepted and drops half-open ones silently (Linux inet_csk_listen_stop)', () => {
    const { h, listener } = listening({ backlog: 8 });
    const a = syn(h, listener, CLIENT_PORT)!;
    const b = syn(h, listener, CLIENT_PORT + 1)!;
    const half = syn(h, listener, CLIENT_PORT + 2)!;
    ack(a);
    ack(b);
    listener.close();
    expect(h.takeSummary().sort()).toEqual([out('RST+ACK', a.u(1), a.p(1)), out('RST+ACK', b.u(1), b.p(1))].sort());
    expect(a.state).toBe('CLOSED');
    expect(b.state).toBe('CLOSED');
    expect(half.state).toBe('CLOSED');
    expect(h.tcp.counters.TCPAbortOnClose).toBe(2);
    // The half-open child's peer finishes its handshake: nothing is there any more.
    expect(ack(half)).toEqual([out('RST', half.u(1))]);
    expect(half.advance(100_000)).toEqual([]);
    // And new SYNs find the port closed.
    h.peerSends({ flags: 'SYN', seq: 5, srcPort: CLIENT_PORT + 9, dstPort: SERVER_PORT });
    expect(h.takeSummary()).toEqual([out('RST+ACK', 0, 6)]);
  });

  test('closing a listener leaves children that were already accepted alone (Linux inet_csk_listen_stop)', () => {
    const { h, listener } = listening();
    const a = syn(h, listener, CLIENT_PORT)!;
    ack(a);
    const child = listener.accept();
    if (typeof child === 'string') throw new Error(child);
    listener.close();
    expect(h.takeSummary()).toEqual([]);
    expect(child.state).toBe('ESTABLISHED');
    expect(child.send(bytes(3))).toBe(3);
    h.flush();
    expect(h.takeSummary()).toEqual([out('PSH+ACK', a.u(1), a.p(1), 3)]);
  });
});
