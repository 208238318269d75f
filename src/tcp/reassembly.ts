// Out-of-order receive storage: segments that arrived above RCV.NXT, held until the hole below
// them fills, and the SACK blocks that describe them. Read first: RFC 9293 §3.10.7.4 (segment
// text: "Segments with higher beginning sequence numbers may be held for later processing"),
// §3.4 (sequence arithmetic), RFC 2018 §3 and §4 (SACK blocks and the order to report them).
//
// The store is a short array of disjoint, non-adjacent ranges sorted by sequence number, each a
// list of chunks copied out of the frames they arrived in (held data may wait long and be trimmed
// and joined, and a frame the link recycles is reused once its segment is processed; see
// RecvBuffer.adopt for the in-order case, which keeps views). Every comparison goes through
// seq.ts, by offset from RCV.NXT, so the store works across the 2^32 wrap as long as the window is below 2^31 (RFC 7323 §2.3 keeps it at 2^30).
import { type Seq, seqAdd, seqDiff } from './seq.js';
import type { SackBlock } from '../wire/tcp.js';

/** What `insert` did with a segment. */
export interface InsertResult {
  /** Bytes newly stored: in the window, at or above RCV.NXT, and not already held. */
  readonly stored: number;
  /**
   * Whether some of the segment's bytes had been received already (below RCV.NXT or already
   * held): the duplicate the receiver may report with a D-SACK block (RFC 2883 §4).
   */
  readonly duplicate: boolean;
}

/** A held run of contiguous bytes. */
interface Range {
  start: Seq;
  len: number;
  chunks: Uint8Array[];
  /** When a segment last touched this range, for the SACK reporting order. */
  stamp: number;
}

// A range whose chunk list grows past this is tidied: runs of small chunks are joined, so that
// a peer sending one-byte segments cannot make us keep one object per byte.
const MAX_CHUNKS = 64;
const SMALL_CHUNK = 512;

/** The result object `insert` fills and returns (valid until the next `insert` on any queue: no allocation per segment). */
class InsertOutcome implements InsertResult {
  stored = 0;
  duplicate = false;
}

/** Holds out-of-order data above RCV.NXT and hands it over once contiguous (RFC 9293 §3.10.7.4, RFC 2018). */
// Scratch shared by every queue (insert runs to completion, and its result is read before the
// next insert anywhere): one per connection would cost ~100 B on each idle connection.
// The gaps a segment fills: [start, end) offsets from RCV.NXT, flattened.
const GAPS: number[] = [];
const RESULT = new InsertOutcome();

export class Reassembly {
  private ranges: Range[] = [];
  private held = 0;
  private clock = 0;
  /**
   * When the last `insert` reported a duplicate: the duplicated sequence range [dupLeft,
   * dupRight), from the first duplicated byte to the last (RFC 2883 §4: what a D-SACK block
   * reports). Bytes below RCV.NXT count as duplicated.
   */
  dupLeft = 0 as Seq;
  dupRight = 0 as Seq;

  /** Bytes held. */
  get bytes(): number {
    return this.held;
  }

