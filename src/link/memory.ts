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

/** Bytes of an Ethernet II header (destination, source, EtherType), not counted in the MTU. */
export const ETHERNET_HEADER = 14;

/** The largest frame a port with this medium and (IP) MTU carries. */
export const frameLimit = (medium: Medium, mtu: number): number => (medium === 'ethernet' ? mtu + ETHERNET_HEADER : mtu);

/** A FIFO of (frame, instant) records in a growable ring over parallel arrays: no object per frame. */
export class FrameQueue {
  private frames: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(8);
  private times = new Float64Array(8);
  private head = 0;
  private count = 0;

  /** How many frames are queued. */
  get length(): number {
    return this.count;
  }

  /** Appends a frame due at `at`. */
  push(frame: Uint8Array, at: Instant): void {
    if (this.count === this.times.length) this.grow();
    const i = (this.head + this.count) & (this.times.length - 1);
    this.frames[i] = frame;
    this.times[i] = at;
    this.count++;
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
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) & (cap - 1);
      frames[k] = this.frames[i];
      times[k] = this.times[i] as number;
    }
    this.frames = frames;
    this.times = times;
    this.head = 0;
  }
}

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
  ) {}

  send(frame: Uint8Array, now: Instant): void {
    if (frame.length > this.limit) {
      this.stats.oversize++;
      return;
    }
    this.stats.sent++;
    // Propagation keeps order; max() only matters if a caller's clock stepped backwards.
    const tail = this.outbound.tailAt();
    const at = now + this.delay;
    this.outbound.push(frame, (tail !== undefined && tail > at ? tail : at) as Instant);
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
  private readonly ends: readonly [WireEnd, WireEnd];

  /** Creates the wire; attach to `a.onFrame` and `b.onFrame` and add it to a driver. */
  constructor(options: PointToPointOptions = {}) {
    const medium = options.medium ?? 'ethernet';
    const mtu = checkMtu(options.mtu ?? 1500, 'PointToPoint');
    const delay = checkDelay(options.delay ?? (0 as Duration), 'PointToPoint');
    const limit = frameLimit(medium, mtu);
    const a = new WireEnd(medium, mtu, limit, delay, this.stats);
    const b = new WireEnd(medium, mtu, limit, delay, this.stats);
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
    for (let k = 0; k < max; k++) {
      const at = q.headAt();
      if (at === undefined || at > now) return;
      const frame = q.shift();
      const handler = to.onFrame;
      if (handler === undefined) {
        this.stats.unattached++;
        continue;
      }
      this.stats.delivered++;
      this.stats.deliveredBytes += frame.length;
      handler(frame, now);
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
