// SEGMENT ARRIVES (RFC 9293 §3.10.7) for a connection that exists: SYN-SENT (§3.10.7.3) and the
// other states (§3.10.7.4) in the RFC's order: sequence number, RST, SYN, ACK, URG, text, FIN.
// LISTEN and CLOSED (no TCB) are handled by the TcpLayer. classify.ts decides acceptability;
// this file acts on the verdict.
import type { Duration, Instant } from '../time/instant.js';
import { type Seq, seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, seqMin } from './seq.js';
import type { AckInfo } from './recovery/controller.js';
import { TcpFlag, type TcpRepr } from '../wire/tcp.js';
import { type ClassifySeg, classify, synSentAckAcceptable, synRcvdAckAcceptable, acksNewData, windowUpdateAllowed } from './classify.js';
import { acceptsText } from './state.js';
import { type Tcb, Ready } from './tcb.js';
import type { TcpLayer } from './tcp.js';
import { fastOpenSynAckArrived } from './fastopen.js';
import { emit, sendAck, sendChallengeAck, sendResetFor, sendActiveReset, tsClock, tsVal } from './output.js';
import { initRcvSpace, rcvRttMeasure, sndBufExpand } from './autotune.js';
import { EcnReceiver, ecnNegotiatedActive, ecnNegotiatedPassive } from './congestion/ecn.js';

/** The classify view of a parsed segment, reused per layer (no allocation per segment). */
function segView(tcp: TcpLayer, seg: TcpRepr): ClassifySeg {
  const v = tcp.scratchSeg;
  v.seq = seg.seq;
  v.ack = seg.ack;
  v.flags = seg.flags;
  v.dataLen = seg.payload.length;
  v.tsval = seg.options.timestamp?.tsval;
  return v;
}

/** Processes a segment for an existing connection. The caller runs `output` afterwards. */
export function segmentArrives(tcp: TcpLayer, tcb: Tcb, seg: TcpRepr, now: Instant): void {
  switch (tcb.state) {
    case 'SYN-SENT':
      synSent(tcp, tcb, seg, now);
      return;
    case 'CLOSED':
    case 'LISTEN':
    case 'TIME-WAIT': // TIME-WAIT lives in compact records (timewait.ts), never in the TCB table
      tcp.countDrop('closed-tcb');
      return;
    case 'SYN-RECEIVED':
    case 'ESTABLISHED':
    case 'FIN-WAIT-1':
    case 'FIN-WAIT-2':
    case 'CLOSE-WAIT':
    case 'CLOSING':
    case 'LAST-ACK':
      otherStates(tcp, tcb, seg, now);
      return;
  }
}

/** Takes the options of a SYN or SYN-ACK into the TCB (RFC 9293 §3.7.1, RFC 7323 §2-3, RFC 2018 §2). */
export function negotiateOptions(tcp: TcpLayer, tcb: Tcb, seg: TcpRepr, now: Instant): void {
  const o = seg.options;
  const cfg = tcp.config;
  // RFC 9293 §3.7.1 (MUST-15): "If an MSS Option is not received at connection setup, TCP
  // implementations MUST assume a default send MSS of 536 (576 - 40) for IPv4 or 1220 (1280 - 60)
  // for IPv6."
  tcb.peerMss = o.mss !== undefined && o.mss > 0 ? o.mss : tcb.remote.family === 4 ? 536 : 1220;
  // RFC 7323 §2.2: scaling is used only when both SYNs carry the option; §2.3: shifts above 14
  // are treated as 14.
  if (cfg.windowScaling && o.wscale !== undefined) {
    tcb.wsOk = true;
    tcb.sndWscale = Math.min(o.wscale, 14);
    tcb.rcvWscale = tcb.wantRcvWscale;
  } else {
    tcb.wsOk = false;
    tcb.sndWscale = 0;
    tcb.rcvWscale = 0;
  }
  tcb.sackOk = cfg.sack && o.sackPermitted === true;
  // RFC 3168 §6.1.1: ECN is used when the SYN was an ECN-setup SYN and the SYN-ACK an ECN-setup
  // SYN-ACK; tcp_ecn decides whether we ask (1) or only accept (1 and 2).
  tcb.ecnOk = seg.flags & TcpFlag.ACK ? ecnNegotiatedActive(cfg.ecn, seg.flags) : ecnNegotiatedPassive(cfg.ecn, seg.flags);
  tcb.ecnRcv = new EcnReceiver(tcb.ecnOk);
  if (cfg.timestamps && o.timestamp !== undefined) {
    tcb.tsOk = true;
    tcb.tsRecent = o.timestamp.tsval;
    tcb.tsRecentAt = now;
  } else {
    tcb.tsOk = false;
  }
  tcp.updateMss(tcb);
}

