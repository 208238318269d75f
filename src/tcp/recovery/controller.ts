// The sender's congestion and loss-recovery controller for one connection: it composes the
// algorithm (congestion/cc.ts), the scoreboard (scoreboard.ts), RFC 6675 loss recovery with PRR
// (prr.ts), RACK-TLP (rack.ts), NewReno recovery without SACK (congestion/newreno.ts), undo and
// F-RTO (undo.ts) and ECN (congestion/ecn.ts), the way Linux's tcp_ack() -> tcp_fastretrans_alert()
// -> tcp_cong_control() and tcp_enter_loss() compose them. It owns the congestion state
// (congestion/ca-state.ts). Phase 2 wires it into input.ts / output.ts / tcp.ts; the hooks and
// where they go are in docs/congestion.md.
//
// Pure: every call takes `now`; nothing is sent from here. Output asks `sendQuota()` how many
// bytes may go out and `nextSegment()` what to send, and reports each transmission through
// `onTransmit()`. Input reports each ACK through `onAck()`; the timers call `onRetransmitTimeout()`
// and `onTimer()` (RACK reordering timer and TLP probe timer, `deadline()`).
//
// Read first: RFC 5681 §3, RFC 6675 §5, RFC 6937 §3, RFC 8985 §6-7, RFC 5682 §2, RFC 3168 §6.1.2,
// then each module's file comment.
import type { Duration, Instant } from '../../time/instant.js';
import { earliest } from '../../time/instant.js';
import { type Seq, seqAdd, seqGe, seqGt } from '../seq.js';
import type { RttEstimator } from '../rtt.js';
import { type CongestionAlgorithm, type CongestionControl, type AckSample, createCongestionControl, restartWindow, initialWindow, INFINITE_SSTHRESH } from '../congestion/cc.js';
import { type CaState, caStateOf, inCwndReduction } from '../congestion/ca-state.js';
import { DUP_THRESH, NewRenoRecovery } from '../congestion/newreno.js';
import { EcnSender, type EcnSegmentKind } from '../congestion/ecn.js';
import { type NextSeg, type SackRange, type SentSegment, Scoreboard, type AckUpdate } from './scoreboard.js';
import { Prr, type PrrBound } from './prr.js';
import { RackTlp, type ProbeDecision } from './rack.js';
import { Frto, type FrtoAction, Undo } from './undo.js';

/** The smallest probe timeout: 10 ms (Linux tcp_schedule_loss_probe's floor). */
export const TLP_MIN_PTO = 10_000 as Duration;

/** How a connection's controller is set up (from the stack's TcpConfig and the socket's options). */
export interface ControllerOptions {
  /** The algorithm (TCP_CONGESTION / tcp_congestion_control). */
  algorithm: CongestionAlgorithm;
  /** SMSS in bytes. */
  mss: number;
  /** Initial window in segments (RFC 6928). */
  initialCwnd: number;
  /** SND.UNA when data transfer starts (ISS + 1). */
  sndUna: Seq;
  /** SACK was negotiated (RFC 2018 §2). Without it: NewReno recovery (RFC 6582), no RACK-TLP. */
  sack: boolean;
  /** RACK-TLP when SACK is on (Linux tcp_recovery & 1, on by default). */
  rack: boolean;
  /** F-RTO after a timeout (Linux tcp_frto, on by default). */
  frto: boolean;
  /** ECN was negotiated (RFC 3168 §6.1.1). */
  ecn: boolean;
  /** Restart from min(IW, cwnd) after an idle period longer than the RTO (RFC 5681 §4.1; Linux tcp_slow_start_after_idle). */
  slowStartAfterIdle: boolean;
  /** PRR's bound; default 'ssrb' as Linux. */
  prrBound?: PrrBound;
  /** The connection's RTT estimator (SRTT for CUBIC's target and TLP; RTO for idle restart and the PTO bound). */
  rtt: RttEstimator;
  /** When the connection was established. */
  now: Instant;
}

/** What onTransmit may be told about a transmission (output.ts fills one object in place for every segment). */
export interface TransmitInfo {
  /** NextSeg()'s rule when it chose the segment. */
  rule?: NextSeg['rule'] | undefined;
  /** A tail loss probe. */
  probe?: boolean | undefined;
  /** The segment's TSval, when timestamps are on (Eifel detection). */
  tsval?: number | undefined;
}

const NO_TRANSMIT_INFO: TransmitInfo = {};

