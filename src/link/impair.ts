// Impairment middleware, netem-like: wraps any Port and returns a Port (plus Pollable) that
// delays, rate-limits, queues, loses, duplicates, reorders and corrupts frames, deterministically
// from an injected Rng. Counts everything it does and reports each event to an optional callback
// so a tracer can show it.
//
// Usage: `const a = impair(link.a, { loss: 0.05, delay: millis(20) }, rng.fork(1))`, attach a
// stack to `a`, and add both `link` and `a` to the driver (the impairer holds frames in time, so
// it is polled like a link).
//
// A frame's way, in order (only options that are set draw random numbers):
//   filter -> mtu -> loss -> burst loss (Gilbert-Elliott) -> duplication (the copy then travels
//   on its own) -> corruption -> rate limiter queue (tail drop) -> serialisation at `bandwidth`
//   -> delay + jitter (FIFO kept by clamping) -> reordering (extra delay, exempt from the clamp)
//   -> handed on.
// Everything is decided when the frame enters, so delivery times are exact in virtual time;
// frames then wait in a TimerWheel, so delivery order is by instant (FIFO among equal instants).
// Deviation from netem: the queue limit counts only frames waiting for (or in) serialisation,
// a bottleneck router's buffer, not frames already "on the wire" in the delay stage (netem's
// `limit` counts both, a known trap when emulating long fat pipes).
import type { Duration, Instant } from '../time/instant.js';
import { TimerWheel } from '../time/wheel.js';
import { randomInt, randomUnit, type Rng } from '../util/rng.js';
import type { Medium, Pollable, Port } from './link.js';
import { frameLimit } from './memory.js';

/** Why the impairer dropped a frame. */
export type ImpairDropReason = 'filter' | 'mtu' | 'loss' | 'burst' | 'queue' | 'unattached';

/** What a test's filter decides for one frame. */
export type FilterVerdict = 'pass' | 'drop';

/** Which way through the wrapped port frames are impaired. */
export type ImpairDirection = 'egress' | 'ingress' | 'both';

/** One thing the impairer did to a frame, for tracers. */
export interface ImpairEvent {
  /** What happened. */
  kind: 'drop' | 'dup' | 'reorder' | 'corrupt';
  /** The drop reason, or a detail such as `byte 17 bit 3` for corruption. */
  reason: string;
  /** The frame concerned (after corruption, for 'corrupt'). */
  frame: Uint8Array;
  /** When the impairer decided it. */
  at: Instant;
  /** Which way the frame was going: sent by the attached stack (egress) or towards it (ingress). */
  direction: 'egress' | 'ingress';
}

/** Gilbert-Elliott burst loss: a two-state Markov chain stepped once per frame, as netem's `loss gemodel`. */
export interface BurstLoss {
  /** Probability of moving from the good to the bad state (netem's p). */
  toBad: number;
  /** Probability of moving from the bad to the good state (netem's r). */
  toGood: number;
  /** Loss probability in the good state; default 0 (netem's 1-k). */
  lossGood?: number;
  /** Loss probability in the bad state; default 1 (netem's h). */
  lossBad?: number;
}

