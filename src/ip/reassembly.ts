// Fragment reassembly for IPv4 and IPv6: queues keyed by (src, dst, id[, protocol]), a timeout,
// a per-stack memory limit, and rejection of overlapping fragments. Read first: RFC 791 §3.2
// (reassembly), RFC 815 (hole descriptors; we keep sorted ranges instead), RFC 8200 §4.5 (IPv6),
// RFC 5722 §4 with Errata 3089 (overlaps), RFC 1122 §3.3.2, RFC 3168 §5.3 (ECN of fragments).
import { type IpAddr, mix32 } from '../wire/ip-addr.js';
import { type Duration, type Instant, after, seconds } from '../time/instant.js';

/** IPv4 reassembly timeout: RFC 1122 §3.3.2 recommends 60-120 s; we use Linux's `ipfrag_time` of 30 s. */
export const REASSEMBLY_TIMEOUT4: Duration = seconds(30);
/** IPv6 reassembly timeout: RFC 8200 §4.5: "within 60 seconds of the reception of the first-arriving fragment". */
export const REASSEMBLY_TIMEOUT6: Duration = seconds(60);
/** Per-stack memory for fragments awaiting reassembly: Linux's `ipfrag_high_thresh` default (4 MiB). */
export const REASSEMBLY_MEMORY_LIMIT = 4 * 1024 * 1024;
/** Bytes charged per datagram being reassembled, on top of fragment data, so empty queues are not free. */
export const QUEUE_OVERHEAD = 128;

/** Why a fragment was not (or no longer) usable. */
export type ReassemblyDrop =
  | 'duplicate' // entirely within data we already have: dropped, the datagram continues
  | 'overlap' // partially overlaps: the whole datagram is discarded
  | 'discarded-datagram' // belongs to a datagram already discarded (RFC 5722 §4)
  | 'too-big' // would make the reassembled payload exceed 65535 octets
  | 'bad-length' // inconsistent with the last fragment, or empty and not last
  | 'memory' // over the per-stack memory limit
  | 'ecn'; // RFC 3168 §5.3: fragments mixing Not-ECT with ECT/CE

/** One fragment handed to the reassembler; `data` is kept by reference (frame ownership passes to the stack). */
export interface Fragment {
  family: 4 | 6;
  src: IpAddr;
  dst: IpAddr;
  /** Identification: 16 bits (IPv4) or 32 bits (IPv6). */
  id: number;
  /** IPv4: the header's protocol (part of the key, RFC 791). IPv6: the Fragment header's Next Header (not part of the key). */
  protocol: number;
  /** Byte offset of `data` in the original payload. */
  offset: number;
  /** The More Fragments flag. */
  more: boolean;
  data: Uint8Array;
  /** The ECN field of this fragment's header. */
  ecn: number;
  /** The whole packet as received (kept for the first fragment, to quote in ICMP Time Exceeded). */
  packet: Uint8Array;
  /** The largest allowed end offset (65535 minus the unfragmentable headers). */
  maxEnd: number;
}

/** What became of a fragment. */
export type ReassemblyOutcome =
  | { readonly kind: 'pending' }
  | { readonly kind: 'complete'; readonly payload: Uint8Array; readonly ecn: number; readonly protocol: number; readonly first: Uint8Array }
  | { readonly kind: 'drop'; readonly reason: ReassemblyDrop; readonly datagramFailed: boolean };

/** A datagram that timed out, reported so the IP layer can send ICMP Time Exceeded (code 1) when the first fragment came. */
export interface TimedOut {
  readonly family: 4 | 6;
  readonly src: IpAddr;
  readonly dst: IpAddr;
  /** The first fragment as received, if it arrived. */
  readonly first: Uint8Array | undefined;
  /** Whether the datagram had been discarded already (overlap), so it counts as no new failure. */
  readonly discarded: boolean;
}

interface Range {
  start: number;
  end: number;
  data: Uint8Array;
}