/** What input.ts knows about one arriving ACK. */
export interface AckInfo {
  /** SEG.ACK (acceptable: SND.UNA <= SEG.ACK <= SND.NXT). */
  ack: Seq;
  /** SACK blocks in arrival order (empty without SACK). */
  sack: readonly SackRange[];
  /** A duplicate ACK by RFC 5681 §2 (no data, no SYN/FIN, SEG.ACK = SND.UNA, data outstanding, same window). */
  dupAck: boolean;
  /** The ECE flag, when ECN was negotiated. */
  ece: boolean;
  /** TSecr of the ACK (RFC 7323), undefined without timestamps. */
  tsecr: number | undefined;
  /** When the echoed TSval was sent, on our clock (for RACK's retransmission ambiguity check). */
  echoedAt: Instant | undefined;
  /** A valid RTT sample this ACK gave (RFC 6298 §3 / RFC 7323 §4), already fed to the estimator. */
  rttSample: Duration | undefined;
  /** The sender has been limited by cwnd (Linux tcp_is_cwnd_limited). */
  cwndLimited: boolean;
  /** Unsent data exists and the peer's window allows some (F-RTO step 2b). */
  canSendNew: boolean;
}

/** What the ACK changed, for counters, traces and the caller's timer handling. */
export interface AckOutcome {
  /** Bytes newly delivered (RFC 6937 DeliveredData). */
  delivered: number;
  /** Bytes newly marked lost. */
  newlyLost: number;
  /** Fast recovery began on this ACK (Linux TCPFastRetrans / TCPSackRecovery counters). */
  enteredRecovery: boolean;
  /** A reduction (recovery, loss or CWR) ended on this ACK. */
  exitedRecovery: boolean;
  /** A spurious reduction was undone (Linux TCPFullUndo / TCPDSACKUndo / TCPSpuriousRTOs). */
  undone: boolean;
  /** The RTO timer should be restarted now (RFC 6582 §3.2 step 3, first partial ACK), besides the usual restart on new data. */
  restartRto: boolean;
  /** F-RTO's decision, if it was running. */
  frto: FrtoAction;
  /** The tail loss probe turned out to have repaired a loss (Linux TCPLossProbeRecovery). */
  probeRepairedLoss: boolean;
}

/** What a fired controller timer asks for. */
export type TimerAction =
  | { kind: 'none' }
  /** RACK's reordering timer found losses: send what `nextSegment` offers. */
  | { kind: 'reo-timeout'; newlyLost: number }
  /** The TLP timer fired: send this probe (then call onTransmit with `probe: true`). */
  | { kind: 'probe'; probe: ProbeDecision };

// Argument objects for calls made on every ACK, shared by all controllers: each callee reads
// them before returning and keeps nothing (an object literal per call was ~10% of the bytes a
// bulk transfer allocated).
const NO_SACK: readonly SackRange[] = [];
const PROBE_ACK: { ack: Seq; dsack: SackRange | undefined; isDupAck: boolean; hasSack: boolean } = { ack: 0 as Seq, dsack: undefined, isDupAck: false, hasSack: false };
const ACK_SAMPLE: AckSample = { now: 0 as Instant, acked: 0, inflight: 0, cwndLimited: false, srtt: undefined };
const PTO_QUERY = { sackOk: true, inRecovery: false, segsSacked: 0, flight: 0 };
const RFC6675_RULES = { rule3: true, rescue: true };
const RACK_RULES = { rule3: false, rescue: false };

