// In-memory links in virtual time: a point-to-point wire and an Ethernet learning switch, plus
// the frame queue they (and the impairment middleware) hold frames in. No clocks or timers: a
// link is a Pollable that a driver (src/sim/driver.ts, src/link/realtime.ts) polls when its
// earliest frame is due.
//
// Delivery rule: `send` only enqueues; frames reach the far end's `onFrame` from `poll`, even
// with zero delay (then at the same instant, in the next poll). A stack that sends while it is
// handling a frame or a timer must never find itself re-entered with another frame before its
// own call returns: that would interleave two half-finished updates of one connection. Each
// `poll` also delivers only frames that were queued when it began, so two stacks answering each
// other at zero delay take one poll per exchange and a driver can see (and bound) the loop.
import type { Instant, Duration } from '../time/instant.js';
import type { Medium, Pollable, Port } from './link.js';
import { FrameAllocator } from '../ip/frames.js';

/** Bytes of an Ethernet II header (destination, source, EtherType), not counted in the MTU. */
export const ETHERNET_HEADER = 14;

/** The largest frame a port with this medium and (IP) MTU carries. */
export const frameLimit = (medium: Medium, mtu: number): number => (medium === 'ethernet' ? mtu + ETHERNET_HEADER : mtu);

/** A FIFO of (frame, instant, mark) records in a growable ring over parallel arrays: no object per frame. */
export class FrameQueue {
  private frames: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(8);
  private times = new Float64Array(8);
  private marks = new Uint8Array(8);
  private head = 0;
  private count = 0;

  /** How many frames are queued. */
  get length(): number {
    return this.count;
  }

  /** Appends a frame due at `at`, with a small number the owner may use (`headMark`); default 0. */
  push(frame: Uint8Array, at: Instant, mark = 0): void {
    if (this.count === this.times.length) this.grow();
    const i = (this.head + this.count) & (this.times.length - 1);
    this.frames[i] = frame;
    this.times[i] = at;
    this.marks[i] = mark;
    this.count++;
  }

  /** The mark of the oldest frame (0 when empty). */
  headMark(): number {
    return this.count === 0 ? 0 : this.marks[this.head]!;
  }

  /** The instant of the oldest frame, or undefined when empty. */
  headAt(): Instant | undefined {
    return this.count === 0 ? undefined : (this.times[this.head] as Instant);
  }

  /** The instant of the newest frame, or undefined when empty. */
  tailAt(): Instant | undefined {
    return this.count === 0 ? undefined : (this.times[(this.head + this.count - 1) & (this.times.length - 1)] as Instant);
  }

  /** Removes and returns the oldest frame; the queue must not be empty. */
  shift(): Uint8Array {
    if (this.count === 0) throw new Error('FrameQueue.shift: empty queue');
    const frame = this.frames[this.head] as Uint8Array;
    this.frames[this.head] = undefined;
    this.head = (this.head + 1) & (this.times.length - 1);
    this.count--;
    return frame;
  }

  private grow(): void {
    const cap = this.times.length;
    const frames = new Array<Uint8Array | undefined>(cap * 2);
    const times = new Float64Array(cap * 2);
    const marks = new Uint8Array(cap * 2);
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) & (cap - 1);
      frames[k] = this.frames[i];
      times[k] = this.times[i] as number;
      marks[k] = this.marks[i]!;
    }
    this.frames = frames;
    this.times = times;
    this.marks = marks;
    this.head = 0;
  }
}

/**
 * The frames an in-memory link hands out (`Port.allocFrame`) and takes back once the receiver
 * released them (`Port.release`), kept by exact length and reused last-in first-out, so a frame
 * comes back while its bytes are still in the CPU's cache. Why: a fresh frame is a fresh,
 * zero-filled range of memory (a slab's, frames.ts), and for 64 KiB frames that cost most of a
 * bulk transfer (measured at MTU 65535: 12.5 Gbit/s per CPU-second with slabs, 22 with reuse,
 * docs/performance.md); the copies then also write to memory that is not in the cache.
 *
 * A frame is reused only when the pool can tell nobody else has it, without a lookup table (a
 * WeakSet of frames cost 10% of a bulk transfer at MTU 1500, in its add):
 * - `claim`, when the link accepts a frame to send: the frame is one of the last few this pool
 *   handed out (`RECENT`), so it went straight from `alloc` to `send` through a port that offers
 *   recycling (middleware that keeps frames does not: link.ts). Any other frame, a foreign one
 *   or one sent a second time, is carried but never reused.
 * - `release`, from the receiver: only during the delivery of a claimed frame (`delivering`),
 *   and once. A release at any other time is ignored.
 * Reused frames come back zero-filled, unless the caller writes every byte (`alloc(n, false)`:
 * TCP's segments). At most `maxBytes` wait in the pool; beyond that, and for any frame not
 * released, the garbage collector takes them.
 */
