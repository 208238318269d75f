// The simulator's seeded PRNG: xoshiro128** (Blackman and Vigna, 2018) seeded through
// splitmix32, with `fork` to give each component its own reproducible stream. Not
// cryptographic: real drivers hand the stack a CSPRNG instead (see src/util/rng.ts).
//
// Why fork by label rather than by drawing from the parent: a forked stream depends only on the
// parent's seed and the label, never on how many numbers the parent has drawn. Adding a random
// draw to one component (a new jitter option, say) then leaves every other component's stream,
// and so the rest of a seeded run, unchanged.
import { randomInt, type Rng } from '../util/rng.js';

/** splitmix32's step (Weyl increment, then a 32-bit finaliser): a well-mixed word from a 32-bit input. */
export function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** FNV-1a over the UTF-16 code units of a label: a stable 32-bit hash for fork labels. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A deterministic xoshiro128** generator seeded from a 32-bit integer; implements `Rng`. */
export class SimRng implements Rng {
  /** The 32-bit key this stream was seeded from (reported in failing tests to reproduce a run). */
  readonly seed: number;
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** A stream seeded from `seed` (any integer; only its low 32 bits are used). */
  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`SimRng: seed must be an integer, got ${seed}`);
    this.seed = seed >>> 0;
    // splitmix32 as a seeder: successive outputs of a Weyl sequence through the mixer.
    let x = this.seed;
    this.s0 = mix32(x);
    x = (x + 0x9e3779b9) | 0;
    this.s1 = mix32(x);
    x = (x + 0x9e3779b9) | 0;
    this.s2 = mix32(x);
    x = (x + 0x9e3779b9) | 0;
    this.s3 = mix32(x);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the one state xoshiro cannot leave
  }

  /** A uniformly distributed unsigned 32-bit integer (xoshiro128**). */
  nextU32(): number {
    const s1 = this.s1;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return r >>> 0;
  }

  /** A float in [0, 1), a multiple of 2^-32. */
  float(): number {
    return this.nextU32() / 0x1_0000_0000;
  }

  /** A uniform integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || lo > hi) {
      throw new RangeError(`SimRng.int: need integers lo <= hi, got ${lo}, ${hi}`);
    }
    return randomInt(this, lo, hi);
  }

  /** True with probability `p` (0 never draws true, 1 always does). */
  bool(p = 0.5): boolean {
    return this.float() < p;
  }

  /** `n` random bytes in a new array. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const w = this.nextU32();
      out[i] = w & 0xff;
      out[i + 1] = (w >>> 8) & 0xff;
      out[i + 2] = (w >>> 16) & 0xff;
      out[i + 3] = w >>> 24;
    }
    if (i < n) {
      let w = this.nextU32();
      for (; i < n; i++, w >>>= 8) out[i] = w & 0xff;
    }
    return out;
  }

  /** A normally distributed float (Box-Muller; two draws per sample). */
  normal(mean = 0, sd = 1): number {
    const u1 = 1 - this.float(); // (0, 1]: log stays finite
    const u2 = this.float();
    return mean + sd * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Picks one element of a non-empty array uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('SimRng.pick: empty array');
    return items[randomInt(this, 0, items.length - 1)] as T;
  }

  /**
   * An independent stream derived from this stream's seed and `label` only (not from its
   * position): `fork('client')` is the same stream however much this one has drawn.
   */
  fork(label: string | number): SimRng {
    if (typeof label === 'number' && !Number.isInteger(label)) {
      throw new RangeError(`SimRng.fork: a numeric label must be an integer, got ${label}`);
    }
    // Strings and numbers hash into separate domains so fork(1) and fork('1') differ.
    const h = typeof label === 'number' ? mix32((label >>> 0) ^ 0x6e756d62) : mix32(hashLabel(label));
    return new SimRng(mix32(mix32(this.seed ^ 0x666f726b) ^ h));
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