/** RFC 9293 §3.10.7.3: SEGMENT ARRIVES in SYN-SENT. */
function synSent(tcp: TcpLayer, tcb: Tcb, seg: TcpRepr, now: Instant): void {
  const f = seg.flags;
  const hasAck = (f & TcpFlag.ACK) !== 0;
  // First: "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless the RST bit is set, if
  // so drop the segment and return) <SEQ=SEG.ACK><CTL=RST> and discard the segment."
  if (hasAck && !synSentAckAcceptable(tcb.iss, tcb.sndNxt, seg.ack)) {
    tcp.countDrop('syn-sent:bad-ack');
    sendResetFor(tcp, tcb.local, tcb.remote, seg, now);
    return;
  }
  // Second: RST. "If the ACK was acceptable, then signal to the user 'error: connection reset',
  // drop the segment, enter CLOSED state". RFC 5961 §3.2 accepts it in SYN-SENT when the ACK
  // acknowledges the SYN. "Otherwise (no ACK), drop the segment and return."
  if (f & TcpFlag.RST) {
    if (hasAck) tcp.fail(tcb, 'ECONNREFUSED', 'RST in SYN-SENT', now);
    else tcp.countDrop('syn-sent:rst-without-ack');
    return;
  }
  // Fourth: SYN.
  if (!(f & TcpFlag.SYN)) {
    tcp.countDrop('syn-sent:no-syn');
    return;
  }
  tcb.irs = seg.seq;
  tcb.rcvNxt = seqAdd(seg.seq, 1);
  tcb.rcvAdv = tcb.rcvNxt;
  tcb.lastRecvAt = now;
  negotiateOptions(tcp, tcb, seg, now);
  // RFC 7323 §2.2: the window of a SYN is never scaled.
  tcb.sndWnd = seg.window;
  tcb.maxSndWnd = Math.max(tcb.maxSndWnd, tcb.sndWnd);
  tcb.sndWl1 = seg.seq;
  tcb.sndWl2 = seg.ack;
  if (hasAck) {
    // "SND.UNA should be advanced to equal SEG.ACK ... If SND.UNA > ISS (our SYN has been ACKed),
    // change the connection state to ESTABLISHED, form an ACK segment <SEQ=SND.NXT><ACK=RCV.NXT>
    // <CTL=ACK> and send it."
    handshakeRtt(tcp, tcb, seg, now);
    tcb.bytesAcked += seqDiff(seg.ack, tcb.sndUna); // our SYN (tcp_info statistics)
    tcb.sndUna = seg.ack;
    // RFC 7413 §4.2.2: Fast Open caches the server's cookie, and resends SYN data the SYN-ACK did
    // not acknowledge (src/tcp/fastopen.ts).
    if (tcb.fastOpen !== undefined) fastOpenSynAckArrived(tcp, tcb, seg, now);
    tcb.rtxAt = undefined;
    tcb.retransmits = 0;
    tcb.firstRetransmitAt = undefined;
    tcp.setState(tcb, 'ESTABLISHED', 'SYN+ACK received', now);
    tcb.ackNow = true;
    tcp.notify(tcb, Ready.WRITABLE);
    // RFC 9293: "If there are other controls or text in the segment then continue processing at
    // the sixth step below where the URG bit is checked". Deviation: like Linux without Fast Open
    // (tcp_rcv_synsent_state_process acks the SYN and frees the segment), text and FIN in a
    // SYN-ACK are discarded; our ACK covers only the SYN, so the peer sends them again.
    if (seg.payload.length > 0 || f & TcpFlag.FIN) tcp.countDrop('syn-sent:text-in-syn-ack');
    return;
  }
  // Simultaneous open: "Otherwise, enter SYN-RECEIVED, form a SYN,ACK segment
  // <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and send it." Text is left for the peer to retransmit.
  tcp.setState(tcb, 'SYN-RECEIVED', 'SYN received in SYN-SENT (simultaneous open)', now);
  emit(tcp, tcb, TcpFlag.SYN | TcpFlag.ACK, tcb.iss, 0, now);
}

/** An RTT sample from the handshake (RFC 6298 §2 with Karn's rule; RFC 7323 §4 with timestamps). */
function handshakeRtt(tcp: TcpLayer, tcb: Tcb, seg: TcpRepr, now: Instant): void {
  const ts = seg.options.timestamp;
  let sampled = false;
  if (tcb.tsOk && ts !== undefined && ts.tsecr !== 0) {
    sampled = rttFromTsecr(tcb, ts.tsecr, now) !== undefined;
  } else if (tcb.retransmits === 0 && tcb.rttSeq !== undefined) {
    tcb.rtt.sample((now - tcb.rttSentAt) as never);
    sampled = true;
  }
  // RFC 6298 §5.7: "If the timer expires awaiting the ACK of a SYN segment and the TCP
  // implementation is using an RTO less than 3 seconds, the RTO MUST be re-initialized to 3
  // seconds when data transmission begins" (when no valid sample was taken).
  if (!sampled && tcb.retransmits > 0) tcb.rtt.synRetransmitted();
  tcb.rttSeq = undefined;
  tcp.traceCwnd(tcb, now);
}

/** RFC 7323 §4.1: RTTM from the echoed timestamp (1 ms clock). Returns the sample fed to the estimator, if any. */
function rttFromTsecr(tcb: Tcb, tsecr: number, now: Instant): Duration | undefined {
  const echo = (tsecr - tcb.tsOffset) >>> 0;
  // Deviation (from RFC 7323 §4 and Linux's tcp_ack_update_rtt): while data we retransmitted is
  // unacknowledged, an echo older than the first of those retransmissions is no sample. When our
  // ACK of a segment is lost and we retransmit it, the peer answers the duplicate with TS.Recent,
  // the timestamp of the copy that arrived first, so "now - TSecr" counts our whole backoff as
  // round-trip time; RFC 7323 §4.3 calls that overestimate conservative, but under heavy loss (the
  // property test) one such sample could multiply the RTO tenfold and let tcp_retries2 or an
  // orphan's limit kill a live connection. An echo of a retransmission, or of anything sent
  // after the first one, is still a sample.
  if (tcb.rtxSince !== undefined && ((echo - tsClock(tcb.rtxSince)) | 0) < 0) return undefined;
  const ms = (tsClock(now) - echo) | 0;
  if (ms < 0) return undefined;
  const sample = (Math.max(ms, 1) * 1000) as Duration;
  tcb.rtt.sample(sample);
  return sample;
}

