// TCP Fast Open (RFC 7413): transcripts of the server (cookies, data in the SYN, the pending
// queue, the experimental option) and of the client (cookie request, cache, data in the SYN,
// fallback), and the scenario showing the round trip saved.
import { describe, expect, test } from 'vitest';
import { Harness, LOCAL, REMOTE, type Sent } from '../util/tcp-harness.js';
import { Ready } from '../../src/api/socket.js';
import type { TcpSocket } from '../../src/api/socket.js';
import { fastOpenCookie } from '../../src/tcp/fastopen.js';
import { flagsToString } from '../../src/wire/tcp.js';
import { fastOpen } from '../../src/sim/scenarios/defences.js';
import { CLIENT_PORT, Conn, PEER_ISS, SERVER_PORT, bytes, drain, listening, out } from '../tcp/fixtures.js';

const REQUEST = new Uint8Array(0);
const SERVER = { cfg: { fastOpen: 0x3 }, setup: (s: TcpSocket) => s.setOption('fastOpen', 16) };

/** The peer sends a SYN from `port`; returns our reply. */
function peerSyn(h: Harness, seqNo: number, options: object, data?: Uint8Array, port = CLIENT_PORT): Sent {
  h.peerSends({ flags: 'SYN', seq: seqNo, srcPort: port, dstPort: SERVER_PORT, options, ...(data !== undefined ? { data } : {}) });
  const sent = h.takeSent();
  expect(sent.length).toBe(1);
  return sent[0]!;
}

