// SipHash-2-4, the keyed hash behind initial sequence numbers, timestamp offsets, ephemeral port
// offsets, SYN cookies and TFO cookies. Read first: Aumasson & Bernstein, "SipHash: a fast
// short-input PRF" (2012), §2 and Appendix A; RFC 6528 §3 (why ISNs need a keyed PRF).
//
// JavaScript has no fast 64-bit integers (BigInt allocates), so each 64-bit lane is kept as two
// 32-bit halves and the ARX operations are spelled out on the halves. The message is given as
// 32-bit words read little-endian, which is what the byte-oriented reference does with 8-byte
// blocks: word 2i is the low half of block i, word 2i+1 the high half.
//
// Why it is written this way (it runs three times per SYN answered with a cookie, and once per
// connection for the ISN; measured on Node 20 with a 48-byte message, the cookie MAC's length):
// - The state lives in eight local variables, never in an array or in module-level variables:
//   with the state in a module-level Uint32Array and a `sipRounds(n)` helper (the first
//   version) a hash took ~510 ns; with locals ~135 ns. Module-level `let`s with an inlined
//   round function measured ~370 ns (V8 keeps them in a context object, not in registers).
// - The halves are signed 32-bit values (`| 0`), which V8 keeps unboxed in registers, never
//   unsigned ones (`>>> 0`), which leave the int32 range and become doubles. The carry out of
//   the low halves is computed from the sign bits, with no unsigned comparison:
//   carry(a + b) = ((a & b) | ((a | b) & ~(a + b))) >>> 31.
// - The double round (two SipRounds) is written out once, in one loop over the blocks and the
//   finalisation; a single round in a loop measured ~165 ns, a fully unrolled function for
//   exactly 48 bytes ~110 ns (not worth six copies of the round). Keeping the state in the
//   fields of an object, with an inlined round function, measured ~180 ns.
// - `SipHasher` skips the leading blocks a key's messages share (below): the three hashes of a
//   SYN answered with a cookie (two cookie MACs and the timestamp offset) took ~1,055 ns per SYN
//   with the first version, ~450 ns with the locals, ~385 ns with the remembered states.

/** A 128-bit SipHash key as four 32-bit words, least significant first (k0 = w0 | w1 << 32, k1 = w2 | w3 << 32). */
export type SipKey = Uint32Array;

/** The 64-bit result as `[low 32 bits, high 32 bits]`, both unsigned. */
export type Sip64 = [number, number];

/** Keeps the low `bytes` (0..4) bytes of a little-endian word. */
function lowBytes(w: number, bytes: number): number {
  return bytes >= 4 ? w | 0 : w & ((1 << (bytes * 8)) - 1);
}

/** Scratch for a key's initial state (v0lo, v0hi, ..., v3hi); the core is single-threaded, nothing re-enters. */
const KEYED = new Int32Array(8);

/** Paper §2.1: v0 = k0 ^ "somepseu", v1 = k1 ^ "dorandom", v2 = k0 ^ "lygenera", v3 = k1 ^ "tedbytes". */
function keyState(key: SipKey, into: Int32Array): void {
  const k0l = key[0]! | 0, k0h = key[1]! | 0, k1l = key[2]! | 0, k1h = key[3]! | 0;
  into[0] = k0l ^ 0x70736575; into[1] = k0h ^ 0x736f6d65;
  into[2] = k1l ^ 0x6e646f6d; into[3] = k1h ^ 0x646f7261;
  into[4] = k0l ^ 0x6e657261; into[5] = k0h ^ 0x6c796765;
  into[6] = k1l ^ 0x79746573; into[7] = k1h ^ 0x74656462;
}

/**
 * SipHash-2-4 of the first `len` bytes of `data` from the state at `init[at..at+8]`, which has
 * absorbed the message's first `from` blocks (0: the key's initial state). With `save`, the
 * state after the first `saveAfter` blocks is also written to `save[saveAt..saveAt+8]`.
 */
