// Transcripts of resets (RFC 9293 §3.5.2, §3.5.3, §3.10.7): what a segment to no connection gets,
// unacceptable ACKs in SYN-SENT and SYN-RECEIVED, RST handling per state, aborts and the
// resets Linux sends on close, and how ECONNREFUSED / ECONNRESET reach the application.
import { describe, expect, test } from 'vitest';
import { Harness } from '../util/tcp-harness.js';
import { Ready } from '../../src/api/socket.js';
import {
  CLIENT_PORT, SERVER_PORT, bytes, closeWait, closing, drain, established, finWait1, finWait2, lastAck, listening, out,
  synReceived, synSent,
} from './fixtures.js';

describe('segments for no connection (RFC 9293 §3.10.7.1, §3.5.2 reset generation)', () => {
  const h = (): Harness => new Harness();
  const to = (hh: Harness, flags: string, seq: number, ack?: number, data?: number): string[] => {
    hh.peerSends({ flags, seq, ack: ack ?? 0, data: data ?? 0, dstPort: 81 });
    return hh.takeSummary();
  };

  test('CLOSED: a SYN to a port with no listener gets <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> (RFC 9293 §3.10.7.1)', () => {
    const hh = h();
    expect(to(hh, 'SYN', 1000)).toEqual([out('RST+ACK', 0, 1001)]);
    expect(hh.tcp.counters.OutRsts).toBe(1);
  });

  test('CLOSED: a segment without ACK carrying data and FIN gets <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> (RFC 9293 §3.10.7.1)', () => {
    const hh = h();
    expect(to(hh, 'FIN', 5000, undefined, 10)).toEqual([out('RST+ACK', 0, 5011)]);
    expect(to(hh, 'SYN', 0xfffffffe, undefined, 5)).toEqual([out('RST+ACK', 0, 4)]);
  });

  test('CLOSED: a segment with ACK gets <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.1)', () => {
    const hh = h();
    expect(to(hh, 'ACK', 1000, 777)).toEqual([out('RST', 777)]);
    expect(to(hh, 'PSH+ACK', 1000, 888, 100)).toEqual([out('RST', 888)]);
    expect(to(hh, 'SYN+ACK', 1000, 999)).toEqual([out('RST', 999)]);
  });

  test('CLOSED: a RST is never answered with a RST (RFC 9293 §3.10.7.1: "An incoming segment containing a RST is discarded")', () => {
    const hh = h();
    expect(to(hh, 'RST', 1000)).toEqual([]);
    expect(to(hh, 'RST+ACK', 1000, 5)).toEqual([]);
    expect(hh.tcp.counters.OutRsts).toBe(0);
  });

  test('SYN-SENT -> CLOSED: a RST acknowledging our SYN refuses the connection; connect() reports ECONNREFUSED once (RFC 9293 §3.10.7.3 second step, MUST-12)', () => {
    const c = synSent();
    expect(c.send({ flags: 'RST+ACK', seq: 0, ack: c.u(1) })).toEqual([]);
    expect(c.state).toBe('CLOSED');
    expect(c.s.readiness() & (Ready.ERROR | Ready.HANGUP)).toBe(Ready.ERROR | Ready.HANGUP);
    expect(c.s.takeError()).toBe('ECONNREFUSED');
    expect(c.s.takeError()).toBeUndefined();
    expect(c.s.recv(new Uint8Array(1))).toBe(0);
    expect(c.s.send(bytes(1))).toBe('EPIPE');
    expect(c.advance(200_000)).toEqual([]); // no more SYNs
  });

  test('two stacks: connect() to a port nobody listens on fails with ECONNREFUSED after one round trip (RFC 9293 §3.10.7.1, §3.10.7.3)', async () => {
    const { Pair, REMOTE } = await import('../util/tcp-harness.js');
    const p = new Pair(10_000);
    const s = p.a.sockets.socket();
    expect(s.connect(REMOTE, 9)).toBe('EINPROGRESS');
    p.advance(30);
    expect(s.state).toBe('CLOSED');
    expect(s.recv(new Uint8Array(1))).toBe('ECONNREFUSED');
    expect(p.log.map((l) => l.summary.split(' ')[0])).toEqual(['SYN', 'RST+ACK']);
  });
});

