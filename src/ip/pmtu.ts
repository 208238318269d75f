// Path MTU per destination, learned from ICMPv4 "fragmentation needed" and ICMPv6 "packet too
// big", expiring after 10 minutes. Read first: RFC 1191 §3 and §6.3 (IPv4 PMTU discovery, aging),
// RFC 8201 §4 and §5.3 (IPv6), RFC 1122 §3.3.3.
import type { IpAddr } from '../wire/ip-addr.js';
import { type Duration, type Instant, after, seconds } from '../time/instant.js';
import { AddrMap } from './addr-map.js';

/**
 * The lowest IPv4 path MTU we accept from an ICMP message.
 * Deviation: RFC 1191 §3 allows estimates down to 68 octets; we clamp at 552 as Linux's
 * `min_pmtu` does, so a forged "fragmentation needed" cannot force tiny segments.
 */
export const MIN_PMTU4 = 552;
/** RFC 8201 §4: "A node MUST NOT reduce its estimate of the Path MTU below the IPv6 minimum link MTU" (1280). */
export const MIN_PMTU6 = 1280;
/** How long a learned PMTU lasts: 10 minutes, RFC 1191 §6.3's suggestion and Linux's `mtu_expires`. */
export const PMTU_EXPIRES: Duration = seconds(600);
/** At most this many destinations are remembered; the oldest entry is evicted first. */
export const PMTU_MAX_ENTRIES = 4096;

interface PmtuEntry {
  readonly dst: IpAddr;
  mtu: number;
  expires: Instant;
}

/** Learned path MTUs keyed by destination. */
export class PmtuCache {
  private readonly map = new AddrMap<PmtuEntry>();
  private earliest: Instant | undefined;

  constructor(private readonly expiresAfter: Duration = PMTU_EXPIRES, private readonly maxEntries = PMTU_MAX_ENTRIES) {}

  /** Number of destinations with a learned PMTU. */
  get size(): number {
    return this.map.size;
  }

  /** The learned path MTU to `dst`, if any (expired entries are removed by `poll`, which the stack runs at `pollAt`). */
  get(dst: IpAddr): number | undefined {
    return this.map.get(dst)?.mtu;
  }

  /**
   * Records a reported MTU; returns the new estimate when it lowered the current one (the caller
   * then invalidates cached routes), else undefined. `linkMtu` is the first hop's MTU, the upper
   * bound. RFC 1191 §3 / RFC 8201 §4: a node "MUST NOT increase its estimate of the Path MTU in
   * response to the contents of a Packet Too Big message".
   */
  update(dst: IpAddr, reported: number, linkMtu: number, now: Instant): number | undefined {
    const floor = dst.family === 4 ? MIN_PMTU4 : MIN_PMTU6;
    const mtu = Math.min(linkMtu, Math.max(floor, reported));
    const current = this.get(dst) ?? linkMtu;
    if (mtu >= current) return undefined;
    const expires = after(now, this.expiresAfter);
    const e = this.map.get(dst);
    if (e !== undefined) {
      e.mtu = mtu;
      e.expires = expires;
    } else {
      if (this.map.size >= this.maxEntries) {
        const oldest = this.map.first();
        if (oldest !== undefined) this.map.delete(oldest.dst);
      }
      this.map.set(dst, 0, { dst, mtu, expires });
    }
    if (this.earliest === undefined || expires < this.earliest) this.earliest = expires;
    return mtu;
  }

  /** The earliest expiry, so the stack can invalidate cached routes when an estimate lapses. */
  pollAt(): Instant | undefined {
    return this.earliest;
  }

  /** Drops expired entries; returns how many (the caller bumps the route generation when > 0). */
  poll(now: Instant): number {
    if (this.earliest === undefined || now < this.earliest) return 0;
    let n = 0;
    let next: Instant | undefined;
    for (const e of this.map.values()) {
      if (e.expires <= now) {
        this.map.delete(e.dst);
        n++;
      } else if (next === undefined || e.expires < next) {
        next = e.expires;
      }
    }
    this.earliest = next;
    return n;
  }
}
