// Path MTU cache (RFC 1191, RFC 8201) and the ICMP token buckets (RFC 1122 §4.3.2.8, RFC 4443 §2.4(f)).
import { describe, expect, test } from 'vitest';
import { IpAddr } from '../wire/ip-addr.js';
import { type Instant, millis, seconds } from '../time/instant.js';
import { MIN_PMTU4, MIN_PMTU6, PmtuCache } from './pmtu.js';
import { IcmpRateLimiter, TokenBucket } from './ratelimit.js';

const T = (s: number) => seconds(s) as number as Instant;
const D4 = IpAddr.from('192.0.2.1');
const D6 = IpAddr.from('2001:db8::1');

describe('PmtuCache', () => {
  test('only lowers, never below 552 (v4, Linux min_pmtu) or 1280 (v6), never above the link MTU', () => {
    const c = new PmtuCache();
    expect(c.update(D4, 1400, 1500, T(0))).toBe(1400);
    expect(c.update(D4, 1450, 1500, T(0))).toBeUndefined(); // RFC 1191 §3: never raised by a message
    expect(c.get(D4)).toBe(1400);
    expect(c.update(D4, 0, 1500, T(0))).toBe(MIN_PMTU4); // pre-RFC 1191 routers send 0
    expect(c.update(D6, 600, 1500, T(0))).toBe(MIN_PMTU6);
    expect(c.update(IpAddr.from('192.0.2.2'), 9000, 1500, T(0))).toBeUndefined();
  });
  test('entries expire after 10 minutes', () => {
    const c = new PmtuCache();
    c.update(D4, 1400, 1500, T(5));
    expect(c.pollAt()).toBe(T(605));
    expect(c.poll(T(604))).toBe(0);
    expect(c.poll(T(605))).toBe(1);
    expect(c.get(D4)).toBeUndefined();
    expect(c.pollAt()).toBeUndefined();
  });
  test('bounded: the oldest destination is forgotten first', () => {
    const c = new PmtuCache(seconds(600), 2);
    c.update(IpAddr.from('192.0.2.1'), 1400, 1500, T(0));
    c.update(IpAddr.from('192.0.2.2'), 1400, 1500, T(0));
    c.update(IpAddr.from('192.0.2.3'), 1400, 1500, T(0));
    expect(c.size).toBe(2);
    expect(c.get(IpAddr.from('192.0.2.1'))).toBeUndefined();
  });
});

describe('rate limits', () => {
  test('a token bucket: burst, then one per interval', () => {
    const b = new TokenBucket(3, 1_000_000);
    expect([1, 2, 3, 4].map(() => b.take(T(0)))).toEqual([true, true, true, false]);
    expect(b.take(T(0.999))).toBe(false);
    expect(b.take(T(1))).toBe(true);
    expect(b.take(T(1.5))).toBe(false);
    expect(b.take(T(100))).toBe(true); // refilled to the burst, not beyond
    expect([1, 2, 3].map(() => b.take(T(100)))).toEqual([true, true, false]);
  });
  test('ICMP errors: 6 per destination in a burst, other destinations unaffected; the global bucket caps the rest', () => {
    const l = new IcmpRateLimiter();
    const sent = Array.from({ length: 10 }, () => l.allow(D4, T(0))).filter(Boolean).length;
    expect(sent).toBe(6);
    expect(l.allow(IpAddr.from('192.0.2.9'), T(0))).toBe(true);
    const g = new IcmpRateLimiter({ perDestBurst: 100, perDestIntervalUs: 1, globalBurst: 2, globalIntervalUs: millis(1) });
    expect([0, 1, 2].map((i) => g.allow(IpAddr.v4(i), T(0)))).toEqual([true, true, false]);
  });
});