interface Queue {
  readonly family: 4 | 6;
  readonly src: IpAddr;
  readonly dst: IpAddr;
  readonly id: number;
  readonly keyProtocol: number;
  readonly key: number;
  next: Queue | undefined;
  readonly deadline: Instant;
  frags: Range[];
  received: number;
  total: number | undefined;
  ecnSeen: number;
  protocol: number;
  first: Uint8Array | undefined;
  /** Discarded after an overlap: later fragments are dropped until the timeout (RFC 5722 §4). */
  dead: boolean;
}

const PENDING: ReassemblyOutcome = { kind: 'pending' };

/** Reassembly queues for one stack, both families. */
export class Reassembler {
  private readonly table = new Map<number, Queue>();
  // Insertion order is deadline order within a family (one timeout per family).
  private readonly order4 = new Set<Queue>();
  private readonly order6 = new Set<Queue>();
  private used = 0;

  constructor(
    private readonly memoryLimit = REASSEMBLY_MEMORY_LIMIT,
    private readonly timeout4: Duration = REASSEMBLY_TIMEOUT4,
    private readonly timeout6: Duration = REASSEMBLY_TIMEOUT6,
  ) {}

  /** Bytes currently charged against the memory limit. */
  get memory(): number {
    return this.used;
  }

  /** Number of datagrams being reassembled (including discarded ones waiting out their timeout). */
  get queues(): number {
    return this.table.size;
  }

  /** Adds a fragment; returns the reassembled payload when it completes its datagram. */
  add(f: Fragment, now: Instant): ReassemblyOutcome {
    const keyProtocol = f.family === 4 ? f.protocol : 0;
    const key = mix32(f.src.hash() ^ mix32(f.dst.hash() ^ mix32((f.id ^ (keyProtocol << 24) ^ (f.family << 20)) >>> 0)));
    let q = this.table.get(key);
    while (q !== undefined && !(q.id === f.id && q.family === f.family && q.keyProtocol === keyProtocol && q.src.equals(f.src) && q.dst.equals(f.dst))) q = q.next;
    const start = f.offset;
    const end = f.offset + f.data.length;
    if (end > f.maxEnd) return drop('too-big', false);
    if (start === end && f.more) return drop('bad-length', false);
    if (q === undefined) {
      if (this.used + QUEUE_OVERHEAD + f.data.length > this.memoryLimit) return drop('memory', true);
      const deadline = after(now, f.family === 4 ? this.timeout4 : this.timeout6);
      q = {
        family: f.family, src: f.src, dst: f.dst, id: f.id, keyProtocol, key, next: this.table.get(key), deadline,
        frags: [], received: 0, total: undefined, ecnSeen: 0, protocol: f.protocol, first: undefined, dead: false,
      };
      this.table.set(key, q);
      (f.family === 4 ? this.order4 : this.order6).add(q);
      this.used += QUEUE_OVERHEAD;
    }
    if (q.dead) return drop('discarded-datagram', false);

    // Linux ip_frag_queue: a last fragment must not end before data we have, nor disagree with
    // an earlier last fragment; no fragment may extend past the known end. Either kills the queue.
    const maxSeen = q.frags.length === 0 ? 0 : q.frags[q.frags.length - 1]!.end;
    if (!f.more) {
      if ((q.total !== undefined && q.total !== end) || end < maxSeen) return this.kill(q, 'bad-length');
    } else if (q.total !== undefined && end > q.total) {
      return this.kill(q, 'bad-length');
    }

    // Overlap check over the sorted ranges. RFC 5722 §4: "if any of the fragments being
    // reassembled overlap with any other fragments being reassembled for the same packet,
    // reassembly of that packet must be abandoned and all the fragments that have been received
    // for that packet must be discarded". Errata 3089 and Linux (inet_frag_queue_insert) keep
    // exact duplicates apart: a fragment wholly inside data we already hold is dropped alone.
    // Deviation: IPv4 gets the same rule, as Linux does since 4.19 ("ip: discard IPv4 datagrams
    // with overlapping segments"); RFC 791 would let later data overwrite earlier data.
    let i = 0;
    while (i < q.frags.length && q.frags[i]!.end <= start) i++;
    if (start < end && i < q.frags.length && q.frags[i]!.start < end) {
      let cursor = start;
      let covered = true;
      for (let j = i; j < q.frags.length && q.frags[j]!.start < end; j++) {
        const r = q.frags[j]!;
        if (r.start > cursor) {
          covered = false;
          break;
        }
        cursor = Math.max(cursor, r.end);
      }
      if (covered && cursor >= end) return drop('duplicate', false);
      return this.kill(q, 'overlap');
    }
    if (!f.more) q.total = end;
    if (start === end) return this.finish(q);

    if (this.used + f.data.length > this.memoryLimit) {
      // Deviation: Linux refuses fragments over the threshold and lets the queue time out; we
      // discard the datagram at once, since it can no longer complete, and free its memory now.
      return this.kill(q, 'memory');
    }
    q.frags.splice(i, 0, { start, end, data: f.data });
    q.received += f.data.length;
    this.used += f.data.length;
    q.ecnSeen |= 1 << (f.ecn & 3);
    if (start === 0) {
      q.first = f.packet;
      q.protocol = f.protocol;
    }
    return this.finish(q);
  }

