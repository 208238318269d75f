// Transcripts of TIME-WAIT (RFC 9293 §3.6, §3.10.7.4, MUST-13): its 2*MSL duration, the
// retransmitted FIN, RST handling (RFC 1337) and new SYNs that reopen the 4-tuple (RFC 6191).
import { describe, expect, test } from 'vitest';
import { seconds } from '../../src/time/instant.js';
import { out, timeWait } from './fixtures.js';

describe('TIME-WAIT duration (RFC 9293 §3.10.7.4, MUST-13)', () => {
  test('TIME-WAIT lasts exactly 2*MSL, 60 s with the default MSL of 30 s (RFC 9293 §3.10.7.4 MUST-13; Linux TCP_TIMEWAIT_LEN)', () => {
    const c = timeWait();
    const start = c.h.now;
    c.h.advanceTo(start + 59_999_999);
    expect(c.state).toBe('TIME-WAIT');
    c.h.advanceTo(start + 60_000_000);
    expect(c.state).toBe('CLOSED');
    expect(c.h.takeSummary()).toEqual([]);
  });

  test('TIME-WAIT follows a configured MSL: msl 5 s gives 10 s (RFC 9293 §3.4.2)', () => {
    const c = timeWait({ cfg: { msl: seconds(5) } });
    const start = c.h.now;
    c.h.advanceTo(start + 9_999_999);
    expect(c.state).toBe('TIME-WAIT');
    c.h.advanceTo(start + 10_000_000);
    expect(c.state).toBe('CLOSED');
  });

  test('the socket sees hang-up and end of stream while its connection waits in TIME-WAIT (RFC 9293 §3.10.7.4)', () => {
    const c = timeWait();
    expect(c.s.recv(new Uint8Array(4))).toBe(0);
    expect(c.s.send(new Uint8Array(4))).toBe('EPIPE');
  });
});

describe('segments in TIME-WAIT (RFC 9293 §3.10.7.4)', () => {
  test('TIME-WAIT: a retransmitted FIN is acknowledged again and the 2*MSL timer restarts (RFC 9293 §3.10.7.4: "Acknowledge it, and restart the 2 MSL timeout")', () => {
    const c = timeWait();
    const start = c.h.now;
    c.h.advanceTo(start + 30_000_000);
    expect(c.send({ flags: 'FIN+ACK', seq: c.p(1), ack: c.u(2) })).toEqual([out('ACK', c.u(2), c.p(2))]);
    c.h.advanceTo(start + 89_999_999);
    expect(c.state).toBe('TIME-WAIT');
    c.h.advanceTo(start + 90_000_000);
    expect(c.state).toBe('CLOSED');
  });

  test('TIME-WAIT: an in-window RST is ignored (RFC 1337 §3; Linux tcp_rfc1337 = 1)', () => {
    const c = timeWait();
    expect(c.send({ flags: 'RST', seq: c.p(2) })).toEqual([]);
    expect(c.state).toBe('TIME-WAIT');
    expect(c.send({ flags: 'RST+ACK', seq: c.p(2), ack: c.u(2) })).toEqual([]);
    expect(c.state).toBe('TIME-WAIT');
    expect(c.advance(60_000)).toEqual([]);
    expect(c.state).toBe('CLOSED');
  });

  test('TIME-WAIT: with rfc1337 off an exact RST deletes the TCB (RFC 9293 §3.10.7.4 second step; Linux tcp_rfc1337 = 0)', () => {
    const c = timeWait({ cfg: { rfc1337: false } });
    expect(c.send({ flags: 'RST', seq: c.p(2) })).toEqual([]);
    expect(c.state).toBe('CLOSED');
  });

  test('TIME-WAIT: text is ignored, and a segment beyond the window is acknowledged (RFC 9293 §3.10.7.4 first and seventh steps)', () => {
    const c = timeWait();
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(2), ack: c.u(2), data: 10 })).toEqual([]);
    expect(c.send({ flags: 'ACK', seq: c.p(2 + 200_000), ack: c.u(2) })).toEqual([out('ACK', c.u(2), c.p(2))]);
    expect(c.state).toBe('TIME-WAIT');
  });
});

describe('a new SYN in TIME-WAIT (RFC 6191; RFC 9293 §3.6.1 MAY-2)', () => {
  test('TIME-WAIT: a SYN with a sequence number above RCV.NXT opens a new connection through the listener (RFC 6191 §2; RFC 9293 MAY-2; Linux TCP_TW_SYN)', () => {
    const c = timeWait({ side: 'server' });
    const newIss = c.p(100_000);
    c.h.peerSends({ flags: 'SYN', seq: newIss, srcPort: c.remotePort, dstPort: c.localPort });
    const sent = c.h.takeSent();
    expect(sent.map((s) => s.seg.flags)).toEqual([0x12]);
    expect(sent[0]!.seg.ack).toBe((newIss + 1) >>> 0);
    expect(c.state).toBe('SYN-RECEIVED');
    const iss2 = sent[0]!.seg.seq;
    c.h.peerSends({ flags: 'ACK', seq: (newIss + 1) >>> 0, ack: (iss2 + 1) >>> 0, srcPort: c.remotePort, dstPort: c.localPort });
    expect(c.state).toBe('ESTABLISHED');
    const child = c.listener!.accept();
    expect(typeof child).not.toBe('string');
  });

  test('TIME-WAIT: a SYN below RCV.NXT without timestamps is an old duplicate: it is acknowledged and TIME-WAIT stays (RFC 6191 §2; RFC 5961 §4.2)', () => {
    const c = timeWait({ side: 'server' });
    expect(c.send({ flags: 'SYN', seq: c.p(0) })).toEqual([out('ACK', c.u(2), c.p(2))]);
    expect(c.state).toBe('TIME-WAIT');
  });

  test('TIME-WAIT with timestamps: a SYN with a newer TSval reopens even with a lower sequence number (RFC 6191 §2)', () => {
    const c = timeWait({ side: 'server', peerSynOptions: { timestamp: { tsval: 100, tsecr: 0 } } });
    c.h.peerSends({ flags: 'SYN', seq: c.p(-5000), srcPort: c.remotePort, dstPort: c.localPort, options: { timestamp: { tsval: 101, tsecr: 0 } } });
    expect(c.h.takeSent().map((s) => s.seg.flags)).toEqual([0x12]);
    expect(c.state).toBe('SYN-RECEIVED');
  });

  test('TIME-WAIT with timestamps: a SYN with an older TSval is rejected by PAWS even with a higher sequence number (RFC 6191 §2; RFC 7323 §5.3)', () => {
    const c = timeWait({ side: 'server', peerSynOptions: { timestamp: { tsval: 100, tsecr: 0 } } });
    c.h.peerSends({ flags: 'SYN', seq: c.p(50_000), srcPort: c.remotePort, dstPort: c.localPort, options: { timestamp: { tsval: 99, tsecr: 0 } } });
    const sent = c.h.takeSent();
    expect(sent.map((s) => s.seg.flags)).toEqual([0x10]);
    expect(sent[0]!.seg.ack).toBe(c.p(2));
    expect(c.state).toBe('TIME-WAIT');
  });

  test('TIME-WAIT without a listener: a new SYN is acknowledged, never reset, and TIME-WAIT stays (Linux tcp_v4_rcv TCP_TW_SYN with no listener)', () => {
    const c = timeWait(); // the client side: nothing listens on our ephemeral port
    expect(c.send({ flags: 'SYN', seq: c.p(100_000) })).toEqual([out('ACK', c.u(2), c.p(2))]);
    expect(c.state).toBe('TIME-WAIT');
  });
});
