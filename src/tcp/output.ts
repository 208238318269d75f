// What to send now (RFC 9293 §3.8.6 and §3.10): segments built straight into the frame the IP
// layer allocates. `output` decides (window, congestion window, Nagle, cork, FIN, pure ACK);
// `emit` writes one segment. Per-segment work reuses one scratch repr: nothing is allocated on
// this path except the frame itself.
import type { Instant } from '../time/instant.js';
import { type Seq, seqAdd, seqDiff, seqGt, seqLt } from './seq.js';
import { TcpFlag, type TcpRepr, type SackBlock, emitTcp, tcpHeaderLength, resetTcpOptions } from '../wire/tcp.js';
import type { IpAddr } from '../wire/ip-addr.js';
import type { Tcb } from './tcb.js';
import type { TcpLayer } from './tcp.js';

/** IP protocol number of TCP. */
export const IPPROTO_TCP = 6;

/** The 1 ms timestamp clock of RFC 7323 §5.4 (Linux: tcp_clock_ms), before the per-connection offset. */
export function tsClock(now: Instant): number {
  return Math.floor(now / 1000) >>> 0;
}

/** Our TSval at `now` for a connection. */
export function tsVal(tcb: Tcb, now: Instant): number {
  return (tsClock(now) + tcb.tsOffset) >>> 0;
}

/**
 * Chooses the window to advertise and records its right edge (RCV.NXT + window) in rcvAdv.
 *
 * RFC 7323 §2.4 / RFC 9293 §3.8.6.2.2 (SHLD-14: the window SHOULD NOT shrink): the right edge
 * never moves left. Receiver-side SWS avoidance (RFC 9293 §3.8.6.2.2, MUST-39): the edge only
 * moves right when the window can grow by min(RCV.BUFF/2, Eff.snd.MSS).
 */
export function selectWindow(tcb: Tcb): number {
  const shift = tcb.rcvWscale;
  const offered = Math.max(0, seqDiff(tcb.rcvAdv, tcb.rcvNxt));
  const space = tcb.rcvWindowSpace;
  let wnd = offered;
  const threshold = Math.min(tcb.rcvBuf.capacity >>> 1, tcb.advMss);
  if (space > offered && (space - offered >= threshold || space >= tcb.rcvBuf.capacity)) wnd = space;
  const max = 0xffff * 2 ** shift;
  if (wnd > max) wnd = max;
  // Express in units of 2^shift, rounding down, but never below what was already offered.
  let field = Math.floor(wnd / 2 ** shift);
  if (field * 2 ** shift < offered) field = Math.ceil(offered / 2 ** shift);
  if (field > 0xffff) field = 0xffff;
  tcb.rcvAdv = seqAdd(tcb.rcvNxt, field * 2 ** shift);
  return field;
}

/**
 * Emits one segment of `tcb`: `len` payload bytes starting at sequence `dataSeq` taken from the
 * send buffer, with `flags` and sequence number `seq`. Returns false if it could not be sent
 * (no route).
 */
