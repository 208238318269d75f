// TIME-WAIT as small records instead of whole connections, the way Linux keeps an
// inet_timewait_sock (net/ipv4/inet_timewait_sock.c, tcp_minisocks.c) rather than the socket:
// addresses, ports, SND.NXT, RCV.NXT, the window, TS.Recent and its stamp, the deadline. The
// records live in typed arrays (no object per entry), are found through their own hash chains,
// and expire through the table's own queue of deadlines, which puts one entry for its earliest
// deadline in the stack's timer wheel. What a record still does: acknowledge a retransmitted FIN
// and restart the 2*MSL timer (RFC 9293 §3.10.7.4), ignore RST (RFC 1337), let a new SYN with a
// higher sequence number or newer timestamp reopen the 4-tuple (RFC 6191, handled by the
// TcpLayer), and let connect() reuse the 4-tuple when timestamps make it safe (Linux tcp_tw_reuse).
//
// Read first: RFC 9293 §3.6 and §3.10.7.4 (TIME-WAIT), RFC 1337 §3, RFC 6191 §2, RFC 7323 §5
// (PAWS) and Appendix B.2, then Linux's tcp_timewait_state_process() and tcp_twsk_unique().
import type { Instant } from '../time/instant.js';
import { TimerWheel } from '../time/wheel.js';
import { IpAddr, mix32 } from '../wire/ip-addr.js';
import { TcpFlag, type TcpRepr, resetTcpOptions } from '../wire/tcp.js';
import { type Seq, seqAdd, seqGt } from './seq.js';
import { type ClassifySeg, classify } from './classify.js';
import { emitBare, tsClock } from './output.js';
import type { TcpLayer } from './tcp.js';

/** What a TIME-WAIT record keeps, copied from the connection as it enters TIME-WAIT. */
export interface TimeWaitInit {
  /** The connection's id (traces keep naming it after its TCB is gone). */
  id: number;
  local: IpAddr;
  localPort: number;
  remote: IpAddr;
  remotePort: number;
  sndNxt: Seq;
  rcvNxt: Seq;
  /** The receive window last offered, in bytes (RCV.WND for the acceptability test). */
  rcvWnd: number;
  /** Our window scale shift (for the window field of ACKs sent from TIME-WAIT). */
  rcvWscale: number;
  /** MAX.SND.WND (RFC 5961 §5.2 ACK range). */
  maxSndWnd: number;
  /** RFC 7323 timestamps in use. */
  tsOk: boolean;
  tsRecent: number;
  tsRecentAt: Instant;
  tsOffset: number;
  /** When the record expires (2*MSL after entry). */
  deadline: Instant;
}

/** A copy of one record, for tools and tests (allocates; never used on the packet path). */
export interface TimeWaitInfo {
  readonly id: number;
  readonly local: IpAddr;
  readonly localPort: number;
  readonly remote: IpAddr;
  readonly remotePort: number;
  readonly sndNxt: Seq;
  readonly rcvNxt: Seq;
  readonly tsOk: boolean;
  readonly tsRecent: number;
  readonly tsRecentAt: Instant;
  readonly deadline: Instant;
}

// The 32-bit words of one slot, in `u32` at slot * U32_STRIDE. An IPv4 record keeps each address
// in one word; an IPv6 record keeps the last word of each here and the whole addresses in `v6`
// (allocated only once an IPv6 record exists), so IPv4 records do not pay for IPv6-sized
// addresses (8 words, 6 of them the constant ::ffff: prefix: 24 bytes per record).
const W_LOCAL = 0;
const W_REMOTE = 1;
const W_PORTS = 2; // localPort << 16 | remotePort
const W_SND_NXT = 3;
const W_RCV_NXT = 4;
const W_RCV_WND = 5;
const W_MAX_SND_WND = 6;
const W_TS_RECENT = 7;
const W_TS_OFFSET = 8;
const W_ID = 9;
const W_QPOS = 10; // the position of the record's current entry in the expiry queue
const U32_STRIDE = 11;
// The words of one slot in `v6`: our address (4), then the peer's (4).
const V6_STRIDE = 8;
// The doubles of one slot (instants in µs), in `f64` at slot * F64_STRIDE.
const D_TS_RECENT_AT = 0;
const D_DEADLINE = 1;
const D_LAST_OOW_ACK = 2;
const F64_STRIDE = 3;
// Flag bits.
const F_LIVE = 1;
const F_V6 = 2;
const F_TS_OK = 4;
const F_LATE = 8; // the deadline is in `late`, not in the queue (see enqueue)
const WSCALE_SHIFT = 4; // bits 4-7: rcvWscale (0..14)

