// The retransmission timeout: smoothed RTT, RTT variation, RTO and its exponential backoff.
// Read first: RFC 6298 §2 (the computation), §3 (Karn's algorithm: which samples count),
// §5 (managing the timer, backoff); RFC 7323 §4 (timestamps make every ACK a valid sample).
//
// This file only does arithmetic. Taking samples is the caller's job, and so is Karn's rule
// (RFC 6298 §3: "RTT samples MUST NOT be made using segments that were retransmitted (and thus
// for which it is ambiguous whether the reply was for the first instance of the packet or a
// later instance)"): sample() must only be given unambiguous measurements: an ACK of a segment
// sent once, or a timestamp echo (RFC 7323 §4).
//
// SRTT and RTTVAR are kept as exact (fractional) microseconds, so the RFC's 1/8 and 1/4 gains
// lose nothing to rounding; the getters round to whole microseconds and RTO rounds up.
import { type Duration, millis, seconds } from '../time/instant.js';

/** Options for `RttEstimator`; every field has a Linux-like default. */
export interface RttOptions {
  /** RTO before the first sample (RFC 6298 §2.1: "the sender SHOULD set RTO <- 1 second"). */
  initialRto?: Duration;
  /** Lower bound on the RTO; default 200 ms (see `DEFAULT_MIN_RTO`). */
  minRto?: Duration;
  /** Upper bound on the RTO, including backoff; default 120 s (Linux TCP_RTO_MAX). */
  maxRto?: Duration;
  /** The clock granularity G of RFC 6298 §2; default 1 ms (see `DEFAULT_GRANULARITY`). */
  granularity?: Duration;
}

/** RFC 6298 §2.1: the initial RTO, 1 s. */
export const DEFAULT_INITIAL_RTO: Duration = seconds(1);
/**
 * The default lower bound on the RTO, 200 ms.
 * Deviation: RFC 6298 §2.4 says "Whenever RTO is computed, if it is less than 1 second, then the
 * RTO SHOULD be rounded up to 1 second"; Linux uses 200 ms (TCP_RTO_MIN, tcp_set_rto()), and so
 * do we, since a 1 s floor makes every loss on a LAN or in a simulation cost a second.
 */
export const DEFAULT_MIN_RTO: Duration = millis(200);
/** The default upper bound, 120 s, as Linux's TCP_RTO_MAX (RFC 6298 §2.5: "at least 60 seconds"). */
export const DEFAULT_MAX_RTO: Duration = seconds(120);
/**
 * The default clock granularity G, 1 ms: our clock counts microseconds, but the timer wheel
 * that fires retransmissions is not finer than a millisecond, and G's role in RFC 6298 §2.3 is
 * to keep RTO above SRTT when RTTVAR decays to zero. (Linux's is one jiffy, 1-10 ms.)
 */
export const DEFAULT_GRANULARITY: Duration = millis(1);
/** The retransmission timeout when the handshake needed retransmissions (RFC 6298 §5.7: 3 s). */
export const SYN_FALLBACK_RTO: Duration = seconds(3);

// RFC 6298 §2.3: "alpha=1/8 and beta=1/4 (as suggested in [JK88])" and K = 4.
const ALPHA = 1 / 8;
const BETA = 1 / 4;
const K = 4;

/** RFC 6298 retransmission-timeout estimator for one connection. */
export class RttEstimator {
  private srttExact: number | undefined = undefined;
  private rttvarExact = 0;
  // The RTO before backoff, already clamped to [minRto, maxRto].
  private baseRto: Duration;
  private backoffs = 0;
  private readonly minRto: Duration;
  private readonly maxRto: Duration;
  private readonly granularity: Duration;

  /** An estimator with no samples yet: RTO is `initialRto` (1 s). Throws a RangeError naming the values if the bounds are inconsistent. */
  constructor(opts: RttOptions = {}) {
    this.minRto = opts.minRto ?? DEFAULT_MIN_RTO;
    this.maxRto = opts.maxRto ?? DEFAULT_MAX_RTO;
    this.granularity = opts.granularity ?? DEFAULT_GRANULARITY;
    if (!(this.minRto > 0 && this.minRto <= this.maxRto) || !(this.granularity >= 0)) {
      throw new RangeError(
        `invalid RTO bounds: minRto ${this.minRto} µs, maxRto ${this.maxRto} µs, granularity ${this.granularity} µs (need 0 < minRto <= maxRto, granularity >= 0)`,
      );
    }
    this.baseRto = this.clamp(opts.initialRto ?? DEFAULT_INITIAL_RTO);
  }

