// Buffer auto-tuning: the receive buffer grows toward what the connection moves per round trip
// (bandwidth x delay), as Linux's tcp_moderate_rcvbuf does (tcp_rcv_space_adjust, with the
// receiver-side RTT estimate of tcp_rcv_rtt_measure / tcp_rcv_rtt_measure_ts), and the send
// buffer grows with the congestion window (tcp_sndbuf_expand). Neither is in an RFC: RFC 9293
// §3.8.6 leaves buffer sizes to the implementation ("the window ... should bear some relation to
// the buffers available"); read RFC 7323 §2 (the window scale that lets a large buffer be
// offered) and Linux's Documentation/networking/ip-sysctl.rst (tcp_moderate_rcvbuf, tcp_rmem,
// tcp_wmem).
//
// A buffer the application sized itself (SO_RCVBUF / SO_SNDBUF, socket.ts `receiveBuffer` /
// `sendBuffer`) is locked and never tuned, as Linux's SOCK_RCVBUF_LOCK / SOCK_SNDBUF_LOCK.
import type { Instant } from '../time/instant.js';
import type { TcpConfig } from './config.js';
import type { Tcb } from './tcb.js';
import { seqLt } from './seq.js';

/**
 * The data started: the measuring space is the window we first offered (Linux's
 * tcp_init_buffer_space: rcvq_space.space = min(rcv_wnd, TCP_INIT_CWND * advmss)).
 */
export function initRcvSpace(tcb: Tcb, cfg: TcpConfig, now: Instant): void {
  tcb.rcvSpace = Math.min(tcb.rcvBuf.capacity, cfg.initialCwnd * tcb.advMss);
  tcb.rcvSpaceCopied = tcb.rcvCopied;
  tcb.rcvSpaceAt = now;
}

/**
 * A data segment of `len` bytes arrived: update the receiver's RTT estimate (Linux's
 * rcv_rtt_est), which paces the buffer measurements. With timestamps (RFC 7323 §4) the echo of a
 * full-sized segment gives it directly (tcp_rcv_rtt_measure_ts); without, the time to receive one
 * window's worth of data bounds it from above (tcp_rcv_rtt_measure), so those samples only lower it.
 */
export function rcvRttMeasure(tcb: Tcb, len: number, tsecrMs: number | undefined, nowMs: number, now: Instant): void {
  if (tsecrMs !== undefined) {
    if (len < tcb.rcvMss || tsecrMs === tcb.rcvRttTsecr) return;
    tcb.rcvRttTsecr = tsecrMs;
    const ms = (nowMs - tsecrMs) | 0;
    if (ms >= 0 && ms < 60_000) rcvRttSample(tcb, Math.max(ms, 1) * 1000, false);
    return;
  }
  if (tcb.rcvRttAt !== undefined && seqLt(tcb.rcvNxt, tcb.rcvRttSeq)) return;
  if (tcb.rcvRttAt !== undefined) rcvRttSample(tcb, Math.max(now - tcb.rcvRttAt, 1), true);
  tcb.rcvRttSeq = tcb.rcvAdv;
  tcb.rcvRttAt = now;
}

/** Linux's tcp_rcv_rtt_update: an EWMA (gain 1/8) of timestamp samples; a window-based sample only ever lowers it. */
function rcvRttSample(tcb: Tcb, us: number, windowBased: boolean): void {
  const old = tcb.rcvRtt;
  if (old === 0) tcb.rcvRtt = us;
  else if (windowBased) tcb.rcvRtt = Math.min(old, us);
  else tcb.rcvRtt = old - old / 8 + us / 8;
}

/**
 * The application read: once per receiver RTT, compare what it read in that RTT with the space
 * measured last time, and when it read more (the sender is growing its window and we are the
 * limit), grow the receive buffer to twice that plus room for the sender to keep growing, up to
 * tcp_rmem[2] (`rcvBufMax`). Linux's tcp_rcv_space_adjust: rcvwin = 2 * copied + 16 * advmss,
 * plus twice the growth rate again while the rate keeps growing. The window we offer follows the
 * buffer (output.ts windowToOffer); the window scale we announced was chosen for rcvBufMax.
 */
export function rcvSpaceAdjust(tcb: Tcb, cfg: TcpConfig, now: Instant): void {
  if (!cfg.moderateRcvBuf || tcb.opts.rcvBuf > 0 || tcb.rcvSpace === 0) return;
  const rtt = tcb.rcvRtt;
  if (rtt === 0 || now - tcb.rcvSpaceAt < rtt) return;
  const copied = tcb.rcvCopied - tcb.rcvSpaceCopied;
  const space = tcb.rcvSpace;
  if (copied > space) {
    let rcvwin = 2 * copied + 16 * tcb.advMss;
    rcvwin += 2 * Math.floor((rcvwin * (copied - space)) / space);
    const want = Math.min(rcvwin, cfg.rcvBufMax);
    if (want > tcb.rcvBuf.capacity) tcb.rcvBuf.capacity = want;
  }
  tcb.rcvSpace = Math.max(copied, 1);
  tcb.rcvSpaceCopied = tcb.rcvCopied;
  tcb.rcvSpaceAt = now;
}

/**
 * An ACK grew the congestion window: make room for two windows of data in the send buffer, up to
 * tcp_wmem[2] (`sndBufMax`), as Linux's tcp_sndbuf_expand ("Fast Recovery ... Cubic needs 1.7
 * factor, rounded to 2"). Without it a 16 KiB send buffer caps a connection at 16 KiB per round
 * trip whatever the path. Deviation: Linux also expands once when the connection is set up, to 20
 * segments; we grow only from ACKs, so a configured buffer keeps its size until data flows.
 */
export function sndBufExpand(tcb: Tcb, cfg: TcpConfig): void {
  if (tcb.opts.sndBuf > 0) return;
  const want = Math.min(2 * Math.max(tcb.cwnd, cfg.initialCwnd * tcb.mss), cfg.sndBufMax);
  if (want > tcb.sndBuf.capacity) tcb.sndBuf.capacity = want;
}