/** What to do to frames; every field is optional and off by default. */
export interface ImpairOptions {
  /** Which way to impair; default 'egress' (what the attached stack sends), as netem on an interface. */
  direction?: ImpairDirection;
  /** Called first for each frame; 'drop' drops it (scenarios like "lose the SYN-ACK"). */
  filter?: (frame: Uint8Array, now: Instant) => FilterVerdict;
  /** IP MTU of the path: larger frames are dropped and counted, while the port still advertises the wrapped port's MTU (a PMTU black hole). */
  mtu?: number;
  /** Probability of losing each frame independently. */
  loss?: number;
  /** Correlated (bursty) loss. */
  burst?: BurstLoss;
  /** Probability of delivering a frame twice (the second an independent copy). */
  duplicate?: number;
  /** Probability of flipping one random bit in one random byte of a frame. */
  corrupt?: number;
  /**
   * Which frames corruption may hit (default: all). A test may spare frames no checksum protects,
   * such as ARP, whose corruption a real link's FCS would catch but a stack cannot.
   */
  corruptOnly?: (frame: Uint8Array) => boolean;
  /** Rate limit in bits per second: a frame departs when the previous one has finished serialising. */
  bandwidth?: number;
  /** Extra bytes per frame counted by the rate limiter (24 for Ethernet preamble, FCS and gap); default 0. */
  overhead?: number;
  /** Tail-drop limit of the rate limiter's queue in frames (the one being serialised included). */
  queueFrames?: number;
  /** Tail-drop limit of the rate limiter's queue in bytes (the one being serialised included). */
  queueBytes?: number;
  /** Fixed one-way delay added after serialisation. */
  delay?: Duration;
  /** Random variation of the delay: +/- `jitter` (uniform) or standard deviation `jitter` (normal). */
  jitter?: Duration;
  /** Distribution of the jitter; default 'uniform'. Jitter never reorders frames by itself. */
  jitterDistribution?: 'uniform' | 'normal';
  /** Probability of holding a frame back by `reorderDelay` so later frames overtake it. */
  reorder?: number;
  /** How long a reordered frame is held back; default `delay`, or 1 ms when there is no delay. */
  reorderDelay?: Duration;
  /** Told about every drop, duplication, reordering and corruption. */
  onEvent?: (ev: ImpairEvent) => void;
}

/** What the impairer did, summed over the impaired directions. */
export interface ImpairStats {
  /** Frames that entered the impairer. */
  offered: number;
  /** Frames handed on (duplicates included). */
  delivered: number;
  /** Frames dropped, by reason. */
  dropped: Record<ImpairDropReason, number>;
  /** Extra copies made. */
  duplicated: number;
  /** Frames held back to be overtaken. */
  reordered: number;
  /** Frames with a flipped bit. */
  corrupted: number;
}

const newStats = (): ImpairStats => ({
  offered: 0,
  delivered: 0,
  dropped: { filter: 0, mtu: 0, loss: 0, burst: 0, queue: 0, unattached: 0 },
  duplicated: 0,
  reordered: 0,
  corrupted: 0,
});

function probability(name: string, p: number | undefined): number {
  if (p === undefined) return 0;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`impair: ${name} must be a probability in [0, 1], got ${p}`);
  return p;
}

function duration(name: string, d: Duration | undefined): number {
  if (d === undefined) return 0;
  if (!Number.isInteger(d) || d < 0) throw new RangeError(`impair: ${name} must be a non-negative integer of microseconds, got ${d}`);
  return d;
}

function positive(name: string, x: number | undefined, integer: boolean): number | undefined {
  if (x === undefined) return undefined;
  if (!(x > 0) || !Number.isFinite(x) || (integer && !Number.isInteger(x))) {
    throw new RangeError(`impair: ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${x}`);
  }
  return x;
}

/** Validated, defaulted parameters shared by both directions. */
class Params {
  readonly filter: ((frame: Uint8Array, now: Instant) => FilterVerdict) | undefined;
  readonly limit: number;
  readonly loss: number;
  readonly burst: boolean;
  readonly toBad: number;
  readonly toGood: number;
  readonly lossGood: number;
  readonly lossBad: number;
  readonly duplicate: number;
  readonly corrupt: number;
  readonly corruptOnly: ((frame: Uint8Array) => boolean) | undefined;
  readonly usPerByte: number; // 0: no rate limit
  readonly overhead: number;
  readonly queueFrames: number;
  readonly queueBytes: number;
  readonly delay: number;
  readonly jitter: number;
  readonly normal: boolean;
  readonly reorder: number;
  readonly reorderDelay: number;
  readonly onEvent: ((ev: ImpairEvent) => void) | undefined;

