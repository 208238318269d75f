// Tests for in-memory links: exact delivery instants, the no-reentrancy rule, MTU, and switch learning and flooding.
import { describe, expect, test } from 'vitest';
import { FramePool, FrameQueue, PointToPoint, Switch } from './memory.js';
import type { Port } from './link.js';
import { Simulation } from '../sim/driver.js';
import { millis, type Duration, type Instant } from '../time/instant.js';

const t = (n: number): Instant => n as Instant;

/** Records what arrives at a port: [arrival instant, first payload byte after the Ethernet header]. */
function record(port: Port): [number, number][] {
  const log: [number, number][] = [];
  port.onFrame = (frame, now) => log.push([now, frame[14] ?? -1]);
  return log;
}

/** An Ethernet frame from MAC ..:src to MAC ..:dst (ff = broadcast) carrying one tag byte. */
function eth(dst: number, src: number, tag: number, size = 60): Uint8Array {
  const f = new Uint8Array(size);
  if (dst === 0xff) f.fill(0xff, 0, 6);
  else f.set([0x02, 0, 0, 0, 0, dst], 0);
  f.set([0x02, 0, 0, 0, 0, src], 6);
  f[12] = 0x08;
  f[14] = tag;
  return f;
}

describe('FrameQueue', () => {
  test('keeps FIFO order across growth and wrap-around', () => {
    const q = new FrameQueue();
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 7; i++) { q.push(new Uint8Array([next & 0xff]), t(next)); next++; }
      for (let i = 0; i < 5; i++) {
        expect(q.headAt()).toBe(expected);
        expect(q.shift()[0]).toBe(expected & 0xff);
        expected++;
      }
    }
    expect(q.length).toBe(next - expected);
    expect(q.tailAt()).toBe(next - 1);
    while (q.length > 0) expect(q.shift()[0]).toBe(expected++ & 0xff);
    expect(q.headAt()).toBeUndefined();
    expect(() => q.shift()).toThrow();
  });
});

describe('FramePool', () => {
  /** What the link does for a frame: claim it when sent, then release it during its delivery. */
  const roundTrip = (pool: FramePool, f: Uint8Array): void => {
    expect(pool.claim(f)).toBe(true);
    pool.delivering = f;
    pool.release(f);
    pool.delivering = undefined;
  };

  test('a frame released during its delivery comes back for the same length, last in first out, zero-filled unless asked otherwise', () => {
    const pool = new FramePool();
    const x = pool.alloc(1514);
    const y = pool.alloc(1514);
    x.fill(7);
    y.fill(9);
    roundTrip(pool, x);
    roundTrip(pool, y);
    expect(pool.pooledBytes).toBe(2 * 1514);
    const again = pool.alloc(1514);
    expect(again).toBe(y); // the most recently released: still in the cache
    expect(again.every((b) => b === 0)).toBe(true);
    const dirty = pool.alloc(1514, false); // the caller writes every byte: not zeroed
    expect(dirty).toBe(x);
    expect(dirty[0]).toBe(7);
    expect(pool.reused).toBe(2);
    const other = pool.alloc(66); // no released frame of that length: a new one
    expect(other.length).toBe(66);
    expect(other).not.toBe(x);
  });

  test('only a frame just handed out can be claimed, once; a release outside its delivery, or a second one, is ignored', () => {
    const pool = new FramePool();
    const foreign = new Uint8Array(100);
    expect(pool.claim(foreign)).toBe(false);
    pool.release(foreign); // not being delivered
    expect(pool.pooledBytes).toBe(0);
    const f = pool.alloc(200);
    expect(pool.claim(f)).toBe(true);
    expect(pool.claim(f)).toBe(false); // sent a second time: carried, never reused
    pool.release(f); // not being delivered
    expect(pool.pooledBytes).toBe(0);
    pool.delivering = f;
    pool.release(f);
    pool.release(f); // twice during one delivery: taken back once
    expect(pool.pooledBytes).toBe(200);
    expect(pool.alloc(200)).toBe(f);
    expect(pool.alloc(200)).not.toBe(f);
    // Allocated long before it is sent (more than a few allocations in between): not claimable.
    const early = pool.alloc(300);
    for (let i = 0; i < 8; i++) pool.alloc(10);
    expect(pool.claim(early)).toBe(false);
  });

  test('at most maxBytes wait in the pool', () => {
    const pool = new FramePool(3000);
    for (let i = 0; i < 4; i++) roundTrip(pool, pool.alloc(1000));
    expect(pool.pooledBytes).toBe(1000); // each came back and went out again: one in the pool
    const fs = [pool.alloc(1000), pool.alloc(1000), pool.alloc(1000), pool.alloc(1000)];
    for (const f of fs) roundTrip(pool, f);
    expect(pool.pooledBytes).toBe(3000);
  });
});

