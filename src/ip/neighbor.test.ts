// The neighbour cache as a pure state machine: hooks record what it would send, time is passed in.
import { describe, expect, test } from 'vitest';
import { IpAddr } from '../wire/ip-addr.js';
import { MacAddr } from '../wire/ethernet.js';
import { type Instant, seconds } from '../time/instant.js';
import { type NeighborConfig, NeighborCache, type NeighborHooks } from './neighbor.js';

const T = (s: number) => seconds(s) as number as Instant;
const X = IpAddr.from('10.0.0.2');
const MAC = MacAddr.from('02:00:00:00:00:0b');
const MAC2 = MacAddr.from('02:00:00:00:00:0c');

interface Log {
  solicits: { target: string; unicast: string | undefined; at: number }[];
  sent: Uint8Array[];
  failed: Uint8Array[];
  overflow: Uint8Array[];
  gaveUp: number;
}

function cache(config: Partial<NeighborConfig> = {}): { c: NeighborCache; log: Log } {
  const log: Log = { solicits: [], sent: [], failed: [], overflow: [], gaveUp: 0 };
  const hooks: NeighborHooks = {
    solicit: (_i, target, unicast, now) => log.solicits.push({ target: target.toString(), unicast: unicast?.toString(), at: now }),
    send: (_i, frame) => log.sent.push(frame),
    failed: (_i, _t, frame) => log.failed.push(frame),
    overflow: (_i, frame) => log.overflow.push(frame),
    gaveUp: () => log.gaveUp++,
  };
  return { c: new NeighborCache(hooks, config), log };
}
const frame = (tag: number, len = 60) => {
  const f = new Uint8Array(len);
  f[20] = tag;
  return f;
};

describe('resolution', () => {
  test('INCOMPLETE: queue, solicit every second three times, then fail every queued frame', () => {
    const { c, log } = cache();
    expect(c.output(2, X, frame(1), T(0))).toBe('queued');
    expect(c.output(2, X, frame(2), T(0.5))).toBe('queued');
    expect(log.solicits).toEqual([{ target: '10.0.0.2', unicast: undefined, at: T(0) }]);
    expect(c.pollAt()).toBe(T(1));
    c.poll(T(0.9)); // early: harmless
    expect(log.solicits).toHaveLength(1);
    c.poll(T(1));
    c.poll(T(2));
    expect(log.solicits.map((s) => s.at)).toEqual([T(0), T(1), T(2)]);
    expect(c.pollAt()).toBe(T(3));
    c.poll(T(3));
    expect(log.failed.map((f) => f[20])).toEqual([1, 2]);
    expect(log.gaveUp).toBe(1);
    expect(c.size).toBe(0);
    expect(c.pollAt()).toBeUndefined();
  });

  test('a reply flushes the queue in order with the MAC written, and the entry is REACHABLE', () => {
    const { c, log } = cache();
    c.output(2, X, frame(1), T(0));
    c.output(2, X, frame(2), T(0));
    c.learn(2, X, MAC, { create: false, solicited: true, override: true }, T(0.2));
    expect(log.sent.map((f) => f[20])).toEqual([1, 2]);
    expect(MacAddr.read(log.sent[0]!, 0).equals(MAC)).toBe(true);
    expect(c.lookup(2, X, T(0.2))).toMatchObject({ state: 'REACHABLE' });
    expect(c.pollAt()).toBeUndefined();
    expect(c.output(2, X, frame(3), T(1))).toBe('sent');
  });

  test('the queue is bounded in bytes; the oldest frames are dropped first', () => {
    const { c, log } = cache({ queueBytes: 250 });
    for (let i = 1; i <= 5; i++) c.output(2, X, frame(i, 100), T(0));
    expect(log.overflow.map((f) => f[20])).toEqual([1, 2, 3]);
    c.learn(2, X, MAC, { create: false, solicited: true, override: true }, T(0.1));
    expect(log.sent.map((f) => f[20])).toEqual([4, 5]);
  });

  test('entries are per interface', () => {
    const { c } = cache();
    c.learn(2, X, MAC, { create: true, solicited: true, override: true }, T(0));
    expect(c.lookup(3, X, T(0))).toBeUndefined();
    expect(c.output(3, X, frame(1), T(0))).toBe('queued');
  });
});

