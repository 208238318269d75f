// The Internet checksum (RFC 1071) against the RFC's own example and a naive reference.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { finish, fold, internetChecksum, onesSum, onesSumRange, pseudoHeaderSum } from './checksum.js';
import { IpAddr } from './ip-addr.js';

/** The textbook definition: big-endian 16-bit words, odd byte padded with zero, end-around carry. */
function naiveFolded(bytes: Uint8Array, acc = 0): number {
  let s = acc;
  for (let i = 0; i < bytes.length; i += 2) {
    s += (bytes[i]! << 8) | (i + 1 < bytes.length ? bytes[i + 1]! : 0);
    while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  }
  return s;
}
const naiveChecksum = (bytes: Uint8Array): number => ~naiveFolded(bytes) & 0xffff;

/** `data` copied into a fresh buffer at byte offset `off`, so both alignments get exercised. */
function at(data: Uint8Array, off: number): Uint8Array {
  const buf = new Uint8Array(data.length + 8).fill(0x5a);
  buf.set(data, off);
  return buf.subarray(off, off + data.length);
}

describe('RFC 1071 §3 numerical example', () => {
  // "byte 0/1: 00 01, byte 2/3: f2 03, byte 4/5: f4 f5, byte 6/7: f6 f7"
  const bytes = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);

  test('the unfolded sum is 2ddf0 and folds to ddf2', () => {
    expect(onesSum(bytes)).toBe(0x2ddf0);
    expect(fold(onesSum(bytes))).toBe(0xddf2);
  });

  test('the checksum is the complement, 220d, and data carrying it sums to zero', () => {
    expect(internetChecksum(bytes)).toBe(0x220d);
    const withSum = Uint8Array.of(...bytes, 0x22, 0x0d);
    expect(internetChecksum(withSum)).toBe(0);
  });

  test('byte-swapped input gives the byte-swapped sum (§2(B), shown in §3)', () => {
    const swapped = Uint8Array.of(0x01, 0x00, 0x03, 0xf2, 0xf5, 0xf4, 0xf7, 0xf6);
    expect(fold(onesSum(swapped))).toBe(0xf2dd);
  });
});

describe('onesSum matches the naive reference', () => {
  test('small inputs, including empty and odd lengths', () => {
    expect(onesSum(new Uint8Array(0))).toBe(0);
    expect(fold(onesSum(Uint8Array.of(0xab)))).toBe(0xab00);
    expect(fold(onesSum(Uint8Array.of(0x12, 0x34, 0x56)))).toBe(0x1234 + 0x5600);
  });

  test('all-ones and all-zero buffers at the fast-path size', () => {
    for (const len of [128, 129, 130, 131, 1500, 65535]) {
      for (const off of [0, 1, 2, 3]) {
        const ones = at(new Uint8Array(len).fill(0xff), off);
        expect(fold(onesSum(ones))).toBe(naiveFolded(ones));
        expect(internetChecksum(ones)).toBe(naiveChecksum(ones));
        const zeros = at(new Uint8Array(len), off);
        expect(internetChecksum(zeros)).toBe(0xffff);
      }
    }
  });

  test('property: random data at any byte offset, short and long (fast path)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 700, size: 'max' }), fc.integer({ min: 0, max: 7 }), (data, off) => {
        const view = at(data, off);
        expect(view.byteOffset).toBe(off);
        expect(fold(onesSum(view))).toBe(naiveFolded(data));
        expect(internetChecksum(view)).toBe(naiveChecksum(data));
      }),
      { numRuns: 500 },
    );
  });

  test('property: lengths of at least 128 bytes, aligned and unaligned, odd and even', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 128, maxLength: 2000 }), fc.integer({ min: 0, max: 7 }), (data, off) => {
        expect(fold(onesSum(at(data, off)))).toBe(naiveFolded(data));
      }),
      { numRuns: 300 },
    );
  });

  test('property: a starting partial sum is added in', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 0, max: 0xfffff }), (data, acc) => {
        expect(fold(onesSum(data, acc))).toBe(naiveFolded(data, fold(acc)));
      }),
    );
  });
});

