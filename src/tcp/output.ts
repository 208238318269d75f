// What to send now (RFC 9293 §3.8.6 and §3.10): segments built straight into the frame the IP
// layer allocates. `output` decides (window, congestion window, Nagle, cork, FIN, pure ACK);
// `emit` writes one segment. Per-segment work reuses one scratch repr: nothing is allocated on
// this path except the frame itself.
import type { Instant } from '../time/instant.js';
import { type Seq, seqAdd, seqDiff, seqGt, seqLe, seqLt } from './seq.js';
import { TcpFlag, type TcpRepr, type SackBlock, emitTcpHeader, tcpHeaderLength, resetTcpOptions } from '../wire/tcp.js';
import type { IpAddr } from '../wire/ip-addr.js';
import type { Tcb } from './tcb.js';
import type { TcpLayer, TcpRoute } from './tcp.js';
import { fastOpenSynData } from './fastopen.js';
import type { ProbeDecision } from './recovery/rack.js';
import type { TransmitInfo } from './recovery/controller.js';
import { synEcnFlags } from './congestion/ecn.js';
import { assertNever } from '../util/result.js';

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

// The SACK blocks of the segment being built: four reusable blocks and a view of each length,
// filled by fillSackBlocks just before emitTcp reads them (nothing is kept between segments, and
// emit never re-enters, so one set serves every layer).
const SACK_POOL: readonly SackBlock[] = [0, 1, 2, 3].map(() => ({ left: 0 as Seq, right: 0 as Seq }));
const SACK_VIEWS: readonly SackBlock[][] = [0, 1, 2, 3, 4].map((k) => SACK_POOL.slice(0, k));

/**
 * How many SACK blocks our next segment carries (RFC 2018 §3, §4): one per held out-of-order
 * range plus a pending D-SACK block (RFC 2883 §4), at most 3 beside the timestamps option and 4
 * without ("given the SACK option, at most 4 blocks can be specified... in the presence of the
 * timestamps option, at most 3").
 */
export function sackBlockCount(tcb: Tcb): number {
  if (!tcb.sackOk) return 0;
  const n = tcb.ooo.rangeCount + (tcb.dsack ? 1 : 0);
  const max = tcb.tsOk ? 3 : 4;
  return n < max ? n : max;
}

/**
 * The bytes of header the SACK option adds to our next segment (NOP, NOP, kind, length, then 8
 * per block). The effective send MSS shrinks by this much, as Linux's tcp_current_mss does from
 * tcp_established_options: RFC 9293 §3.7.1, "the TCP sender ... MUST reduce the size of the
 * data ... by the size of the options" (Eff.snd.MSS counts "TCPhdrsize" with its options).
 */
export function sackOptionBytes(tcb: Tcb): number {
  const k = sackBlockCount(tcb);
  return k === 0 ? 0 : 4 + 8 * k;
}

/** The payload bytes our next segment may carry: Eff.snd.MSS less the SACK option (RFC 9293 §3.7.1). */
export function segmentRoom(tcb: Tcb): number {
  return tcb.mss - sackOptionBytes(tcb);
}

/**
 * Fills SACK_POOL with our next segment's blocks and returns how many (RFC 2018 §4, RFC 2883
 * §4): a pending D-SACK block first ("the first SACK block ... MUST specify the contiguous block
 * of data containing the segment which triggered this ACK"; for a duplicate, "the first block
 * ... should specify the duplicate"), then the held range containing it if any, then the other
 * held ranges, most recently changed first. The D-SACK block is reported once.
 */
function fillSackBlocks(tcb: Tcb): number {
  const k = sackBlockCount(tcb);
  if (k === 0) return 0;
  let n = 0;
  if (tcb.dsack) {
    const b = SACK_POOL[0]!;
    b.left = tcb.dsackLeft;
    b.right = tcb.dsackRight;
    n = 1 + tcb.ooo.fillSackBlocks(SACK_POOL, 1, k - 1, tcb.dsackLeft);
    tcb.dsack = false;
  } else {
    n = tcb.ooo.fillSackBlocks(SACK_POOL, 0, k);
  }
  return n;
}

/**
 * The window, in bytes, our next segment would offer before it is expressed in the scaled field:
 * the free receive space when it has grown by at least min(RCV.BUFF/2, Eff.snd.MSS) beyond the
 * window already offered (receiver SWS avoidance, RFC 9293 §3.8.6.2.2), else the window already
 * offered; at most what the 16-bit field carries (RFC 7323 §2.3). Changes nothing.
 */
