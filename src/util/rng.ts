// The randomness contract. The core never draws random numbers itself: a stack is given an
// `Rng`, seeded in the simulator (reproducible runs) and cryptographic in real drivers.

/** A source of random 32-bit words, injected into the stack. */
export interface Rng {
  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number;
}

/** A uniform integer in [lo, hi] (inclusive) drawn from `rng`. */
export function randomInt(rng: Rng, lo: number, hi: number): number {
  const span = hi - lo + 1;
  if (span <= 0x1_0000_0000) return lo + Math.floor((rng.nextU32() / 0x1_0000_0000) * span);
  const x = rng.nextU32() * 0x1_0000_0000 + rng.nextU32();
  return lo + (x % span);
}

/** A float in [0, 1) drawn from `rng`. */
export const randomUnit = (rng: Rng): number => rng.nextU32() / 0x1_0000_0000;
