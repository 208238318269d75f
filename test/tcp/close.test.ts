// Transcripts of connection termination (RFC 9293 §3.6, §3.10.4, §3.10.7.4 eighth step):
// four-way close from either side, half-close, simultaneous close, FIN-WAIT-1 straight to
// TIME-WAIT, LAST-ACK, and the orphaned FIN-WAIT-2 timeout of Linux.
import { describe, expect, test } from 'vitest';
import { Ready } from '../../src/api/socket.js';
import {
  bytes, closeWait, closing, drain, established, finWait1, finWait2, lastAck, out, synSent,
} from './fixtures.js';

describe('four-way close (RFC 9293 §3.6 Figure 12)', () => {
  test('ESTABLISHED -> FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT -> CLOSED: we close first (RFC 9293 §3.10.4, §3.10.7.4)', () => {
    const c = established();
    c.s.close();
    expect(c.flush()).toEqual([out('FIN+ACK', c.u(1), c.p(1))]);
    expect(c.state).toBe('FIN-WAIT-1');
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(2) })).toEqual([]);
    expect(c.state).toBe('FIN-WAIT-2');
    expect(c.send({ flags: 'FIN+ACK', seq: c.p(1), ack: c.u(2) })).toEqual([out('ACK', c.u(2), c.p(2))]);
    expect(c.state).toBe('TIME-WAIT');
    expect(c.h.tcp.counters.TimeWaitEntered).toBe(1);
    expect(c.advance(60_000)).toEqual([]);
    expect(c.state).toBe('CLOSED');
    expect(c.h.tcp.connectionCount).toBe(0);
  });

  test('ESTABLISHED -> CLOSE-WAIT -> LAST-ACK -> CLOSED: the peer closes first; recv() returns 0 at its FIN (RFC 9293 §3.10.7.4 eighth step, §3.10.4)', () => {
    const c = established();
    expect(c.send({ flags: 'FIN+ACK', seq: c.p(1), ack: c.u(1) })).toEqual([out('ACK', c.u(1), c.p(2))]);
    expect(c.state).toBe('CLOSE-WAIT');
    expect(c.s.readiness() & (Ready.READABLE | Ready.RDHUP)).toBe(Ready.READABLE | Ready.RDHUP);
    expect(c.s.recv(new Uint8Array(10))).toBe(0);
    c.s.close();
    expect(c.flush()).toEqual([out('FIN+ACK', c.u(1), c.p(2))]);
    expect(c.state).toBe('LAST-ACK');
    expect(c.send({ flags: 'ACK', seq: c.p(2), ack: c.u(2) })).toEqual([]);
    expect(c.state).toBe('CLOSED');
    expect(c.h.tcp.counters.TimeWaitEntered).toBe(0);
  });

  test('the server closes first: an accepted child goes through FIN-WAIT-1, FIN-WAIT-2 and TIME-WAIT (RFC 9293 §3.6)', () => {
    const c = established({ side: 'server' });
    c.s.close();
    expect(c.flush()).toEqual([out('FIN+ACK', c.u(1), c.p(1))]);
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(2) })).toEqual([]);
    expect(c.state).toBe('FIN-WAIT-2');
    expect(c.send({ flags: 'FIN+ACK', seq: c.p(1), ack: c.u(2) })).toEqual([out('ACK', c.u(2), c.p(2))]);
    expect(c.state).toBe('TIME-WAIT');
  });

  test('data queued before close() is sent before the FIN, which follows the last octet (RFC 9293 §3.10.4)', () => {
    const c = established();
    expect(c.s.send(bytes(100))).toBe(100);
    c.s.close();
    expect(c.flush()).toEqual([out('FIN+PSH+ACK', c.u(1), c.p(1), 100)]);
    expect(c.state).toBe('FIN-WAIT-1');
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(101) })).toEqual([]);
    expect(c.state).toBe('FIN-WAIT-1'); // the data is acknowledged, the FIN is not
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(102) })).toEqual([]);
    expect(c.state).toBe('FIN-WAIT-2');
  });

  test('FIN-WAIT-1: an unacknowledged FIN is retransmitted on the RTO (RFC 9293 §3.10.4; RFC 6298 §5)', () => {
    const c = finWait1();
    expect(c.advanceTimed(200)).toEqual([`200ms ${out('FIN+ACK', c.u(1), c.p(1))}`]);
    expect(c.advanceTimed(400)).toEqual([`600ms ${out('FIN+ACK', c.u(1), c.p(1))}`]);
  });

  test('LAST-ACK -> CLOSED: the FIN is retransmitted until acknowledged, then the TCB is deleted (RFC 9293 §3.10.7.4 fifth step)', () => {
    const c = lastAck();
    expect(c.advance(200)).toEqual([out('FIN+ACK', c.u(1), c.p(2))]);
    expect(c.state).toBe('LAST-ACK');
    expect(c.send({ flags: 'ACK', seq: c.p(2), ack: c.u(2) })).toEqual([]);
    expect(c.state).toBe('CLOSED');
    expect(c.advance(10_000)).toEqual([]);
  });

  test('LAST-ACK: an ACK that does not cover our FIN leaves the state unchanged (RFC 9293 §3.10.7.4 fifth step)', () => {
    const c = lastAck();
    expect(c.send({ flags: 'ACK', seq: c.p(2), ack: c.u(1) })).toEqual([]);
    expect(c.state).toBe('LAST-ACK');
  });

  test('CLOSE in SYN-SENT deletes the TCB without sending anything (RFC 9293 §3.10.4)', () => {
    const c = synSent();
    c.s.close();
    expect(c.flush()).toEqual([]);
    expect(c.state).toBe('CLOSED');
    expect(c.advance(10_000)).toEqual([]);
  });
});

