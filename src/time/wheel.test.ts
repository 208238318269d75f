// Tests for the TimerWheel: order, ties, exact firing, re-entrancy, and large random loads against a sorted reference.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { TimerWheel } from './wheel.js';
import type { Instant } from './instant.js';

const t = (n: number): Instant => n as Instant;

function drain<T>(w: TimerWheel<T>, now: number): [T, number][] {
  const out: [T, number][] = [];
  w.expire(t(now), (item, at) => out.push([item, at]));
  return out;
}

/** A tiny deterministic generator for the large cases, so the test needs no seeded PRNG from sim. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x;
  };
}

describe('TimerWheel', () => {
  test('is empty at first', () => {
    const w = new TimerWheel<string>();
    expect(w.size).toBe(0);
    expect(w.nextAt()).toBeUndefined();
    expect(w.expire(t(1e12), () => { throw new Error('nothing should fire'); })).toBe(0);
  });

  test('fires in deadline order and nextAt is the exact earliest instant', () => {
    const w = new TimerWheel<string>();
    w.schedule(t(300), 'c');
    w.schedule(t(100), 'a');
    w.schedule(t(200_001), 'd');
    w.schedule(t(150), 'b');
    expect(w.nextAt()).toBe(100);
    expect(w.size).toBe(4);
    expect(drain(w, 1e9)).toEqual([['a', 100], ['b', 150], ['c', 300], ['d', 200_001]]);
    expect(w.size).toBe(0);
  });

  test('fires exactly at its instant, not a microsecond before', () => {
    const w = new TimerWheel<string>();
    w.schedule(t(1_000_000), 'x');
    expect(drain(w, 999_999)).toEqual([]);
    expect(w.nextAt()).toBe(1_000_000);
    expect(drain(w, 1_000_000)).toEqual([['x', 1_000_000]]);
    expect(w.nextAt()).toBeUndefined();
  });

  test('a late expire fires everything overdue, in order', () => {
    const w = new TimerWheel<number>();
    for (const at of [5, 1, 4, 2, 3]) w.schedule(t(at), at);
    expect(drain(w, 3).map(([i]) => i)).toEqual([1, 2, 3]);
    expect(w.nextAt()).toBe(4);
    expect(drain(w, 100).map(([i]) => i)).toEqual([4, 5]);
  });

  test('equal instants fire first-in first-out', () => {
    const w = new TimerWheel<number>();
    for (let i = 0; i < 100; i++) w.schedule(t(i % 3 === 0 ? 7 : 9), i);
    const fired = drain(w, 10).map(([i]) => i);
    const at7 = Array.from({ length: 100 }, (_, i) => i).filter((i) => i % 3 === 0);
    const at9 = Array.from({ length: 100 }, (_, i) => i).filter((i) => i % 3 !== 0);
    expect(fired).toEqual([...at7, ...at9]);
  });

  test('entries scheduled during fire at or before now fire in the same call, later ones wait', () => {
    const w = new TimerWheel<string>();
    w.schedule(t(10), 'first');
    w.schedule(t(20), 'second');
    const fired: string[] = [];
    const n = w.expire(t(20), (item) => {
      fired.push(item);
      if (item === 'first') {
        w.schedule(t(15), 'inserted-before-second');
        w.schedule(t(20), 'inserted-tie');
        w.schedule(t(21), 'later');
      }
    });
    expect(fired).toEqual(['first', 'inserted-before-second', 'second', 'inserted-tie']);
    expect(n).toBe(4);
    expect(w.nextAt()).toBe(21);
  });

  test('a throwing fire loses only its own entry', () => {
    const w = new TimerWheel<string>();
    w.schedule(t(1), 'boom');
    w.schedule(t(2), 'ok');
    expect(() => w.expire(t(5), (item) => { if (item === 'boom') throw new Error('boom'); })).toThrow('boom');
    expect(w.size).toBe(1);
    expect(drain(w, 5)).toEqual([['ok', 2]]);
  });

  test('stale entries: the owner keeps the real deadline and ignores mismatches', () => {
    // The documented owner pattern, exercised: a deadline pushed later twice leaves stale entries
    // that do nothing, and only the real deadline acts.
    const owner = { deadline: 100 as Instant | undefined, acted: [] as number[] };
    const w = new TimerWheel<typeof owner>();
    w.schedule(t(100), owner);
    owner.deadline = t(250); // pushed later: the entry at 100 is already early enough, no new entry
    const fire = (o: typeof owner, at: Instant, now: Instant): void => {
      if (o.deadline === undefined) return; // cancelled
      if (o.deadline > now) { w.schedule(o.deadline, o); return; } // stale: chase the real deadline
      o.acted.push(at);
      o.deadline = undefined;
    };
    for (const now of [100, 200, 250, 300]) w.expire(t(now), (o, at) => fire(o, at, t(now)));
    expect(owner.acted).toEqual([250]);
    expect(w.size).toBe(0);
  });

  test('clear drops everything', () => {
    const w = new TimerWheel<number>();
    for (let i = 0; i < 1000; i++) w.schedule(t(i), i);
    w.clear();
    expect(w.size).toBe(0);
    expect(w.nextAt()).toBeUndefined();
    w.schedule(t(3), 3);
    expect(drain(w, 3)).toEqual([[3, 3]]);
  });

  test('rejects a non-finite instant (a programming error)', () => {
    const w = new TimerWheel<number>();
    expect(() => w.schedule(t(Number.NaN), 1)).toThrow(RangeError);
    expect(() => w.schedule(t(Infinity), 1)).toThrow(RangeError);
  });

  test('property: interleaved schedule/expire matches a stable sorted reference', () => {
    type Op = { kind: 'schedule'; at: number } | { kind: 'expire'; now: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('schedule' as const), at: fc.integer({ min: 0, max: 50 }) }),
      fc.record({ kind: fc.constant('expire' as const), now: fc.integer({ min: 0, max: 60 }) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const w = new TimerWheel<number>();
      let ref: { at: number; id: number }[] = [];
      let id = 0;
      let clock = 0;
      for (const o of ops) {
        if (o.kind === 'schedule') {
          w.schedule(t(o.at), id);
          ref.push({ at: o.at, id });
          id++;
        } else {
          clock = Math.max(clock, o.now);
          const got = drain(w, clock);
          const due = ref.filter((e) => e.at <= clock).sort((a, b) => a.at - b.at || a.id - b.id);
          ref = ref.filter((e) => e.at > clock);
          expect(got).toEqual(due.map((e) => [e.id, e.at]));
        }
        expect(w.size).toBe(ref.length);
        const min = ref.length === 0 ? undefined : Math.min(...ref.map((e) => e.at));
        expect(w.nextAt()).toBe(min);
      }
    }));
  });

  test('100k random entries fire in the same order as a stable sort, across many expiries', () => {
    const next = lcg(7);
    const n = 100_000;
    const ats = new Float64Array(n);
    const w = new TimerWheel<number>();
    for (let i = 0; i < n; i++) {
      ats[i] = next() % 5_000_000; // many ties among 100k entries over 5 s
      w.schedule(t(ats[i] as number), i);
    }
    const expected = Array.from({ length: n }, (_, i) => i).sort((a, b) => (ats[a] as number) - (ats[b] as number) || a - b);
    const got: number[] = [];
    let lastAt = -1;
    let violations = 0; // counted rather than asserted per entry: 100k expect() calls are slow
    for (let now = 0; w.size > 0; now += 37_123) {
      w.expire(t(now), (i, at) => {
        if (at !== ats[i] || at > now || at < lastAt) violations++;
        lastAt = at;
        got.push(i);
      });
      const nx = w.nextAt();
      if (nx !== undefined && nx <= now) violations++;
    }
    expect(violations).toBe(0);
    expect(got).toEqual(expected);
  });

  test('holds 1,000,000 pending entries (timing printed, not asserted)', () => {
    const next = lcg(42);
    const n = 1_000_000;
    const w = new TimerWheel<number>();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) w.schedule(t(next() % 60_000_000), i);
    const t1 = performance.now();
    expect(w.size).toBe(n);
    let fired = 0;
    let prev = -1;
    let ordered = true;
    w.expire(t(60_000_000), (_, at) => {
      if (at < prev) ordered = false;
      prev = at;
      fired++;
    });
    const t2 = performance.now();
    expect(fired).toBe(n);
    expect(ordered).toBe(true);
    expect(w.size).toBe(0);
    console.log(`TimerWheel 1e6: schedule ${(t1 - t0).toFixed(0)} ms, expire ${(t2 - t1).toFixed(0)} ms`);
  });

  test('gives its memory back when emptied, in one expire, down to its minimum; pending entries survive the shrink', () => {
    const w = new TimerWheel<number>();
    const empty = w.byteSize;
    for (let i = 0; i < 100_000; i++) w.schedule(t(i), i);
    expect(w.byteSize).toBeGreaterThan(100_000 * 24);
    expect(drain(w, 99_989)).toHaveLength(99_990); // ten left: far below a quarter
    expect(w.byteSize).toBeLessThanOrEqual(64 * 24);
    expect(drain(w, 1e9).map(([i]) => i)).toEqual([99_990, 99_991, 99_992, 99_993, 99_994, 99_995, 99_996, 99_997, 99_998, 99_999]);
    expect(w.byteSize).toBeLessThanOrEqual(64 * 24);
    expect(empty).toBeLessThanOrEqual(64 * 24);
  });
});