export function emit(tcp: TcpLayer, tcb: Tcb, flags: number, seq: Seq, len: number, now: Instant): boolean {
  const route = tcp.routeFor(tcb);
  if (route === undefined) {
    tcp.countDrop('out:no-route');
    return false;
  }
  const r = tcp.scratchOut;
  const o = r.options;
  resetTcpOptions(o);
  const syn = (flags & TcpFlag.SYN) !== 0;
  const rst = (flags & TcpFlag.RST) !== 0;
  const cfg = tcp.config;
  if (syn) {
    const synAck = (flags & TcpFlag.ACK) !== 0;
    o.mss = tcb.advMss;
    // RFC 7323 §2.2 / RFC 2018 §2: in a SYN-ACK, an option is sent only if the SYN carried it.
    if (synAck ? tcb.wsOk : cfg.windowScaling) o.wscale = tcb.wantRcvWscale;
    if (synAck ? tcb.sackOk : cfg.sack) o.sackPermitted = true;
    if (synAck ? tcb.tsOk : cfg.timestamps) {
      tcp.scratchTs.tsval = tsVal(tcb, now);
      tcp.scratchTs.tsecr = synAck ? tcb.tsRecent : 0;
      o.timestamp = tcp.scratchTs;
    }
  } else if (tcb.tsOk) {
    tcp.scratchTs.tsval = tsVal(tcb, now);
    tcp.scratchTs.tsecr = tcb.tsRecent;
    o.timestamp = tcp.scratchTs;
  }
  if (!syn && !rst && tcb.sackOk && !tcb.ooo.isEmpty) {
    // RFC 2018 §3: at most 3 blocks fit beside the timestamps option, 4 without.
    const blocks = tcb.ooo.sackBlocks(tcb.tsOk ? 3 : 4);
    const out = tcp.scratchSack;
    out.length = 0;
    for (const b of blocks) out.push(b as SackBlock);
    o.sack = out;
  }
  r.srcPort = tcb.localPort;
  r.dstPort = tcb.remotePort;
  r.seq = seq;
  r.ack = flags & TcpFlag.ACK ? tcb.rcvNxt : (0 as Seq);
  r.flags = flags;
  r.urgent = 0;
  // RFC 7323 §2.2: "The window field in a segment where the SYN bit is set (i.e., a <SYN> or
  // <SYN,ACK>) MUST NOT be scaled."
  if (syn) {
    // Like Linux's tcp_select_initial_window: the first window is a whole number of segments of
    // the MSS we announce, less the timestamp option in a SYN-ACK that negotiated it (a SYN shows
    // 64240 = 44 * 1460 and a SYN-ACK with timestamps 65160 = 45 * 1448 on a 1500-byte MTU).
    const unit = tcb.advMss - ((flags & TcpFlag.ACK) !== 0 && tcb.tsOk ? 12 : 0);
    let w = Math.min(tcb.rcvWindowSpace, 0xffff);
    if (w > unit) w -= w % unit;
    tcb.rcvAdv = seqAdd(tcb.rcvNxt, w);
    r.window = w;
  } else if (rst) {
    r.window = 0;
  } else {
    r.window = selectWindow(tcb);
  }
  const hlen = tcpHeaderLength(o);
  const l4Len = hlen + len;
  const frame = tcp.ip.allocFrame(route, l4Len);
  const l4 = frame.subarray(tcp.ip.l4Offset(route), tcp.ip.l4Offset(route) + l4Len);
  if (len > 0) tcb.sndBuf.copyOut(seqDiff(seq, tcb.sndBase) + (syn ? 1 : 0), len, l4, hlen);
  r.payload = l4.subarray(hlen, hlen + len);
  emitTcp(r, l4, cfg.checksums && route.checksumOffload !== true ? { src: tcb.local, dst: tcb.remote } : undefined);
  tcp.ip.transmit(route, frame, IPPROTO_TCP, l4Len, now);
  tcp.counters.OutSegs++;
  if (rst) tcp.counters.OutRsts++;
  if (flags & TcpFlag.ACK && !rst) {
    // Any segment carrying an ACK acknowledges everything received: cancel a pending ACK.
    tcb.ackNow = false;
    tcb.delackAt = undefined;
    tcb.unackedSegs = 0;
  }
  return true;
}

/**
 * RFC 9293 §3.10.7.1 (and §3.5.2): the reset sent in reply to a segment that belongs to no
 * connection. "If the ACK bit is off, sequence number zero is used, <SEQ=0><ACK=SEG.SEQ+SEG.LEN>
 * <CTL=RST,ACK>"; "If the ACK bit is on, <SEQ=SEG.ACK><CTL=RST>". Never in answer to a RST.
 */
