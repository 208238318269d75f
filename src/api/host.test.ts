// The driver glue: the EventLoop delivers one callback per macrotask (so nextTicks and promise
// jobs settle between them, as between libuv callbacks), and runSimulation alternates settling
// the application with stepping virtual time.
import { describe, expect, test } from 'vitest';
import type { Instant } from '../time/instant.js';
import { millis } from '../time/instant.js';
import { Simulation } from '../sim/driver.js';
import type { Pollable } from '../link/link.js';
import { EventLoop, runSimulation } from './host.js';

/** A Pollable with fixed deadlines that records when it was polled and can post to a loop. */
class Ticker implements Pollable {
  readonly polled: number[] = [];
  constructor(private readonly due: number[], private readonly onPoll?: (now: number) => void) {}
  pollAt(): Instant | undefined {
    return this.due[0] as Instant | undefined;
  }
  poll(now: Instant): void {
    while (this.due.length > 0 && this.due[0]! <= now) this.due.shift();
    this.polled.push(now);
    this.onPoll?.(now);
  }
}

describe('EventLoop', () => {
  test('runs callbacks in order, one per macrotask: nextTicks and promise jobs run in between', async () => {
    const loop = new EventLoop();
    const seen: string[] = [];
    await new Promise<void>((resolve) => {
      loop.post(() => {
        seen.push('a');
        process.nextTick(() => seen.push('a-tick'));
        void Promise.resolve().then(() => seen.push('a-promise'));
      });
      loop.post(() => seen.push('b'));
      loop.post(() => {
        seen.push('c');
        resolve();
      });
      seen.push('sync');
    });
    expect(seen).toEqual(['sync', 'a', 'a-tick', 'a-promise', 'b', 'c']);
    expect(loop.busy).toBe(false);
  });

  test('a callback that throws does not stall the ones behind it', async () => {
    const seen: string[] = [];
    const errors: unknown[] = [];
    // Run each macrotask ourselves so the throw is caught here instead of becoming uncaught.
    const loop = new EventLoop((fn) => setImmediate(() => {
      try {
        fn();
      } catch (e) {
        errors.push(e);
      }
    }));
    await new Promise<void>((resolve) => {
      loop.post(() => {
        throw new Error('boom');
      });
      loop.post(() => {
        seen.push('after');
        resolve();
      });
    });
    expect(seen).toEqual(['after']);
    expect(errors).toHaveLength(1);
  });
});

describe('runSimulation', () => {
  test('lets posted work settle before each step and stops on until', async () => {
    const loop = new EventLoop();
    const sim = new Simulation();
    const order: string[] = [];
    const t = new Ticker([1000, 2000, 3000], (now) => loop.post(() => order.push(`event@${now}`)));
    sim.add(t);
    const r = await runSimulation(sim, { loop, until: () => order.length === 2 });
    expect(r.reason).toBe('until');
    expect(order).toEqual(['event@1000', 'event@2000']);
    expect(sim.now).toBe(2000);
  });

  test('quiescent when nothing is due; max-time before work beyond the deadline', async () => {
    const loop = new EventLoop();
    const sim = new Simulation();
    sim.add(new Ticker([5_000, 50_000]));
    const a = await runSimulation(sim, { loop, maxDuration: millis(10) });
    expect(a).toMatchObject({ reason: 'max-time', steps: 1 });
    const b = await runSimulation(sim, { loop });
    expect(b).toMatchObject({ reason: 'quiescent', now: 50_000 });
  });

  test('virtual time does not move on while the application still has setImmediate work queued', async () => {
    const loop = new EventLoop();
    const sim = new Simulation();
    const t = new Ticker([1000]);
    sim.add(t);
    let hops = 0;
    let timeWhenDone = -1;
    // Application work outside the loop: a chain of five setImmediate hops.
    const hop = (): void => {
      if (++hops < 5) setImmediate(hop);
      else timeWhenDone = sim.now;
    };
    setImmediate(hop);
    await runSimulation(sim, { loop });
    expect(hops).toBe(5);
    expect(timeWhenDone).toBe(0);
    expect(t.polled).toEqual([1000]);
  });

  test('maxSteps bounds the rounds', async () => {
    const sim = new Simulation();
    sim.add(new Ticker([1, 2, 3, 4, 5]));
    expect(await runSimulation(sim, { maxSteps: 3 })).toMatchObject({ reason: 'max-steps', steps: 3 });
  });
});
