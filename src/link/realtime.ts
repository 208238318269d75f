// The real-time driver for Node and browsers: maps a monotonic clock onto Instants and keeps ONE
// timer armed for the earliest `pollAt()` over its Pollables (stacks, TAP links, impairers).
// It is the only place outside the CLI and API layers that touches clocks and timers; the core
// stays sans-IO and never learns whether its time is real or simulated.
//
// Call `kick()` after anything that may have made work due without the driver seeing it: a
// frame handed to a stack by a device, a socket write from the application. The kick runs the
// loop from a microtask (coalesced), never synchronously inside the caller, so an API call does
// not re-enter the stack from inside itself.
import type { Instant } from '../time/instant.js';
import type { Pollable } from './link.js';

/** How the driver arms and disarms its single timer; injectable so tests need no real time. */
export interface TimerScheduler {
  /** Calls `fn` once after about `delayMs` milliseconds; returns a handle for `clear`. */
  set(fn: () => void, delayMs: number): unknown;
  /** Cancels a timer returned by `set` that has not fired yet. */
  clear(handle: unknown): void;
}

/** Options for a real-time driver. */
export interface RealtimeOptions {
  /** A monotonic clock in milliseconds; default `performance.now()`. */
  clock?: () => number;
  /** The timer implementation; default setTimeout/clearTimeout, unref'd in Node. */
  scheduler?: TimerScheduler;
  /** Runs a callback soon but not now (for `kick`); default `queueMicrotask`. */
  defer?: (fn: () => void) => void;
  /** Rounds per wake-up before yielding to the event loop; default 1000. */
  maxRoundsPerWake?: number;
}

/** The longest delay setTimeout honours; longer ones fire at once, so the driver wakes early and re-arms. */
const MAX_TIMER_MS = 0x7fff_ffff;

/** setTimeout/clearTimeout, with the handle unref'd where that exists (Node), so the timer never keeps a process alive by itself. */
export const defaultScheduler: TimerScheduler = {
  set(fn, delayMs) {
    const h: unknown = setTimeout(fn, delayMs);
    if (typeof h === 'object' && h !== null && 'unref' in h && typeof h.unref === 'function') h.unref();
    return h;
  },
  clear(handle) {
    clearTimeout(handle as Parameters<typeof clearTimeout>[0]);
  },
};

/** Drives Pollables in real time with one timer for the earliest deadline. */
export class RealtimeDriver {
  private readonly clock: () => number;
  private readonly scheduler: TimerScheduler;
  private readonly defer: (fn: () => void) => void;
  private readonly maxRounds: number;
  private readonly origin: number;
  private pollables: readonly Pollable[] = [];
  private last = 0;
  private started = false;
  private polling = false;
  private kickPending = false;
  private timer: unknown = undefined;
  private armed = false;
  private armedAt = 0;
  private readonly onTimer = (): void => {
    this.armed = false;
    this.timer = undefined;
    this.wake();
  };
  private readonly onKick = (): void => {
    this.kickPending = false;
    this.wake();
  };

  /** Creates a stopped driver; Instant 0 is the clock's reading now. */
  constructor(options: RealtimeOptions = {}) {
    this.clock = options.clock ?? (() => performance.now());
    this.scheduler = options.scheduler ?? defaultScheduler;
    this.defer = options.defer ?? ((fn) => queueMicrotask(fn));
    this.maxRounds = options.maxRoundsPerWake ?? 1000;
    this.origin = this.clock();
  }

  /** The current time as an Instant (integer microseconds since construction; never decreases). */
  now(): Instant {
    const t = Math.floor((this.clock() - this.origin) * 1000);
    if (t > this.last) this.last = t;
    return this.last as Instant;
  }

  /** Whether the driver is running. */
  get running(): boolean {
    return this.started;
  }

  /** Adds a Pollable and re-arms for its deadline. */
  add(p: Pollable): this {
    if (!this.pollables.includes(p)) this.pollables = [...this.pollables, p];
    this.kick();
    return this;
  }

  /** Removes a Pollable; returns whether it was there. */
  remove(p: Pollable): boolean {
    const before = this.pollables.length;
    this.pollables = this.pollables.filter((x) => x !== p);
    if (this.pollables.length === before) return false;
    this.kick();
    return true;
  }

  /** Starts driving: polls whatever is due now, then arms the timer. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.wake();
  }

  /** Stops driving and disarms the timer; Pollables keep their state and `start()` resumes. */
  stop(): void {
    this.started = false;
    this.disarm();
  }

  /** Recomputes the earliest deadline soon (from a microtask) after external input made work due. */
  kick(): void {
    if (!this.started || this.kickPending || this.polling) return; // a running wake re-arms when it ends
    this.kickPending = true;
    this.defer(this.onKick);
  }

  /** Polls until nothing is due, then arms one timer for the earliest deadline. */
  private wake(): void {
    if (!this.started || this.polling) return;
    this.polling = true;
    try {
      for (let round = 0; round < this.maxRounds; round++) {
        const now = this.now();
        let polled = false;
        for (const p of this.pollables) {
          const at = p.pollAt();
          if (at !== undefined && at <= now) {
            p.poll(now);
            polled = true;
          }
        }
        if (!polled) break;
      }
    } finally {
      this.polling = false;
      this.arm(); // even after a throw, so one failing poll does not stop the network
    }
  }

  private arm(): void {
    if (!this.started) return;
    let next: number | undefined;
    for (const p of this.pollables) {
      const at = p.pollAt();
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    if (next === undefined) {
      this.disarm();
      return;
    }
    if (this.armed && this.armedAt === next) return;
    this.disarm();
    const now = this.now();
    // Round up: a timer that fires a little early finds nothing due and merely re-arms.
    const delayMs = next <= now ? 0 : Math.min(MAX_TIMER_MS, Math.ceil((next - now) / 1000));
    this.armed = true;
    this.armedAt = next;
    this.timer = this.scheduler.set(this.onTimer, delayMs);
  }

  private disarm(): void {
    if (!this.armed) return;
    this.scheduler.clear(this.timer);
    this.armed = false;
    this.timer = undefined;
  }
}
