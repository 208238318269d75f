// The TCP layer of one stack: the demux table (RFC 9293 §3.10.7: exact 4-tuple, then a listener,
// else a reset), listeners, port bindings (RFC 6056), the one timer wheel for every connection,
// Linux-named counters, and the user calls (RFC 9293 §3.10.1-3.10.6: OPEN, SEND, RECEIVE, CLOSE,
// ABORT) that the socket API is built on. Read RFC 9293 §3.10 first.
import { type Instant, type Duration, after } from '../time/instant.js';
import { TimerWheel } from '../time/wheel.js';
import { IpAddr, mix32 } from '../wire/ip-addr.js';
import { TcpFlag, type TcpRepr, type TcpTimestamp, type SackBlock, parseTcp } from '../wire/tcp.js';
import type { Rng } from '../util/rng.js';
import type { Tracer } from '../trace/events.js';
import { type Seq, seqAdd, seqGt, seqLe, seqLt } from './seq.js';
import type { TcpState } from './state.js';
import { type TcpConfig, defaultTcpConfig } from './config.js';
import type { SocketErrorCode } from './errors.js';
import { Tcb, Ready, type SocketOptions } from './tcb.js';
import { Listener } from './listener.js';
import { SendBuffer } from './send-buffer.js';
import { RecvBuffer } from './recv-buffer.js';
import { Reassembly } from './reassembly.js';
import { RttEstimator } from './rtt.js';
import { IsnGenerator } from './isn.js';
import { PortAllocator } from './ports.js';
import type { ClassifyTcb } from './classify.js';
import { segmentArrives, negotiateOptions } from './input.js';
import { output, emit, sendResetFor, sendActiveReset, armRetransmit, tsVal } from './output.js';

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
  l4Offset(route: TcpRoute): number;
  allocFrame(route: TcpRoute, l4Length: number): Uint8Array;
  /** Sends the frame; returns an error code when it could not be sent (ignored: TCP retransmits). */
  transmit(route: TcpRoute, frame: Uint8Array, protocol: number, l4Length: number, now: Instant): unknown;
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
  TCPTimeouts = 0;
  TCPSynRetrans = 0;
  TCPKeepAliveProbes = 0;
  TimeWaitEntered = 0;
  /** Drops by reason (beyond the named counters). */
  readonly drops = new Map<string, number>();
}

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
  readonly scratchOut: TcpRepr = blankRepr();
  readonly scratchTs: TcpTimestamp = { tsval: 0, tsecr: 0 };
  readonly scratchSack: SackBlock[] = [];
  readonly scratchSeg = { seq: 0 as Seq, ack: 0 as Seq, flags: 0, dataLen: 0, tsval: undefined as number | undefined };
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
  private readonly wheel = new TimerWheel<Tcb>();
  /** Connections with work from user calls, flushed at the next poll. */
  private readonly dirty: Tcb[] = [];
  private lastNow = 0 as Instant;
  private nextId = 1;
  private readonly isn: IsnGenerator;
  readonly ports: PortAllocator;
  private readonly routes = new WeakMap<Tcb, { route: TcpRoute; gen: number }>();
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
    this.lastNow = now;
    this.counters.InSegs++;
    const verify = this.config.checksums && pkt.checksumOffload !== true;
    const parsed = parseTcp(bytes, verify ? { src: pkt.src, dst: pkt.dst } : undefined, this.scratchIn);
    if (!parsed.ok) {
      this.counters.InErrs++;
      if (parsed.error === 'bad-checksum') this.counters.InCsumErrors++;
      this.countDrop(`bad-segment:${parsed.error}`);
      return;
    }
    const seg = parsed.value;
    const local = pkt.dst;
    const remote = pkt.src;
    let tcb = this.lookup(local, seg.dstPort, remote, seg.srcPort);
    if (tcb !== undefined && tcb.state === 'TIME-WAIT' && seg.flags & TcpFlag.SYN && !(seg.flags & (TcpFlag.ACK | TcpFlag.RST))) {
      // RFC 9293 §3.10.7.4 note / RFC 6191: a new SYN for a TIME-WAIT 4-tuple may reopen it when
      // its sequence number (or timestamp) shows it cannot be an old duplicate, as Linux does in
      // tcp_timewait_state_process (TCP_TW_SYN).
      // Only a listener can take the new incarnation: without one, Linux's tcp_v4_rcv (TCP_TW_SYN
      // with no listener found) keeps the TIME-WAIT and answers with an ACK, which the
      // segment-arrives path below produces; deleting it here would answer the SYN with a RST.
      if (this.timeWaitAcceptsSyn(tcb, seg) && this.findListener(local, seg.dstPort) !== undefined) {
        this.destroy(tcb, 'new SYN reopened TIME-WAIT', now);
        tcb = undefined;
      }
    }
    if (tcb !== undefined) {
      segmentArrives(this, tcb, seg, now);
      if (tcb.state !== 'CLOSED') output(this, tcb, now);
      return;
    }
    const l = this.findListener(local, seg.dstPort);
    if (l !== undefined) {
      this.listenInput(l, local, remote, seg, now);
      return;
    }
    // RFC 9293 §3.10.7.1: CLOSED. "An incoming segment containing a RST is discarded. An incoming
    // segment not containing a RST causes a RST to be sent in response." RFC 1122 §4.2.3.10:
    // never in answer to a segment sent to a broadcast or multicast address.
    this.countDrop('no-socket');
    if (pkt.multicast !== true) sendResetFor(this, local, remote, seg, now);
  }

  /** RFC 9293 §3.10.7.2: SEGMENT ARRIVES in LISTEN. */
  private listenInput(l: Listener, local: IpAddr, remote: IpAddr, seg: TcpRepr, now: Instant): void {
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
    // Linux (tcp_conn_request): a full accept queue drops new SYNs; a full SYN queue drops them
    // too when SYN cookies are off.
    if (l.acceptQueueFull) {
      this.counters.ListenOverflows++;
      this.counters.ListenDrops++;
      this.countDrop('listen:accept-queue-full');
      return;
    }
    if (l.synQueueFull) {
      this.counters.ListenDrops++;
      this.countDrop('listen:syn-queue-full');
      return;
    }
    const tcb = this.newTcb(local, seg.dstPort, remote, seg.srcPort, { ...l.childOpts }, now);
    tcb.listener = l;
    l.synQueue.add(tcb);
    // "Set RCV.NXT to SEG.SEQ+1, IRS is set to SEG.SEQ, and any other control or text should be
    // queued for processing later. ISS should be selected and a SYN segment sent of the form:
    // <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>". Deviation: like Linux without Fast Open, text in the
    // SYN is not queued; it is not acknowledged, so the peer sends it again.
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
    this.setState(tcb, 'SYN-RECEIVED', 'SYN received on a listener', now);
    output(this, tcb, now);
  }

  /**
   * A SYN for a 4-tuple in TIME-WAIT may start a new incarnation (RFC 6191 §2, RFC 9293
   * §3.10.7.4): with timestamps, when its TSval is newer than TS.Recent; without, when its
   * sequence number is beyond RCV.NXT.
   */
  private timeWaitAcceptsSyn(tcb: Tcb, seg: TcpRepr): boolean {
    const ts = seg.options.timestamp;
    if (tcb.tsOk && ts !== undefined) return ((ts.tsval - tcb.tsRecent) | 0) > 0;
    return seqGt(seg.seq, tcb.rcvNxt);
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
    const seq = (((q[4]! << 24) | (q[5]! << 16) | (q[6]! << 8) | q[7]!) >>> 0) as Seq;
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
        if (tcb.mss < before && tcb.flight > 0) {
          // Like Linux's tcp_simple_retransmit: resend what is in flight at the new size now.
          tcb.rtxNxt = tcb.sndUna;
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
    this.wheel.expire(now, (tcb, at) => {
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
        if (tcb.retransmits >= cfg.synackRetries || userTimedOut) {
          if (tcb.active) this.fail(tcb, 'ETIMEDOUT', 'SYN-ACK retries exhausted', now);
          else this.dropChild(tcb, 'SYN-ACK retries exhausted', now);
          return;
        }
        tcb.retransmits++;
        tcb.rtt.backoff();
        this.counters.TCPSynRetrans++;
        emit(this, tcb, TcpFlag.SYN | TcpFlag.ACK, tcb.iss, 0, now);
        this.counters.RetransSegs++;
        this.traceRetransmit(tcb, tcb.iss, 0, now);
        armRetransmit(this, tcb, now);
        return;
      }
      case 'ESTABLISHED':
      case 'FIN-WAIT-1':
      case 'CLOSE-WAIT':
      case 'CLOSING':
      case 'LAST-ACK': {
        if (tcb.flight === 0) return;
        // Linux (tcp_write_timeout): a TCP_USER_TIMEOUT replaces the tcp_retries2 limit.
        if ((userTimeout === 0 && tcb.retransmits >= cfg.retries2) || userTimedOut) {
          this.counters.TCPAbortOnTimeout++;
          this.fail(tcb, 'ETIMEDOUT', 'retransmission limit reached', now);
          return;
        }
        // RFC 5681 §3.1: "ssthresh = max (FlightSize / 2, 2*SMSS)" and cwnd = 1 segment (the loss
        // window); go back to SND.UNA (RFC 6298 §5.4 retransmits the earliest segment).
        tcb.ssthresh = Math.max(tcb.flight >>> 1, 2 * tcb.mss);
        tcb.cwnd = tcb.mss;
        tcb.recover = undefined;
        tcb.dupAcks = 0;
        tcb.rtxNxt = tcb.sndUna;
        tcb.rttSeq = undefined; // Karn's algorithm
        tcb.retransmits++;
        tcb.rtt.backoff(); // RFC 6298 §5.5
        this.traceCwnd(tcb, now);
        output(this, tcb, now);
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
    if (tcb.opts.userTimeout > 0) {
      tcb.firstRetransmitAt ??= now;
      if (now - tcb.firstRetransmitAt >= tcb.opts.userTimeout) {
        this.fail(tcb, 'ETIMEDOUT', 'zero window probes unanswered (user timeout)', now);
        return;
      }
    }
    emit(this, tcb, TcpFlag.ACK, seqAdd(tcb.sndUna, -1), 0, now);
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
    const l = tcb.listener;
    if (l !== undefined) {
      l.synQueue.delete(tcb);
      const i = l.acceptQueue.indexOf(tcb);
      if (i >= 0) l.acceptQueue.splice(i, 1);
      tcb.listener = undefined;
    }
    this.notify(tcb, Ready.HANGUP | Ready.READABLE | Ready.WRITABLE | (tcb.error !== undefined ? Ready.ERROR : 0));
  }

  /** Enters TIME-WAIT for 2*MSL (RFC 9293 §3.10.7.4). */
  enterTimeWait(tcb: Tcb, why: string, now: Instant): void {
    this.setState(tcb, 'TIME-WAIT', why, now);
    this.counters.TimeWaitEntered++;
    tcb.rtxAt = tcb.persistAt = tcb.keepaliveAt = tcb.delackAt = undefined;
    this.restartTimeWait(tcb, now);
    this.notify(tcb, Ready.HANGUP);
  }

  /** (Re)starts the 2*MSL timer. */
  restartTimeWait(tcb: Tcb, now: Instant): void {
    tcb.waitAt = after(now, (2 * this.config.msl) as Duration);
    this.arm(tcb);
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
    if (l !== undefined) {
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
    if (l !== undefined) l.onReady?.(l, Ready.ACCEPT);
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
    tcb.mss = Math.max(64, Math.min(tcb.peerMss, pathMss) - (tcb.tsOk ? 12 : 0));
    if (tcb.opts.maxSeg > 0) tcb.mss = Math.min(tcb.mss, tcb.opts.maxSeg);
    if (tcb.state === 'SYN-SENT' || tcb.state === 'SYN-RECEIVED' || tcb.cwnd === 0) {
      tcb.cwnd = this.config.initialCwnd * tcb.mss; // RFC 6928
    }
  }

  /** The route for a connection, cached until the routing generation changes. */
  routeFor(tcb: Tcb): TcpRoute | undefined {
    const c = this.routes.get(tcb);
    if (c !== undefined && c.gen === this.ip.generation) return c.route;
    const route = this.ip.route(tcb.remote, tcb.local);
    if (route === undefined) return undefined;
    this.routes.set(tcb, { route, gen: this.ip.generation });
    return route;
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

  /** Emits a retransmission trace event. */
  traceRetransmit(tcb: Tcb, seq: Seq, len: number, now: Instant): void {
    this.tracer?.({ kind: 'tcp-retransmit', at: now, stack: this.name, conn: this.ref(tcb), seq, len, why: 'retransmit' });
  }

  /** Emits a congestion-state trace event. */
  traceCwnd(tcb: Tcb, now: Instant): void {
    if (this.tracer === undefined) return;
    this.tracer({
      kind: 'tcp-cwnd', at: now, stack: this.name, conn: this.ref(tcb), cwnd: tcb.cwnd, ssthresh: tcb.ssthresh,
      flight: tcb.flight, srttUs: tcb.rtt.srtt, state: tcb.recover !== undefined ? 'recovery' : tcb.retransmits > 0 ? 'loss' : 'open',
    });
  }

  private ref(tcb: Tcb): { id: number; local: string; remote: string } {
    return { id: tcb.id, local: tcb.localName, remote: tcb.remoteName };
  }

  // ---------------------------------------------------------------------------------------
  // The demux table

  private static tupleHash(local: IpAddr, localPort: number, remote: IpAddr, remotePort: number): number {
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
    return this.connCount;
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
      sndBuf: new SendBuffer(cfg.sndBuf),
      rcvBuf: new RecvBuffer(cfg.rcvBuf),
      ooo: new Reassembly(),
      rtt: new RttEstimator({ initialRto: cfg.initialRto, minRto: cfg.minRto, maxRto: cfg.maxRto }),
      opts,
    });
    const iss = this.isn.isn(local, localPort, remote, remotePort, now);
    tcb.iss = tcb.sndUna = tcb.sndNxt = tcb.rtxNxt = iss;
    tcb.sndBase = seqAdd(iss, 1);
    tcb.tsOffset = this.isn.tsOffset(local, remote);
    // RFC 7323 §2.3: the shift is chosen so the largest receive buffer fits the 16-bit field.
    let shift = 0;
    while (shift < 14 && 0xffff * 2 ** shift < cfg.rcvBufMax) shift++;
    tcb.wantRcvWscale = cfg.windowScaling ? shift : 0;
    const route = this.routeFor(tcb);
    const ipHdr = remote.family === 4 ? 20 : 40;
    tcb.advMss = (route?.mtu ?? 1500) - ipHdr - 20;
    if (opts.maxSeg > 0) tcb.advMss = Math.min(tcb.advMss, opts.maxSeg);
    tcb.quickAcks = 16; // Linux's TCP_MAX_QUICKACKS at connection start
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
      if (child.state !== 'SYN-RECEIVED') {
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
  connect(remote: IpAddr, remotePort: number, opts: SocketOptions, binding?: Binding): Tcb | SocketErrorCode {
    if (remotePort <= 0 || remotePort > 0xffff) return 'EINVAL';
    const route = this.ip.route(remote, binding !== undefined && !binding.addr.isUnspecified ? binding.addr : undefined);
    if (route === undefined) return 'ENETUNREACH';
    const local = binding !== undefined && !binding.addr.isUnspecified ? binding.addr : route.src;
    let localPort: number;
    if (binding !== undefined) {
      localPort = binding.port;
      if (this.lookup(local, localPort, remote, remotePort) !== undefined) return 'EADDRNOTAVAIL';
    } else {
      // RFC 6056: the ephemeral port only has to make the 4-tuple unique; ports reserved by
      // bind() or listen() are skipped, as Linux's __inet_hash_connect does.
      const p = this.ports.pick(local, remote, remotePort, (candidate) =>
        !this.bindings.has(candidate) && this.lookup(local, candidate, remote, remotePort) === undefined);
      if (p === undefined) return 'EADDRNOTAVAIL';
      localPort = p;
    }
    const now = this.now;
    const tcb = this.newTcb(local, localPort, remote, remotePort, opts, now);
    tcb.active = true;
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
    if (n > 0) this.kick(tcb);
    return n;
  }

  /** RECEIVE: copies buffered bytes into `out`; 0 means end of stream; 'EAGAIN' means none yet. */
  recv(tcb: Tcb, out: Uint8Array): number | SocketErrorCode {
    if (tcb.rcvBuf.length > 0) {
      const before = tcb.rcvWindowSpace;
      const n = tcb.rcvBuf.read(out);
      // A window update when reading opens the window substantially (RFC 9293 §3.8.6.2.2); Linux
      // sends it from tcp_cleanup_rbuf when the window would at least double or grow by an MSS.
      const advertised = Math.max(0, (tcb.rcvAdv - tcb.rcvNxt) | 0);
      // The window we could offer is bounded by what the 16-bit field carries (RFC 7323 §2.3), as
      // in Linux's __tcp_select_window; without that bound an unscaled connection would send an
      // "update" repeating the same 65535.
      const space = Math.min(tcb.rcvWindowSpace, 0xffff * 2 ** tcb.rcvWscale);
      if (tcb.state !== 'CLOSED' && (advertised === 0 || (space - advertised >= tcb.advMss && space >= 2 * advertised) || before === 0) && space > advertised) {
        tcb.ackNow = true;
        this.kick(tcb);
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