const MIN_CAPACITY = 64;
const MIN_QUEUE = 64;

/** The table's own hash of a 4-tuple (it must be recomputable from the stored words when the table is resized). */
function tupleHash(l3: number, r3: number, ports: number): number {
  return mix32(l3 ^ mix32((r3 + ports) >>> 0));
}

/** Folds the first three words of both IPv6 addresses into a tuple hash. */
function v6Hash(h: number, l0: number, l1: number, l2: number, r0: number, r1: number, r2: number): number {
  return mix32(h ^ mix32(l0 ^ mix32(l1 ^ mix32(l2 ^ mix32(r0 ^ mix32(r1 ^ mix32(r2)))))));
}

/** The largest power of two not above `n` (n >= 1): the bucket count for a capacity, 1 to 2 records per bucket when full. */
function bucketsFor(n: number): number {
  return 2 ** Math.floor(Math.log2(n));
}

/**
 * The table of TIME-WAIT records: structure-of-arrays storage, a free list, hash chains by the
 * 4-tuple, and the expiry order. About 80 bytes per IPv4 record (measured in
 * test/defences/timewait-memory.test.ts and case 5 of `npm run bench`), against Linux's 168-byte
 * tcp_timewait_sock; the arrays grow by half and shrink when three quarters empty.
 *
 * Expiry without a timer per record: every record lives 2*MSL from its entry or from the last
 * restart of its timer, so records expire in the order their deadlines were set. The table keeps
 * that order in a queue of slot numbers (4 bytes each; a restarted record gets a new entry at the
 * tail and its old entry goes stale, recognised by the position the record keeps), and its owner
 * keeps one entry in the stack's timer wheel for `nextDeadline()`. A deadline earlier than the
 * queue's tail (2*MSL lowered while records wait) goes to a small heap, `late`, instead, so
 * expiry stays exact whatever the configuration does.
 */
export class TimeWaitTable {
  private cap = 0;
  private live = 0;
  private liveV6 = 0;
  private u32 = new Uint32Array(0);
  private f64 = new Float64Array(0);
  private flags = new Uint8Array(0);
  /** Both addresses of IPv6 records (V6_STRIDE words per slot), while the table holds any. */
  private v6: Uint32Array | undefined;
  /** Next slot in the same hash chain, or in the free list; -1 ends either. */
  private next = new Int32Array(0);
  /** Head slot of each hash chain (a power-of-two count), -1 when empty. */
  private buckets = new Int32Array(0);
  private freeHead = -1;
  /** The expiry queue: a ring of slot numbers whose deadlines never decrease from head to tail. */
  private queue = new Int32Array(0);
  private qHead = 0;
  private qLen = 0;
  /** The position of the head entry; positions count entries ever queued, modulo 2^32. */
  private qBase = 0;
  /** The deadline of the last entry queued (the order the queue keeps). */
  private qTail = -Infinity;
  /** Records whose deadlines came out of order, by deadline (made on first use). */
  private late: TimerWheel<number> | undefined;

  /** Number of live records. */
  get size(): number {
    return this.live;
  }

  /** Bytes held by the table's arrays (records, chains, free list, expiry queue), for reports. */
  get byteSize(): number {
    return this.u32.byteLength + this.f64.byteLength + this.flags.byteLength + (this.v6?.byteLength ?? 0) +
      this.next.byteLength + this.buckets.byteLength + this.queue.byteLength + (this.late?.byteSize ?? 0);
  }

  /** The slot of the record for an exact 4-tuple, or -1. */
  find(local: IpAddr, localPort: number, remote: IpAddr, remotePort: number): number {
    if (this.live === 0) return -1;
    const v6 = local.family === 6;
    const ports = ((localPort << 16) | remotePort) >>> 0;
    let h = tupleHash(local.w3, remote.w3, ports);
    if (v6) h = v6Hash(h, local.w0, local.w1, local.w2, remote.w0, remote.w1, remote.w2);
    const u = this.u32;
    for (let s = this.buckets[h & (this.buckets.length - 1)]!; s >= 0; s = this.next[s]!) {
      const b = s * U32_STRIDE;
      if (u[b + W_PORTS] !== ports || u[b + W_LOCAL] !== local.w3 || u[b + W_REMOTE] !== remote.w3) continue;
      if (((this.flags[s]! & F_V6) !== 0) !== v6) continue;
      if (!v6) return s;
      const a = this.v6!;
      const w = s * V6_STRIDE;
      if (a[w] === local.w0 && a[w + 1] === local.w1 && a[w + 2] === local.w2 &&
        a[w + 4] === remote.w0 && a[w + 5] === remote.w1 && a[w + 6] === remote.w2) return s;
    }
    return -1;
  }

