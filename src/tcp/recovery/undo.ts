// Spurious retransmissions: detecting that a cwnd reduction was for nothing (reordering, a delay
// spike) and undoing it, so reordering does not halve the window. Three detectors, as in Linux:
// - D-SACK (RFC 2883 §4, RFC 3708): every retransmission of the episode is reported duplicate;
// - Eifel detection (RFC 3522): the first ACK after a retransmission echoes a timestamp older than
//   the retransmission, so it acknowledges the original;
// - F-RTO (RFC 5682): after an RTO, ACKs for data that was never retransmitted.
// The response is Linux's tcp_undo_cwnd_reduction(): cwnd and ssthresh as they were before the
// reduction (RFC 4015's "full response"), with the algorithm restoring its own state (RFC 9438 §4.9).
// Read first: RFC 3522 §2-3, RFC 5682 §2-3, RFC 4015 §2, Linux's tcp_try_undo_recovery(),
// tcp_try_undo_dsack(), tcp_try_undo_loss(), tcp_packet_delayed() (tcp_input.c).
import { type Seq, seqGe, seqGt, seqLt } from '../seq.js';
import type { CongestionControl } from '../congestion/cc.js';
import type { SackRange } from './scoreboard.js';

/** Timestamps (RFC 7323 TSval) compare modulo 2^32, as sequence numbers do. */
const tsBefore = (a: number, b: number): boolean => ((a - b) | 0) < 0;

/** The undo record of one reduction episode (Linux's undo_marker, undo_retrans, retrans_stamp, prior_cwnd, prior_ssthresh). */
export class Undo {
  /** SND.UNA when the reduction began; undefined when there is nothing to undo (Linux undo_marker = 0). */
  marker: Seq | undefined;
  /** Retransmitted segments not yet reported duplicate by a D-SACK; undefined before the first retransmission (Linux undo_retrans = -1). */
  retrans: number | undefined;
  /** Our TSval on the first retransmission of the episode (Linux retrans_stamp), if timestamps are on. */
  firstRetransTsval: number | undefined;
  /** cwnd before the reduction. */
  priorCwnd = 0;
  /** ssthresh to restore: Linux's tcp_current_ssthresh(), at least 3/4 of the prior cwnd outside a reduction. */
  priorSsthresh = 0;

  /**
   * A reduction begins (fast recovery, an RTO, or CWR): remember what to restore (Linux
   * tcp_init_undo with prior_cwnd/prior_ssthresh). `inReduction` is true when cwnd is already
   * being reduced (CWR or Recovery), when Linux keeps ssthresh itself rather than 3/4 of cwnd.
   */
  begin(sndUna: Seq, cwnd: number, ssthresh: number, inReduction: boolean): void {
    this.marker = sndUna;
    this.retrans = undefined;
    this.firstRetransTsval = undefined;
    this.priorCwnd = cwnd;
    this.priorSsthresh = inReduction ? ssthresh : Math.max(ssthresh, Math.floor(cwnd / 2) + Math.floor(cwnd / 4));
  }

  /**
   * Like `begin`, but if the previous episode still has retransmissions awaiting their D-SACK,
   * the new episode joins it: the record keeps the older marker and prior values, and the undo
   * happens only when the retransmissions of both are shown spurious.
   * Deviation: Linux's tcp_init_undo starts afresh at each episode, so D-SACKs still in flight
   * for the previous one are lost and a run of reordering-induced recoveries cannot be undone
   * (seen in test/congestion/controller.test.ts with a 30 ms reordering delay on a 40 ms RTT).
   */
  beginOrJoin(sndUna: Seq, cwnd: number, ssthresh: number, inReduction: boolean): void {
    if (this.marker !== undefined && this.retrans !== undefined && this.retrans > 0) return;
    this.begin(sndUna, cwnd, ssthresh, inReduction);
  }

  /** A segment of the episode was retransmitted with TSval `tsval` (undefined without timestamps). */
  onRetransmit(segments: number, tsval: number | undefined): void {
    if (this.marker === undefined) return;
    this.retrans = (this.retrans ?? 0) + segments;
    if (this.firstRetransTsval === undefined) this.firstRetransTsval = tsval;
  }

  /**
   * A D-SACK arrived: if it reports data of this episode (at or above the marker) as received
   * twice, one retransmission fewer is in question (RFC 3708 §3; Linux tcp_check_dsack and
   * tcp_sacktag_one count per segment). `mss` converts the block to segments.
   */
  onDsack(block: SackRange, mss: number): void {
    if (this.marker === undefined || this.retrans === undefined || seqLt(block.start, this.marker)) return;
    const segs = Math.max(1, Math.ceil(((block.end - block.start) | 0) / mss));
    this.retrans = Math.max(0, this.retrans - segs);
  }

  /**
   * RFC 3522 §3 (Eifel detection): "If the value of the Timestamp Echo Reply field of the first
   * acceptable ACK ... is smaller than the value of RetransmitTS, then the retransmission was
   * spurious" (Linux tcp_packet_delayed). `tsecr` is the ACK's echo, undefined without timestamps.
   */
  ackedOriginal(tsecr: number | undefined): boolean {
    return tsecr !== undefined && tsecr !== 0 && this.firstRetransTsval !== undefined && tsBefore(tsecr, this.firstRetransTsval);
  }