export class FramePool {
  private readonly free = new Map<number, Uint8Array[]>();
  private readonly fresh = new FrameAllocator();
  /** The last frames handed out and not yet claimed, newest at `recentAt - 1` (a tiny ring). */
  private readonly recent: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(RECENT).fill(undefined);
  private recentAt = 0;
  private bytes = 0;
  /** The claimed frame being delivered now, the only one `release` accepts. */
  delivering: Uint8Array | undefined = undefined;
  /** Frames handed out again after a release. */
  reused = 0;

  /** A pool holding at most `maxBytes` of released frames (default 8 MiB). */
  constructor(private readonly maxBytes = 8 << 20) {}

  /** Bytes of released frames waiting for reuse. */
  get pooledBytes(): number {
    return this.bytes;
  }

  /**
   * A frame of `length` bytes: a released one of that length if any, else a new one. Zero-filled,
   * unless `zero` is false and the caller writes every byte (a released frame is then handed out
   * as it is: zeroing 64 KiB frames was 7% of a bulk transfer at MTU 65535).
   */
  alloc(length: number, zero = true): Uint8Array {
    const list = this.free.get(length);
    let f: Uint8Array;
    if (list !== undefined && list.length > 0) {
      f = list.pop()!;
      this.bytes -= length;
      this.reused++;
      if (zero) f.fill(0);
    } else {
      f = this.fresh.alloc(length);
    }
    this.recent[this.recentAt] = f;
    this.recentAt = (this.recentAt + 1) & (RECENT - 1);
    return f;
  }

  /** Whether `frame`, about to be carried, came straight from `alloc` (then it may come back through `release`); each frame is claimed at most once. */
  claim(frame: Uint8Array): boolean {
    const r = this.recent;
    for (let k = 1; k <= RECENT; k++) {
      const i = (this.recentAt - k) & (RECENT - 1);
      if (r[i] === frame) {
        r[i] = undefined;
        return true;
      }
    }
    return false;
  }

  /** Takes back the frame being delivered, which the receiver is done with; anything else is ignored. */
  release(frame: Uint8Array): void {
    if (frame !== this.delivering) return; // not claimed, not being delivered, or already back
    this.delivering = undefined;
    const n = frame.length;
    if (this.bytes + n > this.maxBytes) return; // left to the garbage collector
    let list = this.free.get(n);
    if (list === undefined) {
      list = [];
      this.free.set(n, list);
    }
    list.push(frame);
    this.bytes += n;
  }
}

/** How many of the latest allocations `FramePool.claim` recognises: a stack sends a frame right after allocating it. */
const RECENT = 4;

/** Counters kept by an in-memory link. */
export interface LinkStats {
  /** Frames accepted by `send`. */
  sent: number;
  /** Frames handed to an `onFrame`. */
  delivered: number;
  /** Bytes handed to an `onFrame`. */
  deliveredBytes: number;
  /** Frames dropped because they exceeded the MTU plus link header. */
  oversize: number;
  /** Frames dropped because nobody was attached to the receiving end. */
  unattached: number;
}

const newLinkStats = (): LinkStats => ({ sent: 0, delivered: 0, deliveredBytes: 0, oversize: 0, unattached: 0 });

function checkMtu(mtu: number, who: string): number {
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65_535) {
    throw new RangeError(`${who}: mtu must be an integer in [68, 65535] (68 is the IPv4 minimum, RFC 791), got ${mtu}`);
  }
  return mtu;
}

