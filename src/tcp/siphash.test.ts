import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { bytesToWords, siphash24, type Sip64 } from './siphash.js';

// SipHash-2-4 reference vectors (paper Appendix A and the reference implementation's vectors.h):
// key = 00 01 02 ... 0f, message i = 00 01 ... (i-1) bytes, output read as a little-endian u64.
const VECTORS: readonly bigint[] = [
  0x726fdb47dd0e0e31n, 0x74f839c593dc67fdn, 0x0d6c8009d9a94f5an, 0x85676696d7fb7e2dn,
  0xcf2794e0277187b7n, 0x18765564cd99a68dn, 0xcbc9466e58fee3cen, 0xab0200f58b01d137n,
  0x93f5f5799a932462n, 0x9e0082df0ba9e4b0n, 0x7a5dbbc594ddb9f3n, 0xf4b32f46226bada7n,
  0x751e8fbc860ee5fbn, 0x14ea5627c0843d90n, 0xf723ca908e7af2een, 0xa129ca6149be45e5n,
  0x3f2acc7f57c29bdbn, 0x699ae9f52cbe4794n, 0x4bc1b3f0968dd39cn, 0xbb6dc91da77961bdn,
];

const KEY = bytesToWords(Uint8Array.from({ length: 16 }, (_, i) => i));
const asBig = ([lo, hi]: Sip64): bigint => (BigInt(hi) << 32n) | BigInt(lo);

// An independent, slow BigInt SipHash-2-4 over bytes, straight from the paper, for property tests.
const M64 = (1n << 64n) - 1n;
const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & M64;
function referenceSiphash(key: Uint8Array, msg: Uint8Array): bigint {
  const le = (b: Uint8Array, o: number): bigint => {
    let x = 0n;
    for (let i = 7; i >= 0; i--) x = (x << 8n) | BigInt(b[o + i] ?? 0);
    return x;
  };
  const k0 = le(key, 0), k1 = le(key, 8);
  const v = [k0 ^ 0x736f6d6570736575n, k1 ^ 0x646f72616e646f6dn, k0 ^ 0x6c7967656e657261n, k1 ^ 0x7465646279746573n];
  const round = (): void => {
    v[0] = (v[0]! + v[1]!) & M64; v[1] = rotl(v[1]!, 13n) ^ v[0]; v[0] = rotl(v[0], 32n);
    v[2] = (v[2]! + v[3]!) & M64; v[3] = rotl(v[3]!, 16n) ^ v[2];
    v[0] = (v[0] + v[3]) & M64; v[3] = rotl(v[3], 21n) ^ v[0];
    v[2] = (v[2] + v[1]) & M64; v[1] = rotl(v[1], 17n) ^ v[2]; v[2] = rotl(v[2], 32n);
  };
  const padded = new Uint8Array((msg.length & ~7) + 8);
  padded.set(msg);
  padded[padded.length - 1] = msg.length & 0xff;
  for (let o = 0; o < padded.length; o += 8) {
    const m = le(padded, o);
    v[3]! ^= m; round(); round(); v[0]! ^= m;
  }
  v[2]! ^= 0xffn;
  for (let i = 0; i < 4; i++) round();
  return v[0]! ^ v[1]! ^ v[2]! ^ v[3]!;
}

describe('siphash24', () => {
  test('matches the reference vectors for messages of 0..19 bytes (paper Appendix A)', () => {
    const msg = Uint8Array.from({ length: 64 }, (_, i) => i);
    const words = bytesToWords(msg);
    VECTORS.forEach((want, len) => {
      expect(asBig(siphash24(KEY, words, len)), `length ${len}`).toBe(want);
    });
  });

  test('paper Appendix A: the 15-byte message 00..0e hashes to a129ca6149be45e5', () => {
    const words = bytesToWords(Uint8Array.from({ length: 15 }, (_, i) => i));
    expect(asBig(siphash24(KEY, words, 15))).toBe(0xa129ca6149be45e5n);
  });

  test('accepts number[] as well as Uint32Array, and len defaults to all words', () => {
    const words = [0x03020100, 0x07060504];
    expect(asBig(siphash24(KEY, words))).toBe(VECTORS[8]);
    expect(asBig(siphash24(KEY, Uint32Array.from(words)))).toBe(VECTORS[8]);
  });

  test('writes into a caller-provided out array and returns it', () => {
    const out: Sip64 = [0, 0];
    const r = siphash24(KEY, [], 0, out);
    expect(r).toBe(out);
    expect(asBig(out)).toBe(VECTORS[0]);
  });

  test('bytes beyond len are ignored', () => {
    const dirty = [0xffffff00 | 0, 0xffffffff];
    expect(asBig(siphash24(KEY, dirty, 1))).toBe(VECTORS[1]);
  });

  test('rejects a length longer than the data', () => {
    expect(() => siphash24(KEY, [1], 5)).toThrow(/length 5/);
  });

  test('agrees with an independent BigInt implementation for random keys and messages', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ maxLength: 80 }), (key, msg) => {
        const got = asBig(siphash24(bytesToWords(key), bytesToWords(msg), msg.length));
        expect(got).toBe(referenceSiphash(key, msg));
      }),
      { numRuns: 300 },
    );
  });
});
