// Explicit Congestion Notification for TCP (RFC 3168 §6.1) as pure pieces: the handshake flags,
// the sender's reaction to ECE (one reduction per window of data, CWR on the next new data
// segment), which segments carry ECT(0), and the receiver's echo of CE marks. Read first:
// RFC 3168 §5 (codepoints), §6.1.1 (negotiation), §6.1.2-6.1.6 (sender and receiver rules);
// Linux's tcp_ecn sysctl (Documentation/networking/ip-sysctl.rst) and tcp_ecn_* in tcp_input.c.
// The IP layer carries the codepoint (PacketInfo.ecn in, IpLayer.transmit's `ecn` option out).
import { type Seq, seqGe } from '../seq.js';
import { TcpFlag } from '../../wire/tcp.js';

/** RFC 3168 §5 ECN field codepoints. */
export const EcnCodepoint = {
  /** Not-ECT: the transport is not ECN-capable. */
  NOT_ECT: 0b00,
  /** ECT(1). */
  ECT1: 0b01,
  /** ECT(0): what an ECN-capable TCP sets (RFC 3168 §6.1.1 allows either; Linux uses ECT(0)). */
  ECT0: 0b10,
  /** CE: congestion experienced. */
  CE: 0b11,
} as const;

/**
 * The stack-wide mode, Linux's net.ipv4.tcp_ecn: 0 never; 1 request ECN on outgoing connections
 * and accept it on incoming ones; 2 accept it when asked but never request it (Linux's default).
 */
export type EcnMode = 0 | 1 | 2;

/** Linux's default, tcp_ecn = 2. */
export const DEFAULT_ECN_MODE: EcnMode = 2;

/** RFC 3168 §6.1.1: "An 'ECN-setup SYN packet' is a SYN packet with the ECE and CWR flags set." */
export function isEcnSetupSyn(flags: number): boolean {
  return (flags & (TcpFlag.ECE | TcpFlag.CWR)) === (TcpFlag.ECE | TcpFlag.CWR);
}

/** RFC 3168 §6.1.1: "An 'ECN-setup SYN-ACK packet' is a SYN-ACK packet with the ECE flag set but the CWR flag not set." */
export function isEcnSetupSynAck(flags: number): boolean {
  return (flags & (TcpFlag.ECE | TcpFlag.CWR)) === TcpFlag.ECE;
}

/** The ECN flags for our SYN: ECE+CWR when the mode requests ECN (mode 1). */
export function synEcnFlags(mode: EcnMode): number {
  return mode === 1 ? TcpFlag.ECE | TcpFlag.CWR : 0;
}

/** The ECN flags for our SYN-ACK, given the flags of the peer's SYN: ECE alone when we accept (modes 1 and 2). */
export function synAckEcnFlags(mode: EcnMode, synFlags: number): number {
  return mode !== 0 && isEcnSetupSyn(synFlags) ? TcpFlag.ECE : 0;
}

/** Whether an active open negotiated ECN: we asked (mode 1) and the SYN-ACK is an ECN-setup SYN-ACK. */
export function ecnNegotiatedActive(mode: EcnMode, synAckFlags: number): boolean {
  return mode === 1 && isEcnSetupSynAck(synAckFlags);
}

/** Whether a passive open negotiated ECN: the SYN asked and we accept (modes 1 and 2). */
export function ecnNegotiatedPassive(mode: EcnMode, synFlags: number): boolean {
  return mode !== 0 && isEcnSetupSyn(synFlags);
}

/** What kind of segment is being sent, for the codepoint rules. */
export type EcnSegmentKind = 'syn' | 'new-data' | 'retransmission' | 'pure-ack' | 'window-probe' | 'rst';

/** The sender's ECN state for one connection (RFC 3168 §6.1.2, §6.1.4-6.1.6). */
export class EcnSender {
  /** A CWR flag is owed on the next new data segment. */
  cwrPending = false;
  // SND.NXT when cwnd was last reduced: ECE is not acted on again until SND.UNA passes it.
  private reducedUntil: Seq | undefined;

  /** A sender for a connection that negotiated ECN (`ok`); with `ok` false every method is inert. */
  constructor(readonly ok: boolean) {}

  /**
   * An ACK with or without ECE arrived. Returns true when the sender must reduce cwnd now.
   * RFC 3168 §6.1.2: ECE "should be treated just as a congestion loss in non-ECN-Capable TCP",
   * but "TCP should not react to congestion indications more than once every window of data":
   * after a reduction (for ECE or for loss, see onReduction) further ECEs are ignored until
   * everything outstanding at the time is acknowledged.
   */
  onAck(ece: boolean, sndUna: Seq, sndNxt: Seq): boolean {
    if (!this.ok) return false;
    if (this.reducedUntil !== undefined && seqGe(sndUna, this.reducedUntil)) this.reducedUntil = undefined;
    if (!ece || this.reducedUntil !== undefined) return false;
    this.onReduction(sndNxt);
    return true;
  }

  /**
   * cwnd was reduced, for ECE or for loss (fast retransmit, RTO). RFC 3168 §6.1.2: "When an
   * ECN-Capable TCP sender reduces its congestion window for any reason ... the TCP sender sets
   * the CWR flag in the TCP header of the first new data packet sent after the window reduction."
   */
  onReduction(sndNxt: Seq): void {
    if (!this.ok) return;
    this.reducedUntil = sndNxt;
    this.cwrPending = true;
  }

  /**
   * The ECN codepoint for a segment of this kind. ECT(0) on new data only: RFC 3168 §6.1.1
   * forbids ECT on SYN and SYN-ACK, §6.1.4 on pure ACKs, §6.1.5 "MUST NOT set either ECT codepoint
   * ... for retransmitted data packets", §6.1.6 on window probes; RSTs are not data either.
   */
  codepoint(kind: EcnSegmentKind): number {
    return this.ok && kind === 'new-data' ? EcnCodepoint.ECT0 : EcnCodepoint.NOT_ECT;
  }

  /** The extra TCP flags for a segment of this kind: CWR on the first new data segment after a reduction (consumed). */
  flags(kind: EcnSegmentKind): number {
    if (!this.cwrPending || kind !== 'new-data') return 0;
    this.cwrPending = false;
    return TcpFlag.CWR;
  }
}

/** The receiver's ECN state for one connection (RFC 3168 §6.1.3). */
export class EcnReceiver {
  /** ECE is being set on every ACK until a CWR arrives. */
  echoing = false;

  /** A receiver for a connection that negotiated ECN (`ok`). */
  constructor(readonly ok: boolean) {}

  /**
   * An acceptable segment arrived with IP codepoint `codepoint` and TCP `flags`. RFC 3168 §6.1.3:
   * "the TCP receiver sets the ECN-Echo flag in a series of ACK packets until it receives a CWR
   * packet"; a CWR stops the echo and a CE in the same segment starts it again (Linux
   * tcp_ecn_accept_cwr then tcp_ecn_check_ce). Returns true on CE: acknowledge at once (Linux
   * enters quick-ACK mode so the sender learns quickly).
   */
  onSegment(codepoint: number, flags: number, carriesData: boolean): boolean {
    if (!this.ok) return false;
    if (flags & TcpFlag.CWR && carriesData) this.echoing = false;
    if ((codepoint & 0b11) === EcnCodepoint.CE) {
      this.echoing = true;
      return true;
    }
    return false;
  }

  /** The ECE flag for the next ACK we send. */
  ackFlags(): number {
    return this.echoing ? TcpFlag.ECE : 0;
  }
}
