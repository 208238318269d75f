import { describe, expect, test } from 'vitest';
import { type Duration, type Instant, millis, seconds } from '../../time/instant.js';
import { type Seq, seq, seqAdd } from '../seq.js';
import { Scoreboard, type SackRange } from './scoreboard.js';
import { RackTlp, sentAfter, WC_DEL_ACK_T } from './rack.js';

const MSS = 1000;
const ms = (n: number): Instant => millis(n) as number as Instant;
const P = (i: number): Seq => seq(1000 * i); // segment Pi is [1000i, 1000(i+1))
const blk = (from: number, to: number): SackRange => ({ start: P(from), end: P(to + 1) });

/** A sender that sent P1..Pn at the given times (ms). */
function sent(times: number[]): { sb: Scoreboard; rack: RackTlp } {
  const sb = new Scoreboard(P(1), MSS);
  times.forEach((t, i) => sb.onTransmit(P(i + 1), MSS, ms(t)));
  return { sb, rack: new RackTlp() };
}
/** Processes an ACK the way RFC 8985 §6.2 orders it: RTT sample, steps 2-3 per delivered segment, step 4, step 5. */
function ack(sb: Scoreboard, rack: RackTlp, now: Instant, cum: Seq, blocks: SackRange[], opts: { rtt?: Duration; inRecovery?: boolean; srtt?: Duration } = {}) {
  if (opts.rtt !== undefined) rack.onRttSample(opts.rtt);
  const u = sb.onAck(cum, blocks, (s) => rack.onDelivered(s, now));
  rack.onAck(sb.highAck, sb.highData, u.dsack !== undefined);
  return { u, ...rack.detectLoss(sb, now, opts.inRecovery ?? false, opts.srtt) };
}