/** One connection's congestion control and loss recovery. */
export class CongestionController {
  /** The algorithm with cwnd and ssthresh. */
  readonly cc: CongestionControl;
  /** Every segment in flight with its marks. */
  readonly sb: Scoreboard;
  /** PRR for reductions with SACK. */
  readonly prr: Prr;
  /** RACK-TLP (used when SACK and RACK are on). */
  readonly rack = new RackTlp();
  /** NewReno fast recovery (used without SACK). */
  readonly newreno: NewRenoRecovery;
  /** Undo of spurious reductions. */
  readonly undo = new Undo();
  /** F-RTO after timeouts. */
  readonly frto = new Frto();
  /** The ECN sender. */
  readonly ecn: EcnSender;
  /** The congestion state. */
  state: CaState = 'open';
  /** RACK reordering timer deadline. */
  reoAt: Instant | undefined;
  /** TLP probe timer deadline. */
  ptoAt: Instant | undefined;
  /** RFC 6675 DupAcks (with SACK). */
  dupAcks = 0;
  /** Retransmission timeouts taken. */
  rtoCount = 0;
  /** Fast recoveries entered. */
  recoveries = 0;
  /** Tail loss probes sent. */
  probes = 0;
  /** Reductions undone. */
  undos = 0;
  private readonly opts: ControllerOptions;
  private readonly useRack: boolean;
  // SND.NXT when a CWR reduction began: it ends when SND.UNA reaches it.
  private cwrHigh: Seq | undefined;
  // When data was last sent (RFC 5681 §4.1 idle restart, CUBIC's idle shift).
  private lastSendAt: Instant | undefined;
  // F-RTO step 2b: new segments to send before any retransmission.
  private frtoNewSegments = 0;
  // What onAck returns, reused (valid until the next onAck on this controller).
  private readonly outcome: AckOutcome = { delivered: 0, newlyLost: 0, enteredRecovery: false, exitedRecovery: false, undone: false, restartRto: false, frto: 'none', probeRepairedLoss: false };
  // The ACK being processed, for `onDelivered` (set by onAck; one callback per controller, not a closure per ACK).
  private deliveredAck: AckInfo | undefined;
  private deliveredNow = 0 as Instant;
  // RFC 8985 §6.2 step 2's TSecr test only for segments the ACK covers cumulatively: an ACK
  // that SACKs an out-of-order segment echoes TS.Recent of the last in-order one (RFC 7323
  // §4.3: TS.Recent moves only when the segment covers Last.ACK.sent), so for a SACKed
  // retransmission (a tail loss probe above a hole) the echo always predates it and the test
  // would discard the one delivery that proves the hole lost. Such segments get the min_RTT
  // test alone, as Linux's tcp_rack_advance applies to every retransmission.
  private readonly onDelivered = (s: Readonly<SentSegment>): void => {
    const a = this.deliveredAck!;
    this.rack.onDelivered(s, this.deliveredNow, seqGe(a.ack, s.end) ? a.echoedAt : undefined);
  };

  /** A controller for a connection set up as `o` says. */
  constructor(o: ControllerOptions) {
    this.opts = o;
    this.cc = createCongestionControl(o.algorithm, { mss: o.mss, initialCwnd: o.initialCwnd, now: o.now });
    this.sb = new Scoreboard(o.sndUna, o.mss);
    this.prr = new Prr(o.prrBound ?? 'ssrb');
    this.newreno = new NewRenoRecovery(seqAdd(o.sndUna, -1));
    this.ecn = new EcnSender(o.ecn);
    this.useRack = o.sack && o.rack;
  }

  /** The SMSS changed (PMTU, RFC 9293 §3.7.1): cwnd stays in bytes, segment arithmetic follows. */
  setMss(mss: number): void {
    this.cc.mss = mss;
    this.sb.mss = mss;
  }

  /** The congestion state, from the recovery facts (for behaviour and for 'tcp-cwnd' traces). */
  get caState(): CaState {
    return this.state === 'open' || this.state === 'disorder'
      ? caStateOf({ rtoRecovery: false, fastRecovery: false, cwrReduction: false, outOfOrder: this.opts.sack ? this.sb.sackedSegs + (this.sb.lostBytes > 0 ? 1 : 0) : this.newreno.dupAcks, retransOut: this.sb.retransBytes })
      : this.state;
  }

  /** RFC 6675 pipe (with SACK) or FlightSize (without): what the network holds. */
  get pipe(): number {
    return this.opts.sack ? this.sb.pipe() : this.sb.flight;
  }

  /** The earliest controller deadline (RACK reordering timer, TLP); the RTO stays with the TCB. */
  deadline(): Instant | undefined {
    return earliest(this.reoAt, this.ptoAt);
  }

  // ------------------------------------------------------------------ output side

  /**
   * Call before sending data (output.ts, at the top of the data path). With nothing in flight,
   * RFC 5681 §4.1 restarts from min(IW, cwnd) after an idle period longer than the RTO (as Linux's
   * tcp_slow_start_after_idle_check; calling it again is harmless).
   */
  beforeTransmit(now: Instant): void {
    if (this.sb.flight !== 0 || this.lastSendAt === undefined || !this.opts.slowStartAfterIdle) return;
    const idle = (now - this.lastSendAt) as Duration;
    const iw = initialWindow(this.opts.initialCwnd, this.cc.mss);
    const restarted = restartWindow(this.cc.cwnd, idle, this.opts.rtt.rto, iw);
    if (restarted < this.cc.cwnd) {
      this.cc.cwnd = restarted;
      this.cc.cwndEvent({ kind: 'cwnd-restart' }, now);
    }
  }

