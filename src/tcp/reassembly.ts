// Out-of-order receive storage: segments that arrived above RCV.NXT, held until the hole below
// them fills, and the SACK blocks that describe them. Read first: RFC 9293 §3.10.7.4 (segment
// text: "Segments with higher beginning sequence numbers may be held for later processing"),
// §3.4 (sequence arithmetic), RFC 2018 §3 and §4 (SACK blocks and the order to report them).
//
// The store is a short array of disjoint, non-adjacent ranges sorted by sequence number, each a
// list of chunks copied out of the frames they arrived in (a frame's buffer is the driver's and
// is reused). Every comparison goes through seq.ts, by offset from RCV.NXT, so the store works
// across the 2^32 wrap as long as the window is below 2^31 (RFC 7323 §2.3 keeps it at 2^30).
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

const NOTHING: InsertResult = Object.freeze({ stored: 0, duplicate: false });

/** Holds out-of-order data above RCV.NXT and hands it over once contiguous (RFC 9293 §3.10.7.4, RFC 2018). */
export class Reassembly {
  private ranges: Range[] = [];
  private held = 0;
  private clock = 0;
  // Scratch for the gaps a segment fills: [start, end) offsets from RCV.NXT, flattened.
  private readonly gaps: number[] = [];

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
    const n = data.length;
    if (n === 0) return NOTHING;
    const segOff = seqDiff(start, rcvNxt);
    const segEnd = segOff + n;
    let duplicate = segOff < 0;
    const win = Math.max(0, seqDiff(windowEnd, rcvNxt));
    const lo = Math.max(0, segOff);
    const hi = Math.min(segEnd, win);
    if (lo >= hi) return duplicate ? { stored: 0, duplicate } : NOTHING;
    const stamp = ++this.clock;
    const ranges = this.ranges;

    // Ranges i..j-1 overlap or touch [lo, hi); with it they become one range.
    const i = this.firstEndingAtOrAfter(lo, rcvNxt);
    const gaps = this.gaps;
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
      if (Math.max(rs, lo) < Math.min(re, hi)) duplicate = true;
      if (re > cursor) cursor = re;
    }
    if (cursor < hi) {
      gaps.push(cursor, hi);
      total += hi - cursor;
    }

    // One allocation holds every new byte; each gap is a view of it.
    const fresh = total > 0 ? new Uint8Array(total) : undefined;
    let pos = 0;
    const piece = (g: number): Uint8Array => {
      const a = gaps[g]!, b = gaps[g + 1]!;
      const view = fresh!.subarray(pos, pos + (b - a));
      view.set(data.subarray(a - segOff, b - segOff));
      pos += b - a;
      return view;
    };

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
        chunks.push(piece(g));
        g += 2;
      }
      for (const c of r.chunks) chunks.push(c);
    }
    while (g < gaps.length) {
      chunks.push(piece(g));
      g += 2;
    }
    const last = j > i ? ranges[j - 1]! : undefined;
    const endOff = Math.max(hi, last === undefined ? hi : seqDiff(last.start, rcvNxt) + last.len);
    merged.len = endOff - startOff;
    merged.stamp = stamp;
    if (chunks.length > MAX_CHUNKS) joinSmallChunks(merged);
    ranges.splice(i, j - i, merged);
    this.held += total;
    return { stored: total, duplicate };
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