describe('SYN-SENT (RFC 9293 §3.10.7.3)', () => {
  test('SYN-SENT: a SYN-ACK acking the wrong sequence gets an RST and the socket stays in SYN-SENT (RFC 9293 §3.10.7.3)', () => {
    const c = synSent();
    expect(c.send({ flags: 'SYN+ACK', seq: c.p(0), ack: c.u(9) })).toEqual([out('RST', c.u(9))]);
    expect(c.state).toBe('SYN-SENT');
    expect(c.send({ flags: 'SYN+ACK', seq: c.p(0), ack: c.u(1) })).toEqual([out('ACK', c.u(1), c.p(1))]);
    expect(c.state).toBe('ESTABLISHED');
  });

  test('SYN-SENT: an ACK of ISS itself (SEG.ACK =< ISS) gets <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.3)', () => {
    const c = synSent();
    expect(c.send({ flags: 'ACK', seq: c.p(0), ack: c.u(0) })).toEqual([out('RST', c.u(0))]);
    expect(c.send({ flags: 'ACK', seq: c.p(0), ack: c.u(-100) })).toEqual([out('RST', c.u(-100))]);
    expect(c.state).toBe('SYN-SENT');
  });

  test('SYN-SENT: a RST with an unacceptable ACK is dropped without reply (RFC 9293 §3.10.7.3: "unless the RST bit is set, if so drop the segment")', () => {
    const c = synSent();
    expect(c.send({ flags: 'RST+ACK', seq: 0, ack: c.u(5) })).toEqual([]);
    expect(c.state).toBe('SYN-SENT');
  });

  test('SYN-SENT: a RST without ACK is dropped (RFC 9293 §3.10.7.3 second step; RFC 5961 §3.2)', () => {
    const c = synSent();
    expect(c.send({ flags: 'RST', seq: c.p(0) })).toEqual([]);
    expect(c.state).toBe('SYN-SENT');
  });

  test('SYN-SENT: an acceptable ACK without SYN or RST is dropped (RFC 9293 §3.10.7.3 fifth step)', () => {
    const c = synSent();
    expect(c.send({ flags: 'ACK', seq: c.p(0), ack: c.u(1) })).toEqual([]);
    expect(c.state).toBe('SYN-SENT');
  });
});

describe('SYN-RECEIVED (RFC 9293 §3.10.7.4)', () => {
  test('SYN-RECEIVED: an ACK outside SND.UNA < SEG.ACK =< SND.NXT gets <SEQ=SEG.ACK><CTL=RST> and the child stays (RFC 9293 §3.10.7.4 fifth step)', () => {
    const c = synReceived();
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(5) })).toEqual([out('RST', c.u(5))]);
    expect(c.state).toBe('SYN-RECEIVED');
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(0) })).toEqual([out('RST', c.u(0))]);
    expect(c.state).toBe('SYN-RECEIVED');
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1) })).toEqual([]);
    expect(c.state).toBe('ESTABLISHED');
  });

  test('SYN-RECEIVED -> LISTEN: a RST at RCV.NXT removes a passively opened child; the listener keeps listening and its SYN queue shrinks (RFC 9293 §3.10.7.4 second step)', () => {
    const c = synReceived();
    const l = [...c.h.tcp.allListeners()][0]!;
    expect(l.synQueue.size).toBe(1);
    expect(c.send({ flags: 'RST', seq: c.p(1) })).toEqual([]);
    expect(c.state).toBe('CLOSED');
    expect(l.synQueue.size).toBe(0);
    expect(c.listener!.state).toBe('LISTEN');
    expect(c.listener!.accept()).toBe('EAGAIN');
    expect(c.advance(100_000)).toEqual([]); // no SYN-ACK retransmissions for the dead child
    // The listener still answers the next SYN.
    c.h.peerSends({ flags: 'SYN', seq: 1, srcPort: CLIENT_PORT + 1, dstPort: SERVER_PORT });
    expect(c.h.takeSent().map((s) => s.seg.flags)).toEqual([0x12]);
  });

  test('SYN-RECEIVED (active, simultaneous open): a RST at RCV.NXT refuses the connection (RFC 9293 §3.10.7.4 second step)', () => {
    const c = synSent();
    expect(c.send({ flags: 'SYN', seq: c.p(0) })).toEqual([out('SYN+ACK', c.u(0), c.p(1))]);
    expect(c.send({ flags: 'RST', seq: c.p(1) })).toEqual([]);
    expect(c.state).toBe('CLOSED');
    expect(c.s.takeError()).toBe('ECONNREFUSED');
  });

  test('SYN-RECEIVED -> LISTEN: a new in-window SYN from the peer removes a passively opened child (RFC 9293 §3.10.7.4 fourth step)', () => {
    const c = synReceived();
    c.send({ flags: 'SYN', seq: c.p(10) });
    expect(c.state).toBe('CLOSED');
    expect(c.listener!.state).toBe('LISTEN');
  });
});