  /** SRTT rounded to whole microseconds; undefined until the first sample (RFC 6298 §2.1). */
  get srtt(): Duration | undefined {
    return this.srttExact === undefined ? undefined : (Math.round(this.srttExact) as Duration);
  }

  /** RTTVAR rounded to whole microseconds; 0 until the first sample. */
  get rttvar(): Duration {
    return Math.round(this.rttvarExact) as Duration;
  }

  /** The current RTO including backoff: min(base RTO * 2^backoffCount, maxRto) (RFC 6298 §5.5). */
  get rto(): Duration {
    let r = this.baseRto;
    for (let i = 0; i < this.backoffs && r < this.maxRto; i++) r = (r * 2) as Duration;
    return r < this.maxRto ? r : this.maxRto;
  }

  /**
   * Sets the RTO directly (clamped to [minRto, maxRto]) and clears the backoff; for callers that
   * must impose a value, such as restoring a cached route metric. SRTT and RTTVAR are unchanged.
   */
  set rto(value: Duration) {
    this.baseRto = this.clamp(value);
    this.backoffs = 0;
  }

  /** How many times the timer has backed off since the last valid sample or `resetBackoff` (Linux icsk_backoff). */
  get backoffCount(): number {
    return this.backoffs;
  }

  /**
   * Feeds one unambiguous RTT measurement (Karn's rule is the caller's: see the file comment).
   * RFC 6298 §2.2 for the first, §2.3 after that; the new RTO is clamped to [minRto, maxRto]
   * and the backoff is cleared: RFC 6298 §5, "once a new RTT measurement is obtained ... the
   * computation of RTO ... may result in 'collapsing' RTO back down after it has been subject to
   * exponential back off (rule 5.5)", as Linux does in tcp_ack_update_rtt().
   */
  sample(rtt: Duration): void {
    // Clocks do not run backwards, but a timestamp echo from a confused peer can claim so.
    const r = rtt > 0 ? rtt : 0;
    if (this.srttExact === undefined) {
      // §2.2: "SRTT <- R, RTTVAR <- R/2, RTO <- SRTT + max (G, K*RTTVAR)".
      this.srttExact = r;
      this.rttvarExact = r / 2;
    } else {
      // §2.3: "RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|" then
      // "SRTT <- (1 - alpha) * SRTT + alpha * R'": RTTVAR first, with the old SRTT.
      this.rttvarExact = (1 - BETA) * this.rttvarExact + BETA * Math.abs(this.srttExact - r);
      this.srttExact = (1 - ALPHA) * this.srttExact + ALPHA * r;
    }
    // Deviation: RFC 6298 §2.3 and §2.4 give RTO = max(RTO_min, SRTT + max(G, K*RTTVAR)); Linux
    // (tcp_rtt_estimator / tcp_set_rto) floors the variation term instead, keeping rttvar at
    // least tcp_rto_min, so RTO = SRTT + max(K*RTTVAR, RTO_min): on a 100 ms path the RTO is
    // 300 ms, not 200 ms. We do as Linux does, so retransmission timing matches it on the wire.
    const rto = this.srttExact + Math.max(this.granularity, K * this.rttvarExact, this.minRto);
    this.baseRto = this.clamp(Math.ceil(rto) as Duration);
    this.backoffs = 0;
  }

  /** The retransmission timer expired: RFC 6298 §5.5, "set RTO <- RTO * 2 ('back off the timer')", capped at maxRto. */
  backoff(): void {
    this.backoffs++;
  }

  /** Clears the backoff without a new sample; called when an ACK for new data arrives (Linux: icsk_backoff = 0). */
  resetBackoff(): void {
    this.backoffs = 0;
  }

  /**
   * RFC 6298 §5.7: "If the timer expires awaiting the ACK of a SYN segment and the TCP
   * implementation is using an RTO less than 3 seconds, the RTO MUST be re-initialized to 3
   * seconds when data transmission begins (i.e., after the three-way handshake completes)."
   * Call when the handshake completes after a SYN (or SYN-ACK) retransmission. It acts only if
   * no valid sample was taken, as Linux's tcp_init_metrics() falls back to 3 s (TCP_TIMEOUT_FALLBACK)
   * when the handshake left SRTT unset.
   */
  synRetransmitted(): void {
    if (this.srttExact !== undefined) return;
    if (this.baseRto < SYN_FALLBACK_RTO) this.baseRto = this.clamp(SYN_FALLBACK_RTO);
    this.backoffs = 0;
  }

  private clamp(d: Duration): Duration {
    return (d < this.minRto ? this.minRto : d > this.maxRto ? this.maxRto : d) as Duration;
  }
}
