import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { RttEstimator, SYN_FALLBACK_RTO } from './rtt.js';
import { type Duration, micros, millis, seconds } from '../time/instant.js';

// With the floor at 1 µs the RFC 6298 §2 formulas show through unclamped.
const raw = (): RttEstimator => new RttEstimator({ minRto: micros(1) });

describe('RttEstimator (RFC 6298)', () => {
  test('§2.1: before any sample RTO is 1 s and SRTT is unset', () => {
    const e = new RttEstimator();
    expect(e.srtt).toBeUndefined();
    expect(e.rttvar).toBe(0);
    expect(e.rto).toBe(seconds(1));
    expect(e.backoffCount).toBe(0);
  });

  test('§2.2: the first sample sets SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, 4 RTTVAR)', () => {
    const e = raw();
    e.sample(millis(100));
    expect(e.srtt).toBe(millis(100));
    expect(e.rttvar).toBe(millis(50));
    expect(e.rto).toBe(millis(300));
  });

  test('§2.3: later samples update RTTVAR (with the old SRTT) and then SRTT, alpha 1/8, beta 1/4', () => {
    const e = raw();
    e.sample(millis(100));
    e.sample(millis(200));
    // RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5 ms; SRTT = 7/8 * 100 + 1/8 * 200 = 112.5 ms.
    expect(e.rttvar).toBe(micros(62_500));
    expect(e.srtt).toBe(micros(112_500));
    expect(e.rto).toBe(micros(362_500)); // 112.5 + 4 * 62.5
    e.sample(millis(100));
    // RTTVAR = 3/4 * 62.5 + 1/4 * 12.5 = 50 ms; SRTT = 7/8 * 112.5 + 1/8 * 100 = 110.9375 ms.
    expect(e.rttvar).toBe(millis(50));
    expect(e.srtt).toBe(micros(110_938)); // 110937.5 rounds to nearest
    expect(e.rto).toBe(micros(310_938)); // 310937.5 rounds up: never fire early
  });

  test('§2.3: G keeps RTO above SRTT when the variance decays to nothing', () => {
    const e = raw();
    for (let i = 0; i < 100; i++) e.sample(millis(10));
    expect(e.srtt).toBe(millis(10));
    expect(e.rttvar).toBe(0);
    expect(e.rto).toBe(millis(11)); // SRTT + G (1 ms)
    const g = new RttEstimator({ minRto: micros(1), granularity: millis(10) });
    for (let i = 0; i < 100; i++) g.sample(millis(10));
    expect(g.rto).toBe(millis(20));
  });

  test('Deviation from §2.4: the floor is 200 ms by default (Linux TCP_RTO_MIN), configurable, and floors the variation term as Linux does', () => {
    const e = new RttEstimator();
    e.sample(millis(10));
    expect(e.srtt).toBe(millis(10));
    // Linux (tcp_set_rto): RTO = SRTT + max(K*RTTVAR, RTO_min) = 10 + 200 ms, the "rto:210" of `ss -i`.
    expect(e.rto).toBe(millis(210));
    const rfc = new RttEstimator({ minRto: seconds(1) });
    rfc.sample(millis(10));
    expect(rfc.rto).toBe(millis(1010));
  });

  test('§2.5: the ceiling is 120 s by default, configurable', () => {
    const e = new RttEstimator();
    e.sample(seconds(100)); // 100 + 4 * 50 = 300 s
    expect(e.rto).toBe(seconds(120));
    const f = new RttEstimator({ maxRto: seconds(60) });
    f.sample(seconds(30));
    expect(f.rto).toBe(seconds(60));
  });

  test('the initial RTO is configurable and clamped', () => {
    expect(new RttEstimator({ initialRto: seconds(3) }).rto).toBe(seconds(3));
    expect(new RttEstimator({ initialRto: millis(1) }).rto).toBe(millis(200));
  });

  test('§5.5: backoff doubles the RTO up to the ceiling; the count keeps going', () => {
    const e = new RttEstimator();
    e.sample(millis(100)); // RTO 300 ms
    const seen: Duration[] = [];
    for (let i = 0; i < 12; i++) {
      e.backoff();
      seen.push(e.rto);
    }
    expect(seen.slice(0, 4)).toEqual([millis(600), millis(1200), millis(2400), millis(4800)]);
    expect(seen[7]).toBe(millis(300 * 256)); // 76.8 s; the next doubling (153.6 s) is capped:
    expect(seen.slice(8).every((r) => r === seconds(120))).toBe(true);
    expect(e.backoffCount).toBe(12);
    for (let i = 0; i < 2000; i++) e.backoff();
    expect(e.rto).toBe(seconds(120));
  });

  test('resetBackoff returns to the computed RTO without touching SRTT', () => {
    const e = new RttEstimator();
    e.sample(millis(100));
    e.backoff();
    e.backoff();
    expect(e.rto).toBe(millis(1200));
    e.resetBackoff();
    expect(e.backoffCount).toBe(0);
    expect(e.rto).toBe(millis(300));
    expect(e.srtt).toBe(millis(100));
  });

  test('§5: a new sample collapses a backed-off RTO', () => {
    const e = new RttEstimator();
    e.backoff();
    e.backoff();
    expect(e.rto).toBe(seconds(4));
    e.sample(millis(50)); // 50 + max(4 * 25, 200) = 250 ms (the variation term floored at RTO_min, as Linux)
    expect(e.backoffCount).toBe(0);
    expect(e.rto).toBe(millis(250));
  });

  test('the rto setter imposes a clamped value and clears the backoff', () => {
    const e = new RttEstimator();
    e.backoff();
    e.rto = seconds(2);
    expect(e.rto).toBe(seconds(2));
    expect(e.backoffCount).toBe(0);
    e.rto = seconds(1000);
    expect(e.rto).toBe(seconds(120));
  });

  test('§5.7: after a retransmitted SYN with no sample, RTO becomes 3 s; a sample makes it moot', () => {
    const e = new RttEstimator();
    e.backoff();
    e.synRetransmitted();
    expect(e.rto).toBe(SYN_FALLBACK_RTO);
    expect(e.backoffCount).toBe(0);
    const f = new RttEstimator();
    f.sample(millis(100));
    f.synRetransmitted();
    expect(f.rto).toBe(millis(300));
  });

  test('a negative sample counts as zero', () => {
    const e = raw();
    e.sample(micros(-5));
    expect(e.srtt).toBe(0);
    expect(e.rto).toBe(millis(1));
  });

  test('rejects inconsistent bounds, naming them', () => {
    expect(() => new RttEstimator({ minRto: seconds(2), maxRto: seconds(1) })).toThrow(/minRto 2000000 µs, maxRto 1000000 µs/);
    expect(() => new RttEstimator({ minRto: micros(0) })).toThrow(RangeError);
  });

  test('property: RTO stays within [min, max], is at least SRTT + G below the cap, and backoff is monotonic', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 200_000_000 }), fc.constant(-1)), { maxLength: 60 }),
        (ops) => {
          const e = new RttEstimator();
          for (const op of ops) {
            const before = e.rto;
            if (op < 0) {
              e.backoff();
              expect(e.rto).toBeGreaterThanOrEqual(before);
            } else {
              e.sample(micros(op));
              expect(e.rto).toBeGreaterThanOrEqual(Math.min(seconds(120), e.srtt! + millis(1)));
            }
            expect(e.rto).toBeGreaterThanOrEqual(millis(200));
            expect(e.rto).toBeLessThanOrEqual(seconds(120));
            expect(Number.isInteger(e.rto)).toBe(true);
          }
        },
      ),
    );
  });
});
