// The neighbour cache shared by ARP and IPv6 Neighbor Discovery: IP address -> MAC per
// interface, the reachability state machine (simplified), retransmitted solicitations, a small
// queue of frames per unresolved neighbour, and failure reports. It knows nothing of ARP or NDP
// packet formats: the IP layer builds requests (through `hooks.solicit`) and feeds what it learns
// into `learn`. Read first: RFC 4861 §7.3 (reachability states) and §7.2.3-7.2.5 (what NS/NA
// change), RFC 826 ("Packet Reception": the merge rule), RFC 1122 §2.3.2.
import type { IpAddr } from '../wire/ip-addr.js';
import type { MacAddr } from '../wire/ethernet.js';
import { type Duration, type Instant, after, seconds } from '../time/instant.js';
import { assertNever } from '../util/result.js';
import { AddrMap } from './addr-map.js';

/**
 * Reachability states of RFC 4861 §7.3.2: INCOMPLETE (resolving, frames queued), REACHABLE
 * (confirmed within the reachable time), STALE (unconfirmed; usable), DELAY (used while STALE:
 * waiting a few seconds for an upper-layer confirmation before probing), PROBE (sending unicast
 * solicitations while still using the address).
 * Deviation: no FAILED state: a failed entry is deleted and the next use starts a fresh
 * resolution, which is what Linux's FAILED entries do on use.
 */
export type NeighborState = 'INCOMPLETE' | 'REACHABLE' | 'STALE' | 'DELAY' | 'PROBE';

/** Tunables of the neighbour cache. */
export interface NeighborConfig {
  /** Time between solicitations: RFC 4861 §10 RETRANS_TIMER, Linux `retrans_time_ms`: 1 s. */
  retransTime: Duration;
  /** Broadcast/multicast solicitations before giving up: RFC 4861 MAX_MULTICAST_SOLICIT, Linux `mcast_solicit`: 3. */
  maxMulticastSolicit: number;
  /** Unicast probes of a STALE entry before deleting it: RFC 4861 MAX_UNICAST_SOLICIT, Linux `ucast_solicit`: 3. */
  maxUnicastSolicit: number;
  /**
   * How long a confirmation lasts: RFC 4861 REACHABLE_TIME, Linux `base_reachable_time`: 30 s.
   * Deviation: not randomised by 0.5-1.5 (RFC 4861 §6.3.2), to keep runs easy to read.
   */
  reachableTime: Duration;
  /** RFC 4861 DELAY_FIRST_PROBE_TIME, Linux `delay_first_probe_time`: 5 s. */
  delayFirstProbe: Duration;
  /**
   * Bytes of frames queued per unresolved neighbour; when full the oldest frames are dropped,
   * as Linux does. We bound bytes as Linux does (`unres_qlen_bytes`, default SK_WMEM_MAX =
   * 212992) rather than its historical 3 packets (`unres_qlen`): 3 packets would lose most
   * fragments of one large datagram sent to a neighbour not yet resolved.
   */
  queueBytes: number;
  /** Entries at most; the oldest is evicted first (Linux `gc_thresh3` is 1024). */
  maxEntries: number;
}

/** The defaults above. */
export const NEIGHBOR_DEFAULTS: NeighborConfig = {
  retransTime: seconds(1),
  maxMulticastSolicit: 3,
  maxUnicastSolicit: 3,
  reachableTime: seconds(30),
  delayFirstProbe: seconds(5),
  queueBytes: 212992,
  maxEntries: 1024,
};