/** RFC 9293 §3.10.7.4: SEGMENT ARRIVES in SYN-RECEIVED and the synchronized states. */
function otherStates(tcp: TcpLayer, tcb: Tcb, seg: TcpRepr, now: Instant): void {
  const f = seg.flags;
  // Linux (tcp_check_req): a retransmitted SYN in SYN-RECEIVED means our SYN-ACK was lost; send
  // it again instead of the plain ACK the RFC's sequence check would produce.
  // Like Linux's inet_rtx_syn_ack, this counts as a retransmission and restarts the SYN-ACK timer.
  if (tcb.state === 'SYN-RECEIVED' && f & TcpFlag.SYN && !(f & (TcpFlag.ACK | TcpFlag.RST)) && seg.seq === tcb.irs) {
    emit(tcp, tcb, TcpFlag.SYN | TcpFlag.ACK, tcb.iss, 0, now);
    tcp.counters.RetransSegs++;
    tcp.traceRetransmit(tcb, tcb.iss, 0, now);
    tcb.retransmits++;
    tcb.rtxAt = (now + tcb.rtt.rto) as Instant;
    tcp.arm(tcb);
    return;
  }
  // Linux (tcp_validate_incoming, "goto pass"): in a simultaneous open the peer's SYN-ACK repeats
  // the SYN we already took (SEG.SEQ+1 = RCV.NXT) and acknowledges ours (SEG.ACK = SND.NXT). RFC
  // 9293 §3.5 Figure 8 (line 6) enters ESTABLISHED on it, but the §3.10.7.4 sequence test finds
  // it unacceptable (it ends at RCV.NXT) and would only ACK it; like Linux, it is taken as the ACK
  // that completes the open, and acknowledged.
  const simOpenSynAck = tcb.state === 'SYN-RECEIVED' && tcb.active &&
    (f & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST | TcpFlag.FIN)) === (TcpFlag.SYN | TcpFlag.ACK) &&
    seg.payload.length === 0 && seqAdd(seg.seq, 1) === tcb.rcvNxt && seg.ack === tcb.sndNxt;
  const view = tcp.classifyView(tcb);
  const verdict = simOpenSynAck ? 'accept' : classify(view, segView(tcp, seg), now, tcp.config.rfc5961);
  switch (verdict) {
    case 'drop':
      tcp.countDrop(f & TcpFlag.RST ? 'rst-out-of-window' : 'unacceptable');
      return;
    case 'ack-and-drop':
      tcp.countDrop('unacceptable-acked');
      // Old data again: our ACK was probably lost. Report it with a D-SACK (RFC 2883 §4) and
      // acknowledge promptly from now on, as Linux's tcp_send_dupack does.
      if (seg.payload.length > 0 && seqLt(seg.seq, tcb.rcvNxt)) {
        duplicateReceived(tcp, tcb, seg.seq, seqMin(seqAdd(seg.seq, seg.payload.length), tcb.rcvNxt));
      }
      sendAck(tcp, tcb, now);
      return;
    case 'challenge-ack':
      tcp.countDrop(f & TcpFlag.RST ? 'rst-challenged' : f & TcpFlag.SYN ? 'syn-challenged' : 'ack-challenged');
      sendChallengeAck(tcp, tcb, now);
      return;
    case 'reset':
      // Without RFC 5961, an in-window SYN in a synchronized state is an error: "send a reset"
      // (RFC 9293 §3.10.7.4 fourth step, as RFC 793 had it), then tear down as for a RST.
      if (!(f & TcpFlag.RST)) sendActiveReset(tcp, tcb, now);
      reset(tcp, tcb, now);
      return;
    case 'accept':
      break;
  }
  tcb.lastRecvAt = now;
  tcb.keepaliveProbes = 0;
  if (tcb.keepaliveAt !== undefined) tcp.armKeepalive(tcb, now);
  // RFC 3168 §6.1.3: a CE mark is echoed with ECE until the sender's CWR; ACK it at once.
  if (tcb.ecnRcv.onSegment(tcp.rxEcn, f, seg.payload.length > 0)) tcb.ackNow = true;

  // RFC 7323 §4.3: "If SEG.TSval >= TS.Recent and SEG.SEQ =< Last.ACK.sent then SEG.TSval is
  // copied to TS.Recent".
  const ts = seg.options.timestamp;
  if (tcb.tsOk && ts !== undefined && seqLe(seg.seq, tcb.rcvNxt) && ((ts.tsval - tcb.tsRecent) | 0) >= 0) {
    tcb.tsRecent = ts.tsval;
    tcb.tsRecentAt = now;
  }

  if (f & TcpFlag.SYN && !simOpenSynAck) {
    // Only SYN-RECEIVED gets here (classify challenges SYNs in synchronized states). RFC 9293:
    // "If the connection was initiated with a passive OPEN, then return this connection to the
    // LISTEN state and return."
    if (!tcb.active) {
      tcp.dropChild(tcb, 'SYN in SYN-RECEIVED', now);
    } else {
      sendChallengeAck(tcp, tcb, now);
    }
    return;
  }

  // Fifth: ACK.
  if (tcb.state === 'SYN-RECEIVED') {
    if (!synRcvdAckAcceptable(tcb.sndUna, tcb.sndNxt, seg.ack)) {
      // "If the segment acknowledgment is not acceptable, form a reset segment
      // <SEQ=SEG.ACK><CTL=RST> and send it."
      tcp.countDrop('syn-received:bad-ack');
      sendResetFor(tcp, tcb.local, tcb.remote, seg, now);
      return;
    }
    if (!tcp.completePassiveOpen(tcb, now, seg)) return; // accept queue full: the ACK is dropped
    tcb.sndWnd = seg.window << tcb.sndWscale;
    tcb.maxSndWnd = Math.max(tcb.maxSndWnd, tcb.sndWnd);
    tcb.sndWl1 = seg.seq;
    tcb.sndWl2 = seg.ack;
    handshakeRtt(tcp, tcb, seg, now);
    if (simOpenSynAck) tcb.ackNow = true;
  }
  if (!ackArrives(tcp, tcb, seg, now)) return;

  // Sixth: URG. Urgent data is acknowledged as ordinary data and not signalled out of band
  // (documented in docs/conformance.md).
  textAndFin(tcp, tcb, seg, now);
}

