import { describe, expect, test } from 'vitest';
import type { Instant } from '../../time/instant.js';
import { type Seq, seq, seqAdd } from '../seq.js';
import { Scoreboard, type SackRange } from './scoreboard.js';

const T = 0 as Instant;
const b = (start: number, end: number): SackRange => ({ start: seq(start), end: seq(end) });
/** RFC 2018 §6: "the data sender sends eight segments of 500 bytes each, starting at 5000". */
function rfc2018(): Scoreboard {
  const sb = new Scoreboard(seq(5000), 500);
  for (let i = 0; i < 8; i++) sb.onTransmit(seq(5000 + 500 * i), 500, T);
  return sb;
}
const marks = (sb: Scoreboard): string[] =>
  [...sb.segments()].map((s) => `${s.start}-${s.end}${s.sacked ? ' S' : ''}${s.lost ? ' L' : ''}${s.retrans ? ' R' : ''}`);

describe('RFC 2018 §6 examples, seen by the sender', () => {
  test('case 1: the first 4 segments arrive, the last 4 are dropped: ACK 7000 without SACK', () => {
    const sb = rfc2018();
    const u = sb.onAck(seq(7000), []);
    expect(u.cumAcked).toBe(2000);
    expect(u.delivered).toBe(2000);
    expect(u.newSackInfo).toBe(false);
    expect(sb.highAck).toBe(7000);
    expect(sb.flight).toBe(2000);
    expect(sb.isLost(seq(7000))).toBe(false);
    expect(sb.nextSeg(0)).toBeUndefined(); // nothing SACKed, not in recovery: no rule applies
  });

  test('case 2: the first segment is dropped; each of the other 7 brings ACK 5000 with a growing block 5500-...', () => {
    const sb = rfc2018();
    const lostAt: boolean[] = [];
    for (let i = 1; i <= 7; i++) {
      const u = sb.onAck(seq(5000), [b(5500, 5500 + 500 * i)]);
      expect(u.cumAcked).toBe(0);
      expect(u.newlySacked).toBe(500);
      expect(u.newSackInfo).toBe(true);
      expect(u.dsack).toBeUndefined();
      lostAt.push(sb.isLost(seq(5000)));
    }
    // IsLost: DupThresh (3) SACKed segments, or more than 2*SMSS = 1000 bytes SACKed, above 5000.
    expect(lostAt).toEqual([false, false, true, true, true, true, true]);
    expect(sb.sackedBytes).toBe(3500);
    expect(sb.markLostByDupThresh()).toBe(500);
    expect(sb.pipe()).toBe(0); // 4000 outstanding - 3500 SACKed - 500 lost
    expect(sb.nextSeg(0)).toEqual({ rule: 1, start: 5000, len: 500 });
    sb.onTransmit(seq(5000), 500, T, 1);
    expect(sb.pipe()).toBe(500);
    expect(sb.highRxt).toBe(5500);
    // The retransmission fills the hole: everything is acknowledged; only the 500 retransmitted bytes are newly delivered.
    const u = sb.onAck(seq(9000), []);
    expect(u.cumAcked).toBe(4000);
    expect(u.delivered).toBe(500);
    expect(sb.length).toBe(0);
    expect(sb.sackedBytes + sb.lostBytes + sb.retransBytes).toBe(0);
  });

  test('case 3: the 2nd, 4th, 6th and 8th segments are dropped', () => {
    const sb = rfc2018();
    // Triggering segment 5000: ACK 5500. 6000: ACK 5500, 6000-6500. 7000: ACK 5500, 7000-7500, 6000-6500. 8000: ACK 5500, 8000-8500, 7000-7500, 6000-6500.
    expect(sb.onAck(seq(5500), []).cumAcked).toBe(500);
    sb.onAck(seq(5500), [b(6000, 6500)]);
    sb.onAck(seq(5500), [b(7000, 7500), b(6000, 6500)]);
    const u = sb.onAck(seq(5500), [b(8000, 8500), b(7000, 7500), b(6000, 6500)]);
    expect(u.newlySacked).toBe(500);
    expect(u.dsack).toBeUndefined();
    expect(sb.isLost(seq(5500))).toBe(true); // three SACKed segments above
    expect(sb.isLost(seq(6500))).toBe(false); // two segments, 1000 bytes: not more than 2*SMSS
    expect(sb.isLost(seq(7500))).toBe(false);
    expect(sb.isLost(seq(8500))).toBe(false);
    sb.markLostByDupThresh();
    expect(marks(sb)).toEqual(['5500-6000 L', '6000-6500 S', '6500-7000', '7000-7500 S', '7500-8000', '8000-8500 S', '8500-9000']);
    // "Suppose the 4th packet is received out of order ... ACK 5500, First Block 6000-7500, Second Block 8000-8500".
    const v = sb.onAck(seq(5500), [b(6000, 7500), b(8000, 8500)]);
    expect(v.newlySacked).toBe(500);
    expect(sb.isLost(seq(7500))).toBe(false);
    // "Suppose at this point, the 2nd segment is received. The data receiver then replies with ... ACK 7500, First Block 8000-8500".
    const w = sb.onAck(seq(7500), [b(8000, 8500)]);
    expect(w.cumAcked).toBe(2000);
    expect(w.delivered).toBe(500); // 6000-7500 was already SACKed
    expect(w.newSackInfo).toBe(false);
    expect(marks(sb)).toEqual(['7500-8000', '8000-8500 S', '8500-9000']);
    expect(sb.sackedBytes).toBe(500);
    expect(sb.lostBytes).toBe(0);
  });
});

