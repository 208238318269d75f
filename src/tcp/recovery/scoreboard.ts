// The sender's SACK scoreboard (RFC 6675): every segment sent and not yet cumulatively
// acknowledged, in sequence order, with its marks (SACKed, lost, retransmitted) and its last
// transmission time (for RACK, rack.ts). It answers RFC 6675's questions: IsLost(), SetPipe()
// (pipe), NextSeg(), and keeps HighACK, HighData, HighRxt, RescueRxt and RecoveryPoint.
// Read first: RFC 6675 §2-4 (definitions and the routines), RFC 2018 §3-4 (SACK blocks),
// RFC 2883 §4 (D-SACK), RFC 8985 §5.2 (what RACK needs per segment); Linux's tcp_sacktag_write_queue()
// for block validation.
//
// Conventions: ranges are half-open [start, end) as SACK blocks are (RFC 2018 §3: the right edge
// is "the sequence number immediately following the last sequence number of this block").
// HighACK here is SND.UNA (the first unacknowledged octet; RFC 6675's HighACK is the last
// acknowledged one) and HighData is SND.NXT (RFC 6675: the highest octet sent; here the first
// unsent). FIN takes one unit of sequence space like data.
//
// Entries are split where SACK blocks and retransmissions cut them, so each entry is wholly
// SACKed or not. They cover [HighACK, HighData) without gaps. Entry objects are pooled: the
// scoreboard allocates only while its high-water mark grows.
//
// Loss marks come from three places: RFC 6675's IsLost() (markLostByDupThresh), RACK (rack.ts,
// through markLost) and an RTO (markAllLost). pipe and NextSeg() read the marks, so they work
// the same whichever detector runs; with IsLost() marks they give exactly RFC 6675's answers
// (test/congestion/scoreboard-model.test.ts checks this octet by octet against the RFC's text).
import type { Instant } from '../../time/instant.js';
import { type Seq, seqAdd, seqDiff, seqGt, seqLt, seqMax } from '../seq.js';

/** RFC 6675 §2 DupThresh: "The number of duplicate acknowledgments required to trigger a fast retransmission ... set to 3". */
export const DUP_THRESH = 3;

/** NextSeg()'s default: every rule of RFC 6675 §4. */
const ALL_RULES = { rule3: true, rescue: true };

/** One run of sent sequence space with the same history. */
export interface SentSegment {
  /** First sequence number. */
  start: Seq;
  /** One past the last sequence number. */
  end: Seq;
  /** Covered by a SACK block (RFC 6675 §2 "SACKed"). Never cleared until cumulatively acknowledged (RFC 2018 §8: the receiver may renege). */
  sacked: boolean;
  /** Deemed lost and waiting for retransmission (or retransmitted; see `retrans`). */
  lost: boolean;
  /** Retransmitted since it was last marked lost, and that retransmission is presumed in the network (Linux TCPCB_SACKED_RETRANS). */
  retrans: boolean;
  /** Retransmitted at least once (RACK's Segment.retransmitted, RFC 8985 §5.2). */
  everRetrans: boolean;
  /** Times sent. */
  xmits: number;
  /** When last sent (RACK's Segment.xmit_ts). */
  xmitTs: Instant;
}

/** A SACK block as received: [start, end). */
export interface SackRange {
  start: Seq;
  end: Seq;
}

/** What one ACK did to the scoreboard. */
export interface AckUpdate {
  /** Bytes newly acknowledged cumulatively (change in SND.UNA). */
  cumAcked: number;
  /** Bytes newly SACKed. */
  newlySacked: number;
  /** RFC 6937 DeliveredData: newly delivered bytes, cumulatively or selectively, each counted once. */
  delivered: number;
  /** The D-SACK block, if the first block was one (RFC 2883 §4). */
  dsack: SackRange | undefined;
  /** Blocks ignored as invalid (beyond SND.NXT, empty, or wholly below SND.UNA without being a D-SACK). */
  invalidBlocks: number;
  /** The ACK carried SACK information that marked something new (RFC 6675 §2 duplicate ACK condition (e)). */
  newSackInfo: boolean;
}

/** What NextSeg() chose, with the rule of RFC 6675 §4 that chose it. */
export interface NextSeg {
  /** 1: lost and not yet retransmitted; 2: new data; 3: unSACKed below the highest SACK; 4: rescue retransmission. */
  rule: 1 | 2 | 3 | 4;
  start: Seq;
  len: number;
}