  /** Linux tcp_may_undo(): every retransmission has been D-SACKed, or the ACK acknowledges an original (Eifel). */
  mayUndo(tsecr: number | undefined): boolean {
    if (this.marker === undefined) return false;
    return this.retrans === 0 || this.ackedOriginal(tsecr);
  }

  /**
   * Undoes the reduction (Linux tcp_undo_cwnd_reduction): cwnd = max(cwnd, the algorithm's undo
   * value), ssthresh back up to what it was; the episode can no longer be undone.
   */
  undo(cc: CongestionControl): void {
    cc.cwnd = Math.max(cc.cwnd, cc.undoCwnd(this.priorCwnd));
    if (this.priorSsthresh > cc.ssthresh) cc.ssthresh = this.priorSsthresh;
    this.marker = undefined;
  }

  /** The episode is over and was not undone. */
  end(): void {
    this.marker = undefined;
  }
}

/** What F-RTO asks of the sender after an ACK (RFC 5682 §2-3). */
export type FrtoAction =
  /** F-RTO is not running; handle the ACK normally. */
  | 'none'
  /** Step 2b: transmit up to two new segments (whatever cwnd says) and wait for the next ACK. */
  | 'send-new'
  /** Step 2a / 3a or no new data: continue conventional RTO recovery (slow start, retransmit what is outstanding). */
  | 'conventional'
  /** Step 3a: like 'conventional', with cwnd at most 3*SMSS. */
  | 'conventional-3'
  /** Step 3b: the RTO was spurious (SpuriousRecovery = SPUR_TO); undo and go on with new data. */
  | 'spurious';

/**
 * F-RTO (RFC 5682 §2, with the SACK-enhanced step 3 of §3): after an RTO has retransmitted the
 * first unacknowledged segment, the next two ACKs tell a real loss from a spurious timeout.
 */
export class Frto {
  /** Which ACK after the RTO retransmission is awaited; 'off' when F-RTO is not running. */
  step: 'off' | 'first-ack' | 'second-ack' = 'off';
  /** RFC 5682 "recover": the highest sequence sent when the RTO fired (here: SND.NXT then). */
  recover: Seq = 0 as Seq;
  // The end of the retransmission made in step 1.
  private rtxEnd: Seq = 0 as Seq;

  /**
   * Step 1: "When the retransmission timer expires, retransmit the first unacknowledged segment
   * and set SpuriousRecovery to FALSE. Also, store the highest sequence number transmitted so far
   * in variable 'recover'." `rtxEnd` ends the retransmitted segment. Linux runs F-RTO only for the
   * first RTO of an episode or on repeated timeouts, not when the RTO strikes during fast recovery
   * (RFC 5682 §2.2 leaves this to the implementation): the caller passes `eligible`.
   */
  onRto(sndNxt: Seq, rtxEnd: Seq, eligible: boolean): void {
    this.step = eligible ? 'first-ack' : 'off';
    this.recover = sndNxt;
    this.rtxEnd = rtxEnd;
  }

  /**
   * Steps 2 and 3 on an ACK. `ack` is SEG.ACK, `advanced` whether it moved SND.UNA, `dupAck`
   * whether it is a duplicate ACK, `sackedNew` whether its SACK blocks newly cover data not
   * retransmitted since the RTO (§3), `canSendNew` whether unsent data exists and the peer's
   * window allows it.
   */
  onAck(a: { ack: Seq; advanced: boolean; dupAck: boolean; sackedNew: boolean; canSendNew: boolean }): FrtoAction {
    switch (this.step) {
      case 'off':
        return 'none';
      case 'first-ack':
        // Step 2a: "If the acknowledgment is a duplicate ACK, OR the Acknowledgment field covers
        // 'recover' but not more than 'recover', OR the acknowledgment does not acknowledge all of
        // the data that was retransmitted in step 1, revert to the conventional RTO recovery".
        if (a.dupAck || !a.advanced || seqGe(a.ack, this.recover) || seqLt(a.ack, this.rtxEnd)) {
          this.step = 'off';
          return 'conventional';
        }
        // Step 2b: "transmit up to two new (previously unsent) segments and enter step 3 ... If the
        // TCP sender does not have any new data to send ... the recommended action is to skip step
        // 3 of this algorithm and continue with slow start retransmissions".
        if (!a.canSendNew) {
          this.step = 'off';
          return 'conventional';
        }
        this.step = 'second-ack';
        return 'send-new';
      case 'second-ack':
        this.step = 'off';
        // Step 3b: "If the acknowledgment advances the window (i.e., if it acknowledges data that
        // was not retransmitted after the timeout), declare the timeout spurious"; §3 counts data
        // newly SACKed that was never retransmitted the same way.
        if ((a.advanced && seqGt(a.ack, this.rtxEnd)) || a.sackedNew) return 'spurious';
        // Step 3a: "If the acknowledgment is a duplicate ACK, set the congestion window to no more
        // than 3 * MSS, and continue with the slow start algorithm retransmitting unacknowledged segments."
        return 'conventional-3';
    }
  }

  /** Stops F-RTO (for instance when fast recovery starts). */
  cancel(): void {
    this.step = 'off';
  }
}