  constructor(o: ImpairOptions, medium: Medium) {
    this.filter = o.filter;
    const mtu = positive('mtu', o.mtu, true);
    this.limit = mtu === undefined ? Infinity : frameLimit(medium, mtu);
    this.loss = probability('loss', o.loss);
    this.burst = o.burst !== undefined;
    this.toBad = probability('burst.toBad', o.burst?.toBad);
    this.toGood = probability('burst.toGood', o.burst?.toGood);
    this.lossGood = probability('burst.lossGood', o.burst?.lossGood ?? 0);
    this.lossBad = probability('burst.lossBad', o.burst?.lossBad ?? 1);
    this.duplicate = probability('duplicate', o.duplicate);
    this.corrupt = probability('corrupt', o.corrupt);
    this.corruptOnly = o.corruptOnly;
    const bw = positive('bandwidth', o.bandwidth, false);
    this.usPerByte = bw === undefined ? 0 : 8e6 / bw;
    const overhead = o.overhead ?? 0;
    if (!Number.isInteger(overhead) || overhead < 0) throw new RangeError(`impair: overhead must be a non-negative integer of bytes, got ${overhead}`);
    this.overhead = overhead;
    this.queueFrames = positive('queueFrames', o.queueFrames, true) ?? Infinity;
    this.queueBytes = positive('queueBytes', o.queueBytes, true) ?? Infinity;
    if (bw === undefined && (o.queueFrames !== undefined || o.queueBytes !== undefined)) {
      throw new RangeError('impair: queueFrames/queueBytes limit the rate limiter\'s queue, so they need bandwidth');
    }
    this.delay = duration('delay', o.delay);
    this.jitter = duration('jitter', o.jitter);
    this.normal = (o.jitterDistribution ?? 'uniform') === 'normal';
    this.reorder = probability('reorder', o.reorder);
    this.reorderDelay = o.reorderDelay !== undefined ? duration('reorderDelay', o.reorderDelay) : this.delay > 0 ? this.delay : 1_000;
    this.onEvent = o.onEvent;
  }
}

/** The impairment state of one direction: its queue, clocks and Markov state. */
class Pipe {
  /** Frames decided and waiting for their delivery instant. */
  readonly wheel = new TimerWheel<Uint8Array>();
  private bad = false; // Gilbert-Elliott state
  private lastFinish = -Infinity; // when the rate limiter is next free (fractional microseconds)
  private lastArrival = -Infinity; // FIFO clamp for frames that are not reordered
  // The rate limiter's backlog as a ring of (finish instant, bytes): no object per frame.
  private finishes = new Float64Array(16);
  private sizes = new Float64Array(16);
  private head = 0;
  private backlog = 0;
  private backlogBytes = 0;
  private now = 0 as Instant;
  /** Hands a due frame on; bound once so `poll` allocates nothing. */
  readonly fire: (frame: Uint8Array) => void;

  constructor(
    private readonly p: Params,
    private readonly rng: Rng,
    private readonly stats: ImpairStats,
    private readonly direction: 'egress' | 'ingress',
    private readonly sink: (frame: Uint8Array, now: Instant) => boolean,
  ) {
    this.fire = (frame) => this.handOn(frame, this.now);
  }

  /** Runs a frame through the impairments at `now`. */
  push(frame: Uint8Array, now: Instant): void {
    const p = this.p;
    const rng = this.rng;
    this.stats.offered++;
    if (p.filter !== undefined && p.filter(frame, now) === 'drop') return this.drop('filter', frame, now);
    if (frame.length > p.limit) return this.drop('mtu', frame, now);
    if (p.loss > 0 && randomUnit(rng) < p.loss) return this.drop('loss', frame, now);
    if (p.burst) {
      this.bad = this.bad ? randomUnit(rng) >= p.toGood : randomUnit(rng) < p.toBad;
      const loss = this.bad ? p.lossBad : p.lossGood;
      if (loss > 0 && randomUnit(rng) < loss) return this.drop('burst', frame, now);
    }
    let copy: Uint8Array | undefined;
    if (p.duplicate > 0 && randomUnit(rng) < p.duplicate) {
      copy = frame.slice(); // a distinct buffer: each receiver owns (and may rewrite) its frame
      this.stats.duplicated++;
      p.onEvent?.({ kind: 'dup', reason: 'duplicate', frame: copy, at: now, direction: this.direction });
    }
    this.admit(frame, now);
    if (copy !== undefined) this.admit(copy, now);
  }