  /** Adds a record and queues its deadline; returns its slot. The caller has checked that the 4-tuple has none. */
  add(r: TimeWaitInit): number {
    if (this.freeHead < 0) this.resize(Math.max(MIN_CAPACITY, Math.ceil(this.cap * 1.5)));
    const s = this.freeHead;
    this.freeHead = this.next[s]!;
    const v6 = r.local.family === 6;
    const u = this.u32;
    const b = s * U32_STRIDE;
    const ports = ((r.localPort << 16) | r.remotePort) >>> 0;
    u[b + W_LOCAL] = r.local.w3;
    u[b + W_REMOTE] = r.remote.w3;
    u[b + W_PORTS] = ports;
    u[b + W_SND_NXT] = r.sndNxt;
    u[b + W_RCV_NXT] = r.rcvNxt;
    u[b + W_RCV_WND] = r.rcvWnd;
    u[b + W_MAX_SND_WND] = r.maxSndWnd;
    u[b + W_TS_RECENT] = r.tsRecent;
    u[b + W_TS_OFFSET] = r.tsOffset;
    u[b + W_ID] = r.id;
    let h = tupleHash(r.local.w3, r.remote.w3, ports);
    if (v6) {
      const a = (this.v6 ??= new Uint32Array(this.cap * V6_STRIDE));
      const w = s * V6_STRIDE;
      a[w] = r.local.w0;
      a[w + 1] = r.local.w1;
      a[w + 2] = r.local.w2;
      a[w + 3] = r.local.w3;
      a[w + 4] = r.remote.w0;
      a[w + 5] = r.remote.w1;
      a[w + 6] = r.remote.w2;
      a[w + 7] = r.remote.w3;
      h = v6Hash(h, r.local.w0, r.local.w1, r.local.w2, r.remote.w0, r.remote.w1, r.remote.w2);
      this.liveV6++;
    }
    const d = s * F64_STRIDE;
    this.f64[d + D_TS_RECENT_AT] = r.tsRecentAt;
    this.f64[d + D_DEADLINE] = r.deadline;
    this.f64[d + D_LAST_OOW_ACK] = -Infinity;
    this.flags[s] = F_LIVE | (v6 ? F_V6 : 0) | (r.tsOk ? F_TS_OK : 0) | ((r.rcvWscale & 0xf) << WSCALE_SHIFT);
    const bucket = h & (this.buckets.length - 1);
    this.next[s] = this.buckets[bucket]!;
    this.buckets[bucket] = s;
    this.live++;
    this.enqueue(s, r.deadline);
    return s;
  }

  /**
   * Deletes a record; its slot goes back to the free list (its queue entry goes stale). The
   * arrays shrink later, in `expire`, never here: callers may hold other slot numbers.
   */
  remove(s: number): void {
    if (!this.isLive(s)) return;
    const b = s * U32_STRIDE;
    const bucket = this.hashOf(s, this.u32[b + W_LOCAL]!, this.u32[b + W_REMOTE]!, this.u32[b + W_PORTS]!) & (this.buckets.length - 1);
    let prev = -1;
    for (let t = this.buckets[bucket]!; t >= 0 && t !== s; t = this.next[t]!) prev = t;
    if (prev < 0) this.buckets[bucket] = this.next[s]!;
    else this.next[prev] = this.next[s]!;
    if ((this.flags[s]! & F_V6) !== 0) this.liveV6--;
    this.flags[s] = 0;
    this.next[s] = this.freeHead;
    this.freeHead = s;
    this.live--;
  }

  /** Whether `s` holds a live record (slots of deleted records are reused). */
  isLive(s: number): boolean {
    return s >= 0 && s < this.cap && (this.flags[s]! & F_LIVE) !== 0;
  }

  /** The record's deadline. */
  deadline(s: number): Instant {
    return this.f64[s * F64_STRIDE + D_DEADLINE]! as Instant;
  }

  /** Moves the record's deadline (restarting the 2*MSL timer) and queues it there. */
  restart(s: number, at: Instant): void {
    this.f64[s * F64_STRIDE + D_DEADLINE] = at;
    this.enqueue(s, at);
  }

  /**
   * The earliest deadline of a live record, or undefined when there is none; it may be earlier
   * than the true one after records were deleted early (an early wake-up that `expire` answers
   * with nothing).
   */
  nextDeadline(): Instant | undefined {
    if (this.live === 0) return undefined;
    this.dropStaleHead();
    const q = this.qLen > 0 ? this.f64[this.queue[this.qHead]! * F64_STRIDE + D_DEADLINE]! : Infinity;
    const l = this.late?.nextAt() ?? Infinity;
    const d = Math.min(q, l);
    return d === Infinity ? undefined : (d as Instant);
  }