/**
 * The ACK processing of the fifth step for ESTABLISHED and later states. Returns false when the
 * segment has been fully handled (the connection closed).
 */
function ackArrives(tcp: TcpLayer, tcb: Tcb, seg: TcpRepr, now: Instant): boolean {
  const ack = seg.ack;
  tcb.probesOut = 0; // the peer is alive: zero-window probing starts counting again (Linux's tcp_ack)
  // RFC 5681 §2 DUPLICATE ACKNOWLEDGMENT: no data, no SYN/FIN, SEG.ACK = SND.UNA with data
  // outstanding, and the same advertised window (judged before the window update below).
  const dupAck = ack === tcb.sndUna && seg.payload.length === 0 && !(seg.flags & (TcpFlag.SYN | TcpFlag.FIN)) &&
    tcb.flight > 0 && (seg.window << tcb.sndWscale) === tcb.sndWnd;
  const acceptable = seqLe(tcb.sndUna, ack) && seqLe(ack, tcb.sndNxt);
  let rttSample: Duration | undefined;
  if (acksNewData(tcb.sndUna, tcb.sndNxt, ack)) rttSample = newAck(tcp, tcb, seg, now);
  // "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be updated. If (SND.WL1 < SEG.SEQ
  // or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK)), set SND.WND <- SEG.WND, set SND.WL1 <-
  // SEG.SEQ, and set SND.WL2 <- SEG.ACK."
  if (seqLe(tcb.sndUna, ack) && seqLe(ack, tcb.sndNxt) && windowUpdateAllowed(tcb.sndWl1, tcb.sndWl2, seg.seq, ack)) {
    const wnd = seg.window << tcb.sndWscale;
    const opened = tcb.sndWnd === 0 && wnd > 0;
    tcb.sndWnd = wnd;
    tcb.sndWl1 = seg.seq;
    tcb.sndWl2 = ack;
    if (wnd > tcb.maxSndWnd) tcb.maxSndWnd = wnd;
    if (opened) {
      tcb.persistAt = undefined;
      tcb.probes = 0;
    }
  }
  if (acceptable) congestionAck(tcp, tcb, seg, dupAck, rttSample, now);
  switch (tcb.state) {
    case 'FIN-WAIT-1':
      // "In addition to the processing for the ESTABLISHED state, if the FIN segment is now
      // acknowledged, then enter FIN-WAIT-2 and continue processing in that state."
      if (tcb.finAcked) {
        tcp.setState(tcb, 'FIN-WAIT-2', 'our FIN acknowledged', now);
        if (tcb.orphan) tcp.armFinWait2(tcb, now);
      }
      return true;
    case 'CLOSING':
      // "if the ACK acknowledges our FIN, then enter the TIME-WAIT state; otherwise, ignore".
      if (tcb.finAcked) tcp.enterTimeWait(tcb, 'our FIN acknowledged in CLOSING', now);
      return true;
    case 'LAST-ACK':
      // "If our FIN is now acknowledged, delete the TCB, enter the CLOSED state, and return."
      if (tcb.finAcked) {
        tcp.destroy(tcb, 'our FIN acknowledged in LAST-ACK', now);
        return false;
      }
      return true;
    case 'ESTABLISHED':
    case 'FIN-WAIT-2':
    case 'CLOSE-WAIT':
    case 'TIME-WAIT':
    case 'SYN-RECEIVED':
      return true;
    case 'CLOSED':
    case 'LISTEN':
    case 'SYN-SENT':
      return false;
  }
}

/**
 * SND.UNA < SEG.ACK =< SND.NXT: free acknowledged bytes, measure RTT, restart the timer. Returns
 * the RTT sample taken, if any (congestion control runs afterwards, in congestionAck).
 */