describe('LISTEN (RFC 9293 §3.10.7.2)', () => {
  test('LISTEN: a RST is ignored (RFC 9293 §3.10.7.2: "An incoming RST segment could not be valid")', () => {
    const { h } = listening();
    h.peerSends({ flags: 'RST', seq: 1 });
    h.peerSends({ flags: 'RST+ACK', seq: 1, ack: 2 });
    expect(h.takeSummary()).toEqual([]);
  });

  test('LISTEN: any ACK gets <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.2 second check)', () => {
    const { h } = listening();
    h.peerSends({ flags: 'ACK', seq: 1, ack: 12345 });
    h.peerSends({ flags: 'FIN+ACK', seq: 1, ack: 777 });
    h.peerSends({ flags: 'SYN+ACK', seq: 1, ack: 4242 });
    expect(h.takeSummary()).toEqual([out('RST', 12345), out('RST', 777), out('RST', 4242)]);
  });

  test('LISTEN: a segment without SYN, ACK or RST is dropped silently (RFC 9293 §3.10.7.2 fourth step)', () => {
    const { h } = listening();
    h.peerSends({ flags: 'FIN', seq: 1 });
    h.peerSends({ flags: 'PSH', seq: 1, data: 5 });
    expect(h.takeSummary()).toEqual([]);
  });

  test('LISTEN: a SYN that also carries FIN is dropped (Linux tcp_rcv_state_process)', () => {
    const { h } = listening();
    h.peerSends({ flags: 'FIN+SYN', seq: 1 });
    expect(h.takeSummary()).toEqual([]);
  });
});

describe('RST in synchronized states (RFC 9293 §3.10.7.4 second step)', () => {
  test('ESTABLISHED -> CLOSED: a RST at RCV.NXT reports ECONNRESET exactly once, then recv() returns 0 and send() EPIPE (RFC 9293 §3.10.7.4, MUST-12; Linux tcp_reset)', () => {
    const c = established();
    expect(c.send({ flags: 'RST', seq: c.p(1) })).toEqual([]);
    expect(c.state).toBe('CLOSED');
    expect(c.s.readiness() & Ready.ERROR).toBe(Ready.ERROR);
    expect(c.s.recv(new Uint8Array(1))).toBe('ECONNRESET');
    expect(c.s.readiness() & Ready.ERROR).toBe(0);
    expect(c.s.recv(new Uint8Array(1))).toBe(0);
    expect(c.s.send(bytes(1))).toBe('EPIPE');
    expect(c.h.tcp.counters.EstabResets).toBe(1);
  });

  test('ESTABLISHED: data received before the RST is read first, then ECONNRESET once (RFC 9293 §3.10.7.4)', () => {
    const c = established();
    c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: bytes(5) });
    c.send({ flags: 'RST', seq: c.p(6) });
    expect(c.state).toBe('CLOSED');
    expect(drain(c.s)).toEqual({ data: Array.from(bytes(5)), last: 'ECONNRESET' });
    expect(c.s.recv(new Uint8Array(1))).toBe(0);
  });

  test('ESTABLISHED: a send() after the RST reports ECONNRESET first, then EPIPE (Linux tcp_sendmsg)', () => {
    const c = established();
    c.send({ flags: 'RST', seq: c.p(1) });
    expect(c.s.send(bytes(1))).toBe('ECONNRESET');
    expect(c.s.send(bytes(1))).toBe('EPIPE');
  });

  test('FIN-WAIT-1 and FIN-WAIT-2: a RST at RCV.NXT reports ECONNRESET (RFC 9293 §3.10.7.4 second step)', () => {
    const a = finWait1();
    a.send({ flags: 'RST', seq: a.p(1) });
    expect(a.state).toBe('CLOSED');
    expect(a.s.recv(new Uint8Array(1))).toBe('ECONNRESET');
    const b = finWait2();
    b.send({ flags: 'RST', seq: b.p(1) });
    expect(b.state).toBe('CLOSED');
    expect(b.s.takeError()).toBe('ECONNRESET');
  });

  test('CLOSE-WAIT: a RST closes the connection and a later send() fails with EPIPE (RFC 9293 §3.10.7.4; Linux tcp_reset)', () => {
    const c = closeWait();
    c.send({ flags: 'RST', seq: c.p(2) });
    expect(c.state).toBe('CLOSED');
    expect(c.s.send(bytes(1))).toBe('EPIPE');
  });

  test('CLOSING and LAST-ACK -> CLOSED: a RST at RCV.NXT deletes the TCB (RFC 9293 §3.10.7.4: "enter the CLOSED state, delete the TCB, and return")', () => {
    const a = closing();
    expect(a.send({ flags: 'RST', seq: a.p(2) })).toEqual([]);
    expect(a.state).toBe('CLOSED');
    const b = lastAck();
    expect(b.send({ flags: 'RST', seq: b.p(2) })).toEqual([]);
    expect(b.state).toBe('CLOSED');
  });

  test('ESTABLISHED: a RST outside the window is dropped without reply (RFC 9293 §3.10.7.4 first step)', () => {
    const c = established();
    expect(c.send({ flags: 'RST', seq: c.p(1 + 200_000) })).toEqual([]);
    expect(c.send({ flags: 'RST', seq: c.p(0) })).toEqual([]);
    expect(c.state).toBe('ESTABLISHED');
  });
});

