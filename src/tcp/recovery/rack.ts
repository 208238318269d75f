// RACK-TLP (RFC 8985): time-based loss detection. RACK deems a segment lost when a segment sent
// sufficiently later has been delivered (reordering window: min_RTT/4, adapted with D-SACK); TLP
// sends one probe when the tail of a flight goes unacknowledged for about two RTTs, so tail
// losses are repaired by fast recovery instead of by an RTO. Read first: RFC 8985 §3 (overview
// and examples), §5.2 (per-segment and per-connection state), §6.2 (steps 1-5 on each ACK),
// §6.3 (marking on RTO), §7 (TLP); Linux's net/ipv4/tcp_recovery.c and tcp_send_loss_probe().
//
// Pure: the caller hands in `now`, SRTT, whether a recovery episode is under way, and the
// scoreboard (scoreboard.ts), which holds each segment's xmit_ts, SACKed/lost/retransmitted
// marks. Decisions come back as values: bytes newly marked lost, the reordering-timer deadline,
// the PTO deadline, what to probe with, and whether a probe revealed a loss.
import type { Duration, Instant } from '../../time/instant.js';
import { millis, seconds } from '../../time/instant.js';
import { type Seq, seqAdd, seqGe, seqGt } from '../seq.js';
import { DUP_THRESH, type SackRange, type Scoreboard, type SentSegment } from './scoreboard.js';

/** RFC 8985 §7.2 WCDelAckT: the worst-case delayed-ACK time the PTO allows for, 200 ms. */
export const WC_DEL_ACK_T: Duration = millis(200);
/** RFC 8985 §6.2 step 4: reo_wnd_persist starts at 16 recoveries. */
export const REO_WND_PERSIST = 16;

/**
 * RFC 8985 §6.2 RACK_sent_after(t1, seq1, t2, seq2): was (t1, seq1) sent after (t2, seq2)? Ties
 * in time (several segments sent at one instant) are broken by sequence number.
 */
export function sentAfter(t1: Instant, seq1: Seq, t2: Instant, seq2: Seq): boolean {
  return t1 > t2 || (t1 === t2 && seqGt(seq1, seq2));
}

/** What RackTlp.detectLoss found: bytes newly marked lost, and when to look again (the reordering timer; undefined: none). */
export interface LossDetection {
  lost: number;
  reoTimeout: Instant | undefined;
}

/** What to send when the PTO fires (RFC 8985 §7.3). */
export type ProbeDecision =
  /** "Transmit the lowest-sequence unsent segment of up to SMSS": `len` new bytes at SND.NXT. */
  | { kind: 'new-data'; len: number }
  /** "Retransmit the highest-sequence segment sent so far": [start, start+len). */
  | { kind: 'retransmit'; start: Seq; len: number }
  /** A probe is already outstanding, or there is nothing to send: rearm the RTO instead. */
  | { kind: 'none' };

/** What an ACK says about the outstanding probe (RFC 8985 §7.4). */
export type TlpVerdict =
  /** No episode, or the episode continues. */
  | 'none'
  /** The probe (or the original) was delivered and nothing was lost: the episode ends without a reduction. */
  | 'no-loss'
  /** The probe repaired a loss: the episode ends and congestion control must reduce cwnd. */
  | 'loss-repaired';