  /**
   * Calls `fire` for each record whose deadline is at or before `upTo` (out-of-order ones first,
   * then in queue order); `fire` is expected to delete it. Then shrinks the arrays when three
   * quarters are empty.
   */
  expire(upTo: Instant, fire: (slot: number) => void): void {
    this.late?.expire(upTo, (s, at) => {
      if ((this.flags[s]! & (F_LIVE | F_LATE)) === (F_LIVE | F_LATE) && this.deadline(s) === at) fire(s);
    });
    for (;;) {
      this.dropStaleHead();
      if (this.qLen === 0) break;
      const s = this.queue[this.qHead]!;
      if (this.f64[s * F64_STRIDE + D_DEADLINE]! > upTo) break;
      this.popHead();
      fire(s);
    }
    if (this.cap > MIN_CAPACITY && this.live < this.cap / 4) this.resize(Math.max(MIN_CAPACITY, this.live * 2));
  }

  /** The connection id the record came from. */
  id(s: number): number {
    return this.u32[s * U32_STRIDE + W_ID]!;
  }
  /** SND.NXT at entry: the sequence number of ACKs sent from TIME-WAIT. */
  sndNxt(s: number): Seq {
    return (this.u32[s * U32_STRIDE + W_SND_NXT]! | 0) as Seq;
  }
  /** RCV.NXT: one past the peer's FIN. */
  rcvNxt(s: number): Seq {
    return (this.u32[s * U32_STRIDE + W_RCV_NXT]! | 0) as Seq;
  }
  /** The receive window offered at entry, in bytes. */
  rcvWnd(s: number): number {
    return this.u32[s * U32_STRIDE + W_RCV_WND]!;
  }
  /** Our window scale shift. */
  rcvWscale(s: number): number {
    return this.flags[s]! >>> WSCALE_SHIFT;
  }
  /** MAX.SND.WND at entry. */
  maxSndWnd(s: number): number {
    return this.u32[s * U32_STRIDE + W_MAX_SND_WND]!;
  }
  /** Whether the connection used RFC 7323 timestamps. */
  tsOk(s: number): boolean {
    return (this.flags[s]! & F_TS_OK) !== 0;
  }
  /** TS.Recent: the peer's latest timestamp. */
  tsRecent(s: number): number {
    return this.u32[s * U32_STRIDE + W_TS_RECENT]!;
  }
  /** When TS.Recent was last updated (Linux's tw_ts_recent_stamp). */
  tsRecentAt(s: number): Instant {
    return this.f64[s * F64_STRIDE + D_TS_RECENT_AT]! as Instant;
  }
  /** Updates TS.Recent (RFC 7323 §4.3). */
  setTsRecent(s: number, tsval: number, at: Instant): void {
    this.u32[s * U32_STRIDE + W_TS_RECENT] = tsval;
    this.f64[s * F64_STRIDE + D_TS_RECENT_AT] = at;
  }
  /** Our timestamp clock offset for this address pair. */
  tsOffset(s: number): number {
    return this.u32[s * U32_STRIDE + W_TS_OFFSET]!;
  }
  /** When the record last sent an ACK to an out-of-window segment (Linux's tw_last_oow_ack_time). */
  lastOowAck(s: number): number {
    return this.f64[s * F64_STRIDE + D_LAST_OOW_ACK]!;
  }
  /** Records an out-of-window ACK. */
  setLastOowAck(s: number, at: Instant): void {
    this.f64[s * F64_STRIDE + D_LAST_OOW_ACK] = at;
  }
  /** Our port. */
  localPort(s: number): number {
    return this.u32[s * U32_STRIDE + W_PORTS]! >>> 16;
  }
  /** The peer's port. */
  remotePort(s: number): number {
    return this.u32[s * U32_STRIDE + W_PORTS]! & 0xffff;
  }
  /** Our address (builds an IpAddr: for replies without a packet at hand, tools and traces). */
  local(s: number): IpAddr {
    return this.addr(s, W_LOCAL, 0);
  }
  /** The peer's address (builds an IpAddr). */
  remote(s: number): IpAddr {
    return this.addr(s, W_REMOTE, 4);
  }
  /** Whether either address is a loopback address (tcp_tw_reuse = 2 reuses only those). */
  isLoopback(s: number): boolean {
    return this.local(s).isLoopback || this.remote(s).isLoopback;
  }