describe('Fast Open server (RFC 7413 §4.1.2, §4.2.2; Linux tcp_try_fastopen)', () => {
  test('LISTEN: a cookie request (empty option 34) gets an 8-byte cookie in the SYN-ACK, counted in TCPFastOpenCookieReqd (RFC 7413 §4.1.2)', () => {
    const { h } = listening(SERVER);
    const sa = peerSyn(h, 1000, { fastOpen: REQUEST });
    expect(flagsToString(sa.seg.flags)).toBe('SYN+ACK');
    expect(Array.from(sa.seg.options.fastOpen ?? [])).toEqual(Array.from(fastOpenCookie(h.tcp.isnGenerator, REMOTE, LOCAL)));
    expect(sa.seg.options.fastOpen?.length).toBe(8);
    expect(sa.seg.options.fastOpenExperimental).toBeUndefined();
    expect(h.tcp.counters.TCPFastOpenCookieReqd).toBe(1);
  });

  test('LISTEN -> SYN-RECEIVED: a SYN with a valid cookie and data is acknowledged with its data, and the child is accepted before the handshake completes, its data readable (RFC 7413 §4.2.2; Linux tcp_fastopen_create_child)', () => {
    const { h, listener } = listening(SERVER);
    const cookie = fastOpenCookie(h.tcp.isnGenerator, REMOTE, LOCAL);
    const sa = peerSyn(h, 1000, { fastOpen: cookie }, bytes(20));
    expect(sa.seg.ack).toBe(1021);
    expect(sa.seg.options.fastOpen).toBeUndefined();
    const child = listener.accept();
    if (typeof child === 'string') throw new Error(child);
    expect(child.state).toBe('SYN-RECEIVED');
    expect(drain(child).data).toEqual(Array.from(bytes(20)));
    expect([h.tcp.counters.TCPFastOpenPassive, h.tcp.counters.PassiveOpens]).toEqual([1, 1]);
    // The child may answer at once, right behind its SYN-ACK (one round trip after the SYN).
    expect(child.readiness() & Ready.WRITABLE).toBe(Ready.WRITABLE);
    const iss = sa.seg.seq;
    expect(child.send(bytes(5))).toBe(5);
    h.flush();
    expect(h.takeSummary()).toEqual([out('PSH+ACK', iss + 1, 1021, 5)]);
    const l = [...h.tcp.allListeners()][0]!;
    expect(l.fastOpenPending).toBe(1);
    // The client's ACK of the SYN-ACK and the response completes the handshake.
    const c = new Conn(h, SERVER_PORT, CLIENT_PORT, iss, 1000, 65535);
    expect(c.send({ flags: 'ACK', seq: c.p(21), ack: c.u(6) })).toEqual([]);
    expect(child.state).toBe('ESTABLISHED');
    expect(l.fastOpenPending).toBe(0);
  });

  test('LISTEN: a cookie that is not valid: the SYN-ACK acknowledges only the SYN and carries the valid cookie; the data is not taken (RFC 7413 §4.2.2; TCPFastOpenPassiveFail)', () => {
    const { h, listener } = listening(SERVER);
    const sa = peerSyn(h, 1000, { fastOpen: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) }, bytes(20));
    expect(sa.seg.ack).toBe(1001);
    expect(Array.from(sa.seg.options.fastOpen ?? [])).toEqual(Array.from(fastOpenCookie(h.tcp.isnGenerator, REMOTE, LOCAL)));
    expect(h.tcp.counters.TCPFastOpenPassiveFail).toBe(1);
    expect(listener.accept()).toBe('EAGAIN');
    // The ordinary handshake follows; the client sends its data again.
    const c = new Conn(h, SERVER_PORT, CLIENT_PORT, sa.seg.seq, 1000, 65535);
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: bytes(20) })).toEqual([out('ACK', c.u(1), c.p(21))]);
    const child = listener.accept();
    if (typeof child === 'string') throw new Error(child);
    expect(drain(child).data).toEqual(Array.from(bytes(20)));
  });

  test('LISTEN: the experimental option (kind 254, ExID 0xF989) is understood and answered in the same form (RFC 7413 §4.1.1; RFC 6994)', () => {
    const { h, listener } = listening(SERVER);
    const sa = peerSyn(h, 1000, { fastOpen: REQUEST, fastOpenExperimental: true });
    expect(sa.seg.options.fastOpenExperimental).toBe(true);
    expect(sa.seg.options.fastOpen?.length).toBe(8);
    const cookie = sa.seg.options.fastOpen!;
    peerSyn(h, 5000, { fastOpen: cookie, fastOpenExperimental: true }, bytes(3), CLIENT_PORT + 1);
    const child = listener.accept();
    expect(typeof child).not.toBe('string');
  });

  test('LISTEN: beyond the TCP_FASTOPEN queue length Fast Open is refused (no cookie, data not taken) until a pending child completes (RFC 7413 §5.1; Linux tcp_fastopen_queue_check)', () => {
    const { h, listener } = listening({ ...SERVER, setup: (s: TcpSocket) => s.setOption('fastOpen', 1) });
    const cookie = fastOpenCookie(h.tcp.isnGenerator, REMOTE, LOCAL);
    const first = peerSyn(h, 1000, { fastOpen: cookie }, bytes(4));
    expect(first.seg.ack).toBe(1005);
    const second = peerSyn(h, 2000, { fastOpen: cookie }, bytes(4), CLIENT_PORT + 1);
    expect(second.seg.ack).toBe(2001);
    expect(second.seg.options.fastOpen).toBeUndefined();
    expect(h.tcp.counters.TCPFastOpenListenOverflow).toBe(1);
    // The first completes its handshake: its place is free again.
    const c = new Conn(h, SERVER_PORT, CLIENT_PORT, first.seg.seq, 1000, 65535);
    c.send({ flags: 'ACK', seq: c.p(5), ack: c.u(1) });
    expect(peerSyn(h, 3000, { fastOpen: cookie }, bytes(4), CLIENT_PORT + 2).seg.ack).toBe(3005);
    expect(listener.getOption('fastOpen')).toBe(1);
  });

  test('LISTEN: without server Fast Open (tcp_fastopen lacking 0x2, or no TCP_FASTOPEN on the listener) a cookie request is ignored (Linux tcp_try_fastopen)', () => {
    const a = listening({ setup: (s: TcpSocket) => s.setOption('fastOpen', 16) });
    expect(peerSyn(a.h, 1000, { fastOpen: REQUEST }).seg.options.fastOpen).toBeUndefined();
    const b = listening({ cfg: { fastOpen: 0x3 } });
    expect(peerSyn(b.h, 1000, { fastOpen: REQUEST }).seg.options.fastOpen).toBeUndefined();
    const c = listening({ cfg: { fastOpen: 0x403 } }); // TFO_SERVER_WO_SOCKOPT1: every listener, queue = backlog
    expect(peerSyn(c.h, 1000, { fastOpen: REQUEST }).seg.options.fastOpen?.length).toBe(8);
  });

  test('SYN-RECEIVED: a Fast Open child whose SYN-ACK is never acknowledged gets one retry more than tcp_synack_retries and then fails with ETIMEDOUT, reported to the accepted socket (Linux tcp_fastopen_synack_timer)', () => {
    const { h, listener } = listening(SERVER);
    peerSyn(h, 1000, { fastOpen: fastOpenCookie(h.tcp.isnGenerator, REMOTE, LOCAL) }, bytes(4));
    const child = listener.accept();
    if (typeof child === 'string') throw new Error(child);
    h.advance(200_000);
    expect(h.takeSent().filter((s) => flagsToString(s.seg.flags) === 'SYN+ACK').length).toBe(6);
    expect(child.state).toBe('CLOSED');
    expect(child.takeError()).toBe('ETIMEDOUT');
    expect([...h.tcp.allListeners()][0]!.fastOpenPending).toBe(0);
  });

  test('LISTEN -> CLOSED: closing the listener resets a Fast Open child nobody accepted, and its queue place is released (Linux inet_csk_listen_stop)', () => {
    const { h, listener } = listening(SERVER);
    const sa = peerSyn(h, 1000, { fastOpen: fastOpenCookie(h.tcp.isnGenerator, REMOTE, LOCAL) }, bytes(4));
    const l = [...h.tcp.allListeners()][0]!;
    expect(l.fastOpenPending).toBe(1);
    listener.close();
    expect(h.takeSummary()).toEqual([out('RST+ACK', sa.seg.seq + 1, 1005)]);
    expect(l.fastOpenPending).toBe(0);
    expect(h.tcp.connectionCount).toBe(0);
  });
});

