// Transcripts of the order of SEGMENT ARRIVES (RFC 9293 §3.10.7.4): sequence number, RST, SYN,
// ACK, URG, text, FIN, each check seen through what a segment that fails or passes it does.
import { describe, expect, test } from 'vitest';
import { bytes, drain, established, out, synSent } from './fixtures.js';

describe('SEGMENT ARRIVES in order (RFC 9293 §3.10.7.4)', () => {
  test('ESTABLISHED: an out-of-window segment that would acknowledge our data is only answered with an ACK; the first check stops it before the fifth (RFC 9293 §3.10.7.4 first step)', () => {
    const c = established();
    c.s.send(bytes(10));
    c.flush();
    expect(c.send({ flags: 'ACK', seq: c.p(1 + 200_000), ack: c.u(11) })).toEqual([out('ACK', c.u(11), c.p(1))]);
    expect(c.tcb!.sndUna).toBe(c.u(1));
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(11) })).toEqual([]);
    expect(c.tcb!.sndUna).toBe(c.u(11));
  });

  test('ESTABLISHED: RST and SYN together at RCV.NXT reset the connection: the RST check comes before the SYN check (RFC 9293 §3.10.7.4 second and fourth steps)', () => {
    const c = established();
    expect(c.send({ flags: 'SYN+RST', seq: c.p(1) })).toEqual([]);
    expect(c.state).toBe('CLOSED');
    expect(c.s.takeError()).toBe('ECONNRESET');
  });

  test('ESTABLISHED: a SYN with a valid ACK and data is challenged before its ACK or text is used (RFC 9293 §3.10.7.4 fourth step; RFC 5961 §4.2)', () => {
    const c = established();
    c.s.send(bytes(10));
    c.flush();
    expect(c.send({ flags: 'SYN+ACK', seq: c.p(1), ack: c.u(11), data: bytes(5) })).toEqual([out('ACK', c.u(11), c.p(1))]);
    expect(c.tcb!.sndUna).toBe(c.u(1));
    expect(drain(c.s).data).toEqual([]);
  });

  test('ESTABLISHED: a segment without ACK is dropped even with text (RFC 9293 §3.10.7.4 fifth step: "if the ACK bit is off, drop the segment")', () => {
    const c = established();
    expect(c.send({ flags: 'PSH', seq: c.p(1), data: bytes(5) })).toEqual([]);
    expect(drain(c.s).data).toEqual([]);
  });

  test('ESTABLISHED: text and FIN in one segment: the text is delivered, then the FIN ends the stream (RFC 9293 §3.10.7.4 seventh and eighth steps)', () => {
    const c = established();
    expect(c.send({ flags: 'FIN+PSH+ACK', seq: c.p(1), ack: c.u(1), data: bytes(6) })).toEqual([out('ACK', c.u(1), c.p(8))]);
    expect(c.state).toBe('CLOSE-WAIT');
    expect(drain(c.s)).toEqual({ data: Array.from(bytes(6)), last: 0 });
  });

  test('ESTABLISHED: a FIN beyond a hole takes effect only when the hole is filled (RFC 9293 §3.10.7.4 eighth step; §3.10.7.4 seventh step queueing)', () => {
    const c = established();
    expect(c.send({ flags: 'FIN+ACK', seq: c.p(11), ack: c.u(1), data: bytes(5, 10) })).toEqual([out('ACK', c.u(1), c.p(1))]);
    expect(c.state).toBe('ESTABLISHED');
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1), data: bytes(10) })).toEqual([out('ACK', c.u(1), c.p(17))]);
    expect(c.state).toBe('CLOSE-WAIT');
    expect(drain(c.s)).toEqual({ data: Array.from(bytes(15)), last: 0 });
  });

  test('ESTABLISHED with a zero receive window: text is refused with an ACK, but ACKs and an exact RST are still processed (RFC 9293 §3.10.7.4, MUST-66)', () => {
    const c = established({ cfg: { rcvBuf: 1000 } });
    expect(c.ourSyn!.window).toBe(1000);
    c.s.send(bytes(10));
    c.flush();
    const full = c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: bytes(1000) });
    expect(full).toEqual([out('ACK', c.u(11), c.p(1001))]);
    expect(c.h.takeSent()).toEqual([]);
    const zero = c.h.ip.sent.at(-1)!.seg;
    expect(zero.window).toBe(0);
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(1001), ack: c.u(1), data: bytes(1) })).toEqual([out('ACK', c.u(11), c.p(1001))]);
    expect(c.send({ flags: 'ACK', seq: c.p(1001), ack: c.u(11) })).toEqual([]);
    expect(c.tcb!.sndUna).toBe(c.u(11));
    expect(c.send({ flags: 'RST', seq: c.p(1001) })).toEqual([]);
    expect(c.state).toBe('CLOSED');
  });

  test('ESTABLISHED: reading from a zero window opens it with a window update (RFC 9293 §3.8.6.2.2)', () => {
    const c = established({ cfg: { rcvBuf: 1000 } });
    c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: bytes(1000) });
    expect(drain(c.s).data.length).toBe(1000);
    const upd = c.h.flush();
    void upd;
    const sent = c.h.takeSent();
    expect(sent.map((s) => [s.seg.flags, s.seg.ack, s.seg.window])).toEqual([[0x10, c.p(1001), 1000]]);
  });
});

