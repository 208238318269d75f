// The property-test engine for data transfer (issue 4): a random network and random applications
// drawn from one seed, run to completion in virtual time, and checked. Read with
// property.test.ts, which runs it over many seeds.
//
// A case is: a two-host Scenario (IPv4 or IPv6, Ethernet or bare IP, MTU 576..9000) whose two
// directions each get their own netem-like impairments (independent loss up to 20%,
// Gilbert-Elliott burst loss, duplication, reordering, single-bit corruption, a bandwidth limit
// with a tail-drop queue, jitter), both stacks with random TCP options (timestamps, SACK,
// window scaling) and buffer sizes, and on each side an application that writes its own random
// byte stream in random-sized writes, reads at a random pace in random-sized reads, shuts down
// its sending side when it has written everything (or only after the peer's EOF), and closes
// once it has read EOF (at once, or, lingering, once its data and FIN are acknowledged). ARP is
// spared from corruption (nothing can detect a corrupted ARP reply), and a direction loses at
// most 20% of its frames to loss and corruption together.
//
// What must hold (runCase): both directions deliver exactly the bytes written (length and
// SHA-256); both connections end CLOSED with no error (one side through TIME-WAIT, after 2*MSL);
// the transfer never stalls (the simulation never goes idle before the end) and ends within a
// bound computed from the case; every corrupted frame that reached a stack was dropped and
// counted, unless the flipped bit lay in a field no checksum covers and that carries no data
// (Ethernet addresses, the IPv6 flow label, traffic class and hop limit, Ethernet padding).
import { createHash, type Hash } from 'node:crypto';
import { Scenario, type Host } from '../../src/sim/scenario.js';
import { SimRng } from '../../src/sim/rng.js';
import type { ImpairOptions } from '../../src/link/impair.js';
import type { TcpConfig } from '../../src/tcp/config.js';
import type { TcpSocket } from '../../src/api/socket.js';
import { Ready, type Tcb } from '../../src/tcp/tcb.js';
import type { Seq } from '../../src/tcp/seq.js';
import { type Duration, type Instant, millis } from '../../src/time/instant.js';
import type { Medium, Pollable } from '../../src/link/link.js';
import { PcapWriter } from '../../src/link/capture.js';
import { decodeFrame } from '../../src/trace/decode.js';

/** How one side's application behaves. */
export interface AppSpec {
  /** Bytes it writes. */
  bytes: number;
  /** Largest single write (each write is 1..maxWrite bytes). */
  maxWrite: number;
  /** 0: read whenever readable; otherwise read at most every `readEveryMs`. */
  readEveryMs: number;
  /** Bytes asked for per read. */
  readChunk: number;
  /** Reads per wake-up. */
  readsPerWake: number;
  /** 'eager': shut down writing once everything is written; 'after-eof': only after the peer's EOF. */
  shutdown: 'eager' | 'after-eof';
  /**
   * 'at-eof': close() once it has read EOF and shut down writing, leaving the stack to finish
   * (an orphan, as most applications do); 'lingering': close() only once its data and FIN are
   * acknowledged, as an application that needs to know the peer got everything does (SO_LINGER,
   * or waiting for SIOCOUTQ to drain).
   */
  close: 'at-eof' | 'lingering';
  /** TCP_NODELAY, TCP_CORK. */
  noDelay: boolean;
  cork: boolean;
}

/** One direction's impairments, as plain data (printable). */
export interface LinkSpec {
  loss: number;
  burst: { toBad: number; toGood: number; lossBad: number } | undefined;
  duplicate: number;
  reorder: number;
  corrupt: number;
  /** bits per second, or 0 for no limit. */
  bandwidth: number;
  queueFrames: number;
  jitterMs: number;
}