/** How the IP layer lets the cache send and report. */
export interface NeighborHooks {
  /** Sends an ARP request or a Neighbor Solicitation for `target`: broadcast/multicast when `unicast` is undefined, else to that MAC (a reachability probe). */
  solicit(ifindex: number, target: IpAddr, unicast: MacAddr | undefined, now: Instant): void;
  /** Sends a frame whose destination MAC the cache has just written. */
  send(ifindex: number, frame: Uint8Array, now: Instant): void;
  /** Resolution failed: `frame` (queued for `target`) is dropped; the IP layer reports EHOSTUNREACH to its transport. */
  failed(ifindex: number, target: IpAddr, frame: Uint8Array, now: Instant): void;
  /** Resolution of `target` failed (once per failure, before `failed` for each queued frame). */
  gaveUp?(ifindex: number, target: IpAddr): void;
  /** A queued frame was pushed out by a newer one (the queue is full). */
  overflow?(ifindex: number, frame: Uint8Array): void;
}

/** How a received ARP/NDP message may change the cache (the flags of RFC 4861 §7.2.5, and RFC 826's merge rule). */
export interface LearnFlags {
  /** Create an entry if there is none (ARP aimed at us, RFC 826; an NS with a source link-layer address, RFC 4861 §7.2.3). */
  create: boolean;
  /** This confirms reachability (an ARP reply, an NA with the S flag). */
  solicited: boolean;
  /** May replace a different cached MAC (ARP always; an NA with the O flag; an NS). */
  override: boolean;
}

/** One neighbour. Read-only outside this file. */
export interface NeighborEntry {
  readonly ifindex: number;
  readonly addr: IpAddr;
  state: NeighborState;
  mac: MacAddr | undefined;
  /** When reachability was last confirmed. */
  confirmedAt: Instant;
  /** Solicitations sent in the current INCOMPLETE or PROBE phase. */
  probes: number;
  /** When the next solicitation (or the failure, or the end of DELAY) is due, in INCOMPLETE, DELAY and PROBE. */
  nextProbeAt: Instant | undefined;
  /** Frames waiting for the MAC (INCOMPLETE only). */
  queue: Uint8Array[];
  /** Bytes in `queue`. */
  queueBytes: number;
}

/** The neighbour cache: resolution, queueing, retransmission and expiry, time passed in. */
export class NeighborCache {
  private readonly entries = new AddrMap<NeighborEntry>();
  /** Entries with a deadline (INCOMPLETE, DELAY, PROBE). */
  private readonly active = new Set<NeighborEntry>();
  private readonly config: NeighborConfig;
  // The last entry found: every data segment (output) and every ACK of new data (confirm) looks up
  // the same neighbour, and the hash lookup was 2% of a bulk transfer. Cleared when entries go.
  private last: NeighborEntry | undefined = undefined;

  constructor(private readonly hooks: NeighborHooks, config: Partial<NeighborConfig> = {}) {
    this.config = { ...NEIGHBOR_DEFAULTS, ...config };
  }

  /** Number of entries. */
  get size(): number {
    return this.entries.size;
  }

  /** The entry for (ifindex, addr), with its state brought up to date at `now`. */
  lookup(ifindex: number, addr: IpAddr, now: Instant): NeighborEntry | undefined {
    const e = this.find(addr, ifindex);
    if (e !== undefined) this.age(e, now);
    return e;
  }

  /** All entries (for `ip neigh`-style display and tests). */
  list(): NeighborEntry[] {
    return [...this.entries.values()];
  }

  /**
   * Sends an Ethernet `frame` (its destination MAC still to be written) to `nextHop`: writes the
   * MAC and sends it when known, else queues it and starts resolution. Returns which happened.
   */
  output(ifindex: number, nextHop: IpAddr, frame: Uint8Array, now: Instant): 'sent' | 'queued' {
    let e = this.find(nextHop, ifindex);
    if (e === undefined) {
      e = this.create(ifindex, nextHop, 'INCOMPLETE', undefined, now);
      this.enqueue(e, frame);
      this.startProbing(e, now);
      return 'queued';
    }
    this.age(e, now);
    const state = e.state;
    switch (state) {
      case 'INCOMPLETE':
        this.enqueue(e, frame);
        return 'queued';
      case 'STALE':
        // RFC 4861 §7.3.3: "The first time a node sends a packet to a neighbor whose entry is
        // STALE, the sender changes the state to DELAY and sets a timer to expire in
        // DELAY_FIRST_PROBE_TIME seconds."
        e.state = 'DELAY';
        e.probes = 0;
        e.nextProbeAt = after(now, this.config.delayFirstProbe);
        this.active.add(e);
        break;
      case 'REACHABLE':
      case 'DELAY':
      case 'PROBE':
        break;
      default:
        assertNever(state, 'neighbour state');
    }
    e.mac!.write(frame, 0);
    this.hooks.send(ifindex, frame, now);
    return 'sent';
  }

