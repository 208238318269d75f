// Ephemeral port selection: which local port a connect() or a bind(0) gets. Read first:
// RFC 6056 §3.1 (why selection must be hard to predict: blind attacks need the 4-tuple),
// §3.2 (the ephemeral port range), §3.3.4 (Algorithm 4, "Double-Hash Port Selection").
//
// The allocator decides only the order in which ports are tried; whether a port is usable is the
// caller's question (`isFree`), because only the demux tables know which ports and 4-tuples are
// taken. When every port in the range is taken it returns undefined and the caller fails with
// EADDRNOTAVAIL, as Linux does.
import { type Rng, randomInt } from '../util/rng.js';
import type { IpAddr } from '../wire/ip-addr.js';
import { type Sip64, siphash24 } from './siphash.js';

/** An inclusive range of port numbers. */
export interface PortRange {
  readonly low: number;
  readonly high: number;
}

/** Linux's default ip_local_port_range, 32768..60999. */
export const DEFAULT_PORT_RANGE: PortRange = Object.freeze({ low: 32768, high: 60999 });

/**
 * Entries in the perturbation table (RFC 6056 §3.3.4 "table[TABLE_LENGTH]").
 * Deviation: 256 entries. The RFC's example uses 10; Linux started with 256 and now uses 65536
 * (INET_TABLE_PERTURB_SIZE in net/ipv4/inet_hashtables.c, 256 KiB); a simulation holds many
 * stacks, so we keep Linux's original 1 KiB table.
 */
const PERTURB_BITS = 8;

// Scratch space for hashing a destination without allocating.
const WORDS = new Uint32Array(9);
const OUT: Sip64 = [0, 0];

/** Throws a RangeError naming the values unless `low..high` is a usable port range. */
export function validatePortRange(low: number, high: number): void {
  const ok = (p: number): boolean => Number.isInteger(p) && p >= 1 && p <= 65535;
  if (!ok(low) || !ok(high) || low > high) {
    throw new RangeError(`invalid ephemeral port range ${low}..${high}: need integers with 1 <= low <= high <= 65535`);
  }
}

/** Chooses ephemeral ports for connect() (RFC 6056 Algorithm 4) and bind(0) (random start, linear probe). */
export class PortAllocator {
  private low: number;
  private high: number;
  private readonly key: Uint32Array;
  // The per-bucket counters, allocated on the first connect() (a stack that only listens never
  // pays). Deviation: they start at zero, where RFC 6056 §3.3.4 fills table[] with random
  // values; F is already a secret offset, so random starting counters would add nothing, and
  // not drawing 256 words keeps the simulator's random stream short.
  private table: Uint32Array | undefined;

  /** Draws a 128-bit hash key from `rng` (4 words); `range` defaults to Linux's 32768..60999. */
  constructor(
    private readonly rng: Rng,
    range: PortRange = DEFAULT_PORT_RANGE,
  ) {
    validatePortRange(range.low, range.high);
    this.low = range.low;
    this.high = range.high;
    this.key = Uint32Array.of(rng.nextU32(), rng.nextU32(), rng.nextU32(), rng.nextU32());
  }

  /** The current range (ip_local_port_range). */
  get range(): PortRange {
    return { low: this.low, high: this.high };
  }

  /** Replaces the range; throws a RangeError naming the values if it is not 1 <= low <= high <= 65535. */
  setRange(low: number, high: number): void {
    validatePortRange(low, high);
    this.low = low;
    this.high = high;
  }

  /**
   * A local port for a connection from `local` to `remote`:`remotePort`, or undefined when no
   * port in the range passes `isFree` (the caller's check that the 4-tuple is unused).
   *
   * RFC 6056 §3.3.4, Algorithm 4: next_ephemeral = min_ephemeral + (offset + table[index]) %
   * num_ephemeral, where offset = F(local_IP, remote_IP, remote_port, secret_key1) and index =
   * G(local_IP, remote_IP, remote_port, secret_key2). F and G are the high and low halves of
   * one SipHash-2-4, as Linux's __inet_hash_connect() takes both from
   * secure_ipv4_port_ephemeral(). Connections to one destination thus walk the range from a
   * secret starting point, one step further each time, while other destinations start
   * elsewhere: ports are hard to guess yet are reused as late as possible.
   *
   * Deviation (as Linux does in __inet_hash_connect()): offsets of the range start's parity are
   * tried first and the others second, leaving the other parity to bind(0) (`pickForBind`), so
   * the two compete less; and table[index] advances once per successful pick, by the distance
   * probed plus a small random amount (at least 2, at most 16 on an idle range), rather than by
   * one per probe, so an observer cannot count other hosts' connections from consecutive ports.
   * Not done: Linux also rehashes F every 10 s (EPHEMERAL_PORT_SHUFFLE_PERIOD); pick() has no clock.
   */
  pick(local: IpAddr, remote: IpAddr, remotePort: number, isFree: (port: number) => boolean): number | undefined {
    const table = (this.table ??= new Uint32Array(1 << PERTURB_BITS));
    WORDS[0] = local.w0; WORDS[1] = local.w1; WORDS[2] = local.w2; WORDS[3] = local.w3;
    WORDS[4] = remote.w0; WORDS[5] = remote.w1; WORDS[6] = remote.w2; WORDS[7] = remote.w3;
    WORDS[8] = remotePort & 0xffff;
    const [g, f] = siphash24(this.key, WORDS, 36, OUT);
    // hash_32(): the top bits of a multiplication by the golden ratio spread G over the table.
    const index = Math.imul(g, 0x61c88647) >>> (32 - PERTURB_BITS);
    const n = this.high - this.low + 1;
    let offset = ((table[index]! + f) >>> 0) % n;
    if (n > 1) offset &= ~1;
    const step = this.probe(offset, n, isFree);
    if (step === undefined) return undefined;
    // Linux: i = max(i, get_random_u32_below(8) * 2); table[index] += i + 2.
    const bump = Math.max(step, (this.rng.nextU32() & 7) * 2) + 2;
    table[index] = (table[index]! + bump) >>> 0;
    return this.low + ((offset + step) % n);
  }

  /**
   * A port for bind() to port 0 (no destination yet), or undefined when none passes `isFree`:
   * a random starting point, then every port of the other parity from the one `pick` prefers,
   * then the rest, each in increasing order with wrap-around (RFC 6056 §3.3.1 Algorithm 1's
   * random start with linear probing; the parity split is Linux's inet_csk_find_open_port()).
   */
  pickForBind(isFree: (port: number) => boolean): number | undefined {
    const n = this.high - this.low + 1;
    let offset = randomInt(this.rng, 0, n - 1);
    if (n > 1) offset |= 1;
    const step = this.probe(offset, n, isFree);
    return step === undefined ? undefined : this.low + ((offset + step) % n);
  }

  /** Tries distances 0, 2, 4, ... then 1, 3, 5, ... from `offset`; returns the first free distance. */
  private probe(offset: number, n: number, isFree: (port: number) => boolean): number | undefined {
    for (let parity = 0; parity < 2; parity++) {
      for (let step = parity; step < n; step += 2) {
        if (isFree(this.low + ((offset + step) % n))) return step;
      }
    }
    return undefined;
  }
}