  /**
   * Bytes that may be put in flight now: cwnd - pipe with SACK (RFC 6675 §5 (C): "If cwnd - pipe
   * >= 1 SMSS"); cwnd (inflated during NewReno recovery, plus RFC 3042's limited transmit) -
   * FlightSize without. The caller still applies the peer's window, Nagle and the like.
   */
  sendQuota(): number {
    if (this.frtoNewSegments > 0) return this.frtoNewSegments * this.cc.mss;
    if (this.opts.sack) return Math.max(0, this.cc.cwnd - this.sb.pipe());
    // Without SACK, segments marked lost (all of them after an RTO, the head in recovery) have
    // left the network, as Linux's tcp_packets_in_flight counts lost_out for Reno too: after a
    // timeout the loss window then retransmits in slow start instead of waiting for FlightSize
    // to drain (which cost one RTO per lost segment).
    const inFlight = this.sb.flight - this.sb.lostBytes + this.sb.retransBytes;
    return Math.max(0, this.cc.cwnd + this.newreno.limitedTransmitAllowance(this.cc.mss) - inFlight);
  }

  /**
   * What to send next: a retransmission (NextSeg rule 1, 3 or 4 during recovery) or new data
   * (rule 2, `unsent` bytes available within the peer's window). F-RTO's step 2b sends new data
   * first. Undefined when there is nothing to send.
   */
  nextSegment(unsent: number): NextSeg | undefined {
    if (this.frtoNewSegments > 0 && unsent > 0) return { rule: 2, start: this.sb.highData, len: Math.min(unsent, this.cc.mss) };
    const recovering = this.state === 'recovery';
    // Deviation: with RACK, NextSeg's rules (3) and (4) (SHOULDs) are left out, as Linux, which
    // retransmits only what RACK marked lost: the rescue retransmission would otherwise resend a
    // segment whose first retransmission is still in flight whenever the hole is the last unSACKed one.
    const rfc6675 = recovering && this.opts.sack && !this.useRack;
    return this.sb.nextSeg(unsent, rfc6675 ? RFC6675_RULES : RACK_RULES);
  }

  /** The ECN codepoint and extra flags (CWR) for a segment of `kind` (RFC 3168 §6.1.2, §6.1.5). */
  ecnFor(kind: EcnSegmentKind): { codepoint: number; flags: number } {
    return { codepoint: this.ecn.codepoint(kind), flags: this.ecn.flags(kind) };
  }

  /**
   * A data segment (or FIN) [start, start+len) went out at `now`. `rule` is NextSeg's rule when
   * it chose it; `probe` marks a TLP; `tsval` is the segment's TSval (for Eifel detection).
   */
  onTransmit(now: Instant, start: Seq, len: number, o: TransmitInfo = NO_TRANSMIT_INFO): void {
    if (len <= 0) return;
    const isRetransmit = seqGt(this.sb.highData, start);
    // The first transmission with nothing in flight tells the algorithm how long the sender was
    // idle (Linux tcp_event_data_sent, CA_EVENT_TX_START; CUBIC moves its epoch, RFC 9438 §5.8).
    if (this.sb.flight === 0 && this.lastSendAt !== undefined) this.cc.cwndEvent({ kind: 'tx-start', idle: (now - this.lastSendAt) as Duration }, now);
    this.sb.onTransmit(start, len, now, o.rule);
    this.lastSendAt = now;
    if (isRetransmit) this.undo.onRetransmit(Math.max(1, Math.ceil(len / this.cc.mss)), o.tsval);
    else if (this.frtoNewSegments > 0) this.frtoNewSegments--;
    if (inCwndReduction(this.state)) this.prr.onSend(len);
    if (o.probe === true) {
      this.probes++;
      this.rack.onProbeSent(this.sb.highData, isRetransmit);
      this.ptoAt = undefined;
    } else if (!isRetransmit) {
      this.armPto(now);
    }
  }

  // ------------------------------------------------------------------ input side

