import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { IsnGenerator, isnClock, ISN_CLOCK_HZ } from './isn.js';
import type { Rng } from '../util/rng.js';
import { IpAddr } from '../wire/ip-addr.js';
import { type Instant, seconds } from '../time/instant.js';
import { seqDiff } from './seq.js';

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

const A = IpAddr.from('10.0.0.1');
const B = IpAddr.from('10.0.0.2');
const A6 = IpAddr.from('2001:db8::1');
const B6 = IpAddr.from('2001:db8::2');
const at = (us: number): Instant => us as Instant;
const delta = (a: number, b: number): number => (a - b) >>> 0; // forward distance mod 2^32

describe('isnClock', () => {
  test('ticks every 64 ns: 1000 ticks per 64 µs, 15.625 per µs', () => {
    expect(isnClock(at(0))).toBe(0);
    expect(isnClock(at(64))).toBe(1000);
    expect(isnClock(at(8))).toBe(125);
    expect(isnClock(at(1))).toBe(15);
    expect(isnClock(at(1_000_000))).toBe(ISN_CLOCK_HZ);
  });

  test('wraps after 2^32 ticks (274.877906944 s)', () => {
    expect(isnClock(at(274_877_906))).toBe(4_294_967_281); // 274877906 µs * 15.625 = 4294967281.25: just before
    expect(isnClock(at(274_877_907))).toBe(0); // 274877907 µs * 15.625 = 4294967296.875
  });

  test('is exact floor(now * 1000 / 64) mod 2^32 for any instant below 2^53 µs', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 53n) - 1n }), (us) => {
        const want = Number(((us * 1000n) / 64n) % (1n << 32n));
        expect(isnClock(at(Number(us)))).toBe(want);
      }),
    );
  });
});