function sip(init: Int32Array, at: number, from: number, data: Uint32Array | readonly number[], len: number, out: Sip64,
  save: Int32Array | undefined, saveAt: number, saveAfter: number): Sip64 {
  let v0l = init[at]!, v0h = init[at + 1]!, v1l = init[at + 2]!, v1h = init[at + 3]!;
  let v2l = init[at + 4]!, v2h = init[at + 5]!, v3l = init[at + 6]!, v3h = init[at + 7]!;
  let ml = 0, mh = 0, s = 0, t = 0;
  const blocks = len >>> 3;
  // Iterations 0..blocks-1 absorb the whole 8-byte blocks, iteration `blocks` the last block,
  // iteration blocks+1 is the finalisation. Each absorbs m = mh:ml (paper §2.2: v3 ^= m, c = 2
  // SipRounds, v0 ^= m); the finalisation (§2.3) is v2 ^= 0xff and d = 4 SipRounds.
  for (let i = from; ; i++) {
    if (i === saveAfter && save !== undefined) {
      save[saveAt] = v0l; save[saveAt + 1] = v0h; save[saveAt + 2] = v1l; save[saveAt + 3] = v1h;
      save[saveAt + 4] = v2l; save[saveAt + 5] = v2h; save[saveAt + 6] = v3l; save[saveAt + 7] = v3h;
    }
    const final = i > blocks;
    if (final) {
      v2l ^= 0xff;
    } else {
      if (i < blocks) {
        ml = data[2 * i]! | 0;
        mh = data[2 * i + 1]! | 0;
      } else {
        // The last block: the 0..7 remaining bytes, then len mod 256 in the most significant byte.
        const rest = len & 7;
        ml = rest > 0 ? lowBytes(data[2 * i]!, rest) : 0;
        mh = (rest > 4 ? lowBytes(data[2 * i + 1]!, rest - 4) : 0) | (len << 24);
      }
      v3l ^= ml;
      v3h ^= mh;
    }
    for (let r = final ? 4 : 2; r > 0; r--) {
      // One SipRound (paper §2, Figure 2): ADD, ROTATE, XOR on the 64-bit lanes v0..v3; c = 2
      // rounds per message block, d = 4 to finish.
      // v0 += v1; v1 <<<= 13; v1 ^= v0; v0 <<<= 32
      s = (v0l + v1l) | 0; v0h = (v0h + v1h + (((v0l & v1l) | ((v0l | v1l) & ~s)) >>> 31)) | 0; v0l = s;
      t = (v1h << 13) | (v1l >>> 19); v1l = (v1l << 13) | (v1h >>> 19); v1h = t;
      v1l ^= v0l; v1h ^= v0h;
      t = v0l; v0l = v0h; v0h = t;
      // v2 += v3; v3 <<<= 16; v3 ^= v2
      s = (v2l + v3l) | 0; v2h = (v2h + v3h + (((v2l & v3l) | ((v2l | v3l) & ~s)) >>> 31)) | 0; v2l = s;
      t = (v3h << 16) | (v3l >>> 16); v3l = (v3l << 16) | (v3h >>> 16); v3h = t;
      v3l ^= v2l; v3h ^= v2h;
      // v0 += v3; v3 <<<= 21; v3 ^= v0
      s = (v0l + v3l) | 0; v0h = (v0h + v3h + (((v0l & v3l) | ((v0l | v3l) & ~s)) >>> 31)) | 0; v0l = s;
      t = (v3h << 21) | (v3l >>> 11); v3l = (v3l << 21) | (v3h >>> 11); v3h = t;
      v3l ^= v0l; v3h ^= v0h;
      // v2 += v1; v1 <<<= 17; v1 ^= v2; v2 <<<= 32
      s = (v2l + v1l) | 0; v2h = (v2h + v1h + (((v2l & v1l) | ((v2l | v1l) & ~s)) >>> 31)) | 0; v2l = s;
      t = (v1h << 17) | (v1l >>> 15); v1l = (v1l << 17) | (v1h >>> 15); v1h = t;
      v1l ^= v2l; v1h ^= v2h;
      t = v2l; v2l = v2h; v2h = t;
    }
    if (final) break;
    v0l ^= ml;
    v0h ^= mh;
  }
  // The result: v0 ^ v1 ^ v2 ^ v3, reported as unsigned halves.
  out[0] = (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
  out[1] = (v0h ^ v1h ^ v2h ^ v3h) >>> 0;
  return out;
}

function checkLength(data: Uint32Array | readonly number[], len: number): void {
  if (len < 0 || len > data.length * 4 || !Number.isInteger(len)) {
    throw new RangeError(`siphash24: length ${len} is outside the ${data.length * 4} bytes of data`);
  }
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
  checkLength(data, len);
  keyState(key, KEYED);
  return sip(KEYED, 0, 0, data, len, out, undefined, 0, -1);
}

/**
 * SipHash-2-4 under one key, for messages that often begin with the same words: it remembers
 * the state after the first `prefixBlocks` 8-byte blocks of the last two distinct beginnings it
 * saw, and a message that begins the same way starts from that state. The answers are exactly
 * siphash24's; each block skipped saves two of the hash's SipRounds. What it is for: the
 * stack's hashes start with words that rarely change (the ::ffff:0:0 first block of an
 * IPv4-mapped address; the SYN cookie MAC's domain word and counter index, then that block), so
 * the SYN cookie path, three hashes per SYN, runs 40 SipRounds instead of 50.
 */
export class SipHasher {
  private readonly prefixWords: number;
  /** The remembered beginnings (`prefixWords` each) and the state after each (8 words each). */
  private readonly prefixes: Uint32Array;
  private readonly states = new Int32Array(16);
  private filled = 0;
  /** The entry to replace next (the older one). */
  private victim = 0;

  /** A hasher under `key` remembering states after `prefixBlocks` (>= 1) whole blocks. */
  constructor(private readonly key: SipKey, private readonly prefixBlocks: number) {
    if (!Number.isInteger(prefixBlocks) || prefixBlocks < 1) throw new RangeError(`SipHasher: prefixBlocks must be a positive integer, got ${prefixBlocks}`);
    this.prefixWords = prefixBlocks * 2;
    this.prefixes = new Uint32Array(this.prefixWords * 2);
  }

  /** siphash24(key, data, len, out), starting from a remembered state when `data` begins with its words. */
  hash(data: Uint32Array | readonly number[], len: number, out: Sip64): Sip64 {
    checkLength(data, len);
    const n = this.prefixWords;
    const p = this.prefixes;
    // The prefix must be whole blocks before the last one (which carries the length).
    if (len >>> 3 < this.prefixBlocks) {
      keyState(this.key, KEYED);
      return sip(KEYED, 0, 0, data, len, out, undefined, 0, -1);
    }
    for (let e = 0; e < this.filled; e++) {
      let w = 0;
      while (w < n && p[e * n + w] === data[w]! >>> 0) w++;
      if (w === n) {
        this.victim = e ^ 1;
        return sip(this.states, e * 8, this.prefixBlocks, data, len, out, undefined, 0, -1);
      }
    }
    // Not remembered: hash from the key, keeping the state after the prefix in place of the entry
    // used less recently.
    const e = this.filled < 2 ? this.filled++ : this.victim;
    this.victim = e ^ 1;
    for (let w = 0; w < n; w++) p[e * n + w] = data[w]!;
    keyState(this.key, KEYED);
    return sip(KEYED, 0, 0, data, len, out, this.states, e * 8, this.prefixBlocks);
  }
}

/** Packs bytes into little-endian 32-bit words, the layout `siphash24` reads (for tests and byte-oriented callers). */
export function bytesToWords(bytes: Uint8Array): Uint32Array {
  const words = new Uint32Array((bytes.length + 3) >>> 2);
  for (let i = 0; i < bytes.length; i++) words[i >>> 2]! |= bytes[i]! << ((i & 3) * 8);
  return words;
}