/** A whole case. */
export interface Case {
  seed: number;
  family: 4 | 6;
  medium: Medium;
  mtu: number;
  delayMs: number;
  c2s: LinkSpec;
  s2c: LinkSpec;
  client: AppSpec;
  server: AppSpec;
  clientTcp: Partial<TcpConfig>;
  serverTcp: Partial<TcpConfig>;
  /**
   * Initial sequence numbers forced just below 2^32 (client, server), so both streams cross the
   * wrap early (RFC 9293 §3.4: all arithmetic modulo 2^32); undefined: the stacks' own ISNs.
   */
  isnNearWrap: [number, number] | undefined;
}

const MTUS = [576, 1280, 1500, 1500, 1500, 4000, 9000];

/**
 * One direction's impairments. The loss a direction suffers (independent loss plus corruption,
 * which the receiver drops) stays at or below 20%: beyond that, runs of consecutive losses become
 * likely enough that a correct TCP gives up (tcp_retries2, an orphan's 8 retries) in some seeds,
 * and the property could not demand that every connection completes.
 */
function linkSpec(r: SimRng): LinkSpec {
  const l = drawLink(r);
  if (l.loss + l.corrupt > 0.2) l.corrupt = Math.max(0, 0.2 - l.loss);
  return l;
}

function drawLink(r: SimRng): LinkSpec {
  const mode = r.pick(['clean', 'clean', 'loss', 'loss', 'loss', 'loss', 'burst', 'burst', 'light', 'light']);
  const bw = r.bool(0.5) ? r.pick([1e6, 5e6, 20e6, 100e6, 1e9]) : 0;
  const impaired = mode !== 'clean';
  return {
    loss: mode === 'loss' ? r.pick([0.01, 0.03, 0.05, 0.1, 0.2]) : mode === 'light' ? 0.005 : 0,
    // Gilbert-Elliott bursts: short bad periods (1/toGood frames on average) that lose most frames.
    burst: mode === 'burst' ? { toBad: r.pick([0.005, 0.01, 0.03]), toGood: r.pick([0.5, 0.7]), lossBad: r.pick([0.5, 0.7, 1]) } : undefined,
    duplicate: impaired ? r.pick([0, 0, 0.01, 0.05]) : 0,
    reorder: impaired ? r.pick([0, 0, 0.02, 0.1, 0.25]) : 0,
    corrupt: impaired ? r.pick([0, 0, 0.01, 0.05]) : 0,
    bandwidth: bw,
    queueFrames: bw > 0 ? r.pick([4, 16, 64, 256]) : 0,
    jitterMs: r.pick([0, 0, 1, 5]),
  };
}

function appSpec(r: SimRng, bytes: number): AppSpec {
  const paced = r.bool(0.4);
  return {
    bytes,
    maxWrite: r.pick([1, 100, 1000, 1460, 4096, 65536]),
    readEveryMs: paced ? r.pick([1, 10, 50, 200]) : 0,
    readChunk: r.pick([1, 500, 4096, 65536]),
    readsPerWake: r.pick([1, 4]),
    shutdown: 'eager',
    close: 'at-eof',
    noDelay: r.bool(0.3),
    cork: r.bool(0.15),
  };
}

function tcpSpec(r: SimRng): Partial<TcpConfig> {
  return {
    timestamps: r.bool(0.8),
    sack: r.bool(0.8),
    windowScaling: r.bool(0.8),
    sndBuf: r.pick([4096, 16384, 65536, 262144]),
    rcvBuf: r.pick([2048, 8192, 65536, 131072, 1 << 20]),
  };
}