  /** The per-copy stages: corruption, rate limiter, delay, jitter, reordering. */
  private admit(frame: Uint8Array, now: Instant): void {
    const p = this.p;
    const rng = this.rng;
    if (p.corrupt > 0 && frame.length > 0 && (p.corruptOnly === undefined || p.corruptOnly(frame)) && randomUnit(rng) < p.corrupt) {
      // Ownership passed with `send`, so flipping in place is safe; duplicates are separate copies.
      const byte = randomInt(rng, 0, frame.length - 1);
      const bit = rng.nextU32() & 7;
      frame[byte] = (frame[byte] as number) ^ (1 << bit);
      this.stats.corrupted++;
      p.onEvent?.({ kind: 'corrupt', reason: `byte ${byte} bit ${bit}`, frame, at: now, direction: this.direction });
    }
    let depart: number = now;
    if (p.usPerByte > 0) {
      this.drainBacklog(now);
      if (this.backlog + 1 > p.queueFrames || this.backlogBytes + frame.length > p.queueBytes) return this.drop('queue', frame, now);
      const start = this.lastFinish > now ? this.lastFinish : now;
      const finish = start + (frame.length + p.overhead) * p.usPerByte;
      this.lastFinish = finish;
      this.pushBacklog(finish, frame.length);
      depart = Math.ceil(finish - 1e-6); // never early; the tolerance absorbs float noise in exact rates
    }
    let arrival = depart + p.delay;
    if (p.jitter > 0) {
      const j = p.normal ? Math.round(gaussian(rng) * p.jitter) : randomInt(rng, -p.jitter, p.jitter);
      arrival = Math.max(depart, arrival + j);
    }
    if (p.reorder > 0 && randomUnit(rng) < p.reorder) {
      arrival += p.reorderDelay; // exempt from the FIFO clamp, so later frames may overtake it
      this.stats.reordered++;
      p.onEvent?.({ kind: 'reorder', reason: 'reorder', frame, at: now, direction: this.direction });
    } else {
      if (arrival < this.lastArrival) arrival = this.lastArrival;
      this.lastArrival = arrival;
    }
    // Nothing held and nothing to wait for: hand on now. Links only enqueue on `send` and stacks
    // take frames from links' polls, so this cannot re-enter the sender.
    if (arrival <= now && this.wheel.size === 0) this.handOn(frame, now);
    else this.wheel.schedule(arrival as Instant, frame);
  }

  /** Delivers what is due at `now`. */
  poll(now: Instant): void {
    this.now = now;
    this.wheel.expire(now, this.fire);
  }

  private handOn(frame: Uint8Array, now: Instant): void {
    if (this.sink(frame, now)) this.stats.delivered++;
    else this.drop('unattached', frame, now);
  }

  private drop(reason: ImpairDropReason, frame: Uint8Array, now: Instant): void {
    this.stats.dropped[reason]++;
    this.p.onEvent?.({ kind: 'drop', reason, frame, at: now, direction: this.direction });
  }

  private drainBacklog(now: Instant): void {
    const mask = this.finishes.length - 1;
    while (this.backlog > 0 && (this.finishes[this.head] as number) <= now) {
      this.backlogBytes -= this.sizes[this.head] as number;
      this.head = (this.head + 1) & mask;
      this.backlog--;
    }
  }

