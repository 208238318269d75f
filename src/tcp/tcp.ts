// The TCP layer of one stack: the demux table (RFC 9293 §3.10.7: exact 4-tuple, then a listener,
// else a reset), listeners, port bindings (RFC 6056), the one timer wheel for every connection,
// Linux-named counters, and the user calls (RFC 9293 §3.10.1-3.10.6: OPEN, SEND, RECEIVE, CLOSE,
// ABORT) that the socket API is built on. Read RFC 9293 §3.10 first.
import { type Instant, type Duration, after } from '../time/instant.js';
import { TimerWheel } from '../time/wheel.js';
import { IpAddr, mix32 } from '../wire/ip-addr.js';
import { TcpFlag, type TcpRepr, type TcpTimestamp, type SackBlock, TcpOptionScratch, parseTcpAt } from '../wire/tcp.js';
import type { Rng } from '../util/rng.js';
import { assertNever } from '../util/result.js';
import type { Tracer } from '../trace/events.js';
import { type Seq, seqAdd, seqDiff, seqGt, seqLe, seqLt } from './seq.js';
import type { TcpState } from './state.js';
import { type TcpConfig, defaultTcpConfig } from './config.js';
import type { SocketErrorCode } from './errors.js';
import { Tcb, Ready, type SocketOptions, endpointName } from './tcb.js';
import { Listener } from './listener.js';
import { SendBuffer } from './send-buffer.js';
import { RecvBuffer } from './recv-buffer.js';
import { Reassembly } from './reassembly.js';
import { RttEstimator } from './rtt.js';
import { rcvSpaceAdjust } from './autotune.js';
import { IsnGenerator } from './isn.js';
import { PortAllocator } from './ports.js';
import type { ClassifyTcb } from './classify.js';
import { segmentArrives, negotiateOptions } from './input.js';
import { TimeWaitTable, type TimeWaitInfo, timeWaitSegment, timeWaitAcceptsSyn, timeWaitReusable, timeWaitNextIss } from './timewait.js';
import { sendCookieSynAck, cookieAck, synAckWindow } from './syncookies.js';
import { FastOpenCache, fastOpenServerVerdict, prepareFastOpenClient, newFastOpenState } from './fastopen.js';
import { output, emit, sendAck, sendResetFor, sendActiveReset, armRetransmit, tsVal, retransmitOnTimeout, windowToOffer, sendProbe } from './output.js';
import { CongestionController } from './recovery/controller.js';

/** A route as TCP needs it: a source address and a path MTU. The IP layer's routes satisfy it. */
export interface TcpRoute {
  readonly src: IpAddr;
  readonly mtu: number;
  /** In-process link known clean: no L4 checksum is computed (as Linux loopback). */
  readonly checksumOffload?: boolean;
}

/** What TCP needs from the IP layer to send. */
export interface IpForTcp {
  /** Bumps whenever routes or path MTUs change, so cached routes can be revalidated. */
  readonly generation: number;
  route(dst: IpAddr, srcHint?: IpAddr): TcpRoute | undefined;
  /**
   * `route` for a segment sent without a connection to keep the answer (a SYN cookie's SYN-ACK,
   * an ACK from a TIME-WAIT record): valid until the next call, so the IP layer need not make a
   * route per segment (IpLayer.routeTransient). Optional: `route` serves when it is missing.
   */
  routeTransient?(dst: IpAddr, srcHint?: IpAddr): TcpRoute | undefined;
  l4Offset(route: TcpRoute): number;
  /** A frame with room for `l4Length` TCP bytes; `writesAll`: TCP writes all of them, so it need not be zero-filled. */
  allocFrame(route: TcpRoute, l4Length: number, writesAll?: boolean): Uint8Array;
  /** Sends the frame; returns an error code when it could not be sent (ignored: TCP retransmits). */
  transmit(route: TcpRoute, frame: Uint8Array, protocol: number, l4Length: number, now: Instant, options?: { ecn?: number }): unknown;
  /** Whether `addr` is one of this stack's addresses. */
  isLocalAddress(addr: IpAddr): boolean;
}

/** Where an arriving segment came from (filled by the IP layer). */
export interface TcpPacketInfo {
  readonly src: IpAddr;
  readonly dst: IpAddr;
  /** The checksum need not be verified (in-process link known clean). */
  readonly checksumOffload?: boolean;
  /** Sent to a multicast or broadcast address: never answered with a reset (RFC 1122 §4.2.3.10). */
  readonly multicast?: boolean;
  /** The IP header's ECN field (RFC 3168 §5): CE marks are echoed with ECE. */
  readonly ecn?: number;
  /** The frame is reused once input returns (PacketInfo.frameReused): received data is copied, never kept as a view. */
  readonly frameReused?: boolean;
}

/** An ICMP error about a segment we sent, as the IP layer reports it. */
export interface TcpIcmpError {
  readonly kind: 'unreachable' | 'frag-needed' | 'packet-too-big' | 'time-exceeded' | 'param-problem';
  readonly code: number;
  readonly family: 4 | 6;
  /** Our address and the peer's, from the quoted datagram. */
  readonly src: IpAddr;
  readonly dst: IpAddr;
  /** The quoted TCP header (at least 8 bytes when usable). */
  readonly quoted: Uint8Array;
}

/** Stack-wide TCP counters, named as Linux's `netstat -s` / nstat names them. */
export class TcpCounters {
  ActiveOpens = 0;
  PassiveOpens = 0;
  AttemptFails = 0;
  EstabResets = 0;
  CurrEstab = 0;
  InSegs = 0;
  OutSegs = 0;
  RetransSegs = 0;
  InErrs = 0;
  InCsumErrors = 0;
  OutRsts = 0;
  ListenOverflows = 0;
  ListenDrops = 0;
  TCPChallengeACK = 0;
  TCPAbortOnData = 0;
  TCPAbortOnClose = 0;
  TCPAbortOnLinger = 0;
  TCPAbortOnTimeout = 0;
  TCPFastRetrans = 0;
  /** Fast recoveries with SACK (RFC 6675) and without (NewReno, RFC 6582). */
  TCPSackRecovery = 0;
  TCPRenoRecovery = 0;
  /** Tail loss probes sent (RFC 8985 §7), and those that turned out to repair a loss. */
  TCPLossProbes = 0;
  TCPLossProbeRecovery = 0;
  /** Reductions undone because every retransmission proved spurious (RFC 3522 / D-SACK / F-RTO). */
  TCPDSACKUndo = 0;
  /** Timeouts that F-RTO (RFC 5682) found spurious. */
  TCPSpuriousRTOs = 0;
  TCPTimeouts = 0;
  TCPSynRetrans = 0;
  TCPKeepAliveProbes = 0;
  TimeWaitEntered = 0;
  // Server defences and TIME-WAIT economics (Linux's LINUX_MIB_* names).
  /** SYN-ACKs sent with a SYN cookie. */
  SyncookiesSent = 0;
  /** ACKs that returned a valid SYN cookie. */
  SyncookiesRecv = 0;
  /** ACKs checked as SYN cookies that were not valid. */
  SyncookiesFailed = 0;
  /** SYNs answered with a cookie because the SYN queue was full (or tcp_syncookies = 2). */
  TCPReqQFullDoCookies = 0;
  /** SYNs dropped because the SYN queue was full and cookies are off. */
  TCPReqQFullDrop = 0;
  /** TIME-WAIT records that lived out their 2*MSL (Linux's TW). */
  TW = 0;
  /** TIME-WAIT records taken over by connect() under tcp_tw_reuse (Linux's TWRecycled). */
  TWRecycled = 0;
  /** Connections that skipped TIME-WAIT because tcp_max_tw_buckets records already existed. */
  TCPTimeWaitOverflow = 0;
  /** Client SYNs whose data the server acknowledged (Fast Open worked). */
  TCPFastOpenActive = 0;
  /** Client SYNs with data the server did not acknowledge (fell back, data resent). */
  TCPFastOpenActiveFail = 0;
  /** Server: SYNs with a valid cookie whose data was accepted. */
  TCPFastOpenPassive = 0;
  /** Server: SYNs with a cookie that was not valid. */
  TCPFastOpenPassiveFail = 0;
  /** Server: Fast Open refused because the TCP_FASTOPEN queue was full. */
  TCPFastOpenListenOverflow = 0;
  /** Server: SYNs that asked for a Fast Open cookie. */
  TCPFastOpenCookieReqd = 0;
  /** Bare ACKs dropped by TCP_DEFER_ACCEPT. */
  TCPDeferAcceptDrop = 0;
  /** Drops by reason (beyond the named counters). */
  readonly drops = new Map<string, number>();

  /**
   * A snapshot as nstat prints it: the RFC 1213 TCP MIB counters prefixed `Tcp` (TcpActiveOpens,
   * TcpCurrEstab, ...), Linux's extensions prefixed `TcpExt` (TcpExtSyncookiesSent,
   * TcpExtListenOverflows, ...), and the drops by reason as `TcpDrop:<reason>`.
   */
  nstat(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(this)) {
      if (typeof v === 'number') out[(TCP_MIB.has(k) ? 'Tcp' : 'TcpExt') + k] = v;
    }
    for (const [reason, n] of this.drops) out[`TcpDrop:${reason}`] = n;
    return out;
  }
}

/** The counters of the RFC 1213 / RFC 4022 TCP MIB (nstat's `Tcp` group); the rest are Linux's `TcpExt`. */
const TCP_MIB = new Set(['ActiveOpens', 'PassiveOpens', 'AttemptFails', 'EstabResets', 'CurrEstab', 'InSegs', 'OutSegs', 'RetransSegs', 'InErrs', 'OutRsts', 'InCsumErrors']);

/** A local address and port reserved by bind() or listen(). */
export interface Binding {
  readonly addr: IpAddr;
  readonly port: number;
  readonly reuseAddr: boolean;
  listening: boolean;
}

/** Default per-socket options (Linux defaults). */
export function defaultSocketOptions(cfg: TcpConfig): SocketOptions {
  return {
    noDelay: false,
    cork: false,
    keepAlive: false,
    keepIdle: cfg.keepaliveIdle,
    keepInterval: cfg.keepaliveInterval,
    keepCount: cfg.keepaliveCount,
    linger: undefined,
    userTimeout: 0,
    maxSeg: 0,
    synCount: 0,
    linger2: 0,
    sndBuf: 0,
    rcvBuf: 0,
  };
}

/** How a connection is shut down (shutdown(2)). */
export type ShutdownHow = 'read' | 'write' | 'both';