/** Called with each segment an ACK newly delivers (cumulatively or by SACK), before the scoreboard forgets it. */
export type DeliveredCallback = (seg: Readonly<SentSegment>, how: 'cumulative' | 'sack') => void;

/** RFC 6675 scoreboard for one connection. */
export class Scoreboard {
  /** SND.UNA (RFC 6675 HighACK + 1). */
  highAck: Seq;
  /** SND.NXT (RFC 6675 HighData + 1). */
  highData: Seq;
  /** One past the highest octet retransmitted in this recovery (RFC 6675 HighRxt + 1). */
  highRxt: Seq;
  /** RFC 6675 RescueRxt: the RecoveryPoint when the rescue retransmission was sent; undefined if none this recovery. */
  rescueRxt: Seq | undefined;
  /** RFC 6675 RecoveryPoint: HighData when the current recovery began; undefined outside recovery. */
  recoveryPoint: Seq | undefined;
  /** Bytes SACKed above SND.UNA (Linux sacked_out, in bytes). */
  sackedBytes = 0;
  /** Bytes marked lost and not SACKed (Linux lost_out). */
  lostBytes = 0;
  /** Bytes retransmitted and presumed in the network (Linux retrans_out). */
  retransBytes = 0;
  /** SACKed segments (entries) above SND.UNA (RACK.segs_sacked, RFC 8985 §6.2). */
  sackedSegs = 0;

  private readonly list: SentSegment[] = [];
  private head = 0;
  // No segment below this sequence number is lost and waiting for retransmission (NextSeg rule
  // 1's candidates), so the rule's scan starts here: during a recovery NextSeg() runs for every
  // segment sent, and a scan from SND.UNA each time is quadratic in the window (Linux keeps the
  // same kind of hint, tp->retransmit_skb_hint). Lowered wherever a segment becomes a candidate.
  private rtxHint: Seq;
  private readonly pool: SentSegment[] = [];
  private readonly result: AckUpdate = { cumAcked: 0, newlySacked: 0, delivered: 0, dsack: undefined, invalidBlocks: 0, newSackInfo: false };
  private readonly dsackRange: SackRange = { start: 0 as Seq, end: 0 as Seq };
  private readonly chosen: NextSeg = { rule: 1, start: 0 as Seq, len: 0 };

  /** An empty scoreboard at SND.UNA = SND.NXT = `sndUna`; `mss` is the SMSS and `dupThresh` RFC 6675's DupThresh. */
  constructor(sndUna: Seq, public mss: number, readonly dupThresh = DUP_THRESH) {
    this.highAck = this.highData = this.highRxt = this.rtxHint = sndUna;
  }

  /** Bytes outstanding: SND.NXT - SND.UNA (FlightSize of RFC 5681). */
  get flight(): number {
    return seqDiff(this.highData, this.highAck);
  }

  /** Segments outstanding (entries). */
  get length(): number {
    return this.list.length - this.head;
  }

  /**
   * Index-based iteration over the outstanding segments in sequence order, without a callback:
   * `segmentAt(i)` for `firstIndex <= i < endIndex`. Valid while the scoreboard keeps its shape
   * (marking segments lost does not change it; ACKs and transmissions do).
   */
  get firstIndex(): number {
    return this.head;
  }
  /** One past the last index (see `firstIndex`). */
  get endIndex(): number {
    return this.list.length;
  }
  /** The segment at index `i` (see `firstIndex`). */
  segmentAt(i: number): SentSegment {
    return this.at(i);
  }

  /** The outstanding segments in sequence order (a live view: do not keep it across calls). */
  *segments(): IterableIterator<Readonly<SentSegment>> {
    for (let i = this.head; i < this.list.length; i++) yield this.at(i);
  }