function newAck(tcp: TcpLayer, tcb: Tcb, seg: TcpRepr, now: Instant): Duration | undefined {
  const ack = seg.ack;
  const ackedSeq = seqDiff(ack, tcb.sndUna);
  // Free acknowledged data (the SYN and FIN occupy sequence space but no buffer).
  const dataEnd = seqMin(ack, tcb.sndEnd);
  const freed = seqDiff(dataEnd, tcb.sndBase);
  if (freed > 0) {
    tcb.sndBuf.consume(freed);
    tcb.sndBase = seqAdd(tcb.sndBase, freed);
  }
  tcb.sndUna = ack;
  // Everything retransmitted is acknowledged: echoes are unambiguous again (rttFromTsecr), after
  // this ACK's own sample.
  const rtxDone = tcb.rtxHigh !== undefined && seqGe(ack, tcb.rtxHigh);
  rateSample(tcb, ackedSeq, now);

  // RTT: timestamps (RFC 7323 §4.1: the echo names the copy that arrived, so an ACK of a
  // retransmission is a valid sample too, as Linux's tcp_ack_update_rtt takes it) or the one timed
  // segment (RFC 6298 §3, Karn's algorithm: never a retransmitted one).
  // RFC 6298 §5: the backed-off RTO stays until "a new RTT measurement is obtained", which
  // "may result in 'collapsing' RTO back down" (rtt.sample clears the backoff); an ACK of only
  // retransmitted data keeps it, as Linux resets icsk_backoff only on a valid sample.
  const ts = seg.options.timestamp;
  let sample: Duration | undefined;
  if (tcb.tsOk && ts !== undefined && ts.tsecr !== 0) {
    sample = rttFromTsecr(tcb, ts.tsecr, now);
  } else if (tcb.rttSeq !== undefined && seqGe(ack, tcb.rttSeq)) {
    if (tcb.retransmits === 0) {
      sample = (now - tcb.rttSentAt) as Duration;
      tcb.rtt.sample(sample);
    }
    tcb.rttSeq = undefined;
  }
  if (rtxDone) tcb.rtxSince = tcb.rtxHigh = undefined;
  tcb.retransmits = 0;
  tcb.firstRetransmitAt = undefined;
  tcb.probes = 0;
  // RFC 6298 §5.2-5.3: stop the timer when everything is acknowledged, else restart it.
  tcb.rtxAt = tcb.flight === 0 ? undefined : ((now + tcb.rtt.rto) as Instant);
  if (tcb.rtxAt !== undefined) tcp.arm(tcb);

  sndBufExpand(tcb, tcp.config); // room for two congestion windows (autotune.ts)
  if (tcb.sndBuf.free > 0) tcp.notify(tcb, Ready.WRITABLE);
  return sample;
}

// The controller's view of each ACK, filled in place (read during onAck, kept by nothing).
const ACK_INFO: AckInfo = { ack: 0 as Seq, sack: [], dupAck: false, ece: false, tsecr: undefined, echoedAt: undefined, rttSample: undefined, cwndLimited: false, canSendNew: false };

/**
 * Congestion control and loss recovery for an acceptable ACK (SND.UNA =< SEG.ACK =< SND.NXT,
 * duplicates and SACK-only ACKs included): the controller (src/tcp/recovery/controller.ts) does
 * SACK processing, RACK, NewReno or RFC 6675 recovery, PRR, undo, F-RTO, ECE and cwnd growth.
 * What it marks lost is retransmitted by the output() that follows every segment.
 */
function congestionAck(tcp: TcpLayer, tcb: Tcb, seg: TcpRepr, dupAck: boolean, rttSample: Duration | undefined, now: Instant): void {
  if (tcb.cc === undefined && seg.ack === tcb.sndNxt && (seg.flags & TcpFlag.ECE) === 0 && (seg.options.sack === undefined || !tcb.sackOk)) {
    // No data sent yet (sending creates the controller), and this ACK has nothing for a
    // controller to act on: no ECE, no SACK blocks, nothing outstanding to acknowledge (the
    // handshake's last ACK, or an idle connection's keepalive answer). The controller is not
    // built for it (its scoreboard, recovery and algorithm state are ~1 KB per connection that
    // an idle connection would keep for nothing); the only thing it would take from this ACK,
    // an RTT sample for RACK's and CUBIC's min_RTT, is kept for it (TcpLayer.controller).
    if (rttSample !== undefined && (tcb.minRttBeforeCc === undefined || rttSample < tcb.minRttBeforeCc)) tcb.minRttBeforeCc = rttSample;
    tcp.arm(tcb);
    tcp.traceCwnd(tcb, now);
    return;
  }
  const cc = tcp.controller(tcb, now);
  // The scoreboard starts after the SYN; an ACK of the SYN alone is nothing to it.
  if (seqLt(seg.ack, cc.sb.highAck)) return;
  const ts = tcb.tsOk ? seg.options.timestamp : undefined;
  let echoedAt: Instant | undefined;
  if (ts !== undefined && ts.tsecr !== 0) {
    // When the echoed TSval was sent, on our clock (1 ms granularity, rounded down).
    const ms = (tsClock(now) - ((ts.tsecr - tcb.tsOffset) >>> 0)) | 0;
    if (ms >= 0) echoedAt = Math.max(0, Math.floor(now / 1000) * 1000 - ms * 1000) as Instant;
  }
  const wndEdge = seqAdd(tcb.sndUna, tcb.sndWnd);
  const canSendNew = seqDiff(tcb.sndEnd, tcb.sndNxt) > 0 && seqGt(wndEdge, tcb.sndNxt);
  const blocks = tcb.sackOk ? seg.options.sack ?? [] : [];
  const ranges = tcp.sackRanges;
  for (let i = 0; i < blocks.length; i++) {
    const r = ranges[i] ?? (ranges[i] = { start: 0 as Seq, end: 0 as Seq });
    r.start = blocks[i]!.left;
    r.end = blocks[i]!.right;
  }
  if (tcp.sackView.length !== blocks.length) tcp.sackView = ranges.slice(0, blocks.length);
  const a = ACK_INFO;
  a.ack = seg.ack;
  a.sack = tcp.sackView;
  a.dupAck = dupAck;
  a.ece = tcb.ecnOk && (seg.flags & TcpFlag.ECE) !== 0;
  a.tsecr = ts?.tsecr;
  a.echoedAt = echoedAt;
  a.rttSample = rttSample;
  a.cwndLimited = tcb.cwndLimited;
  a.canSendNew = canSendNew;
  const out = cc.onAck(now, a);
  const c = tcp.counters;
  if (out.enteredRecovery) {
    c.TCPFastRetrans++;
    if (tcb.sackOk) c.TCPSackRecovery++;
    else c.TCPRenoRecovery++;
  }
  if (out.probeRepairedLoss) c.TCPLossProbeRecovery++;
  if (out.undone) {
    if (out.frto === 'spurious') c.TCPSpuriousRTOs++;
    else c.TCPDSACKUndo++;
  }
  if (out.restartRto && tcb.flight > 0) tcb.rtxAt = (now + tcb.rtt.rto) as Instant;
  tcp.arm(tcb); // RTO, and the controller's RACK / TLP deadlines
  tcp.traceCwnd(tcb, now);
}