describe('half-close (RFC 9293 §3.6, MAY-1)', () => {
  test('FIN-WAIT-2: the peer in CLOSE-WAIT keeps sending; the data is delivered and acknowledged (RFC 9293 §3.10.7.4 seventh step)', () => {
    const c = finWait2();
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(2), data: bytes(20) })).toEqual([out('ACK', c.u(2), c.p(21))]);
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(21), ack: c.u(2), data: bytes(30, 20) })).toEqual([out('ACK', c.u(2), c.p(51))]);
    expect(drain(c.s)).toEqual({ data: Array.from(bytes(50)), last: 'EAGAIN' });
    expect(c.s.send(bytes(1))).toBe('EPIPE');
    expect(c.send({ flags: 'FIN+ACK', seq: c.p(51), ack: c.u(2) })).toEqual([out('ACK', c.u(2), c.p(52))]);
    expect(c.state).toBe('TIME-WAIT');
    expect(c.s.recv(new Uint8Array(1))).toBe(0);
  });

  test('CLOSE-WAIT: we keep sending to the peer in FIN-WAIT-2, then close (RFC 9293 §3.10.2)', () => {
    const c = closeWait();
    expect(c.s.send(bytes(40))).toBe(40);
    expect(c.flush()).toEqual([out('PSH+ACK', c.u(1), c.p(2), 40)]);
    expect(c.send({ flags: 'ACK', seq: c.p(2), ack: c.u(41) })).toEqual([]);
    expect(c.state).toBe('CLOSE-WAIT');
    c.s.close();
    expect(c.flush()).toEqual([out('FIN+ACK', c.u(41), c.p(2))]);
    expect(c.send({ flags: 'ACK', seq: c.p(2), ack: c.u(42) })).toEqual([]);
    expect(c.state).toBe('CLOSED');
  });

  test('FIN-WAIT-1: data from the peer is still delivered while our FIN is unacknowledged (RFC 9293 §3.10.7.4 seventh step)', () => {
    const c = finWait1();
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: bytes(5) })).toEqual([out('ACK', c.u(2), c.p(6))]);
    expect(drain(c.s).data).toEqual(Array.from(bytes(5)));
    expect(c.state).toBe('FIN-WAIT-1');
  });

  test('a non-orphaned FIN-WAIT-2 (after shutdown) waits for the peer indefinitely (RFC 9293 §3.10.7.4; Linux applies tcp_fin_timeout only to orphans)', () => {
    const c = finWait2();
    expect(c.advance(3_600_000)).toEqual([]);
    expect(c.state).toBe('FIN-WAIT-2');
  });
});