/** Draws the case for `seed`. */
export function makeCase(seed: number, sizeScale = 1): Case {
  const r = new SimRng(seed).fork('case');
  const mtu = r.pick(MTUS);
  const family: 4 | 6 = mtu >= 1280 && r.bool(0.3) ? 6 : 4;
  const size = (): number => (r.bool(0.15) ? 0 : Math.floor(r.pick([1, 100, 3000, 20_000, 60_000, 150_000]) * sizeScale) + r.int(0, 999));
  const c: Case = {
    seed,
    family,
    medium: r.bool(0.8) ? 'ethernet' : 'ip',
    mtu,
    delayMs: r.pick([0, 1, 5, 20, 50]),
    c2s: linkSpec(r),
    s2c: linkSpec(r),
    client: appSpec(r, size()),
    server: appSpec(r, size()),
    clientTcp: tcpSpec(r),
    serverTcp: tcpSpec(r),
    isnNearWrap: undefined,
  };
  if (r.bool(0.3)) c.isnNearWrap = [(2 ** 32 - r.int(1, 300_000)) >>> 0, (2 ** 32 - r.int(1, 300_000)) >>> 0];
  // One side may wait for the other's EOF before closing (request/response), never both.
  const lazy = r.int(0, 3);
  if (lazy === 1) c.client.shutdown = 'after-eof';
  if (lazy === 2) c.server.shutdown = 'after-eof';
  // An orphan (closed with data or a FIN still unacknowledged) is abandoned after
  // tcp_orphan_retries (8: 102.2 s), as Linux does; on a network where runs of lost rounds are
  // likely that is a legitimate end, so there the applications linger until everything is
  // acknowledged. On milder networks, half of them close at EOF and leave the stack to finish.
  const pRound = 1 - (1 - lossAfterLoss(c.c2s)) * (1 - lossAfterLoss(c.s2c));
  for (const app of [c.client, c.server]) app.close = pRound > 0.1 || r.bool(0.5) ? 'lingering' : 'at-eof';
  // Keep slow readers from making a case take minutes of CPU: a paced reader of tiny chunks
  // gets a proportionally smaller stream.
  for (const [reader, writer] of [[c.client, c.server], [c.server, c.client]] as const) {
    if (reader.readEveryMs > 0) {
      const perSecond = (1000 / reader.readEveryMs) * reader.readChunk * reader.readsPerWake;
      writer.bytes = Math.min(writer.bytes, Math.floor(perSecond * 20));
    }
  }
  return c;
}

function impairOptions(l: LinkSpec, medium: Medium): ImpairOptions {
  const o: ImpairOptions = {};
  if (l.loss > 0) o.loss = l.loss;
  if (l.burst !== undefined) o.burst = { toBad: l.burst.toBad, toGood: l.burst.toGood, lossBad: l.burst.lossBad };
  if (l.duplicate > 0) o.duplicate = l.duplicate;
  if (l.reorder > 0) {
    o.reorder = l.reorder;
    o.reorderDelay = millis(3);
  }
  if (l.corrupt > 0) {
    o.corrupt = l.corrupt;
    // ARP has no checksum: a corrupted reply poisons the neighbour cache for the 30+ s that
    // neighbour unreachability detection takes (as it would on Linux under netem). The property
    // is about TCP and IP, so ARP frames are spared.
    o.corruptOnly = (f) => medium !== 'ethernet' || f[12] !== 0x08 || f[13] !== 0x06;
  }
  if (l.bandwidth > 0) {
    o.bandwidth = l.bandwidth;
    o.queueFrames = l.queueFrames;
  }
  if (l.jitterMs > 0) o.jitter = millis(l.jitterMs);
  return o;
}

/** One side's application: writes its stream, reads the peer's, shuts down and closes. */
class App implements Pollable {
  readonly data: Uint8Array;
  sent = 0;
  received = 0;
  readonly hash: Hash = createHash('sha256');
  eof = false;
  shut = false;
  closed = false;
  error: string | undefined;
  /** When the app last saw all of the peer's data and EOF. */
  eofAt: Instant | undefined;
  private wake = true;
  private nextReadAt = 0;
  private readonly buf: Uint8Array;
  tcb: Tcb | undefined;

  constructor(
    readonly name: string,
    readonly spec: AppSpec,
    private readonly rng: SimRng,
    readonly s: Scenario,
    public sock: TcpSocket | undefined,
  ) {
    this.data = rng.bytes(spec.bytes);
    this.buf = new Uint8Array(spec.readChunk);
  }

