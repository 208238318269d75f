// Initial sequence numbers, timestamp offsets and a keyed MAC: everything a connection derives
// from a host secret. Read first: RFC 6528 §3 (ISN = M + F(4-tuple, secret)), RFC 9293 §3.4.1
// (the ISN clock), RFC 7323 §5.4 and §7 (randomised timestamp clocks).
//
// Three independent 128-bit SipHash-2-4 keys are drawn from the injected Rng when the generator
// is made, as Linux keeps net_secret and ts_secret apart (net/core/secure_seq.c): knowing a
// connection's timestamp offset must tell an attacker nothing about its ISN, and the MAC (SYN
// cookies, TFO cookies) gets a key of its own for the same reason.
import type { Rng } from '../util/rng.js';
import type { IpAddr } from '../wire/ip-addr.js';
import type { Instant } from '../time/instant.js';
import { type Seq, seq } from './seq.js';
import { type Sip64, SipHasher } from './siphash.js';

/**
 * The ISN clock M at `now` (integer microseconds): a 32-bit counter ticking every 64 ns.
 *
 * RFC 6528 §3: "M is the 4 microsecond timer". Deviation: the clock ticks every 64 ns, as Linux
 * does in seq_scale() (net/core/secure_seq.c, ktime_get_real_ns() >> 6). A faster clock keeps a
 * new incarnation of a 4-tuple ahead of the sequence numbers the old one used on fast links,
 * and 2^32 ticks of 64 ns still take 274.9 s, longer than 2*MSL (60 s TIME-WAIT).
 * Computed exactly for any instant below 2^53 µs: M = floor(now * 1000 / 64) mod 2^32.
 */
export function isnClock(now: Instant): number {
  // now * 15.625 without leaving exact integers: now = 8q + r, so now * 125 / 8 = 125q + 125r/8.
  const q = Math.floor(now / 8);
  const r = now - q * 8;
  return ((q >>> 0) * 125 + ((r * 125) >>> 3)) >>> 0;
}

/** ISN clock ticks per second (1 / 64 ns), for callers reasoning about how fast ISNs advance. */
export const ISN_CLOCK_HZ = 15_625_000;

// Scratch space so that hashing a 4-tuple allocates nothing.
const WORDS = new Uint32Array(9);
const OUT: Sip64 = [0, 0];

function drawKey(rng: Rng): Uint32Array {
  return Uint32Array.of(rng.nextU32(), rng.nextU32(), rng.nextU32(), rng.nextU32());
}

function putAddr(a: IpAddr, at: number): void {
  WORDS[at] = a.w0;
  WORDS[at + 1] = a.w1;
  WORDS[at + 2] = a.w2;
  WORDS[at + 3] = a.w3;
}

/** Keyed generator of initial sequence numbers, timestamp offsets and MACs; one per stack. */
export class IsnGenerator {
  // One hasher per key. The ISN and timestamp hashes begin with our address, whose first block
  // is the same for every IPv4 address (::ffff:0:0 mapped) and for each of our IPv6 addresses;
  // the MACs begin with two blocks the SYN cookie MAC keeps constant for IPv4 peers (its domain
  // word and counter index, then the peer's ::ffff:0:0). SipHasher starts from the state after
  // them (siphash.ts): the same values, fewer rounds.
  private readonly isnHash: SipHasher;
  private readonly tsHash: SipHasher;
  private readonly macHash: SipHasher;

  /** Draws three 128-bit secrets from `rng` (12 words, in the order ISN, timestamp, MAC). */
  constructor(rng: Rng) {
    this.isnHash = new SipHasher(drawKey(rng), 1);
    this.tsHash = new SipHasher(drawKey(rng), 1);
    this.macHash = new SipHasher(drawKey(rng), 2);
  }

  /**
   * The ISN for a connection (RFC 6528 §3): "ISN = M + F(localip, localport, remoteip,
   * remoteport, secretkey)", with F the low 32 bits of SipHash-2-4 over the local address, the
   * remote address (each as four words; IPv4 in its mapped form) and localPort << 16 | remotePort.
   * The same call serves both sides: the passive side passes its own address as `local`.
   */
  isn(local: IpAddr, localPort: number, remote: IpAddr, remotePort: number, now: Instant): Seq {
    putAddr(local, 0);
    putAddr(remote, 4);
    WORDS[8] = ((localPort & 0xffff) << 16) | (remotePort & 0xffff);
    const f = this.isnHash.hash(WORDS, 36, OUT)[0];
    return seq(f + isnClock(now));
  }

  /**
   * The offset added to this host's timestamp clock for connections between `local` and
   * `remote`, so TSval does not reveal the host's uptime or relate its connections to
   * different peers (RFC 7323 §5.4 and §7). It is a keyed hash of the address pair, as Linux's
   * secure_tcp_ts_off() (net/core/secure_seq.c): per address pair rather than per 4-tuple, so
   * TSvals seen by one peer stay monotonic across successive connections, which PAWS on a
   * reused 4-tuple (RFC 7323 §5 and Appendix B.2) relies on.
   */
  tsOffset(local: IpAddr, remote: IpAddr): number {
    putAddr(local, 0);
    putAddr(remote, 4);
    return this.tsHash.hash(WORDS, 32, OUT)[0];
  }

  /** A keyed 32-bit MAC of `words` under a key of its own, for SYN cookies and TFO cookies. */
  mac(words: readonly number[] | Uint32Array): number {
    return this.macHash.hash(words, words.length * 4, OUT)[0];
  }
}
