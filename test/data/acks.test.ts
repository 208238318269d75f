// Transcripts of when we acknowledge (RFC 9293 §3.8.6.3, RFC 1122 §4.2.3.2, RFC 5681 §4.2), the
// way Linux does it (tcp_event_data_recv, __tcp_ack_snd_check, tcp_send_delayed_ack): quick-ACK
// mode at connection start, an ACK for every second full-sized segment, an adaptive delay of 40
// to 200 ms otherwise, and immediate ACKs for out-of-order and duplicate data.
import { describe, expect, test } from 'vitest';
import { bytes, established, fullSyn, out, synSent } from './helpers.js';

/** An ESTABLISHED client whose first data (16 one-byte segments) used up the quick-ACK budget. */
function pastQuickAck(o: Parameters<typeof established>[0] = {}) {
  const c = established(o);
  for (let i = 0; i < 16; i++) {
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(1 + i), ack: c.u(1), data: 1 })).toEqual([out('ACK', c.u(1), c.p(2 + i))]);
  }
  return c;
}

describe('delayed ACKs (RFC 9293 §3.8.6.3; RFC 1122 §4.2.3.2)', () => {
  test('quick-ACK mode: the first data segments are acknowledged at once, as many as half the window in segments, at most 16 (Linux tcp_incr_quickack, TCP_MAX_QUICKACKS)', () => {
    const c = pastQuickAck();
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(17), ack: c.u(1), data: 1 })).toEqual([]);
    // With a 2000-byte buffer only 2 quick ACKs: 2000 / (2 * 536) rounds to 1, and the minimum is 2.
    const small = established({ cfg: { rcvBuf: 2000, moderateRcvBuf: false } });
    expect(small.send({ flags: 'PSH+ACK', seq: small.p(1), ack: small.u(1), data: 1 })).toEqual([out('ACK', small.u(1), small.p(2))]);
    expect(small.send({ flags: 'PSH+ACK', seq: small.p(2), ack: small.u(1), data: 1 })).toEqual([out('ACK', small.u(1), small.p(3))]);
    expect(small.send({ flags: 'PSH+ACK', seq: small.p(3), ack: small.u(1), data: 1 })).toEqual([]);
  });

  test('a lone small segment is acknowledged after TCP_DELACK_MIN, 40 ms (RFC 9293 §3.8.6.3 MUST-40: under 0.5 s)', () => {
    const c = pastQuickAck();
    c.h.advance(100);
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(17), ack: c.u(1), data: 5 })).toEqual([]);
    expect(c.advanceTimed(39)).toEqual([]);
    expect(c.advanceTimed(1)).toEqual([`140ms ${out('ACK', c.u(1), c.p(22))}`]);
  });

  test('an ACK at least for every second full-sized segment, where full-sized is what the peer sends: 1448 bytes beside timestamps (RFC 9293 §3.8.6.3 SHLD-19; Linux rcv_mss)', () => {
    const c = established({ peerSynOptions: fullSyn() });
    const ts = (v: number) => ({ timestamp: { tsval: v, tsecr: 0 } });
    // Use up quick-ACK mode with one-byte segments.
    for (let i = 0; i < 16; i++) c.send({ flags: 'ACK', seq: c.p(1 + i), ack: c.u(1), data: 1, options: ts(1001 + i) });
    let seq = 17;
    const acks: string[] = [];
    for (let i = 0; i < 6; i++) {
      acks.push(...c.send({ flags: 'ACK', seq: c.p(seq), ack: c.u(1), data: 1448, options: ts(2000 + i) }));
      seq += 1448;
    }
    expect(acks).toEqual([out('ACK', c.u(1), c.p(17 + 2 * 1448)), out('ACK', c.u(1), c.p(17 + 4 * 1448)), out('ACK', c.u(1), c.p(17 + 6 * 1448))]);
  });

  test('the delay adapts to the gaps between segments (Linux ato): close arrivals raise it above 40 ms, never beyond 200 ms', () => {
    // A connection whose handshake took 500 ms, so its SRTT does not cap the delay.
    const c = synSent();
    c.h.advance(500);
    expect(c.send({ flags: 'SYN+ACK', seq: c.p(0), ack: c.u(1) })).toEqual([out('ACK', c.u(1), c.p(1))]);
    for (let i = 0; i < 16; i++) c.send({ flags: 'PSH+ACK', seq: c.p(1 + i), ack: c.u(1), data: 1 });
    // Small segments 30 ms apart: each gap below the current delay pulls it toward gap + delay / 2.
    let ato = 40_000;
    let seq = 17;
    for (let i = 0; i < 8; i++) {
      c.h.advance(30);
      c.send({ flags: 'PSH+ACK', seq: c.p(seq), ack: c.u(1), data: 1 });
      seq++;
      ato = Math.min((ato >>> 1) + 30_000, 1_500_000);
    }
    expect(c.tcb!.ato).toBe(ato);
    expect(ato).toBeGreaterThan(40_000);
    // A long gap: the next lone segment waits the adapted delay (capped at 200 ms).
    c.h.advance(1000);
    c.h.takeSent();
    const t0 = c.h.now;
    c.send({ flags: 'PSH+ACK', seq: c.p(seq), ack: c.u(1), data: 1 });
    c.h.advance(300);
    const acked = c.h.takeSent();
    expect(acked.length).toBe(1);
    expect(acked[0]!.at - t0).toBe(Math.min(ato, 200_000));
  });

  test('out-of-order data is acknowledged at once (a duplicate ACK), and so is the segment that fills the hole (RFC 5681 §4.2; RFC 9293 §3.10.7.4)', () => {
    const c = pastQuickAck();
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(100), ack: c.u(1), data: 10 })).toEqual([out('ACK', c.u(1), c.p(17))]);
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(17), ack: c.u(1), data: 83 })).toEqual([out('ACK', c.u(1), c.p(110))]);
  });

  test('old data again is acknowledged at once (our ACK was lost) and puts us back in quick-ACK mode (Linux tcp_send_dupack)', () => {
    const c = pastQuickAck();
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(10), ack: c.u(1), data: 5 })).toEqual([out('ACK', c.u(1), c.p(17))]);
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(17), ack: c.u(1), data: 5 })).toEqual([out('ACK', c.u(1), c.p(22))]);
  });

  test('data after the sender was idle for longer than an RTO is acknowledged at once (Linux: quick-ACK mode again, so a restarting sender is not slowed)', () => {
    const c = pastQuickAck();
    c.h.advance(5000);
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(17), ack: c.u(1), data: 5 })).toEqual([out('ACK', c.u(1), c.p(22))]);
  });

  test('a pending ACK rides on data we send, and the delayed-ACK timer is cancelled (RFC 9293 §3.8.6.3)', () => {
    const c = pastQuickAck({ setup: (s) => s.setOption('noDelay', true) });
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(17), ack: c.u(1), data: 5 })).toEqual([]);
    c.s.send(bytes(3));
    expect(c.flush()).toEqual([out('PSH+ACK', c.u(1), c.p(22), 3)]);
    expect(c.advance(100)).toEqual([]); // no delayed ACK at 40 ms
    expect(c.send({ flags: 'ACK', seq: c.p(22), ack: c.u(4) })).toEqual([]);
    expect(c.advance(500)).toEqual([]);
  });
});