  attach(sock: TcpSocket): void {
    this.sock = sock;
    this.tcb = sock.connection;
    sock.setOption('noDelay', this.spec.noDelay);
    sock.setOption('cork', this.spec.cork);
    sock.onReady = () => {
      this.wake = true;
    };
    this.wake = true;
  }

  get done(): boolean {
    return this.closed;
  }

  pollAt(): Instant | undefined {
    if (this.sock === undefined || this.closed) return undefined;
    if (this.wake) return this.s.now;
    if (this.spec.readEveryMs > 0 && !this.eof && this.sock.readiness() & Ready.READABLE) return Math.max(this.nextReadAt, this.s.now) as Instant;
    return undefined;
  }

  poll(now: Instant): void {
    const sock = this.sock;
    if (sock === undefined || this.closed) return;
    this.wake = false;
    // Write.
    while (this.sent < this.data.length) {
      const len = Math.min(this.rng.int(1, this.spec.maxWrite), this.data.length - this.sent);
      const n = sock.send(this.data.subarray(this.sent, this.sent + len));
      if (typeof n !== 'number') {
        if (n !== 'EAGAIN') this.error = `send: ${n}`;
        break;
      }
      this.sent += n;
    }
    // Like Linux (inet_shutdown disconnects a SYN-SENT socket), shutdown waits for the connection.
    const open = sock.state !== 'SYN-SENT' && sock.state !== 'SYN-RECEIVED';
    if (!this.shut && open && this.sent === this.data.length && (this.spec.shutdown === 'eager' || this.eof)) {
      const e = sock.shutdown('write');
      if (e !== undefined) this.error = `shutdown: ${e}`;
      this.shut = true;
    }
    // Read.
    if (!this.eof && (this.spec.readEveryMs === 0 || now >= this.nextReadAt)) {
      let reads = this.spec.readEveryMs === 0 ? Infinity : this.spec.readsPerWake;
      let got = false;
      while (reads-- > 0) {
        const n = sock.recv(this.buf);
        if (typeof n !== 'number') {
          if (n !== 'EAGAIN') this.error = `recv: ${n}`;
          break;
        }
        if (n === 0) {
          this.eof = true;
          this.eofAt = now;
          break;
        }
        got = true;
        this.hash.update(this.buf.subarray(0, n));
        this.received += n;
      }
      if (got || this.eof) this.nextReadAt = now + this.spec.readEveryMs * 1000;
      // Shut down after EOF if that was the plan.
      if (this.eof && !this.shut && this.sent === this.data.length) this.wake = true;
    }
    const t = this.tcb;
    // A lingering application closes once its FIN is acknowledged, or once the connection is
    // over anyway (a RST that answers our FIN after the peer's TIME-WAIT expired ends LAST-ACK).
    const settled = this.spec.close === 'at-eof' || (t !== undefined && (t.finAcked || t.state === 'CLOSED'));
    if (this.eof && this.shut && !this.closed && settled) {
      sock.close();
      this.closed = true;
    }
  }
}

/** The outcome of running a case. */
export interface Outcome {
  case: Case;
  scenario: Scenario;
  client: App;
  server: App;
  /** When both applications had read EOF and closed. */
  appsDoneAt: Instant | undefined;
  /** When both connections were CLOSED. */
  closedAt: Instant | undefined;
  /** The bound on appsDoneAt. */
  bound: number;
  /** Why the run stopped. */
  stop: string;
  /** Corrupted frames that were delivered to a stack and not dropped, with the flipped byte. */
  corruptAccepted: string[];
  /** Corrupted frames that reached a stack. */
  corruptDelivered: number;
  problems: string[];
}

/** The chance that a frame is lost (dropped or corrupted) on a link, in the long run. */
function lossRate(l: LinkSpec): number {
  const b = l.burst;
  const burst = b === undefined ? 0 : (b.toBad / (b.toBad + b.toGood)) * b.lossBad;
  // A short queue behind a bandwidth limit drops when the congestion window overshoots it.
  const queue = l.bandwidth > 0 && l.queueFrames < 64 ? 0.02 : 0;
  return 1 - (1 - l.loss) * (1 - burst) * (1 - l.corrupt) * (1 - queue);
}

