// Tests for the real-time driver with an injected clock and timer queue: no real time passes.
import { describe, expect, test } from 'vitest';
import { RealtimeDriver, defaultScheduler, type TimerScheduler } from './realtime.js';
import type { Pollable } from './link.js';
import type { Instant } from '../time/instant.js';

/** A fake clock and timer queue: time moves only when the test says so. */
class FakeTime implements TimerScheduler {
  ms = 1_000; // an arbitrary non-zero origin: instants are relative to construction
  timers: { id: number; fn: () => void; due: number; delay: number }[] = [];
  deferred: (() => void)[] = [];
  private nextId = 1;
  clock = (): number => this.ms;
  defer = (fn: () => void): void => { this.deferred.push(fn); };
  set(fn: () => void, delayMs: number): unknown {
    const id = this.nextId++;
    this.timers.push({ id, fn, due: this.ms + delayMs, delay: delayMs });
    return id;
  }
  clear(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }
  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.ms + ms;
    for (;;) {
      this.timers.sort((a, b) => a.due - b.due);
      const next = this.timers[0];
      if (next === undefined || next.due > end) break;
      this.timers.shift();
      this.ms = next.due;
      next.fn();
    }
    this.ms = end;
  }
  runDeferred(): void {
    const fns = this.deferred;
    this.deferred = [];
    for (const fn of fns) fn();
  }
}

/** A Pollable with deadlines in microseconds; records the instants it was polled at. */
class Alarms implements Pollable {
  readonly polled: number[] = [];
  constructor(public deadlines: number[] = []) {}
  pollAt(): Instant | undefined {
    return (this.deadlines.length === 0 ? undefined : Math.min(...this.deadlines)) as Instant | undefined;
  }
  poll(now: Instant): void {
    this.polled.push(now);
    this.deadlines = this.deadlines.filter((d) => d > now);
  }
}

function driver(ft: FakeTime): RealtimeDriver {
  return new RealtimeDriver({ clock: ft.clock, scheduler: ft, defer: ft.defer });
}

describe('RealtimeDriver', () => {
  test('maps the clock to microseconds since construction, never decreasing', () => {
    const ft = new FakeTime();
    const d = driver(ft);
    expect(d.now()).toBe(0);
    ft.ms += 1.5;
    expect(d.now()).toBe(1_500);
    ft.ms -= 1; // a clock that steps back does not move time back
    expect(d.now()).toBe(1_500);
  });

  test('arms one timer for the earliest deadline and polls when it fires', () => {
    const ft = new FakeTime();
    const d = driver(ft);
    const a = new Alarms([5_000, 20_000]);
    const b = new Alarms([12_000]);
    d.add(a).add(b);
    expect(ft.timers.length).toBe(0); // not started: nothing armed
    d.start();
    expect(d.running).toBe(true);
    expect(ft.timers.map((x) => x.delay)).toEqual([5]);
    ft.advance(5);
    expect(a.polled).toEqual([5_000]);
    expect(ft.timers.map((x) => x.delay)).toEqual([7]); // re-armed for b at 12 ms
    ft.advance(100);
    expect(a.polled).toEqual([5_000, 20_000]);
    expect(b.polled).toEqual([12_000]);
    expect(ft.timers).toEqual([]); // idle: no timer at all
  });

  test('rounds delays up so it never wakes before a deadline', () => {
    const ft = new FakeTime();
    const d = driver(ft);
    const a = new Alarms([2_300]);
    d.add(a);
    d.start();
    expect(ft.timers[0]?.delay).toBe(3);
  });

  test('polls what is already due at start, and what a kick makes due, from a deferred call', () => {
    const ft = new FakeTime();
    const d = driver(ft);
    const a = new Alarms([0]);
    d.add(a);
    d.start();
    expect(a.polled).toEqual([0]);
    ft.advance(3);
    a.deadlines.push(3_000); // external input made work due now
    d.kick();
    d.kick(); // coalesced
    expect(ft.deferred.length).toBe(1);
    expect(a.polled).toEqual([0]); // never synchronously inside kick
    ft.runDeferred();
    expect(a.polled).toEqual([0, 3_000]);
  });

  test('a kick re-arms for an earlier deadline', () => {
    const ft = new FakeTime();
    const d = driver(ft);
    const a = new Alarms([50_000]);
    d.add(a);
    d.start();
    expect(ft.timers.map((x) => x.delay)).toEqual([50]);
    a.deadlines.push(10_000);
    d.kick();
    ft.runDeferred();
    expect(ft.timers.map((x) => x.delay)).toEqual([10]); // the old timer was cleared
  });

  test('stop disarms; start resumes', () => {
    const ft = new FakeTime();
    const d = driver(ft);
    const a = new Alarms([10_000]);
    d.add(a);
    d.start();
    d.stop();
    expect(ft.timers).toEqual([]);
    d.kick();
    expect(ft.deferred).toEqual([]);
    ft.advance(20);
    expect(a.polled).toEqual([]);
    d.start();
    expect(a.polled).toEqual([20_000]);
  });

  test('yields to the event loop after maxRoundsPerWake rounds of busy work', () => {
    const ft = new FakeTime();
    const d = new RealtimeDriver({ clock: ft.clock, scheduler: ft, defer: ft.defer, maxRoundsPerWake: 10 });
    let polls = 0;
    d.add({ pollAt: () => (polls < 25 ? (0 as Instant) : undefined), poll: () => { polls++; } });
    d.start();
    expect(polls).toBe(10);
    expect(ft.timers.map((x) => x.delay)).toEqual([0]);
    ft.advance(0);
    ft.advance(0);
    expect(polls).toBe(25);
  });

  test('caps very long delays to what setTimeout honours', () => {
    const ft = new FakeTime();
    const d = driver(ft);
    d.add(new Alarms([40 * 86_400 * 1_000_000])); // 40 days
    d.start();
    expect(ft.timers[0]?.delay).toBe(0x7fff_ffff);
  });

  test('re-arms even when a poll throws', () => {
    const ft = new FakeTime();
    const d = driver(ft);
    let calls = 0;
    d.add({ pollAt: () => (calls < 2 ? ((calls + 1) * 1_000) as Instant : undefined), poll: () => { calls++; if (calls === 1) throw new Error('boom'); } });
    d.start();
    expect(() => ft.advance(1)).toThrow('boom');
    expect(ft.timers.map((x) => x.delay)).toEqual([1]);
    ft.advance(1);
    expect(calls).toBe(2);
  });

  test('the default scheduler unrefs its timer in Node', () => {
    const h = defaultScheduler.set(() => {}, 60_000) as { hasRef(): boolean };
    expect(h.hasRef()).toBe(false);
    defaultScheduler.clear(h);
  });
});