export function sendResetFor(tcp: TcpLayer, local: IpAddr, remote: IpAddr, seg: TcpRepr, now: Instant): void {
  if (seg.flags & TcpFlag.RST) return;
  const route = tcp.ip.route(remote, local);
  if (route === undefined) return;
  const r = tcp.scratchOut;
  const o = r.options;
  resetTcpOptions(o);
  r.srcPort = seg.dstPort;
  r.dstPort = seg.srcPort;
  if (seg.flags & TcpFlag.ACK) {
    r.seq = seg.ack;
    r.ack = 0 as Seq;
    r.flags = TcpFlag.RST;
  } else {
    const segLen = seg.payload.length + (seg.flags & TcpFlag.SYN ? 1 : 0) + (seg.flags & TcpFlag.FIN ? 1 : 0);
    r.seq = 0 as Seq;
    r.ack = seqAdd(seg.seq, segLen);
    r.flags = TcpFlag.RST | TcpFlag.ACK;
  }
  r.window = 0;
  r.urgent = 0;
  const l4Len = tcpHeaderLength(o);
  const frame = tcp.ip.allocFrame(route, l4Len);
  const off = tcp.ip.l4Offset(route);
  const l4 = frame.subarray(off, off + l4Len);
  r.payload = l4.subarray(l4Len, l4Len);
  emitTcp(r, l4, tcp.config.checksums && route.checksumOffload !== true ? { src: local, dst: remote } : undefined);
  tcp.ip.transmit(route, frame, IPPROTO_TCP, l4Len, now);
  tcp.counters.OutSegs++;
  tcp.counters.OutRsts++;
}

/** Sends an ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> now. */
export function sendAck(tcp: TcpLayer, tcb: Tcb, now: Instant): void {
  emit(tcp, tcb, TcpFlag.ACK, tcb.sndNxt, 0, now);
}

/**
 * RFC 5961 §3.2, §4.2, §5.2: a challenge ACK, rate-limited per connection.
 * Deviation: the limit is per connection rather than the per-host counter RFC 5961 §7 suggests,
 * because a global counter is an off-path side channel (CVE-2016-5696); Linux also moved away
 * from a single global limit for this reason.
 */
export function sendChallengeAck(tcp: TcpLayer, tcb: Tcb, now: Instant): void {
  if (now - tcb.challengeWindowStart >= 1_000_000) {
    tcb.challengeWindowStart = now;
    tcb.challengeCount = 0;
  }
  if (tcb.challengeCount >= tcp.config.challengeAckLimit) {
    tcp.countDrop('challenge-ack-rate-limited');
    return;
  }
  tcb.challengeCount++;
  tcp.counters.TCPChallengeACK++;
  sendAck(tcp, tcb, now);
}

/** Sends <SEQ=SND.NXT><CTL=RST> (with ACK, as Linux's tcp_send_active_reset does) for an abort. */
export function sendActiveReset(tcp: TcpLayer, tcb: Tcb, now: Instant): void {
  emit(tcp, tcb, TcpFlag.RST | TcpFlag.ACK, tcb.sndNxt, 0, now);
}

/**
 * Sends whatever the connection may send now: SYN or SYN-ACK, data within the send and
 * congestion windows (Nagle, cork and sender-side SWS avoidance permitting), FIN, and a pure ACK
 * if one is owed and nothing else carried it.
 */
export function output(tcp: TcpLayer, tcb: Tcb, now: Instant, swsOverride = false): void {
  switch (tcb.state) {
    case 'CLOSED':
    case 'LISTEN':
    case 'TIME-WAIT':
      if (tcb.ackNow && tcb.state === 'TIME-WAIT') sendAck(tcp, tcb, now);
      return;
    case 'SYN-SENT':
      if (tcb.sndNxt === tcb.iss) {
        emit(tcp, tcb, TcpFlag.SYN, tcb.iss, 0, now);
        tcb.sndNxt = tcb.rtxNxt = seqAdd(tcb.iss, 1);
        armRetransmit(tcp, tcb, now);
      }
      return;
    case 'SYN-RECEIVED':
      if (tcb.sndNxt === tcb.iss) {
        emit(tcp, tcb, TcpFlag.SYN | TcpFlag.ACK, tcb.iss, 0, now);
        tcb.sndNxt = tcb.rtxNxt = seqAdd(tcb.iss, 1);
        armRetransmit(tcp, tcb, now);
      } else if (tcb.ackNow) {
        sendAck(tcp, tcb, now);
      }
      return;
    case 'ESTABLISHED':
    case 'CLOSE-WAIT':
    case 'FIN-WAIT-1':
    case 'FIN-WAIT-2':
    case 'CLOSING':
    case 'LAST-ACK':
      sendData(tcp, tcb, now, swsOverride);
      if (tcb.ackNow) sendAck(tcp, tcb, now);
      return;
  }
}