  /** An acceptable ACK arrived (after the RTT estimator was fed). See AckInfo. The outcome object is reused by the next call. */
  onAck(now: Instant, a: AckInfo): AckOutcome {
    const out = this.outcome;
    out.delivered = out.newlyLost = 0;
    out.enteredRecovery = out.exitedRecovery = out.undone = out.restartRto = out.probeRepairedLoss = false;
    out.frto = 'none';
    const priorInflight = this.pipe;
    const priorUna = this.sb.highAck;
    this.deliveredAck = a;
    this.deliveredNow = now;
    const u: AckUpdate = this.sb.onAck(a.ack, this.opts.sack ? a.sack : NO_SACK, this.useRack ? this.onDelivered : undefined);
    const cumAcked = u.cumAcked;
    const advanced = seqGt(this.sb.highAck, priorUna);
    out.delivered = u.delivered;
    if (a.rttSample !== undefined) this.rack.onRttSample(a.rttSample);
    this.cc.pktsAcked(u.delivered, a.rttSample, now);
    if (u.dsack !== undefined) this.undo.onDsack(u.dsack, this.cc.mss);
    if (this.useRack) this.rack.onAck(this.sb.highAck, this.sb.highData, u.dsack !== undefined);

    // RFC 8985 §7.4: what the ACK says about an outstanding probe.
    const probeAck = PROBE_ACK;
    probeAck.ack = a.ack;
    probeAck.dsack = u.dsack;
    probeAck.isDupAck = a.dupAck;
    probeAck.hasSack = a.sack.length > 0;
    const tlp = this.rack.onAckForProbe(probeAck);
    if (tlp === 'loss-repaired' && (this.state === 'open' || this.state === 'disorder')) {
      // Linux tcp_process_tlp_ack: a one-shot CWR reduction straight to ssthresh.
      out.probeRepairedLoss = true;
      this.cc.ssthresh = this.cc.ssthreshOnLoss(priorInflight, now);
      this.cc.cwnd = Math.max(this.cc.ssthresh, 2 * this.cc.mss);
      this.ecn.onReduction(this.sb.highData);
      this.cc.cwndEvent({ kind: 'complete-cwr' }, now);
    }

    // RFC 3168 §6.1.2: ECE starts a CWR reduction (at most once per window).
    if (this.ecn.onAck(a.ece, this.sb.highAck, this.sb.highData) && (this.state === 'open' || this.state === 'disorder')) {
      this.startReduction(now, 'cwr', priorInflight);
      this.cwrHigh = this.sb.highData;
    }

    switch (this.state) {
      case 'loss':
        this.ackInLoss(now, a, u, advanced, out);
        break;
      case 'recovery':
        this.ackInRecovery(now, a, u, advanced, out);
        break;
      case 'cwr':
        if (this.cwrHigh !== undefined && seqGe(this.sb.highAck, this.cwrHigh)) this.endReduction(now, out);
        break;
      case 'open':
      case 'disorder':
        this.ackInOpen(now, a, u, advanced, priorInflight, out);
        break;
    }

    // cwnd: PRR during a SACK reduction (RFC 6937), the algorithm's growth otherwise (RFC 5681
    // §3.1 / RFC 9438), on ACKs that acknowledge new data. NewReno recovery set cwnd itself.
    if (inCwndReduction(this.state)) {
      if (this.opts.sack || this.state === 'cwr') {
        const cwnd = this.prr.onAck({ delivered: u.delivered, pipe: this.pipe, sndUnaAdvanced: advanced, newlyLost: out.newlyLost > 0 }, this.cc.mss);
        if (cwnd !== undefined) this.cc.cwnd = cwnd;
      }
    } else if ((this.rack.reorderingSeen ? u.delivered > 0 : cumAcked > 0) && !out.undone) {
      // RFC 5681 grows cwnd on ACKs of new data; like Linux's tcp_may_raise_cwnd, once
      // reordering has been seen any forward progress (SACKed data too) counts, or a flow whose
      // data mostly arrives out of order would hardly grow at all.
      const sample = ACK_SAMPLE;
      sample.now = now;
      sample.acked = u.delivered;
      sample.inflight = priorInflight;
      sample.cwndLimited = a.cwndLimited;
      sample.srtt = this.opts.rtt.srtt;
      this.cc.congAvoid(sample);
    }

    // TLP (RFC 8985 §7.2): re-arm on an ACK that cumulatively acknowledges new data.
    if (advanced) {
      this.ptoAt = undefined;
      this.armPto(now);
    } else if (this.state !== 'open') {
      this.ptoAt = undefined;
    }
    if (this.sb.flight === 0) this.reoAt = undefined;
    return out;
  }