/** RACK and TLP state for one connection (RFC 8985 §5.2, §7). */
export class RackTlp {
  /** RACK.xmit_ts: transmission time of the most recently sent segment that has been delivered. */
  xmitTs: Instant | undefined;
  /** RACK.end_seq: end of that segment. */
  endSeq: Seq | undefined;
  /** RACK.fack: the highest end sequence delivered (forward ACK). */
  fack: Seq | undefined;
  /** RACK.min_RTT. */
  minRtt: Duration | undefined;
  /** RACK.rtt: the RTT of the segment that set RACK.xmit_ts. */
  rtt: Duration = 0 as Duration;
  /** RACK.reordering_seen. */
  reorderingSeen = false;
  /** RACK.reo_wnd in force for the last detection. */
  reoWnd: Duration = 0 as Duration;
  /** RACK.dsack_round: SND.NXT when the window was last grown for a D-SACK; undefined when none pending. */
  dsackRound: Seq | undefined;
  /** RACK.reo_wnd_mult. */
  reoWndMult = 1;
  /** RACK.reo_wnd_persist. */
  reoWndPersist = 0;
  /** TLP.end_seq: SND.NXT when the outstanding probe was sent; undefined when none is. */
  tlpEndSeq: Seq | undefined;
  /** TLP.is_retrans: the outstanding probe was a retransmission. */
  tlpIsRetrans = false;
  // What detectLoss returns, reused (valid until its next call).
  private readonly detection: LossDetection = { lost: 0, reoTimeout: undefined };

  /** RFC 8985 §6.2 step 1: "Update RACK.min_RTT" with a valid RTT sample (Karn's rule is the caller's). */
  onRttSample(rtt: Duration): void {
    if (rtt >= 0 && (this.minRtt === undefined || rtt < this.minRtt)) this.minRtt = rtt;
  }

  /**
   * RFC 8985 §6.2 steps 2 and 3 for one segment newly delivered (pass it as the scoreboard's
   * DeliveredCallback). `echoedAt` is when the TSval echoed by the ACK was sent (ms granularity),
   * if timestamps are on.
   *
   * Step 2: for a retransmitted segment the RTT is ambiguous; it is used only if the echoed
   * timestamp shows the ACK is for this transmission and the RTT is not below min_RTT. Like
   * Linux's tcp_rack_advance, RACK.rtt is taken from the segment that advances RACK.xmit_ts, so
   * the order in which delivered segments are offered does not matter.
   * Step 3: a segment delivered below RACK.fack that was never retransmitted arrived out of order.
   */
  onDelivered(seg: Readonly<SentSegment>, now: Instant, echoedAt?: Instant): void {
    if (this.fack === undefined || seqGt(seg.end, this.fack)) this.fack = seg.end;
    else if (seqGt(this.fack, seg.end) && !seg.everRetrans) this.reorderingSeen = true;
    const rtt = (now - seg.xmitTs) as Duration;
    if (seg.everRetrans) {
      if (echoedAt !== undefined && Math.floor(echoedAt / 1000) < Math.floor(seg.xmitTs / 1000)) return;
      if (this.minRtt !== undefined && rtt < this.minRtt) return;
    }
    if (this.xmitTs === undefined || this.endSeq === undefined || sentAfter(seg.xmitTs, seg.end, this.xmitTs, this.endSeq)) {
      this.rtt = rtt;
      this.xmitTs = seg.xmitTs;
      this.endSeq = seg.end;
    }
  }

  /**
   * RFC 8985 §6.2 step 4, the D-SACK adaptation, once per ACK: "If RACK.dsack_round is not None
   * AND SND.UNA >= RACK.dsack_round: RACK.dsack_round = None"; on a D-SACK with no round pending,
   * "RACK.dsack_round = SND.NXT, RACK.reo_wnd_mult += 1, RACK.reo_wnd_persist = 16".
   */
  onAck(sndUna: Seq, sndNxt: Seq, dsack: boolean): void {
    // Deviation (as Linux: tcp_sacktag_one notes a D-SACKed retransmission as reordering and
    // tcp_check_sack_reordering counts it in reord_seen): a D-SACK also sets reordering_seen.
    // Step 3 cannot see reordering when the late original was retransmitted before it arrived,
    // and without this the D-SACK-grown window would never apply (step 4 returns 0 until
    // reordering_seen), so every such delay would cost a spurious recovery.
    if (dsack) this.reorderingSeen = true;
    if (this.dsackRound !== undefined && seqGe(sndUna, this.dsackRound)) this.dsackRound = undefined;
    if (this.dsackRound === undefined && dsack) {
      this.dsackRound = sndNxt;
      this.reoWndMult += 1;
      this.reoWndPersist = REO_WND_PERSIST;
    }
  }