/**
 * Statistics for tcp_info (src/trace/stats.ts), nothing TCP decides on: bytes acknowledged, and a
 * delivery-rate sample over at least one smoothed RTT. After an idle spell (nothing in flight)
 * the interval restarts one RTT before this ACK, about when the data it acknowledges was sent,
 * so idle time does not dilute the rate (Linux's rate samples leave it out too, tcp_rate.c). As
 * in Linux's tcp_rate_gen, a sample taken while the application had nothing more to send
 * (app-limited) replaces the last one only if it is higher.
 */
function rateSample(tcb: Tcb, acked: number, now: Instant): void {
  const before = tcb.bytesAcked;
  tcb.bytesAcked += acked;
  const srtt = tcb.rtt.srtt ?? 0;
  if (tcb.rateStartBytes < 0) {
    tcb.rateStartAt = Math.max(0, now - srtt) as Instant;
    tcb.rateStartBytes = before;
  }
  const elapsed = now - tcb.rateStartAt;
  if (elapsed > 0 && elapsed >= srtt) {
    const rate = Math.round(((tcb.bytesAcked - tcb.rateStartBytes) * 1e6) / elapsed);
    const appLimited = seqDiff(tcb.sndEnd, tcb.sndNxt) <= 0;
    if (!appLimited || rate >= tcb.deliveryRate) tcb.deliveryRate = rate;
    tcb.rateStartAt = now;
    tcb.rateStartBytes = tcb.bytesAcked;
  }
  if (tcb.flight === 0) tcb.rateStartBytes = -1;
}

/** An acceptable RST (RFC 9293 §3.10.7.4 second step, with Linux's error codes from tcp_reset). */
function reset(tcp: TcpLayer, tcb: Tcb, now: Instant): void {
  switch (tcb.state) {
    case 'SYN-RECEIVED':
      // "If this connection was initiated with a passive OPEN ... then return this connection to
      // LISTEN state and return. ... If this connection was initiated with an active OPEN ...
      // then the connection was refused".
      if (tcb.active) tcp.fail(tcb, 'ECONNREFUSED', 'RST in SYN-RECEIVED', now);
      else tcp.dropChild(tcb, 'RST in SYN-RECEIVED', now);
      return;
    case 'ESTABLISHED':
    case 'FIN-WAIT-1':
    case 'FIN-WAIT-2':
      tcp.fail(tcb, 'ECONNRESET', `RST in ${tcb.state}`, now);
      return;
    case 'CLOSE-WAIT':
      // Linux (tcp_reset): the user has seen EOF already; further writes fail with EPIPE.
      tcp.fail(tcb, 'EPIPE', 'RST in CLOSE-WAIT', now);
      return;
    case 'CLOSING':
    case 'LAST-ACK':
      // "enter the CLOSED state, delete the TCB, and return".
      tcp.destroy(tcb, `RST in ${tcb.state}`, now);
      return;
    case 'TIME-WAIT': // handled by the TIME-WAIT record (timewait.ts), with RFC 1337
    case 'CLOSED':
    case 'LISTEN':
    case 'SYN-SENT':
      return;
  }
}

