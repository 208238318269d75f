// The Transmission Control Block (RFC 9293 §3.3.1): one connection's state, with the RFC's
// variable names. Behaviour lives in input.ts (SEGMENT ARRIVES), output.ts (what to send),
// timers.ts and the TcpLayer; this file holds data and small derived quantities.
import type { IpAddr } from '../wire/ip-addr.js';
import type { TcpRoute } from './tcp.js';
import { type Duration, type Instant, earliest } from '../time/instant.js';
import type { Seq } from './seq.js';
import { seqAdd, seqDiff } from './seq.js';
import type { TcpState } from './state.js';
import type { SocketErrorCode } from './errors.js';
import type { SendBuffer } from './send-buffer.js';
import type { RecvBuffer } from './recv-buffer.js';
import type { Reassembly } from './reassembly.js';
import type { RttEstimator } from './rtt.js';
import type { Listener } from './listener.js';
import type { FastOpenState } from './fastopen.js';
import type { CongestionController } from './recovery/controller.js';
import type { CaState } from './congestion/ca-state.js';
import { INFINITE_SSTHRESH, type CongestionAlgorithm } from './congestion/cc.js';
import { EcnReceiver } from './congestion/ecn.js';

/** Readiness bits reported to the socket layer (the epoll vocabulary). */
export const Ready = {
  READABLE: 1, // data, EOF, or an error to read
  WRITABLE: 2, // send buffer space (or the connection completed)
  HANGUP: 4, // both directions closed
  ERROR: 8, // a pending error
  ACCEPT: 16, // (listeners) a connection is ready to accept
  RDHUP: 32, // the peer closed its sending side
} as const;

/** Per-socket options that shape a connection's behaviour (setsockopt). */
export interface SocketOptions {
  /** TCP_NODELAY: disable Nagle's algorithm. */
  noDelay: boolean;
  /** TCP_CORK: hold partial segments until uncorked or a full segment is ready. */
  cork: boolean;
  /** SO_KEEPALIVE and its TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT parameters (µs, µs, count). */
  keepAlive: boolean;
  keepIdle: number;
  keepInterval: number;
  keepCount: number;
  /** SO_LINGER: undefined = off; 0 = abort on close (RST); n > 0 is accepted but close never blocks here. */
  linger: number | undefined;
  /** TCP_USER_TIMEOUT in µs (RFC 5482); 0 = system default. */
  userTimeout: number;
  /** TCP_MAXSEG: clamp on the MSS we announce and use; 0 = from the route MTU. */
  maxSeg: number;
  /** TCP_SYNCNT: per-socket SYN retries; 0 = stack default. */
  synCount: number;
  /** TCP_LINGER2: per-socket FIN-WAIT-2 timeout in µs; 0 = stack default. */
  linger2: number;
  /**
   * SO_SNDBUF as the stack uses it (bytes, already doubled as Linux does); 0 = the stack default
   * (TcpConfig.sndBuf), grown with the congestion window. A set value is locked (SOCK_SNDBUF_LOCK).
   */
  sndBuf: number;
  /** SO_RCVBUF likewise; 0 = the stack default, auto-tuned (tcp_moderate_rcvbuf). A set value is locked (SOCK_RCVBUF_LOCK). */
  rcvBuf: number;
  /** TCP_CONGESTION: this socket's algorithm; undefined = the stack's (TcpConfig.congestion). Read when data transfer starts. */
  congestion?: CongestionAlgorithm;
}

/** The TCB: everything one connection knows. */
export class Tcb {
  /** Stack-local id, for traces. */
  readonly id: number;
  state: TcpState = 'CLOSED';
  readonly local: IpAddr;
  readonly localPort: number;
  readonly remote: IpAddr;
  readonly remotePort: number;
  /** Hash of the 4-tuple, the demux key. */
  readonly hash: number;

  // Send sequence space (RFC 9293 §3.3.1, Figure 4).
  iss = 0 as Seq;
  sndUna = 0 as Seq;
  /** SND.NXT: the next new sequence number to send; the highest ever sent (Linux's snd_nxt). */
  sndNxt = 0 as Seq;
  /** SND.WND in bytes (scaled). */
  sndWnd = 0;
  sndWl1 = 0 as Seq;
  sndWl2 = 0 as Seq;
  /** MAX.SND.WND (RFC 5961 §5.2): the largest window the peer has offered. */
  maxSndWnd = 0;