  /** A copy of the record. */
  info(s: number): TimeWaitInfo {
    return {
      id: this.id(s), local: this.local(s), localPort: this.localPort(s), remote: this.remote(s), remotePort: this.remotePort(s),
      sndNxt: this.sndNxt(s), rcvNxt: this.rcvNxt(s), tsOk: this.tsOk(s), tsRecent: this.tsRecent(s),
      tsRecentAt: this.tsRecentAt(s), deadline: this.deadline(s),
    };
  }

  /** Every live slot. */
  *slots(): IterableIterator<number> {
    for (let s = 0; s < this.cap; s++) if ((this.flags[s]! & F_LIVE) !== 0) yield s;
  }

  private addr(s: number, word: number, v6Word: number): IpAddr {
    if ((this.flags[s]! & F_V6) === 0) return IpAddr.v4(this.u32[s * U32_STRIDE + word]!);
    const a = this.v6!;
    const w = s * V6_STRIDE + v6Word;
    return IpAddr.v6(a[w]!, a[w + 1]!, a[w + 2]!, a[w + 3]!);
  }

  /** The hash of slot `s`'s 4-tuple, from its stored words (`l3`, `r3`, `ports` are its u32 words). */
  private hashOf(s: number, l3: number, r3: number, ports: number): number {
    const h = tupleHash(l3, r3, ports);
    if ((this.flags[s]! & F_V6) === 0) return h;
    const a = this.v6!;
    const w = s * V6_STRIDE;
    return v6Hash(h, a[w]!, a[w + 1]!, a[w + 2]!, a[w + 4]!, a[w + 5]!, a[w + 6]!);
  }

  /**
   * Queues the record's new deadline. Deadlines are normally set in non-decreasing order (each is
   * now + 2*MSL), so the queue stays sorted; one earlier than the last queued (2*MSL was lowered)
   * goes to the `late` heap.
   */
  private enqueue(s: number, at: number): void {
    if (at < this.qTail) {
      this.flags[s]! |= F_LATE;
      (this.late ??= new TimerWheel<number>()).schedule(at as Instant, s);
      return;
    }
    this.flags[s]! &= ~F_LATE;
    if (this.qLen === this.queue.length) this.rebuildQueue(undefined);
    const cap = this.queue.length;
    let i = this.qHead + this.qLen;
    if (i >= cap) i -= cap;
    this.queue[i] = s;
    this.u32[s * U32_STRIDE + W_QPOS] = (this.qBase + this.qLen) >>> 0;
    this.qLen++;
    this.qTail = at;
  }

  /** Drops stale entries at the head of the queue: deleted records, and records queued again later. */
  private dropStaleHead(): void {
    while (this.qLen > 0) {
      const s = this.queue[this.qHead]!;
      if ((this.flags[s]! & (F_LIVE | F_LATE)) === F_LIVE && this.u32[s * U32_STRIDE + W_QPOS] === this.qBase) return;
      this.popHead();
    }
  }

  private popHead(): void {
    this.qHead = this.qHead + 1 === this.queue.length ? 0 : this.qHead + 1;
    this.qBase = (this.qBase + 1) >>> 0;
    if (--this.qLen === 0) {
      this.qHead = 0;
      this.qTail = -Infinity;
    }
  }

  /**
   * Copies the queue's current entries, in order, into a ring with room for half as many again
   * (so the copying, which also drops stale entries left by restarts and deletions, costs
   * amortised O(1) per entry queued), renumbering positions from 0. `map`, when the records moved (resize), gives each old slot's new slot.
   */
  private rebuildQueue(map: Int32Array | undefined): void {
    const old = this.queue;
    const oldCap = old.length;
    let kept = 0;
    const keep = new Int32Array(this.qLen);
    for (let k = 0, i = this.qHead; k < this.qLen; k++, i = i + 1 === oldCap ? 0 : i + 1) {
      const s = old[i]!;
      const pos = (this.qBase + k) >>> 0;
      if ((this.flags[s]! & (F_LIVE | F_LATE)) === F_LIVE && this.u32[s * U32_STRIDE + W_QPOS] === pos) keep[kept++] = s;
    }
    const cap = Math.max(MIN_QUEUE, Math.ceil(kept * 1.5));
    const q = new Int32Array(cap);
    for (let k = 0; k < kept; k++) {
      const s = keep[k]!;
      const t = map === undefined ? s : map[s]!;
      q[k] = t;
      this.u32[s * U32_STRIDE + W_QPOS] = k; // written before the move: resize copies the words after
    }
    this.queue = q;
    this.qHead = 0;
    this.qLen = kept;
    this.qBase = 0;
    if (kept === 0) this.qTail = -Infinity;
  }

