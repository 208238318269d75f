// Tests for the virtual-time driver: jumping over idle time, stop conditions, rounds, and the livelock guard.
import { describe, expect, test } from 'vitest';
import { Simulation } from './driver.js';
import type { Pollable } from '../link/link.js';
import { PointToPoint } from '../link/memory.js';
import { impair } from '../link/impair.js';
import { SimRng } from './rng.js';
import { millis, seconds, type Instant } from '../time/instant.js';

const t = (n: number): Instant => n as Instant;

/** A Pollable with a list of deadlines; records the instants it was polled at. */
class Alarms implements Pollable {
  readonly polled: number[] = [];
  constructor(private deadlines: number[]) {
    this.deadlines.sort((a, b) => a - b);
  }
  pollAt(): Instant | undefined {
    return this.deadlines[0] as Instant | undefined;
  }
  poll(now: Instant): void {
    this.polled.push(now);
    while (this.deadlines.length > 0 && (this.deadlines[0] as number) <= now) this.deadlines.shift();
  }
  at(n: number): void {
    this.deadlines.push(n);
    this.deadlines.sort((a, b) => a - b);
  }
}

describe('Simulation', () => {
  test('jumps straight over 60 s of idle time and ends at the right instant', () => {
    const sim = new Simulation();
    const alarms = new Alarms([seconds(60), 5]);
    sim.add(alarms);
    const started = performance.now();
    const r = sim.run();
    expect(performance.now() - started).toBeLessThan(1_000); // no sleeping, whatever the machine
    expect(r).toEqual({ reason: 'quiescent', now: 60_000_000, steps: 2 });
    expect(alarms.polled).toEqual([5, 60_000_000]);
  });

  test('quiescent at once when nothing is pending', () => {
    const sim = new Simulation({ start: t(1_000) });
    expect(sim.run()).toEqual({ reason: 'quiescent', now: 1_000, steps: 0 });
    expect(sim.step()).toBeUndefined();
  });

  test('maxTime stops before later work and sets now to maxTime; work stays pending', () => {
    const sim = new Simulation();
    const alarms = new Alarms([10, 20, 30]);
    sim.add(alarms);
    expect(sim.run({ maxTime: t(25) })).toEqual({ reason: 'max-time', now: 25, steps: 2 });
    expect(alarms.polled).toEqual([10, 20]);
    expect(sim.run()).toMatchObject({ reason: 'quiescent', now: 30 });
  });

  test('maxTime includes work due exactly at it', () => {
    const alarms = new Alarms([25, 26]);
    const sim = new Simulation().add(alarms);
    expect(sim.run({ maxTime: t(25) })).toMatchObject({ reason: 'max-time', now: 25, steps: 1 });
    expect(alarms.polled).toEqual([25]);
  });

  test('maxDuration is relative to now; maxTime in the past does not move time back', () => {
    const sim = new Simulation({ start: t(100) }).add(new Alarms([150, 300]));
    expect(sim.run({ maxDuration: millis(0.1) })).toMatchObject({ reason: 'max-time', now: 200 });
    expect(sim.run({ maxTime: t(50) })).toMatchObject({ reason: 'max-time', now: 200, steps: 0 });
  });

  test('until stops as soon as it holds', () => {
    const sim = new Simulation();
    const alarms = new Alarms([1, 2, 3, 4]);
    sim.add(alarms);
    const r = sim.run({ until: () => alarms.polled.length >= 2 });
    expect(r).toEqual({ reason: 'until', now: 2, steps: 2 });
    expect(sim.run({ until: () => true }).steps).toBe(0);
  });

  test('maxSteps bounds the rounds', () => {
    const sim = new Simulation().add(new Alarms([1, 2, 3]));
    expect(sim.run({ maxSteps: 2 })).toEqual({ reason: 'max-steps', now: 2, steps: 2 });
  });

  test('advance runs to now + d, idle time included', () => {
    const sim = new Simulation();
    const alarms = new Alarms([1_000]);
    sim.add(alarms);
    expect(sim.advance(millis(5))).toMatchObject({ now: 5_000 });
    expect(alarms.polled).toEqual([1_000]);
    expect(sim.now).toBe(5_000);
    alarms.at(9_000);
    expect(sim.advance(millis(2))).toMatchObject({ reason: 'max-time', now: 7_000 });
    expect(alarms.polled).toEqual([1_000]);
  });

  test('step runs one round at the next instant', () => {
    const a = new Alarms([10, 30]);
    const b = new Alarms([10, 20]);
    const sim = new Simulation().add(a).add(b);
    expect(sim.step()).toBe(10);
    expect([a.polled, b.polled]).toEqual([[10], [10]]);
    expect(sim.step()).toBe(20);
    expect([a.polled, b.polled]).toEqual([[10], [10, 20]]);
    expect(sim.nextAt()).toBe(30);
  });

  test('a pollAt earlier than now is treated as now', () => {
    const sim = new Simulation({ start: t(1_000) });
    const late = new Alarms([10]);
    sim.add(late);
    expect(sim.nextAt()).toBe(1_000);
    sim.run();
    expect(late.polled).toEqual([1_000]);
    expect(sim.now).toBe(1_000);
  });

  test('work made due during a round is polled at the same instant before time moves', () => {
    const sim = new Simulation();
    const second = new Alarms([]);
    const first: Pollable = {
      done: false,
      pollAt() { return this.done ? undefined : t(50); },
      poll(now: Instant) { this.done = true; second.at(now); },
    } as Pollable & { done: boolean };
    sim.add(second).add(first); // added after: second is polled in the next round, same instant
    const after = new Alarms([60]);
    sim.add(after);
    sim.run();
    expect(second.polled).toEqual([50]);
    expect(after.polled).toEqual([60]);
  });

  test('the livelock guard names the Pollable that never stops being due', () => {
    const stuck: Pollable = { pollAt: () => t(7), poll: () => {} };
    const sim = new Simulation({ maxRoundsPerInstant: 100 }).add(new Alarms([7]), 'alarms').add(stuck, 'stuck-stack');
    expect(() => sim.run()).toThrow(/livelock at t=0\.000007.*stuck-stack \(due in 100 of 100 rounds\)/);
  });

  test('default names use the class name', () => {
    class Sticky implements Pollable {
      pollAt(): Instant { return t(0); }
      poll(): void {}
    }
    const sim = new Simulation({ maxRoundsPerInstant: 10 }).add(new Sticky());
    expect(() => sim.run()).toThrow(/Sticky#0/);
  });

  test('add rejects duplicates; remove works', () => {
    const a = new Alarms([1]);
    const sim = new Simulation().add(a);
    expect(() => sim.add(a)).toThrow(/already added/);
    expect(sim.remove(a)).toBe(true);
    expect(sim.remove(a)).toBe(false);
    expect(sim.run().reason).toBe('quiescent');
    expect(a.polled).toEqual([]);
  });

  test('runs links and impairers together: an echo over a lossy 10 ms link is reproducible', () => {
    const run = (seed: number): string[] => {
      const rng = new SimRng(seed);
      const link = new PointToPoint({ delay: millis(10) });
      const a = impair(link.a, { loss: 0.3, jitter: millis(2) }, rng.fork('a'));
      const sim = new Simulation().add(link).add(a);
      const log: string[] = [];
      link.b.onFrame = (f, now) => link.b.send(f, now); // echo
      a.onFrame = (f, now) => log.push(`${now}:${f[0]}`);
      for (let i = 0; i < 50; i++) {
        sim.run({ maxTime: t(i * 1_000) });
        a.send(new Uint8Array([i, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), sim.now);
      }
      sim.run();
      return log;
    };
    const log = run(5);
    expect(log.length).toBeGreaterThan(20);
    expect(log.length).toBeLessThan(50);
    expect(run(5)).toEqual(log);
    for (const entry of log) {
      const [at, i] = entry.split(':').map(Number) as [number, number];
      const rtt = at - i * 1_000;
      expect(rtt).toBeGreaterThanOrEqual(20_000 - 2_000);
      expect(rtt).toBeLessThanOrEqual(20_000 + 4_000); // + jitter and the FIFO clamp
    }
  });
});
