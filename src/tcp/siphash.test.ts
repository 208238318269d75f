import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { SipHasher, bytesToWords, siphash24, type Sip64 } from './siphash.js';

// SipHash-2-4 reference vectors (paper Appendix A and the reference implementation's vectors.h,
// all 64 of them): key = 00 01 02 ... 0f, message i = 00 01 ... (i-1) bytes, output read as a
// little-endian u64.
const VECTORS: readonly bigint[] = [
  0x726fdb47dd0e0e31n, 0x74f839c593dc67fdn, 0x0d6c8009d9a94f5an, 0x85676696d7fb7e2dn,
  0xcf2794e0277187b7n, 0x18765564cd99a68dn, 0xcbc9466e58fee3cen, 0xab0200f58b01d137n,
  0x93f5f5799a932462n, 0x9e0082df0ba9e4b0n, 0x7a5dbbc594ddb9f3n, 0xf4b32f46226bada7n,
  0x751e8fbc860ee5fbn, 0x14ea5627c0843d90n, 0xf723ca908e7af2een, 0xa129ca6149be45e5n,
  0x3f2acc7f57c29bdbn, 0x699ae9f52cbe4794n, 0x4bc1b3f0968dd39cn, 0xbb6dc91da77961bdn,
  0xbed65cf21aa2ee98n, 0xd0f2cbb02e3b67c7n, 0x93536795e3a33e88n, 0xa80c038ccd5ccec8n,
  0xb8ad50c6f649af94n, 0xbce192de8a85b8ean, 0x17d835b85bbb15f3n, 0x2f2e6163076bcfadn,
  0xde4daaaca71dc9a5n, 0xa6a2506687956571n, 0xad87a3535c49ef28n, 0x32d892fad841c342n,
  0x7127512f72f27ccen, 0xa7f32346f95978e3n, 0x12e0b01abb051238n, 0x15e034d40fa197aen,
  0x314dffbe0815a3b4n, 0x027990f029623981n, 0xcadcd4e59ef40c4dn, 0x9abfd8766a33735cn,
  0x0e3ea96b5304a7d0n, 0xad0c42d6fc585992n, 0x187306c89bc215a9n, 0xd4a60abcf3792b95n,
  0xf935451de4f21df2n, 0xa9538f0419755787n, 0xdb9acddff56ca510n, 0xd06c98cd5c0975ebn,
  0xe612a3cb9ecba951n, 0xc766e62cfcadaf96n, 0xee64435a9752fe72n, 0xa192d576b245165an,
  0x0a8787bf8ecb74b2n, 0x81b3e73d20b49b6fn, 0x7fa8220ba3b2ecean, 0x245731c13ca42499n,
  0xb78dbfaf3a8d83bdn, 0xea1ad565322a1a0bn, 0x60e61c23a3795013n, 0x6606d7e446282b93n,
  0x6ca4ecb15c5f91e1n, 0x9f626da15c9625f3n, 0xe51b38608ef25f57n, 0x958a324ceb064572n,
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
  test('matches the reference vectors for messages of 0..63 bytes (paper Appendix A, vectors.h)', () => {
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

describe('SipHasher', () => {
  const msg = Uint8Array.from({ length: 64 }, (_, i) => i);
  const words = bytesToWords(msg);

  test('matches the reference vectors, from the key and then from the remembered state', () => {
    for (const blocks of [1, 2, 3]) {
      const h = new SipHasher(KEY, blocks);
      for (let pass = 0; pass < 2; pass++) {
        VECTORS.forEach((want, len) => {
          expect(asBig(h.hash(words, len, [0, 0])), `prefix ${blocks} blocks, length ${len}, pass ${pass}`).toBe(want);
        });
      }
    }
  });

  test('answers as siphash24 for any mix of messages sharing, or not, their first blocks', () => {
    const word = fc.constantFrom(0, 1, 0xffff, 0x53594e43, 0xffffffff);
    const message = fc.tuple(fc.array(word, { minLength: 4, maxLength: 4 }), fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 12 }), fc.nat({ max: 60 }));
    fc.assert(
      fc.property(fc.uint32Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 1, max: 3 }), fc.array(message, { maxLength: 40 }), (key, blocks, msgs) => {
        const h = new SipHasher(key, blocks);
        for (const [head, tail, cut] of msgs) {
          const data = Uint32Array.from([...head, ...tail]);
          const len = Math.min(cut, data.length * 4);
          expect(h.hash(data, len, [0, 0])).toEqual(siphash24(key, data, len));
        }
      }),
      { numRuns: 300 },
    );
  });

  test('rejects a prefix that is not a positive number of blocks, and a length longer than the data', () => {
    expect(() => new SipHasher(KEY, 0)).toThrow(/prefixBlocks/);
    expect(() => new SipHasher(KEY, 1).hash([1], 5, [0, 0])).toThrow(/length 5/);
  });
});