describe('PointToPoint', () => {
  test('offers frame recycling to both ends by default, and not with recycleFrames: false', () => {
    const link = new PointToPoint();
    expect(link.pool).toBeDefined();
    expect(typeof link.a.allocFrame).toBe('function');
    expect(typeof link.b.release).toBe('function');
    // A frame one end sends and the other releases comes back to either end.
    const f = link.a.allocFrame!(60);
    link.b.onFrame = (frame) => link.b.release!(frame);
    link.a.send(f, t(0));
    new Simulation().add(link).run();
    expect(link.b.allocFrame!(60)).toBe(f);
    const plain = new PointToPoint({ recycleFrames: false });
    expect(plain.pool).toBeUndefined();
    expect(plain.a.allocFrame).toBeUndefined();
    expect(plain.a.release).toBeUndefined();
  });

  test('a frame sent at t arrives at the far end at exactly t + delay, in order', () => {
    const link = new PointToPoint({ delay: millis(10) });
    const sim = new Simulation().add(link);
    const atB = record(link.b);
    link.a.send(eth(2, 1, 1), t(0));
    link.a.send(eth(2, 1, 2), t(3_000));
    expect(link.pollAt()).toBe(10_000);
    const r = sim.run();
    expect(r.reason).toBe('quiescent');
    expect(r.now).toBe(13_000);
    expect(atB).toEqual([[10_000, 1], [13_000, 2]]);
    expect(link.stats).toMatchObject({ sent: 2, delivered: 2, deliveredBytes: 120 });
  });

  test('both directions are independent', () => {
    const link = new PointToPoint({ delay: millis(1) });
    const sim = new Simulation().add(link);
    const atA = record(link.a);
    const atB = record(link.b);
    link.a.send(eth(2, 1, 1), t(0));
    link.b.send(eth(1, 2, 9), t(500));
    sim.run();
    expect(atB).toEqual([[1_000, 1]]);
    expect(atA).toEqual([[1_500, 9]]);
  });

  test('zero delay: never delivered inside send, but at the same instant on the next poll', () => {
    const link = new PointToPoint();
    const atB = record(link.b);
    link.a.send(eth(2, 1, 1), t(5));
    expect(atB).toEqual([]);
    expect(link.pollAt()).toBe(5);
    link.poll(t(5));
    expect(atB).toEqual([[5, 1]]);
    expect(link.pollAt()).toBeUndefined();
  });

  test('a reply queued while a frame is delivered waits for the next poll', () => {
    const link = new PointToPoint();
    const atA = record(link.a);
    link.b.onFrame = (frame, now) => link.b.send(eth(1, 2, (frame[14] ?? 0) + 1), now);
    link.a.send(eth(2, 1, 1), t(0));
    link.poll(t(0));
    expect(atA).toEqual([]); // not delivered in the same poll
    expect(link.pollAt()).toBe(0);
    link.poll(t(0));
    expect(atA).toEqual([[0, 2]]);
  });

  test('a zero-delay ping-pong of 1000 exchanges runs at one instant in the simulator', () => {
    const link = new PointToPoint();
    const sim = new Simulation().add(link);
    let exchanges = 0;
    link.a.onFrame = (frame, now) => { exchanges++; if (exchanges < 1000) link.a.send(frame, now); };
    link.b.onFrame = (frame, now) => link.b.send(frame, now);
    link.a.send(eth(2, 1, 1), t(0));
    const r = sim.run();
    expect(exchanges).toBe(1000);
    expect(r.now).toBe(0);
  });

  test('frames larger than the MTU plus the link header are dropped and counted', () => {
    const eth1500 = new PointToPoint({ mtu: 1500 });
    const ip1500 = new PointToPoint({ mtu: 1500, medium: 'ip' });
    expect(eth1500.a.medium).toBe('ethernet');
    expect(ip1500.b.medium).toBe('ip');
    expect(ip1500.b.mtu).toBe(1500);
    const gotE = record(eth1500.b);
    const gotI = record(ip1500.b);
    eth1500.a.send(new Uint8Array(1514), t(0));
    eth1500.a.send(new Uint8Array(1515), t(0));
    ip1500.a.send(new Uint8Array(1500), t(0));
    ip1500.a.send(new Uint8Array(1501), t(0));
    eth1500.poll(t(0));
    ip1500.poll(t(0));
    expect(gotE.length).toBe(1);
    expect(gotI.length).toBe(1);
    expect(eth1500.stats.oversize).toBe(1);
    expect(ip1500.stats.oversize).toBe(1);
  });

  test('frames for an end with nothing attached are counted', () => {
    const link = new PointToPoint();
    link.a.send(eth(2, 1, 1), t(0));
    link.poll(t(0));
    expect(link.stats.unattached).toBe(1);
    expect(link.stats.delivered).toBe(0);
  });

  test('rejects bad options with a message naming the value', () => {
    expect(() => new PointToPoint({ mtu: 20 })).toThrow(/mtu.*20/);
    expect(() => new PointToPoint({ delay: -1 as Duration })).toThrow(/delay.*-1/);
  });
});

