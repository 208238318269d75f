// Proportional Rate Reduction (RFC 6937): how much to send on each ACK during a cwnd reduction
// (fast recovery, or a CWR reduction after ECE), so that the flight falls smoothly to ssthresh
// instead of stopping for half an RTT (RFC 5681's halving) or bursting at the end. Read first:
// RFC 6937 §3 (the algorithm) and §5 (examples); Linux's tcp_cwnd_reduction() (tcp_input.c),
// which this follows.
//
// Units are bytes. The owner calls `start` when a reduction begins, `onAck` for every ACK during
// it (the result is the new cwnd: pipe + sndcnt), and `onSend` for everything it (re)transmits.
import { assertNever } from '../../util/result.js';

/**
 * Which reduction bound applies once pipe has fallen to ssthresh (RFC 6937 §3):
 * - 'ssrb': Slow Start Reduction Bound as Linux applies it (and RFC 6937's successor): the extra
 *   SMSS is added only when the ACK advanced SND.UNA and revealed no new loss. The default.
 * - 'ssrb-rfc6937': RFC 6937's SSRB, the extra SMSS on every ACK.
 * - 'crb': the Conservative Reduction Bound (strict packet conservation).
 */
export type PrrBound = 'ssrb' | 'ssrb-rfc6937' | 'crb';

/** What one ACK during the reduction tells PRR. */
export interface PrrAck {
  /** RFC 6937 DeliveredData: bytes newly acknowledged cumulatively or by SACK. */
  delivered: number;
  /** RFC 6675 pipe after the ACK was processed (and losses marked). */
  pipe: number;
  /** The ACK advanced SND.UNA. */
  sndUnaAdvanced: boolean;
  /** The ACK led to new segments being marked lost. */
  newlyLost: boolean;
}

/** RFC 6937 PRR state for one reduction. */
export class Prr {
  /** ssthresh, the target flight at the end of the reduction. */
  ssthresh = 0;
  /** RFC 6937 RecoverFS: the flight (or, as Linux, the cwnd) when the reduction began. */
  recoverFs = 0;
  /** RFC 6937 prr_delivered: bytes delivered since the reduction began. */
  prrDelivered = 0;
  /** RFC 6937 prr_out: bytes sent since the reduction began. */
  prrOut = 0;
  /** The sndcnt of the last ACK, in bytes. */
  sndcnt = 0;

  /** A PRR instance using `bound` once pipe <= ssthresh. */
  constructor(readonly bound: PrrBound = 'ssrb') {}

  /**
   * RFC 6937 §3, "At the beginning of recovery": ssthresh from the congestion-control algorithm,
   * prr_delivered = prr_out = 0, and RecoverFS = snd.nxt - snd.una.
   * Deviation: the caller chooses RecoverFS; Linux (tcp_init_cwnd_reduction) passes prior_cwnd,
   * which equals the flight for a cwnd-limited sender and keeps the ratio ssthresh/RecoverFS
   * equal to the algorithm's beta when ssthresh is computed from cwnd (CUBIC, cc.ts).
   */
  start(ssthresh: number, recoverFs: number): void {
    this.ssthresh = ssthresh;
    this.recoverFs = Math.max(recoverFs, 1);
    this.prrDelivered = 0;
    this.prrOut = 0;
    this.sndcnt = 0;
  }

  /**
   * RFC 6937 §3, "On every ACK during recovery": returns the new cwnd = pipe + sndcnt (Linux:
   * tcp_snd_cwnd_set(tp, tcp_packets_in_flight(tp) + sndcnt)). An ACK that delivered nothing
   * leaves cwnd to the caller (returns undefined), as Linux does.
   */
  onAck(a: PrrAck, mss: number): number | undefined {
    if (a.delivered <= 0) return undefined;
    this.prrDelivered += a.delivered;
    let sndcnt: number;
    if (a.pipe > this.ssthresh) {
      // Proportional Rate Reduction: "sndcnt = CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out".
      // Deviation: the CEIL rounds up to whole segments, as Linux's packet counts do, so a segment
      // goes out on the first ACK that entitles the sender to any part of it (in bytes the RFC's
      // rounding would hold every segment back by one ACK).
      sndcnt = Math.ceil((this.prrDelivered * this.ssthresh) / this.recoverFs / mss) * mss - this.prrOut;
    } else {
      let limit: number;
      switch (this.bound) {
        case 'crb':
          // "limit = prr_delivered - prr_out"
          limit = this.prrDelivered - this.prrOut;
          break;
        case 'ssrb-rfc6937':
          // "limit = MAX(prr_delivered - prr_out, DeliveredData) + MSS"
          limit = Math.max(this.prrDelivered - this.prrOut, a.delivered) + mss;
          break;
        case 'ssrb':
          // Linux: the extra segment only "if (flag & FLAG_SND_UNA_ADVANCED && !newly_lost)".
          limit = Math.max(this.prrDelivered - this.prrOut, a.delivered) + (a.sndUnaAdvanced && !a.newlyLost ? mss : 0);
          break;
        default:
          return assertNever(this.bound, 'PRR bound');
      }
      // "Attempt to catch up, as permitted by limit": sndcnt = MIN(ssthresh - pipe, limit).
      sndcnt = Math.min(this.ssthresh - a.pipe, limit);
    }
    // Linux: "Force a fast retransmit upon entering fast recovery": at least one segment while
    // nothing has been sent in this reduction.
    sndcnt = Math.max(sndcnt, this.prrOut > 0 ? 0 : mss);
    this.sndcnt = sndcnt;
    return a.pipe + sndcnt;
  }

  /** RFC 6937 §3, "On any data transmission or retransmission": prr_out += (data sent). */
  onSend(bytes: number): void {
    this.prrOut += bytes;
  }
}