/** The chance that a frame is lost given that the previous one was (bursts make losses cluster). */
function lossAfterLoss(l: LinkSpec): number {
  const b = l.burst;
  const burst = b === undefined ? 0 : (1 - b.toGood) * b.lossBad;
  return 1 - (1 - lossRate(l)) * (1 - burst);
}

/** The most consecutive failed rounds (a frame or its answer lost) to allow: rarer than one in a million per case. */
function worstRun(pRound: number, episodes: number): number {
  if (pRound <= 0) return 0;
  return Math.ceil(Math.log(1e-6 / Math.max(episodes, 1)) / Math.log(pRound));
}

/**
 * A bound on the time the applications take. For each direction: three times the ideal time (the
 * bytes at the slowest of the link rate, the reader's pace and one window per round trip, plus
 * ten round trips of slow start) and one retransmission timeout and round trip per expected loss.
 * Then the timeouts the run actually waited through: for each segment retransmitted k times in a
 * row, the k waits before those retransmissions, where k is capped at the longest run of
 * consecutive failures that has less than a one-in-a-million chance on this network. So the bound
 * is tight when nothing timed out, and a run of timeouts is allowed only as long as the network
 * makes it plausible. A stall (a lost window update nobody repairs, a timer never armed) takes
 * forever and fails it however generous the allowance.
 */
export function timeBound(c: Case, runs: readonly (readonly number[])[] = []): number {
  const serial = (l: LinkSpec): number => (l.bandwidth > 0 ? ((c.mtu + 40) * 8e6) / l.bandwidth : 0);
  const queueing = (l: LinkSpec): number => serial(l) * l.queueFrames;
  const rtt = 2 * c.delayMs * 1000 + 2 * 1000 * Math.max(c.c2s.jitterMs, c.s2c.jitterMs) + serial(c.c2s) + serial(c.s2c) + queueing(c.c2s) + queueing(c.s2c) + 3_000;
  const rto = Math.max(200_000, 3 * rtt);
  const pRound = 1 - (1 - lossAfterLoss(c.c2s)) * (1 - lossAfterLoss(c.s2c));
  let episodesAll = 2;
  const dir = (w: AppSpec, r: AppSpec, data: LinkSpec, ack: LinkSpec, rcvBuf: number, sndBuf: number): number => {
    if (w.bytes === 0) return 0;
    let rate = Math.max(Math.min(rcvBuf, sndBuf) / 2, 536) / rtt; // bytes per µs: a window per round trip
    if (data.bandwidth > 0) rate = Math.min(rate, data.bandwidth / 8e6 / 2);
    // A paced reader drains at most its reads, and at most the receive buffer, per interval.
    if (r.readEveryMs > 0) rate = Math.min(rate, Math.min(r.readChunk * r.readsPerWake, rcvBuf) / (r.readEveryMs * 1000));
    const ideal = w.bytes / rate + 10 * rtt;
    const segs = w.bytes / 500 + 2;
    const episodes = segs * (1 - (1 - lossRate(data)) * (1 - lossRate(ack)));
    episodesAll += episodes;
    return 3 * ideal + episodes * 2 * (rto + rtt);
  };
  const a = dir(c.client, c.server, c.c2s, c.s2c, c.serverTcp.rcvBuf ?? 131072, c.clientTcp.sndBuf ?? 16384);
  const b = dir(c.server, c.client, c.s2c, c.c2s, c.clientTcp.rcvBuf ?? 131072, c.serverTcp.sndBuf ?? 16384);
  const kmax = worstRun(pRound, episodesAll);
  let waited = 0;
  for (const gaps of runs) for (let i = 0; i < gaps.length && i < kmax; i++) waited += gaps[i]!;
  return a + b + waited + 10 * rtt + 2_000_000;
}

