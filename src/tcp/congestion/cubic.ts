// CUBIC (RFC 9438): the window grows as a cubic function of the time since the last reduction,
// W_cubic(t) = C*(t-K)^3 + W_max, with a Reno-friendly floor and fast convergence. Read first:
// RFC 9438 §4 (the algorithm: §4.2 the window function, §4.3 the Reno-friendly region, §4.4-4.5
// concave and convex regions, §4.6 multiplicative decrease, §4.7 fast convergence, §4.8 timeout,
// §4.9 spurious congestion events, §4.10 slow start), §5.8 (application-limited flows); Linux's
// net/ipv4/tcp_cubic.c for how a real stack applies it.
//
// Units: RFC 9438 counts windows in segments (§4.1: "cwnd ... in units of SMSS"); cwnd and
// ssthresh stay in bytes as for every algorithm here (cc.ts), and this file converts with the SMSS.
// W_max, W_est, cwnd_epoch and cwnd_prior are kept in (fractional) segments, times in seconds
// derived from integer-microsecond Instants.
//
// Checked against the bug that bit smoltcp: both the new ssthresh and W_max after fast
// convergence use beta_cubic = 0.7 (ssthresh = 0.7*cwnd, W_max = cwnd*(1+0.7)/2), not 0.5.
import type { Duration, Instant } from '../../time/instant.js';
import type { AckSample, CongestionInit, CwndEvent } from './cc.js';
import { CongestionBase } from './base.js';
import type { CaState } from './ca-state.js';

/** RFC 9438 §5.1: "C SHOULD be set to 0.4". */
export const CUBIC_C = 0.4;
/** RFC 9438 §4.6: "beta_cubic SHOULD be set to 0.7". */
export const CUBIC_BETA = 0.7;
/** RFC 9438 §4.3: alpha_cubic = 3 * (1 - beta_cubic) / (1 + beta_cubic), about 0.529. */
export const CUBIC_ALPHA = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);

/** RFC 9438 Figure 1: W_cubic(t) = C*(t-K)^3 + W_max (segments; `t` and `k` in seconds). */
export function wCubic(t: number, k: number, wMax: number, c = CUBIC_C): number {
  return c * (t - k) ** 3 + wMax;
}

/**
 * RFC 9438 Figure 2: K = cubic_root((W_max - cwnd_epoch)/C), the time for W_cubic to climb back
 * to W_max. Right after a reduction without fast convergence cwnd_epoch = beta*W_max, and this is
 * RFC 8312's cubic_root(W_max*(1-beta)/C). Negative when cwnd_epoch is above W_max.
 */
export function cubicK(wMax: number, cwndEpoch: number, c = CUBIC_C): number {
  return Math.cbrt((wMax - cwndEpoch) / c);
}

/**
 * RFC 9438 §4.2, the target window one RTT ahead, clamped: cwnd if W_cubic(t+RTT) < cwnd,
 * 1.5*cwnd if it is above 1.5*cwnd, else W_cubic(t+RTT). All in segments.
 */
export function cubicTarget(wCubicAhead: number, cwnd: number): number {
  if (wCubicAhead < cwnd) return cwnd;
  if (wCubicAhead > 1.5 * cwnd) return 1.5 * cwnd;
  return wCubicAhead;
}

// What RFC 9438 §4.9 says to restore when a reduction turns out to be spurious.
interface CubicSnapshot {
  wMax: number | undefined;
  k: number;
  tEpoch: Instant | undefined;
  cwndEpoch: number;
  wEst: number;
  cwndPrior: number;
  alpha: number;
}