describe('RACK loss detection (RFC 8985 §6.2)', () => {
  test('RACK_sent_after orders by time, then by sequence', () => {
    expect(sentAfter(ms(2), P(1), ms(1), P(5))).toBe(true);
    expect(sentAfter(ms(1), P(5), ms(1), P(4))).toBe(true);
    expect(sentAfter(ms(1), P(4), ms(1), P(4))).toBe(false);
    expect(sentAfter(ms(0), P(9), ms(1), P(1))).toBe(false);
  });

  test('a segment sent before a delivered one is lost once RACK.rtt + reo_wnd (min_RTT/4) has passed; until then a timer', () => {
    // P1 at 0 ms, P2 at 1 ms, P3 at 2 ms; P1 is lost; the ACK at 100 ms SACKs P2-P3.
    const { sb, rack } = sent([0, 1, 2]);
    const r = ack(sb, rack, ms(100), P(1), [blk(2, 3)], { rtt: millis(98), srtt: millis(98) });
    expect(rack.xmitTs).toBe(ms(2));
    expect(rack.endSeq).toBe(P(4));
    expect(rack.rtt).toBe(millis(98));
    expect(rack.reoWnd).toBe(millis(24.5)); // two SACKed segments (< DupThresh), not in recovery: min_RTT/4
    expect(r.lost).toBe(0);
    expect(r.reoTimeout).toBe(ms(122.5)); // P1's xmit_ts + RACK.rtt + reo_wnd
    const later = rack.detectLoss(sb, ms(122.5), false, millis(98));
    expect(later.lost).toBe(MSS);
    expect(later.reoTimeout).toBeUndefined();
    expect(sb.nextSeg(0)).toEqual({ rule: 1, start: P(1), len: MSS });
  });

  test('with DupThresh segments SACKed and no reordering seen the window is 0 (RACK then acts like RFC 6675 fast retransmit)', () => {
    const { sb, rack } = sent([0, 1, 2, 3]);
    const r = ack(sb, rack, ms(100), P(1), [blk(2, 4)], { rtt: millis(97), srtt: millis(97) });
    expect(rack.reoWnd).toBe(0);
    expect(r.lost).toBe(MSS);
  });

  test('reordering seen (a never-retransmitted segment delivered below RACK.fack) keeps the window open, even in recovery', () => {
    const { sb, rack } = sent([0, 1, 2, 3, 4]);
    ack(sb, rack, ms(100), P(1), [blk(3, 3)], { rtt: millis(97) });
    expect(rack.reorderingSeen).toBe(false);
    ack(sb, rack, ms(101), P(1), [blk(2, 3)], { rtt: millis(100) }); // P2 arrives after P3
    expect(rack.reorderingSeen).toBe(true);
    const r = ack(sb, rack, ms(102), P(1), [blk(5, 5), blk(2, 3)], { srtt: millis(100), inRecovery: true });
    expect(rack.reoWnd).toBe(millis(97 / 4));
    expect(r.lost).toBe(0); // P1 (0 ms) + 98 ms + 24.25 ms is still ahead
    // P1 (0 ms) and P4 (3 ms) are both pending; the timer is the latest of their moments
    // ("timeout = max(remaining, timeout)"), by which time both can be judged.
    expect(r.reoTimeout).toBe(ms(3 + 98 + 24.25));
  });

  test('the window never exceeds SRTT', () => {
    const rack = new RackTlp();
    rack.onRttSample(millis(100));
    rack.reorderingSeen = true;
    rack.reoWndMult = 8;
    expect(rack.reorderWindow(false, 0, millis(150))).toBe(millis(150));
    expect(rack.reorderWindow(false, 0, millis(500))).toBe(millis(200));
  });

  test('D-SACK grows reo_wnd_mult once per round trip; 16 D-SACK-free recoveries reset it (§6.2 step 4)', () => {
    const rack = new RackTlp();
    rack.onAck(P(1), P(10), true);
    expect(rack.reoWndMult).toBe(2);
    expect(rack.dsackRound).toBe(P(10));
    expect(rack.reoWndPersist).toBe(16);
    rack.onAck(P(5), P(12), true); // same round: no further growth
    expect(rack.reoWndMult).toBe(2);
    rack.onAck(P(10), P(14), true); // SND.UNA reached dsack_round: a new round
    expect(rack.reoWndMult).toBe(3);
    for (let i = 0; i < 15; i++) rack.onRecoveryExit();
    expect(rack.reoWndMult).toBe(3);
    rack.onRecoveryExit();
    expect(rack.reoWndMult).toBe(1);
  });

  test('a lost retransmission is detected when a segment sent after it is delivered', () => {
    const { sb, rack } = sent([0, 1, 2, 3, 4]);
    ack(sb, rack, ms(100), P(1), [blk(2, 4)], { rtt: millis(96), srtt: millis(96) });
    sb.onTransmit(P(1), MSS, ms(100), 1); // fast retransmit of P1 at 100 ms
    sb.onTransmit(P(6), MSS, ms(101)); // new data P6
    expect(sb.nextSeg(0, { rescue: false, rule3: false })).toBeUndefined();
    // P6 is SACKed at 200 ms but P1's retransmission never arrives.
    const r = ack(sb, rack, ms(200), P(1), [blk(6, 6), blk(2, 4)], { rtt: millis(99), srtt: millis(97), inRecovery: true });
    expect(rack.xmitTs).toBe(ms(101));
    expect(r.lost).toBe(2 * MSS); // P1's retransmission (100 ms) and P5 (4 ms), both sent before P6
    expect(sb.nextSeg(0, { rescue: false })).toEqual({ rule: 1, start: P(1), len: MSS });
  });

  test('an ambiguous ACK of a retransmitted segment does not move RACK: RTT below min_RTT, or a TSecr older than the retransmission', () => {
    const { sb, rack } = sent([0, 1]);
    rack.onRttSample(millis(50));
    sb.onTransmit(P(1), MSS, ms(90), 1);
    const seg = sb.find(P(1));
    if (seg === undefined) throw new Error('no P1');
    rack.onDelivered(seg, ms(100)); // 10 ms after the retransmission: must be the original's ACK
    expect(rack.xmitTs).toBeUndefined();
    rack.onDelivered(seg, ms(200), ms(50)); // the echoed TSval predates the retransmission
    expect(rack.xmitTs).toBeUndefined();
    rack.onDelivered(seg, ms(200), ms(90));
    expect(rack.xmitTs).toBe(ms(90));
    expect(rack.rtt).toBe(millis(110));
  });

  test('on RTO, the segment at SND.UNA and every segment past RACK.rtt + reo_wnd are marked lost (§6.3)', () => {
    const { sb, rack } = sent([0, 1, 2, 300, 301]);
    ack(sb, rack, ms(100), P(1), [blk(3, 3)], { rtt: millis(98), srtt: millis(98) }); // RACK.rtt = 98 ms
    rack.reorderingSeen = true;
    rack.reoWnd = 0 as Duration;
    const lost = rack.markLossesOnRto(sb, ms(350));
    expect(lost).toBe(2 * MSS); // P1 (SND.UNA) and P2 (1 + 98 <= 350); P4, P5 (300, 301) are recent
    expect([...sb.segments()].filter((s) => s.lost).map((s) => s.start)).toEqual([P(1), P(2)]);
    expect(sb.recoveryPoint).toBe(P(6));
  });
});