/**
 * For each sequence number a host retransmitted, the waits before each retransmission (from the
 * previous transmission of that sequence number), from the trace and the wire record.
 */
function retransmitRuns(s: Scenario): number[][] {
  const lastSent = new Map<string, number>();
  const runs = new Map<string, number[]>();
  const firstSent = new Map<string, number>();
  for (const w of s.wire) {
    const d = decodeFrame(w.frame, w.medium);
    if (d.kind !== 'tcp') continue;
    const key = `${w.from}/${d.seg.srcPort}/${d.seg.seq}`;
    if (!firstSent.has(key)) firstSent.set(key, w.sentAt);
  }
  // Neighbour resolution (ARP / NDP) retries once a second (RFC 4861 RETRANS_TIMER): each
  // solicitation beyond a host's first is a second of waiting the transport cannot help.
  const solicits = new Map<string, number[]>();
  for (const w of s.wire) {
    const d = decodeFrame(w.frame, w.medium);
    const solicit = (d.kind === 'arp' && d.summary.includes('who-has')) || (d.kind === 'icmp' && d.family === 6 && d.type === 135);
    if (!solicit) continue;
    const list = solicits.get(w.from) ?? [];
    if (list.length > 0) list.push(1_000_000);
    else list.push(0);
    solicits.set(w.from, list);
  }
  for (const list of solicits.values()) runs.set(`arp/${runs.size}`, list);
  for (const ev of s.trace) {
    if (ev.kind !== 'tcp-retransmit') continue;
    const port = ev.conn.local.slice(ev.conn.local.lastIndexOf(':') + 1);
    const key = `${ev.stack}/${port}/${ev.seq}`;
    // A frame held for neighbour resolution reaches the wire later than TCP sent it.
    const prev = Math.min(lastSent.get(key) ?? firstSent.get(key) ?? ev.at, ev.at);
    lastSent.set(key, ev.at);
    const r = runs.get(key);
    if (r === undefined) runs.set(key, [ev.at - prev]);
    else r.push(ev.at - prev);
  }
  return [...runs.values()];
}