  /**
   * Records a transmission of [start, start+len) at `now`: new data at SND.NXT, or a
   * retransmission below it (or both). `rule` is what NextSeg() returned, if it chose it: RFC 6675
   * §5 (C.2) moves HighRxt for retransmissions "unless NextSeg () rule (4) was invoked", and a
   * rescue sets RescueRxt (NextSeg rule (4)).
   */
  onTransmit(start: Seq, len: number, now: Instant, rule?: NextSeg['rule']): void {
    if (len <= 0) return;
    const end = seqAdd(start, len);
    if (seqLt(start, this.highAck)) start = this.highAck;
    const rtxEnd = seqLt(end, this.highData) ? end : this.highData;
    if (seqLt(start, rtxEnd)) this.retransmitted(start, rtxEnd, now, rule === 4);
    if (seqGt(end, this.highData)) {
      // RFC 6675 §5 (C.3): "HighData must be updated to reflect the transmission of previously unsent data."
      const from = seqMax(start, this.highData);
      if (from !== this.highData) return; // a gap above SND.NXT cannot be sent; the caller is confused
      this.push(from, end, now);
      this.highData = end;
    }
    if (rule === 4) this.rescueRxt = this.recoveryPoint ?? this.highData;
  }

  private retransmitted(start: Seq, end: Seq, now: Instant, rescue: boolean): void {
    let i = this.splitAt(start);
    this.splitAt(end);
    for (; i < this.list.length; i++) {
      const s = this.at(i);
      if (!seqLt(s.start, end)) break;
      s.xmits++;
      s.xmitTs = now;
      s.everRetrans = true;
      // A rescue retransmission is not counted in pipe: RFC 6675 keeps HighRxt where it is for it.
      if (!s.sacked && !s.retrans && !rescue) {
        s.retrans = true;
        this.retransBytes += this.len(s);
      }
    }
    // RFC 6675 §5 (C.2): "HighRxt MUST be set to the highest sequence number of the retransmitted
    // segment unless NextSeg () rule (4) was invoked for this retransmission."
    if (!rescue && seqGt(end, this.highRxt)) this.highRxt = end;
  }

  /**
   * Processes an ACK: the cumulative acknowledgment `ack` and its SACK blocks, in the order they
   * came (RFC 2018 §4: the first block reports the most recent arrival, or a D-SACK). The result
   * object is reused by the next call.
   */
  onAck(ack: Seq, blocks: readonly SackRange[], onDelivered?: DeliveredCallback): AckUpdate {
    const r = this.result;
    r.cumAcked = 0;
    r.newlySacked = 0;
    r.delivered = 0;
    r.dsack = undefined;
    r.invalidBlocks = 0;
    r.newSackInfo = false;
    // An ACK beyond SND.NXT is not acceptable (RFC 9293 §3.10.7.4); the caller never passes one,
    // but untrusted numbers never corrupt the board.
    if (seqGt(ack, this.highData)) ack = this.highData;
    const first = blocks[0];
    if (first !== undefined && seqLt(first.start, first.end)) {
      // RFC 2883 §4 (and Linux tcp_check_dsack): the first block is a D-SACK when it lies below
      // the cumulative ACK, or inside the second block.
      const second = blocks[1];
      if (seqLt(first.start, ack) || (second !== undefined && !seqLt(first.start, second.start) && !seqGt(first.end, second.end))) {
        this.dsackRange.start = first.start;
        this.dsackRange.end = first.end;
        r.dsack = this.dsackRange;
      }
    }
    if (seqGt(ack, this.highAck)) this.advance(ack, onDelivered);
    for (let b = r.dsack !== undefined ? 1 : 0; b < blocks.length; b++) {
      const blk = blocks[b];
      if (blk === undefined) continue;
      const end = blk.end;
      let start = blk.start;
      // Validation (RFC 2018 §3 and Linux tcp_is_sackblock_valid): an empty or inverted block,
      // or one reaching beyond what was sent, is ignored; one below SND.UNA says nothing new.
      if (!seqLt(start, end) || seqGt(end, this.highData)) {
        r.invalidBlocks++;
        continue;
      }
      if (!seqGt(end, this.highAck)) {
        r.invalidBlocks++;
        continue;
      }
      if (seqLt(start, this.highAck)) start = this.highAck;
      this.sackRange(start, end, onDelivered);
    }
    r.newSackInfo = r.newlySacked > 0;
    r.delivered += r.newlySacked;
    return r;
  }