function checkDelay(delay: Duration, who: string): Duration {
  if (!Number.isInteger(delay) || delay < 0) throw new RangeError(`${who}: delay must be a non-negative integer of microseconds, got ${delay}`);
  return delay;
}

/** Options for a point-to-point link. */
export interface PointToPointOptions {
  /** What the wire carries; default 'ethernet'. */
  medium?: Medium;
  /**
   * Offer frame recycling to the two stacks (`Port.allocFrame` / `Port.release`, `FramePool`);
   * default true. Only an end whose stack is attached directly uses it: a middleware port in
   * between (capture, impairment, a recorder) does not forward it.
   */
  recycleFrames?: boolean;
  /** The IP MTU of both ends; default 1500. */
  mtu?: number;
  /** One-way propagation delay; default 0 (delivered at the same instant, in the next poll). */
  delay?: Duration;
}

/** One end of a point-to-point link. */
class WireEnd implements Port {
  onFrame: ((frame: Uint8Array, now: Instant) => void) | undefined = undefined;
  /** Frames this end has sent, on their way to the other end. */
  readonly outbound = new FrameQueue();
  peer: WireEnd | undefined = undefined;

  constructor(
    readonly medium: Medium,
    readonly mtu: number,
    private readonly limit: number,
    private readonly delay: Duration,
    private readonly stats: LinkStats,
    private readonly pool: FramePool | undefined,
  ) {
    if (pool !== undefined) {
      this.allocFrame = (length: number, zero?: boolean): Uint8Array => pool.alloc(length, zero);
      this.release = (frame: Uint8Array): void => pool.release(frame);
    }
  }

  /** Frames from the link's pool (Port.allocFrame), when the link recycles frames. */
  readonly allocFrame: ((length: number, zero?: boolean) => Uint8Array) | undefined;
  /** Gives a delivered frame back to the link's pool (Port.release), when the link recycles frames. */
  readonly release: ((frame: Uint8Array) => void) | undefined;

  send(frame: Uint8Array, now: Instant): void {
    if (frame.length > this.limit) {
      this.stats.oversize++;
      return;
    }
    this.stats.sent++;
    // Propagation keeps order; max() only matters if a caller's clock stepped backwards.
    const tail = this.outbound.tailAt();
    const at = now + this.delay;
    // Mark 1: a frame from the pool that may come back (FramePool.claim).
    const mark = this.pool !== undefined && this.pool.claim(frame) ? 1 : 0;
    this.outbound.push(frame, (tail !== undefined && tail > at ? tail : at) as Instant, mark);
  }
}

/** A full-duplex wire between two ports, `a` and `b`, with a fixed propagation delay; in order, lossless. */
export class PointToPoint implements Pollable {
  /** One end; what it sends arrives at `b`. */
  readonly a: Port;
  /** The other end; what it sends arrives at `a`. */
  readonly b: Port;
  /** Counters over both directions. */
  readonly stats: LinkStats = newLinkStats();
  /** The frames the two ends recycle (`recycleFrames`), or undefined when they do not. */
  readonly pool: FramePool | undefined;
  private readonly ends: readonly [WireEnd, WireEnd];

  /** Creates the wire; attach to `a.onFrame` and `b.onFrame` and add it to a driver. */
  constructor(options: PointToPointOptions = {}) {
    const medium = options.medium ?? 'ethernet';
    const mtu = checkMtu(options.mtu ?? 1500, 'PointToPoint');
    const delay = checkDelay(options.delay ?? (0 as Duration), 'PointToPoint');
    const limit = frameLimit(medium, mtu);
    // One pool for both ends: a frame one end sends comes back to whichever end sends next.
    const pool = options.recycleFrames ?? true ? new FramePool() : undefined;
    this.pool = pool;
    const a = new WireEnd(medium, mtu, limit, delay, this.stats, pool);
    const b = new WireEnd(medium, mtu, limit, delay, this.stats, pool);
    a.peer = b;
    b.peer = a;
    this.a = a;
    this.b = b;
    this.ends = [a, b];
  }

  /** The arrival instant of the earliest frame in flight, if any. */
  pollAt(): Instant | undefined {
    const x = this.ends[0].outbound.headAt();
    const y = this.ends[1].outbound.headAt();
    if (x === undefined) return y;
    if (y === undefined) return x;
    return x < y ? x : y;
  }