/** Runs a case to completion (or to its bound) and checks it. */
export function runCase(c: Case, opts: { capture?: PcapWriter } = {}): Outcome {
  const corrupted = new Map<Uint8Array, number>();
  const s = new Scenario({
    seed: c.seed,
    onImpair: (ev) => {
      if (ev.kind === 'corrupt') corrupted.set(ev.frame, Number(/byte (\d+)/.exec(ev.reason)?.[1] ?? -1));
    },
    mtu: c.mtu,
    medium: c.medium,
    delay: millis(c.delayMs),
    clientImpair: impairOptions(c.c2s, c.medium),
    serverImpair: impairOptions(c.s2c, c.medium),
    clientTcp: c.clientTcp,
    serverTcp: c.serverTcp,
    ...(opts.capture !== undefined ? { capture: opts.capture } : {}),
  });
  const rng = new SimRng(c.seed).fork('apps');
  const client = new App('client', c.client, rng.fork('client'), s, undefined);
  const server = new App('server', c.server, rng.fork('server'), s, undefined);

  // Watch every corrupted frame: it must be dropped (and counted) by the stack it reaches.
  const corruptAccepted: string[] = [];
  let corruptDelivered = 0;
  for (const h of [s.client, s.server]) {
    watchCorruption(h, corrupted, (frame, byte, dropped, now) => {
      corruptDelivered++;
      if (dropped) return;
      const why = harmlessFlip(frame, byte, c.medium);
      if (why === undefined) corruptAccepted.push(`${h.name} accepted a frame corrupted at byte ${byte} at ${now} µs`);
    });
  }

  if (c.isnNearWrap !== undefined) {
    const [ci, si] = c.isnNearWrap;
    s.client.stack.tcp.isnGenerator.isn = () => ci as Seq;
    s.server.stack.tcp.isnGenerator.isn = () => si as Seq;
  }
  const listener = s.server.sockets.socket(c.family);
  const listenAddr = c.family === 4 ? '0.0.0.0' : '::';
  if (listener.bind(listenAddr, 80) !== undefined || listener.listen() !== undefined) throw new Error('listen failed');
  const csock = s.client.sockets.socket(c.family);
  const r = csock.connect(c.family === 4 ? s.server.addr : s.server.addr6, 80);
  if (r !== 'EINPROGRESS') throw new Error(`connect: ${r}`);
  client.attach(csock);
  listener.onReady = () => {
    const a = listener.accept();
    if (typeof a !== 'string') {
      server.attach(a);
      listener.close();
    }
  };
  s.sim.add(client, 'app-client').add(server, 'app-server');

  let bound = timeBound(c);
  const problems: string[] = [];
  let appsDoneAt: Instant | undefined;
  let closedAt: Instant | undefined;
  // Phase 1: the applications finish (or the bound passes, with slack to tell slow from stuck).
  const res = s.sim.run({
    until: () => client.done && server.done,
    maxTime: (timeBound(c) + 3_600_000_000) as Instant, // virtual time: a generous cap costs nothing while idle
  });
  let stop: string = res.reason;
  if (client.done && server.done) appsDoneAt = s.now;
  bound = timeBound(c, retransmitRuns(s));
  // Phase 2: both connections reach CLOSED (2*MSL of TIME-WAIT, and a lost last ACK's retries).
  if (appsDoneAt !== undefined) {
    const msl = Math.max(c.clientTcp.msl ?? 30_000_000, c.serverTcp.msl ?? 30_000_000);
    const r2 = s.sim.run({
      // Nothing left in either stack: no connection, no TIME-WAIT (a TCB or a compact record).
      until: () => s.client.stack.tcp.connectionCount === 0 && s.server.stack.tcp.connectionCount === 0,
      maxDuration: (2 * msl + 60_000_000) as Duration,
    });
    stop = r2.reason;
    if (r2.reason === 'until') closedAt = s.now;
  }
  if (appsDoneAt === undefined) {
    problems.push(stop === 'quiescent'
      ? `stalled: nothing left to do at ${fmt(s.now)} but the applications are not done`
      : `did not finish: applications not done at ${fmt(s.now)} (${stop})`);
  } else if (appsDoneAt > bound) {
    problems.push(`too slow: applications done at ${fmt(appsDoneAt)}, bound ${fmt(bound)}`);
  }
  if (appsDoneAt !== undefined && closedAt === undefined) problems.push(`connections not CLOSED by ${fmt(s.now)}: client ${client.tcb?.state}, server ${server.tcb?.state}`);
  for (const [app, peer] of [[client, server], [server, client]] as const) {
    if (app.error !== undefined) problems.push(`${app.name} error: ${app.error}`);
    if (app.sock === undefined) {
      problems.push(`${app.name} never connected`);
      continue;
    }
    if (app.received !== peer.data.length) problems.push(`${app.name} received ${app.received} of ${peer.data.length} bytes`);
    else if (app.hash.copy().digest('hex') !== createHash('sha256').update(peer.data).digest('hex')) problems.push(`${app.name} received ${app.received} bytes with the wrong SHA-256`);
    const t = app.tcb;
    if (t !== undefined && t.closeReason !== undefined && t.closeReason !== 'normal') problems.push(`${app.name} connection closed by ${t.closeReason}`);
  }
  if (closedAt !== undefined) {
    // A normal close: at least one side went through TIME-WAIT and stayed there 2*MSL (RFC 9293 §3.10.7.4).
    const tw = s.states.filter((x) => x.state === 'TIME-WAIT');
    if (tw.length === 0) problems.push('no side went through TIME-WAIT');
    for (const t of tw) {
      const msl = (t.host === s.client.name ? c.clientTcp.msl : c.serverTcp.msl) ?? 30_000_000;
      const end = s.states.find((x) => x.host === t.host && x.at >= t.at && x.state === 'CLOSED');
      if (end !== undefined && end.at - t.at < 2 * msl) problems.push(`${t.host} left TIME-WAIT after ${fmt(end.at - t.at)}, before 2*MSL`);
    }
  }
  problems.push(...corruptAccepted);
  return { case: c, scenario: s, client, server, appsDoneAt, closedAt, bound, stop, corruptAccepted, corruptDelivered, problems };
}