describe('reachability (RFC 4861 §7.3)', () => {
  test('REACHABLE -> STALE after 30 s -> DELAY on use -> PROBE after 5 s (unicast) -> REACHABLE on a solicited answer', () => {
    const { c, log } = cache();
    c.learn(2, X, MAC, { create: true, solicited: true, override: true }, T(0));
    expect(c.lookup(2, X, T(29.9))?.state).toBe('REACHABLE');
    expect(c.lookup(2, X, T(30))?.state).toBe('STALE');
    expect(c.output(2, X, frame(1), T(40))).toBe('sent');
    expect(c.lookup(2, X, T(40))?.state).toBe('DELAY');
    expect(c.pollAt()).toBe(T(45));
    c.poll(T(45));
    expect(c.lookup(2, X, T(45))?.state).toBe('PROBE');
    expect(log.solicits).toEqual([{ target: '10.0.0.2', unicast: MAC.toString(), at: T(45) }]);
    expect(c.output(2, X, frame(2), T(45.5))).toBe('sent'); // still usable while probing
    c.learn(2, X, MAC, { create: false, solicited: true, override: false }, T(45.6));
    expect(c.lookup(2, X, T(45.6))?.state).toBe('REACHABLE');
    expect(c.pollAt()).toBeUndefined();
  });

  test('PROBE without answers: 3 unicast probes, then the entry is deleted (frames were already sent: nothing fails)', () => {
    const { c, log } = cache();
    c.learn(2, X, MAC, { create: true, solicited: false, override: true }, T(0));
    c.output(2, X, frame(1), T(0));
    for (let t = 5; t <= 8; t++) c.poll(T(t));
    expect(log.solicits.map((s) => [s.unicast, s.at])).toEqual([[MAC.toString(), T(5)], [MAC.toString(), T(6)], [MAC.toString(), T(7)]]);
    expect(c.size).toBe(0);
    expect(log.failed).toHaveLength(0);
    expect(log.gaveUp).toBe(0);
  });

  test('an upper-layer confirmation ends DELAY without probing', () => {
    const { c, log } = cache();
    c.learn(2, X, MAC, { create: true, solicited: false, override: true }, T(0));
    c.output(2, X, frame(1), T(1));
    c.confirm(2, X, T(2));
    c.poll(T(10));
    expect(log.solicits).toHaveLength(0);
    expect(c.lookup(2, X, T(10))?.state).toBe('REACHABLE');
  });
});

describe('learning (RFC 826 merge, RFC 4861 §7.2.5)', () => {
  test('an NA for an unknown address is ignored; an NS (create) makes a STALE entry', () => {
    const { c } = cache();
    c.learn(2, X, MAC, { create: false, solicited: true, override: true }, T(0));
    expect(c.size).toBe(0);
    c.learn(2, X, MAC, { create: true, solicited: false, override: true }, T(0));
    expect(c.lookup(2, X, T(0))?.state).toBe('STALE');
  });

  test('override clear and a different MAC: REACHABLE becomes STALE, the MAC is kept', () => {
    const { c } = cache();
    c.learn(2, X, MAC, { create: true, solicited: true, override: true }, T(0));
    c.learn(2, X, MAC2, { create: false, solicited: true, override: false }, T(1));
    expect(c.lookup(2, X, T(1))).toMatchObject({ state: 'STALE' });
    expect(c.lookup(2, X, T(1))?.mac?.equals(MAC)).toBe(true);
  });

  test('override set and a different MAC: replaced; unsolicited makes it STALE', () => {
    const { c } = cache();
    c.learn(2, X, MAC, { create: true, solicited: true, override: true }, T(0));
    c.learn(2, X, MAC2, { create: false, solicited: false, override: true }, T(1));
    expect(c.lookup(2, X, T(1))).toMatchObject({ state: 'STALE' });
    expect(c.lookup(2, X, T(1))?.mac?.equals(MAC2)).toBe(true);
  });

  test('the same MAC unsolicited leaves a REACHABLE entry alone', () => {
    const { c } = cache();
    c.learn(2, X, MAC, { create: true, solicited: true, override: true }, T(0));
    c.learn(2, X, MAC, { create: true, solicited: false, override: true }, T(1));
    expect(c.lookup(2, X, T(1))?.state).toBe('REACHABLE');
  });

  test('an INCOMPLETE entry with no MAC offered stays INCOMPLETE', () => {
    const { c, log } = cache();
    c.output(2, X, frame(1), T(0));
    c.learn(2, X, undefined, { create: false, solicited: true, override: true }, T(0.1));
    expect(c.lookup(2, X, T(0.1))?.state).toBe('INCOMPLETE');
    expect(log.sent).toHaveLength(0);
  });

  test('the table is bounded; the oldest entry is evicted', () => {
    const { c } = cache({ maxEntries: 3 });
    for (let i = 1; i <= 4; i++) c.learn(2, IpAddr.v4(0x0a000000 + i), MAC, { create: true, solicited: true, override: true }, T(0));
    expect(c.size).toBe(3);
    expect(c.lookup(2, IpAddr.v4(0x0a000001), T(0))).toBeUndefined();
    expect(c.lookup(2, IpAddr.v4(0x0a000004), T(0))).toBeDefined();
  });
});