  /** Delivers every frame that had arrived by `now` and was queued when this call began. */
  poll(now: Instant): void {
    const [a, b] = this.ends;
    // Snapshot both directions first: replies queued while delivering wait for the next poll.
    const na = a.outbound.length;
    const nb = b.outbound.length;
    this.deliver(a, na, now);
    this.deliver(b, nb, now);
  }

  private deliver(from: WireEnd, max: number, now: Instant): void {
    const q = from.outbound;
    const to = from.peer as WireEnd;
    const pool = this.pool;
    for (let k = 0; k < max; k++) {
      const at = q.headAt();
      if (at === undefined || at > now) return;
      const claimed = q.headMark() === 1;
      const frame = q.shift();
      const handler = to.onFrame;
      if (handler === undefined) {
        this.stats.unattached++;
        continue;
      }
      this.stats.delivered++;
      this.stats.deliveredBytes += frame.length;
      if (claimed) {
        // The receiver may give this frame back while it handles it (Port.release), not later.
        pool!.delivering = frame;
        handler(frame, now);
        pool!.delivering = undefined;
      } else {
        handler(frame, now);
      }
    }
  }
}

/** Options for a learning switch. */
export interface SwitchOptions {
  /** The IP MTU of every port; default 1500. */
  mtu?: number;
  /** Delay from a port's `send` to delivery on the output port(s); default 0. */
  delay?: Duration;
  /** How long a learnt address stays valid without traffic from it; default 300 s as Linux bridges. */
  ageing?: Duration;
  /** Most addresses remembered; beyond this, new sources are not learnt (and so are flooded to); default 8192. */
  maxAddresses?: number;
}

/** Counters kept by a switch. */
export interface SwitchStats {
  /** Frames accepted from ports. */
  received: number;
  /** Frames sent to a single learnt port. */
  forwarded: number;
  /** Frames flooded to every other port (broadcast, multicast, unknown unicast). */
  flooded: number;
  /** Frames dropped because the destination was learnt on the port they came from. */
  filtered: number;
  /** Frames shorter than an Ethernet header. */
  runts: number;
  /** Frames larger than the MTU plus the Ethernet header. */
  oversize: number;
  /** Deliveries dropped because nothing was attached to the output port. */
  unattached: number;
}

/** One port of a switch. */
class SwitchPort implements Port {
  readonly medium: Medium = 'ethernet';
  onFrame: ((frame: Uint8Array, now: Instant) => void) | undefined = undefined;
  /** Frames on their way out of this port. */
  readonly outbound = new FrameQueue();

  constructor(
    private readonly sw: Switch,
    readonly index: number,
    readonly mtu: number,
  ) {}

  send(frame: Uint8Array, now: Instant): void {
    switchIngress(this.sw, this.index, frame, now);
  }
}

interface MacEntry {
  port: number;
  seen: Instant;
}

/** Reads 6 bytes at `off` as one exact integer (48 bits fit in a double): the MAC table key. */
const macKey = (f: Uint8Array, off: number): number =>
  ((f[off] as number) * 0x1_0000_0000_00) + ((f[off + 1] as number) * 0x1_0000_0000) +
  ((((f[off + 2] as number) << 24) | ((f[off + 3] as number) << 16) | ((f[off + 4] as number) << 8) | (f[off + 5] as number)) >>> 0);

// Module-private so the port can reach the switch's internals without making them public API.
let switchIngress: (sw: Switch, port: number, frame: Uint8Array, now: Instant) => void;

/** An Ethernet learning switch (IEEE 802.1D transparent bridging without spanning tree). */
export class Switch implements Pollable {
  /** Counters over all ports. */
  readonly stats: SwitchStats = { received: 0, forwarded: 0, flooded: 0, filtered: 0, runts: 0, oversize: 0, unattached: 0 };
  private readonly ports: SwitchPort[] = [];
  private readonly table = new Map<number, MacEntry>();
  private readonly snapshot: number[] = []; // per-port queue lengths at the start of a poll
  private readonly mtu: number;
  private readonly limit: number;
  private readonly delay: Duration;
  private readonly ageing: Duration;
  private readonly maxAddresses: number;