describe('simultaneous close (RFC 9293 §3.6 Figure 13)', () => {
  test('FIN-WAIT-1 -> CLOSING -> TIME-WAIT: the peer\'s FIN crosses ours; its ACK of our FIN ends CLOSING (RFC 9293 §3.10.7.4 fifth and eighth steps)', () => {
    const c = closing();
    expect(c.s.recv(new Uint8Array(1))).toBe(0);
    expect(c.send({ flags: 'ACK', seq: c.p(2), ack: c.u(2) })).toEqual([]);
    expect(c.state).toBe('TIME-WAIT');
    expect(c.advance(60_000)).toEqual([]);
    expect(c.state).toBe('CLOSED');
  });

  test('CLOSING: our FIN is retransmitted until acknowledged (RFC 9293 §3.10.7.4)', () => {
    const c = closing();
    expect(c.advance(200)).toEqual([out('FIN+ACK', c.u(1), c.p(2))]);
    expect(c.state).toBe('CLOSING');
    expect(c.send({ flags: 'ACK', seq: c.p(2), ack: c.u(1) })).toEqual([]);
    expect(c.state).toBe('CLOSING'); // "otherwise, ignore the segment"
  });

  test('both sides close at once on two stacks: both pass CLOSING and end in TIME-WAIT (RFC 9293 §3.6 Figure 13)', async () => {
    const { Pair, REMOTE } = await import('../util/tcp-harness.js');
    const p = new Pair(10_000);
    const srv = p.b.sockets.socket();
    expect(srv.bind(REMOTE, 80)).toBeUndefined();
    expect(srv.listen(1)).toBeUndefined();
    const cli = p.a.sockets.socket();
    cli.connect(REMOTE, 80);
    p.advance(100);
    const child = srv.accept();
    if (typeof child === 'string') throw new Error(child);
    cli.shutdown('write');
    child.shutdown('write');
    p.advance(5);
    expect(cli.state).toBe('FIN-WAIT-1');
    p.advance(10);
    expect(cli.state).toBe('CLOSING');
    expect(child.state).toBe('CLOSING');
    p.advance(20);
    expect(cli.state).toBe('TIME-WAIT');
    expect(child.state).toBe('TIME-WAIT');
  });
});

describe('FIN-WAIT-1 straight to TIME-WAIT (RFC 9293 §3.10.7.4 eighth step)', () => {
  test('FIN-WAIT-1 -> TIME-WAIT: a FIN that also acknowledges our FIN (RFC 9293 §3.10.7.4: "If our FIN has been ACKed (perhaps in this segment), then enter TIME-WAIT")', () => {
    const c = finWait1();
    expect(c.send({ flags: 'FIN+ACK', seq: c.p(1), ack: c.u(2) })).toEqual([out('ACK', c.u(2), c.p(2))]);
    expect(c.state).toBe('TIME-WAIT');
  });
});

describe('orphaned FIN-WAIT-2 (Linux tcp_fin_timeout, TCP_LINGER2)', () => {
  test('after close() an orphaned FIN-WAIT-2 is deleted silently after tcp_fin_timeout, 60 s (Linux tcp_fin_timeout; RFC 9293 §3.10.7.4)', () => {
    const c = established();
    c.s.close();
    expect(c.flush()).toEqual([out('FIN+ACK', c.u(1), c.p(1))]);
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(2) })).toEqual([]);
    expect(c.state).toBe('FIN-WAIT-2');
    c.h.advanceTo(c.h.now + 59_999_999);
    expect(c.state).toBe('FIN-WAIT-2');
    expect(c.advance(0.001)).toEqual([]);
    expect(c.state).toBe('CLOSED');
  });

  test('config finTimeout sets the orphaned FIN-WAIT-2 timeout (Linux tcp_fin_timeout)', () => {
    const c = established({ cfg: { finTimeout: 10_000_000 as never } });
    c.s.close();
    c.flush();
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(2) });
    expect(c.advance(9_999)).toEqual([]);
    expect(c.state).toBe('FIN-WAIT-2');
    c.advance(1);
    expect(c.state).toBe('CLOSED');
  });

  test('TCP_LINGER2 sets the timeout per socket (Linux TCP_LINGER2)', () => {
    const c = established({ setup: (s) => expect(s.setOption('linger2', 5)).toBeUndefined() });
    c.s.close();
    c.flush();
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(2) });
    expect(c.advance(4_999)).toEqual([]);
    expect(c.state).toBe('FIN-WAIT-2');
    c.advance(1);
    expect(c.state).toBe('CLOSED');
  });

  test('close() in FIN-WAIT-2 after shutdown() starts the orphan timeout then (Linux tcp_close)', () => {
    const c = finWait2();
    c.advance(100_000);
    c.s.close();
    c.flush();
    expect(c.advance(59_999)).toEqual([]);
    expect(c.state).toBe('FIN-WAIT-2');
    c.advance(1);
    expect(c.state).toBe('CLOSED');
  });

  test('an orphaned FIN-WAIT-2 that receives the peer\'s FIN goes to TIME-WAIT for the full 2*MSL (RFC 9293 §3.10.7.4)', () => {
    const c = established();
    c.s.close();
    c.flush();
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(2) });
    c.advance(50_000);
    expect(c.send({ flags: 'FIN+ACK', seq: c.p(1), ack: c.u(2) })).toEqual([out('ACK', c.u(2), c.p(2))]);
    expect(c.state).toBe('TIME-WAIT');
    c.advance(59_999);
    expect(c.state).toBe('TIME-WAIT');
    c.advance(1);
    expect(c.state).toBe('CLOSED');
  });
});
