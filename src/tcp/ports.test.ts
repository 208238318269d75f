import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_PORT_RANGE, PortAllocator } from './ports.js';
import type { Rng } from '../util/rng.js';
import { IpAddr } from '../wire/ip-addr.js';

/** xorshift32: a tiny deterministic Rng for tests. */
function xorshift(seed: number): Rng {
  let x = seed >>> 0 || 1;
  return {
    nextU32(): number {
      x ^= x << 13; x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5; x >>>= 0;
      return x;
    },
  };
}

const L = IpAddr.from('192.0.2.1');
const R = IpAddr.from('198.51.100.7');
const R2 = IpAddr.from('198.51.100.8');
const all = (): boolean => true;
const N = DEFAULT_PORT_RANGE.high - DEFAULT_PORT_RANGE.low + 1;

describe('PortAllocator.pick (RFC 6056 Algorithm 4)', () => {
  test('defaults to Linux ip_local_port_range 32768..60999', () => {
    expect(new PortAllocator(xorshift(1)).range).toEqual({ low: 32768, high: 60999 });
  });

  test('returns ports in range that the caller said are free', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 65535 }),
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 1, max: 2 ** 32 - 1 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (low, span, seed, busyFraction) => {
          const high = Math.min(65535, low + span);
          const busy = new Set<number>();
          const rng = xorshift(seed);
          for (let p = low; p <= high; p++) if (rng.nextU32() / 2 ** 32 < busyFraction) busy.add(p);
          const a = new PortAllocator(xorshift(seed ^ 0x5555), { low, high });
          const isFree = (p: number): boolean => {
            expect(p).toBeGreaterThanOrEqual(low);
            expect(p).toBeLessThanOrEqual(high);
            return !busy.has(p);
          };
          for (let i = 0; i < 5; i++) {
            const p = a.pick(L, R, 80, isFree);
            if (busy.size === high - low + 1) {
              expect(p).toBeUndefined();
            } else {
              expect(p).toBeDefined();
              expect(busy.has(p!)).toBe(false);
              busy.add(p!); // now in use
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test('successive connections to one destination step forward through the range by 2..16', () => {
    const a = new PortAllocator(xorshift(2));
    let prev = a.pick(L, R, 443, all)!;
    for (let i = 0; i < 200; i++) {
      const p = a.pick(L, R, 443, all)!;
      const d = (p - prev + N) % N;
      expect(d % 2).toBe(0);
      expect(d).toBeGreaterThanOrEqual(2);
      expect(d).toBeLessThanOrEqual(16);
      prev = p;
    }
  });

  test('different destinations start from unrelated places', () => {
    const a = new PortAllocator(xorshift(3));
    const firsts = new Set<number>();
    for (let port = 1; port <= 64; port++) firsts.add(a.pick(L, R, port, all)!);
    expect(firsts.size).toBeGreaterThan(60);
    // And connecting elsewhere does not move the sequence for R:443 (another table entry, almost surely).
    const b = new PortAllocator(xorshift(4));
    const c = new PortAllocator(xorshift(4));
    b.pick(L, R, 443, all);
    c.pick(L, R, 443, all);
    c.pick(L, R2, 8080, all);
    expect(b.pick(L, R, 443, all)).toBe(c.pick(L, R, 443, all));
  });

  test('skips taken ports, same parity first, then the other parity', () => {
    const probe = new PortAllocator(xorshift(5));
    const clone = new PortAllocator(xorshift(5));
    const first = probe.pick(L, R, 80, all)!;
    const tried: number[] = [];
    // Everything busy except one port of the other parity: found after all same-parity ports.
    const target = first === DEFAULT_PORT_RANGE.high ? first - 1 : first + 1;
    const p = clone.pick(L, R, 80, (port) => (tried.push(port), port === target));
    expect(p).toBe(target);
    expect(tried[0]).toBe(first);
    expect(tried[1]).toBe(first + 2 > DEFAULT_PORT_RANGE.high ? first + 2 - N : first + 2);
    expect(tried.slice(0, N / 2).every((q) => (q - DEFAULT_PORT_RANGE.low) % 2 === 0)).toBe(true);
    expect(new Set(tried).size).toBe(tried.length); // never the same port twice
  });

  test('returns undefined when every port is taken, having asked about each exactly once', () => {
    const a = new PortAllocator(xorshift(6), { low: 1000, high: 1099 });
    const asked = new Map<number, number>();
    expect(a.pick(L, R, 80, (p) => (asked.set(p, (asked.get(p) ?? 0) + 1), false))).toBeUndefined();
    expect(asked.size).toBe(100);
    expect([...asked.values()].every((n) => n === 1)).toBe(true);
  });

  test('fills a small range completely, then reports exhaustion', () => {
    const a = new PortAllocator(xorshift(7), { low: 5000, high: 5006 });
    const used = new Set<number>();
    const isFree = (p: number): boolean => !used.has(p);
    for (let i = 0; i < 7; i++) used.add(a.pick(L, R, 80, isFree)!);
    expect([...used].sort()).toEqual([5000, 5001, 5002, 5003, 5004, 5005, 5006]);
    expect(a.pick(L, R, 80, isFree)).toBeUndefined();
  });

  test('a range of one port', () => {
    const a = new PortAllocator(xorshift(8), { low: 4242, high: 4242 });
    expect(a.pick(L, R, 80, all)).toBe(4242);
    expect(a.pick(L, R, 80, () => false)).toBeUndefined();
    expect(a.pickForBind(all)).toBe(4242);
  });

  test('is deterministic for a seed', () => {
    const run = (seed: number): number[] => {
      const a = new PortAllocator(xorshift(seed));
      const out: number[] = [];
      for (let i = 0; i < 20; i++) out.push(a.pick(L, i % 2 ? R : R2, 80 + (i % 3), all)!, a.pickForBind(all)!);
      return out;
    };
    expect(run(9)).toEqual(run(9));
    expect(run(9)).not.toEqual(run(10));
  });

  test('works for IPv6 addresses', () => {
    const a = new PortAllocator(xorshift(11));
    const p = a.pick(IpAddr.from('2001:db8::1'), IpAddr.from('2001:db8::2'), 443, all)!;
    expect(p).toBeGreaterThanOrEqual(32768);
    expect(p).toBeLessThanOrEqual(60999);
  });
});

describe('PortAllocator.pickForBind', () => {
  test('returns free ports in range, starting at random places, preferring the other parity', () => {
    const a = new PortAllocator(xorshift(12));
    const starts = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const p = a.pickForBind(all)!;
      expect(p).toBeGreaterThanOrEqual(32768);
      expect(p).toBeLessThanOrEqual(60999);
      expect((p - 32768) % 2).toBe(1);
      starts.add(p);
    }
    expect(starts.size).toBeGreaterThan(45);
  });

  test('probes linearly from the start and finds the only free port', () => {
    const a = new PortAllocator(xorshift(13), { low: 2000, high: 2099 });
    const asked: number[] = [];
    expect(a.pickForBind((p) => (asked.push(p), p === 2050))).toBe(2050);
    for (let i = 1; i < asked.length && i < 50; i++) {
      expect((asked[i]! - asked[i - 1]! + 100) % 100).toBe(2);
    }
    expect(a.pickForBind(() => false)).toBeUndefined();
  });
});

describe('PortAllocator ranges', () => {
  test('setRange changes where ports come from', () => {
    const a = new PortAllocator(xorshift(14));
    a.setRange(10000, 10009);
    for (let i = 0; i < 20; i++) {
      const p = a.pick(L, R, 80, all)!;
      expect(p).toBeGreaterThanOrEqual(10000);
      expect(p).toBeLessThanOrEqual(10009);
    }
    expect(a.range).toEqual({ low: 10000, high: 10009 });
  });

  test('rejects bad ranges with a message naming the values', () => {
    const a = new PortAllocator(xorshift(15));
    expect(() => a.setRange(40000, 30000)).toThrow('invalid ephemeral port range 40000..30000');
    expect(() => a.setRange(0, 100)).toThrow(/0\.\.100/);
    expect(() => a.setRange(1024, 65536)).toThrow(/1024\.\.65536/);
    expect(() => a.setRange(1.5, 100)).toThrow(RangeError);
    expect(() => new PortAllocator(xorshift(1), { low: 5, high: 4 })).toThrow(/5\.\.4/);
    expect(a.range).toEqual(DEFAULT_PORT_RANGE); // unchanged by the failed calls
  });
});