  /**
   * RFC 8985 §6.2 step 4, on leaving fast or RTO recovery: "RACK.reo_wnd_persist -= 1; If
   * RACK.reo_wnd_persist <= 0: RACK.reo_wnd_mult = 1" (the window is reset after 16 D-SACK-free recoveries).
   */
  onRecoveryExit(): void {
    this.reoWndPersist -= 1;
    if (this.reoWndPersist <= 0) this.reoWndMult = 1;
  }

  /**
   * RFC 8985 §6.2 step 4, the window: 0 while no reordering has been seen and either a recovery is
   * under way or DupThresh segments are SACKed (so RACK then acts like RFC 6675's DupThresh
   * rule); otherwise min(reo_wnd_mult * min_RTT / 4, SRTT).
   */
  reorderWindow(inRecovery: boolean, segsSacked: number, srtt: Duration | undefined): Duration {
    if (!this.reorderingSeen && (inRecovery || segsSacked >= DUP_THRESH)) return 0 as Duration;
    const w = (this.reoWndMult * (this.minRtt ?? 0)) / 4;
    return Math.floor(srtt === undefined ? w : Math.min(w, srtt)) as Duration;
  }

  /**
   * RFC 8985 §6.2 step 5, RACK_detect_loss(): every segment not yet delivered (and not already
   * marked lost and awaiting retransmission) that was sent before RACK.xmit_ts is lost once
   * xmit_ts + RACK.rtt + RACK.reo_wnd has passed; otherwise the latest such moment ("timeout =
   * max(remaining, timeout)") is when to look again (the reordering timer). Marks go on the scoreboard. Returns the bytes newly marked
   * and the timer deadline (undefined: no timer needed), in an object reused by the next call.
   */
  detectLoss(sb: Scoreboard, now: Instant, inRecovery: boolean, srtt: Duration | undefined): LossDetection {
    this.reoWnd = this.reorderWindow(inRecovery, sb.sackedSegs, srtt);
    const xmitTs = this.xmitTs;
    const endSeq = this.endSeq;
    let lost = 0;
    let timeout = 0;
    if (xmitTs !== undefined && endSeq !== undefined) {
      const horizon = this.rtt + this.reoWnd;
      for (let i = sb.firstIndex, end = sb.endIndex; i < end; i++) {
        const s = sb.segmentAt(i);
        if (s.sacked || (s.lost && !s.retrans)) continue; // delivered, or known lost and waiting to be resent
        if (!sentAfter(xmitTs, endSeq, s.xmitTs, s.end)) {
          // Nothing above a segment sent only once was sent before it: new data goes out in
          // sequence order and a retransmission is later still. So the scan (in sequence order)
          // stops here, as Linux's walks its time-sorted queue only up to RACK.xmit_ts; without
          // this every ACK of a bulk transfer walked the whole window.
          if (!s.everRetrans) break;
          continue;
        }
        const remaining = s.xmitTs + horizon - now;
        if (remaining <= 0) lost += sb.markSegmentLost(s);
        else if (remaining > timeout) timeout = remaining;
      }
    }
    const r = this.detection;
    r.lost = lost;
    r.reoTimeout = timeout > 0 ? ((now + timeout) as Instant) : undefined;
    return r;
  }

  /**
   * RFC 8985 §6.3, RACK_mark_losses_on_RTO(): the segment at SND.UNA and every segment whose
   * xmit_ts + RACK.rtt + RACK.reo_wnd has passed are lost; earlier retransmissions are presumed
   * lost with them. Returns the bytes newly marked.
   */
  markLossesOnRto(sb: Scoreboard, now: Instant): number {
    sb.onRetransmitTimeout(false);
    let lost = 0;
    const horizon = this.rtt + this.reoWnd;
    sb.forEachUnsacked((s) => {
      if (s.start === sb.highAck || s.xmitTs + horizon - now <= 0) lost += sb.markSegmentLost(s);
      return true;
    });
    this.tlpEndSeq = undefined;
    return lost;
  }