  // Cumulative acknowledgment up to `ack`: forget what it covers.
  private advance(ack: Seq, onDelivered: DeliveredCallback | undefined): void {
    const r = this.result;
    r.cumAcked = seqDiff(ack, this.highAck);
    while (this.head < this.list.length) {
      const s = this.at(this.head);
      if (seqGt(s.end, ack)) {
        // An ACK inside a segment: split it there and take the part below (rare: ACKs mostly
        // fall on segment boundaries, so no search per ACK).
        if (seqLt(s.start, ack)) {
          this.splitAt(ack);
          continue;
        }
        break;
      }
      const len = this.len(s);
      if (s.sacked) {
        this.sackedBytes -= len;
        this.sackedSegs--;
      } else {
        r.delivered += len;
        onDelivered?.(s, 'cumulative');
        if (s.lost) this.lostBytes -= len;
        if (s.retrans) this.retransBytes -= len;
      }
      this.release(this.head++);
    }
    this.compact();
    this.highAck = ack;
    if (seqLt(this.highRxt, ack)) this.highRxt = ack;
  }

  private sackRange(start: Seq, end: Seq, onDelivered: DeliveredCallback | undefined): void {
    let i = this.splitAt(start);
    this.splitAt(end);
    for (; i < this.list.length; i++) {
      const s = this.at(i);
      if (!seqLt(s.start, end)) break;
      if (s.sacked) continue;
      const len = this.len(s);
      s.sacked = true;
      this.sackedBytes += len;
      this.sackedSegs++;
      if (s.lost) {
        s.lost = false;
        this.lostBytes -= len;
      }
      if (s.retrans) {
        s.retrans = false;
        this.retransBytes -= len;
      }
      this.result.newlySacked += len;
      onDelivered?.(s, 'sack');
    }
  }

  /**
   * RFC 6675 §4 IsLost(SeqNum): "returns true when either DupThresh discontiguous SACKed
   * sequences have arrived above 'SeqNum' or more than (DupThresh - 1) * SMSS bytes with sequence
   * numbers greater than 'SeqNum' have been SACKed." The SACKed sequences are counted as the
   * segments that arrived (entries), as Linux counts SACKed packets.
   */
  isLost(seqNum: Seq): boolean {
    let bytes = 0;
    let segs = 0;
    for (let i = this.list.length - 1; i >= this.head; i--) {
      const s = this.at(i);
      if (!seqGt(s.end, seqNum) || !seqGt(s.start, seqNum)) break;
      if (s.sacked) {
        bytes += this.len(s);
        segs++;
        if (segs >= this.dupThresh || bytes > (this.dupThresh - 1) * this.mss) return true;
      }
    }
    return false;
  }

  /**
   * Marks every unSACKed segment for which IsLost() holds (one pass from the top: IsLost is
   * monotone, so everything below the first lost octet is lost too). Returns the bytes newly marked.
   */
  markLostByDupThresh(): number {
    if (this.sackedSegs === 0) return 0; // IsLost() needs SACKed segments above
    let bytes = 0;
    let segs = 0;
    let marked = 0;
    const limit = (this.dupThresh - 1) * this.mss;
    for (let i = this.list.length - 1; i >= this.head; i--) {
      const s = this.at(i);
      if (s.sacked) {
        bytes += this.len(s);
        segs++;
      } else if (!s.lost && (segs >= this.dupThresh || bytes > limit)) {
        // IsLost() judges the original transmission: a retransmission already sent (rule 3) is
        // still presumed in the network, as RFC 6675's SetPipe counts octets below HighRxt.
        s.lost = true;
        const len = this.len(s);
        this.lostBytes += len;
        marked += len;
        if (!s.retrans) this.lowerRtxHint(s.start);
      }
    }
    return marked;
  }

  /**
   * Marks one segment lost judging by its latest transmission (RACK, RFC 8985 §6.2): a
   * retransmission of it is presumed lost too and it may be retransmitted again (Linux
   * tcp_mark_skb_lost). Returns bytes newly marked.
   */
  markSegmentLost(s: SentSegment): number {
    if (s.sacked) return 0;
    const len = this.len(s);
    const wasRetrans = s.retrans;
    if (wasRetrans) {
      s.retrans = false;
      this.retransBytes -= len;
    }
    this.lowerRtxHint(s.start);
    if (s.lost) return wasRetrans ? len : 0;
    s.lost = true;
    this.lostBytes += len;
    return len;
  }

  /** Marks the segment holding `q` lost (see markSegmentLost); 0 if none is outstanding there. */
  markLostAt(q: Seq): number {
    const i = this.indexOf(q);
    return i < 0 ? 0 : this.markSegmentLost(this.at(i));
  }

  /** Clears every loss mark (after an undo: nothing is presumed lost any more). */
  clearLostMarks(): void {
    for (let i = this.head; i < this.list.length; i++) this.at(i).lost = false;
    this.lostBytes = 0;
  }