  // Receive sequence space (RFC 9293 §3.3.1, Figure 5).
  irs = 0 as Seq;
  rcvNxt = 0 as Seq;
  /** The right edge of the window we last advertised (RCV.NXT + RCV.WND at that time); never moves left (RFC 7323 §2.4). */
  rcvAdv = 0 as Seq;

  // Negotiated options.
  /** MSS we announce (from the route MTU or TCP_MAXSEG). */
  advMss = 536;
  /** MSS the peer announced (RFC 9293 §3.7.1: 536 when absent). */
  peerMss = 536;
  /** Effective send MSS: payload bytes per segment, after IP and TCP options (RFC 9293 §3.7.1). */
  mss = 536;
  /** Window scale shifts (RFC 7323 §2.2); both 0 unless both sides sent the option. */
  sndWscale = 0;
  rcvWscale = 0;
  /** Window scaling negotiated (both SYNs carried the option). */
  wsOk = false;
  /** Our shift, proposed in our SYN before negotiation ends. */
  wantRcvWscale = 0;
  /** RFC 7323 timestamps negotiated. */
  tsOk = false;
  /** TS.Recent and when it was last updated (RFC 7323 §4.3, §5.5). */
  tsRecent = 0;
  tsRecentAt = 0 as Instant;
  /** Per-connection timestamp offset (RFC 7323 §5.4). */
  tsOffset = 0;
  /** SACK negotiated (RFC 2018 §2). */
  sackOk = false;

  // Buffers.
  /** Sequence number of the first byte in `sndBuf` (SND.UNA once the SYN is acknowledged). */
  sndBase = 0 as Seq;
  readonly sndBuf: SendBuffer;
  readonly rcvBuf: RecvBuffer;
  readonly ooo: Reassembly;
  /** The user asked to close the sending side: a FIN follows the last byte of sndBuf. */
  finQueued = false;
  /** Our FIN has been sent at least once (its sequence number is sndBase + sndBuf.length). */
  finSent = false;
  /** Sequence number of the peer's FIN if it arrived out of order. */
  peerFinSeq: Seq | undefined;
  /** The user shut down reading (or closed): received data is discarded. */
  readShut = false;
  /** The user has released the socket (close()): nobody will read or write again. */
  orphan = false;

  // ACK generation.
  /** An ACK should go out with the next output (immediately). */
  ackNow = false;
  /** RCV.NXT when we last sent an ACK (Linux's rcv_wup): data beyond it is not yet acknowledged. */
  rcvWup = 0 as Seq;
  /** Our estimate of the peer's segment size (Linux's icsk_ack.rcv_mss): "full-sized" for delayed ACKs. */
  rcvMss = 536;
  /** The adaptive delayed-ACK timeout in µs (Linux's icsk_ack.ato); 0 until the first data arrives. */
  ato = 0;
  /** When data last arrived (Linux's icsk_ack.lrcvtime), for `ato`. */
  lastDataAt = 0 as Instant;

  // Receive-buffer auto-tuning (autotune.ts; Linux's rcvq_space and rcv_rtt_est).
  /** Bytes the application has read from this connection (Linux's copied_seq, as a count). */
  rcvCopied = 0;
  /** Bytes read in the last measured round trip (0: not measuring yet), the count then, and when. */
  rcvSpace = 0;
  rcvSpaceCopied = 0;
  rcvSpaceAt = 0 as Instant;
  /** The receiver's RTT estimate in µs (0: none yet); the window-based probe's end and start; the last TSecr used. */
  rcvRtt = 0;
  rcvRttSeq = 0 as Seq;
  rcvRttAt: Instant | undefined;
  rcvRttTsecr = 0;
  /**
   * A D-SACK block for the next segment (RFC 2883 §4): the duplicate range [dsackLeft,
   * dsackRight) just received; reported once, as the first SACK block.
   */
  dsack = false;
  dsackLeft = 0 as Seq;
  dsackRight = 0 as Seq;
  /** Quick-ACK segments left (Linux's quickack mode at connection start). */
  quickAcks = 0;
  /** RFC 5961 challenge ACK rate limiting, per connection. */
  challengeWindowStart = 0 as Instant;
  challengeCount = 0;