const fmt = (us: number): string => `${(us / 1e6).toFixed(3)} s`;

/** Total drops the stack has counted, at every layer. */
function dropTotal(h: Host): number {
  let n = 0;
  for (const v of Object.values(h.stack.counters.drops)) n += v;
  for (const v of h.stack.tcp.counters.drops.values()) n += v;
  return n;
}

function watchCorruption(h: Host, corrupted: Map<Uint8Array, number>, onDelivered: (frame: Uint8Array, byte: number, dropped: boolean, now: Instant) => void): void {
  const stack = h.stack;
  const ingress = stack.ingress.bind(stack);
  stack.ingress = (ifindex, frame, now) => {
    const byte = corrupted.get(frame);
    if (byte === undefined) {
      ingress(ifindex, frame, now);
      return;
    }
    const before = dropTotal(h);
    ingress(ifindex, frame, now);
    onDelivered(frame, byte, dropTotal(h) !== before, now);
  };
}

/**
 * Whether a flipped byte lies where no checksum looks and no data lives, so a stack may rightly
 * accept the frame (a real Ethernet's FCS would have dropped it): the Ethernet addresses,
 * bytes after the IP datagram (padding), and IPv6's traffic class, flow label and hop limit.
 * Returns the field name, or undefined when the frame should have been dropped.
 */
export function harmlessFlip(frame: Uint8Array, byte: number, medium: Medium): string | undefined {
  let ip = 0;
  if (medium === 'ethernet') {
    if (byte < 12) return 'ethernet address';
    if (byte < 14) return undefined;
    ip = 14;
  }
  const v = (frame[ip] ?? 0) >>> 4;
  const off = byte - ip;
  if (v === 4) {
    const total = ((frame[ip + 2] ?? 0) << 8) | (frame[ip + 3] ?? 0);
    if (off >= total) return 'padding';
    return undefined;
  }
  if (v === 6) {
    const total = 40 + (((frame[ip + 4] ?? 0) << 8) | (frame[ip + 5] ?? 0));
    if (off >= total) return 'padding';
    if (off === 0) return 'ipv6 traffic class'; // the flipped bit may be in the version nibble: then the frame is dropped, checked below
    if (off === 1 || off === 2 || off === 3) return 'ipv6 traffic class / flow label';
    if (off === 7) return 'ipv6 hop limit';
    return undefined;
  }
  return undefined;
}

/** Writes the case's capture (re-run with a pcap writer) and returns the path. */
export function describe(o: Outcome, tailLines = 60): string {
  const c = o.case;
  const lines = o.scenario.diagram().split('\n');
  return [
    `case ${JSON.stringify(c)}`,
    `stop: ${o.stop} at ${fmt(o.scenario.now)}; apps done ${o.appsDoneAt === undefined ? '-' : fmt(o.appsDoneAt)}, closed ${o.closedAt === undefined ? '-' : fmt(o.closedAt)}, bound ${fmt(o.bound)}`,
    `client: sent ${o.client.sent}/${c.client.bytes} received ${o.client.received} eof ${o.client.eof} shut ${o.client.shut} state ${o.client.tcb?.state}`,
    `server: sent ${o.server.sent}/${c.server.bytes} received ${o.server.received} eof ${o.server.eof} shut ${o.server.shut} state ${o.server.tcb?.state}`,
    `problems:\n  ${o.problems.join('\n  ')}`,
    `diagram (last ${tailLines} of ${lines.length} lines):`,
    ...lines.slice(-tailLines),
  ].join('\n');
}