  static {
    switchIngress = (sw, port, frame, now) => sw.ingress(port, frame, now);
  }

  /** Creates a switch with no ports; call `port()` for each device to plug in. */
  constructor(options: SwitchOptions = {}) {
    this.mtu = checkMtu(options.mtu ?? 1500, 'Switch');
    this.limit = frameLimit('ethernet', this.mtu);
    this.delay = checkDelay(options.delay ?? (0 as Duration), 'Switch');
    this.ageing = checkDelay(options.ageing ?? (300_000_000 as Duration), 'Switch ageing');
    this.maxAddresses = options.maxAddresses ?? 8192;
  }

  /** Adds a port and returns it; attach a stack's interface to it. */
  port(): Port {
    const p = new SwitchPort(this, this.ports.length, this.mtu);
    this.ports.push(p);
    return p;
  }

  /** The port a MAC address (6 bytes) was last seen on, if learnt and not aged out at `now`. */
  portOf(mac: Uint8Array, now: Instant): Port | undefined {
    if (mac.length < 6) return undefined;
    const e = this.table.get(macKey(mac, 0));
    return e !== undefined && now - e.seen <= this.ageing ? this.ports[e.port] : undefined;
  }

  /** The earliest delivery instant over all ports, if any frame is in the switch. */
  pollAt(): Instant | undefined {
    let min: Instant | undefined;
    for (const p of this.ports) {
      const at = p.outbound.headAt();
      if (at !== undefined && (min === undefined || at < min)) min = at;
    }
    return min;
  }

  /** Delivers every frame due by `now` that was queued when this call began. */
  poll(now: Instant): void {
    const ports = this.ports;
    const n = ports.length;
    const counts = this.snapshot; // reused: a poll never runs inside another poll of the same switch
    for (let i = 0; i < n; i++) counts[i] = (ports[i] as SwitchPort).outbound.length;
    for (let i = 0; i < n; i++) {
      const p = ports[i] as SwitchPort;
      const q = p.outbound;
      for (let k = counts[i] as number; k > 0; k--) {
        const at = q.headAt();
        if (at === undefined || at > now) break;
        const frame = q.shift();
        const handler = p.onFrame;
        if (handler === undefined) this.stats.unattached++;
        else handler(frame, now);
      }
    }
  }

  private ingress(from: number, frame: Uint8Array, now: Instant): void {
    if (frame.length < ETHERNET_HEADER) {
      this.stats.runts++;
      return;
    }
    if (frame.length > this.limit) {
      this.stats.oversize++;
      return;
    }
    this.stats.received++;
    const at = (now + this.delay) as Instant;
    this.learn(frame, from, now);
    // The I/G bit (least significant bit of the first octet) marks group addresses, broadcast included.
    if (((frame[0] as number) & 1) === 0) {
      const e = this.table.get(macKey(frame, 0));
      if (e !== undefined && now - e.seen <= this.ageing) {
        if (e.port === from) {
          this.stats.filtered++;
          return;
        }
        this.stats.forwarded++;
        (this.ports[e.port] as SwitchPort).outbound.push(frame, at);
        return;
      }
    }
    this.stats.flooded++;
    // Every receiver owns its frame and may rewrite it in place, so all but the last get a copy.
    let last = -1;
    for (let i = this.ports.length - 1; i >= 0; i--) {
      if (i !== from) {
        last = i;
        break;
      }
    }
    for (let i = 0; i < this.ports.length; i++) {
      if (i === from) continue;
      (this.ports[i] as SwitchPort).outbound.push(i === last ? frame : frame.slice(), at);
    }
  }

  private learn(frame: Uint8Array, port: number, now: Instant): void {
    if (((frame[6] as number) & 1) !== 0) return; // a group address is never a source
    const key = macKey(frame, 6);
    const e = this.table.get(key);
    if (e !== undefined) {
      e.port = port; // a station that moved is learnt on its new port at once
      e.seen = now;
      return;
    }
    if (this.table.size >= this.maxAddresses) {
      for (const [k, v] of this.table) if (now - v.seen > this.ageing) this.table.delete(k);
      if (this.table.size >= this.maxAddresses) return;
    }
    this.table.set(key, { port, seen: now });
  }
}
