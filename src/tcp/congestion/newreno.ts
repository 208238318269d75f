// NewReno: the RFC 5681 algorithm (slow start, congestion avoidance, fast retransmit and fast
// recovery) with RFC 3465 byte counting, RFC 6928's initial window, RFC 3042 limited transmit
// and RFC 6582's partial-ACK handling. Two pieces:
// - `NewReno`, the congestion-control algorithm (growth and ssthresh), usable under any
//   recovery machinery (recovery/prr.ts with SACK, or NewRenoRecovery below without it);
// - `NewRenoRecovery`, the duplicate-ACK driven fast retransmit / fast recovery state machine
//   for connections without SACK, which works with any algorithm (it asks the algorithm for
//   ssthresh and inflates and deflates cwnd as RFC 5681 §3.2 and RFC 6582 §3.2 say).
// Read first: RFC 5681 §3.1-3.2, RFC 6582 §3.2, RFC 3465 §2, RFC 3042 §2.
//
// Sequence convention: `recover` is the first sequence number NOT yet sent when recovery began
// (SND.NXT then), so the RFC's "acknowledges all of the data up to and including recover"
// (recover being the highest byte sent) is SEG.ACK >= recover here.
import type { Instant } from '../../time/instant.js';
import { type Seq, seqGe, seqGt } from '../seq.js';
import type { AckSample, CongestionControl, CongestionInit } from './cc.js';
import { CongestionBase } from './base.js';
import type { CaState } from './ca-state.js';

/** RFC 5681 / RFC 3465 congestion control. */
export class NewReno extends CongestionBase {
  readonly name = 'newreno' as const;
  /** RFC 3465 §2.1 bytes_acked: bytes acknowledged in congestion avoidance not yet turned into growth. */
  private bytesAcked = 0;

  constructor(init: CongestionInit) {
    super(init);
  }

  /**
   * RFC 5681 §3.1 equation (4): "ssthresh = max (FlightSize / 2, 2*SMSS)". The RFC warns against
   * using cwnd here; unlike Linux's tcp_reno_ssthresh (cwnd/2) we follow it.
   */
  ssthreshOnLoss(inflight: number, _now: Instant): number {
    this.bytesAcked = 0;
    return Math.max(Math.floor(inflight / 2), 2 * this.mss);
  }

  /**
   * Slow start below ssthresh; above it RFC 3465 §2.1: bytes_acked grows by the bytes each ACK
   * covers, and "when bytes_acked becomes greater than or equal to the value of the congestion
   * window, bytes_acked is reduced by the value of cwnd. Next, cwnd is incremented by a
   * full-sized segment (SMSS)" (RFC 5681 §3.1 recommends this byte counting).
   */
  congAvoid(s: AckSample): void {
    if (!s.cwndLimited) return;
    let acked = s.acked;
    if (this.inSlowStart) {
      acked = this.slowStart(acked);
      if (acked === 0) return;
    }
    this.bytesAcked += acked;
    if (this.bytesAcked >= this.cwnd) {
      this.bytesAcked -= this.cwnd;
      this.cwnd += this.mss;
    }
  }

  override setState(state: CaState, now: Instant): void {
    super.setState(state, now);
    if (state === 'loss') this.bytesAcked = 0;
  }

  /** Linux's tcp_reno_undo_cwnd: the larger of now and before the reduction. */
  undoCwnd(priorCwnd: number): number {
    return Math.max(this.cwnd, priorCwnd);
  }
}

/** RFC 5681 §3.2 DupThresh: fast retransmit on the third duplicate ACK. */
export const DUP_THRESH = 3;

/** What NewRenoRecovery asks the sender to do after an ACK. */
export type NewRenoAction =
  /** Nothing beyond sending what the (possibly changed) window allows. */
  | { kind: 'none' }
  /** Third duplicate ACK: retransmit the segment at SND.UNA now (RFC 5681 §3.2 step 3). */
  | { kind: 'fast-retransmit' }
  /** Partial ACK: retransmit the segment at the new SND.UNA; restart the RTO timer if `resetTimer` (RFC 6582 §3.2 step 3, §4). */
  | { kind: 'partial-ack'; resetTimer: boolean }
  /** Full ACK: fast recovery is over (RFC 6582 §3.2 step 3). */
  | { kind: 'full-ack' };

/**
 * Fast retransmit and fast recovery without SACK: RFC 5681 §3.2 with RFC 6582 §3.2 (NewReno)
 * and RFC 3042 (limited transmit). It drives `cc.cwnd` and `cc.ssthresh` during recovery
 * (window inflation and deflation) and asks `cc` only for the new ssthresh.
 *
 * The caller decides what a duplicate ACK is (RFC 5681 §2: no data, no SYN/FIN, SEG.ACK =
 * SND.UNA, data outstanding, unchanged window) and calls `onDuplicateAck`; it calls `onNewAck`
 * for every ACK that advances SND.UNA, and `onRetransmitTimeout` when the RTO fires.
 */