  /** Records what an ARP or NDP message said about `addr` (RFC 826 merge; RFC 4861 §7.2.3 and §7.2.5). */
  learn(ifindex: number, addr: IpAddr, mac: MacAddr | undefined, flags: LearnFlags, now: Instant): void {
    const e = this.find(addr, ifindex);
    if (e === undefined) {
      // RFC 4861 §7.2.5: an NA for which "no entry exists ... SHOULD be silently discarded".
      if (!flags.create || mac === undefined) return;
      this.create(ifindex, addr, flags.solicited ? 'REACHABLE' : 'STALE', mac, now);
      return;
    }
    this.age(e, now);
    if (e.state === 'INCOMPLETE') {
      // RFC 4861 §7.2.5: "If the advertisement's Solicited flag is set, the state of the entry is
      // set to REACHABLE; otherwise, it is set to STALE." Then queued packets go out.
      if (mac === undefined) return;
      e.mac = mac;
      e.state = flags.solicited ? 'REACHABLE' : 'STALE';
      e.confirmedAt = now;
      this.stopProbing(e);
      const queue = e.queue;
      e.queue = [];
      e.queueBytes = 0;
      for (const frame of queue) {
        mac.write(frame, 0);
        this.hooks.send(ifindex, frame, now);
      }
      return;
    }
    const differs = mac !== undefined && (e.mac === undefined || !mac.equals(e.mac));
    if (differs && !flags.override) {
      // RFC 4861 §7.2.5: "If the Override flag is clear and the supplied link-layer address
      // differs from that in the cache, then ... if the state of the entry is REACHABLE, set it
      // to STALE, but do not update the entry in any other way."
      if (e.state === 'REACHABLE') e.state = 'STALE';
      return;
    }
    if (differs) e.mac = mac;
    if (flags.solicited) {
      e.state = 'REACHABLE';
      e.confirmedAt = now;
      this.stopProbing(e);
    } else if (differs) {
      e.state = 'STALE';
      this.stopProbing(e);
    }
  }

  /**
   * An upper-layer reachability confirmation (RFC 4861 §7.3.1: e.g. TCP saw new data acked):
   * a known entry becomes REACHABLE without probing.
   */
  confirm(ifindex: number, addr: IpAddr, now: Instant): void {
    const e = this.find(addr, ifindex);
    if (e === undefined || e.mac === undefined || e.state === 'INCOMPLETE') return;
    e.state = 'REACHABLE';
    e.confirmedAt = now;
    this.stopProbing(e);
  }

  /** Forgets every entry on an interface (its frames are dropped without a report). */
  flush(ifindex?: number): void {
    for (const e of this.entries.values()) {
      if (ifindex !== undefined && e.ifindex !== ifindex) continue;
      this.remove(e);
      this.active.delete(e);
    }
  }

  /** The earliest pending solicitation or failure. */
  pollAt(): Instant | undefined {
    let t: Instant | undefined;
    for (const e of this.active) if (e.nextProbeAt !== undefined && (t === undefined || e.nextProbeAt < t)) t = e.nextProbeAt;
    return t;
  }