  /** True when nothing is held. */
  get isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  /**
   * Stores the part of the segment [start, start + data.length) that lies in [rcvNxt, windowEnd)
   * and is not held yet, copying it; coalesces it with held ranges it overlaps or touches.
   * Held bytes below `rcvNxt` (delivered by the caller some other way) are dropped first.
   * RFC 9293 §3.10.7.4: "One could tailor actual segments to fit this assumption by trimming
   * off any portions that lie outside the window (including SYN and FIN) and only processing
   * further if the segment then begins at RCV.NXT. Segments with higher beginning sequence
   * numbers may be held for later processing." Bytes beyond the window are not kept; the peer
   * sends them again.
   */
  insert(start: Seq, data: Uint8Array, rcvNxt: Seq, windowEnd: Seq): InsertResult {
    this.prune(rcvNxt);
    const res = RESULT;
    res.stored = 0;
    res.duplicate = false;
    const n = data.length;
    if (n === 0) return res;
    const segOff = seqDiff(start, rcvNxt);
    const segEnd = segOff + n;
    // The duplicated part, as offsets from RCV.NXT: [dupLo, dupHi).
    let dupLo = Infinity;
    let dupHi = -Infinity;
    if (segOff < 0) {
      dupLo = segOff;
      dupHi = Math.min(segEnd, 0);
    }
    const win = Math.max(0, seqDiff(windowEnd, rcvNxt));
    const lo = Math.max(0, segOff);
    const hi = Math.min(segEnd, win);
    if (lo >= hi) return this.finish(res, 0, dupLo, dupHi, rcvNxt);
    const stamp = ++this.clock;
    const ranges = this.ranges;

    // Ranges i..j-1 overlap or touch [lo, hi); with it they become one range.
    const i = this.firstEndingAtOrAfter(lo, rcvNxt);
    const gaps = GAPS;
    gaps.length = 0;
    let cursor = lo;
    let total = 0;
    let j = i;
    for (; j < ranges.length; j++) {
      const r = ranges[j]!;
      const rs = seqDiff(r.start, rcvNxt);
      if (rs > hi) break;
      if (rs > cursor) {
        gaps.push(cursor, rs);
        total += rs - cursor;
      }
      const re = rs + r.len;
      const olo = Math.max(rs, lo);
      const ohi = Math.min(re, hi);
      if (olo < ohi) {
        if (olo < dupLo) dupLo = olo;
        if (ohi > dupHi) dupHi = ohi;
      }
      if (re > cursor) cursor = re;
    }
    if (cursor < hi) {
      gaps.push(cursor, hi);
      total += hi - cursor;
    }

    // One allocation holds every new byte; each gap is a view of it.
    const fresh = total > 0 ? new Uint8Array(total) : undefined;
    let pos = 0;

    let g = 0;
    let merged: Range;
    let k = i;
    if (i < j && !(gaps.length > 0 && gaps[0]! < seqDiff(ranges[i]!.start, rcvNxt))) {
      merged = ranges[i]!; // starts at or before lo: extend it in place
      k = i + 1;
    } else {
      merged = { start: seqAdd(rcvNxt, lo), len: 0, chunks: [], stamp };
    }
    const startOff = seqDiff(merged.start, rcvNxt);
    const chunks = merged.chunks;
    for (; k < j; k++) {
      const r = ranges[k]!;
      const rs = seqDiff(r.start, rcvNxt);
      while (g < gaps.length && gaps[g]! < rs) {
        pos = pushGap(chunks, fresh!, pos, data, gaps[g]! - segOff, gaps[g + 1]! - segOff);
        g += 2;
      }
      for (const c of r.chunks) chunks.push(c);
    }
    while (g < gaps.length) {
      pos = pushGap(chunks, fresh!, pos, data, gaps[g]! - segOff, gaps[g + 1]! - segOff);
      g += 2;
    }
    const last = j > i ? ranges[j - 1]! : undefined;
    const endOff = Math.max(hi, last === undefined ? hi : seqDiff(last.start, rcvNxt) + last.len);
    merged.len = endOff - startOff;
    merged.stamp = stamp;
    if (chunks.length > MAX_CHUNKS) joinSmallChunks(merged);
    ranges.splice(i, j - i, merged);
    this.held += total;
    return this.finish(res, total, dupLo, dupHi, rcvNxt);
  }

  private finish(res: InsertOutcome, stored: number, dupLo: number, dupHi: number, rcvNxt: Seq): InsertResult {
    res.stored = stored;
    res.duplicate = dupLo < dupHi;
    if (res.duplicate) {
      this.dupLeft = seqAdd(rcvNxt, dupLo);
      this.dupRight = seqAdd(rcvNxt, dupHi);
    }
    return res;
  }