  private pushBacklog(finish: number, bytes: number): void {
    if (this.backlog === this.finishes.length) {
      const cap = this.finishes.length;
      const f = new Float64Array(cap * 2);
      const s = new Float64Array(cap * 2);
      for (let k = 0; k < this.backlog; k++) {
        f[k] = this.finishes[(this.head + k) & (cap - 1)] as number;
        s[k] = this.sizes[(this.head + k) & (cap - 1)] as number;
      }
      this.finishes = f;
      this.sizes = s;
      this.head = 0;
    }
    const i = (this.head + this.backlog) & (this.finishes.length - 1);
    this.finishes[i] = finish;
    this.sizes[i] = bytes;
    this.backlog++;
    this.backlogBytes += bytes;
  }
}

/** A standard normal sample from a bare `Rng` (Box-Muller). */
function gaussian(rng: Rng): number {
  const u1 = 1 - randomUnit(rng);
  const u2 = randomUnit(rng);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** A port wrapped in impairments: attach a stack to it, and poll it like a link. */
export class ImpairedPort implements Port, Pollable {
  /** The wrapped port's medium. */
  readonly medium: Medium;
  /** The wrapped port's MTU (an impairment `mtu` drops frames without advertising itself). */
  readonly mtu: number;
  /** Set by whoever attaches: called when a frame arrives through the impairer. */
  onFrame: ((frame: Uint8Array, now: Instant) => void) | undefined = undefined;
  /** What the impairer did, over both directions. */
  readonly stats: ImpairStats = newStats();
  private readonly egress: Pipe | undefined;
  private readonly ingress: Pipe | undefined;

  /** Wraps `inner` (taking over its `onFrame`); prefer the `impair()` function. */
  constructor(
    readonly inner: Port,
    options: ImpairOptions,
    rng: Rng,
  ) {
    this.medium = inner.medium;
    this.mtu = inner.mtu;
    const direction = options.direction ?? 'egress';
    if (direction !== 'egress' && direction !== 'ingress' && direction !== 'both') {
      throw new RangeError(`impair: direction must be 'egress', 'ingress' or 'both', got ${String(direction)}`);
    }
    const params = new Params(options, inner.medium);
    const toInner = (frame: Uint8Array, now: Instant): boolean => {
      inner.send(frame, now);
      return true;
    };
    const toOuter = (frame: Uint8Array, now: Instant): boolean => {
      const h = this.onFrame;
      if (h === undefined) return false;
      h(frame, now);
      return true;
    };
    this.egress = direction === 'ingress' ? undefined : new Pipe(params, rng, this.stats, 'egress', toInner);
    this.ingress = direction === 'egress' ? undefined : new Pipe(params, rng, this.stats, 'ingress', toOuter);
    const ingress = this.ingress;
    inner.onFrame = ingress !== undefined
      ? (frame, now) => ingress.push(frame, now)
      : (frame, now) => this.onFrame?.(frame, now);
  }

  /** Sends a frame through the egress impairments (or straight on when only ingress is impaired). */
  send(frame: Uint8Array, now: Instant): void {
    if (this.egress !== undefined) this.egress.push(frame, now);
    else this.inner.send(frame, now);
  }

  /** The earliest instant a held frame is due. */
  pollAt(): Instant | undefined {
    const e = this.egress?.wheel.nextAt();
    const i = this.ingress?.wheel.nextAt();
    if (e === undefined) return i;
    if (i === undefined) return e;
    return e < i ? e : i;
  }

  /** Hands on every held frame due by `now`. */
  poll(now: Instant): void {
    this.egress?.poll(now);
    this.ingress?.poll(now);
  }
}

/** Wraps `port` in seeded, deterministic impairments; poll the result like a link. */
export function impair(port: Port, options: ImpairOptions, rng: Rng): ImpairedPort {
  return new ImpairedPort(port, options, rng);
}
