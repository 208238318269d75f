// Transcripts of the blind-attack defences of RFC 5961 as RFC 9293 §3.10.7.4 folds them in:
// RST only at exactly RCV.NXT (§3), SYN always challenged (§4), ACK range checks (§5), and
// the per-connection rate limit on challenge ACKs (§7, with this stack's documented deviation).
import { describe, expect, test } from 'vitest';
import {
  CLIENT_PORT, acceptOn, bytes, closeWait, drain, established, finWait2, listening, out,
} from './fixtures.js';

describe('RST (RFC 5961 §3.2)', () => {
  test('ESTABLISHED: an in-window RST that is not at RCV.NXT gets a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and the connection survives (RFC 5961 §3.2; RFC 9293 §3.10.7.4)', () => {
    const c = established();
    expect(c.send({ flags: 'RST', seq: c.p(2) })).toEqual([out('ACK', c.u(1), c.p(1))]);
    expect(c.send({ flags: 'RST+ACK', seq: c.p(1000), ack: c.u(1) })).toEqual([out('ACK', c.u(1), c.p(1))]);
    expect(c.state).toBe('ESTABLISHED');
    expect(c.h.tcp.counters.TCPChallengeACK).toBe(2);
    // The peer answers the challenge with a RST at exactly RCV.NXT: now it resets.
    expect(c.send({ flags: 'RST', seq: c.p(1) })).toEqual([]);
    expect(c.state).toBe('CLOSED');
  });

  test('FIN-WAIT-2 and CLOSE-WAIT: only a RST at exactly RCV.NXT resets; others in the window are challenged (RFC 5961 §3.2)', () => {
    const a = finWait2();
    expect(a.send({ flags: 'RST', seq: a.p(5) })).toEqual([out('ACK', a.u(2), a.p(1))]);
    expect(a.state).toBe('FIN-WAIT-2');
    const b = closeWait();
    expect(b.send({ flags: 'RST', seq: b.p(5) })).toEqual([out('ACK', b.u(1), b.p(2))]);
    expect(b.state).toBe('CLOSE-WAIT');
  });

  test('ESTABLISHED with rfc5961 off: any in-window RST resets (RFC 9293 §3.10.7.4 without RFC 5961)', () => {
    const c = established({ cfg: { rfc5961: false } });
    expect(c.send({ flags: 'RST', seq: c.p(500) })).toEqual([]);
    expect(c.state).toBe('CLOSED');
    expect(c.s.takeError()).toBe('ECONNRESET');
  });

  test('ESTABLISHED: the challenge ACK acknowledges everything received so far (RFC 5961 §3.2)', () => {
    const c = established();
    c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: bytes(10) });
    expect(c.s.send(bytes(4))).toBe(4);
    expect(c.flush()).toEqual([out('PSH+ACK', c.u(1), c.p(11), 4)]);
    expect(c.send({ flags: 'RST', seq: c.p(12) })).toEqual([out('ACK', c.u(5), c.p(11))]);
  });
});

describe('SYN (RFC 5961 §4.2)', () => {
  test('ESTABLISHED: a SYN in the window gets a challenge ACK, never a reset (RFC 5961 §4.2; RFC 9293 §3.10.7.4 fourth step)', () => {
    const c = established();
    expect(c.send({ flags: 'SYN', seq: c.p(100) })).toEqual([out('ACK', c.u(1), c.p(1))]);
    expect(c.send({ flags: 'SYN', seq: c.p(1) })).toEqual([out('ACK', c.u(1), c.p(1))]);
    expect(c.state).toBe('ESTABLISHED');
    expect(c.h.tcp.counters.OutRsts).toBe(0);
  });

  test('ESTABLISHED: a SYN outside the window also gets a challenge ACK ("irrespective of the sequence number", RFC 5961 §4.2)', () => {
    const c = established();
    const before = c.h.tcp.counters.TCPChallengeACK;
    expect(c.send({ flags: 'SYN', seq: c.p(-5000) })).toEqual([out('ACK', c.u(1), c.p(1))]);
    expect(c.h.tcp.counters.TCPChallengeACK).toBe(before + 1);
    expect(c.state).toBe('ESTABLISHED');
  });

  test('ESTABLISHED with rfc5961 off: an in-window SYN is answered with a RST and the connection is reset (RFC 9293 §3.10.7.4 fourth step, RFC 793 behaviour)', () => {
    const c = established({ cfg: { rfc5961: false } });
    expect(c.send({ flags: 'SYN', seq: c.p(100) })).toEqual([out('RST+ACK', c.u(1), c.p(1))]);
    expect(c.state).toBe('CLOSED');
    expect(c.s.takeError()).toBe('ECONNRESET');
  });
});