describe('Switch', () => {
  function threePorts(delay?: Duration) {
    const sw = new Switch(delay === undefined ? {} : { delay });
    const ports = [sw.port(), sw.port(), sw.port()];
    const logs = ports.map((p) => {
      const log: { at: number; tag: number; frame: Uint8Array }[] = [];
      p.onFrame = (frame, now) => log.push({ at: now, tag: frame[14] ?? -1, frame });
      return log;
    });
    const sim = new Simulation().add(sw);
    return { sw, ports, logs, sim };
  }

  test('floods unknown unicast with distinct copies, then forwards once learnt', () => {
    const { sw, ports, logs, sim } = threePorts();
    const [p0, p1] = ports as [Port, Port, Port];
    p0.send(eth(2, 1, 10), t(0)); // station 1 on port 0 -> station 2, unknown: flood
    sim.run();
    expect(logs.map((l) => l.map((e) => e.tag))).toEqual([[], [10], [10]]);
    expect(logs[1]?.[0]?.frame).not.toBe(logs[2]?.[0]?.frame);
    expect(sw.stats.flooded).toBe(1);
    p1.send(eth(1, 2, 11), t(1)); // station 2 answers on port 1; station 1 is known on port 0
    sim.run();
    expect(logs.map((l) => l.map((e) => e.tag))).toEqual([[11], [10], [10]]);
    p0.send(eth(2, 1, 12), t(2)); // now station 2 is known too
    sim.run();
    expect(logs.map((l) => l.map((e) => e.tag))).toEqual([[11], [10, 12], [10]]);
    expect(sw.stats).toMatchObject({ received: 3, forwarded: 2, flooded: 1 });
    expect(sw.portOf(new Uint8Array([2, 0, 0, 0, 0, 2]), t(2))).toBe(p1);
  });

  test('floods broadcast and multicast to every other port, never back', () => {
    const { ports, logs, sim } = threePorts();
    ports[2]?.send(eth(0xff, 3, 1), t(0));
    const mcast = eth(2, 3, 2);
    mcast.set([0x01, 0x00, 0x5e, 0, 0, 1], 0); // an IPv4 multicast MAC
    ports[2]?.send(mcast, t(0));
    sim.run();
    expect(logs.map((l) => l.map((e) => e.tag))).toEqual([[1, 2], [1, 2], []]);
  });

  test('drops a frame whose destination was learnt on its own port', () => {
    const { sw, ports, logs, sim } = threePorts();
    ports[0]?.send(eth(0xff, 1, 1), t(0)); // learn 1 on port 0
    ports[0]?.send(eth(1, 5, 2), t(0)); // to station 1, from port 0 again
    sim.run();
    expect(sw.stats.filtered).toBe(1);
    expect(logs.map((l) => l.map((e) => e.tag))).toEqual([[], [1], [1]]);
  });

  test('a station that moves is learnt on its new port', () => {
    const { ports, logs, sim } = threePorts();
    ports[0]?.send(eth(0xff, 1, 1), t(0));
    ports[1]?.send(eth(0xff, 1, 2), t(1)); // station 1 now on port 1
    ports[2]?.send(eth(1, 3, 3), t(2));
    sim.run();
    expect(logs[1]?.map((e) => e.tag)).toEqual([1, 3]);
    expect(logs[0]?.map((e) => e.tag)).toEqual([2]);
  });

  test('learnt addresses age out and are flooded to again', () => {
    const sw = new Switch({ ageing: millis(100) });
    const ports = [sw.port(), sw.port(), sw.port()];
    const seen = ports.map((p) => { let n = 0; p.onFrame = () => { n++; }; return () => n; });
    const sim = new Simulation().add(sw);
    ports[0]?.send(eth(0xff, 1, 1), t(0));
    sim.run();
    ports[1]?.send(eth(1, 2, 2), t(50_000)); // known: only to port 0
    sim.run();
    expect(seen.map((f) => f())).toEqual([1, 1, 1]);
    ports[1]?.send(eth(1, 2, 3), t(200_000)); // aged out: flooded to ports 0 and 2
    sim.run();
    expect(seen.map((f) => f())).toEqual([2, 1, 2]);
  });

  test('applies its delay, drops runts and oversize frames', () => {
    const { sw, ports, logs, sim } = threePorts(millis(2));
    ports[0]?.send(eth(0xff, 1, 7), t(1_000));
    ports[0]?.send(new Uint8Array(13), t(1_000));
    ports[0]?.send(new Uint8Array(1515), t(1_000));
    sim.run();
    expect(logs[1]?.map((e) => [e.at, e.tag])).toEqual([[3_000, 7]]);
    expect(sw.stats.runts).toBe(1);
    expect(sw.stats.oversize).toBe(1);
    expect(ports[0]?.mtu).toBe(1500);
    expect(ports[0]?.medium).toBe('ethernet');
  });

  test('stops learning at maxAddresses but keeps forwarding by flooding', () => {
    const sw = new Switch({ maxAddresses: 2 });
    const ports = [sw.port(), sw.port()];
    let got = 0;
    ports[1]!.onFrame = () => { got++; };
    for (let src = 1; src <= 5; src++) ports[0]?.send(eth(0xff, src, src), t(0));
    expect(sw.portOf(new Uint8Array([2, 0, 0, 0, 0, 1]), t(0))).toBe(ports[0]);
    expect(sw.portOf(new Uint8Array([2, 0, 0, 0, 0, 3]), t(0))).toBeUndefined();
    sw.poll(t(0));
    expect(got).toBe(5);
  });
});