  /**
   * Hands held bytes that start exactly at `rcvNxt` to `sink`, in order, until a hole or until
   * `sink` takes less than it was offered (the receive buffer is full); returns the new RCV.NXT.
   * `sink` returns how many bytes of the chunk it took (it must copy them: chunks are reused).
   * Held bytes below `rcvNxt` are dropped first.
   */
  takeContiguous(rcvNxt: Seq, sink: (chunk: Uint8Array) => number): Seq {
    this.prune(rcvNxt);
    const first = this.ranges[0];
    if (first === undefined || first.start !== rcvNxt) return rcvNxt;
    // Ranges never touch, so only the first can be contiguous with RCV.NXT.
    const chunks = first.chunks;
    let done = 0;
    let next = rcvNxt;
    while (done < chunks.length) {
      const c = chunks[done]!;
      const took = Math.max(0, Math.min(c.length, sink(c)));
      next = seqAdd(next, took);
      first.len -= took;
      this.held -= took;
      if (took < c.length) {
        chunks[done] = c.subarray(took);
        break;
      }
      done++;
    }
    first.start = next;
    if (first.len === 0) this.ranges.shift();
    else chunks.splice(0, done);
    return next;
  }

  /** The held ranges as [left, right) blocks in sequence order. */
  blocks(): SackBlock[] {
    return this.ranges.map((r) => ({ left: r.start, right: seqAdd(r.start, r.len) }));
  }

  /**
   * Up to `max` SACK blocks, most recently touched first. RFC 2018 §4: "The first SACK block
   * (i.e., the one immediately following the kind and length fields in the option) MUST specify
   * the contiguous block of data containing the segment which triggered this ACK, unless that
   * segment advanced the Acknowledgment Number field in the header"; "The data receiver SHOULD
   * include as many distinct SACK blocks as possible"; "The SACK option SHOULD be filled out by
   * repeating the most recently reported SACK blocks (based on first SACK blocks in previous
   * SACK options)". So blocks go in order of the last segment that touched them (each of which
   * was the first block of the ACK it triggered), as Linux keeps selective_acks[] most recent
   * first (tcp_sack_new_ofo_skb()). Held ranges are disjoint, so no block is a subset of
   * another. `mostRecent`, a sequence number inside the segment that triggered this ACK, puts
   * its block first when the caller knows better than arrival order.
   */
  sackBlocks(max: number, mostRecent?: Seq): SackBlock[] {
    if (max <= 0 || this.ranges.length === 0) return [];
    const order = this.ranges.slice().sort((a, b) => b.stamp - a.stamp);
    if (mostRecent !== undefined) {
      const at = order.findIndex((r) => {
        const d = seqDiff(mostRecent, r.start);
        return d >= 0 && d < r.len;
      });
      if (at > 0) order.unshift(order.splice(at, 1)[0]!);
    }
    const out: SackBlock[] = [];
    for (let k = 0; k < order.length && out.length < max; k++) {
      const r = order[k]!;
      out.push({ left: r.start, right: seqAdd(r.start, r.len) });
    }
    return out;
  }

  /**
   * Whether any held byte lies below `end` (an in-order segment ending at `end` is about to
   * cover it); if so [dupLeft, dupRight) is set to the covered held bytes.
   */
  heldBelow(end: Seq): boolean {
    const first = this.ranges[0];
    if (first === undefined || seqDiff(end, first.start) <= 0) return false;
    this.dupLeft = first.start;
    // Ranges never touch, so the covered bytes end in the first range or beyond a hole.
    let right = seqAdd(first.start, Math.min(first.len, seqDiff(end, first.start)));
    for (let k = 1; k < this.ranges.length; k++) {
      const r = this.ranges[k]!;
      if (seqDiff(end, r.start) <= 0) break;
      right = seqAdd(r.start, Math.min(r.len, seqDiff(end, r.start)));
    }
    this.dupRight = right;
    return true;
  }

  /** Number of held ranges (disjoint, non-adjacent). */
  get rangeCount(): number {
    return this.ranges.length;
  }