  // Timers: deadlines as data; the stack's wheel only indexes them.
  /** Retransmission timer (SYN, SYN-ACK, data, FIN). */
  rtxAt: Instant | undefined;
  /** Persist (zero-window probe) timer. */
  persistAt: Instant | undefined;
  /** Delayed-ACK timer. */
  delackAt: Instant | undefined;
  /** Keepalive timer. */
  keepaliveAt: Instant | undefined;
  /** TIME-WAIT expiry or orphaned FIN-WAIT-2 timeout. */
  waitAt: Instant | undefined;
  /** The instant for which this TCB is currently indexed in the wheel (older entries are stale). */
  wheelAt: Instant | undefined;

  /** Consecutive retransmissions of the current head (SYN, SYN-ACK or data), for limits and backoff. */
  retransmits = 0;
  /** When the retransmission timer that first expired for the current head was started (for TCP_USER_TIMEOUT). */
  firstRetransmitAt: Instant | undefined;
  /** Zero-window probes sent since the window closed: the exponent of their backoff (Linux's icsk_backoff). */
  probes = 0;
  /** Zero-window probes in a row that no ACK answered (Linux's icsk_probes_out), for giving up on a dead peer. */
  probesOut = 0;
  /** Keepalive probes sent without an answer. */
  keepaliveProbes = 0;
  /** Last time a segment arrived (keepalive idle time and RFC 7323 §5.5). */
  lastRecvAt = 0 as Instant;
  /**
   * When the current run of retransmissions began (SYN, SYN-ACK, data or FIN), and the sequence
   * number just past the highest one retransmitted; cleared once SND.UNA passes it. Timestamp
   * echoes older than `rtxSince` are not RTT samples (input.ts rttFromTsecr).
   */
  rtxSince: Instant | undefined;
  rtxHigh: Seq | undefined;
  /** Last time we sent data (RFC 5681 §4.1 restart after idle). */
  lastSendAt = 0 as Instant;
  /**
   * End of the most recently sent short (less than a full MSS) new-data segment, for Nagle's
   * algorithm with Minshall's refinement as Linux runs it (tp->snd_sml, tcp_minshall_check);
   * undefined until one is sent.
   */
  sndSml: Seq | undefined;

  // RTT measurement (RFC 6298) and Karn's algorithm.
  readonly rtt: RttEstimator;
  /** Sequence number being timed and when it was sent; undefined when nothing is timed. */
  rttSeq: Seq | undefined;
  rttSentAt = 0 as Instant;

  // Congestion control and loss recovery (src/tcp/recovery/controller.ts), created when data
  // transfer starts (TcpLayer.controller); cwnd and ssthresh live there, in bytes.
  /** The connection's congestion controller; undefined until data transfer starts. */
  cc: CongestionController | undefined;
  /** The smallest RTT sample taken before the controller existed (handed to it when it is made). */
  minRttBeforeCc: Duration | undefined;
  /** The initial window in bytes (RFC 6928) before the controller exists, following the MSS. */
  initialCwnd = 0;
  /** The last output was limited by cwnd with new data waiting (Linux tcp_is_cwnd_limited). */
  cwndLimited = false;
  /** ECN (RFC 3168) was negotiated on this connection. */
  ecnOk = false;
  /** The receiver's ECN echo state (RFC 3168 §6.1.3). */
  ecnRcv = new EcnReceiver(false);

  // Statistics for tools (tcp_info / `ss -ti`, src/trace/stats.ts); nothing in TCP reads them.
  /** Sequence space the peer acknowledged, SYN and FIN included (Linux tcpi_bytes_acked, RFC 4898 HCThruOctetsAcked). */
  bytesAcked = 0;
  /** Data bytes received in order (Linux tcpi_bytes_received, without the FIN). */
  bytesReceived = 0;
  /** Segments sent and received on this connection (tcpi_segs_out / tcpi_segs_in). */
  segsOut = 0;
  segsIn = 0;
  /** Segments retransmitted over the connection's life (tcpi_total_retrans). */
  totalRetrans = 0;
  /** The latest delivery-rate sample in bytes per second (0 until one is taken), see input.ts newAck. */
  deliveryRate = 0;
  /** Start of the interval being measured for the next delivery-rate sample, and bytesAcked then. */
  rateStartAt = 0 as Instant;
  rateStartBytes = -1; // -1: nothing in flight, no interval running