  // --- TLP (RFC 8985 §7) ---

  /**
   * RFC 8985 §7.2 TLP_calc_PTO(): 2*SRTT, plus WCDelAckT when only one segment is in flight (the
   * receiver may be delaying its ACK), or 1 s without an RTT sample; never later than the RTO.
   * Returns the PTO deadline.
   */
  ptoDeadline(now: Instant, srtt: Duration | undefined, flightSegments: number, rtoDeadline: Instant | undefined): Instant {
    let pto: number = srtt === undefined ? seconds(1) : 2 * srtt + (flightSegments === 1 ? WC_DEL_ACK_T : 0);
    if (rtoDeadline !== undefined && now + pto > rtoDeadline) pto = Math.max(0, rtoDeadline - now);
    return (now + pto) as Instant;
  }

  /**
   * RFC 8985 §7.2: whether to arm the PTO now (after sending new data, or on an ACK that
   * cumulatively acknowledged new data): not during fast or RTO recovery, not with SACKed
   * segments outstanding (RACK is then in charge, as Linux only probes in Open and CWR), only
   * with data in flight and SACK negotiated, and only one probe per tail.
   */
  shouldArmPto(a: { sackOk: boolean; inRecovery: boolean; segsSacked: number; flight: number }): boolean {
    return a.sackOk && !a.inRecovery && a.segsSacked === 0 && a.flight > 0 && this.tlpEndSeq === undefined;
  }

  /**
   * RFC 8985 §7.3, what the probe carries when the PTO fires: new data if there is some the peer's
   * window allows ("If an unsent segment exists AND the receive window allows new data to be
   * sent"), else the last segment sent. At most one probe is outstanding. Probes are sent
   * whatever cwnd says (Linux tcp_send_loss_probe), and leave cwnd unchanged.
   */
  probe(unsent: number, mss: number, sb: Scoreboard): ProbeDecision {
    if (this.tlpEndSeq !== undefined) return { kind: 'none' };
    if (unsent > 0) return { kind: 'new-data', len: Math.min(unsent, mss) };
    const len = Math.min(mss, sb.flight);
    if (len <= 0) return { kind: 'none' };
    return { kind: 'retransmit', start: seqAdd(sb.highData, -len), len };
  }

  /** Records the probe just sent: TLP.end_seq = SND.NXT after it, TLP.is_retrans (RFC 8985 §7.3). */
  onProbeSent(sndNxt: Seq, isRetrans: boolean): void {
    this.tlpEndSeq = sndNxt;
    this.tlpIsRetrans = isRetrans;
  }

  /** Ends any probe episode without a verdict (entering recovery or on an RTO). */
  cancelProbe(): void {
    this.tlpEndSeq = undefined;
  }

  /**
   * RFC 8985 §7.4, TLP_process_ack(): once the ACK covers TLP.end_seq, a probe of new data ends
   * the episode; for a retransmitted probe, a D-SACK of it, or a plain duplicate ACK without SACK,
   * says both copies arrived (no loss), and an ACK beyond TLP.end_seq says the probe repaired a
   * loss, for which congestion control must reduce cwnd.
   */
  onAckForProbe(a: { ack: Seq; dsack: SackRange | undefined; isDupAck: boolean; hasSack: boolean }): TlpVerdict {
    const end = this.tlpEndSeq;
    if (end === undefined || !seqGe(a.ack, end)) return 'none';
    if (!this.tlpIsRetrans) {
      this.tlpEndSeq = undefined;
      return 'no-loss';
    }
    if (a.dsack !== undefined && a.dsack.end === end) {
      this.tlpEndSeq = undefined;
      return 'no-loss';
    }
    if (seqGt(a.ack, end)) {
      this.tlpEndSeq = undefined;
      return 'loss-repaired';
    }
    if (a.isDupAck && !a.hasSack) {
      this.tlpEndSeq = undefined;
      return 'no-loss';
    }
    return 'none';
  }
}