  private ackInOpen(now: Instant, a: AckInfo, u: AckUpdate, advanced: boolean, priorInflight: number, out: AckOutcome): void {
    // Linux tcp_try_undo_dsack: late D-SACKs covered every retransmission of the last episode.
    if (this.undo.marker !== undefined && this.undo.retrans === 0) this.doUndo(out);
    if (this.opts.sack) {
      // RFC 6675 §5: DupAcks counts duplicate ACKs carrying new SACK information; a cumulative
      // ACK resets it.
      if (advanced) this.dupAcks = 0;
      else if (u.newSackInfo) this.dupAcks++;
      let lost = 0;
      if (this.useRack) {
        const r = this.rack.detectLoss(this.sb, now, false, this.opts.rtt.srtt);
        lost = r.lost;
        this.reoAt = r.reoTimeout;
      } else {
        // RFC 6675 §5 steps (1)-(2): DupAcks >= DupThresh, or IsLost(HighACK + 1).
        lost = this.sb.markLostByDupThresh();
        if (lost === 0 && this.dupAcks >= DUP_THRESH && this.sb.lostBytes === 0) {
          lost = this.sb.markLostAt(this.sb.highAck);
        }
      }
      out.newlyLost = lost;
      if (this.sb.lostBytes > 0) {
        this.enterRecovery(now, priorInflight);
        out.enteredRecovery = true;
      } else {
        this.state = this.sb.sackedSegs > 0 || this.sb.retransBytes > 0 ? 'disorder' : 'open';
      }
      return;
    }
    // Without SACK: RFC 5681 §3.2 / RFC 6582 through NewRenoRecovery, which changes cwnd and
    // ssthresh itself on the third duplicate ACK: remember them first for a possible undo.
    const cwnd0 = this.cc.cwnd;
    const ssthresh0 = this.cc.ssthresh;
    const act = a.dupAck
      ? this.newreno.onDuplicateAck(this.cc, { sndUna: this.sb.highAck, sndNxt: this.sb.highData, flight: this.sb.flight, now })
      : advanced ? this.newreno.onNewAck(this.cc, { ack: this.sb.highAck, acked: u.cumAcked, flight: this.sb.flight }) : { kind: 'none' as const };
    if (act.kind === 'fast-retransmit') {
      this.undo.begin(this.sb.highAck, cwnd0, ssthresh0, false);
      // The head is what is lost.
      this.markHeadLost(out);
      this.sb.enterRecovery();
      this.state = 'recovery';
      this.recoveries++;
      this.ecn.onReduction(this.sb.highData);
      this.rack.cancelProbe();
      this.cc.setState('recovery', now);
      out.enteredRecovery = true;
      return;
    }
    this.state = this.newreno.dupAcks > 0 ? 'disorder' : 'open';
  }

  private ackInRecovery(now: Instant, a: AckInfo, u: AckUpdate, advanced: boolean, out: AckOutcome): void {
    const rp = this.sb.recoveryPoint ?? this.sb.highData;
    if (!this.opts.sack) {
      const act = a.dupAck
        ? this.newreno.onDuplicateAck(this.cc, { sndUna: this.sb.highAck, sndNxt: this.sb.highData, flight: this.sb.flight, now })
        : advanced ? this.newreno.onNewAck(this.cc, { ack: this.sb.highAck, acked: u.cumAcked, flight: this.sb.flight }) : { kind: 'none' as const };
      if (act.kind === 'partial-ack') {
        this.markHeadLost(out);
        out.restartRto = act.resetTimer;
      } else if (act.kind === 'full-ack') {
        if (this.undo.mayUndo(a.tsecr)) this.doUndo(out);
        this.finishRecovery(now, out, false);
      }
      return;
    }
    // RFC 6675 §5 (A): "An incoming cumulative ACK for a sequence number greater than
    // RecoveryPoint signals the end of loss recovery".
    if (seqGe(this.sb.highAck, rp)) {
      if (this.undo.mayUndo(a.tsecr)) this.doUndo(out);
      this.endReduction(now, out);
      return;
    }
    // (B): the scoreboard was updated; losses are marked by RACK or by IsLost().
    if (this.useRack) {
      const r = this.rack.detectLoss(this.sb, now, true, this.opts.rtt.srtt);
      out.newlyLost = r.lost;
      this.reoAt = r.reoTimeout;
    } else {
      out.newlyLost = this.sb.markLostByDupThresh();
    }
    // Linux tcp_try_undo_dsack: every retransmission D-SACKed, the reduction was for nothing.
    if (this.undo.mayUndo(a.tsecr) && this.undo.retrans === 0) {
      this.doUndo(out);
      this.endReduction(now, out);
    }
  }