describe('ACK range (RFC 5961 §5.2)', () => {
  test('ESTABLISHED: data whose ACK acknowledges something not yet sent (SEG.ACK > SND.NXT) is dropped with a challenge ACK (RFC 5961 §5.2; RFC 9293 §3.10.7.4 fifth step)', () => {
    const c = established();
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(2), data: bytes(10) })).toEqual([out('ACK', c.u(1), c.p(1))]);
    expect(drain(c.s).data).toEqual([]);
    expect(c.tcb!.sndUna).toBe(c.u(1));
  });

  test('ESTABLISHED: data whose ACK is older than SND.UNA - MAX.SND.WND is dropped with a challenge ACK (RFC 5961 §5.2, blind data injection)', () => {
    const c = established();
    // MAX.SND.WND is 65535 (the peer's SYN-ACK window); SND.UNA is ISS+1.
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1 - 65535 - 1), data: bytes(10) })).toEqual([out('ACK', c.u(1), c.p(1))]);
    expect(drain(c.s).data).toEqual([]);
    // At exactly SND.UNA - MAX.SND.WND the ACK is old but acceptable: the data is taken.
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1 - 65535), data: bytes(10) })).toEqual([out('ACK', c.u(1), c.p(11))]);
    expect(drain(c.s).data).toEqual(Array.from(bytes(10)));
  });

  test('ESTABLISHED with rfc5961 off: an old ACK below SND.UNA - MAX.SND.WND is ignored and the data is taken (RFC 9293 §3.10.7.4: "If the ACK is a duplicate, it can be ignored")', () => {
    const c = established({ cfg: { rfc5961: false } });
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(-100_000), data: bytes(10) })).toEqual([out('ACK', c.u(1), c.p(11))]);
  });
});

describe('challenge ACK rate limit (RFC 5961 §7)', () => {
  test('ESTABLISHED: challenge ACKs are limited to challengeAckLimit per second per connection, and the budget refills after a second (RFC 5961 §7)', () => {
    const c = established({ cfg: { challengeAckLimit: 3 } });
    const replies: string[] = [];
    for (let i = 0; i < 6; i++) replies.push(...c.send({ flags: 'RST', seq: c.p(10 + i) }));
    expect(replies).toEqual(Array(3).fill(out('ACK', c.u(1), c.p(1))));
    expect(c.h.tcp.counters.drops.get('challenge-ack-rate-limited')).toBe(3);
    c.advance(999);
    expect(c.send({ flags: 'SYN', seq: c.p(5) })).toEqual([]);
    c.advance(1);
    expect(c.send({ flags: 'SYN', seq: c.p(5) })).toEqual([out('ACK', c.u(1), c.p(1))]);
    expect(c.state).toBe('ESTABLISHED');
  });

  test('the default limit is 10 challenge ACKs per second (RFC 5961 §7; Linux tcp_challenge_ack_limit)', () => {
    const c = established();
    let n = 0;
    for (let i = 0; i < 25; i++) n += c.send({ flags: 'RST', seq: c.p(10 + i) }).length;
    expect(n).toBe(10);
  });

  test('two connections each get their own challenge ACK budget (RFC 5961 §7; Deviation: per connection, not per host, against CVE-2016-5696)', () => {
    const { h, listener } = listening({ cfg: { challengeAckLimit: 4 } });
    const a = acceptOn(h, listener, CLIENT_PORT);
    const b = acceptOn(h, listener, CLIENT_PORT + 1, 0x7000_0000);
    let na = 0;
    let nb = 0;
    for (let i = 0; i < 8; i++) {
      na += a.send({ flags: 'RST', seq: a.p(10 + i) }).length;
      nb += b.send({ flags: 'RST', seq: b.p(10 + i) }).length;
    }
    expect([na, nb]).toEqual([4, 4]);
    expect(a.state).toBe('ESTABLISHED');
    expect(b.state).toBe('ESTABLISHED');
  });
});