/** The TCP layer. */
export class TcpLayer {
  readonly config: TcpConfig;
  readonly counters = new TcpCounters();
  /** Scratch objects reused per segment (no allocation on the hot path). */
  readonly scratchIn: TcpRepr = blankRepr();
  /** The timestamp and SACK blocks of `scratchIn`, reused (valid while one segment is processed). */
  private readonly scratchOptions = new TcpOptionScratch();
  readonly scratchOut: TcpRepr = blankRepr();
  readonly scratchTs: TcpTimestamp = { tsval: 0, tsecr: 0 };
  readonly scratchSack: SackBlock[] = [];
  readonly scratchSeg = { seq: 0 as Seq, ack: 0 as Seq, flags: 0, dataLen: 0, tsval: undefined as number | undefined };
  /** The SACK blocks of the ACK being processed, as the controller takes them (objects reused). */
  readonly sackRanges: { start: Seq; end: Seq }[] = [];
  /** The same blocks as a view of `sackRanges` of the right length (rebuilt only when the count changes). */
  sackView: readonly { start: Seq; end: Seq }[] = [];
  /** The IP ECN field of the segment being processed (RFC 3168 §5), for the receiver's echo. */
  rxEcn = 0;
  /** The frame of the segment being processed is reused after it (TcpPacketInfo.frameReused): its data must be copied. */
  rxFrameReused = false;
  private readonly scratchClassify = {
    state: 'CLOSED' as TcpState, rcvNxt: 0 as Seq, rcvWnd: 0, sndUna: 0 as Seq, sndNxt: 0 as Seq,
    maxSndWnd: 0, tsOk: false, tsRecent: 0, tsRecentAt: 0 as Instant,
  };

  /** Connections by 4-tuple hash; collisions chain through Tcb.nextInBucket. */
  private readonly conns = new Map<number, Tcb>();
  private connCount = 0;
  /** Listeners by local port. */
  private readonly listeners = new Map<number, Listener[]>();
  /** bind()/listen() reservations by local port. */
  private readonly bindings = new Map<number, Binding[]>();
  /** Connections per local port (for bind conflicts). */
  private readonly portUse = new Map<number, number>();
  /** The one timer wheel: connections, and the TIME-WAIT table for its earliest deadline. */
  private readonly wheel = new TimerWheel<Tcb | TimeWaitTable>();
  /** TIME-WAIT records (timewait.ts): what remains of connections in TIME-WAIT. */
  readonly timeWait = new TimeWaitTable();
  /** The earliest instant the TIME-WAIT table is indexed at in the wheel (as `Tcb.wheelAt`). */
  private timeWaitWheelAt: Instant | undefined;
  /** Fast Open cookies this client holds, per server (fastopen.ts). */
  readonly fastOpenCache = new FastOpenCache();
  /** Connections with work from user calls, flushed at the next poll. */
  private readonly dirty: Tcb[] = [];
  private lastNow = 0 as Instant;
  private nextId = 1;
  private readonly isn: IsnGenerator;
  readonly ports: PortAllocator;
  /**
   * The driver's clock, read only when the user calls in between polls (connect, close, ...), so
   * state changes carry the right time. Injected, never ambient: the core stays sans-IO.
   */
  clock: (() => Instant) | undefined;

  constructor(
    readonly ip: IpForTcp,
    rng: Rng,
    config: Partial<TcpConfig> = {},
    readonly name = 'stack',
    public tracer: Tracer | undefined = undefined,
  ) {
    this.config = { ...defaultTcpConfig(), ...config };
    this.isn = new IsnGenerator(rng);
    this.ports = new PortAllocator(rng, this.config.portRange);
  }

  // ---------------------------------------------------------------------------------------
  // Input

  /** A TCP segment arrived from the IP layer (RFC 9293 §3.10.7). */
  input(pkt: TcpPacketInfo, bytes: Uint8Array, now: Instant): void {
    this.inputAt(pkt, bytes, 0, bytes.length, now);
  }

  /** `input` for the segment `buf[off, off + len)`, read in place (the IP layer's path: no view of the segment, no parse result object). */
  inputAt(pkt: TcpPacketInfo, buf: Uint8Array, off: number, len: number, now: Instant): void {
    this.lastNow = now;
    this.counters.InSegs++;
    this.rxEcn = pkt.ecn ?? 0;
    this.rxFrameReused = pkt.frameReused === true;
    const verify = this.config.checksums && pkt.checksumOffload !== true;
    const seg = this.scratchIn;
    const error = parseTcpAt(buf, off, len, verify ? pkt.src : undefined, pkt.dst, seg, this.scratchOptions);
    if (error !== undefined) {
      this.counters.InErrs++;
      if (error === 'bad-checksum') this.counters.InCsumErrors++;
      this.countDrop(`bad-segment:${error}`);
      return;
    }
    const local = pkt.dst;
    const remote = pkt.src;
    const tcb = this.lookup(local, seg.dstPort, remote, seg.srcPort);
    // TIME-WAIT records (timewait.ts) share the 4-tuple space with connections; a 4-tuple is in
    // at most one of the two tables.
    let isn: Seq | undefined;
    if (tcb === undefined && this.timeWait.size > 0) {
      const tw = this.timeWait.find(local, seg.dstPort, remote, seg.srcPort);
      if (tw >= 0) {
        // RFC 9293 §3.10.7.4 note / RFC 6191: a new SYN for a TIME-WAIT 4-tuple may reopen it when
        // its sequence number (or timestamp) shows it cannot be an old duplicate, as Linux does in
        // tcp_timewait_state_process (TCP_TW_SYN), with an ISS beyond the old incarnation's.
        // Only a listener can take the new incarnation: without one, Linux's tcp_v4_rcv (TCP_TW_SYN
        // with no listener found) keeps the TIME-WAIT and answers with an ACK, which the record
        // produces below; deleting it here would answer the SYN with a RST.
        const f = seg.flags;
        if (f & TcpFlag.SYN && !(f & (TcpFlag.ACK | TcpFlag.RST)) && timeWaitAcceptsSyn(this.timeWait, tw, seg) &&
          this.findListener(local, seg.dstPort) !== undefined) {
          isn = timeWaitNextIss(this.timeWait, tw);
          this.killTimeWait(tw, 'new SYN reopened TIME-WAIT', now);
        } else {
          timeWaitSegment(this, tw, local, remote, seg, now);
          return;
        }
      }
    }
    if (tcb !== undefined) {
      tcb.segsIn++; // tcp_info statistics (src/trace/stats.ts)
      segmentArrives(this, tcb, seg, now);
      if (tcb.state !== 'CLOSED') output(this, tcb, now);
      return;
    }
    const l = this.findListener(local, seg.dstPort);
    if (l !== undefined) {
      this.listenInput(l, local, remote, seg, now, isn);
      return;
    }
    // RFC 9293 §3.10.7.1: CLOSED. "An incoming segment containing a RST is discarded. An incoming
    // segment not containing a RST causes a RST to be sent in response." RFC 1122 §4.2.3.10:
    // never in answer to a segment sent to a broadcast or multicast address.
    this.countDrop('no-socket');
    if (pkt.multicast !== true) sendResetFor(this, local, remote, seg, now);
  }

  /**
   * RFC 9293 §3.10.7.2: SEGMENT ARRIVES in LISTEN, with the defences of Linux's tcp_conn_request:
   * SYN cookies when the SYN queue is full (syncookies.ts), Fast Open (fastopen.ts), and SYNs
   * that reopen a TIME-WAIT 4-tuple (`isn`: the ISS beyond the old incarnation).
   */
  private listenInput(l: Listener, local: IpAddr, remote: IpAddr, seg: TcpRepr, now: Instant, isn: Seq | undefined): void {
    const f = seg.flags;
    // "First, check for a RST: An incoming RST segment could not be valid since it could not have
    // been sent in response to anything sent by this incarnation of the connection."
    if (f & TcpFlag.RST) {
      this.countDrop('listen:rst');
      return;
    }
    // "Second, check for an ACK: Any acknowledgment is bad if it arrives on a connection still in
    // the LISTEN state. An acceptable reset segment should be formed ... <SEQ=SEG.ACK><CTL=RST>".
    if (f & TcpFlag.ACK) {
      // Deviation (RFC 4987 §3.6, as Linux's tcp_v4_cookie_check): after SYN cookies were sent,
      // an ACK may be the third segment of a handshake whose state is in the cookie.
      if (!(f & TcpFlag.SYN)) {
        const c = cookieAck(this, l, local, remote, seg, now);
        switch (c.kind) {
          case 'child':
          case 'accept-queue-full':
            return;
          case 'failed':
          case 'not-a-cookie':
            break;
          default:
            assertNever(c, 'cookie outcome');
        }
      }
      this.countDrop('listen:ack');
      sendResetFor(this, local, remote, seg, now);
      return;
    }
    if (!(f & TcpFlag.SYN)) {
      this.countDrop('listen:no-syn');
      return;
    }
    // Linux (tcp_rcv_state_process): a SYN that also carries FIN is discarded.
    if (f & TcpFlag.FIN) {
      this.countDrop('listen:syn-fin');
      return;
    }
    if (l.closed) return;
    const cfg = this.config;
    // Linux (tcp_conn_request, tcp_syn_flood_action): a full SYN queue, or every SYN with
    // tcp_syncookies = 2, is answered with a cookie, or dropped when cookies are off. "TW buckets
    // are converted to open requests without limitations": a SYN reopening TIME-WAIT skips this.
    let wantCookie = false;
    if (isn === undefined && (cfg.syncookies === 2 || l.synQueueFull)) {
      if (cfg.syncookies === 0) {
        this.counters.TCPReqQFullDrop++;
        this.counters.ListenDrops++;
        this.countDrop('listen:syn-queue-full');
        return;
      }
      this.counters.TCPReqQFullDoCookies++;
      wantCookie = true;
    }
    // Linux (tcp_conn_request): a full accept queue drops new SYNs, cookies or not.
    if (l.acceptQueueFull) {
      this.counters.ListenOverflows++;
      this.counters.ListenDrops++;
      this.countDrop('listen:accept-queue-full');
      return;
    }
    if (wantCookie) {
      sendCookieSynAck(this, l, local, remote, seg, now);
      return;
    }
    const tfo = fastOpenServerVerdict(this, l, local, remote, seg);
    const tcb = this.newTcb(local, seg.dstPort, remote, seg.srcPort, l.childOpts, now);
    if (isn !== undefined) this.setIss(tcb, isn);
    tcb.listener = l;
    // "Set RCV.NXT to SEG.SEQ+1, IRS is set to SEG.SEQ, and any other control or text should be
    // queued for processing later. ISS should be selected and a SYN segment sent of the form:
    // <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>". Deviation: like Linux, text in a SYN is only taken
    // with Fast Open (below); otherwise it is not acknowledged, so the peer sends it again.
    tcb.irs = seg.seq;
    tcb.rcvNxt = seqAdd(seg.seq, 1);
    tcb.rcvAdv = tcb.rcvNxt;
    tcb.lastRecvAt = now;
    negotiateOptions(this, tcb, seg, now);
    tcb.sndWnd = seg.window;
    tcb.maxSndWnd = seg.window;
    tcb.sndWl1 = seg.seq;
    tcb.sndWl2 = tcb.iss;
    this.insert(tcb);
    this.counters.PassiveOpens++;
    tcb.segsIn = 1; // the SYN (tcp_info statistics)
    switch (tfo.kind) {
      case 'accept': {
        // RFC 7413 §4.2.2: with a valid cookie the server "MAY ... deliver the data to the
        // application" at once; Linux (tcp_try_fastopen, tcp_fastopen_create_child) creates the
        // child now and puts it straight into the accept queue, still in SYN-RECEIVED, with the
        // SYN's data readable and its SYN-ACK acknowledging that data.
        const fo = newFastOpenState();
        fo.passive = true;
        fo.pendingOn = l;
        tcb.fastOpen = fo;
        l.fastOpenPending++;
        if (seg.payload.length > 0) {
          const n = tcb.rcvBuf.push(seg.payload);
          tcb.rcvNxt = seqAdd(tcb.rcvNxt, n);
          tcb.rcvAdv = tcb.rcvNxt;
        }
        l.acceptQueue.push(tcb);
        this.counters.TCPFastOpenPassive++;
        this.setState(tcb, 'SYN-RECEIVED', 'SYN with a valid Fast Open cookie', now);
        output(this, tcb, now);
        l.onReady?.(l, Ready.ACCEPT);
        return;
      }
      case 'cookie': {
        // RFC 7413 §4.1.2: a cookie request (or a cookie that is not valid) is answered with a
        // cookie in the SYN-ACK; any data is not acknowledged and the client sends it again.
        const fo = newFastOpenState();
        fo.option = tfo.cookie;
        fo.experimental = tfo.experimental;
        tcb.fastOpen = fo;
        break;
      }
      case 'none':
        break;
      default:
        assertNever(tfo, 'Fast Open verdict');
    }
    l.synQueue.add(tcb);
    this.setState(tcb, 'SYN-RECEIVED', 'SYN received on a listener', now);
    output(this, tcb, now);
  }

