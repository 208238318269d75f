// Classify, then act: the acceptability checks of RFC 9293 §3.10.7.4 (first, second, fourth and
// fifth steps) with RFC 5961's blind-attack rules and RFC 7323 §5.3's PAWS, as a pure verdict
// computed before anything changes. input.ts acts on the verdict.
import type { Instant } from '../time/instant.js';
import { type Seq, seqAdd, seqGe, seqGt, seqLe, seqLt } from './seq.js';
import type { TcpState } from './state.js';
import { TcpFlag } from '../wire/tcp.js';

/** What to do with an arriving segment in SYN-RECEIVED or a synchronized state. */
export type Verdict =
  | 'accept' // process the segment (steps six to eight)
  | 'drop' // discard silently
  | 'ack-and-drop' // not acceptable: send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and discard
  | 'challenge-ack' // RFC 5961: send a (rate-limited) challenge ACK and discard
  | 'reset'; // an acceptable RST: tear the connection down

/** The parts of a TCB that classification reads. */
export interface ClassifyTcb {
  readonly state: TcpState;
  readonly rcvNxt: Seq;
  /** RCV.WND: the window currently offered (right edge advertised minus RCV.NXT, at least 0). */
  readonly rcvWnd: number;
  readonly sndUna: Seq;
  readonly sndNxt: Seq;
  readonly maxSndWnd: number;
  readonly tsOk: boolean;
  readonly tsRecent: number;
  readonly tsRecentAt: Instant;
}

/** The parts of a segment that classification reads. */
export interface ClassifySeg {
  readonly seq: Seq;
  readonly ack: Seq;
  readonly flags: number;
  /** Payload length (SYN and FIN are added here). */
  readonly dataLen: number;
  /** TSval when a timestamps option is present. */
  readonly tsval: number | undefined;
}

/** RFC 7323 §5.5: TS.Recent is invalid after 24 days of idleness. */
export const PAWS_IDLE_LIMIT_US = 24 * 24 * 3600 * 1_000_000;

/**
 * RFC 9293 §3.10.7.4, the four cases of the acceptability test:
 *
 *   Segment Length  Receive Window  Test
 *   0               0               SEG.SEQ = RCV.NXT
 *   0               >0              RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND
 *   >0              0               not acceptable
 *   >0              >0              RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND
 *                                   or RCV.NXT =< SEG.SEQ+SEG.LEN-1 < RCV.NXT+RCV.WND
 *
 * Deviation: a segment that starts before RCV.NXT and ends beyond the window (it covers the
 * whole window) fails both tests of the last row, yet it carries exactly the octets the window
 * asks for; the same section says "If a segment's contents straddle the boundary between old
 * and new, only the new parts are processed". Like Linux (tcp_sequence: the segment must only
 * overlap [RCV.NXT, RCV.NXT+RCV.WND)) and the BSDs (tcp_input trims both ends), it is accepted
 * and trimmed. Rejecting it livelocks a sender whose retransmission is larger than a small
 * window: every copy is refused (the data-transfer property test found this, with a 2 KiB
 * window and a full-sized retransmission that doubled as a zero-window probe).
 */
export function sequenceAcceptable(rcvNxt: Seq, rcvWnd: number, segSeq: Seq, segLen: number): boolean {
  const end = seqAdd(rcvNxt, rcvWnd);
  if (segLen === 0) {
    if (rcvWnd === 0) return segSeq === rcvNxt;
    return seqLe(rcvNxt, segSeq) && seqLt(segSeq, end);
  }
  if (rcvWnd === 0) return false;
  const last = seqAdd(segSeq, segLen - 1);
  return (seqLe(rcvNxt, segSeq) && seqLt(segSeq, end)) || (seqLe(rcvNxt, last) && seqLt(last, end)) ||
    (seqLt(segSeq, rcvNxt) && seqGe(last, end));
}

/** SEG.LEN (RFC 9293 §3.4): data octets plus one each for SYN and FIN. */
export function segLength(seg: ClassifySeg): number {
  return seg.dataLen + (seg.flags & TcpFlag.SYN ? 1 : 0) + (seg.flags & TcpFlag.FIN ? 1 : 0);
}

/** RFC 7323 §5.3 R1: a segment whose TSval is older than TS.Recent is a PAWS failure (RSTs are exempt). */
export function pawsRejects(tcb: ClassifyTcb, seg: ClassifySeg, now: Instant): boolean {
  if (!tcb.tsOk || seg.tsval === undefined || seg.flags & TcpFlag.RST) return false;
  if (((seg.tsval - tcb.tsRecent) | 0) >= 0) return false;
  // RFC 7323 §5.5: "If the connection has been idle more than 24 days, ... TS.Recent ... is
  // invalid" and the segment is accepted.
  return now - tcb.tsRecentAt <= PAWS_IDLE_LIMIT_US;
}

