// Driver glue for the application APIs (net.ts, streams.ts): the event loop they deliver socket
// events through, and the loop that runs a Simulation so that application code (callbacks,
// promises, Node's process.nextTick and stream internals) interleaves with virtual time the way it
// interleaves with real time. Browser-safe: no Node built-ins.
//
// Why an event loop of our own. The TCP layer reports readiness synchronously, from inside
// `stack.poll` or `stack.ingress`. Application code must never run there: it would re-enter the
// stack in the middle of a segment, and it would see events earlier than Node (whose sockets
// report from libuv callbacks, each its own macrotask, with nextTicks and microtasks drained in
// between). So the APIs `post` each event to an EventLoop, which runs ONE callback per macrotask
// (setImmediate in Node, a MessageChannel in browsers), in FIFO order. Everything the
// application does in reaction (nextTicks, promise jobs) settles before the next callback, as
// it does between two libuv callbacks.
//
// Virtual time: `runSimulation` alternates between letting that loop (and everything it
// triggers) settle, and stepping the Simulation. Nothing here reads a clock, so a run is exactly
// reproducible: the order of events depends only on the seed and the program. Work due at the
// current instant runs synchronously while the loop is idle; before virtual time moves on, the
// loop lets the application (and, in Node, any setImmediate work it queued elsewhere) finish,
// so application code never takes virtual time.
//
// Real time: the RealtimeDriver (src/link/realtime.ts) polls the stacks from its timer; the APIs
// post to the same EventLoop and call the driver's `kick()` after each call that queued work.
import type { Instant, Duration } from '../time/instant.js';
import type { RunResult } from '../sim/driver.js';

/** Runs a callback in a later macrotask (setImmediate in Node, a MessageChannel elsewhere). */
export type Macrotask = (fn: () => void) => void;

/** The best macrotask primitive of this runtime. */
export function defaultMacrotask(): Macrotask {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown; MessageChannel?: typeof MessageChannel };
  if (typeof g.setImmediate === 'function') {
    const si = g.setImmediate;
    return (fn) => void si(fn);
  }
  if (typeof g.MessageChannel === 'function') {
    // A MessageChannel message is a macrotask without setTimeout's 4 ms clamp.
    const ch = new g.MessageChannel();
    const queue: (() => void)[] = [];
    ch.port1.onmessage = () => queue.shift()?.();
    return (fn) => {
      queue.push(fn);
      ch.port2.postMessage(0);
    };
  }
  return (fn) => void setTimeout(fn, 0);
}

/**
 * A FIFO of callbacks run one per macrotask. The net and streams APIs deliver every socket
 * event through one, so application code runs outside the stack and in Node's order.
 */
export class EventLoop {
  private readonly queue: (() => void)[] = [];
  private scheduled = false;
  private readonly macrotask: Macrotask;
  private readonly pump = (): void => {
    const fn = this.queue.shift();
    // Re-arm before running: a callback that throws (an uncaught exception, as in Node) must not
    // stall the callbacks behind it.
    if (this.queue.length > 0) this.macrotask(this.pump);
    else this.scheduled = false;
    fn?.();
  };

  /** Creates a loop over `macrotask` (default: the runtime's best). */
  constructor(macrotask: Macrotask = defaultMacrotask()) {
    this.macrotask = macrotask;
  }

  /** Queues `fn` to run in its own macrotask after everything queued before it. */
  post(fn: () => void): void {
    this.queue.push(fn);
    if (!this.scheduled) {
      this.scheduled = true;
      this.macrotask(this.pump);
    }
  }

  /** Whether callbacks are waiting to run. */
  get busy(): boolean {
    return this.queue.length > 0;
  }

  /** Resolves after one macrotask turn (the caller's own pending callbacks and promise jobs run first). */
  turn(): Promise<void> {
    return new Promise((resolve) => this.macrotask(resolve));
  }
}

/** The loop the APIs use unless told otherwise (one per realm, like the host's own event loop). */
export const defaultLoop = new EventLoop();

/** Pending setImmediate callbacks of the whole process (Node only; 0 where it cannot be known). */
function foreignImmediates(): number {
  const p = (globalThis as { process?: { getActiveResourcesInfo?: () => string[] } }).process;
  const info = p?.getActiveResourcesInfo;
  if (typeof info !== 'function') return 0;
  let n = 0;
  for (const r of info.call(p)) if (r === 'Immediate') n++;
  return n;
}

/** What `runSimulation` drives: a Simulation (src/sim/driver.ts) or anything with the same two calls. */
export interface Steppable {
  /** The current virtual time. */
  readonly now: Instant;
  /** The instant of the next round, or undefined when nothing is pending. */
  nextAt(): Instant | undefined;
  /** Runs one round at the next instant anything is due. */
  step(): Instant | undefined;
}

/** When `runSimulation` stops. */
export interface AsyncRunOptions {
  /** Checked whenever the application has settled: stop as soon as it returns true. */
  until?: () => boolean;
  /** Stop before work due after this virtual instant. */
  maxTime?: Instant;
  /** Like `maxTime`, relative to the time of the call. */
  maxDuration?: Duration;
  /** Stop after this many simulation rounds. */
  maxSteps?: number;
  /** The event loop the APIs post to (default: `defaultLoop`). */
  loop?: EventLoop;
}

/**
 * Runs a Simulation from an async loop: lets the application settle (every posted socket event,
 * nextTick and promise job), checks `until`, then steps virtual time, and again. Resolves with
 * why it stopped. Deterministic: no clock is read.
 */
export async function runSimulation(sim: Steppable, options: AsyncRunOptions = {}): Promise<RunResult> {
  const loop = options.loop ?? defaultLoop;
  const { until, maxSteps } = options;
  let deadline = options.maxTime as number | undefined;
  if (options.maxDuration !== undefined) {
    const d = sim.now + options.maxDuration;
    deadline = deadline === undefined || d < deadline ? d : deadline;
  }
  let steps = 0;
  let foreignWaits = 0;
  while (true) {
    // Settle: one macrotask turn at least (promise jobs and nextTicks of earlier steps run),
    // then as many as the loop needs to deliver what the last step posted.
    do await loop.turn();
    while (loop.busy);
    if (until !== undefined && until()) return { reason: 'until', now: sim.now, steps };
    // Work due at the current instant runs synchronously while nothing is posted: only the
    // stacks, links and timers act, and no application code can run in between.
    let at = sim.nextAt();
    while (at !== undefined && at <= sim.now && !loop.busy) {
      if (maxSteps !== undefined && steps >= maxSteps) return { reason: 'max-steps', now: sim.now, steps };
      sim.step();
      steps++;
      at = sim.nextAt();
    }
    if (loop.busy) continue;
    // Virtual time is about to move on (or the run to end). Work the application queued outside
    // this loop (Node: pending setImmediate callbacks, e.g. inside a library) runs first, so no
    // application code sees time jump while it is still busy. Bounded, in case something
    // re-queues itself forever.
    if (foreignImmediates() > 0 && foreignWaits < 64) {
      foreignWaits++;
      continue;
    }
    foreignWaits = 0;
    if (at === undefined) return { reason: 'quiescent', now: sim.now, steps };
    if (deadline !== undefined && at > deadline) return { reason: 'max-time', now: sim.now, steps };
    if (maxSteps !== undefined && steps >= maxSteps) return { reason: 'max-steps', now: sim.now, steps };
    sim.step();
    steps++;
  }
}