/** CUBIC congestion control (RFC 9438). */
export class Cubic extends CongestionBase {
  readonly name = 'cubic' as const;
  /** W_max in segments: the window before the last reduction, after fast convergence; undefined before any (and after an RTO, §4.8). */
  wMax: number | undefined;
  /** K in seconds for the current epoch. */
  k = 0;
  /** t_epoch: when the current congestion-avoidance stage began; undefined outside one. */
  tEpoch: Instant | undefined;
  /** cwnd_epoch in segments. */
  cwndEpoch = 0;
  /** W_est in segments (§4.3). */
  wEst = 0;
  /** cwnd_prior in segments: cwnd when ssthresh was last set (§4.3, §4.6). */
  cwndPrior = 0;
  /** alpha_cubic in force: CUBIC_ALPHA until W_est reaches cwnd_prior, then 1 (§4.3). */
  alpha = CUBIC_ALPHA;
  /** Smallest RTT sample seen (Linux's delay_min); informational (HyStart++ is not implemented). */
  minRtt: Duration | undefined;
  // Growth not yet applied, in bytes (cwnd is whole bytes).
  private frac = 0;
  private saved: CubicSnapshot | undefined;

  constructor(init: CongestionInit) {
    super(init);
  }

  /**
   * RFC 9438 §4.6 and §4.7. The new ssthresh is max(cwnd*beta_cubic, 2*SMSS).
   * Deviation: the RFC computes it from flight_size; like Linux (bictcp_recalc_ssthresh) we use
   * cwnd, which §4.6 allows for implementations that, as this one does (AckSample.cwndLimited),
   * keep cwnd from growing while the flight is smaller than cwnd.
   */
  ssthreshOnLoss(_inflight: number, _now: Instant): number {
    const cwnd = this.cwnd / this.mss;
    this.saved = { wMax: this.wMax, k: this.k, tEpoch: this.tEpoch, cwndEpoch: this.cwndEpoch, wEst: this.wEst, cwndPrior: this.cwndPrior, alpha: this.alpha };
    // §4.7: "if cwnd < W_max and fast convergence enabled, further reduce W_max:
    // W_max = cwnd * (1 + beta_cubic) / 2; otherwise, remember cwnd before reduction: W_max = cwnd".
    this.wMax = this.wMax !== undefined && cwnd < this.wMax ? (cwnd * (1 + CUBIC_BETA)) / 2 : cwnd;
    // §4.6: "cwnd_prior = cwnd", and a new congestion-avoidance stage starts after the reduction.
    this.cwndPrior = cwnd;
    this.tEpoch = undefined;
    this.frac = 0;
    // §4.6: "ssthresh = flight_size * beta_cubic" ... "ssthresh = max(ssthresh, 2)" (segments).
    return Math.max(Math.floor(this.cwnd * CUBIC_BETA), 2 * this.mss);
  }

  /** Slow start below ssthresh (§4.10), else the CUBIC increase of §4.2-4.5. */
  congAvoid(s: AckSample): void {
    // §5.8: "CUBIC does not increase cwnd when it is limited by the sending application or rwnd."
    if (!s.cwndLimited) return;
    let acked = s.acked;
    if (this.inSlowStart) {
      acked = this.slowStart(acked);
      if (acked === 0) return;
    }
    const mss = this.mss;
    const cwnd = this.cwnd / mss;
    if (this.tEpoch === undefined) this.startEpoch(s.now, cwnd);
    const tEpoch = this.tEpoch ?? s.now;
    const t = (s.now - tEpoch) / 1e6;
    const rtt = (s.srtt ?? 0) / 1e6;
    const segmentsAcked = acked / mss;
    const wMax = this.wMax ?? this.cwndEpoch;
    // §4.3: "W_est = W_est + alpha_cubic * segments_acked / cwnd", and "Once W_est has grown to
    // reach the cwnd at the time of most recently setting ssthresh -- that is, W_est >=
    // cwnd_prior -- the sender SHOULD set alpha_cubic to 1".
    this.wEst += (this.alpha * segmentsAcked) / cwnd;
    if (this.alpha !== 1 && this.wEst >= this.cwndPrior) this.alpha = 1;
    if (wCubic(t, this.k, wMax) < this.wEst) {
      // §4.3: "If W_cubic(t) is less than W_est, then CUBIC is in the Reno-friendly region and
      // cwnd SHOULD be set to W_est at each reception of a new ACK." cwnd never shrinks here
      // (as Linux's bictcp_update takes the larger of the two).
      const est = Math.floor(this.wEst * mss);
      if (est > this.cwnd) this.cwnd = est;
      this.frac = 0;
      return;
    }
    // §4.4/§4.5: "cwnd MUST be incremented by (target - cwnd)/cwnd for each received new ACK".
    // Deviation: per SMSS acknowledged rather than per ACK (byte counting, as RFC 3465 does for
    // Reno and Linux does by counting acked packets), so delayed ACKs do not halve the growth.
    const target = cubicTarget(wCubic(t + rtt, this.k, wMax), cwnd);
    this.frac += ((target - cwnd) / cwnd) * segmentsAcked * mss;
    const whole = Math.floor(this.frac);
    if (whole > 0) {
      this.cwnd += whole;
      this.frac -= whole;
    }
  }