  /**
   * Moves the live records, in slot order, into arrays of `cap` slots (growing by half when full,
   * shrinking when three quarters empty): rebuilds the hash chains, the free list, the expiry
   * queue and the `late` heap, and drops the IPv6 addresses when no IPv6 record is left.
   */
  private resize(cap: number): void {
    const oldCap = this.cap;
    const map = new Int32Array(oldCap);
    let n = 0;
    for (let s = 0; s < oldCap; s++) map[s] = (this.flags[s]! & F_LIVE) !== 0 ? n++ : -1;
    this.rebuildQueue(map);
    const u32 = new Uint32Array(cap * U32_STRIDE);
    const f64 = new Float64Array(cap * F64_STRIDE);
    const flags = new Uint8Array(cap);
    const v6 = this.liveV6 > 0 ? new Uint32Array(cap * V6_STRIDE) : undefined;
    for (let s = 0; s < oldCap; s++) {
      const t = map[s]!;
      if (t < 0) continue;
      u32.set(this.u32.subarray(s * U32_STRIDE, (s + 1) * U32_STRIDE), t * U32_STRIDE);
      f64.set(this.f64.subarray(s * F64_STRIDE, (s + 1) * F64_STRIDE), t * F64_STRIDE);
      flags[t] = this.flags[s]!;
      if (v6 !== undefined && (this.flags[s]! & F_V6) !== 0) v6.set(this.v6!.subarray(s * V6_STRIDE, (s + 1) * V6_STRIDE), t * V6_STRIDE);
    }
    this.u32 = u32;
    this.f64 = f64;
    this.flags = flags;
    this.v6 = v6;
    this.cap = cap;
    this.next = new Int32Array(cap);
    this.buckets = new Int32Array(bucketsFor(cap)).fill(-1);
    const mask = this.buckets.length - 1;
    // Live records now fill slots 0..n-1; the free list runs upwards from n.
    for (let s = n - 1; s >= 0; s--) {
      const b = s * U32_STRIDE;
      const bucket = this.hashOf(s, u32[b + W_LOCAL]!, u32[b + W_REMOTE]!, u32[b + W_PORTS]!) & mask;
      this.next[s] = this.buckets[bucket]!;
      this.buckets[bucket] = s;
    }
    this.freeHead = n < cap ? n : -1;
    for (let s = n; s < cap; s++) this.next[s] = s + 1 < cap ? s + 1 : -1;
    // The late heap refers to slots: schedule its records again under their new numbers.
    if (this.late !== undefined) {
      const late = new TimerWheel<number>();
      for (let s = 0; s < n; s++) if ((flags[s]! & (F_LIVE | F_LATE)) === (F_LIVE | F_LATE)) late.schedule(f64[s * F64_STRIDE + D_DEADLINE]! as Instant, s);
      this.late = late.size > 0 ? late : undefined;
    }
  }
}

/** Linux's tcp_invalid_ratelimit: at most one ACK per 500 ms answers out-of-window segments from TIME-WAIT. */
export const TIME_WAIT_OOW_ACK_INTERVAL_US = 500_000;

/**
 * Whether a SYN for a 4-tuple in TIME-WAIT may open a new incarnation (RFC 6191 §2; RFC 9293
 * §3.10.7.4 note, MAY-2; Linux's tcp_timewait_state_process, TCP_TW_SYN): it must pass PAWS
 * against TS.Recent, and then either carry a sequence number beyond RCV.NXT or a timestamp newer
 * than TS.Recent. RFC 6191 §2: "If the previous incarnation of the connection used Timestamps,
 * then: if TCP Timestamps would be enabled for the new incarnation of the connection, and the
 * timestamp contained in the incoming SYN segment is greater than the last timestamp seen on the
 * previous incarnation of the connection (for that direction of the data transfer), honor the
 * connection request".
 */
export function timeWaitAcceptsSyn(tw: TimeWaitTable, s: number, seg: TcpRepr): boolean {
  const ts = seg.options.timestamp;
  const withTs = tw.tsOk(s) && ts !== undefined;
  if (withTs && ((ts.tsval - tw.tsRecent(s)) | 0) < 0) return false; // PAWS (RFC 7323 §5.3)
  return seqGt(seg.seq, tw.rcvNxt(s)) || (withTs && ((ts.tsval - tw.tsRecent(s)) | 0) > 0);
}