  /**
   * Rebuilds a connection from the ACK that returned a valid SYN cookie (Linux's cookie_v4_check
   * and tcp_get_cookie_sock): ESTABLISHED straight into the accept queue, with the MSS the
   * cookie encodes and the options its timestamp echo carried; then the ACK itself (and any data
   * it carries) is processed by the new connection. The caller has checked the accept queue.
   */
  rebuildFromCookie(l: Listener, local: IpAddr, remote: IpAddr, seg: TcpRepr, peerMss: number, tsOk: boolean,
    wscale: number | undefined, sack: boolean, now: Instant): Tcb {
    const tcb = this.newTcb(local, seg.dstPort, remote, seg.srcPort, l.childOpts, now);
    this.setIss(tcb, seqAdd(seg.ack, -1));
    tcb.sndUna = tcb.sndNxt = seg.ack; // our SYN, acknowledged by this ACK
    tcb.rttSeq = undefined; // no RTT sample: the SYN-ACK's send time was not kept
    tcb.irs = seqAdd(seg.seq, -1);
    tcb.rcvNxt = seg.seq;
    tcb.peerMss = peerMss;
    tcb.wsOk = wscale !== undefined;
    tcb.sndWscale = wscale ?? 0;
    tcb.rcvWscale = wscale !== undefined ? tcb.wantRcvWscale : 0;
    tcb.sackOk = sack;
    tcb.tsOk = tsOk;
    const ts = seg.options.timestamp;
    if (tsOk && ts !== undefined) {
      tcb.tsRecent = ts.tsval;
      tcb.tsRecentAt = now;
    }
    // The window our cookie SYN-ACK offered (sendCookieSynAck), so the right edge never moves left.
    tcb.rcvAdv = seqAdd(tcb.rcvNxt, synAckWindow(this.config.rcvBuf, tcb.advMss, tsOk));
    this.updateMss(tcb);
    tcb.sndWnd = seg.window << tcb.sndWscale;
    tcb.maxSndWnd = tcb.sndWnd;
    tcb.sndWl1 = seg.seq;
    tcb.sndWl2 = seg.ack;
    tcb.listener = l;
    l.acceptQueue.push(tcb);
    this.insert(tcb);
    this.counters.PassiveOpens++;
    this.setState(tcb, 'ESTABLISHED', 'ACK with a valid SYN cookie', now);
    tcb.segsIn++; // tcp_info statistics
    segmentArrives(this, tcb, seg, now);
    if (tcb.state !== 'CLOSED') output(this, tcb, now);
    l.onReady?.(l, Ready.ACCEPT);
    return tcb;
  }

  /** Gives a fresh connection a chosen ISS (SYN cookies, TIME-WAIT reopening and reuse). */
  private setIss(tcb: Tcb, iss: Seq): void {
    tcb.iss = tcb.sndUna = tcb.sndNxt = iss;
    tcb.sndBase = seqAdd(iss, 1);
    tcb.rttSeq = seqAdd(iss, 1);
  }