  /** Retransmits due solicitations; fails entries that ran out of tries. */
  poll(now: Instant): void {
    const failed: NeighborEntry[] = [];
    for (const e of this.active) {
      if (e.nextProbeAt === undefined || e.nextProbeAt > now) continue;
      if (e.state === 'DELAY') {
        // RFC 4861 §7.3.3: no confirmation within DELAY_FIRST_PROBE_TIME: "change the state to
        // PROBE" and send a unicast solicitation.
        e.state = 'PROBE';
        this.startProbing(e, now);
        continue;
      }
      const max = e.state === 'INCOMPLETE' ? this.config.maxMulticastSolicit : this.config.maxUnicastSolicit;
      if (e.probes >= max) {
        failed.push(e);
        continue;
      }
      e.probes++;
      e.nextProbeAt = after(now, this.config.retransTime);
      this.hooks.solicit(e.ifindex, e.addr, e.state === 'PROBE' ? e.mac : undefined, now);
    }
    // Reports run after the loop: a transport may send again (and create entries) from its callback.
    for (const e of failed) {
      this.active.delete(e);
      this.remove(e);
      if (e.state === 'INCOMPLETE') this.hooks.gaveUp?.(e.ifindex, e.addr);
      const queue = e.queue;
      e.queue = [];
      e.queueBytes = 0;
      for (const frame of queue) this.hooks.failed(e.ifindex, e.addr, frame, now);
    }
  }

  /** The entry for (addr, ifindex): the last one found if it is that, else from the table. */
  private find(addr: IpAddr, ifindex: number): NeighborEntry | undefined {
    const last = this.last;
    if (last !== undefined && last.ifindex === ifindex && (last.addr === addr || last.addr.equals(addr))) return last;
    const e = this.entries.get(addr, ifindex);
    if (e !== undefined) this.last = e;
    return e;
  }

  /** Takes an entry out of the table (and out of the `find` memo). */
  private remove(e: NeighborEntry): void {
    this.entries.delete(e.addr, e.ifindex);
    if (this.last === e) this.last = undefined;
  }

  private create(ifindex: number, addr: IpAddr, state: NeighborState, mac: MacAddr | undefined, now: Instant): NeighborEntry {
    if (this.entries.size >= this.config.maxEntries) {
      const victim = this.entries.first();
      if (victim !== undefined) {
        this.remove(victim);
        this.active.delete(victim);
        for (const frame of victim.queue) this.hooks.failed(victim.ifindex, victim.addr, frame, now);
      }
    }
    const e: NeighborEntry = { ifindex, addr, state, mac, confirmedAt: now, probes: 0, nextProbeAt: undefined, queue: [], queueBytes: 0 };
    this.entries.set(addr, ifindex, e);
    return e;
  }

  /** Queues a frame, dropping the oldest while over the byte limit (Linux __neigh_event_send). */
  private enqueue(e: NeighborEntry, frame: Uint8Array): void {
    e.queue.push(frame);
    e.queueBytes += frame.length;
    while (e.queueBytes > this.config.queueBytes) {
      const old = e.queue.shift();
      if (old === undefined) break;
      e.queueBytes -= old.length;
      this.hooks.overflow?.(e.ifindex, old);
    }
  }

  private startProbing(e: NeighborEntry, now: Instant): void {
    e.probes = 1;
    e.nextProbeAt = after(now, this.config.retransTime);
    this.active.add(e);
    this.hooks.solicit(e.ifindex, e.addr, e.state === 'PROBE' ? e.mac : undefined, now);
  }

  private stopProbing(e: NeighborEntry): void {
    e.probes = 0;
    e.nextProbeAt = undefined;
    this.active.delete(e);
  }

  /** RFC 4861 §7.3.3: "When ReachableTime milliseconds have passed since receipt of the last reachability confirmation ... the state changes from REACHABLE to STALE." */
  private age(e: NeighborEntry, now: Instant): void {
    if (e.state === 'REACHABLE' && now >= e.confirmedAt + this.config.reachableTime) e.state = 'STALE';
  }
}
