// What every algorithm shares: per-connection fields, slow start with appropriate byte counting,
// and the defaults of the hooks most algorithms leave alone. Read first: RFC 5681 §3.1 (slow
// start), RFC 3465 §2 (byte counting and the limit L), Linux's tcp_slow_start() (tcp_cong.c).
// This file imports only types, so every algorithm can extend it without an import cycle.
import type { Duration, Instant } from '../../time/instant.js';
import type { CaState } from './ca-state.js';
import type { AckSample, CongestionAlgorithm, CongestionControl, CongestionInit, CwndEvent } from './cc.js';

/** "No threshold yet": Linux's TCP_INFINITE_SSTHRESH (RFC 5681 §3.1: "arbitrarily high"). */
export const INFINITE_SSTHRESH = 0x7fffffff;

/**
 * The initial window in bytes: `segments` * SMSS.
 * Deviation: RFC 6928 §2 bounds it as min(10*MSS, max(2*MSS, 14600)); like Linux
 * (tcp_init_cwnd, TCP_INIT_CWND) we use whole segments, which differs only for an MSS above 1460.
 */
export function initialWindow(segments: number, mss: number): number {
  return Math.max(1, segments) * mss;
}

/**
 * RFC 5681 §4.1, restarting after idle: "a TCP SHOULD set cwnd to no more than RW before
 * beginning transmission if the TCP has not sent data in an interval exceeding the retransmission
 * timeout", where "RW = min(IW,cwnd)". Returns the cwnd to use; `idle` is the time since the last
 * data segment was sent and `rto` the current RTO.
 * Deviation from Linux: tcp_cwnd_restart halves cwnd once per RTO of idleness down to RW (and
 * raises ssthresh to 3/4 of the old cwnd); we apply the RFC's single step.
 */
export function restartWindow(cwnd: number, idle: Duration, rto: Duration, iw: number): number {
  return idle > rto ? Math.min(iw, cwnd) : cwnd;
}

/** Common state and slow start; subclasses supply congestion avoidance and the reduction. */
export abstract class CongestionBase implements CongestionControl {
  abstract readonly name: CongestionAlgorithm;
  cwnd: number;
  ssthresh = INFINITE_SSTHRESH;
  mss: number;
  /**
   * RFC 3465 §2.2 limit L in segments: at most L*SMSS bytes of growth per ACK in slow start.
   * 2 normally ("L=2*SMSS"); 1 in the slow start that follows a retransmission timeout, as
   * RFC 3465 §2.3 recommends, since ACKs then may cover segments that left the network long ago.
   */
  protected abcLimit = 2;

  constructor(init: CongestionInit) {
    this.mss = init.mss;
    this.cwnd = initialWindow(init.initialCwnd, init.mss);
  }

  /** RFC 5681 §3.1: slow start is used "when cwnd < ssthresh". */
  get inSlowStart(): boolean {
    return this.cwnd < this.ssthresh;
  }

  /**
   * Slow start (RFC 5681 §3.1 with RFC 3465 §2.2): "cwnd += min (N, SMSS)" becomes
   * cwnd += min(N, L*SMSS). Growth stops at ssthresh; like Linux's tcp_slow_start() the bytes
   * beyond it are returned for congestion avoidance to count.
   */
  protected slowStart(acked: number): number {
    const inc = Math.min(acked, this.abcLimit * this.mss);
    const room = this.ssthresh - this.cwnd;
    if (inc <= room) {
      this.cwnd += inc;
      return 0;
    }
    this.cwnd = this.ssthresh;
    return acked - room;
  }

  abstract ssthreshOnLoss(inflight: number, now: Instant): number;
  abstract congAvoid(s: AckSample): void;
  abstract undoCwnd(priorCwnd: number): number;

  setState(state: CaState, _now: Instant): void {
    // RFC 3465 §2.3: the smaller limit applies to the slow start after an RTO only.
    this.abcLimit = state === 'loss' ? 1 : 2;
  }

  pktsAcked(_acked: number, _rtt: Duration | undefined, _now: Instant): void {}

  cwndEvent(_e: CwndEvent, _now: Instant): void {}
}
