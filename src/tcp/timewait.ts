// TIME-WAIT as small records instead of whole connections, the way Linux keeps an
// inet_timewait_sock (net/ipv4/inet_timewait_sock.c, tcp_minisocks.c) rather than the socket:
// addresses, ports, SND.NXT, RCV.NXT, the window, TS.Recent and its stamp, the deadline. The
// records live in typed arrays (no object per entry), are found through their own hash chains by
// the same numeric 4-tuple hash as connections, and their deadlines sit in the stack's one timer
// wheel as slot numbers. What a record still does: acknowledge a retransmitted FIN and restart
// the 2*MSL timer (RFC 9293 §3.10.7.4), ignore RST (RFC 1337), let a new SYN with a higher
// sequence number or newer timestamp reopen the 4-tuple (RFC 6191, handled by the TcpLayer),
// and let connect() reuse the 4-tuple when timestamps make it safe (Linux tcp_tw_reuse).
//
// Read first: RFC 9293 §3.6 and §3.10.7.4 (TIME-WAIT), RFC 1337 §3, RFC 6191 §2, RFC 7323 §5
// (PAWS) and Appendix B.2, then Linux's tcp_timewait_state_process() and tcp_twsk_unique().
import type { Instant } from '../time/instant.js';
import { IpAddr } from '../wire/ip-addr.js';
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
  /** The demux hash of the 4-tuple (TcpLayer.tupleHash). */
  hash: number;
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

// The 32-bit words of one slot, in `u32` at slot * U32_STRIDE.
const W_LOCAL = 0; // four words
const W_REMOTE = 4; // four words
const W_PORTS = 8; // localPort << 16 | remotePort
const W_SND_NXT = 9;
const W_RCV_NXT = 10;
const W_RCV_WND = 11;
const W_MAX_SND_WND = 12;
const W_TS_RECENT = 13;
const W_TS_OFFSET = 14;
const W_ID = 15;
const W_HASH = 16;
const U32_STRIDE = 17;
// The doubles of one slot (instants in µs), in `f64` at slot * F64_STRIDE.
const D_TS_RECENT_AT = 0;
const D_DEADLINE = 1;
const D_LAST_OOW_ACK = 2;
const F64_STRIDE = 3;
// Flag bits.
const F_LIVE = 1;
const F_V6 = 2;
const F_TS_OK = 4;
const WSCALE_SHIFT = 4; // bits 4-7: rcvWscale (0..14)

const MIN_CAPACITY = 64;

/**
 * The table of TIME-WAIT records: structure-of-arrays storage, a free list, and hash chains by
 * the 4-tuple hash. About 100 bytes per record here plus 24 in the timer wheel (the figure is
 * measured in test/defences/timewait-memory.test.ts), against Linux's 168-byte
 * tcp_timewait_sock.
 */
export class TimeWaitTable {
  private cap = 0;
  private live = 0;
  private u32 = new Uint32Array(0);
  private f64 = new Float64Array(0);
  private flags = new Uint8Array(0);
  /** Next slot in the same hash chain, or in the free list; -1 ends either. */
  private next = new Int32Array(0);
  /** Head slot of each hash chain (a power-of-two count, one per slot), -1 when empty. */
  private buckets = new Int32Array(0);
  private freeHead = -1;

  /** Number of live records. */
  get size(): number {
    return this.live;
  }

  /** Bytes held by the table's arrays (records, chains, free list), for reports. */
  get byteSize(): number {
    return this.u32.byteLength + this.f64.byteLength + this.flags.byteLength + this.next.byteLength + this.buckets.byteLength;
  }

  /** The slot of the record for an exact 4-tuple, or -1. */
  find(local: IpAddr, localPort: number, remote: IpAddr, remotePort: number, hash: number): number {
    if (this.live === 0) return -1;
    const u = this.u32;
    const ports = ((localPort << 16) | remotePort) >>> 0;
    for (let s = this.buckets[hash & (this.cap - 1)]!; s >= 0; s = this.next[s]!) {
      const b = s * U32_STRIDE;
      if (u[b + W_PORTS] === ports && u[b + W_HASH] === hash >>> 0 &&
        u[b + W_LOCAL + 3] === local.w3 && u[b + W_REMOTE + 3] === remote.w3 &&
        u[b + W_LOCAL] === local.w0 && u[b + W_LOCAL + 1] === local.w1 && u[b + W_LOCAL + 2] === local.w2 &&
        u[b + W_REMOTE] === remote.w0 && u[b + W_REMOTE + 1] === remote.w1 && u[b + W_REMOTE + 2] === remote.w2 &&
        ((this.flags[s]! & F_V6) !== 0) === (local.family === 6)) return s;
    }
    return -1;
  }