  /** The earliest reassembly deadline. */
  pollAt(): Instant | undefined {
    let t: Instant | undefined;
    for (const q of this.order4) { t = q.deadline; break; }
    for (const q of this.order6) { if (t === undefined || q.deadline < t) t = q.deadline; break; }
    return t;
  }

  /** Expires datagrams whose deadline passed; `onTimeout` sees each. */
  poll(now: Instant, onTimeout: (t: TimedOut) => void): void {
    for (const order of [this.order4, this.order6]) {
      for (const q of order) {
        if (q.deadline > now) break;
        const info: TimedOut = { family: q.family, src: q.src, dst: q.dst, first: q.first, discarded: q.dead };
        this.remove(q);
        onTimeout(info);
      }
    }
  }

  private finish(q: Queue): ReassemblyOutcome {
    if (q.total === undefined || q.received !== q.total) return PENDING;
    // RFC 3168 §5.3 (Linux ip_frag_ecn_table): CE on any fragment marks the datagram; mixing
    // Not-ECT with ECT or CE is invalid and the datagram is dropped.
    const seen = q.ecnSeen;
    const notEct = (seen & 1) !== 0;
    if (notEct && seen !== 1) return this.kill(q, 'ecn');
    const ecn = (seen & 8) !== 0 ? 3 : (seen & 4) !== 0 ? 2 : (seen & 2) !== 0 ? 1 : 0;
    const payload = new Uint8Array(q.total);
    for (const r of q.frags) payload.set(r.data, r.start);
    const first = q.first ?? payload;
    const protocol = q.protocol;
    this.remove(q);
    return { kind: 'complete', payload, ecn, protocol, first };
  }

  private kill(q: Queue, reason: ReassemblyDrop): ReassemblyOutcome {
    this.used -= q.received;
    q.frags = [];
    q.received = 0;
    q.first = undefined;
    q.dead = true;
    return drop(reason, true);
  }

  private remove(q: Queue): void {
    this.used -= q.received + QUEUE_OVERHEAD;
    (q.family === 4 ? this.order4 : this.order6).delete(q);
    let head = this.table.get(q.key);
    if (head === q) {
      if (q.next === undefined) this.table.delete(q.key);
      else this.table.set(q.key, q.next);
      return;
    }
    while (head !== undefined && head.next !== q) head = head.next;
    if (head !== undefined) head.next = q.next;
  }
}

function drop(reason: ReassemblyDrop, datagramFailed: boolean): ReassemblyOutcome {
  return { kind: 'drop', reason, datagramFailed };
}
