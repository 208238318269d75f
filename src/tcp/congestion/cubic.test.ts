import { describe, expect, test } from 'vitest';
import type { Instant } from '../../time/instant.js';
import { millis, seconds } from '../../time/instant.js';
import { CUBIC_ALPHA, CUBIC_BETA, CUBIC_C, Cubic, cubicK, cubicTarget, wCubic } from './cubic.js';
import type { AckSample } from './cc.js';

const MSS = 1000;
const at = (us: number): Instant => us as Instant;
const ack = (now: Instant, acked = MSS, srtt = millis(100)): AckSample => ({ now, acked, inflight: 0, cwndLimited: true, srtt });
/** A CUBIC connection that has just reduced from `cwnd` segments after a loss, as recovery leaves it: cwnd = ssthresh. */
function afterLoss(cwndSegs: number, now = at(0)): Cubic {
  const cc = new Cubic({ mss: MSS, initialCwnd: 10, now });
  cc.cwnd = cwndSegs * MSS;
  cc.ssthresh = cc.ssthreshOnLoss(cc.cwnd, now);
  cc.cwnd = cc.ssthresh;
  return cc;
}

describe('CUBIC constants and equations (RFC 9438 §4.1-4.3, §5.1)', () => {
  test('C = 0.4, beta_cubic = 0.7, alpha_cubic = 3(1-beta)/(1+beta)', () => {
    expect(CUBIC_C).toBe(0.4);
    expect(CUBIC_BETA).toBe(0.7);
    expect(CUBIC_ALPHA).toBeCloseTo(0.9 / 1.7, 12);
  });

  test('K = cbrt((W_max - cwnd_epoch)/C) equals RFC 8312\'s cbrt(W_max(1-beta)/C) right after a reduction', () => {
    expect(cubicK(100, 70)).toBeCloseTo(4.217163326508746, 12); // cbrt(75)
    expect(cubicK(100, 70)).toBeCloseTo(Math.cbrt((100 * (1 - CUBIC_BETA)) / CUBIC_C), 12);
    expect(cubicK(1000, 700)).toBeCloseTo(Math.cbrt(750), 12);
    expect(cubicK(50, 50)).toBe(0);
    expect(cubicK(50, 60)).toBeLessThan(0); // cwnd_epoch above W_max: already in the convex region
  });

  test('W_cubic(t) = C(t-K)^3 + W_max at several t (W_max = 100 segments)', () => {
    const k = cubicK(100, 70);
    // Values worked from the formula: at t = 0 the window is cwnd_epoch, at t = K it is W_max,
    // and the curve is point-symmetric about (K, W_max).
    expect(wCubic(0, k, 100)).toBeCloseTo(70, 9);
    expect(wCubic(1, k, 100)).toBeCloseTo(86.68076383512988, 9);
    expect(wCubic(2, k, 100)).toBeCloseTo(95.64033568663878, 9);
    expect(wCubic(k, k, 100)).toBe(100);
    expect(wCubic(5, k, 100)).toBeCloseTo(100.1918993394395, 9);
    expect(wCubic(10, k, 100)).toBeCloseTo(177.35399908835427, 9);
    expect(wCubic(2 * k, k, 100)).toBeCloseTo(130, 9);
  });

  test('the target is W_cubic(t+RTT) clamped to [cwnd, 1.5*cwnd]', () => {
    expect(cubicTarget(60, 70)).toBe(70);
    expect(cubicTarget(80, 70)).toBe(80);
    expect(cubicTarget(200, 70)).toBe(105);
  });
});

describe('CUBIC multiplicative decrease and fast convergence (RFC 9438 §4.6-4.7)', () => {
  test('ssthresh = 0.7*cwnd and W_max = cwnd on the first loss (not 0.5: the smoltcp bug)', () => {
    const cc = new Cubic({ mss: MSS, initialCwnd: 10, now: at(0) });
    cc.cwnd = 100 * MSS;
    expect(cc.ssthreshOnLoss(100 * MSS, at(0))).toBe(70 * MSS);
    expect(cc.wMax).toBe(100);
    expect(cc.cwndPrior).toBe(100);
  });

  test('fast convergence: a loss below the previous W_max sets W_max = cwnd(1+beta)/2', () => {
    const cc = afterLoss(100);
    cc.cwnd = 80 * MSS;
    expect(cc.ssthreshOnLoss(80 * MSS, at(0))).toBe(56 * MSS);
    expect(cc.wMax).toBeCloseTo(68, 9); // 80 * 1.7 / 2
    // A loss above W_max remembers cwnd as it is.
    cc.cwnd = 90 * MSS;
    cc.ssthreshOnLoss(90 * MSS, at(0));
    expect(cc.wMax).toBe(90);
  });

  test('ssthresh is at least 2 segments', () => {
    const cc = new Cubic({ mss: MSS, initialCwnd: 2, now: at(0) });
    expect(cc.ssthreshOnLoss(2 * MSS, at(0))).toBe(2 * MSS);
  });
});

