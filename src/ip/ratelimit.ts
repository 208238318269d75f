// Token buckets for the ICMP error rate limit. Read first: RFC 1122 §4.3.2.8 (a host SHOULD
// limit the rate of ICMP errors it sends; a token bucket is one suggestion), RFC 4443 §2.4(f)
// ("an IPv6 node MUST limit the rate of ICMPv6 error messages it originates"; a token bucket
// with a burst is the recommended form).
import type { IpAddr } from '../wire/ip-addr.js';
import type { Instant } from '../time/instant.js';
import { AddrMap } from './addr-map.js';

/** A token bucket: `burst` tokens at most, one new token every `intervalUs` microseconds. */
export class TokenBucket {
  private tokens: number;
  private last: Instant | undefined;

  constructor(private readonly burst: number, private readonly intervalUs: number) {
    this.tokens = burst;
  }

  /** Takes a token if one is available at `now`; returns whether it did. */
  take(now: Instant): boolean {
    if (this.last === undefined) {
      this.last = now;
    } else if (now > this.last) {
      const earned = Math.floor((now - this.last) / this.intervalUs);
      if (earned > 0) {
        this.tokens = Math.min(this.burst, this.tokens + earned);
        this.last = (this.tokens === this.burst ? now : this.last + earned * this.intervalUs) as Instant;
      }
    }
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}

/** Configuration of the ICMP error limiter. */
export interface IcmpRateLimitConfig {
  /** Per destination: burst (Linux: XRLIM_BURST_FACTOR 6). */
  perDestBurst: number;
  /** Per destination: one token per this many µs (Linux: `icmp_ratelimit` 1000 ms). */
  perDestIntervalUs: number;
  /** Stack-wide: burst (Linux: `icmp_msgs_burst` 50). */
  globalBurst: number;
  /** Stack-wide: one token per this many µs (Linux: `icmp_msgs_per_sec` 1000, so 1000 µs). */
  globalIntervalUs: number;
}

/** Linux's defaults: 1 error per second per destination with a burst of 6, and 1000/s overall with a burst of 50. */
export const ICMP_RATE_LIMIT_DEFAULTS: IcmpRateLimitConfig = {
  perDestBurst: 6,
  perDestIntervalUs: 1_000_000,
  globalBurst: 50,
  globalIntervalUs: 1_000,
};

/** At most this many per-destination buckets are kept; the oldest is evicted first. */
const MAX_DESTINATIONS = 1024;

/**
 * Rate limit for ICMP errors we originate, like Linux's icmpv4_xrlim_allow/icmpv6_xrlim_allow:
 * a global bucket and a bucket per destination. Echo replies are not limited (Linux's
 * `icmp_ratemask` covers only errors).
 */
export class IcmpRateLimiter {
  private readonly global: TokenBucket;
  private readonly perDest = new AddrMap<{ dst: IpAddr; bucket: TokenBucket }>();

  constructor(private readonly config: IcmpRateLimitConfig = ICMP_RATE_LIMIT_DEFAULTS) {
    this.global = new TokenBucket(config.globalBurst, config.globalIntervalUs);
  }

  /** Whether an error to `dst` may be sent at `now` (consumes tokens when it may). */
  allow(dst: IpAddr, now: Instant): boolean {
    let d = this.perDest.get(dst);
    if (d === undefined) {
      if (this.perDest.size >= MAX_DESTINATIONS) {
        const oldest = this.perDest.first();
        if (oldest !== undefined) this.perDest.delete(oldest.dst);
      }
      d = { dst, bucket: new TokenBucket(this.config.perDestBurst, this.config.perDestIntervalUs) };
      this.perDest.set(dst, 0, d);
    }
    // Linux checks the global bucket first; a denial there does not spend a per-destination token.
    return this.global.take(now) && d.bucket.take(now);
  }
}
