// The virtual-time driver: owns the simulated clock and the loop over every Pollable in a
// scenario (stacks, links, impairers). It jumps time straight to the earliest `pollAt()`, so
// idle time costs nothing: a 60-second TIME-WAIT takes one step.
//
// One round at instant `now` polls, in the order they were added, every Pollable whose
// `pollAt()` is at or before `now` (an overdue instant is treated as `now`: time never goes
// backwards). Rounds repeat at the same instant until nothing is due there, then time jumps.
// A Pollable that stays due without end at one instant is a programming error (a stack that
// never clears a deadline, two stacks in an infinite zero-delay exchange): after
// `maxRoundsPerInstant` rounds the driver throws, naming the Pollables that kept being due.
import { formatInstant, type Duration, type Instant } from '../time/instant.js';
import type { Pollable } from '../link/link.js';

/** Why `run` returned. */
export type StopReason = 'until' | 'quiescent' | 'max-time' | 'max-steps';

/** When `run` should stop; with no option it runs until nothing is pending. */
export interface RunOptions {
  /** Checked before every round: stop as soon as it returns true. */
  until?: () => boolean;
  /** Stop before any work due after this instant; `now` is then this instant. */
  maxTime?: Instant;
  /** Like `maxTime`, relative to `now` when `run` is called. */
  maxDuration?: Duration;
  /** Stop after this many rounds. */
  maxSteps?: number;
}

/** How a run ended. */
export interface RunResult {
  /** Why it stopped. */
  reason: StopReason;
  /** The virtual time when it stopped. */
  now: Instant;
  /** How many rounds it ran. */
  steps: number;
}

/** Options for a simulation. */
export interface SimulationOptions {
  /** The initial virtual time; default 0. */
  start?: Instant;
  /** The livelock guard: rounds allowed at one instant before throwing; default 1,000,000. */
  maxRoundsPerInstant?: number;
}

/** A virtual-time loop over a set of Pollables. */
export class Simulation {
  private clock: Instant;
  private pollables: readonly Pollable[] = [];
  private names: readonly string[] = [];
  private readonly maxRounds: number;
  // The livelock guard's state: rounds at `guardAt`, and how often each Pollable was due in them.
  private guardAt = -1;
  private rounds = 0;
  private dueCounts: number[] = [];

  /** Creates an empty simulation at `options.start` (default 0). */
  constructor(options: SimulationOptions = {}) {
    this.clock = options.start ?? (0 as Instant);
    this.maxRounds = options.maxRoundsPerInstant ?? 1_000_000;
    if (!Number.isInteger(this.maxRounds) || this.maxRounds < 1) {
      throw new RangeError(`Simulation: maxRoundsPerInstant must be a positive integer, got ${this.maxRounds}`);
    }
  }

  /** The current virtual time. */
  get now(): Instant {
    return this.clock;
  }

  /** Adds a Pollable; `name` labels it in the livelock error (default: its class name and index). */
  add(p: Pollable, name?: string): this {
    if (this.pollables.includes(p)) throw new Error(`Simulation.add: ${name ?? this.defaultName(p, this.pollables.indexOf(p))} was already added`);
    // Copy on write, so adding or removing from inside a poll does not disturb the round in progress.
    this.names = [...this.names, name ?? this.defaultName(p, this.pollables.length)];
    this.pollables = [...this.pollables, p];
    this.dueCounts = [...this.dueCounts, 0];
    return this;
  }

  /** Removes a Pollable; returns whether it was there. */
  remove(p: Pollable): boolean {
    const i = this.pollables.indexOf(p);
    if (i < 0) return false;
    this.pollables = this.pollables.filter((_, k) => k !== i);
    this.names = this.names.filter((_, k) => k !== i);
    this.dueCounts = this.dueCounts.filter((_, k) => k !== i);
    return true;
  }