describe('SACK block validation and D-SACK detection (RFC 2018 §3, RFC 2883 §4)', () => {
  test('a first block below the cumulative ACK is a D-SACK and marks nothing', () => {
    const sb = rfc2018();
    sb.onAck(seq(6000), []);
    const u = sb.onAck(seq(6000), [b(5000, 5500)]);
    expect(u.dsack).toEqual(b(5000, 5500));
    expect(u.newlySacked).toBe(0);
    expect(u.invalidBlocks).toBe(0);
  });

  test('a first block inside the second is a D-SACK; the second still SACKs', () => {
    const sb = rfc2018();
    const u = sb.onAck(seq(5000), [b(6000, 6500), b(5500, 7000)]);
    expect(u.dsack).toEqual(b(6000, 6500));
    expect(u.newlySacked).toBe(1500);
  });

  test('blocks beyond SND.NXT, empty or inverted blocks, and blocks below SND.UNA are ignored', () => {
    const sb = rfc2018();
    sb.onAck(seq(5500), []);
    const u = sb.onAck(seq(5500), [b(8500, 9500), b(7000, 7000), b(7500, 7000)]);
    expect(u.invalidBlocks).toBe(3);
    expect(u.newlySacked).toBe(0);
    // A block straddling SND.UNA is clipped to it (not a D-SACK only when it is not first).
    const v = sb.onAck(seq(5500), [b(6000, 6500), b(5000, 6000)]);
    expect(v.dsack).toBeUndefined();
    expect(v.newlySacked).toBe(1000);
    expect(sb.sackedBytes).toBe(1000);
  });

  test('SACK blocks that cut segments split them, and wrap-around of sequence numbers is handled', () => {
    const base = seq(0xffffff00);
    const sb = new Scoreboard(base, 1000);
    sb.onTransmit(base, 1000, T); // spans 2^32
    sb.onTransmit(seqAdd(base, 1000), 1000, T);
    const u = sb.onAck(base, [{ start: seqAdd(base, 300), end: seqAdd(base, 1200) }]);
    expect(u.newlySacked).toBe(900);
    expect([...sb.segments()].map((s) => [s.start, s.end, s.sacked])).toEqual([
      [base, seqAdd(base, 300), false],
      [seqAdd(base, 300), seqAdd(base, 1000), true],
      [seqAdd(base, 1000), seqAdd(base, 1200), true],
      [seqAdd(base, 1200), seqAdd(base, 2000), false],
    ]);
    expect(sb.onAck(seqAdd(base, 2000), []).delivered).toBe(1100);
  });
});