  /**
   * The start of a congestion-avoidance stage (§4.2): t_epoch, cwnd_epoch, K, and W_est =
   * cwnd_epoch (§4.3). With no W_max (no reduction yet, or after an RTO) K = 0 and W_max is
   * cwnd_epoch, as §4.8 prescribes after a timeout: "K is set to 0, and W_max is set to the
   * congestion window size at the beginning of the current congestion avoidance stage".
   */
  private startEpoch(now: Instant, cwnd: number): void {
    this.tEpoch = now;
    this.cwndEpoch = cwnd;
    this.wEst = cwnd;
    this.alpha = CUBIC_ALPHA;
    this.frac = 0;
    if (this.wMax === undefined) {
      this.wMax = cwnd;
      this.k = 0;
    } else {
      this.k = cubicK(this.wMax, cwnd);
    }
  }

  /**
   * Entering 'loss' (an RTO): §4.8, the next congestion-avoidance stage starts from K = 0 with
   * W_max and W_est at cwnd_epoch (Linux: bictcp_state resets on TCP_CA_Loss). ssthresh was
   * already set through ssthreshOnLoss, which also saved what an undo restores.
   */
  override setState(state: CaState, now: Instant): void {
    super.setState(state, now);
    if (state === 'loss') {
      this.wMax = undefined;
      this.tEpoch = undefined;
      this.k = 0;
      this.frac = 0;
    }
  }

  /** §4.9: a spurious reduction restores W_max, K, the epoch and W_est as they were, and cwnd. */
  undoCwnd(priorCwnd: number): number {
    const s = this.saved;
    if (s !== undefined) {
      this.wMax = s.wMax;
      this.k = s.k;
      this.tEpoch = s.tEpoch;
      this.cwndEpoch = s.cwndEpoch;
      this.wEst = s.wEst;
      this.cwndPrior = s.cwndPrior;
      this.alpha = s.alpha;
      this.saved = undefined;
    }
    return Math.max(this.cwnd, priorCwnd);
  }

  override pktsAcked(_acked: number, rtt: Duration | undefined, _now: Instant): void {
    if (rtt !== undefined && rtt > 0 && (this.minRtt === undefined || rtt < this.minRtt)) this.minRtt = rtt;
  }

  /**
   * §5.8 requires that t "not include application-limited periods, such as idle periods": when
   * sending resumes after `idle`, the epoch moves forward by that long (Linux bictcp_cwnd_event,
   * CA_EVENT_TX_START), never past now.
   */
  override cwndEvent(e: CwndEvent, now: Instant): void {
    switch (e.kind) {
      case 'tx-start':
        if (this.tEpoch !== undefined && e.idle > 0) {
          const moved = this.tEpoch + e.idle;
          this.tEpoch = (moved > now ? now : moved) as Instant;
        }
        return;
      case 'cwnd-restart':
      case 'complete-cwr':
      case 'loss':
        return;
    }
  }
}