export function windowToOffer(tcb: Tcb): number {
  const offered = Math.max(0, seqDiff(tcb.rcvAdv, tcb.rcvNxt));
  const space = tcb.rcvWindowSpace;
  let wnd = offered;
  const threshold = Math.min(tcb.rcvBuf.capacity >>> 1, tcb.advMss);
  if (space > offered && (space - offered >= threshold || space >= tcb.rcvBuf.capacity)) wnd = space;
  const max = 0xffff * 2 ** tcb.rcvWscale;
  return wnd > max ? max : wnd;
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
  const wnd = windowToOffer(tcb);
  // Express in units of 2^shift, rounding down. When that falls short of the edge already
  // offered, the field shows an apparent retraction of less than 2^shift bytes (RFC 7323 §2.4,
  // Appendix F), but rcvAdv keeps the old edge, so data up to it is still accepted.
  // Deviation: Linux rounds the offered window up instead (tcp_select_window: ALIGN(cur_win)),
  // which moves the edge up to 2^shift - 1 bytes further on every ACK while the application is
  // not reading; Linux's soft memory accounting absorbs that, but with a fixed-capacity receive
  // buffer the edge crept past the free space and in-window data was dropped (found by the
  // interop suite: a 10 MB download from Linux stalled on retransmissions).
  let field = Math.floor(wnd / 2 ** shift);
  if (field > 0xffff) field = 0xffff;
  const edge = seqAdd(tcb.rcvNxt, field * 2 ** shift);
  if (seqGt(edge, tcb.rcvAdv)) tcb.rcvAdv = edge;
  return field;
}

/**
 * Emits one segment of `tcb`: `len` payload bytes starting at sequence `dataSeq` taken from the
 * send buffer, with `flags` and sequence number `seq`. Returns false if it could not be sent
 * (no route).
 */
export function emit(tcp: TcpLayer, tcb: Tcb, flags: number, seq: Seq, len: number, now: Instant, ecn = 0): boolean {
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
    // RFC 3168 §6.1.1: an ECN-setup SYN carries ECE and CWR (only with tcp_ecn = 1), an
    // ECN-setup SYN-ACK carries ECE alone (when the SYN asked and tcp_ecn is 1 or 2).
    flags |= synAck ? (tcb.ecnOk ? TcpFlag.ECE : 0) : synEcnFlags(cfg.ecn);
    o.mss = tcb.advMss;
    // RFC 7323 §2.2 / RFC 2018 §2: in a SYN-ACK, an option is sent only if the SYN carried it.
    if (synAck ? tcb.wsOk : cfg.windowScaling) o.wscale = tcb.wantRcvWscale;
    if (synAck ? tcb.sackOk : cfg.sack) o.sackPermitted = true;
    if (synAck ? tcb.tsOk : cfg.timestamps) {
      tcp.scratchTs.tsval = tsVal(tcb, now);
      tcp.scratchTs.tsecr = synAck ? tcb.tsRecent : 0;
      o.timestamp = tcp.scratchTs;
    }
    // RFC 7413 §4.1.1: the Fast Open option (a cookie, or an empty cookie request) rides on SYNs
    // and SYN-ACKs only (src/tcp/fastopen.ts decides what it holds).
    const fo = tcb.fastOpen;
    if (fo?.option !== undefined) {
      o.fastOpen = fo.option;
      if (fo.experimental) o.fastOpenExperimental = true;
    }
  } else if (tcb.tsOk) {
    tcp.scratchTs.tsval = tsVal(tcb, now);
    tcp.scratchTs.tsecr = tcb.tsRecent;
    o.timestamp = tcp.scratchTs;
  }
  if (!syn && !rst) {
    const k = fillSackBlocks(tcb);
    if (k > 0) o.sack = SACK_VIEWS[k];
  }
  r.srcPort = tcb.localPort;
  r.dstPort = tcb.remotePort;
  // RFC 3168 §6.1.3: ECE on every ACK until the peer's CWR.
  if (!syn && !rst && flags & TcpFlag.ACK) flags |= tcb.ecnRcv.ackFlags();
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
  // Every TCP byte is written below (header, options padded with NOPs, payload), so a recycled
  // frame need not be zeroed first.
  const frame = tcp.ip.allocFrame(route, l4Len, true);
  // Laid out in place: the payload is copied from the send buffer straight to its spot in the
  // frame, then the header written in front of it; no view of the segment or of its payload.
  const at = tcp.ip.l4Offset(route);
  if (len > 0) tcb.sndBuf.copyOut(seqDiff(seq, tcb.sndBase) + (syn ? 1 : 0), len, frame, at + hlen);
  emitTcpHeader(r, frame, at, len, cfg.checksums && route.checksumOffload !== true ? tcb.local : undefined, tcb.remote);
  if (ecn === 0) tcp.ip.transmit(route, frame, IPPROTO_TCP, l4Len, now);
  else tcp.ip.transmit(route, frame, IPPROTO_TCP, l4Len, now, { ecn }); // RFC 3168 §6.1.2: ECT(0) on data
  tcp.counters.OutSegs++;
  tcb.segsOut++; // tcp_info statistics (src/trace/stats.ts)
  if (rst) tcp.counters.OutRsts++;
  if (flags & TcpFlag.ACK && !rst) {
    // Any segment carrying an ACK acknowledges everything received: cancel a pending ACK.
    tcb.ackNow = false;
    tcb.delackAt = undefined;
    tcb.rcvWup = tcb.rcvNxt;
    if (tcb.quickAcks > 0 && len === 0) tcb.quickAcks--; // Linux's tcp_dec_quickack_mode, per ACK sent
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
  emitBare(tcp, route, local, remote, r, now);
}