/** Steps seven (segment text) and eight (FIN) of RFC 9293 §3.10.7.4. */
function textAndFin(tcp: TcpLayer, tcb: Tcb, seg: TcpRepr, now: Instant): void {
  const data = seg.payload;
  if (data.length > 0) {
    if (!acceptsText(tcb.state)) {
      // CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: "This should not occur since a FIN has been
      // received from the remote side. Ignore the segment text."
      tcp.countDrop('text-after-fin');
    } else if (tcb.orphan || tcb.readShut) {
      // Linux (tcp_rcv_state_process, TCPAbortOnData): new data for a socket whose user will
      // never read it is answered with a reset. Like Linux (tcp_v4_do_rcv sends it with
      // tcp_v4_send_reset), the reset answers the segment: <SEQ=SEG.ACK><CTL=RST>, the one
      // sequence number the peer is sure to find at RCV.NXT even when our FIN is still in flight
      // (RFC 5961 §3.2 would otherwise turn a reset at SND.NXT into a challenge ACK).
      if (seqGt(seqAdd(seg.seq, data.length), tcb.rcvNxt)) {
        tcp.counters.TCPAbortOnData++;
        sendResetFor(tcp, tcb.local, tcb.remote, seg, now);
        tcp.destroy(tcb, 'data after close', now);
        return;
      }
    } else {
      receiveText(tcp, tcb, seg.seq, data, now);
      // The receiver's RTT estimate for buffer auto-tuning (autotune.ts).
      rcvRttMeasure(tcb, data.length, tcb.tsOk ? seg.options.timestamp?.tsecr : undefined, tsVal(tcb, now), now);
    }
  }
  if (seg.flags & TcpFlag.FIN) {
    const finSeq = seqAdd(seg.seq, data.length);
    if (seqGt(finSeq, tcb.rcvNxt)) {
      // A FIN beyond a hole: remember it; it takes effect when the hole fills.
      tcb.peerFinSeq = finSeq;
      tcb.ackNow = true;
    } else if (finSeq === tcb.rcvNxt) {
      finArrives(tcp, tcb, now);
    }
  }
}

/** Places in-window text: in order into the receive buffer, else into the reassembly queue. */
function receiveText(tcp: TcpLayer, tcb: Tcb, seq: Seq, data: Uint8Array, now: Instant): void {
  // Trim to [RCV.NXT, right edge): "only the new parts are processed" and nothing beyond the
  // window we offered is kept.
  let start = seq;
  let bytes = data;
  const skip = seqDiff(tcb.rcvNxt, start);
  if (skip > 0) {
    // Partly or wholly old: acknowledge at once (RFC 9293 §3.10.7.4, RFC 5681 §4.2) and report
    // the old part with a D-SACK (RFC 2883 §4.1.1).
    duplicateReceived(tcp, tcb, start, seqMin(seqAdd(start, bytes.length), tcb.rcvNxt));
    if (skip >= bytes.length) return;
    bytes = bytes.subarray(skip);
    start = tcb.rcvNxt;
  }
  const room = Math.max(seqDiff(tcb.rcvAdv, start), 0);
  if (bytes.length > room) bytes = bytes.subarray(0, room);
  if (bytes.length === 0) {
    tcb.ackNow = true;
    return;
  }
  if (start !== tcb.rcvNxt) {
    // Out of order: hold it and acknowledge at once so the sender sees the hole (RFC 5681 §4.2:
    // "A TCP receiver SHOULD send an immediate duplicate ACK when an out-of-order segment arrives").
    const r = tcb.ooo.insert(start, bytes, tcb.rcvNxt, tcb.rcvAdv);
    // RFC 2883 §4.1.2: data we already hold out of order is reported with a D-SACK.
    if (r.duplicate) duplicateReceived(tcp, tcb, tcb.ooo.dupLeft, tcb.ooo.dupRight);
    tcb.ackNow = true;
    return;
  }
  const hadHoles = !tcb.ooo.isEmpty;
  // In-order data that also covers bytes held out of order: those were received twice
  // (RFC 2883 §4.1.2; Linux's tcp_ofo_queue extends its D-SACK the same way).
  if (hadHoles && tcb.ooo.heldBelow(seqAdd(start, bytes.length))) duplicateReceived(tcp, tcb, tcb.ooo.dupLeft, tcb.ooo.dupRight);
  // Adopted, not copied: `bytes` is this segment's payload, a view of a frame the stack now owns
  // (recv-buffer.ts queues it and copies it once, into the application's buffer); copied when the
  // link takes the frame back for reuse (tcp.rxFrameReused, Port.release).
  const stored = tcp.rxFrameReused ? tcb.rcvBuf.push(bytes) : tcb.rcvBuf.adopt(bytes);
  const rcvNxtBefore = tcb.rcvNxt;
  tcb.rcvNxt = seqAdd(tcb.rcvNxt, stored);
  if (hadHoles) {
    tcb.rcvNxt = tcb.ooo.takeContiguous(tcb.rcvNxt, tcb.rcvBuf.sink);
    // RFC 5681 §4.2: "an immediate ACK SHOULD be generated when the incoming segment fills in
    // all or part of a gap in the sequence space."
    tcb.ackNow = true;
  }
  tcb.bytesReceived += seqDiff(tcb.rcvNxt, rcvNxtBefore); // tcp_info statistics
  if (stored > 0) tcp.notify(tcb, Ready.READABLE);
  if (tcb.peerFinSeq !== undefined && tcb.peerFinSeq === tcb.rcvNxt) finArrives(tcp, tcb, now);
  scheduleAck(tcp, tcb, stored, now);
}

/**
 * Bytes [left, right) arrived a second time: a D-SACK block goes in the next ACK (RFC 2883 §4:
 * "each duplicate contiguous sequence of data received is reported in at most one D-SACK
 * block"), the ACK goes at once, and, as Linux's tcp_send_dupack does on the assumption that
 * our earlier ACK was lost, the connection goes back to quick-ACK mode.
 */
function duplicateReceived(tcp: TcpLayer, tcb: Tcb, left: Seq, right: Seq): void {
  tcb.ackNow = true;
  tcb.quickAcks = Math.max(tcb.quickAcks, QUICKACKS);
  if (!tcb.sackOk || !seqLt(left, right)) return;
  tcb.dsack = true;
  tcb.dsackLeft = left;
  tcb.dsackRight = right;
}