/**
 * Whether connect() may take over the 4-tuple of a TIME-WAIT record (Linux's tcp_twsk_unique):
 * the old connection used timestamps, so the new one's (later, per-address-pair) timestamps let
 * the peer's PAWS tell old duplicates apart (RFC 7323 §5.8 and Appendix B.2), and TS.Recent is
 * more than a second old. `tcp_tw_reuse` 1 allows it always, 2 only over loopback, 0 never;
 * a connect() from an explicitly bound port skips the sysctl, as Linux's __inet_hash_connect
 * calls __inet_check_established without a TIME-WAIT pointer in that case.
 */
export function timeWaitReusable(tw: TimeWaitTable, s: number, twReuse: 0 | 1 | 2, bound: boolean, now: Instant): boolean {
  if (!tw.tsOk(s)) return false;
  if (bound) return true;
  const reuse = twReuse === 2 ? tw.isLoopback(s) : twReuse === 1;
  return reuse && now - tw.tsRecentAt(s) > 1_000_000;
}

/**
 * The ISS of a connection that takes over a TIME-WAIT 4-tuple (through a SYN it accepts, or
 * through tcp_tw_reuse): beyond anything the old incarnation sent, as RFC 1122 §4.2.2.13 asks
 * ("assigns its initial sequence number for the new connection to be larger than the largest
 * sequence number it used on the previous connection incarnation"). Linux uses SND.NXT + 65535 + 2
 * (and never 0).
 */
export function timeWaitNextIss(tw: TimeWaitTable, s: number): Seq {
  const iss = seqAdd(tw.sndNxt(s), 65535 + 2);
  return iss === 0 ? (1 as Seq) : iss;
}

/**
 * SEGMENT ARRIVES for a TIME-WAIT record (RFC 9293 §3.10.7.4 with RFC 5961, RFC 7323 §5.3 and
 * RFC 1337), the same decisions the state machine makes for a TCB in TIME-WAIT, on the record's
 * few fields. A SYN that may reopen the 4-tuple never gets here (the TcpLayer hands it to the
 * listener first).
 *
 * Deviation: as Linux's tcp_timewait_check_oow_rate_limit (net.ipv4.tcp_invalid_ratelimit),
 * ACKs answering bare ACKs and SYNs outside the window leave at most every 500 ms per record; a
 * segment with data or a FIN is always answered, so a retransmitted FIN is acknowledged every time.
 */
export function timeWaitSegment(tcp: TcpLayer, s: number, local: IpAddr, remote: IpAddr, seg: TcpRepr, now: Instant): void {
  const tw = tcp.timeWait;
  const f = seg.flags;
  const rst = (f & TcpFlag.RST) !== 0;
  const view = tcp.scratchClassifyView();
  view.state = 'TIME-WAIT';
  view.rcvNxt = tw.rcvNxt(s);
  view.rcvWnd = tw.rcvWnd(s);
  view.sndUna = tw.sndNxt(s);
  view.sndNxt = tw.sndNxt(s);
  view.maxSndWnd = tw.maxSndWnd(s);
  view.tsOk = tw.tsOk(s);
  view.tsRecent = tw.tsRecent(s);
  view.tsRecentAt = tw.tsRecentAt(s);
  const sv = tcp.scratchSeg;
  sv.seq = seg.seq;
  sv.ack = seg.ack;
  sv.flags = f;
  sv.dataLen = seg.payload.length;
  sv.tsval = seg.options.timestamp?.tsval;
  const verdict = classify(view, sv as ClassifySeg, now, tcp.config.rfc5961);
  switch (verdict) {
    case 'drop':
      tcp.countDrop(rst ? 'rst-out-of-window' : 'unacceptable');
      return;
    case 'ack-and-drop':
      tcp.countDrop('unacceptable-acked');
      // RFC 9293 §3.10.7.4 TIME-WAIT: "The only thing that can arrive in this state is a
      // retransmission of the remote FIN. Acknowledge it, and restart the 2 MSL timeout."
      // Like Linux (tcp_timewait_state_process: "if (paws_reject || th->ack)
      // inet_twsk_reschedule"), any ACK-bearing segment restarts the timer, not only a FIN.
      if (f & (TcpFlag.FIN | TcpFlag.ACK)) tcp.restartTimeWaitRecord(s, now);
      sendTimeWaitAck(tcp, s, local, remote, seg, now, false);
      return;
    case 'challenge-ack':
      tcp.countDrop(rst ? 'rst-challenged' : f & TcpFlag.SYN ? 'syn-challenged' : 'ack-challenged');
      sendTimeWaitAck(tcp, s, local, remote, seg, now, true);
      return;
    case 'reset':
      if (rst) {
        // RFC 1337 §3 (TIME-WAIT assassination, hazard H1): "ignore RST segments in TIME-WAIT state".
        if (tcp.config.rfc1337) {
          tcp.countDrop('time-wait:rst-ignored');
          return;
        }
        tcp.killTimeWait(s, 'RST in TIME-WAIT', now);
        return;
      }
      // Without RFC 5961 an in-window SYN is an error: "send a reset" (RFC 9293 §3.10.7.4 fourth
      // step, as RFC 793 had it) and delete the record. RFC 1337 protects from RSTs, not this.
      sendTimeWaitSegment(tcp, s, local, remote, TcpFlag.RST | TcpFlag.ACK, now);
      tcp.killTimeWait(s, 'SYN in window in TIME-WAIT', now);
      return;
    case 'accept':
      break;
  }
  // RFC 7323 §4.3: "If SEG.TSval >= TS.Recent and SEG.SEQ =< Last.ACK.sent then SEG.TSval is
  // copied to TS.Recent" (Last.ACK.sent is RCV.NXT: everything is acknowledged in TIME-WAIT).
  const ts = seg.options.timestamp;
  if (tw.tsOk(s) && ts !== undefined && !seqGt(seg.seq, tw.rcvNxt(s)) && ((ts.tsval - tw.tsRecent(s)) | 0) >= 0) {
    tw.setTsRecent(s, ts.tsval, now);
  }
  // Seventh step: "This should not occur since a FIN has been received from the remote side.
  // Ignore the segment text."
  if (seg.payload.length > 0) tcp.countDrop('text-after-fin');
  // Eighth step, TIME-WAIT: "Remain in the TIME-WAIT state. Restart the 2 MSL time-wait timeout."
  // The FIN is acknowledged (RCV.NXT is already past the peer's only FIN).
  if (f & TcpFlag.FIN) {
    tcp.restartTimeWaitRecord(s, now);
    sendTimeWaitAck(tcp, s, local, remote, seg, now, false);
  } else if (seg.payload.length === 0 && seg.seq === tw.rcvNxt(s)) {
    // Linux (tcp_timewait_state_process, "In window segment, it may be only reset or bare ack"):
    // a bare ACK at RCV.NXT restarts the TIME-WAIT timer, silently (found by a packetdrill script).
    tcp.restartTimeWaitRecord(s, now);
  }
}