/**
 * Sends a header-only segment that belongs to no TCB (a reset for a closed port, an ACK or RST
 * from a TIME-WAIT record): `r` (usually `tcp.scratchOut`) is filled by the caller except its
 * payload. Counts OutSegs and, for resets, OutRsts.
 */
export function emitBare(tcp: TcpLayer, route: TcpRoute, local: IpAddr, remote: IpAddr, r: TcpRepr, now: Instant): void {
  const l4Len = tcpHeaderLength(r.options);
  const frame = tcp.ip.allocFrame(route, l4Len);
  emitTcpHeader(r, frame, tcp.ip.l4Offset(route), 0, tcp.config.checksums && route.checksumOffload !== true ? local : undefined, remote);
  tcp.ip.transmit(route, frame, IPPROTO_TCP, l4Len, now);
  tcp.counters.OutSegs++;
  if (r.flags & TcpFlag.RST) tcp.counters.OutRsts++;
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
export function output(tcp: TcpLayer, tcb: Tcb, now: Instant, force = false): void {
  switch (tcb.state) {
    case 'CLOSED':
    case 'LISTEN':
    case 'TIME-WAIT':
      if (tcb.ackNow && tcb.state === 'TIME-WAIT') sendAck(tcp, tcb, now);
      return;
    case 'SYN-SENT':
      if (tcb.sndNxt === tcb.iss) {
        // TCP_FASTOPEN_CONNECT with a cookie: the SYN waits for the first write (fastopen.ts).
        if (tcb.fastOpen?.deferConnect === true) return;
        // RFC 7413 §3: with Fast Open the SYN carries data, which occupies sequence space after
        // the SYN's own (emit copies it from the start of the send buffer).
        const data = fastOpenSynData(tcp, tcb);
        emit(tcp, tcb, TcpFlag.SYN, tcb.iss, data, now);
        tcb.sndNxt = seqAdd(tcb.iss, 1 + data);
        armRetransmit(tcp, tcb, now);
      }
      return;
    case 'SYN-RECEIVED':
      if (tcb.sndNxt === tcb.iss) {
        emit(tcp, tcb, TcpFlag.SYN | TcpFlag.ACK, tcb.iss, 0, now);
        tcb.sndNxt = seqAdd(tcb.iss, 1);
        armRetransmit(tcp, tcb, now);
      } else {
        // RFC 7413 §4.2.2 (and Linux): a Fast Open child may send data before the handshake
        // completes, right behind its SYN-ACK, so a response can arrive one RTT after the SYN.
        if (tcb.fastOpen?.passive === true) sendData(tcp, tcb, now, force);
        if (tcb.ackNow) sendAck(tcp, tcb, now);
      }
      return;
    case 'ESTABLISHED':
    case 'CLOSE-WAIT':
    case 'FIN-WAIT-1':
    case 'FIN-WAIT-2':
    case 'CLOSING':
    case 'LAST-ACK':
      sendData(tcp, tcb, now, force);
      if (tcb.ackNow) sendAck(tcp, tcb, now);
      return;
  }
}

/**
 * The data / FIN part of `output`. `force` is the override timeout of RFC 9293 §3.8.6.2.1 (the
 * persist timer with a window open, as Linux's tcp_write_wakeup): send what fits even if it is
 * a runt that sender SWS avoidance or TCP_CORK would hold.
 *
 * What goes out is the congestion controller's choice (src/tcp/recovery/controller.ts): RFC 6675
 * §5 (C) NextSeg() with `cwnd - pipe` as the quota (SACK), or the head presumed lost and new data
 * within cwnd + limited transmit - FlightSize (NewReno, RFC 5681 §3.2 / RFC 6582). Retransmissions
 * are what the scoreboard marks lost, not go-back-N.
 */
function sendData(tcp: TcpLayer, tcb: Tcb, now: Instant, force: boolean): void {
  const end = tcb.sndEnd;
  const waiting = seqDiff(end, tcb.sndNxt) > 0 || (tcb.finQueued && !tcb.finSent);
  let held = false;
  let cwndLimited = false;
  // The controller is made when there is something to send (with nothing sent and nothing to
  // send it would choose nothing): idle connections never build one.
  const cc = tcb.cc ?? (waiting ? tcp.controller(tcb, now) : undefined);
  cc?.beforeTransmit(now); // RFC 5681 §4.1 restart after idle
  while (cc !== undefined) {
    const room = segmentRoom(tcb);
    const wndEdge = seqAdd(tcb.sndUna, tcb.sndWnd);
    const avail = Math.max(0, seqDiff(end, tcb.sndNxt));
    const usable = Math.max(0, seqDiff(wndEdge, tcb.sndNxt));
    const unsent = Math.min(avail, usable);
    const quota = cc.sendQuota();
    let next = cc.nextSegment(unsent);
    // Our FIN follows the last byte (RFC 9293 §3.10.4); like Linux, it needs room in the window.
    const finDue = tcb.finQueued && !tcb.finSent && avail === 0 && usable > 0;
    if (next === undefined && finDue) next = { rule: 2, start: tcb.sndNxt, len: 0 };
    if (next === undefined) break;
    let len = Math.min(next.len, room);
    if (next.rule === 2) {
      const fin = tcb.finQueued && len === avail && usable > len;
      if (len + (fin ? 1 : 0) > quota) {
        cwndLimited = true;
        break;
      }
      if (len > 0 && len < room && !fin && !force) {
        if (len < avail) {
          // Sender-side SWS avoidance (RFC 9293 §3.8.6.2.1): a window-limited runt waits until at
          // least half the largest window the peer offered is usable, or until the override
          // timeout (the persist timer, below) says to send what fits.
          if (len < tcb.maxSndWnd >>> 1) {
            held = true;
            break;
          }
        } else {
          // All queued data fits in one short segment: Nagle (RFC 9293 §3.7.4, SHLD-7; MUST-17
          // lets the application turn it off) holds it while data is unacknowledged; TCP_CORK
          // holds it always, unless the send buffer is full: then the application cannot add the
          // bytes that would fill the segment, and waiting would deadlock (Linux pushes with
          // TCP_NAGLE_PUSH before it waits for buffer space, in tcp_sendmsg_locked).
          if (tcb.opts.cork && tcb.sndBuf.free > 0) {
            held = true;
            break;
          }
          // Deviation from RFC 9293 §3.7.4's "unacknowledged data" test, as Linux does
          // (tcp_nagle_check with tcp_minshall_check): the runt is held only while an earlier
          // *short* segment is unacknowledged, so a write of 1.5 segments sends both at once.
          if (!tcb.opts.noDelay && tcb.flight > 0 && tcb.sndSml !== undefined && seqGt(tcb.sndSml, tcb.sndUna) && seqLe(tcb.sndSml, tcb.sndNxt)) break;
        }
      }
      len += fin ? 1 : 0;
    } else if (seqLe(wndEdge, next.start)) {
      break;
    } else if ((len = Math.min(len, seqDiff(wndEdge, next.start))) > quota && (tcb.sackOk || cc.state !== 'recovery')) {
      // RFC 5681 §3.2 step 2 and RFC 6582 §3.2 step 3: without SACK the fast retransmit and the
      // retransmission after a partial ACK go whatever cwnd says (one segment, the head). With
      // SACK, PRR's quota always allows the fast retransmit (RFC 6937 §3). Like Linux's
      // tcp_retransmit_skb, a retransmission is trimmed to the peer's current window (RFC 9293
      // §3.8.6: the window may shrink); wholly outside it, it waits (the RTO sends the head anyway).
      break;
    }
    if (len === 0 || sendRange(tcp, tcb, next.start, len, now, next.rule, false) === 0) break;
  }
  tcb.cwndLimited = cwndLimited;
  // Zero window with data waiting and nothing in flight: the persist timer probes
  // (RFC 9293 §3.8.6.1, MUST-36). It also serves as the override timeout of sender-side SWS
  // avoidance (RFC 9293 §3.8.6.2.1: "send ... when the override timeout occurs"), as Linux's probe
  // timer does through tcp_write_wakeup: without it a small window that never grows with nothing
  // in flight would stall the connection for good. Corked data waits for it too: that is the
  // 200 ms ceiling on TCP_CORK that tcp(7) documents (the probe timer's TCP_RTO_MIN).
  if (waiting && tcb.flight === 0 && (tcb.sndWnd === 0 || held)) {
    if (tcb.persistAt === undefined) {
      // RFC 9293 §3.8.6.2.1: "The override timeout should be in the range 0.1 - 1.0 seconds":
      // a held runt waits at most a second even when the RTO is longer; a zero window is probed
      // after an RTO (and then with backoff, in the TcpLayer's persist timer).
      const wait = tcb.sndWnd === 0 ? tcb.rtt.rto : Math.min(tcb.rtt.rto, OVERRIDE_TIMEOUT_MAX);
      tcb.persistAt = (now + wait) as Instant;
      tcp.arm(tcb);
    }
  } else if (tcb.persistAt !== undefined && tcb.sndWnd > 0 && !held) {
    tcb.persistAt = undefined;
    tcb.probes = 0;
  }
  tcp.arm(tcb); // the controller's TLP deadline may have moved
}

/**
 * Sends the sequence range [start, start+seqLen) of data (and our FIN when the range covers it):
 * new data at SND.NXT, or a retransmission below it. Reports it to the congestion controller
 * (`probe`: a tail loss probe, RFC 8985 §7.3), counts retransmissions, times new data (RFC 6298,
 * Karn's rule) and starts the retransmission timer. Returns the sequence space sent (0 if none).
 */
function sendRange(tcp: TcpLayer, tcb: Tcb, start: Seq, seqLen: number, now: Instant, rule: 1 | 2 | 3 | 4 | undefined, probe: boolean): number {
  const end = tcb.sndEnd;
  const dataLen = Math.max(0, Math.min(seqLen, seqDiff(end, start), segmentRoom(tcb)));
  const fin = tcb.finQueued && seqAdd(start, dataLen) === end && seqLen > dataLen;
  if (dataLen === 0 && !fin) return 0;
  const total = dataLen + (fin ? 1 : 0);
  const retransmission = seqLt(start, tcb.sndNxt);
  const cc = tcp.controller(tcb, now);
  let flags = TcpFlag.ACK;
  if (dataLen > 0 && seqAdd(start, dataLen) === end) flags |= TcpFlag.PSH;
  if (fin) flags |= TcpFlag.FIN;
  // RFC 3168 §6.1.2, §6.1.5: ECT(0) and CWR on new data only.
  const kind = retransmission ? 'retransmission' : 'new-data';
  if (!emit(tcp, tcb, flags | cc.ecn.flags(kind), start, dataLen, now, cc.ecn.codepoint(kind))) return 0;
  if (retransmission) {
    tcp.counters.RetransSegs++;
    tcp.traceRetransmit(tcb, start, dataLen, now);
    tcb.rttSeq = undefined; // Karn: the timed segment may have been retransmitted
  }
  const next = seqAdd(start, total);
  if (seqGt(next, tcb.sndNxt)) {
    // New data: time it if nothing is being timed (Karn: never time a retransmission).
    if (tcb.rttSeq === undefined && !tcb.tsOk && !retransmission) {
      tcb.rttSeq = next;
      tcb.rttSentAt = now;
    }
    tcb.sndNxt = next;
    tcb.lastSendAt = now;
    if (dataLen < segmentRoom(tcb)) tcb.sndSml = next; // Linux tcp_minshall_update: the end of a short segment
  }
  if (fin) tcb.finSent = true;
  const o = TRANSMIT;
  o.rule = rule;
  o.probe = probe;
  o.tsval = tcb.tsOk ? tsVal(tcb, now) : undefined;
  cc.onTransmit(now, start, total, o);
  armRetransmit(tcp, tcb, now);
  return total;
}

// What each transmission tells the controller, filled in place (read by onTransmit, kept by nothing).
const TRANSMIT: TransmitInfo = { rule: undefined, probe: false, tsval: undefined };

/**
 * The TLP timer fired (RFC 8985 §7.3): send the probe the controller chose, whatever cwnd says,
 * and restart the retransmission timer ("the sender MUST ... rearm the RTO timer").
 */
export function sendProbe(tcp: TcpLayer, tcb: Tcb, probe: ProbeDecision, now: Instant): void {
  let sent = 0;
  switch (probe.kind) {
    case 'none':
      return;
    case 'new-data': {
      const avail = Math.max(0, seqDiff(tcb.sndEnd, tcb.sndNxt));
      const len = Math.min(probe.len, avail);
      const fin = tcb.finQueued && len === avail;
      sent = sendRange(tcp, tcb, tcb.sndNxt, len + (fin ? 1 : 0), now, 2, true);
      break;
    }
    case 'retransmit':
      sent = sendRange(tcp, tcb, probe.start, probe.len, now, undefined, true);
      break;
    default:
      assertNever(probe, 'probe decision');
  }
  if (sent > 0) {
    tcp.counters.TCPLossProbes++;
    tcb.rtxAt = (now + tcb.rtt.rto) as Instant;
    tcp.arm(tcb);
  }
}

/**
 * Retransmits the segment at SND.UNA (up to one segment of data, with our FIN if it follows)
 * whatever the windows say: the retransmission timeout when the peer's window is zero or the
 * controller offers nothing. Returns the sequence space it covered (0 if nothing to send).
 */
export function sendHead(tcp: TcpLayer, tcb: Tcb, now: Instant): number {
  // A retransmission: only what was sent before (below SND.NXT), as Linux resends the head of its
  // retransmission queue; going beyond SND.NXT here would let the peer acknowledge sequence
  // numbers we do not count as sent.
  const sent = seqDiff(tcb.sndNxt, tcb.sndUna);
  if (sent <= 0) return 0;
  return sendRange(tcp, tcb, tcb.sndUna, Math.min(sent, segmentRoom(tcb) + 1), now, undefined, false);
}

/**
 * The retransmission timer expired and the controller has marked what is lost (RFC 6298 §5.4:
 * "Retransmit the earliest segment that has not been acknowledged"; RFC 6675 §5.1 and RFC 8985
 * §6.3 after a timeout): send what NextSeg() offers within the loss window. If the peer's window
 * is zero and nothing went, the segment at SND.UNA goes anyway as a window probe, as Linux's
 * __tcp_retransmit_skb does ("when window is shrunk to zero ... our retransmit of one segment
 * serves as a zero window probe"): otherwise a lost window update would stall us.
 */
export function retransmitOnTimeout(tcp: TcpLayer, tcb: Tcb, now: Instant): void {
  tcb.rttSeq = undefined; // Karn's algorithm
  const before = tcb.segsOut;
  sendData(tcp, tcb, now, false);
  if (tcb.segsOut === before && tcb.flight > 0) sendHead(tcp, tcb, now);
  if (tcb.ackNow) sendAck(tcp, tcb, now);
}

/** The longest override timeout of sender SWS avoidance (RFC 9293 §3.8.6.2.1: 0.1 to 1.0 s). */
export const OVERRIDE_TIMEOUT_MAX = 1_000_000;

/** RFC 6298 §5.1: "Every time a packet containing data is sent (including a retransmission), if the timer is not running, start it". */
export function armRetransmit(tcp: TcpLayer, tcb: Tcb, now: Instant): void {
  if (tcb.rtxAt === undefined) {
    tcb.rtxAt = (now + tcb.rtt.rto) as Instant;
    tcp.arm(tcb);
  }
}