describe('SYN-SENT with more than a SYN-ACK (RFC 9293 §3.10.7.3)', () => {
  test('SYN-SENT -> ESTABLISHED: text in a SYN-ACK is not acknowledged and is taken when the peer sends it again (RFC 9293 §3.10.7.3; Deviation: as Linux tcp_rcv_synsent_state_process without Fast Open)', () => {
    const c = synSent();
    expect(c.send({ flags: 'SYN+ACK', seq: c.p(0), ack: c.u(1), data: bytes(4) })).toEqual([out('ACK', c.u(1), c.p(1))]);
    expect(c.state).toBe('ESTABLISHED');
    expect(drain(c.s).data).toEqual([]);
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: bytes(4) })).toEqual([out('ACK', c.u(1), c.p(5))]);
    expect(drain(c.s).data).toEqual(Array.from(bytes(4)));
  });

  test('SYN-SENT -> ESTABLISHED -> CLOSE-WAIT: a FIN in a SYN-ACK is ignored and honoured when retransmitted (RFC 9293 §3.10.7.3, §3.10.7.4 eighth step; Deviation: as Linux)', () => {
    const c = synSent();
    expect(c.send({ flags: 'FIN+SYN+ACK', seq: c.p(0), ack: c.u(1), data: bytes(3) })).toEqual([out('ACK', c.u(1), c.p(1))]);
    expect(c.state).toBe('ESTABLISHED');
    // Only the real FIN, after the three octets, ends the stream.
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: bytes(2) })).toEqual([out('ACK', c.u(1), c.p(3))]);
    expect(c.state).toBe('ESTABLISHED');
    expect(c.send({ flags: 'FIN+PSH+ACK', seq: c.p(3), ack: c.u(1), data: bytes(1, 2) })).toEqual([out('ACK', c.u(1), c.p(5))]);
    expect(c.state).toBe('CLOSE-WAIT');
    expect(drain(c.s)).toEqual({ data: Array.from(bytes(3)), last: 0 });
  });

  test('SYN-RECEIVED (active) -> FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT: CLOSE during a simultaneous open sends a FIN at once (RFC 9293 §3.10.4 "SYN-RECEIVED STATE")', () => {
    const c = synSent();
    expect(c.send({ flags: 'SYN', seq: c.p(0) })).toEqual([out('SYN+ACK', c.u(0), c.p(1))]);
    expect(c.s.shutdown('write')).toBeUndefined();
    expect(c.flush()).toEqual([out('FIN+ACK', c.u(1), c.p(1))]);
    expect(c.state).toBe('FIN-WAIT-1');
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(2) })).toEqual([]);
    expect(c.state).toBe('FIN-WAIT-2');
    expect(c.send({ flags: 'FIN+ACK', seq: c.p(1), ack: c.u(2) })).toEqual([out('ACK', c.u(2), c.p(2))]);
    expect(c.state).toBe('TIME-WAIT');
  });
});

describe('PAWS in a connection (RFC 7323 §5.3, §5.5)', () => {
  /** An ESTABLISHED client with timestamps negotiated; the peer's TSval starts at 1000. */
  function withTs() {
    const c = synSent();
    const ourTs = c.ourSyn!.options.timestamp!.tsval;
    c.h.peerSends({ flags: 'SYN+ACK', seq: c.p(0), ack: c.u(1), srcPort: c.remotePort, dstPort: c.localPort, options: { timestamp: { tsval: 1000, tsecr: ourTs } } });
    const ack = c.h.takeSent();
    expect(ack.map((s) => s.seg.options.timestamp?.tsecr)).toEqual([1000]);
    return c;
  }

  test('ESTABLISHED: a segment whose TSval is older than TS.Recent is acknowledged and its text discarded (RFC 7323 §5.3 R1-R3)', () => {
    const c = withTs();
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: bytes(5), options: { timestamp: { tsval: 1001, tsecr: 0 } } })).toEqual([out('ACK', c.u(1), c.p(6))]);
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(6), ack: c.u(1), data: bytes(5), options: { timestamp: { tsval: 1000, tsecr: 0 } } })).toEqual([out('ACK', c.u(1), c.p(6))]);
    expect(drain(c.s).data).toEqual(Array.from(bytes(5)));
    expect(c.tcb!.tsRecent).toBe(1001);
  });

  test('ESTABLISHED: after more than 24 days without a segment TS.Recent is no longer valid and an old TSval is accepted (RFC 7323 §5.5)', () => {
    const c = withTs();
    const day = 24 * 3600 * 1000;
    c.advance(24 * day + 1);
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: bytes(5), options: { timestamp: { tsval: 5, tsecr: 0 } } })).toEqual([out('ACK', c.u(1), c.p(6))]);
    expect(drain(c.s).data).toEqual(Array.from(bytes(5)));
  });

  test('ESTABLISHED: within 24 days an old TSval is still rejected (RFC 7323 §5.5)', () => {
    const c = withTs();
    c.advance(24 * 24 * 3600 * 1000);
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: bytes(5), options: { timestamp: { tsval: 5, tsecr: 0 } } })).toEqual([out('ACK', c.u(1), c.p(1))]);
    expect(drain(c.s).data).toEqual([]);
  });
});