  /** The instant of the next round (at least `now`), or undefined when nothing is pending. */
  nextAt(): Instant | undefined {
    let min: number | undefined;
    for (const p of this.pollables) {
      const at = p.pollAt();
      if (at !== undefined && (min === undefined || at < min)) min = at;
    }
    if (min === undefined) return undefined;
    return (min < this.clock ? this.clock : min) as Instant;
  }

  /** Runs one round: jumps to the next instant anything is due and polls what is due; undefined when quiescent. */
  step(): Instant | undefined {
    const at = this.nextAt();
    if (at === undefined) return undefined;
    this.round(at);
    return at;
  }

  /** Runs rounds until `until()`, quiescence, `maxTime`/`maxDuration` or `maxSteps`, whichever is first. */
  run(options: RunOptions = {}): RunResult {
    const { until, maxSteps } = options;
    let deadline = options.maxTime as number | undefined;
    if (options.maxDuration !== undefined) {
      const d = this.clock + options.maxDuration;
      deadline = deadline === undefined || d < deadline ? d : deadline;
    }
    let steps = 0;
    while (true) {
      if (until !== undefined && until()) return { reason: 'until', now: this.clock, steps };
      const at = this.nextAt();
      if (at === undefined) return { reason: 'quiescent', now: this.clock, steps };
      if (deadline !== undefined && at > deadline) {
        if (deadline > this.clock) this.clock = deadline as Instant;
        return { reason: 'max-time', now: this.clock, steps };
      }
      if (maxSteps !== undefined && steps >= maxSteps) return { reason: 'max-steps', now: this.clock, steps };
      this.round(at);
      steps++;
    }
  }

  /** Runs until `now + d` (idle time passes too: `now` ends at `now + d` unless `until` or `maxSteps` stops it first). */
  advance(d: Duration, options: Omit<RunOptions, 'maxTime' | 'maxDuration'> = {}): RunResult {
    const target = (this.clock + d) as Instant;
    const r = this.run({ ...options, maxTime: target });
    if (r.reason === 'quiescent' && target > this.clock) {
      this.clock = target;
      return { ...r, now: target };
    }
    return r;
  }

  /** Polls, once, every Pollable due at `at` (which is at least `now`). */
  private round(at: Instant): void {
    this.clock = at;
    if (at !== this.guardAt) {
      this.guardAt = at;
      this.rounds = 0;
      this.dueCounts.fill(0);
    }
    if (++this.rounds > this.maxRounds) this.livelock(at);
    const ps = this.pollables;
    const counts = this.dueCounts;
    for (let i = 0; i < ps.length; i++) {
      const p = ps[i] as Pollable;
      const due = p.pollAt();
      if (due !== undefined && due <= at) {
        if (counts === this.dueCounts) counts[i] = (counts[i] as number) + 1;
        p.poll(at);
      }
    }
  }

  private livelock(at: Instant): never {
    const rounds = this.rounds - 1;
    const ranked = this.names
      .map((name, i) => ({ name, n: this.dueCounts[i] as number }))
      .filter((e) => e.n > 0)
      .sort((a, b) => b.n - a.n)
      .slice(0, 5)
      .map((e) => `${e.name} (due in ${e.n} of ${rounds} rounds)`);
    throw new Error(
      `Simulation livelock at t=${formatInstant(at)}: still busy after ${rounds} rounds at one instant; ` +
      `most often due: ${ranked.join(', ') || 'none'}. A Pollable whose pollAt() stays at or before now ` +
      `without making progress is a bug; if this many zero-delay exchanges are intended, raise maxRoundsPerInstant.`,
    );
  }

  private defaultName(p: Pollable, index: number): string {
    const ctor = (p as { constructor?: { name?: unknown } }).constructor;
    const cls = typeof ctor?.name === 'string' && ctor.name !== '' && ctor.name !== 'Object' ? ctor.name : 'Pollable';
    return `${cls}#${index}`;
  }
}
