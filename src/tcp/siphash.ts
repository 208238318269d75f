// SipHash-2-4, the keyed hash behind initial sequence numbers, timestamp offsets, ephemeral port
// offsets and (later) SYN cookies and TFO cookies. Read first: Aumasson & Bernstein, "SipHash: a
// fast short-input PRF" (2012), §2 and Appendix A; RFC 6528 §3 (why ISNs need a keyed PRF).
//
// JavaScript has no fast 64-bit integers (BigInt allocates), so each 64-bit lane is kept as two
// unsigned 32-bit halves and the ARX operations are spelled out on the halves. The message is
// given as 32-bit words read little-endian, which is what the byte-oriented reference does with
// 8-byte blocks: word 2i is the low half of block i, word 2i+1 the high half.

/** A 128-bit SipHash key as four 32-bit words, least significant first (k0 = w0 | w1 << 32, k1 = w2 | w3 << 32). */
export type SipKey = Uint32Array;

/** The 64-bit result as `[low 32 bits, high 32 bits]`, both unsigned. */
export type Sip64 = [number, number];

// The state v0..v3, as [v0lo, v0hi, v1lo, v1hi, v2lo, v2hi, v3lo, v3hi]. One module-level scratch
// state keeps the hash allocation-free; the core is single-threaded, and nothing re-enters.
const V = new Uint32Array(8);

/** `n` SipRounds over the scratch state (paper §2: ADD, ROTATE, XOR). */
function sipRounds(n: number): void {
  let v0l = V[0]!, v0h = V[1]!, v1l = V[2]!, v1h = V[3]!;
  let v2l = V[4]!, v2h = V[5]!, v3l = V[6]!, v3h = V[7]!;
  let s: number, t: number;
  for (let r = 0; r < n; r++) {
    // v0 += v1; v1 <<<= 13; v1 ^= v0; v0 <<<= 32
    s = v0l + v1l; v0h = (v0h + v1h + (s > 0xffffffff ? 1 : 0)) >>> 0; v0l = s >>> 0;
    t = ((v1h << 13) | (v1l >>> 19)) >>> 0; v1l = ((v1l << 13) | (v1h >>> 19)) >>> 0; v1h = t;
    v1l = (v1l ^ v0l) >>> 0; v1h = (v1h ^ v0h) >>> 0;
    t = v0l; v0l = v0h; v0h = t;
    // v2 += v3; v3 <<<= 16; v3 ^= v2
    s = v2l + v3l; v2h = (v2h + v3h + (s > 0xffffffff ? 1 : 0)) >>> 0; v2l = s >>> 0;
    t = ((v3h << 16) | (v3l >>> 16)) >>> 0; v3l = ((v3l << 16) | (v3h >>> 16)) >>> 0; v3h = t;
    v3l = (v3l ^ v2l) >>> 0; v3h = (v3h ^ v2h) >>> 0;
    // v0 += v3; v3 <<<= 21; v3 ^= v0
    s = v0l + v3l; v0h = (v0h + v3h + (s > 0xffffffff ? 1 : 0)) >>> 0; v0l = s >>> 0;
    t = ((v3h << 21) | (v3l >>> 11)) >>> 0; v3l = ((v3l << 21) | (v3h >>> 11)) >>> 0; v3h = t;
    v3l = (v3l ^ v0l) >>> 0; v3h = (v3h ^ v0h) >>> 0;
    // v2 += v1; v1 <<<= 17; v1 ^= v2; v2 <<<= 32
    s = v2l + v1l; v2h = (v2h + v1h + (s > 0xffffffff ? 1 : 0)) >>> 0; v2l = s >>> 0;
    t = ((v1h << 17) | (v1l >>> 15)) >>> 0; v1l = ((v1l << 17) | (v1h >>> 15)) >>> 0; v1h = t;
    v1l = (v1l ^ v2l) >>> 0; v1h = (v1h ^ v2h) >>> 0;
    t = v2l; v2l = v2h; v2h = t;
  }
  V[0] = v0l; V[1] = v0h; V[2] = v1l; V[3] = v1h;
  V[4] = v2l; V[5] = v2h; V[6] = v3l; V[7] = v3h;
}

/** Absorbs one 64-bit message block m = hi:lo (paper §2.2: v3 ^= m, c = 2 rounds, v0 ^= m). */
function compress(lo: number, hi: number): void {
  V[6]! ^= lo; V[7]! ^= hi;
  sipRounds(2);
  V[0]! ^= lo; V[1]! ^= hi;
}

/** Keeps the low `bytes` (0..4) bytes of a little-endian word. */
function lowBytes(w: number, bytes: number): number {
  return bytes >= 4 ? w >>> 0 : (w & ((1 << (bytes * 8)) - 1)) >>> 0;
}

/**
 * SipHash-2-4 of the first `len` bytes of `data` (32-bit words read little-endian; `len` defaults
 * to `4 * data.length`) under `key`. The 64-bit result is written to `out` as [low, high] and `out`
 * is returned; pass a reusable `out` to hash without allocating.
 */
export function siphash24(
  key: SipKey,
  data: Uint32Array | readonly number[],
  len: number = data.length * 4,
  out: Sip64 = [0, 0],
): Sip64 {
  if (len < 0 || len > data.length * 4 || !Number.isInteger(len)) {
    throw new RangeError(`siphash24: length ${len} is outside the ${data.length * 4} bytes of data`);
  }
  const k0l = key[0]! >>> 0, k0h = key[1]! >>> 0, k1l = key[2]! >>> 0, k1h = key[3]! >>> 0;
  // Paper §2.1: v0 = k0 ^ "somepseu", v1 = k1 ^ "dorandom", v2 = k0 ^ "lygenera", v3 = k1 ^ "tedbytes".
  V[0] = k0l ^ 0x70736575; V[1] = k0h ^ 0x736f6d65;
  V[2] = k1l ^ 0x6e646f6d; V[3] = k1h ^ 0x646f7261;
  V[4] = k0l ^ 0x6e657261; V[5] = k0h ^ 0x6c796765;
  V[6] = k1l ^ 0x79746573; V[7] = k1h ^ 0x74656462;

  const blocks = len >>> 3;
  for (let i = 0; i < blocks; i++) compress(data[2 * i]! >>> 0, data[2 * i + 1]! >>> 0);

  // The last block: the 0..7 remaining bytes, then len mod 256 in the most significant byte.
  const rest = len & 7;
  const w = blocks * 2;
  const lastLo = rest > 0 ? lowBytes(data[w]!, rest) : 0;
  const lastHi = (rest > 4 ? lowBytes(data[w + 1]!, rest - 4) : 0) | ((len & 0xff) << 24);
  compress(lastLo, lastHi >>> 0);

  // Paper §2.3: v2 ^= 0xff, d = 4 rounds, result v0 ^ v1 ^ v2 ^ v3.
  V[4]! ^= 0xff;
  sipRounds(4);
  out[0] = (V[0]! ^ V[2]! ^ V[4]! ^ V[6]!) >>> 0;
  out[1] = (V[1]! ^ V[3]! ^ V[5]! ^ V[7]!) >>> 0;
  return out;
}

/** Packs bytes into little-endian 32-bit words, the layout `siphash24` reads (for tests and byte-oriented callers). */
export function bytesToWords(bytes: Uint8Array): Uint32Array {
  const words = new Uint32Array((bytes.length + 3) >>> 2);
  for (let i = 0; i < bytes.length; i++) words[i >>> 2]! |= bytes[i]! << ((i & 3) * 8);
  return words;
}