describe('RFC 6675 §4 routines', () => {
  // Ten 1000-byte segments 0..9 at 1000; segment i is [1000(i+1), 1000(i+2)).
  const ten = (): Scoreboard => {
    const sb = new Scoreboard(seq(1000), 1000);
    for (let i = 0; i < 10; i++) sb.onTransmit(seq(1000 * (i + 1)), 1000, T);
    return sb;
  };
  const s = (i: number): Seq => seq(1000 * (i + 1));

  test('IsLost: three small SACKed segments count though they are under 2*SMSS bytes (the DupThresh clause)', () => {
    const sb = new Scoreboard(seq(0), 1000);
    for (let i = 0; i < 5; i++) sb.onTransmit(seq(100 * i), 100, T);
    sb.onAck(seq(0), [b(100, 200), b(300, 400)]);
    expect(sb.isLost(seq(0))).toBe(false);
    sb.onAck(seq(0), [b(400, 500), b(100, 200), b(300, 400)]);
    expect(sb.isLost(seq(0))).toBe(true); // three discontiguous SACKed sequences, 300 bytes
    expect(sb.isLost(seq(200))).toBe(false);
  });

  test('SetPipe: lost octets leave pipe, retransmitted ones come back (rules (a) and (b))', () => {
    const sb = ten();
    sb.onAck(s(0), [b(s(1), s(4))]); // segment 0 lost, 1-3 SACKed
    expect(sb.pipe()).toBe(7000); // 10000 - 3000 SACKed (nothing marked lost yet)
    sb.markLostByDupThresh();
    expect(sb.pipe()).toBe(6000);
    sb.onTransmit(s(0), 1000, T, 1);
    expect(sb.pipe()).toBe(7000);
    expect(sb.highRxt).toBe(s(1));
  });

  test('NextSeg rule 1 then rule 2 then rule 3, with HighRxt moving through (C.2)', () => {
    const sb = ten();
    sb.enterRecovery();
    sb.onAck(s(0), [b(s(5), s(8)), b(s(2), s(3))]); // 0,1 lost (4 segments SACKed above), 3,4 not yet
    sb.markLostByDupThresh();
    expect(sb.isLost(s(3))).toBe(true); // 5,6,7 above: three segments
    expect(sb.isLost(s(8))).toBe(false);
    expect(sb.nextSeg(5000)).toEqual({ rule: 1, start: s(0), len: 1000 });
    sb.onTransmit(s(0), 1000, T, 1);
    expect(sb.nextSeg(5000)).toEqual({ rule: 1, start: s(1), len: 1000 });
    sb.onTransmit(s(1), 1000, T, 1);
    expect(sb.nextSeg(5000)?.rule).toBe(1); // 3 and 4 are lost too (IsLost is monotone)
    sb.onTransmit(s(3), 1000, T, 1);
    sb.onTransmit(s(4), 1000, T, 1);
    expect(sb.highRxt).toBe(s(5));
    expect(sb.nextSeg(500)).toEqual({ rule: 2, start: s(10), len: 500 });
    // With no new data allowed, rule 3 offers the unSACKed, un-lost segments below the highest SACK: none (8, 9 are above it).
    expect(sb.nextSeg(0, { rescue: false })).toBeUndefined();
    sb.onAck(s(0), [b(s(9), s(10)), b(s(5), s(8))]);
    expect(sb.isLost(s(8))).toBe(false); // only one segment SACKed above
    expect(sb.nextSeg(0, { rescue: false })).toEqual({ rule: 3, start: s(8), len: 1000 });
    sb.onTransmit(s(8), 1000, T, 3);
    expect(sb.highRxt).toBe(s(9));
    expect(sb.nextSeg(0, { rescue: false })).toBeUndefined();
  });

  test('NextSeg rule 4: one rescue retransmission of the highest unSACKed segment per recovery; HighRxt unchanged', () => {
    const sb = ten();
    // Tail: segments 0..9 outstanding, nothing SACKed, in recovery.
    sb.enterRecovery();
    expect(sb.recoveryPoint).toBe(s(10));
    expect(sb.nextSeg(0)).toEqual({ rule: 4, start: s(9), len: 1000 });
    sb.onTransmit(s(9), 1000, T, 4);
    expect(sb.rescueRxt).toBe(s(10));
    expect(sb.highRxt).toBe(s(0));
    expect(sb.pipe()).toBe(10000); // not counted twice: HighRxt did not move
    expect(sb.nextSeg(0)).toBeUndefined();
    // Only when HighACK passes RescueRxt may another rescue be sent.
    sb.onAck(s(9), []);
    expect(sb.nextSeg(0)).toBeUndefined();
  });

  test('an RTO marks every unSACKed segment lost, clears earlier retransmissions, and restarts at HighACK', () => {
    const sb = ten();
    sb.onAck(s(0), [b(s(4), s(7))]);
    sb.markLostByDupThresh();
    sb.onTransmit(s(0), 1000, T, 1);
    expect(sb.retransBytes).toBe(1000);
    sb.onRetransmitTimeout();
    expect(sb.retransBytes).toBe(0);
    expect(sb.lostBytes).toBe(7000);
    expect(sb.pipe()).toBe(0);
    expect(sb.highRxt).toBe(s(0));
    expect(sb.recoveryPoint).toBe(s(10));
    const order: number[] = [];
    for (let n = sb.nextSeg(0, { rescue: false }); n !== undefined; n = sb.nextSeg(0, { rescue: false })) {
      order.push((n.start - 1000) / 1000);
      sb.onTransmit(n.start, n.len, T, n.rule);
    }
    expect(order).toEqual([0, 1, 2, 3, 7, 8, 9]); // SACKed 4-6 are skipped
  });

  test('RACK-style marking of a retransmitted segment makes it eligible for retransmission again', () => {
    const sb = ten();
    sb.onAck(s(0), [b(s(1), s(4))]);
    sb.markLostByDupThresh();
    sb.onTransmit(s(0), 1000, T, 1);
    expect(sb.nextSeg(0, { rule3: false, rescue: false })).toBeUndefined();
    const seg = [...sb.segments()][0];
    if (seg === undefined) throw new Error('no segment');
    expect(sb.markSegmentLost(seg as never)).toBe(1000);
    expect(sb.nextSeg(0)).toEqual({ rule: 1, start: s(0), len: 1000 });
  });
});