describe('Tail loss probes (RFC 8985 §7)', () => {
  test('PTO = 2*SRTT; plus WCDelAckT with one segment in flight; 1 s without SRTT; never after the RTO', () => {
    const rack = new RackTlp();
    expect(rack.ptoDeadline(ms(1000), millis(100), 5, undefined)).toBe(ms(1200));
    expect(rack.ptoDeadline(ms(1000), millis(100), 1, undefined)).toBe(ms(1200) + WC_DEL_ACK_T);
    expect(rack.ptoDeadline(ms(1000), undefined, 5, undefined)).toBe(ms(1000) + seconds(1));
    expect(rack.ptoDeadline(ms(1000), millis(100), 5, ms(1150))).toBe(ms(1150));
  });

  test('the PTO is armed only when SACK is on, nothing is SACKed, no recovery is under way and no probe is out', () => {
    const rack = new RackTlp();
    const ok = { sackOk: true, inRecovery: false, segsSacked: 0, flight: 1000 };
    expect(rack.shouldArmPto(ok)).toBe(true);
    expect(rack.shouldArmPto({ ...ok, sackOk: false })).toBe(false);
    expect(rack.shouldArmPto({ ...ok, inRecovery: true })).toBe(false);
    expect(rack.shouldArmPto({ ...ok, segsSacked: 1 })).toBe(false);
    expect(rack.shouldArmPto({ ...ok, flight: 0 })).toBe(false);
    rack.onProbeSent(P(9), false);
    expect(rack.shouldArmPto(ok)).toBe(false);
  });

  test('tail loss: P9 and P10 are lost; the probe retransmits P10, its SACK lets RACK find P9, and the repair calls for a cwnd reduction', () => {
    // P1..P10 sent at 0-9 ms; ACK of P1-P8 at 100 ms; SRTT 100 ms: PTO at 300 ms.
    const { sb, rack } = sent([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    ack(sb, rack, ms(108), P(9), [], { rtt: millis(100), srtt: millis(100) });
    expect(rack.shouldArmPto({ sackOk: true, inRecovery: false, segsSacked: 0, flight: sb.flight })).toBe(true);
    expect(rack.ptoDeadline(ms(108), millis(100), 2, ms(108 + 300))).toBe(ms(308));
    // The PTO fires with no new data to send: retransmit the last segment, P10.
    const probe = rack.probe(0, MSS, sb);
    expect(probe).toEqual({ kind: 'retransmit', start: P(10), len: MSS });
    sb.onTransmit(P(10), MSS, ms(308));
    rack.onProbeSent(sb.highData, true);
    expect(rack.probe(0, MSS, sb)).toEqual({ kind: 'none' }); // one probe per tail
    // The probe arrives: ACK 9 with SACK of P10 at 408 ms. RACK marks P9 (sent at 8 ms) lost at once.
    const r = ack(sb, rack, ms(408), P(9), [blk(10, 10)], { srtt: millis(100) });
    expect(r.lost).toBe(MSS);
    expect(sb.nextSeg(0, { rescue: false })).toEqual({ rule: 1, start: P(9), len: MSS });
    expect(rack.onAckForProbe({ ack: P(9), dsack: undefined, isDupAck: true, hasSack: true })).toBe('none');
    // P9's retransmission is acknowledged: ACK 11 = TLP.end_seq. The episode waits for more
    // evidence (a D-SACK would mean no loss); an ACK beyond TLP.end_seq means the probe repaired one.
    expect(rack.onAckForProbe({ ack: P(11), dsack: undefined, isDupAck: false, hasSack: false })).toBe('none');
    expect(rack.onAckForProbe({ ack: P(12), dsack: undefined, isDupAck: false, hasSack: false })).toBe('loss-repaired');
    expect(rack.tlpEndSeq).toBeUndefined();
  });

  test('a probe of new data that is acknowledged ends the episode without a loss', () => {
    const { sb, rack } = sent([0, 1]);
    expect(rack.probe(5000, MSS, sb)).toEqual({ kind: 'new-data', len: MSS });
    sb.onTransmit(P(3), MSS, ms(300));
    rack.onProbeSent(sb.highData, false);
    expect(rack.onAckForProbe({ ack: P(3), dsack: undefined, isDupAck: false, hasSack: false })).toBe('none');
    expect(rack.onAckForProbe({ ack: P(4), dsack: undefined, isDupAck: false, hasSack: false })).toBe('no-loss');
  });

  test('a D-SACK for the retransmitted probe, or a plain duplicate ACK, says both copies arrived: no loss', () => {
    const { sb, rack } = sent([0, 1]);
    sb.onTransmit(P(2), MSS, ms(300));
    rack.onProbeSent(sb.highData, true);
    expect(rack.onAckForProbe({ ack: P(3), dsack: { start: P(2), end: P(3) }, isDupAck: true, hasSack: true })).toBe('no-loss');
    rack.onProbeSent(sb.highData, true);
    expect(rack.onAckForProbe({ ack: P(3), dsack: undefined, isDupAck: true, hasSack: false })).toBe('no-loss');
    expect(seqAdd(P(1), 0)).toBe(P(1));
  });
});