/**
 * The verdict for a segment in SYN-RECEIVED or a synchronized state.
 *
 * `rfc5961` selects the blind-attack defences; with them off the RFC 9293 rules apply
 * unchanged (a RST anywhere in the window resets; a SYN in the window resets).
 */
export function classify(tcb: ClassifyTcb, seg: ClassifySeg, now: Instant, rfc5961: boolean): Verdict {
  const rst = (seg.flags & TcpFlag.RST) !== 0;
  const syn = (seg.flags & TcpFlag.SYN) !== 0;

  // RFC 7323 §5.3: PAWS runs before the sequence-number check.
  if (pawsRejects(tcb, seg, now)) return 'ack-and-drop';

  // First: sequence number. "If a segment's contents straddle the boundary between old and new,
  // only the new parts are processed." Unacceptable segments get an ACK unless they carry RST.
  const len = segLength(seg);
  if (!sequenceAcceptable(tcb.rcvNxt, tcb.rcvWnd, seg.seq, len)) {
    // RFC 5961 §3.2 applies to RSTs outside the window too: they are simply dropped.
    if (rst) return 'drop';
    // RFC 5961 §4.2: a SYN in a synchronized state gets a (rate-limited) challenge ACK
    // "irrespective of the sequence number", as in Linux's tcp_validate_incoming (syn_challenge).
    if (syn && rfc5961 && tcb.state !== 'SYN-RECEIVED') return 'challenge-ack';
    return 'ack-and-drop';
  }

  // Second: RST. RFC 5961 §3.2: "If the RST bit is set and the sequence number exactly matches
  // the next expected sequence number (RCV.NXT), then TCP MUST reset the connection."
  // "Otherwise (if the sequence number does not exactly match RCV.NXT but is in the window),
  // TCP MUST send an acknowledgment (challenge ACK)".
  if (rst) {
    if (!rfc5961 || seg.seq === tcb.rcvNxt) return 'reset';
    return 'challenge-ack';
  }

  // Fourth: SYN. RFC 5961 §4.2: in a synchronized state, "If the SYN bit is set, irrespective of
  // the sequence number, TCP MUST send an ACK (also referred to as challenge ACK) to the remote
  // peer". RFC 9293 without RFC 5961 resets on an in-window SYN. SYN-RECEIVED is handled by the
  // caller (a retransmitted SYN re-sends our SYN-ACK, as Linux does; another in-window SYN
  // returns a passive child to LISTEN): it is accepted here, before the fifth step would drop a
  // SYN that carries no ACK.
  if (syn) {
    if (tcb.state === 'SYN-RECEIVED') return 'accept';
    return rfc5961 ? 'challenge-ack' : 'reset';
  }

  // Fifth: ACK. "if the ACK bit is off, drop the segment and return".
  if (!(seg.flags & TcpFlag.ACK)) return 'drop';
  if (tcb.state === 'SYN-RECEIVED') return 'accept'; // the ACK range check there leads to RST (input.ts)

  // RFC 5961 §5.2: "ACK value is acceptable only if it is in the range of
  // ((SND.UNA - MAX.SND.WND) =< SEG.ACK =< SND.NXT). All incoming segments whose ACK value
  // doesn't satisfy the above condition MUST be discarded and an ACK sent back."
  if (seqGt(seg.ack, tcb.sndNxt)) return rfc5961 ? 'challenge-ack' : 'ack-and-drop';
  if (rfc5961 && seqLt(seg.ack, seqAdd(tcb.sndUna, -tcb.maxSndWnd))) return 'challenge-ack';
  return 'accept';
}

/** RFC 9293 §3.10.7.3 (SYN-SENT): an ACK is acceptable when ISS < SEG.ACK =< SND.NXT. */
export function synSentAckAcceptable(iss: Seq, sndNxt: Seq, ack: Seq): boolean {
  return seqGt(ack, iss) && seqLe(ack, sndNxt);
}

/** RFC 9293 §3.10.7.4 (SYN-RECEIVED): "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED". */
export function synRcvdAckAcceptable(sndUna: Seq, sndNxt: Seq, ack: Seq): boolean {
  return seqGt(ack, sndUna) && seqLe(ack, sndNxt);
}

/** Whether SEG.ACK acknowledges new data: SND.UNA < SEG.ACK =< SND.NXT. */
export function acksNewData(sndUna: Seq, sndNxt: Seq, ack: Seq): boolean {
  return seqGt(ack, sndUna) && seqLe(ack, sndNxt);
}

/** RFC 9293 §3.10.7.4 step five window update rule: (SND.WL1 < SEG.SEQ) or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK). */
export function windowUpdateAllowed(wl1: Seq, wl2: Seq, seq: Seq, ack: Seq): boolean {
  return seqLt(wl1, seq) || (wl1 === seq && seqGe(ack, wl2));
}