  /** Applies `fn` to each outstanding unSACKed segment in sequence order until it returns false. */
  forEachUnsacked(fn: (s: SentSegment) => boolean): void {
    for (let i = this.head; i < this.list.length; i++) {
      const s = this.at(i);
      if (!s.sacked && !fn(s)) return;
    }
  }

  /**
   * An RTO: every unSACKed segment is presumed lost and earlier retransmissions with it (Linux
   * tcp_enter_loss), HighRxt returns to HighACK so retransmission restarts at the front, and
   * RFC 6675 §5.1: "RecoveryPoint MUST be set to HighData". SACKed segments are kept (§5.1:
   * the scoreboard keeps being used "to avoid retransmitting SACKed segments"). Pass `markAll`
   * false when RACK chooses which segments the RTO marks (RFC 8985 §6.3).
   */
  onRetransmitTimeout(markAll = true): void {
    for (let i = this.head; i < this.list.length; i++) {
      const s = this.at(i);
      if (s.sacked) continue;
      if (s.retrans) {
        s.retrans = false;
        this.retransBytes -= this.len(s);
      }
      if (markAll && !s.lost) {
        s.lost = true;
        this.lostBytes += this.len(s);
      }
    }
    this.highRxt = this.highAck;
    this.rtxHint = this.highAck;
    this.rescueRxt = undefined;
    this.recoveryPoint = this.highData;
  }

  /** The start of fast recovery (RFC 6675 §5 step 4.1): RecoveryPoint = HighData, no rescue sent yet. */
  enterRecovery(): void {
    this.recoveryPoint = this.highData;
    this.rescueRxt = undefined;
  }

  /** The end of a recovery episode: RecoveryPoint forgotten; the marks stay (RFC 6675 §5 (A)). */
  exitRecovery(): void {
    this.recoveryPoint = undefined;
  }

  /**
   * RFC 6675 SetPipe(): octets between HighACK and HighData not SACKed count once if not lost
   * and once more if retransmitted (S1 <= HighRxt). Kept incrementally: O(1).
   */
  pipe(): number {
    return this.flight - this.sackedBytes - this.lostBytes + this.retransBytes;
  }

  /** One past the highest SACKed octet, or undefined if nothing outstanding is SACKed. */
  highestSacked(): Seq | undefined {
    if (this.sackedSegs === 0) return undefined;
    for (let i = this.list.length - 1; i >= this.head; i--) {
      const s = this.at(i);
      if (s.sacked) return s.end;
    }
    return undefined;
  }

  /**
   * RFC 6675 §4 NextSeg(): the next segment to send during loss recovery, or undefined.
   * `unsent` is how many new bytes may be sent (queued and within the peer's window). Rules (3)
   * and (4) are SHOULDs; `rescue` false leaves rule (4) out (it is only for recovery, not RTO).
   * Rule (1) takes lost-marked segments not yet retransmitted; with IsLost() marks that is the
   * RFC's "S2 > HighRxt, S2 < highest SACK, IsLost(S2)", with RACK marks it also retransmits
   * segments lost above the highest SACK, which RACK may find (RFC 8985 §6.2). The answer is
   * one object reused by the next call.
   */
  nextSeg(unsent: number, opts: { rule3?: boolean; rescue?: boolean } = ALL_RULES): NextSeg | undefined {
    const mss = this.mss;
    // (1) lost, unSACKed, not retransmitted since marked (none if nothing is marked lost: the
    // common case, checked in O(1)).
    if (this.lostBytes > 0) {
      const from = seqLt(this.rtxHint, this.highAck) ? this.highAck : this.rtxHint;
      let i = this.indexOf(from);
      for (i = i < 0 ? this.list.length : i; i < this.list.length; i++) {
        const s = this.at(i);
        if (s.lost && !s.retrans) {
          this.rtxHint = s.start;
          return this.choose(1, s.start, Math.min(this.len(s), mss));
        }
      }
      this.rtxHint = this.highData;
    }
    // (2) "If no sequence number 'S2' per rule (1) exists but there exists available unsent data
    // and the receiver's advertised window allows, the sequence range of one segment of up to
    // SMSS octets of previously unsent data starting with sequence number HighData+1 MUST be returned."
    if (unsent > 0) return this.choose(2, this.highData, Math.min(unsent, mss));
    const highSack = this.highestSacked();
    // (3) "an unSACKed sequence number 'S3' that meets the criteria for detecting loss given in
    // steps (1.a) and (1.b) above (specifically excluding step (1.c))".
    if (opts.rule3 !== false && highSack !== undefined) {
      for (let i = this.head; i < this.list.length; i++) {
        const s = this.at(i);
        if (!seqLt(s.start, highSack)) break;
        if (s.sacked || s.retrans || seqLt(s.start, this.highRxt)) continue;
        return this.choose(3, s.start, Math.min(this.len(s), mss));
      }
    }
    // (4) "If HighACK is greater than RescueRxt (or RescueRxt is undefined), then one segment of
    // up to SMSS octets that MUST include the highest outstanding unSACKed sequence number SHOULD
    // be returned".
    if (opts.rescue !== false && this.recoveryPoint !== undefined && (this.rescueRxt === undefined || seqGt(this.highAck, this.rescueRxt))) {
      for (let i = this.list.length - 1; i >= this.head; i--) {
        const s = this.at(i);
        if (s.sacked) continue;
        const len = Math.min(this.len(s), mss);
        return this.choose(4, seqAdd(s.end, -len), len);
      }
    }
    return undefined;
  }