  private ackInLoss(now: Instant, a: AckInfo, u: AckUpdate, advanced: boolean, out: AckOutcome): void {
    const sackedNew = u.newlySacked > 0;
    out.frto = this.frto.onAck({ ack: this.sb.highAck, advanced, dupAck: a.dupAck || (!advanced && u.newSackInfo), sackedNew, canSendNew: a.canSendNew });
    switch (out.frto) {
      case 'spurious':
        // RFC 5682 §3b with Linux's response (tcp_try_undo_loss(sk, true)): restore cwnd and ssthresh.
        this.doUndo(out);
        this.frtoNewSegments = 0;
        this.sb.clearLostMarks();
        this.endReduction(now, out);
        return;
      case 'send-new':
        this.frtoNewSegments = 2;
        break;
      case 'conventional-3':
        this.cc.cwnd = Math.min(this.cc.cwnd, 3 * this.cc.mss);
        this.frtoNewSegments = 0;
        break;
      case 'conventional':
      case 'none':
        this.frtoNewSegments = 0;
        break;
    }
    if (this.useRack) {
      const r = this.rack.detectLoss(this.sb, now, true, this.opts.rtt.srtt);
      out.newlyLost = r.lost;
      this.reoAt = r.reoTimeout;
    }
    if (this.undo.mayUndo(a.tsecr) && this.frto.step === 'off' && out.frto === 'none') {
      // Eifel / D-SACK after an RTO (Linux tcp_try_undo_loss).
      this.doUndo(out);
      this.sb.clearLostMarks();
      this.endReduction(now, out);
      return;
    }
    const rp = this.sb.recoveryPoint ?? this.sb.highData;
    if (seqGe(this.sb.highAck, rp)) this.endReduction(now, out);
  }

  /**
   * The retransmission timer expired (call before retransmitting; the RTO backoff stays with the
   * estimator). RFC 5681 §3.1: ssthresh from the algorithm (equation 4 for NewReno), cwnd = 1
   * SMSS (the loss window); RFC 6675 §5.1 / RFC 8985 §6.3 mark what is lost; RFC 6582 §3.2 step
   * 4; F-RTO step 1. A repeated timeout of the same episode does not lower ssthresh again.
   */
  onRetransmitTimeout(now: Instant): void {
    this.rtoCount++;
    const prior = this.state;
    const newEpisode = prior !== 'loss' || seqGe(this.sb.highAck, this.sb.recoveryPoint ?? this.sb.highAck);
    if (prior !== 'loss' && prior !== 'recovery') this.undo.begin(this.sb.highAck, this.cc.cwnd, this.cc.ssthresh, prior === 'cwr');
    if (newEpisode && prior !== 'recovery' && prior !== 'cwr') {
      this.cc.ssthresh = this.cc.ssthreshOnLoss(this.sb.flight, now);
    }
    this.cc.cwndEvent({ kind: 'loss' }, now);
    this.cc.cwnd = this.cc.mss;
    this.cc.setState('loss', now);
    if (this.useRack) this.rack.markLossesOnRto(this.sb, now);
    else this.sb.onRetransmitTimeout(true);
    this.newreno.onRetransmitTimeout(this.sb.highData);
    this.frto.onRto(this.sb.highData, seqAdd(this.sb.highAck, Math.min(this.cc.mss, this.sb.flight)), this.opts.frto && prior !== 'recovery' && prior !== 'loss');
    this.frtoNewSegments = 0;
    this.ecn.onReduction(this.sb.highData);
    this.rack.cancelProbe();
    this.ptoAt = undefined;
    this.reoAt = undefined;
    this.dupAcks = 0;
    this.state = 'loss';
  }

  /**
   * A controller deadline passed (see `deadline()`): RACK's reordering timer (RFC 8985 §6.2
   * step 5 again) or the TLP timer (§7.3). `unsent` is the new data the peer's window allows.
   */
  onTimer(now: Instant, unsent: number): TimerAction {
    if (this.reoAt !== undefined && this.reoAt <= now) {
      this.reoAt = undefined;
      const inRecovery = this.state === 'recovery' || this.state === 'loss';
      const r = this.rack.detectLoss(this.sb, now, inRecovery, this.opts.rtt.srtt);
      this.reoAt = r.reoTimeout;
      if (r.lost > 0 && (this.state === 'open' || this.state === 'disorder')) this.enterRecovery(now, this.sb.flight);
      return { kind: 'reo-timeout', newlyLost: r.lost };
    }
    if (this.ptoAt !== undefined && this.ptoAt <= now) {
      this.ptoAt = undefined;
      return { kind: 'probe', probe: this.rack.probe(unsent, this.cc.mss, this.sb) };
    }
    return { kind: 'none' };
  }

