// Tests for SimRng: the xoshiro128** reference vector, determinism, forking, and loose distribution checks.
import { describe, expect, test } from 'vitest';
import { SimRng, mix32 } from './rng.js';

describe('SimRng', () => {
  test('matches the xoshiro128** reference sequence from state {1, 2, 3, 4}', () => {
    const r = new SimRng(0);
    Object.assign(r, { s0: 1, s1: 2, s2: 3, s3: 4 }); // the reference implementation's test state
    const got = Array.from({ length: 6 }, () => r.nextU32());
    expect(got).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  test('the same seed gives the same stream; different seeds differ', () => {
    const a = new SimRng(42);
    const b = new SimRng(42);
    const c = new SimRng(43);
    const xa = Array.from({ length: 100 }, () => a.nextU32());
    const xb = Array.from({ length: 100 }, () => b.nextU32());
    const xc = Array.from({ length: 100 }, () => c.nextU32());
    expect(xa).toEqual(xb);
    expect(xa).not.toEqual(xc);
    expect(xa.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32)).toBe(true);
  });

  test('seeds use the low 32 bits and reject non-integers', () => {
    expect(new SimRng(2 ** 32 + 5).seed).toBe(5);
    expect(new SimRng(-1).seed).toBe(0xffffffff);
    expect(() => new SimRng(1.5)).toThrow(RangeError);
  });

  test('fork depends on seed and label only, not on draws from the parent', () => {
    const p1 = new SimRng(7);
    const p2 = new SimRng(7);
    for (let i = 0; i < 1000; i++) p2.nextU32();
    expect(p1.fork('link').nextU32()).toBe(p2.fork('link').nextU32());
    expect(p1.fork(3).nextU32()).toBe(p2.fork(3).nextU32());
  });

  test('forks with different labels, and nested forks in different orders, are different streams', () => {
    const p = new SimRng(7);
    const first = (r: SimRng): number[] => Array.from({ length: 4 }, () => r.nextU32());
    const streams = [p, p.fork('a'), p.fork('b'), p.fork(1), p.fork('1'), p.fork(2), p.fork('a').fork('b'), p.fork('b').fork('a')].map(first);
    const keys = new Set(streams.map((s) => s.join(',')));
    expect(keys.size).toBe(streams.length);
    expect(() => p.fork(0.5)).toThrow(RangeError);
  });

  test('float is in [0, 1) with a sane mean', () => {
    const r = new SimRng(1);
    let sum = 0;
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = r.float();
      if (!(x >= 0 && x < 1)) outside++;
      sum += x;
    }
    expect(outside).toBe(0);
    expect(sum / 100_000).toBeGreaterThan(0.49);
    expect(sum / 100_000).toBeLessThan(0.51);
  });

  test('int covers [lo, hi] inclusively and roughly uniformly', () => {
    const r = new SimRng(2);
    const counts = new Map<number, number>();
    for (let i = 0; i < 60_000; i++) {
      const x = r.int(-2, 3);
      counts.set(x, (counts.get(x) ?? 0) + 1);
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2, 3]);
    for (const c of counts.values()) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    expect(r.int(5, 5)).toBe(5);
    expect(() => r.int(3, 2)).toThrow(RangeError);
    expect(() => r.int(0, 1.5)).toThrow(RangeError);
    const big = r.int(0, 2 ** 40);
    expect(Number.isInteger(big) && big >= 0 && big <= 2 ** 40).toBe(true);
  });

  test('bool follows its probability', () => {
    const r = new SimRng(3);
    let n = 0;
    for (let i = 0; i < 100_000; i++) if (r.bool(0.1)) n++;
    expect(n).toBeGreaterThan(9_500);
    expect(n).toBeLessThan(10_500);
    expect(Array.from({ length: 1000 }, () => r.bool(0)).some(Boolean)).toBe(false);
    expect(Array.from({ length: 1000 }, () => r.bool(1)).every(Boolean)).toBe(true);
  });

  test('bytes: right length, every byte value appears, deterministic', () => {
    const r = new SimRng(4);
    expect(r.bytes(0).length).toBe(0);
    expect(r.bytes(7).length).toBe(7);
    const big = r.bytes(100_000);
    const seen = new Set(big);
    expect(seen.size).toBe(256);
    let sum = 0;
    for (const b of big) sum += b;
    expect(sum / big.length).toBeGreaterThan(125);
    expect(sum / big.length).toBeLessThan(130);
    expect(new SimRng(9).bytes(13)).toEqual(new SimRng(9).bytes(13));
  });

  test('normal has roughly the asked mean and deviation', () => {
    const r = new SimRng(5);
    const n = 50_000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const x = r.normal(10, 2);
      sum += x;
      sq += x * x;
    }
    const mean = sum / n;
    const sd = Math.sqrt(sq / n - mean * mean);
    expect(Math.abs(mean - 10)).toBeLessThan(0.05);
    expect(Math.abs(sd - 2)).toBeLessThan(0.05);
  });

  test('pick chooses from the array', () => {
    const r = new SimRng(6);
    const seen = new Set(Array.from({ length: 100 }, () => r.pick(['a', 'b', 'c'])));
    expect([...seen].sort()).toEqual(['a', 'b', 'c']);
    expect(() => r.pick([])).toThrow(RangeError);
  });

  test('mix32 is a bijection-like mixer: no collisions over a small range', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) seen.add(mix32(i));
    expect(seen.size).toBe(10_000);
  });
});