  /** The outstanding segment holding `seqNum`, or undefined. */
  find(seqNum: Seq): Readonly<SentSegment> | undefined {
    const i = this.indexOf(seqNum);
    return i < 0 ? undefined : this.at(i);
  }

  /** Forgets everything and starts over at `sndUna` (SND.NXT = SND.UNA). */
  reset(sndUna: Seq): void {
    while (this.head < this.list.length) this.release(this.head++);
    this.compact();
    this.highAck = this.highData = this.highRxt = this.rtxHint = sndUna;
    this.rescueRxt = this.recoveryPoint = undefined;
    this.sackedBytes = this.lostBytes = this.retransBytes = this.sackedSegs = 0;
  }

  // --- storage ---

  private at(i: number): SentSegment {
    const s = this.list[i];
    if (s === undefined) throw new Error(`scoreboard index ${i} out of range`);
    return s;
  }

  // NextSeg()'s answer, in the one object it returns (valid until the next call).
  private choose(rule: NextSeg['rule'], start: Seq, len: number): NextSeg {
    const n = this.chosen;
    n.rule = rule;
    n.start = start;
    n.len = len;
    return n;
  }

  private lowerRtxHint(q: Seq): void {
    if (seqLt(q, this.rtxHint)) this.rtxHint = q;
  }

  private len(s: SentSegment): number {
    return seqDiff(s.end, s.start);
  }

  private push(start: Seq, end: Seq, now: Instant): void {
    const s = this.pool.pop() ?? { start, end, sacked: false, lost: false, retrans: false, everRetrans: false, xmits: 1, xmitTs: now };
    s.start = start;
    s.end = end;
    s.sacked = s.lost = s.retrans = s.everRetrans = false;
    s.xmits = 1;
    s.xmitTs = now;
    this.list.push(s);
  }

  private release(i: number): void {
    const s = this.at(i);
    this.pool.push(s);
  }

  private compact(): void {
    if (this.head === this.list.length) {
      this.list.length = 0;
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > this.list.length) {
      this.list.splice(0, this.head);
      this.head = 0;
    }
  }

  // Index of the entry holding `q`, by binary search on the offset from SND.UNA; -1 if none.
  private indexOf(q: Seq): number {
    let lo = this.head;
    let hi = this.list.length - 1;
    const base = this.highAck;
    const off = seqDiff(q, base);
    if (off < 0 || off >= seqDiff(this.highData, base)) return -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.at(mid);
      if (seqDiff(s.end, base) <= off) lo = mid + 1;
      else if (seqDiff(s.start, base) > off) hi = mid - 1;
      else return mid;
    }
    return -1;
  }

  // Makes `q` an entry boundary; returns the index of the entry starting at `q` (or the end).
  private splitAt(q: Seq): number {
    const i = this.indexOf(q);
    if (i < 0) return seqLt(q, this.highAck) ? this.head : this.list.length;
    const s = this.at(i);
    if (s.start === q) return i;
    const tail = this.pool.pop() ?? { ...s };
    Object.assign(tail, s);
    tail.start = q;
    s.end = q;
    this.list.splice(i + 1, 0, tail);
    if (s.sacked) this.sackedSegs++;
    return i + 1;
  }
}