  /**
   * Marks every unSACKed segment in flight lost without a congestion reduction: the path MTU
   * shrank and they were too big (Linux tcp_simple_retransmit); output resends them at the new size.
   */
  markAllLost(): void {
    this.sb.forEachUnsacked((s) => {
      this.sb.markSegmentLost(s);
      return true;
    });
  }

  // ------------------------------------------------------------------ helpers

  private armPto(now: Instant): void {
    if (!this.useRack) return;
    const q = PTO_QUERY;
    q.inRecovery = this.state !== 'open' && this.state !== 'disorder';
    q.segsSacked = this.sb.sackedSegs;
    q.flight = this.sb.flight;
    if (!this.rack.shouldArmPto(q)) return;
    const segs = Math.ceil(this.sb.flight / this.cc.mss);
    // RFC 8985 §7.2: never later than the RTO would fire. The RTO deadline lives with the TCB;
    // now + RTO bounds it from above (the timer may have been started earlier), and 2*SRTT is
    // far below it except on the first round trips.
    const pto = this.rack.ptoDeadline(now, this.opts.rtt.srtt, segs, (now + this.opts.rtt.rto) as Instant);
    // Deviation: at least TLP_MIN_PTO after now, as Linux's tcp_schedule_loss_probe floors the
    // timeout (TCP_TIMEOUT_MIN); on a path with an SRTT near zero (in-process links) 2*SRTT would
    // otherwise probe at once, before the ACK could possibly arrive.
    this.ptoAt = Math.max(pto, now + TLP_MIN_PTO) as Instant;
  }

  private enterRecovery(now: Instant, priorInflight: number): void {
    this.recoveries++;
    this.startReduction(now, 'recovery', priorInflight);
    this.sb.enterRecovery();
    this.frto.cancel();
  }

  // Linux tcp_init_cwnd_reduction: undo record, ssthresh from the algorithm, PRR from prior cwnd.
  private startReduction(now: Instant, state: 'recovery' | 'cwr', priorInflight: number): void {
    this.undo.beginOrJoin(this.sb.highAck, this.cc.cwnd, this.cc.ssthresh, false);
    const priorCwnd = this.cc.cwnd;
    this.cc.ssthresh = this.cc.ssthreshOnLoss(priorInflight, now);
    this.prr.start(this.cc.ssthresh, priorCwnd);
    this.ecn.onReduction(this.sb.highData);
    this.rack.cancelProbe();
    this.ptoAt = undefined;
    this.state = state;
    this.cc.setState(state, now);
  }

  // Linux tcp_end_cwnd_reduction: cwnd = ssthresh after CWR or recovery (unless undone).
  private endReduction(now: Instant, out: AckOutcome): void {
    const was = this.state;
    if (!out.undone && (was === 'cwr' || was === 'recovery') && this.cc.ssthresh < INFINITE_SSTHRESH) {
      this.cc.cwnd = Math.max(this.cc.ssthresh, this.cc.mss);
    }
    this.finishRecovery(now, out, true);
  }

  private finishRecovery(now: Instant, out: AckOutcome, fromSack: boolean): void {
    const was = this.state;
    if (was === 'recovery' || was === 'loss') this.rack.onRecoveryExit();
    this.sb.exitRecovery();
    this.frto.cancel();
    this.frtoNewSegments = 0;
    this.cwrHigh = undefined;
    // The undo record outlives the episode (Linux keeps undo_marker): D-SACKs that arrive after
    // recovery ended can still show every retransmission spurious (tcp_try_undo_dsack in Open).
    this.dupAcks = 0;
    this.state = fromSack && (this.sb.sackedSegs > 0 || this.sb.lostBytes > 0) ? 'disorder' : 'open';
    this.cc.setState(this.state, now);
    this.cc.cwndEvent({ kind: 'complete-cwr' }, now);
    out.exitedRecovery = true;
  }

  private doUndo(out: AckOutcome): void {
    if (this.undo.marker === undefined) return;
    this.undo.undo(this.cc);
    this.undos++;
    out.undone = true;
  }

  // Without SACK, the segment at SND.UNA is the one presumed lost (fast retransmit, partial ACK).
  private markHeadLost(out: AckOutcome): void {
    out.newlyLost += this.sb.markLostAt(this.sb.highAck);
  }
}