/** The data / FIN part of `output`. */
function sendData(tcp: TcpLayer, tcb: Tcb, now: Instant, swsOverride: boolean): void {
  const end = tcb.sndEnd;
  let swsHeld = false;
  for (;;) {
    const at = tcb.rtxNxt;
    const avail = Math.max(0, seqDiff(end, at));
    const wndEdge = seqAdd(tcb.sndUna, tcb.sndWnd);
    const cwndEdge = seqAdd(tcb.sndUna, tcb.cwnd);
    const edge = seqLt(cwndEdge, wndEdge) ? cwndEdge : wndEdge;
    const usable = seqDiff(edge, at);
    const len = Math.min(avail, tcb.mss, Math.max(0, usable));
    // Our FIN follows the last byte (RFC 9293 §3.10.4); like Linux, it needs room in the window.
    const fin = tcb.finQueued && seqDiff(end, at) >= 0 && len === avail && usable > len;
    if (len === 0 && !fin) break;
    const retransmission = seqLt(at, tcb.sndNxt);
    if (len > 0 && len < tcb.mss && !retransmission && !fin) {
      if (len < avail) {
        // Sender-side SWS avoidance (RFC 9293 §3.8.6.2.1): a window-limited runt waits until at
        // least half the largest window the peer offered is usable, or until the override timeout
        // (the persist timer, below) says to send what fits.
        if (len < tcb.maxSndWnd >>> 1 && !swsOverride) {
          swsHeld = true;
          break;
        }
      } else {
        // All queued data fits in one short segment: Nagle (RFC 9293 §3.7.4, SHLD-7; MUST-17
        // lets the application turn it off) holds it while data is unacknowledged; TCP_CORK holds it always.
        if (tcb.opts.cork) break;
        if (!tcb.opts.noDelay && tcb.flight > 0) break;
      }
    }
    let flags = TcpFlag.ACK;
    if (len > 0 && len === avail) flags |= TcpFlag.PSH;
    if (fin) flags |= TcpFlag.FIN;
    if (!emit(tcp, tcb, flags, at, len, now)) break;
    if (retransmission) {
      tcp.counters.RetransSegs++;
      tcp.traceRetransmit(tcb, at, len, now);
    }
    const next = seqAdd(at, len + (fin ? 1 : 0));
    tcb.rtxNxt = next;
    if (seqGt(next, tcb.sndNxt)) {
      // New data: time it if nothing is being timed (Karn: never time a retransmission).
      if (tcb.rttSeq === undefined && !tcb.tsOk) {
        tcb.rttSeq = next;
        tcb.rttSentAt = now;
      }
      tcb.sndNxt = next;
      tcb.lastSendAt = now;
    }
    if (fin) tcb.finSent = true;
    armRetransmit(tcp, tcb, now);
    if (fin) break;
  }
  // Zero window with data waiting and nothing in flight: the persist timer probes
  // (RFC 9293 §3.8.6.1, MUST-36). It also serves as the override timeout of sender-side SWS
  // avoidance (RFC 9293 §3.8.6.2.1: "send ... when the override timeout occurs"), as Linux's probe
  // timer does through tcp_write_wakeup: without it a small window that never grows with nothing
  // in flight would stall the connection for good.
  const waiting = seqDiff(end, tcb.sndNxt) > 0 || (tcb.finQueued && !tcb.finSent);
  if (waiting && tcb.flight === 0 && (tcb.sndWnd === 0 || swsHeld)) {
    if (tcb.persistAt === undefined) {
      tcb.persistAt = (now + tcb.rtt.rto) as Instant;
      tcp.arm(tcb);
    }
  } else if (tcb.persistAt !== undefined && tcb.sndWnd > 0 && !swsHeld) {
    tcb.persistAt = undefined;
    tcb.probes = 0;
  }
}

/** RFC 6298 §5.1: "Every time a packet containing data is sent (including a retransmission), if the timer is not running, start it". */
export function armRetransmit(tcp: TcpLayer, tcb: Tcb, now: Instant): void {
  if (tcb.rtxAt === undefined) {
    tcb.rtxAt = (now + tcb.rtt.rto) as Instant;
    tcp.arm(tcb);
  }
}