describe('combining partial sums', () => {
  test('property: summing even-length pieces separately equals summing the whole', () => {
    const evenArray = fc.uint8Array({ maxLength: 400 }).map((a) => a.subarray(0, a.length & ~1));
    fc.assert(
      fc.property(evenArray, evenArray, fc.uint8Array({ maxLength: 400 }), fc.integer({ min: 0, max: 3 }), (a, b, c, off) => {
        const whole = new Uint8Array(a.length + b.length + c.length);
        whole.set(a, 0);
        whole.set(b, a.length);
        whole.set(c, a.length + b.length);
        const expected = fold(onesSum(whole));
        // Chained through `acc`, as the pseudo-header, header and payload are.
        expect(fold(onesSum(at(c, off), onesSum(b, onesSum(a))))).toBe(expected);
        // Or added up afterwards.
        expect(fold(onesSum(a) + onesSum(b) + onesSum(c))).toBe(expected);
        // Or over subarrays of the whole.
        const ab = a.length + b.length;
        expect(fold(onesSum(whole.subarray(ab), onesSum(whole.subarray(0, ab))))).toBe(expected);
      }),
    );
  });
});

describe('fold and finish', () => {
  test('fold keeps the value modulo 0xffff, as a one\'s complement number', () => {
    expect(fold(0)).toBe(0);
    expect(fold(0xffff)).toBe(0xffff);
    expect(fold(0x10000)).toBe(1);
    expect(fold(0x1fffe)).toBe(0xffff);
    expect(fold(0xffffffff)).toBe(0xffff);
    expect(fold(2 ** 53 - 1)).toBe(31); // 2^16 = 1 (mod 0xffff), so 2^53 - 1 = 2^5 - 1
  });

  test('property: fold of any sum up to 2^53 is in 1..0xffff and congruent modulo 0xffff', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => {
        const f = fold(n);
        if (n === 0) return f === 0;
        return f >= 1 && f <= 0xffff && f % 0xffff === n % 0xffff;
      }),
    );
  });

  test('finish complements the folded sum', () => {
    expect(finish(0x2ddf0)).toBe(0x220d);
    expect(finish(0)).toBe(0xffff);
    expect(finish(0xffff)).toBe(0);
  });
});

describe('pseudoHeaderSum', () => {
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const v4 = u32.map((w) => IpAddr.v4(w));
  const v6 = fc.tuple(u32, u32, u32, u32).map(([a, b, c, d]) => IpAddr.v6(a, b, c, d));

  test('property: IPv4 equals the sum of the 12-byte pseudo-header (RFC 9293 §3.1)', () => {
    fc.assert(
      fc.property(v4, v4, fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffff }), (src, dst, proto, len) => {
        const ph = new Uint8Array(12);
        src.write(ph, 0);
        dst.write(ph, 4);
        ph[8] = 0;
        ph[9] = proto;
        ph[10] = len >>> 8;
        ph[11] = len & 0xff;
        expect(fold(pseudoHeaderSum(src, dst, proto, len))).toBe(naiveFolded(ph));
      }),
    );
  });

  test('property: IPv6 equals the sum of the 40-byte pseudo-header (RFC 8200 §8.1)', () => {
    fc.assert(
      fc.property(v6, v6, fc.integer({ min: 0, max: 255 }), u32, (src, dst, nh, len) => {
        const ph = new Uint8Array(40);
        src.write(ph, 0);
        dst.write(ph, 16);
        ph[32] = len >>> 24;
        ph[33] = (len >>> 16) & 0xff;
        ph[34] = (len >>> 8) & 0xff;
        ph[35] = len & 0xff;
        ph[39] = nh;
        expect(fold(pseudoHeaderSum(src, dst, nh, len))).toBe(naiveFolded(ph));
      }),
    );
  });
});

describe('onesSumRange', () => {
  test('equals onesSum over the same range as a view, at every alignment and length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(), fc.nat(), fc.nat(0xffff), (data, a, b, acc) => {
        const start = data.length === 0 ? 0 : a % (data.length + 1);
        const end = start + (data.length - start === 0 ? 0 : b % (data.length - start + 1));
        expect(fold(onesSumRange(data, start, end, acc))).toBe(fold(onesSum(data.subarray(start, end), acc)));
      }),
      { numRuns: 3000 },
    );
  });
});