  /**
   * An ICMP error quoting one of our segments (RFC 1122 §4.2.3.9, RFC 5927). The quoted sequence
   * number must lie in [SND.UNA, SND.NXT) or the message is ignored as a possible blind attack
   * (RFC 5927 §4.1). Hard errors (protocol or port unreachable, administratively prohibited)
   * abort a connection that is still opening; everything else is a soft error remembered and
   * reported only if the connection then times out ("soft errors ... MUST NOT abort", MUST-56).
   * Fragmentation needed / packet too big lower the MSS (RFC 1191, RFC 8201): the IP layer has
   * already recorded the path MTU.
   */
  icmpError(err: TcpIcmpError, now: Instant): void {
    this.lastNow = now;
    const q = err.quoted;
    if (q.length < 8) {
      this.countDrop('icmp:short-quote');
      return;
    }
    const srcPort = (q[0]! << 8) | q[1]!;
    const dstPort = (q[2]! << 8) | q[3]!;
    const seq = (((q[4]! << 24) | (q[5]! << 16) | (q[6]! << 8) | q[7]!) | 0) as Seq;
    const tcb = this.lookup(err.src, srcPort, err.dst, dstPort);
    if (tcb === undefined) {
      this.countDrop('icmp:no-connection');
      return;
    }
    if (!(seqLe(tcb.sndUna, seq) && seqLt(seq, tcb.sndNxt)) && !(tcb.state === 'SYN-SENT' && seq === tcb.iss)) {
      this.countDrop('icmp:seq-out-of-window');
      return;
    }
    switch (err.kind) {
      case 'frag-needed':
      case 'packet-too-big': {
        const before = tcb.mss;
        this.updateMss(tcb);
        if (tcb.mss < before && tcb.flight > 0 && tcb.cc !== undefined) {
          // Like Linux's tcp_simple_retransmit: what is in flight is lost (too big for the path);
          // resend it at the new size now, without a congestion reduction.
          tcb.cc.markAllLost();
          output(this, tcb, now);
        }
        return;
      }
      case 'unreachable':
      case 'time-exceeded':
      case 'param-problem': {
        const code = icmpSocketError(err);
        const hard = err.kind === 'unreachable' && isHardUnreachable(err.family, err.code);
        if (hard && (tcb.state === 'SYN-SENT' || (tcb.state === 'SYN-RECEIVED' && tcb.active))) {
          this.fail(tcb, code, `ICMP ${err.kind} code ${err.code}`, now);
        } else {
          tcb.softError = code;
        }
        return;
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Time

  /** The earliest instant at which `poll` has work: a connection deadline, or now if user calls are pending. */
  pollAt(): Instant | undefined {
    if (this.dirty.length > 0) return this.lastNow;
    return this.wheel.nextAt();
  }

  /** Flushes user calls and runs every timer due at `now`. */
  poll(now: Instant): void {
    this.lastNow = now;
    this.flush(now);
    this.wheel.expire(now, (item, at) => {
      if (item instanceof TimeWaitTable) {
        this.timeWaitTimer(at, now);
        return;
      }
      const tcb = item;
      if (tcb.wheelAt !== at) return; // stale index entry: the deadline moved
      tcb.wheelAt = undefined;
      this.timers(tcb, now);
      if (tcb.state !== 'CLOSED') this.arm(tcb);
    });
    this.flush(now);
  }

  /** The current time for a user call: the driver's clock if one was given, else the last poll. */
  get now(): Instant {
    const t = this.clock?.();
    if (t !== undefined && t > this.lastNow) this.lastNow = t;
    return this.lastNow;
  }

  /** Indexes the TCB's earliest deadline in the wheel, if it is earlier than what is indexed. */
  arm(tcb: Tcb): void {
    const d = tcb.nextDeadline;
    if (d === undefined) return;
    if (tcb.wheelAt === undefined || d < tcb.wheelAt) {
      tcb.wheelAt = d;
      this.wheel.schedule(d, tcb);
    }
  }

  private flush(now: Instant): void {
    while (this.dirty.length > 0) {
      const tcb = this.dirty.pop()!;
      tcb.queued = false;
      if (tcb.state !== 'CLOSED') output(this, tcb, now);
    }
  }

  /** Marks a connection as having output to send at the next poll (user calls never send synchronously). */
  private kick(tcb: Tcb): void {
    if (!tcb.queued) {
      tcb.queued = true;
      this.dirty.push(tcb);
    }
  }

  /** Runs the connection's due timers. */
  private timers(tcb: Tcb, now: Instant): void {
    if (tcb.waitAt !== undefined && tcb.waitAt <= now) {
      tcb.waitAt = undefined;
      // TIME-WAIT: "When the time-wait timeout expires, delete the TCB" (RFC 9293 §3.10.8).
      // Orphaned FIN-WAIT-2: Linux's tcp_fin_timeout ends it silently.
      this.destroy(tcb, tcb.state === 'TIME-WAIT' ? '2*MSL elapsed' : 'FIN-WAIT-2 timeout', now);
      return;
    }
    if (tcb.rtxAt !== undefined && tcb.rtxAt <= now) {
      tcb.rtxAt = undefined;
      this.retransmitTimeout(tcb, now);
      if (tcb.state === 'CLOSED') return;
    }
    if (tcb.persistAt !== undefined && tcb.persistAt <= now) {
      tcb.persistAt = undefined;
      this.persistTimeout(tcb, now);
      if (tcb.state === 'CLOSED') return;
    }
    if (tcb.keepaliveAt !== undefined && tcb.keepaliveAt <= now) {
      tcb.keepaliveAt = undefined;
      this.keepaliveTimeout(tcb, now);
      if (tcb.state === 'CLOSED') return;
    }
    if (tcb.delackAt !== undefined && tcb.delackAt <= now) {
      tcb.delackAt = undefined;
      tcb.ackNow = true;
      output(this, tcb, now);
    }
    this.controllerTimer(tcb, now);
  }

  /** RACK's reordering timer (RFC 8985 §6.2) and the TLP timer (§7.3): deadlines of the controller. */
  private controllerTimer(tcb: Tcb, now: Instant): void {
    const cc = tcb.cc;
    const d = cc?.deadline();
    if (cc === undefined || d === undefined || d > now) return;
    switch (tcb.state) {
      case 'ESTABLISHED':
      case 'CLOSE-WAIT':
      case 'FIN-WAIT-1':
      case 'CLOSING':
      case 'LAST-ACK':
        break;
      default:
        cc.reoAt = cc.ptoAt = undefined;
        return;
    }
    const unsent = Math.max(0, Math.min(seqDiff(tcb.sndEnd, tcb.sndNxt), seqDiff(seqAdd(tcb.sndUna, tcb.sndWnd), tcb.sndNxt)));
    const act = cc.onTimer(now, unsent);
    switch (act.kind) {
      case 'none':
        break;
      case 'reo-timeout':
        output(this, tcb, now);
        break;
      case 'probe':
        sendProbe(this, tcb, act.probe, now);
        break;
      default:
        assertNever(act, 'controller timer action');
    }
    this.traceCwnd(tcb, now);
  }

  /** RFC 6298 §5.4-5.7 and the retry limits (tcp_syn_retries, tcp_synack_retries, tcp_retries2, TCP_USER_TIMEOUT). */
  private retransmitTimeout(tcb: Tcb, now: Instant): void {
    this.counters.TCPTimeouts++;
    const cfg = this.config;
    // TCP_USER_TIMEOUT (RFC 5482) bounds how long data may stay unacknowledged, so it counts from
    // when the timer that just expired was started (the head's transmission or the last ACK that
    // advanced SND.UNA), as Linux counts from retrans_stamp, not from this first expiry.
    if (tcb.firstRetransmitAt === undefined) tcb.firstRetransmitAt = (now - tcb.rtt.rto) as Instant;
    const userTimeout = tcb.opts.userTimeout;
    const userTimedOut = userTimeout > 0 && now - tcb.firstRetransmitAt >= userTimeout;
    switch (tcb.state) {
      case 'SYN-SENT': {
        const limit = tcb.opts.synCount > 0 ? tcb.opts.synCount : cfg.synRetries;
        if (tcb.retransmits >= limit || userTimedOut) {
          this.fail(tcb, 'ETIMEDOUT', 'SYN retries exhausted', now);
          return;
        }
        tcb.retransmits++;
        tcb.rtt.backoff();
        this.counters.TCPSynRetrans++;
        emit(this, tcb, TcpFlag.SYN, tcb.iss, 0, now);
        this.counters.RetransSegs++;
        this.traceRetransmit(tcb, tcb.iss, 0, now);
        armRetransmit(this, tcb, now);
        return;
      }
      case 'SYN-RECEIVED': {
        // With TCP_DEFER_ACCEPT, Linux's syn_ack_recalc (inet_connection_sock.c): once the peer's
        // bare ACK has been dropped no SYN-ACK is resent until the last deferral period ("start to
        // resend on end of deferring period to give last chance for data or ACK to create
        // established socket"), and the child expires only when both the SYN-ACK retries and the
        // deferral have run out. `retransmits` counts the timeouts (Linux's num_timeout).
        const passiveFastOpen = tcb.fastOpen?.passive === true;
        const defer = !tcb.active && !passiveFastOpen && tcb.listener !== undefined ? tcb.listener.deferAccept : 0;
        // Linux (tcp_fastopen_synack_timer): a Fast Open child gets one more SYN-ACK retry.
        const maxRetries = cfg.synackRetries + (passiveFastOpen ? 1 : 0);
        const expire = defer === 0
          ? tcb.retransmits >= maxRetries
          : tcb.retransmits >= maxRetries && (!tcb.deferAcked || tcb.retransmits >= defer);
        const resend = defer === 0 || !tcb.deferAcked || tcb.retransmits >= defer - 1;
        if (expire || userTimedOut) {
          // A Fast Open child may already belong to the application: it learns of the failure.
          if (tcb.active || passiveFastOpen) this.fail(tcb, 'ETIMEDOUT', 'SYN-ACK retries exhausted', now);
          else this.dropChild(tcb, 'SYN-ACK retries exhausted', now);
          return;
        }
        tcb.retransmits++;
        tcb.rtt.backoff();
        if (resend) {
          this.counters.TCPSynRetrans++;
          emit(this, tcb, TcpFlag.SYN | TcpFlag.ACK, tcb.iss, 0, now);
          this.counters.RetransSegs++;
          this.traceRetransmit(tcb, tcb.iss, 0, now);
        }
        armRetransmit(this, tcb, now);
        return;
      }
      case 'ESTABLISHED':
      case 'FIN-WAIT-1':
      case 'CLOSE-WAIT':
      case 'CLOSING':
      case 'LAST-ACK': {
        if (tcb.flight === 0) return;
        // RFC 9293 §3.8.3 (MUST-20): R2, after which the connection is closed. Like Linux
        // (tcp_write_timeout, retransmits_timed_out) the limit is a time, not a count:
        // tcp_retries2 = 15 means as long as 15 doubling retransmissions from TCP_RTO_MIN would
        // take (924.6 s with the 120 s cap), so a path with a long RTO gets the same time to recover.
        // An orphan gets tcp_orphan_retries (8: 102.2 s); a TCP_USER_TIMEOUT replaces either.
        // Linux (tcp_retransmit_timer): while the peer advertises a zero window our
        // retransmissions are window probes, and the connection only times out when nothing at
        // all has been heard from the peer for TCP_RTO_MAX.
        const zeroWindow = tcb.sndWnd === 0 && !tcb.orphan;
        const limit = userTimeout > 0 ? userTimeout : retransmitLimit(tcb.orphan ? ORPHAN_RETRIES : cfg.retries2, cfg.minRto, cfg.maxRto);
        const expired = zeroWindow
          ? userTimedOut || now - tcb.lastRecvAt > cfg.maxRto
          : tcb.retransmits > 0 && now - tcb.firstRetransmitAt >= limit;
        if (expired) {
          this.counters.TCPAbortOnTimeout++;
          this.fail(tcb, 'ETIMEDOUT', 'retransmission limit reached', now);
          return;
        }
        // RFC 5681 §3.1: ssthresh from the algorithm and cwnd = 1 segment (the loss window); the
        // controller marks what is lost (RFC 6675 §5.1, RFC 8985 §6.3) and output retransmits it
        // from SND.UNA (RFC 6298 §5.4 retransmits the earliest segment).
        this.controller(tcb, now).onRetransmitTimeout(now);
        tcb.retransmits++;
        tcb.rtt.backoff(); // RFC 6298 §5.5
        this.traceCwnd(tcb, now);
        retransmitOnTimeout(this, tcb, now); // output.ts
        armRetransmit(this, tcb, now);
        // Linux (tcp_clamp_rto_to_user_timeout): the backed-off timer fires no later than the
        // user timeout, so ETIMEDOUT comes when TCP_USER_TIMEOUT says, not at the next RTO.
        if (userTimeout > 0 && tcb.rtxAt !== undefined) {
          tcb.rtxAt = Math.min(tcb.rtxAt, tcb.firstRetransmitAt + userTimeout) as Instant;
        }
        return;
      }
      case 'FIN-WAIT-2':
      case 'TIME-WAIT':
      case 'CLOSED':
      case 'LISTEN':
        return;
    }
  }

  /**
   * RFC 9293 §3.8.6.1: zero-window probing. Like Linux (tcp_xmit_probe_skb), the probe is a
   * segment with SEQ = SND.UNA - 1 and no data: out of window, so the peer must answer with an
   * ACK carrying its current window. Probes back off like the RTO.
   */
  private persistTimeout(tcb: Tcb, now: Instant): void {
    if (tcb.flight > 0) return;
    if (tcb.sndWnd > 0) {
      // The window opened a little but sender-side SWS avoidance held the runt: the override
      // timeout sends what fits (RFC 9293 §3.8.6.2.1; Linux tcp_write_wakeup).
      output(this, tcb, now, true);
      return;
    }
    // RFC 9293 §3.8.6.1 (MUST-37): a peer that keeps answering may keep its window closed
    // indefinitely. One that stops answering is given up on as Linux's tcp_probe_timer does: after
    // tcp_retries2 probes in a row without any ACK (tcp_orphan_retries for an orphan), or once
    // unanswered probes have taken TCP_USER_TIMEOUT. `probesOut` restarts at every ACK (input.ts).
    const cfg = this.config;
    const base = Math.max(tcb.rtt.rto, cfg.minRto);
    const userTimeout = tcb.opts.userTimeout;
    if (tcb.probesOut >= (tcb.orphan ? ORPHAN_RETRIES : cfg.retries2) ||
      (userTimeout > 0 && tcb.probesOut > 0 && retransmitLimit(tcb.probesOut, base, cfg.maxRto) >= userTimeout)) {
      this.counters.TCPAbortOnTimeout++;
      this.fail(tcb, 'ETIMEDOUT', 'zero window probes unanswered', now);
      return;
    }
    emit(this, tcb, TcpFlag.ACK, seqAdd(tcb.sndUna, -1), 0, now);
    tcb.probesOut++;
    tcb.probes++;
    const backoff = Math.min(tcb.rtt.rto * 2 ** tcb.probes, this.config.maxRto);
    tcb.persistAt = after(now, backoff as Duration);
  }

  /**
   * RFC 1122 §4.2.3.6: keep-alive probes "SHOULD be sent ... with SEG.SEQ = SND.NXT-1"; after
   * TCP_KEEPCNT unanswered probes the connection is dropped with ETIMEDOUT (and, like Linux's
   * tcp_keepalive_timer, a reset is sent).
   */
  private keepaliveTimeout(tcb: Tcb, now: Instant): void {
    if (!tcb.opts.keepAlive || (tcb.state !== 'ESTABLISHED' && tcb.state !== 'CLOSE-WAIT' && tcb.state !== 'FIN-WAIT-2')) return;
    const idle = now - tcb.lastRecvAt;
    const o = tcb.opts;
    if (tcb.keepaliveProbes === 0 && idle < o.keepIdle) {
      tcb.keepaliveAt = (tcb.lastRecvAt + o.keepIdle) as Instant;
      return;
    }
    if (tcb.keepaliveProbes >= o.keepCount) {
      sendActiveReset(this, tcb, now);
      this.fail(tcb, 'ETIMEDOUT', 'keepalive probes unanswered', now);
      return;
    }
    if (tcb.flight === 0 && tcb.sndBuf.length === 0) {
      emit(this, tcb, TcpFlag.ACK, seqAdd(tcb.sndNxt, -1), 0, now);
      this.counters.TCPKeepAliveProbes++;
      tcb.keepaliveProbes++;
    }
    tcb.keepaliveAt = after(now, o.keepInterval as Duration);
  }

  /** (Re)starts the keepalive timer from the last time the peer was heard. */
  armKeepalive(tcb: Tcb, now: Instant): void {
    if (!tcb.opts.keepAlive) {
      tcb.keepaliveAt = undefined;
      return;
    }
    tcb.keepaliveAt = (Math.max(now, tcb.lastRecvAt) + (tcb.keepaliveProbes > 0 ? tcb.opts.keepInterval : tcb.opts.keepIdle)) as Instant;
    this.arm(tcb);
  }

  // ---------------------------------------------------------------------------------------
  // State changes

  /** Moves a connection to a new state, keeping CurrEstab and traces in step. */
  setState(tcb: Tcb, to: TcpState, why: string, now: Instant): void {
    const from = tcb.state;
    if (from === to) return;
    const wasEstab = from === 'ESTABLISHED' || from === 'CLOSE-WAIT';
    const isEstab = to === 'ESTABLISHED' || to === 'CLOSE-WAIT';
    if (wasEstab && !isEstab) this.counters.CurrEstab--;
    if (!wasEstab && isEstab) this.counters.CurrEstab++;
    // RFC 1213 tcpEstabResets, as Linux's tcp_set_state counts it: every direct transition from
    // ESTABLISHED or CLOSE-WAIT to CLOSED (a reset received or sent, a timeout, an abort).
    if (wasEstab && to === 'CLOSED') this.counters.EstabResets++;
    tcb.state = to;
    this.tracer?.({ kind: 'tcp-state', at: now, stack: this.name, conn: this.ref(tcb), from, to, why });
  }

  /** Ends a connection with an error for its user (ECONNREFUSED, ECONNRESET, ETIMEDOUT, ...). */
  fail(tcb: Tcb, code: SocketErrorCode, why: string, now: Instant): void {
    if (tcb.state === 'SYN-SENT' || tcb.state === 'SYN-RECEIVED') this.counters.AttemptFails++;
    // Linux (tcp_write_err): a timeout reports the last soft ICMP error if there was one.
    if (code === 'ETIMEDOUT' && tcb.softError !== undefined) code = tcb.softError;
    tcb.error = code;
    tcb.closeReason = code;
    this.tracer?.({ kind: 'tcp-error', at: now, stack: this.name, conn: this.ref(tcb), code });
    this.destroy(tcb, why, now);
  }

  /** A passive child dies before being accepted: RFC 9293 "return this connection to LISTEN". */
  dropChild(tcb: Tcb, why: string, now: Instant): void {
    this.counters.AttemptFails++;
    this.destroy(tcb, why, now);
  }

  /** Deletes the TCB: CLOSED, out of the demux table and the listener's queues, timers dropped. */
  destroy(tcb: Tcb, why: string, now: Instant): void {
    if (tcb.state === 'CLOSED' && !this.contains(tcb)) return;
    this.setState(tcb, 'CLOSED', why, now);
    tcb.closeReason ??= 'normal';
    tcb.rtxAt = tcb.persistAt = tcb.delackAt = tcb.keepaliveAt = tcb.waitAt = undefined;
    this.remove(tcb);
    this.releaseFastOpen(tcb); // a dead Fast Open child no longer holds a TCP_FASTOPEN queue place
    // Like Linux (tcp_reset -> tcp_done on a child already in the accept queue): an established
    // connection that dies with an error (reset, timeout) before accept() stays queued; accept()
    // returns it and the application reads the error (Node: 'connection', then 'read
    // ECONNRESET'). Only children still in the SYN queue, or of a closed listener, go away.
    const l = tcb.listener;
    const keepQueued = tcb.error !== undefined && l !== undefined && !l.closed && l.acceptQueue.includes(tcb);
    if (!keepQueued) this.leaveListener(tcb);
    this.notify(tcb, Ready.HANGUP | Ready.READABLE | Ready.WRITABLE | (tcb.error !== undefined ? Ready.ERROR : 0));
  }

  /**
   * Enters TIME-WAIT for 2*MSL (RFC 9293 §3.10.7.4). Like Linux's tcp_time_wait, the connection
   * leaves the demux table and a small record (timewait.ts) takes its 4-tuple for 2*MSL; the TCB
   * keeps state TIME-WAIT for whoever still holds it (a socket), and `timeWaitHolds` says when
   * the record has gone. With tcp_max_tw_buckets records already held, the connection closes at
   * once instead, counted in TCPTimeWaitOverflow, as Linux does when inet_twsk_alloc fails.
   */
  enterTimeWait(tcb: Tcb, why: string, now: Instant): void {
    this.setState(tcb, 'TIME-WAIT', why, now);
    this.counters.TimeWaitEntered++;
    // Linux's tcp_fin acknowledges the FIN before tcp_time_wait: the peer gets its ACK, and the
    // record keeps the window that ACK offered.
    if (tcb.ackNow) sendAck(this, tcb, now);
    tcb.rtxAt = tcb.persistAt = tcb.keepaliveAt = tcb.delackAt = tcb.waitAt = undefined;
    tcb.closeReason ??= 'normal';
    this.remove(tcb);
    this.leaveListener(tcb);
    if (this.timeWait.size >= this.config.maxTwBuckets) {
      this.counters.TCPTimeWaitOverflow++;
      this.countDrop('time-wait:overflow');
      this.setState(tcb, 'CLOSED', 'no TIME-WAIT bucket (tcp_max_tw_buckets)', now);
      this.notify(tcb, Ready.HANGUP | Ready.READABLE | Ready.WRITABLE);
      return;
    }
    const deadline = after(now, (2 * this.config.msl) as Duration);
    this.timeWait.add({
      id: tcb.id, local: tcb.local, localPort: tcb.localPort, remote: tcb.remote, remotePort: tcb.remotePort,
      sndNxt: tcb.sndNxt, rcvNxt: tcb.rcvNxt, rcvWnd: Math.max(0, (tcb.rcvAdv - tcb.rcvNxt) | 0), rcvWscale: tcb.rcvWscale,
      maxSndWnd: tcb.maxSndWnd, tsOk: tcb.tsOk, tsRecent: tcb.tsRecent, tsRecentAt: tcb.tsRecentAt, tsOffset: tcb.tsOffset, deadline,
    });
    this.portUse.set(tcb.localPort, (this.portUse.get(tcb.localPort) ?? 0) + 1);
    this.armTimeWait(deadline);
    this.notify(tcb, Ready.HANGUP);
  }

  /** Restarts a TIME-WAIT record's 2*MSL timer (a retransmitted FIN arrived). */
  restartTimeWaitRecord(slot: number, now: Instant): void {
    const deadline = after(now, (2 * this.config.msl) as Duration);
    this.timeWait.restart(slot, deadline);
    this.armTimeWait(deadline);
  }

  /**
   * Indexes the TIME-WAIT table in the wheel at `at` if that is earlier than where it is indexed.
   * The table keeps its records' deadlines in expiry order (timewait.ts), so the wheel holds one
   * entry for all of them, not one per record; a restart (a later deadline) schedules nothing.
   */
  private armTimeWait(at: Instant): void {
    if (this.timeWaitWheelAt === undefined || at < this.timeWaitWheelAt) {
      this.timeWaitWheelAt = at;
      this.wheel.schedule(at, this.timeWait);
    }
  }

  /**
   * The TIME-WAIT table's wheel entry fired: "When the time-wait timeout expires, delete the TCB"
   * (RFC 9293 §3.10.8) for every record due at `at`, then index the next deadline (if it is at or
   * before now, it fires in this same poll, in order with the connections' timers). An entry left
   * behind by an earlier index, or by a record deleted early, finds nothing due.
   */
  private timeWaitTimer(at: Instant, now: Instant): void {
    if (at === this.timeWaitWheelAt) this.timeWaitWheelAt = undefined;
    this.timeWait.expire(at, (slot) => {
      this.counters.TW++;
      this.dropTimeWait(slot, '2*MSL elapsed', now);
    });
    const next = this.timeWait.nextDeadline();
    if (next !== undefined) this.armTimeWait(next);
  }

  /** Deletes a TIME-WAIT record before its time (an RST without RFC 1337, a reopening SYN, tcp_tw_reuse). */
  killTimeWait(slot: number, why: string, now: Instant): void {
    this.dropTimeWait(slot, why, now);
  }

  private dropTimeWait(slot: number, why: string, now: Instant): void {
    const tw = this.timeWait;
    if (!tw.isLive(slot)) return;
    const port = tw.localPort(slot);
    if (this.tracer !== undefined) {
      const conn = { id: tw.id(slot), local: endpointName(tw.local(slot), port), remote: endpointName(tw.remote(slot), tw.remotePort(slot)) };
      this.tracer({ kind: 'tcp-state', at: now, stack: this.name, conn, from: 'TIME-WAIT', to: 'CLOSED', why });
    }
    tw.remove(slot);
    const n = (this.portUse.get(port) ?? 1) - 1;
    if (n === 0) this.portUse.delete(port);
    else this.portUse.set(port, n);
  }

  /** Whether the TIME-WAIT record of this connection still exists (a TCB left in TIME-WAIT is CLOSED once it has gone). */
  timeWaitHolds(tcb: Tcb): boolean {
    if (tcb.state !== 'TIME-WAIT') return false;
    const s = this.timeWait.find(tcb.local, tcb.localPort, tcb.remote, tcb.remotePort);
    return s >= 0 && this.timeWait.id(s) === tcb.id;
  }

  /** The TIME-WAIT record for an exact 4-tuple, if any (a copy, for tools and tests). */
  lookupTimeWait(local: IpAddr, localPort: number, remote: IpAddr, remotePort: number): TimeWaitInfo | undefined {
    const s = this.timeWait.find(local, localPort, remote, remotePort);
    return s >= 0 ? this.timeWait.info(s) : undefined;
  }

  /** Every TIME-WAIT record (copies, for socket tables such as `ss -tan`). */
  *timeWaitEntries(): IterableIterator<TimeWaitInfo> {
    for (const s of this.timeWait.slots()) yield this.timeWait.info(s);
  }

  /** Takes a connection out of its listener's queues (it is gone or no longer a child). */
  private leaveListener(tcb: Tcb): void {
    if (tcb.fastOpen?.pendingOn !== undefined) this.releaseFastOpen(tcb);
    const l = tcb.listener;
    if (l === undefined) return;
    l.synQueue.delete(tcb);
    const i = l.acceptQueue.indexOf(tcb);
    if (i >= 0) l.acceptQueue.splice(i, 1);
    tcb.listener = undefined;
  }

  /** A passive Fast Open child no longer counts against its listener's TCP_FASTOPEN queue. */
  private releaseFastOpen(tcb: Tcb): void {
    const fo = tcb.fastOpen;
    if (fo?.pendingOn === undefined) return;
    fo.pendingOn.fastOpenPending--;
    fo.pendingOn = undefined;
  }

  /** Orphaned FIN-WAIT-2: Linux's tcp_fin_timeout (or TCP_LINGER2). */
  armFinWait2(tcb: Tcb, now: Instant): void {
    const t = tcb.opts.linger2 > 0 ? tcb.opts.linger2 : this.config.finTimeout;
    tcb.waitAt = after(now, t as Duration);
    this.arm(tcb);
  }

  /**
   * The third segment of a passive open arrived: move the child from the SYN queue to the accept
   * queue, or, when that is full, behave like Linux (tcp_check_req / syn_recv_sock): drop the ACK
   * (the SYN-ACK timer will fire again) or reset if tcp_abort_on_overflow is set. `ack` is the
   * segment that completed the handshake.
   */
  completePassiveOpen(tcb: Tcb, now: Instant, ack: TcpRepr): boolean {
    const l = tcb.listener;
    const passiveFastOpen = tcb.fastOpen?.passive === true;
    if (passiveFastOpen) {
      // A Fast Open child has been in the accept queue since its SYN (RFC 7413 §4.2.2): the
      // handshake completing only frees its place in the TCP_FASTOPEN queue.
      this.releaseFastOpen(tcb);
    } else if (l !== undefined) {
      // TCP_DEFER_ACCEPT (Linux tcp_check_req): until the deferral's SYN-ACK timeouts have passed,
      // a bare ACK (no data, no FIN) does not complete the handshake; it is dropped and remembered
      // (inet_rsk(req)->acked), and the SYN-ACK timer decides what comes next (syn_ack_recalc).
      if (l.deferAccept > 0 && tcb.retransmits < l.deferAccept && ack.payload.length === 0 && !(ack.flags & TcpFlag.FIN)) {
        tcb.deferAcked = true;
        this.counters.TCPDeferAcceptDrop++;
        this.countDrop('defer-accept:bare-ack');
        return false;
      }
      if (l.acceptQueueFull || l.closed) {
        this.counters.ListenOverflows++;
        this.counters.ListenDrops++;
        this.countDrop('accept-queue-full');
        if (this.config.abortOnOverflow) {
          // Linux (tcp_check_req, embryonic_reset) answers the ACK itself with
          // tcp_v4_send_reset: <SEQ=SEG.ACK><CTL=RST>, as for a segment to no connection.
          sendResetFor(this, tcb.local, tcb.remote, ack, now);
          this.dropChild(tcb, 'accept queue overflow (tcp_abort_on_overflow)', now);
        }
        return false;
      }
      l.synQueue.delete(tcb);
      l.acceptQueue.push(tcb);
    }
    tcb.rtxAt = undefined;
    tcb.retransmits = 0;
    tcb.firstRetransmitAt = undefined;
    tcb.rtt.resetBackoff();
    this.setState(tcb, 'ESTABLISHED', 'ACK of SYN-ACK received', now);
    if (l !== undefined && !passiveFastOpen) l.onReady?.(l, Ready.ACCEPT);
    else this.notify(tcb, Ready.WRITABLE);
    return true;
  }

  /** Tells the socket layer about readiness changes. */
  notify(tcb: Tcb, events: number): void {
    tcb.onReady?.(tcb, events);
  }

  /** Recomputes the effective MSS from the route and options (RFC 9293 §3.7.1, RFC 6691). */
  updateMss(tcb: Tcb): void {
    const route = this.routeFor(tcb);
    const ipHdr = tcb.remote.family === 4 ? 20 : 40;
    const mtu = route?.mtu ?? 1500;
    const pathMss = mtu - ipHdr - 20;
    // "Eff.snd.MSS = min(SendMSS+20, MMS_S) - TCPhdrsize - IPoptionsize": the peer's MSS and our
    // path both bound it, and options we put in every segment (timestamps: 12 bytes) come out of it.
    // TCP_MAXSEG clamps the MSS value, before the options come out of it, as Linux's
    // __tcp_mtu_to_mss does ("mss_clamp does not include tcp options"): with TCP_MAXSEG 1000 and
    // timestamps, segments carry 988 bytes. (Fix: it used to clamp the payload after the options
    // were taken off, sending 1000-byte payloads.)
    const clamp = tcb.opts.maxSeg > 0 ? tcb.opts.maxSeg : Infinity;
    tcb.mss = Math.max(64, Math.min(tcb.peerMss, pathMss, clamp) - (tcb.tsOk ? 12 : 0));
    // A passive child takes the SYN's options while still CLOSED (before SYN-RECEIVED): its initial
    // window must follow the MSS negotiated then, not the 536 assumed at creation (found by the
    // packetdrill scripts: 3 segments instead of Linux's 10 after a passive open).
    tcb.initialCwnd = this.config.initialCwnd * tcb.mss; // RFC 6928, until the controller exists
    tcb.cc?.setMss(tcb.mss);
  }

  /** The route for a connection, cached until the routing generation changes. */
  routeFor(tcb: Tcb): TcpRoute | undefined {
    const gen = this.ip.generation;
    if (tcb.route !== undefined && tcb.routeGen === gen) return tcb.route;
    const route = this.ip.route(tcb.remote, tcb.local);
    tcb.route = route;
    tcb.routeGen = gen;
    return route;
  }

  /** The tcp_rmem maximum `ourWindowScale` was last computed for, and its answer. */
  private wscaleFor = -1;
  private wscaleShift = 0;

  /**
   * RFC 7323 §2.3: our window scale shift, chosen so the largest receive buffer fits the 16-bit
   * field. Computed again only when that maximum changes (the configuration may change at run
   * time, as a sysctl does): per SYN, the loop was 7% of answering a SYN flood with cookies.
   */
  ourWindowScale(): number {
    const max = this.config.rcvBufMax;
    if (max !== this.wscaleFor) {
      let shift = 0;
      while (shift < 14 && 0xffff * 2 ** shift < max) shift++;
      this.wscaleFor = max;
      this.wscaleShift = shift;
    }
    return this.wscaleShift;
  }

  /** The MSS we announce on a path with this MTU (RFC 9293 §3.7.1), clamped by TCP_MAXSEG when set. */
  advertisedMss(mtu: number, family: 4 | 6, maxSeg: number): number {
    const mss = mtu - (family === 4 ? 20 : 40) - 20;
    return maxSeg > 0 ? Math.min(mss, maxSeg) : mss;
  }

  /** The scratch classification view, for callers that fill it from something other than a TCB (TIME-WAIT records). */
  scratchClassifyView(): { -readonly [K in keyof ClassifyTcb]: ClassifyTcb[K] } {
    return this.scratchClassify;
  }

  /** A reusable classification view of a TCB. */
  classifyView(tcb: Tcb): ClassifyTcb {
    const v = this.scratchClassify;
    v.state = tcb.state;
    v.rcvNxt = tcb.rcvNxt;
    v.rcvWnd = Math.max(0, (tcb.rcvAdv - tcb.rcvNxt) | 0);
    v.sndUna = tcb.sndUna;
    v.sndNxt = tcb.sndNxt;
    v.maxSndWnd = tcb.maxSndWnd;
    v.tsOk = tcb.tsOk;
    v.tsRecent = tcb.tsRecent;
    v.tsRecentAt = tcb.tsRecentAt;
    return v as ClassifyTcb;
  }

  /** Counts a dropped segment by reason. */
  countDrop(reason: string): void {
    this.counters.drops.set(reason, (this.counters.drops.get(reason) ?? 0) + 1);
    this.tracer?.({ kind: 'tcp-drop', at: this.lastNow, stack: this.name, reason });
  }

  /** Counts a retransmission in the connection's statistics (tcpi_total_retrans) and emits a trace event. */
  traceRetransmit(tcb: Tcb, seq: Seq, len: number, now: Instant): void {
    tcb.totalRetrans++;
    // For the stale-echo rule of RTT sampling (input.ts rttFromTsecr): when this run of
    // retransmissions began, and how far it reaches.
    if (tcb.rtxSince === undefined) tcb.rtxSince = now;
    const end = seqAdd(seq, Math.max(len, 1));
    if (tcb.rtxHigh === undefined || seqGt(end, tcb.rtxHigh)) tcb.rtxHigh = end;
    this.tracer?.({ kind: 'tcp-retransmit', at: now, stack: this.name, conn: this.ref(tcb), seq: seq >>> 0, len, why: 'retransmit' });
  }

  /**
   * The connection's congestion controller (src/tcp/recovery/controller.ts), created when data
   * transfer starts: the algorithm is the socket's TCP_CONGESTION or the stack's
   * tcp_congestion_control; RFC 6675 recovery with PRR and RACK-TLP (RFC 8985, on by default as in
   * Linux) when SACK was negotiated, NewReno (RFC 6582) otherwise; F-RTO and undo; ECN when
   * negotiated. Its scoreboard starts at SND.NXT (the SYN is not in it).
   */
  controller(tcb: Tcb, now: Instant): CongestionController {
    if (tcb.cc !== undefined) return tcb.cc;
    const cfg = this.config;
    const cc = new CongestionController({
      algorithm: tcb.opts.congestion ?? cfg.congestion, mss: tcb.mss, initialCwnd: cfg.initialCwnd, sndUna: tcb.sndNxt,
      sack: tcb.sackOk, rack: cfg.rack, frto: true, ecn: tcb.ecnOk, slowStartAfterIdle: true, rtt: tcb.rtt, now,
    });
    const minRtt = tcb.minRttBeforeCc;
    if (minRtt !== undefined) {
      // The RTT samples of ACKs that came before data transfer (congestionAck), as the
      // controller would have taken them: RACK's and the algorithm's min_RTT.
      cc.rack.onRttSample(minRtt);
      cc.cc.pktsAcked(0, minRtt, now);
    }
    tcb.cc = cc;
    return cc;
  }

  /** Emits a congestion-state trace event. */
  traceCwnd(tcb: Tcb, now: Instant): void {
    if (this.tracer === undefined) return;
    this.tracer({
      kind: 'tcp-cwnd', at: now, stack: this.name, conn: this.ref(tcb), cwnd: tcb.cwnd, ssthresh: tcb.ssthresh,
      flight: tcb.flight, srttUs: tcb.rtt.srtt, state: tcb.caState,
    });
  }

  private ref(tcb: Tcb): { id: number; local: string; remote: string } {
    // Built once per connection: trace events on the data path (one per ACK) share it.
    return (tcb.traceRef ??= { id: tcb.id, local: tcb.localName, remote: tcb.remoteName });
  }

  // ---------------------------------------------------------------------------------------
  // The demux table

  /** The demux key of a 4-tuple: a 32-bit mix of both addresses and ports (no strings). */
  static tupleHash(local: IpAddr, localPort: number, remote: IpAddr, remotePort: number): number {
    return mix32(local.hash() ^ mix32(remote.hash() + ((localPort << 16) | remotePort)));
  }

  /** Finds the connection for an exact 4-tuple. */
  lookup(local: IpAddr, localPort: number, remote: IpAddr, remotePort: number): Tcb | undefined {
    let t = this.conns.get(TcpLayer.tupleHash(local, localPort, remote, remotePort));
    while (t !== undefined) {
      if (t.localPort === localPort && t.remotePort === remotePort && t.local.equals(local) && t.remote.equals(remote)) return t;
      t = t.nextInBucket;
    }
    return undefined;
  }

  private contains(tcb: Tcb): boolean {
    return this.lookup(tcb.local, tcb.localPort, tcb.remote, tcb.remotePort) === tcb;
  }

  private insert(tcb: Tcb): void {
    tcb.nextInBucket = this.conns.get(tcb.hash);
    this.conns.set(tcb.hash, tcb);
    this.connCount++;
    this.portUse.set(tcb.localPort, (this.portUse.get(tcb.localPort) ?? 0) + 1);
  }

  private remove(tcb: Tcb): void {
    let prev: Tcb | undefined;
    let t = this.conns.get(tcb.hash);
    while (t !== undefined && t !== tcb) {
      prev = t;
      t = t.nextInBucket;
    }
    if (t === undefined) return;
    if (prev === undefined) {
      if (tcb.nextInBucket === undefined) this.conns.delete(tcb.hash);
      else this.conns.set(tcb.hash, tcb.nextInBucket);
    } else {
      prev.nextInBucket = tcb.nextInBucket;
    }
    tcb.nextInBucket = undefined;
    this.connCount--;
    const n = (this.portUse.get(tcb.localPort) ?? 1) - 1;
    if (n === 0) this.portUse.delete(tcb.localPort);
    else this.portUse.set(tcb.localPort, n);
  }

  /** Number of connections in the table (all states but LISTEN and CLOSED). */
  get connectionCount(): number {
    return this.connCount + this.timeWait.size;
  }

  /** Number of TIME-WAIT records. */
  get timeWaitCount(): number {
    return this.timeWait.size;
  }

  /** Every connection, for socket tables (`ss -tan`). */
  *connections(): IterableIterator<Tcb> {
    for (const head of this.conns.values()) {
      for (let t: Tcb | undefined = head; t !== undefined; t = t.nextInBucket) yield t;
    }
  }

  /** Every listener. */
  *allListeners(): IterableIterator<Listener> {
    for (const ls of this.listeners.values()) yield* ls;
  }

  /** The listener for (address, port): an exact address match first, then the wildcard. */
  findListener(local: IpAddr, port: number): Listener | undefined {
    const ls = this.listeners.get(port);
    if (ls === undefined) return undefined;
    let wildcard: Listener | undefined;
    for (const l of ls) {
      if (l.local.equals(local)) return l;
      if (l.local.isUnspecified && l.local.family === local.family) wildcard = l;
    }
    return wildcard;
  }

  private newTcb(local: IpAddr, localPort: number, remote: IpAddr, remotePort: number, opts: SocketOptions, now: Instant): Tcb {
    const cfg = this.config;
    const tcb = new Tcb({
      id: this.nextId++,
      local, localPort, remote, remotePort,
      hash: TcpLayer.tupleHash(local, localPort, remote, remotePort),
      sndBuf: new SendBuffer(opts.sndBuf > 0 ? opts.sndBuf : cfg.sndBuf),
      rcvBuf: new RecvBuffer(opts.rcvBuf > 0 ? opts.rcvBuf : cfg.rcvBuf),
      ooo: new Reassembly(),
      rtt: new RttEstimator({ initialRto: cfg.initialRto, minRto: cfg.minRto, maxRto: cfg.maxRto }),
      opts,
    });
    const iss = this.isn.isn(local, localPort, remote, remotePort, now);
    tcb.iss = tcb.sndUna = tcb.sndNxt = iss;
    tcb.sndBase = seqAdd(iss, 1);
    tcb.tsOffset = this.isn.tsOffset(local, remote);
    // RFC 7323 §2.3: the shift is chosen so the largest receive buffer fits the 16-bit field.
    tcb.wantRcvWscale = cfg.windowScaling ? this.ourWindowScale() : 0;
    const route = this.routeFor(tcb);
    tcb.advMss = this.advertisedMss(route?.mtu ?? 1500, remote.family, opts.maxSeg);
    // Quick-ACK mode starts with the first data (input.ts scheduleAck, as Linux's tcp_event_data_recv).
    tcb.lastRecvAt = now;
    tcb.rttSentAt = now;
    tcb.rttSeq = seqAdd(iss, 1);
    this.updateMss(tcb);
    return tcb;
  }

  // ---------------------------------------------------------------------------------------
  // User calls (RFC 9293 §3.10.1-3.10.6). They change state and queue output for the next
  // poll; they never transmit synchronously, so callbacks cannot re-enter the stack.

  /** Reserves a local address and port (bind(2)). Port 0 picks an ephemeral port. */
  bind(addr: IpAddr, port: number, reuseAddr: boolean): Binding | SocketErrorCode {
    if (!addr.isUnspecified && !this.ip.isLocalAddress(addr)) return 'EADDRNOTAVAIL';
    if (port === 0) {
      const p = this.ports.pickForBind((candidate) => this.bindAllowed(addr, candidate, reuseAddr) && !this.portUse.has(candidate));
      if (p === undefined) return 'EADDRINUSE';
      port = p;
    } else if (!this.bindAllowed(addr, port, reuseAddr)) {
      return 'EADDRINUSE';
    }
    const b: Binding = { addr, port, reuseAddr, listening: false };
    const list = this.bindings.get(port);
    if (list === undefined) this.bindings.set(port, [b]);
    else list.push(b);
    return b;
  }

  /**
   * Linux's bind conflict rule (inet_csk_bind_conflict): another socket on the same port with an
   * overlapping address conflicts unless both set SO_REUSEADDR and the other is not listening.
   * Connections holding the port (including TIME-WAIT) conflict unless SO_REUSEADDR is set.
   */
  private bindAllowed(addr: IpAddr, port: number, reuseAddr: boolean): boolean {
    for (const b of this.bindings.get(port) ?? []) {
      const overlap = b.addr.family === addr.family && (b.addr.isUnspecified || addr.isUnspecified || b.addr.equals(addr));
      if (overlap && !(reuseAddr && b.reuseAddr && !b.listening)) return false;
    }
    if (!reuseAddr && this.portUse.has(port)) return false;
    return true;
  }

  /** Releases a binding (close of an unconnected socket). */
  unbind(b: Binding): void {
    const list = this.bindings.get(b.port);
    if (list === undefined) return;
    const i = list.indexOf(b);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.bindings.delete(b.port);
  }

  /** Passive OPEN (listen(2)). The binding must not already be listening. */
  listen(b: Binding, backlog: number, opts: SocketOptions): Listener | SocketErrorCode {
    for (const other of this.bindings.get(b.port) ?? []) {
      if (other !== b && other.listening && other.addr.family === b.addr.family &&
        (other.addr.isUnspecified || b.addr.isUnspecified || other.addr.equals(b.addr))) return 'EADDRINUSE';
    }
    b.listening = true;
    const l = new Listener(this.nextId++, b.addr, b.port, Math.min(Math.max(backlog, 0), this.config.somaxconn), opts);
    const list = this.listeners.get(b.port);
    if (list === undefined) this.listeners.set(b.port, [l]);
    else list.push(l);
    return l;
  }

  /** Stops a listener: unaccepted children are reset, as Linux's inet_csk_listen_stop does. */
  closeListener(l: Listener, now: Instant = this.now): void {
    if (l.closed) return;
    l.closed = true;
    const list = this.listeners.get(l.port);
    if (list !== undefined) {
      const i = list.indexOf(l);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.listeners.delete(l.port);
    }
    for (const child of [...l.synQueue, ...l.acceptQueue]) {
      if (child.state === 'CLOSED') {
        // Already dead (reset while queued, kept for accept() as Linux does): nothing to send.
        this.leaveListener(child);
        continue;
      }
      // A Fast Open child has had its SYN's data acknowledged: it is reset like an established
      // one (Linux's inet_child_forget -> tcp_disconnect resets SYN-RECV sockets too).
      if (child.state !== 'SYN-RECEIVED' || child.fastOpen?.passive === true) {
        this.counters.TCPAbortOnClose++;
        sendActiveReset(this, child, now);
      }
      this.destroy(child, 'listener closed', now);
    }
  }

  /** Takes the oldest established child off the accept queue (accept(2)). */
  accept(l: Listener): Tcb | undefined {
    const tcb = l.acceptQueue.shift();
    if (tcb !== undefined) tcb.listener = undefined;
    return tcb;
  }

  /** Active OPEN (connect(2)): creates the TCB in SYN-SENT; the SYN leaves at the next poll. */
  connect(remote: IpAddr, remotePort: number, opts: SocketOptions, binding?: Binding, fastOpen?: 'defer' | 'sendto'): Tcb | SocketErrorCode {
    if (remotePort <= 0 || remotePort > 0xffff) return 'EINVAL';
    const route = this.ip.route(remote, binding !== undefined && !binding.addr.isUnspecified ? binding.addr : undefined);
    if (route === undefined) return 'ENETUNREACH';
    const local = binding !== undefined && !binding.addr.isUnspecified ? binding.addr : route.src;
    const now = this.now;
    // A 4-tuple held by a TIME-WAIT record is taken only when tcp_tw_reuse allows it
    // (timewait.ts timeWaitReusable, Linux's __inet_check_established and tcp_twsk_unique).
    let reuse = -1;
    const tupleFree = (port: number, bound: boolean): boolean => {
      reuse = -1;
      if (this.lookup(local, port, remote, remotePort) !== undefined) return false;
      if (this.timeWait.size === 0) return true;
      const tw = this.timeWait.find(local, port, remote, remotePort);
      if (tw < 0) return true;
      if (!timeWaitReusable(this.timeWait, tw, this.config.twReuse, bound, now)) return false;
      reuse = tw;
      return true;
    };
    let localPort: number;
    if (binding !== undefined) {
      localPort = binding.port;
      if (!tupleFree(localPort, true)) return 'EADDRNOTAVAIL';
    } else {
      // RFC 6056: the ephemeral port only has to make the 4-tuple unique; ports reserved by
      // bind() or listen() are skipped, as Linux's __inet_hash_connect does.
      const p = this.ports.pick(local, remote, remotePort, (candidate) => !this.bindings.has(candidate) && tupleFree(candidate, false));
      if (p === undefined) return 'EADDRNOTAVAIL';
      localPort = p;
    }
    const tcb = this.newTcb(local, localPort, remote, remotePort, opts, now);
    if (reuse >= 0) {
      // Linux (tcp_twsk_unique): the new incarnation starts beyond the old one's sequence space.
      this.setIss(tcb, timeWaitNextIss(this.timeWait, reuse));
      this.counters.TWRecycled++;
      this.killTimeWait(reuse, 'TIME-WAIT 4-tuple reused by connect() (tcp_tw_reuse)', now);
    }
    tcb.active = true;
    if (fastOpen !== undefined) prepareFastOpenClient(this, tcb, fastOpen === 'defer', now);
    this.insert(tcb);
    this.counters.ActiveOpens++;
    this.setState(tcb, 'SYN-SENT', 'connect()', now);
    this.kick(tcb);
    return tcb;
  }

  /** SEND: queues bytes; returns how many fit (0 with a full buffer), or an error. */
  send(tcb: Tcb, data: Uint8Array): number | SocketErrorCode {
    const err = this.takeError(tcb);
    if (err !== undefined) return err;
    switch (tcb.state) {
      case 'SYN-SENT':
      case 'SYN-RECEIVED':
      case 'ESTABLISHED':
      case 'CLOSE-WAIT':
        if (tcb.finQueued) return 'EPIPE';
        break;
      case 'CLOSED':
      case 'FIN-WAIT-1':
      case 'FIN-WAIT-2':
      case 'CLOSING':
      case 'LAST-ACK':
      case 'TIME-WAIT':
        return 'EPIPE';
      case 'LISTEN':
        return 'ENOTCONN';
    }
    const n = tcb.sndBuf.write(data);
    // TCP_FASTOPEN_CONNECT: the first write releases the SYN, which carries the data (fastopen.ts).
    if (tcb.fastOpen?.deferConnect === true) tcb.fastOpen.deferConnect = false;
    if (n > 0) this.kick(tcb);
    return n;
  }

  /** RECEIVE: copies buffered bytes into `out`; 0 means end of stream; 'EAGAIN' means none yet. */
  recv(tcb: Tcb, out: Uint8Array): number | SocketErrorCode {
    if (tcb.rcvBuf.length > 0) {
      const n = tcb.rcvBuf.read(out);
      tcb.rcvCopied += n;
      rcvSpaceAdjust(tcb, this.config, this.now); // receive-buffer auto-tuning (autotune.ts)
      // A window update when reading opens the window substantially (RFC 9293 §3.8.6.2.2: the
      // receiver's window opens as the application reads, by at least min(RCV.BUFF/2, MSS)).
      // As Linux's tcp_cleanup_rbuf: when the window the peer has is at most half the buffer and
      // the one we can offer now is at least twice as large, acknowledge at once. A reopened zero
      // window always qualifies ("immediate ACK for window updates after a zero window"). The
      // window we can offer is bounded by the 16-bit field (RFC 7323 §2.3, windowToOffer), so an
      // unscaled connection never sends an "update" repeating the same 65535.
      const advertised = Math.max(0, (tcb.rcvAdv - tcb.rcvNxt) | 0);
      if (tcb.state !== 'CLOSED' && 2 * advertised <= tcb.rcvBuf.capacity) {
        const offer = windowToOffer(tcb);
        if (offer > advertised && offer >= 2 * advertised) {
          tcb.ackNow = true;
          this.kick(tcb);
        }
      }
      return n;
    }
    const err = this.takeError(tcb);
    if (err !== undefined) return err;
    if (tcb.readShut) return 0;
    switch (tcb.state) {
      case 'CLOSE-WAIT':
      case 'CLOSING':
      case 'LAST-ACK':
      case 'TIME-WAIT':
      case 'CLOSED':
        return 0; // "connection closing": end of stream
      case 'SYN-SENT':
      case 'SYN-RECEIVED':
      case 'ESTABLISHED':
      case 'FIN-WAIT-1':
      case 'FIN-WAIT-2':
        return 'EAGAIN';
      case 'LISTEN':
        return 'ENOTCONN';
    }
  }

  /** The pending error (SO_ERROR), consumed by reading it: ECONNRESET is reported exactly once. */
  takeError(tcb: Tcb): SocketErrorCode | undefined {
    const e = tcb.error;
    tcb.error = undefined;
    return e;
  }

  /** shutdown(2). Shutting down writing queues a FIN after the data (RFC 9293 §3.10.4). */
  shutdown(tcb: Tcb, how: ShutdownHow): SocketErrorCode | undefined {
    if (tcb.state === 'CLOSED' || tcb.state === 'LISTEN') return 'ENOTCONN';
    if (how === 'read' || how === 'both') tcb.readShut = true;
    if (how === 'write' || how === 'both') this.closeSend(tcb, this.now);
    return undefined;
  }

  /**
   * CLOSE (RFC 9293 §3.10.4) for a socket the user releases. Like Linux's tcp_close: unread data
   * or SO_LINGER with a zero timeout abort with a reset; otherwise a FIN is queued and the
   * connection finishes on its own (an orphan).
   */
  close(tcb: Tcb): void {
    const now = this.now;
    tcb.orphan = true;
    tcb.readShut = true;
    tcb.onReady = undefined;
    if (tcb.state === 'CLOSED') return;
    if (tcb.state === 'SYN-SENT') {
      this.destroy(tcb, 'close() in SYN-SENT', now);
      return;
    }
    if (tcb.rcvBuf.length > 0 && tcb.state !== 'TIME-WAIT') {
      // RFC 9293 §3.10.4 permits it and Linux does it (tcp_close, TCPAbortOnClose): closing with
      // unread data resets the connection, so the peer learns the data was not consumed.
      this.counters.TCPAbortOnClose++;
      this.abort(tcb);
      return;
    }
    if (tcb.opts.linger === 0) {
      this.counters.TCPAbortOnLinger++;
      this.abort(tcb);
      return;
    }
    this.closeSend(tcb, now);
    if (tcb.state === 'FIN-WAIT-2') this.armFinWait2(tcb, now);
  }

  /** The sending half of CLOSE: queue our FIN and move to the state that records it. */
  private closeSend(tcb: Tcb, now: Instant): void {
    if (tcb.finQueued) return;
    switch (tcb.state) {
      case 'SYN-SENT':
        this.destroy(tcb, 'close before the connection was established', now);
        return;
      case 'SYN-RECEIVED':
      case 'ESTABLISHED':
        tcb.finQueued = true;
        this.setState(tcb, 'FIN-WAIT-1', 'close()', now);
        break;
      case 'CLOSE-WAIT':
        tcb.finQueued = true;
        this.setState(tcb, 'LAST-ACK', 'close()', now);
        break;
      case 'FIN-WAIT-1':
      case 'FIN-WAIT-2':
      case 'CLOSING':
      case 'LAST-ACK':
      case 'TIME-WAIT':
      case 'CLOSED':
      case 'LISTEN':
        return;
    }
    this.kick(tcb);
  }

  /** ABORT (RFC 9293 §3.10.5): send a reset in synchronized states and delete the TCB. */
  abort(tcb: Tcb): void {
    const now = this.now;
    // Linux transmits written data from the write call itself (tcp_sendmsg -> tcp_push) when the
    // windows allow; here user calls only queue output for the next poll. So that a write
    // followed at once by an abort (SO_LINGER 0 close, Node's resetAndDestroy) delivers the
    // bytes before the RST as on Linux, send what is queued first.
    if (tcb.queued && (tcb.state === 'ESTABLISHED' || tcb.state === 'CLOSE-WAIT')) output(this, tcb, now);
    tcb.sndBuf.consume(tcb.sndBuf.length);
    switch (tcb.state) {
      case 'SYN-RECEIVED':
      case 'ESTABLISHED':
      case 'FIN-WAIT-1':
      case 'FIN-WAIT-2':
      case 'CLOSE-WAIT':
        sendActiveReset(this, tcb, now);
        break;
      case 'SYN-SENT':
      case 'CLOSING':
      case 'LAST-ACK':
      case 'TIME-WAIT':
      case 'CLOSED':
      case 'LISTEN':
        break;
    }
    this.destroy(tcb, 'abort()', now);
  }

  /** Applies option changes that take effect at once (keepalive, nodelay/cork flushes). */
  optionsChanged(tcb: Tcb): void {
    if (tcb.opts.keepAlive) this.armKeepalive(tcb, this.now);
    else tcb.keepaliveAt = undefined;
    this.kick(tcb);
  }

  /** The ISN generator's keyed MAC (for SYN cookies and Fast Open). */
  get isnGenerator(): IsnGenerator {
    return this.isn;
  }

  /** Our timestamp value for a connection (used by tools and tests). */
  tsValFor(tcb: Tcb): number {
    return tsVal(tcb, this.now);
  }
}

/** Linux's tcp_orphan_retries default: an orphaned connection's retransmissions stop after 8 (tcp_orphan_retries()). */
export const ORPHAN_RETRIES = 8;

/**
 * How long `boundary` retransmissions take when the timeout starts at `rtoMin` and doubles up to
 * `rtoMax`, in µs: Linux's tcp_model_timeout(), which turns tcp_retries2 into a time.
 * retransmitLimit(15, 200 ms, 120 s) = (2^10 - 1) * 0.2 s + 6 * 120 s = 924.6 s.
 */
export function retransmitLimit(boundary: number, rtoMin: number, rtoMax: number): number {
  const linear = Math.floor(Math.log2(rtoMax / rtoMin));
  if (boundary <= linear) return (2 ** (boundary + 1) - 1) * rtoMin;
  return (2 ** (linear + 1) - 1) * rtoMin + (boundary - linear) * rtoMax;
}

/**
 * RFC 1122 §4.2.3.9: protocol and port unreachable are hard errors; so is "administratively
 * prohibited" (IPv4 codes 9, 10, 13; IPv6 code 1), which RFC 1812 and the issue treat as a refusal.
 */
function isHardUnreachable(family: 4 | 6, code: number): boolean {
  return family === 4 ? code === 2 || code === 3 || code === 9 || code === 10 || code === 13 : code === 1 || code === 4;
}

/** The socket error for an ICMP error, as Linux's icmp_err_convert / icmpv6_err_convert. */
function icmpSocketError(err: TcpIcmpError): SocketErrorCode {
  if (err.kind === 'unreachable') {
    if (err.family === 4) return err.code === 2 ? 'ENOPROTOOPT' : err.code === 3 ? 'ECONNREFUSED' : err.code === 0 || err.code === 6 || err.code === 9 || err.code === 11 ? 'ENETUNREACH' : 'EHOSTUNREACH';
    return err.code === 4 ? 'ECONNREFUSED' : err.code === 0 ? 'ENETUNREACH' : err.code === 1 ? 'EACCES' : 'EHOSTUNREACH';
  }
  if (err.kind === 'param-problem') return 'EPROTO';
  return 'EHOSTUNREACH';
}

function blankRepr(): TcpRepr {
  return { srcPort: 0, dstPort: 0, seq: 0 as Seq, ack: 0 as Seq, flags: 0, window: 0, urgent: 0, options: {}, payload: new Uint8Array(0) };
}

/** IpAddr re-export for API layers that only import tcp. */
export { IpAddr };