  /** The last soft ICMP error (Linux's sk_err_soft), reported if the connection times out. */
  softError: SocketErrorCode | undefined;
  /** A pending error for the user (SO_ERROR), delivered once. */
  error: SocketErrorCode | undefined;
  /** Why the connection ended, for diagnostics (kept after the error is consumed). */
  closeReason: SocketErrorCode | 'normal' | undefined;
  /** The listener this connection came from (passive open), until accepted. */
  listener: Listener | undefined;
  /** The connection was opened actively (connect) rather than from a listener. */
  active = false;
  /** TCP Fast Open (RFC 7413) state, for connections that use it (src/tcp/fastopen.ts). */
  fastOpen: FastOpenState | undefined;
  /** TCP_DEFER_ACCEPT: the peer's bare ACK of our SYN-ACK arrived and was dropped (Linux's inet_rsk(req)->acked). */
  deferAcked = false;
  /** Socket options: shared (with the listener and its other children, or the socket), never changed in place (TcpSocket.setOption replaces the object). */
  opts: SocketOptions;
  /** Readiness callback for the socket layer. */
  onReady: ((tcb: Tcb, events: number) => void) | undefined;
  /** Queued for output at the next poll. */
  queued = false;
  /** How trace events name this connection, built on first use (TcpLayer.ref). */
  traceRef: { readonly id: number; readonly local: string; readonly remote: string } | undefined;
  /** The route last looked up for this connection (TcpLayer.routeFor) and the routing generation it is valid for. */
  route: TcpRoute | undefined;
  routeGen = 0;
  /** Next TCB in the same demux hash bucket. */
  nextInBucket: Tcb | undefined;

  constructor(init: {
    id: number;
    local: IpAddr;
    localPort: number;
    remote: IpAddr;
    remotePort: number;
    hash: number;
    sndBuf: SendBuffer;
    rcvBuf: RecvBuffer;
    ooo: Reassembly;
    rtt: RttEstimator;
    opts: SocketOptions;
  }) {
    this.id = init.id;
    this.local = init.local;
    this.localPort = init.localPort;
    this.remote = init.remote;
    this.remotePort = init.remotePort;
    this.hash = init.hash;
    this.sndBuf = init.sndBuf;
    this.rcvBuf = init.rcvBuf;
    this.ooo = init.ooo;
    this.rtt = init.rtt;
    this.opts = init.opts;
  }

  /** Sequence number that follows the last queued byte: where our FIN goes. */
  get sndEnd(): Seq {
    return seqAdd(this.sndBase, this.sndBuf.length);
  }
  /** Sequence number of our FIN, if one is queued. */
  get finSeq(): Seq | undefined {
    return this.finQueued ? this.sndEnd : undefined;
  }
  /** Our FIN has been sent and acknowledged. */
  get finAcked(): boolean {
    return this.finSent && seqDiff(this.sndUna, this.sndEnd) > 0;
  }
  /** The congestion window in bytes (the controller's, or the initial window before it exists). */
  get cwnd(): number {
    return this.cc?.cc.cwnd ?? this.initialCwnd;
  }
  /** The slow-start threshold in bytes (INFINITE_SSTHRESH before any reduction). */
  get ssthresh(): number {
    return this.cc?.cc.ssthresh ?? INFINITE_SSTHRESH;
  }
  /** The congestion state (open / disorder / cwr / recovery / loss). */
  get caState(): CaState {
    return this.cc?.caState ?? 'open';
  }
  /** Bytes (and SYN/FIN) sent but not yet acknowledged. */
  get flight(): number {
    return seqDiff(this.sndNxt, this.sndUna);
  }
  /** The receive window we can offer now: free buffer space, minus what out-of-order data holds. */
  get rcvWindowSpace(): number {
    return Math.max(0, this.rcvBuf.free - this.ooo.bytes);
  }
  /** Earliest pending deadline, or undefined. */
  get nextDeadline(): Instant | undefined {
    // The controller's RACK reordering timer and TLP deadline are indexed by the same wheel.
    return earliest(earliest(earliest(this.rtxAt, this.persistAt), earliest(this.delackAt, this.keepaliveAt)), earliest(this.waitAt, this.cc?.deadline()));
  }
  /** "10.0.0.1:1234" for the local end. */
  get localName(): string {
    return endpointName(this.local, this.localPort);
  }
  /** "10.0.0.2:80" for the remote end. */
  get remoteName(): string {
    return endpointName(this.remote, this.remotePort);
  }
}

/** Formats an address and port as Node does in messages: `10.0.0.2:80`, `fd00::2:80`. */
export function endpointName(addr: IpAddr, port: number): string {
  return `${addr.toString()}:${port}`;
}
