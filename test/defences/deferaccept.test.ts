// TCP_DEFER_ACCEPT as Linux implements it (tcp_check_req, syn_ack_recalc in
// inet_connection_sock.c): a bare ACK does not complete the handshake while the listener defers;
// data does; after the deferral the last SYN-ACK retransmission's ACK completes it.
import { describe, expect, test } from 'vitest';
import type { TcpSocket } from '../../src/api/socket.js';
import { deferAcceptRetransmits, deferAcceptSeconds } from '../../src/tcp/listener.js';
import { Conn, bytes, drain, listening, out } from '../tcp/fixtures.js';
import { CLIENT_PORT, SERVER_PORT } from '../tcp/fixtures.js';

/** A listener with TCP_DEFER_ACCEPT `secs` and a peer that has sent its SYN; returns the connection. */
function deferred(secs: number): { c: Conn; listener: TcpSocket } {
  const { h, listener } = listening({ setup: (s) => s.setOption('deferAccept', secs) });
  h.peerSends({ flags: 'SYN', seq: 1000, srcPort: CLIENT_PORT, dstPort: SERVER_PORT });
  const sa = h.takeSent()[0]!.seg;
  const c = new Conn(h, SERVER_PORT, CLIENT_PORT, sa.seq, 1000, 65535);
  c.listener = listener;
  return { c, listener };
}

describe('TCP_DEFER_ACCEPT (Linux tcp_check_req, syn_ack_recalc)', () => {
  test('SYN-RECEIVED: a bare ACK is dropped while deferring (TCPDeferAcceptDrop); data completes the handshake and the connection is accepted with it', () => {
    const { c, listener } = deferred(3);
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1) })).toEqual([]);
    expect(c.state).toBe('SYN-RECEIVED');
    expect(listener.accept()).toBe('EAGAIN');
    expect(c.h.tcp.counters.TCPDeferAcceptDrop).toBe(1);
    c.h.advance(500);
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: bytes(12) })).toEqual([out('ACK', c.u(1), c.p(13))]);
    expect(c.state).toBe('ESTABLISHED');
    const child = listener.accept();
    if (typeof child === 'string') throw new Error(child);
    expect(drain(child).data).toEqual(Array.from(bytes(12)));
  });

  test('SYN-RECEIVED: after a bare ACK no SYN-ACK is resent until the last deferral period; the ACK of that SYN-ACK completes the handshake (Linux: "last chance for data or ACK to create established socket")', () => {
    const { c, listener } = deferred(3); // 3 s: two SYN-ACK timeouts (1 s, then 2 s)
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1) });
    expect(c.advanceTimed(3000)).toEqual([`3000ms ${out('SYN+ACK', c.u(0), c.p(1))}`]);
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1) })).toEqual([]);
    expect(c.state).toBe('ESTABLISHED');
    expect(typeof listener.accept()).not.toBe('string');
    expect(c.h.tcp.counters.TCPDeferAcceptDrop).toBe(1);
  });

  test('SYN-RECEIVED: a deferral longer than the SYN-ACK retries keeps the child until the deferral ends, with one SYN-ACK at its last period (Linux syn_ack_recalc expire rule)', () => {
    const { c, listener } = deferred(100); // seven timeouts: 1+2+4+...+64 = 127 s
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1) });
    expect(c.advanceTimed(127_000)).toEqual([`127000ms ${out('SYN+ACK', c.u(0), c.p(1))}`]);
    expect(c.state).toBe('SYN-RECEIVED');
    expect(c.advanceTimed(119_999)).toEqual([]);
    c.h.advance(1);
    expect(c.state).toBe('CLOSED'); // 247 s: the eighth timeout, past both limits
    expect(listener.accept()).toBe('EAGAIN');
  });

  test('SYN-RECEIVED: without any ACK from the peer, SYN-ACKs are retransmitted as usual and the child expires after tcp_synack_retries', () => {
    const { c } = deferred(3);
    const sent = c.advanceTimed(63_000);
    expect(sent).toEqual(['1000ms', '3000ms', '7000ms', '15000ms', '31000ms'].map((t) => `${t} ${out('SYN+ACK', c.u(0), c.p(1))}`));
    expect(c.state).toBe('CLOSED');
  });

  test('the option is seconds rounded up to the SYN-ACK retransmission schedule, as Linux reports it (secs_to_retrans / retrans_to_secs)', () => {
    expect([0, 1, 2, 3, 4, 5, 7, 8, 100].map((s) => deferAcceptRetransmits(s, 1, 120))).toEqual([0, 1, 2, 2, 3, 3, 3, 4, 7]);
    expect([0, 1, 2, 3, 4].map((n) => deferAcceptSeconds(n, 1, 120))).toEqual([0, 1, 3, 7, 15]);
    const { listener } = listening({ setup: (s) => s.setOption('deferAccept', 5) });
    expect(listener.getOption('deferAccept')).toBe(7);
    expect(listener.setOption('deferAccept', 0)).toBeUndefined();
    expect(listener.getOption('deferAccept')).toBe(0);
    expect(listener.setOption('deferAccept', -1)).toBe('EINVAL');
  });
});