export class NewRenoRecovery {
  /** Duplicate ACKs in a row (RFC 5681 §3.2). */
  dupAcks = 0;
  /** RFC 6582 §3.2 "recover", initialised to the ISS (step 1). */
  recover: Seq;
  /** In fast recovery (between the third duplicate ACK and the full ACK). */
  inRecovery = false;
  /** Partial ACKs seen in this recovery. */
  partialAcks = 0;
  // FlightSize when the first duplicate ACK arrived: what was outstanding before any limited
  // transmit, which RFC 5681 §3.2 step 2 keeps out of the ssthresh computation.
  private flightBeforeLimitedTransmit = 0;

  /** A state machine for a connection whose initial send sequence number is `iss`. */
  constructor(iss: Seq) {
    this.recover = iss;
  }

  /**
   * RFC 3042 §2 limited transmit: on the first and second duplicate ACK the sender may send one
   * new segment each, "the sender can only send two segments beyond the congestion window".
   * Returns how many bytes beyond cwnd output may have in flight now.
   */
  limitedTransmitAllowance(mss: number): number {
    return !this.inRecovery && this.dupAcks > 0 && this.dupAcks < DUP_THRESH ? this.dupAcks * mss : 0;
  }

  /** A duplicate ACK arrived. `sndUna`/`sndNxt` are the current values, `flight` = SND.NXT - SND.UNA. */
  onDuplicateAck(cc: CongestionControl, a: { sndUna: Seq; sndNxt: Seq; flight: number; now: Instant }): NewRenoAction {
    this.dupAcks++;
    const mss = cc.mss;
    if (this.inRecovery) {
      // RFC 5681 §3.2 step 4: "For each additional duplicate ACK received (after the third),
      // cwnd MUST be incremented by SMSS."
      cc.cwnd += mss;
      return { kind: 'none' };
    }
    if (this.dupAcks === 1) this.flightBeforeLimitedTransmit = a.flight;
    if (this.dupAcks !== DUP_THRESH) return { kind: 'none' };
    // RFC 6582 §3.2 step 2: "the TCP sender first checks the value of recover to see if the
    // Cumulative Acknowledgment field covers more than recover. If so, the value of recover is
    // incremented to the value of the highest sequence number transmitted by the TCP so far. ...
    // If not, the TCP does not enter fast retransmit and does not reset ssthresh."
    if (!seqGt(a.sndUna, this.recover)) return { kind: 'none' };
    this.recover = a.sndNxt;
    this.inRecovery = true;
    this.partialAcks = 0;
    // RFC 5681 §3.2 step 2: ssthresh from equation (4), without limited-transmit data; step 3:
    // "The lost segment starting at SND.UNA MUST be retransmitted and cwnd set to ssthresh plus
    // 3*SMSS. This artificially 'inflates' the congestion window by the number of segments
    // (three) that have left the network and which the receiver has buffered."
    cc.ssthresh = cc.ssthreshOnLoss(this.flightBeforeLimitedTransmit, a.now);
    cc.cwnd = cc.ssthresh + DUP_THRESH * mss;
    return { kind: 'fast-retransmit' };
  }

  /**
   * An ACK advanced SND.UNA to `ack`, newly acknowledging `acked` bytes; `flight` is what is
   * outstanding after it. Outside recovery this only clears the duplicate count (growth is the
   * algorithm's congAvoid, called by the owner).
   */
  onNewAck(cc: CongestionControl, a: { ack: Seq; acked: number; flight: number }): NewRenoAction {
    this.dupAcks = 0;
    if (!this.inRecovery) return { kind: 'none' };
    const mss = cc.mss;
    if (seqGe(a.ack, this.recover)) {
      // RFC 6582 §3.2 step 3, full acknowledgment: "Set cwnd to either (1) min (ssthresh,
      // max(FlightSize, SMSS) + SMSS) or (2) ssthresh ... Exit the fast recovery procedure." (1).
      cc.cwnd = Math.min(cc.ssthresh, Math.max(a.flight, mss) + mss);
      this.inRecovery = false;
      return { kind: 'full-ack' };
    }
    // Partial acknowledgment: "retransmit the first unacknowledged segment. Deflate the
    // congestion window by the amount of new data acknowledged by the Cumulative Acknowledgment
    // field. If the partial ACK acknowledges at least one SMSS of new data, then add back SMSS
    // bytes to the congestion window. ... For the first partial ACK that arrives during fast
    // recovery, also reset the retransmit timer." (the Impatient variant of RFC 6582 §4).
    let cwnd = cc.cwnd - a.acked;
    if (a.acked >= mss) cwnd += mss;
    cc.cwnd = Math.max(cwnd, mss);
    this.partialAcks++;
    return { kind: 'partial-ack', resetTimer: this.partialAcks === 1 };
  }

  /**
   * RFC 6582 §3.2 step 4: "After a retransmit timeout, record the highest sequence number
   * transmitted in the variable recover, and exit the fast recovery procedure if applicable."
   */
  onRetransmitTimeout(sndNxt: Seq): void {
    this.recover = sndNxt;
    this.inRecovery = false;
    this.dupAcks = 0;
    this.partialAcks = 0;
  }
}