/** Linux's TCP_MAX_QUICKACKS: segments acknowledged at once in quick-ACK mode. */
export const QUICKACKS = 16;

/**
 * Delayed ACKs (RFC 9293 §3.8.6.3, RFC 1122 §4.2.3.2): "an ACK SHOULD be generated for at least
 * every second full-sized segment" (SHLD-19) and the delay "MUST be less than 0.5 seconds"
 * (MUST-40). As Linux (__tcp_ack_snd_check): at once when more than one full segment (our
 * estimate of the peer's segment size, `rcvMss`) is unacknowledged, or in quick-ACK mode;
 * otherwise after the adaptive delay `ato`.
 */
function scheduleAck(tcp: TcpLayer, tcb: Tcb, bytes: number, now: Instant): void {
  dataReceived(tcp, tcb, bytes, now);
  if (tcb.ackNow) return;
  if (tcb.quickAcks > 0 || seqDiff(tcb.rcvNxt, tcb.rcvWup) > tcb.rcvMss) {
    tcb.ackNow = true;
  } else if (tcb.delackAt === undefined) {
    tcb.delackAt = (now + delayedAckTimeout(tcp, tcb)) as Instant;
    tcp.arm(tcb);
  }
}

/**
 * Linux's tcp_event_data_recv: learns the peer's segment size (tcp_measure_rcv_mss) and adapts
 * the delayed-ACK timeout to the gaps between data segments. The first data starts quick-ACK
 * mode (so slow start is not slowed by delayed ACKs), and so does data after a gap longer than
 * the RTO (the sender was idle and restarts from a small window).
 */
function dataReceived(tcp: TcpLayer, tcb: Tcb, bytes: number, now: Instant): void {
  if (bytes > tcb.rcvMss) tcb.rcvMss = Math.min(bytes, tcb.advMss);
  const atoMin = tcp.config.delayedAck;
  if (tcb.ato === 0) {
    initRcvSpace(tcb, tcp.config, now); // the first data: buffer auto-tuning starts measuring
    enterQuickAck(tcb, QUICKACKS);
    tcb.ato = atoMin;
  } else {
    const m = now - tcb.lastDataAt;
    if (m <= atoMin / 2) tcb.ato = (tcb.ato >>> 1) + (atoMin >>> 1);
    else if (m < tcb.ato) tcb.ato = Math.min((tcb.ato >>> 1) + m, tcb.rtt.rto);
    else if (m > tcb.rtt.rto) enterQuickAck(tcb, QUICKACKS);
  }
  tcb.lastDataAt = now;
}

/** Linux's tcp_incr_quickack: enough quick ACKs to open the peer's window, at most `max`. */
function enterQuickAck(tcb: Tcb, max: number): void {
  const wnd = Math.max(0, seqDiff(tcb.rcvAdv, tcb.rcvNxt));
  const n = Math.min(Math.max(Math.floor(wnd / (2 * tcb.rcvMss)), 2), max);
  if (n > tcb.quickAcks) tcb.quickAcks = n;
}

/**
 * The delayed-ACK timeout (Linux's tcp_send_delayed_ack): `ato`, at least TCP_DELACK_MIN
 * (40 ms) and, when it grew beyond that, at most TCP_DELACK_MAX (200 ms) and the smoothed RTT.
 * Deviation: Linux allows up to 500 ms outside its interactive ("pingpong") mode; we use 200 ms
 * always (well under RFC 9293's 0.5 s).
 */
function delayedAckTimeout(tcp: TcpLayer, tcb: Tcb): number {
  const min = tcp.config.delayedAck;
  let ato = Math.max(tcb.ato, min);
  if (ato > min) {
    let max: number = tcp.config.delayedAckMax;
    const srtt = tcb.rtt.srtt;
    if (srtt !== undefined) max = Math.min(max, Math.max(srtt, min));
    ato = Math.min(ato, max);
  }
  return ato;
}

/** RFC 9293 §3.10.7.4 eighth step: the peer's FIN, in order. */
function finArrives(tcp: TcpLayer, tcb: Tcb, now: Instant): void {
  tcb.peerFinSeq = undefined;
  // "advance RCV.NXT over the FIN, and send an acknowledgment for the FIN."
  tcb.rcvNxt = seqAdd(tcb.rcvNxt, 1);
  tcb.ackNow = true;
  tcp.notify(tcb, Ready.READABLE | Ready.RDHUP);
  switch (tcb.state) {
    case 'SYN-RECEIVED':
    case 'ESTABLISHED':
      tcp.setState(tcb, 'CLOSE-WAIT', 'FIN received', now);
      return;
    case 'FIN-WAIT-1':
      // "If our FIN has been ACKed (perhaps in this segment), then enter TIME-WAIT, start the
      // time-wait timer, turn off the other timers; otherwise, enter the CLOSING state."
      if (tcb.finAcked) tcp.enterTimeWait(tcb, 'FIN+ACK received in FIN-WAIT-1', now);
      else tcp.setState(tcb, 'CLOSING', 'FIN received in FIN-WAIT-1 (simultaneous close)', now);
      return;
    case 'FIN-WAIT-2':
      tcp.enterTimeWait(tcb, 'FIN received in FIN-WAIT-2', now);
      return;
    case 'TIME-WAIT':
    case 'CLOSE-WAIT':
    case 'CLOSING':
    case 'LAST-ACK':
    case 'CLOSED':
    case 'LISTEN':
    case 'SYN-SENT':
      return;
  }
}