describe('CUBIC window increase (RFC 9438 §4.2-4.5)', () => {
  test('slow start below ssthresh (§4.10)', () => {
    const cc = new Cubic({ mss: MSS, initialCwnd: 10, now: at(0) });
    cc.congAvoid(ack(at(1000)));
    expect(cc.cwnd).toBe(11 * MSS);
    expect(cc.tEpoch).toBeUndefined();
  });

  test('the first ACK in congestion avoidance starts the epoch: t_epoch, cwnd_epoch, K, W_est', () => {
    const cc = afterLoss(100);
    cc.congAvoid(ack(at(1_000_000)));
    expect(cc.tEpoch).toBe(1_000_000);
    expect(cc.cwndEpoch).toBe(70);
    expect(cc.k).toBeCloseTo(Math.cbrt(75), 12);
  });

  test('concave region: cwnd grows by (target - cwnd)/cwnd per SMSS acknowledged, t from microsecond Instants', () => {
    const cc = afterLoss(100);
    cc.congAvoid(ack(at(1_000_000))); // epoch starts at 1 s (Reno-friendly nudge: W_est just above 70)
    const cwnd0 = cc.cwnd / MSS;
    const west0 = cc.wEst;
    // One second into the epoch: W_cubic(1) = 86.68 is well above W_est, so the cubic rules.
    cc.congAvoid(ack(at(2_000_000)));
    const target = wCubic(1 + 0.1, Math.cbrt(75), 100); // t + RTT, RTT = SRTT = 100 ms
    expect(target).toBeCloseTo(87.88457465954372, 9);
    const expected = Math.floor(cwnd0 * MSS + ((target - cwnd0) / cwnd0) * MSS);
    expect(cc.cwnd).toBe(expected);
    expect(cc.wEst).toBeCloseTo(west0 + CUBIC_ALPHA / cwnd0, 12);
  });

  test('convex region: far beyond K the target is clamped to 1.5*cwnd, half a segment per segment acknowledged', () => {
    const cc = afterLoss(100);
    cc.congAvoid(ack(at(0)));
    const before = cc.cwnd;
    cc.congAvoid(ack(at(seconds(30)), 4 * MSS));
    // (1.5 cwnd - cwnd)/cwnd * 4 segments = 2 segments.
    expect(cc.cwnd).toBe(before + 2 * MSS);
  });

  test('Reno-friendly region: with many ACKs in little time W_est (alpha = 0.529) overtakes W_cubic and sets cwnd', () => {
    const cc = afterLoss(100);
    let west = 70;
    let cwnd = 70 * MSS;
    const t = at(0);
    for (let i = 0; i < 100; i++) {
      cc.congAvoid(ack(t, MSS, millis(1)));
      // Independent model of §4.3 while W_cubic(0) = 70 < W_est.
      west += (CUBIC_ALPHA * 1) / (cwnd / MSS);
      cwnd = Math.max(cwnd, Math.floor(west * MSS));
      expect(cc.cwnd).toBe(cwnd);
    }
    expect(cc.wEst).toBeCloseTo(west, 9);
    expect(cc.cwnd).toBeGreaterThan(70 * MSS);
    expect(cc.alpha).toBe(CUBIC_ALPHA);
  });

  test('alpha_cubic becomes 1 once W_est reaches cwnd_prior (§4.3)', () => {
    const cc = afterLoss(100);
    cc.congAvoid(ack(at(0)));
    cc.wEst = 99.99; // as if long in the Reno-friendly region
    cc.congAvoid(ack(at(0), 2 * MSS));
    expect(cc.wEst).toBeGreaterThanOrEqual(100);
    expect(cc.alpha).toBe(1);
  });

  test('no growth when not cwnd-limited (§5.8)', () => {
    const cc = afterLoss(100);
    cc.congAvoid({ ...ack(at(seconds(3))), cwndLimited: false });
    expect(cc.cwnd).toBe(70 * MSS);
    expect(cc.tEpoch).toBeUndefined();
  });
});

describe('CUBIC after a timeout, idle periods and undo (RFC 9438 §4.8, §4.9, §5.8)', () => {
  test('after an RTO the next epoch has K = 0 and W_max = W_est = cwnd_epoch', () => {
    const cc = afterLoss(100);
    cc.congAvoid(ack(at(0)));
    cc.cwnd = 80 * MSS;
    cc.ssthresh = cc.ssthreshOnLoss(80 * MSS, at(seconds(1)));
    expect(cc.ssthresh).toBe(56 * MSS);
    cc.setState('loss', at(seconds(1)));
    cc.cwnd = MSS;
    // Slow start up to ssthresh, then the first congestion-avoidance ACK.
    cc.cwnd = 56 * MSS;
    cc.setState('open', at(seconds(2)));
    cc.congAvoid(ack(at(seconds(2))));
    expect(cc.k).toBe(0);
    expect(cc.cwndEpoch).toBe(56);
    expect(cc.wMax).toBe(56);
    expect(wCubic(0, cc.k, cc.wMax ?? 0)).toBe(56);
  });

  test('a transmission after idle moves the epoch forward by the idle time, never past now', () => {
    const cc = afterLoss(100);
    cc.congAvoid(ack(at(seconds(1))));
    cc.cwndEvent({ kind: 'tx-start', idle: seconds(3) }, at(seconds(5)));
    expect(cc.tEpoch).toBe(seconds(4));
    cc.cwndEvent({ kind: 'tx-start', idle: seconds(10) }, at(seconds(6)));
    expect(cc.tEpoch).toBe(seconds(6));
  });

  test('undo restores W_max, K and the epoch, and cwnd to the prior value', () => {
    const cc = afterLoss(100);
    cc.congAvoid(ack(at(0)));
    const snapshot = { wMax: cc.wMax, k: cc.k, tEpoch: cc.tEpoch, wEst: cc.wEst };
    cc.cwnd = 90 * MSS;
    cc.ssthresh = cc.ssthreshOnLoss(90 * MSS, at(seconds(1)));
    cc.cwnd = cc.ssthresh;
    expect(cc.wMax).toBe(90 * 1.7 / 2);
    expect(cc.undoCwnd(90 * MSS)).toBe(90 * MSS);
    expect({ wMax: cc.wMax, k: cc.k, tEpoch: cc.tEpoch, wEst: cc.wEst }).toEqual(snapshot);
  });
});