describe('IsnGenerator', () => {
  test('the same 4-tuple at the same time gets the same ISN', () => {
    const g = new IsnGenerator(xorshift(1));
    const t = at(123_456_789);
    expect(g.isn(A, 40000, B, 80, t)).toBe(g.isn(A, 40000, B, 80, t));
    expect(g.isn(A6, 40000, B6, 80, t)).toBe(g.isn(A6, 40000, B6, 80, t));
  });

  test('any change in the 4-tuple changes the ISN', () => {
    const g = new IsnGenerator(xorshift(2));
    const t = at(5_000_000);
    const base = g.isn(A, 40000, B, 80, t);
    const variants = [
      g.isn(B, 40000, A, 80, t), // swapped addresses
      g.isn(A, 80, B, 40000, t), // swapped ports
      g.isn(A, 40001, B, 80, t),
      g.isn(A, 40000, B, 81, t),
      g.isn(A, 40000, IpAddr.from('10.0.0.3'), 80, t),
      g.isn(A6, 40000, B6, 80, t),
    ];
    for (const v of variants) expect(v).not.toBe(base);
    expect(new Set(variants).size).toBe(variants.length);
  });

  test('many random tuples at one instant hardly ever collide', () => {
    const g = new IsnGenerator(xorshift(3));
    const seen = new Set<number>();
    for (let p = 1; p <= 5000; p++) seen.add(g.isn(A, p, B, 443, at(0)));
    expect(seen.size).toBeGreaterThanOrEqual(4998); // birthday bound: ~0.003 expected collisions
  });

  test('the ISN advances with time at 15.625 per µs, modulo 2^32', () => {
    const g = new IsnGenerator(xorshift(4));
    const t0 = at(1_000_000);
    const i0 = g.isn(A, 50000, B, 22, t0);
    expect(delta(g.isn(A, 50000, B, 22, at(t0 + 64)), i0)).toBe(1000);
    expect(delta(g.isn(A, 50000, B, 22, at(t0 + 1_000_000)), i0)).toBe(ISN_CLOCK_HZ);
    expect(seqDiff(g.isn(A, 50000, B, 22, at(t0 + 1_000_000)), i0)).toBeGreaterThan(0);
    // 200 s: 3.125e9 ticks, past 2^31 but not 2^32.
    expect(delta(g.isn(A, 50000, B, 22, at(t0 + seconds(200))), i0)).toBe(3_125_000_000);
    // 300 s: 4.6875e9 ticks wraps once.
    expect(delta(g.isn(A, 50000, B, 22, at(t0 + seconds(300))), i0)).toBe(4_687_500_000 - 2 ** 32);
  });

  test('ISNs stay 32-bit and exact far into virtual time', () => {
    const g = new IsnGenerator(xorshift(5));
    const far = at(2 ** 52 + 8);
    const i = g.isn(A, 1, B, 2, far);
    expect(Number.isInteger(i) && i === (i | 0)).toBe(true); // 32 bits, held signed (seq.ts)
    expect(delta(g.isn(A, 1, B, 2, at(far + 64)), i)).toBe(1000);
  });

  test('the same seed gives the same secrets; another seed gives others', () => {
    const t = at(42);
    const a = new IsnGenerator(xorshift(7));
    const b = new IsnGenerator(xorshift(7));
    const c = new IsnGenerator(xorshift(8));
    expect(a.isn(A, 1000, B, 80, t)).toBe(b.isn(A, 1000, B, 80, t));
    expect(a.tsOffset(A, B)).toBe(b.tsOffset(A, B));
    expect(a.mac([1, 2, 3])).toBe(b.mac([1, 2, 3]));
    expect(a.isn(A, 1000, B, 80, t)).not.toBe(c.isn(A, 1000, B, 80, t));
  });

  test('draws exactly three 128-bit keys at construction and none afterwards', () => {
    let draws = 0;
    const inner = xorshift(9);
    const g = new IsnGenerator({ nextU32: () => (draws++, inner.nextU32()) });
    expect(draws).toBe(12);
    g.isn(A, 1, B, 2, at(0));
    g.tsOffset(A, B);
    g.mac([1]);
    expect(draws).toBe(12);
  });

  test('tsOffset depends on the address pair only, and differs from the ISN hash', () => {
    const g = new IsnGenerator(xorshift(10));
    const off = g.tsOffset(A, B);
    expect(off).toBe(g.tsOffset(A, B));
    expect(off).not.toBe(g.tsOffset(B, A));
    expect(off).not.toBe(g.tsOffset(A6, B6));
    expect(Number.isInteger(off) && off >= 0 && off < 2 ** 32).toBe(true);
    // Keys are independent: the ISN's hash part (ISN at time 0) is not the timestamp offset.
    expect(g.isn(A, 0, B, 0, at(0))).not.toBe(off);
  });

  test('mac is keyed, deterministic, and sensitive to every word', () => {
    const g = new IsnGenerator(xorshift(11));
    const words = [0x0a000001, 0x0a000002, (40000 << 16) | 80, 7];
    const m = g.mac(words);
    expect(g.mac(Uint32Array.from(words))).toBe(m);
    for (let i = 0; i < words.length; i++) {
      const w = words.slice();
      w[i] = (w[i]! ^ 1) >>> 0;
      expect(g.mac(w)).not.toBe(m);
    }
    expect(g.mac(words.concat(0))).not.toBe(m); // length matters
    expect(new IsnGenerator(xorshift(12)).mac(words)).not.toBe(m);
  });

  test('known answers: ISNs, timestamp offsets and MACs are the values the first implementation gave (siphash24 per call, no remembered states)', () => {
    // Computed with the original code (a SipHash over a module-level state array, called afresh
    // for every hash): the faster hashing must not change one value the stack puts on the wire.
    const g = new IsnGenerator(xorshift(2024));
    const C = IpAddr.from('198.18.3.4');
    for (let round = 0; round < 2; round++) { // the second round runs from remembered states
      // ISNs are held signed (seq.ts); the values on the wire are these, unsigned.
      expect([g.isn(A, 80, C, 40000, at(1_000_000)) >>> 0, g.isn(C, 40000, A, 80, at(1_000_000)) >>> 0]).toEqual([2845920087, 1329607437]);
      expect(g.isn(A6, 443, B6, 50000, at(5)) >>> 0).toBe(3580216565);
      expect([g.tsOffset(A, C), g.tsOffset(C, A), g.tsOffset(A6, B6)]).toEqual([1967483048, 386878170, 721854734]);
      const cookie = (c: number): number[] => [0x53594e43, c, C.w0, C.w1, C.w2, C.w3, A.w0, A.w1, A.w2, A.w3, ((40000 << 16) | 80) >>> 0, c ? 123 : 0];
      expect([g.mac(cookie(0)), g.mac(cookie(1)), g.mac([1, 2, 3]), g.mac([])]).toEqual([1307531402, 357905556, 2292036548, 875879522]);
    }
  });
});