/** A client socket of `h` connecting to REMOTE:80 with TCP_FASTOPEN_CONNECT. */
function tfoClient(h: Harness): TcpSocket {
  const s = h.sockets.socket();
  expect(s.setOption('fastOpenConnect', true)).toBeUndefined();
  return s;
}

/** Gets a cookie into `h`'s cache: one connection asks for it, the peer gives `cookie`. */
function learnCookie(h: Harness, cookie: Uint8Array, experimental = false): void {
  const s = tfoClient(h);
  expect(s.connect(REMOTE, SERVER_PORT)).toBe('EINPROGRESS');
  h.flush();
  const syn = h.takeSent()[0]!.seg;
  const c = new Conn(h, syn.srcPort, SERVER_PORT, syn.seq, PEER_ISS, 65535);
  c.send({ flags: 'SYN+ACK', seq: c.p(0), ack: c.u(1), options: { mss: 1460, fastOpen: cookie, fastOpenExperimental: experimental } });
  s.abort();
  h.takeSent();
}

const COOKIE = Uint8Array.of(9, 8, 7, 6, 5, 4, 3, 2);

describe('Fast Open client (RFC 7413 §4.1.3, §4.2.1, §4.2.2; Linux tcp_fastopen_cookie_check, tcp_rcv_fastopen_synack)', () => {
  test('CLOSED -> SYN-SENT: without a cookie, TCP_FASTOPEN_CONNECT sends a SYN with a cookie request and no data; data written meanwhile follows the handshake', () => {
    const h = new Harness();
    const s = tfoClient(h);
    expect(s.connect(REMOTE, SERVER_PORT)).toBe('EINPROGRESS');
    expect(s.send(bytes(10))).toBe(10);
    h.flush();
    const syn = h.takeSent()[0]!.seg;
    expect(flagsToString(syn.flags)).toBe('SYN');
    expect(syn.options.fastOpen?.length).toBe(0);
    expect(syn.payload.length).toBe(0);
    const c = new Conn(h, syn.srcPort, SERVER_PORT, syn.seq, PEER_ISS, 65535);
    expect(c.send({ flags: 'SYN+ACK', seq: c.p(0), ack: c.u(1), options: { fastOpen: COOKIE } })).toEqual([out('PSH+ACK', c.u(1), c.p(1), 10)]);
    expect(Array.from(h.tcp.fastOpenCache.get(LOCAL, REMOTE)?.cookie ?? [])).toEqual(Array.from(COOKIE));
    expect(h.tcp.counters.TCPFastOpenActive).toBe(0);
  });

  test('SYN-SENT: with a cookie cached, TCP_FASTOPEN_CONNECT holds the SYN until the first write, which it carries with the cookie; the SYN-ACK acknowledges the data (RFC 7413 §4.2.1; TCPFastOpenActive)', () => {
    const h = new Harness();
    learnCookie(h, COOKIE);
    const s = tfoClient(h);
    expect(s.connect(REMOTE, SERVER_PORT)).toBe('EINPROGRESS');
    h.flush();
    expect(h.takeSent()).toEqual([]);
    expect(s.readiness() & Ready.WRITABLE).toBe(Ready.WRITABLE);
    expect(s.send(bytes(100))).toBe(100);
    h.flush();
    const syn = h.takeSent()[0]!.seg;
    expect(flagsToString(syn.flags)).toBe('SYN');
    expect(Array.from(syn.options.fastOpen ?? [])).toEqual(Array.from(COOKIE));
    expect(Array.from(syn.payload)).toEqual(Array.from(bytes(100)));
    const c = new Conn(h, syn.srcPort, SERVER_PORT, syn.seq, PEER_ISS, 65535);
    expect(c.send({ flags: 'SYN+ACK', seq: c.p(0), ack: c.u(101) })).toEqual([out('ACK', c.u(101), c.p(1))]);
    expect(s.state).toBe('ESTABLISHED');
    expect(h.tcp.counters.TCPFastOpenActive).toBe(1);
    expect(c.advance(5000)).toEqual([]); // nothing to retransmit
    expect(s.writableLength).toBe(16 * 1024);
  });

  test('SYN-SENT: a SYN-ACK that acknowledges only the SYN makes the client send the data again at once (RFC 7413 §4.2.2 fallback; TCPFastOpenActiveFail)', () => {
    const h = new Harness();
    learnCookie(h, COOKIE);
    const s = tfoClient(h);
    s.connect(REMOTE, SERVER_PORT);
    s.send(bytes(50));
    h.flush();
    const syn = h.takeSent()[0]!.seg;
    expect(syn.payload.length).toBe(50);
    const c = new Conn(h, syn.srcPort, SERVER_PORT, syn.seq, PEER_ISS, 65535);
    expect(c.send({ flags: 'SYN+ACK', seq: c.p(0), ack: c.u(1) })).toEqual([out('PSH+ACK', c.u(1), c.p(1), 50)]);
    expect(h.tcp.counters.TCPFastOpenActiveFail).toBe(1);
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(51) })).toEqual([]);
    expect(s.writableLength).toBe(16 * 1024);
  });

  test('SYN-SENT: a refused cookie is replaced by the one the SYN-ACK brings, used on the next connection (RFC 7413 §4.1.3)', () => {
    const h = new Harness();
    learnCookie(h, COOKIE);
    const s = tfoClient(h);
    s.connect(REMOTE, SERVER_PORT);
    s.send(bytes(5));
    h.flush();
    const syn = h.takeSent()[0]!.seg;
    const fresh = Uint8Array.of(1, 1, 2, 3, 5, 8, 13, 21);
    const c = new Conn(h, syn.srcPort, SERVER_PORT, syn.seq, PEER_ISS, 65535);
    c.send({ flags: 'SYN+ACK', seq: c.p(0), ack: c.u(1), options: { fastOpen: fresh } });
    expect(Array.from(h.tcp.fastOpenCache.get(LOCAL, REMOTE)!.cookie!)).toEqual(Array.from(fresh));
  });

  test('sendto(MSG_FASTOPEN): without a cookie it returns EINPROGRESS and queues nothing; with one it returns what the SYN carries (Linux tcp_sendmsg_fastopen)', () => {
    const h = new Harness();
    const a = h.sockets.socket();
    expect(a.sendTo(bytes(10), REMOTE, SERVER_PORT)).toBe('EINPROGRESS');
    h.flush();
    const syn = h.takeSent()[0]!.seg;
    expect([syn.options.fastOpen?.length, syn.payload.length, a.connection!.sndBuf.length]).toEqual([0, 0, 0]);
    const h2 = new Harness();
    learnCookie(h2, COOKIE);
    const b = h2.sockets.socket();
    expect(b.sendTo(bytes(3000), REMOTE, SERVER_PORT)).toBe(1420); // the server's MSS 1460 less 40 bytes of options
    h2.flush();
    expect(h2.takeSent()[0]!.seg.payload.length).toBe(1420);
  });

  test('the experimental option form learnt from a server is used with it (RFC 7413 §4.1.1; Linux syn_fastopen_exp)', () => {
    const h = new Harness();
    learnCookie(h, COOKIE, true);
    const s = tfoClient(h);
    s.connect(REMOTE, SERVER_PORT);
    s.send(bytes(5));
    h.flush();
    const syn = h.takeSent()[0]!.seg;
    expect(syn.options.fastOpenExperimental).toBe(true);
    expect(Array.from(syn.options.fastOpen ?? [])).toEqual(Array.from(COOKIE));
  });

  test('SYN-SENT: a retransmitted SYN carries the cookie but not the data; a SYN-ACK without the data acknowledged counts a SYN-data loss, and after two in a row the client stops using Fast Open with that server for a while (Linux tcp_fastopen_cache_set)', () => {
    const h = new Harness();
    learnCookie(h, COOKIE);
    for (let round = 0; round < 2; round++) {
      const s = tfoClient(h);
      s.connect(REMOTE, SERVER_PORT);
      s.send(bytes(5));
      h.flush();
      const syn = h.takeSent()[0]!.seg;
      expect(syn.payload.length).toBe(5);
      h.advance(1000);
      const again = h.takeSent()[0]!.seg;
      expect([flagsToString(again.flags), again.payload.length, again.options.fastOpen?.length]).toEqual(['SYN', 0, 8]);
      const c = new Conn(h, syn.srcPort, SERVER_PORT, syn.seq, PEER_ISS, 65535);
      expect(c.send({ flags: 'SYN+ACK', seq: c.p(0), ack: c.u(1) })).toEqual([out('PSH+ACK', c.u(1), c.p(1), 5)]);
      s.abort();
      h.takeSent();
    }
    expect(h.tcp.fastOpenCache.get(LOCAL, REMOTE)!.synLoss).toBe(2);
    const s = tfoClient(h);
    s.connect(REMOTE, SERVER_PORT);
    s.send(bytes(5));
    h.flush();
    const syn = h.takeSent()[0]!.seg;
    expect([syn.options.fastOpen, syn.payload.length]).toEqual([undefined, 0]);
  });

  test('socket options: TCP_FASTOPEN_CONNECT only before connecting and only with client Fast Open enabled; TCP_FASTOPEN not on a connected socket (Linux do_tcp_setsockopt)', () => {
    const h = new Harness({ fastOpen: 0 });
    expect(h.sockets.socket().setOption('fastOpenConnect', true)).toBe('EOPNOTSUPP');
    expect(h.sockets.socket().sendTo(bytes(1), REMOTE, SERVER_PORT)).toBe('EOPNOTSUPP');
    const h2 = new Harness();
    const s = h2.sockets.socket();
    s.connect(REMOTE, SERVER_PORT);
    expect(s.setOption('fastOpenConnect', true)).toBe('EINVAL');
    expect(s.setOption('fastOpen', 5)).toBe('EINVAL');
  });
});

describe('Fast Open between two stacks (RFC 7413 §6: one round trip saved)', () => {
  test('the second request gets its first response byte after 1 RTT instead of 2', () => {
    const r = fastOpen();
    const f = r.facts;
    console.log(`TCP Fast Open, RTT ${f.rttMs} ms: first request ${f.firstTtfbMs} ms to the first response byte (${f.firstRtts} RTT, ` +
      `cookie requested), second ${f.secondTtfbMs} ms (${f.secondRtts} RTT, ${f.secondSynData} bytes in the SYN)`);
    expect(f.firstRtts).toBe(2);
    expect(f.secondRtts).toBe(1);
    expect(f.TCPFastOpenActive).toBe(1);
    expect(f.TCPFastOpenPassive).toBe(1);
    expect(f.TCPFastOpenCookieReqd).toBe(1);
  });
});