  /**
   * The allocation-free form of `sackBlocks` for the output path: writes up to `max` blocks,
   * most recently touched first, into the caller's reusable objects `out[from]`, `out[from+1]`,
   * ...; the range containing `first` (a D-SACK's duplicate, RFC 2883 §4: "the second SACK block
   * ... should specify that (possibly larger) block of data") goes first. Returns how many.
   */
  fillSackBlocks(out: readonly SackBlock[], from: number, max: number, first?: Seq): number {
    const ranges = this.ranges;
    let n = 0;
    let firstIdx = -1;
    if (first !== undefined) {
      for (let k = 0; k < ranges.length; k++) {
        const d = seqDiff(first, ranges[k]!.start);
        if (d >= 0 && d < ranges[k]!.len) {
          firstIdx = k;
          break;
        }
      }
      if (firstIdx >= 0 && n < max) {
        const r = ranges[firstIdx]!;
        const b = out[from + n++]!;
        b.left = r.start;
        b.right = seqAdd(r.start, r.len);
      }
    }
    // Then by recency: stamps are unique, so pick the largest below the last one picked.
    let below = Infinity;
    while (n < max) {
      let best = -1;
      let bestStamp = -1;
      for (let k = 0; k < ranges.length; k++) {
        const st = ranges[k]!.stamp;
        if (k !== firstIdx && st < below && st > bestStamp) {
          best = k;
          bestStamp = st;
        }
      }
      if (best < 0) break;
      below = bestStamp;
      const r = ranges[best]!;
      const b = out[from + n++]!;
      b.left = r.start;
      b.right = seqAdd(r.start, r.len);
    }
    return n;
  }

  /** Drops everything held (connection reset or closed). */
  clear(): void {
    this.ranges = [];
    this.held = 0;
  }

  /** Drops held bytes below `rcvNxt`: they were delivered by another path. */
  private prune(rcvNxt: Seq): void {
    const ranges = this.ranges;
    let drop = 0;
    while (drop < ranges.length) {
      const r = ranges[drop]!;
      const rs = seqDiff(r.start, rcvNxt);
      if (rs >= 0) break;
      if (rs + r.len <= 0) {
        this.held -= r.len;
        drop++;
        continue;
      }
      // RCV.NXT falls inside: trim the front and stop (later ranges start above it).
      let cut = -rs;
      this.held -= cut;
      r.len -= cut;
      r.start = rcvNxt;
      let c = 0;
      while (cut > 0) {
        const chunk = r.chunks[c]!;
        if (chunk.length <= cut) {
          cut -= chunk.length;
          c++;
        } else {
          r.chunks[c] = chunk.subarray(cut);
          cut = 0;
        }
      }
      r.chunks.splice(0, c);
      break;
    }
    if (drop > 0) ranges.splice(0, drop);
  }

  /** Index of the first range whose end is at or after offset `lo` (binary search; ranges are sorted). */
  private firstEndingAtOrAfter(lo: number, rcvNxt: Seq): number {
    const ranges = this.ranges;
    let a = 0;
    let b = ranges.length;
    while (a < b) {
      const m = (a + b) >>> 1;
      const r = ranges[m]!;
      if (seqDiff(r.start, rcvNxt) + r.len < lo) a = m + 1;
      else b = m;
    }
    return a;
  }
}

/** Copies data[a, b) into fresh at pos, pushes that view onto chunks, returns the new pos. */
function pushGap(chunks: Uint8Array[], fresh: Uint8Array, pos: number, data: Uint8Array, a: number, b: number): number {
  const view = fresh.subarray(pos, pos + (b - a));
  view.set(data.subarray(a, b));
  chunks.push(view);
  return pos + (b - a);
}

/** Joins each run of consecutive small chunks in `r` into one chunk; big chunks are never copied. */
function joinSmallChunks(r: Range): void {
  const out: Uint8Array[] = [];
  const src = r.chunks;
  let k = 0;
  while (k < src.length) {
    const c = src[k]!;
    if (c.length >= SMALL_CHUNK) {
      out.push(c);
      k++;
      continue;
    }
    let e = k;
    let size = 0;
    while (e < src.length && src[e]!.length < SMALL_CHUNK) size += src[e++]!.length;
    if (e - k === 1) {
      out.push(c);
    } else {
      const joined = new Uint8Array(size);
      let p = 0;
      for (let q = k; q < e; q++) {
        joined.set(src[q]!, p);
        p += src[q]!.length;
      }
      out.push(joined);
    }
    k = e;
  }
  r.chunks = out;
}