  /** Adds a record; returns its slot. The caller has checked that the 4-tuple has none. */
  add(r: TimeWaitInit): number {
    if (this.freeHead < 0) this.grow();
    const s = this.freeHead;
    this.freeHead = this.next[s]!;
    const u = this.u32;
    const b = s * U32_STRIDE;
    u[b + W_LOCAL] = r.local.w0;
    u[b + W_LOCAL + 1] = r.local.w1;
    u[b + W_LOCAL + 2] = r.local.w2;
    u[b + W_LOCAL + 3] = r.local.w3;
    u[b + W_REMOTE] = r.remote.w0;
    u[b + W_REMOTE + 1] = r.remote.w1;
    u[b + W_REMOTE + 2] = r.remote.w2;
    u[b + W_REMOTE + 3] = r.remote.w3;
    u[b + W_PORTS] = ((r.localPort << 16) | r.remotePort) >>> 0;
    u[b + W_SND_NXT] = r.sndNxt;
    u[b + W_RCV_NXT] = r.rcvNxt;
    u[b + W_RCV_WND] = r.rcvWnd;
    u[b + W_MAX_SND_WND] = r.maxSndWnd;
    u[b + W_TS_RECENT] = r.tsRecent;
    u[b + W_TS_OFFSET] = r.tsOffset;
    u[b + W_ID] = r.id;
    u[b + W_HASH] = r.hash;
    const d = s * F64_STRIDE;
    this.f64[d + D_TS_RECENT_AT] = r.tsRecentAt;
    this.f64[d + D_DEADLINE] = r.deadline;
    this.f64[d + D_LAST_OOW_ACK] = -Infinity;
    this.flags[s] = F_LIVE | (r.local.family === 6 ? F_V6 : 0) | (r.tsOk ? F_TS_OK : 0) | ((r.rcvWscale & 0xf) << WSCALE_SHIFT);
    const bucket = r.hash & (this.cap - 1);
    this.next[s] = this.buckets[bucket]!;
    this.buckets[bucket] = s;
    this.live++;
    return s;
  }

  /** Deletes a record; its slot goes back to the free list. */
  remove(s: number): void {
    if (!this.isLive(s)) return;
    const bucket = this.u32[s * U32_STRIDE + W_HASH]! & (this.cap - 1);
    let prev = -1;
    for (let t = this.buckets[bucket]!; t >= 0 && t !== s; t = this.next[t]!) prev = t;
    if (prev < 0) this.buckets[bucket] = this.next[s]!;
    else this.next[prev] = this.next[s]!;
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
  /** Moves the record's deadline (restarting the 2*MSL timer). */
  setDeadline(s: number, at: Instant): void {
    this.f64[s * F64_STRIDE + D_DEADLINE] = at;
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
    return this.addr(s, W_LOCAL);
  }
  /** The peer's address (builds an IpAddr). */
  remote(s: number): IpAddr {
    return this.addr(s, W_REMOTE);
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

  private addr(s: number, at: number): IpAddr {
    const b = s * U32_STRIDE + at;
    const u = this.u32;
    return (this.flags[s]! & F_V6) !== 0 ? IpAddr.v6(u[b]!, u[b + 1]!, u[b + 2]!, u[b + 3]!) : IpAddr.v4(u[b + 3]!);
  }

  /** Doubles the capacity: copies the records and rebuilds the hash chains and the free list. */
  private grow(): void {
    const old = this.cap;
    const cap = Math.max(MIN_CAPACITY, old * 2);
    const u32 = new Uint32Array(cap * U32_STRIDE);
    u32.set(this.u32);
    const f64 = new Float64Array(cap * F64_STRIDE);
    f64.set(this.f64);
    const flags = new Uint8Array(cap);
    flags.set(this.flags);
    this.u32 = u32;
    this.f64 = f64;
    this.flags = flags;
    this.next = new Int32Array(cap);
    this.buckets = new Int32Array(cap).fill(-1);
    this.cap = cap;
    this.freeHead = -1;
    for (let s = cap - 1; s >= 0; s--) {
      if ((flags[s]! & F_LIVE) !== 0) {
        const bucket = u32[s * U32_STRIDE + W_HASH]! & (cap - 1);
        this.next[s] = this.buckets[bucket]!;
        this.buckets[bucket] = s;
      } else {
        this.next[s] = this.freeHead;
        this.freeHead = s;
      }
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
  const route = tcp.ip.route(remote, local);
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