describe('resets we send on ABORT and CLOSE (RFC 9293 §3.10.5, §3.10.4; Linux tcp_close)', () => {
  test('ABORT: abort() sends <SEQ=SND.NXT><CTL=RST,ACK>, discards queued data and never retransmits (RFC 9293 §3.10.5)', () => {
    const c = established();
    expect(c.s.send(bytes(100))).toBe(100);
    expect(c.flush()).toEqual([out('PSH+ACK', c.u(1), c.p(1), 100)]);
    expect(c.s.send(bytes(50))).toBe(50); // held by Nagle behind the unacknowledged 100
    c.s.abort();
    expect(c.h.takeSummary()).toEqual([out('RST+ACK', c.u(101), c.p(1))]);
    expect(c.state).toBe('CLOSED');
    expect(c.advance(100_000)).toEqual([]);
    // The peer's next segment finds no connection.
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(101) })).toEqual([out('RST', c.u(101))]);
  });

  test('CLOSE with SO_LINGER {on, 0} aborts with a RST instead of a FIN (Linux tcp_close, TCPAbortOnLinger)', () => {
    const c = established({ setup: (s) => expect(s.setOption('linger', 0)).toBeUndefined() });
    expect(c.s.send(bytes(10))).toBe(10);
    c.s.close();
    // Linux sends written data from send() itself (tcp_sendmsg -> tcp_push), so the 10 bytes are
    // on the wire before the close; the reset follows them (TcpLayer.abort flushes queued output).
    expect(c.h.takeSummary()).toEqual([out('PSH+ACK', c.u(1), c.p(1), 10), out('RST+ACK', c.u(11), c.p(1))]);
    expect(c.flush()).toEqual([]);
    expect(c.state).toBe('CLOSED');
    expect(c.h.tcp.counters.TCPAbortOnLinger).toBe(1);
  });

  test('CLOSE with unread received data sends a RST, not a FIN (RFC 9293 §3.10.4 SHLD-3; Linux tcp_close, TCPAbortOnClose)', () => {
    const c = established();
    c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: bytes(10) });
    c.s.close();
    expect(c.h.takeSummary()).toEqual([out('RST+ACK', c.u(1), c.p(11))]);
    expect(c.state).toBe('CLOSED');
    expect(c.h.tcp.counters.TCPAbortOnClose).toBe(1);
  });

  test('FIN-WAIT-1 after close(): new data from the peer gets <SEQ=SEG.ACK><CTL=RST> and the connection is gone (RFC 1122 §4.2.2.13; Linux tcp_rcv_state_process, TCPAbortOnData)', () => {
    const c = established();
    c.s.close();
    expect(c.flush()).toEqual([out('FIN+ACK', c.u(1), c.p(1))]);
    // The peer has not seen our FIN yet: its RCV.NXT is ISS+1, which is what it acknowledges.
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: bytes(10) })).toEqual([out('RST', c.u(1))]);
    expect(c.state).toBe('CLOSED');
    expect(c.h.tcp.counters.TCPAbortOnData).toBe(1);
  });

  test('FIN-WAIT-2 after close(): new data from the peer gets a RST (Linux tcp_rcv_state_process, TCPAbortOnData)', () => {
    const c = established();
    c.s.close();
    c.flush();
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(2) });
    expect(c.state).toBe('FIN-WAIT-2');
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(2), data: bytes(3) })).toEqual([out('RST', c.u(2))]);
    expect(c.state).toBe('CLOSED');
  });

  test('FIN-WAIT-2 after close(): the peer\'s FIN alone is not data and leads to TIME-WAIT (Linux tcp_rcv_state_process)', () => {
    const c = established();
    c.s.close();
    c.flush();
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(2) });
    expect(c.send({ flags: 'FIN+ACK', seq: c.p(1), ack: c.u(2) })).toEqual([out('ACK', c.u(2), c.p(2))]);
    expect(c.state).toBe('TIME-WAIT');
  });
});