/**
 * An ACK from a TIME-WAIT record, <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> with the window and
 * timestamps the connection had. `challenge` counts it in TCPChallengeACK. Bare ACKs and SYNs
 * are answered at most every 500 ms (see timeWaitSegment).
 */
function sendTimeWaitAck(tcp: TcpLayer, s: number, local: IpAddr, remote: IpAddr, seg: TcpRepr, now: Instant, challenge: boolean): void {
  const tw = tcp.timeWait;
  const limited = (seg.payload.length === 0 && (seg.flags & TcpFlag.FIN) === 0) || (seg.flags & TcpFlag.SYN) !== 0;
  if (limited) {
    if (now - tw.lastOowAck(s) < TIME_WAIT_OOW_ACK_INTERVAL_US) {
      tcp.countDrop('time-wait:ack-rate-limited');
      return;
    }
    tw.setLastOowAck(s, now);
  }
  if (challenge) tcp.counters.TCPChallengeACK++;
  sendTimeWaitSegment(tcp, s, local, remote, TcpFlag.ACK, now);
}

/** Builds and sends one segment from a TIME-WAIT record (an ACK, or RST+ACK). */
function sendTimeWaitSegment(tcp: TcpLayer, s: number, local: IpAddr, remote: IpAddr, flags: number, now: Instant): void {
  const tw = tcp.timeWait;
  const route = tcp.ip.routeTransient !== undefined ? tcp.ip.routeTransient(remote, local) : tcp.ip.route(remote, local);
  if (route === undefined) {
    tcp.countDrop('out:no-route');
    return;
  }
  const r = tcp.scratchOut;
  const o = r.options;
  resetTcpOptions(o);
  const rst = (flags & TcpFlag.RST) !== 0;
  if (tw.tsOk(s) && !rst) {
    tcp.scratchTs.tsval = (tsClock(now) + tw.tsOffset(s)) >>> 0;
    tcp.scratchTs.tsecr = tw.tsRecent(s);
    o.timestamp = tcp.scratchTs;
  }
  r.srcPort = tw.localPort(s);
  r.dstPort = tw.remotePort(s);
  r.seq = tw.sndNxt(s);
  r.ack = tw.rcvNxt(s);
  r.flags = flags;
  r.urgent = 0;
  r.window = rst ? 0 : Math.min(0xffff, Math.floor(tw.rcvWnd(s) / 2 ** tw.rcvWscale(s)));
  emitBare(tcp, route, local, remote, r, now);
}
