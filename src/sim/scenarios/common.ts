// What every scenario of the catalogue shares: the result shape, option layering (a story's own
// impairments composed with the ones a user adds in `synack demo`), warm neighbour caches, frame
// predicates for "lose the Nth SYN-ACK" filters, and small drivers for sockets (wait, read,
// write) that fail with the scenario attached, so a stalled story can still be drawn.
import { Scenario, type TwoHostOptions } from '../scenario.js';
import type { TcpSocket } from '../../api/socket.js';
import type { ImpairOptions, FilterVerdict } from '../../link/impair.js';
import type { CaptureSink } from '../../link/capture.js';
import type { Medium } from '../../link/link.js';
import type { Instant } from '../../time/instant.js';
import type { DiagramOptions, WireRecord } from '../../trace/diagram.js';
import { decodeFrame } from '../../trace/decode.js';
import { TcpFlag, type TcpRepr } from '../../wire/tcp.js';
import type { SocketErrorCode } from '../../tcp/errors.js';
import { type TcpInfo, tcpInfo } from '../../trace/stats.js';

/** Facts worth printing under a diagram and asserting in tests. */
export type Facts = Record<string, string | number | boolean>;

/** What a scenario run produced. */
export interface ScenarioResult {
  scenario: Scenario;
  /** Facts worth printing under the diagram (and asserting in tests). */
  facts: Facts;
  /** One line naming this run when a story has several ("with RFC 5961", "close() with SO_LINGER {on, 0}"). */
  caption?: string;
  /** Diagram options that suit the story (collapse long runs, show windows, ...). */
  view?: DiagramOptions;
  /** The same story done another way, drawn after this one (FIN versus RST, with and without RFC 5961). */
  contrast?: ScenarioResult;
  /** tcp_info of the connection the story is about, taken at its most telling moment. */
  info?: TcpInfo;
  /** A text figure printed after the facts, such as the slow-start chapter's cwnd plot (src/trace/plot.ts). */
  figure?: string;
}

/**
 * Options for a catalogue scenario: the two-host options plus a capture for the contrasting run.
 * In the catalogue `capture` records at the client host, as tcpdump there would (the frames it
 * sends, lost ones included, and the frames that reach it): see TwoHostOptions.hostCapture.
 */
export interface ScenarioOptions extends TwoHostOptions {
  /** Where the contrasting run (if the story has one) records its frames. */
  contrastCapture?: CaptureSink;
}

/** A story that could not go on (a connection that never came up under heavy loss, ...), with the run so far. */
export class ScenarioStalled extends Error {
  constructor(readonly scenario: Scenario, message: string) {
    super(message);
    this.name = 'ScenarioStalled';
  }
}

/** Composes two impairment settings: later fields win, filters are combined (a frame passes only if both pass). */
export function mergeImpair(a: ImpairOptions | undefined, b: ImpairOptions | undefined): ImpairOptions | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const merged: ImpairOptions = { ...a, ...b };
  const fa = a.filter;
  const fb = b.filter;
  if (fa !== undefined && fb !== undefined) {
    // Both see every frame, so counting filters stay in step whatever the other decides.
    merged.filter = (frame, now): FilterVerdict => {
      const va = fa(frame, now);
      const vb = fb(frame, now);
      return va === 'drop' || vb === 'drop' ? 'drop' : 'pass';
    };
  }
  return merged;
}

/** Layers scenario options: later layers win field by field; impairments and TCP settings merge. */
export function mergeOptions(...layers: ScenarioOptions[]): ScenarioOptions {
  let out: ScenarioOptions = {};
  for (const l of layers) {
    const clientImpair = mergeImpair(out.clientImpair, l.clientImpair);
    const serverImpair = mergeImpair(out.serverImpair, l.serverImpair);
    out = {
      ...out, ...l,
      tcp: { ...out.tcp, ...l.tcp },
      clientTcp: { ...out.clientTcp, ...l.clientTcp },
      serverTcp: { ...out.serverTcp, ...l.serverTcp },
    };
    if (clientImpair !== undefined) out.clientImpair = clientImpair;
    if (serverImpair !== undefined) out.serverImpair = serverImpair;
  }
  return out;
}

/**
 * The options for the contrasting run of a two-run story: the same as the first run's, but
 * recording into `contrastCapture` (and not into the first run's capture).
 */
export function contrastOptions(opts: ScenarioOptions): ScenarioOptions {
  const { contrastCapture, capture: _first, ...rest } = opts;
  return contrastCapture !== undefined ? { ...rest, capture: contrastCapture } : rest;
}

/**
 * Builds a scenario from `defaults` (the story's seed and link), the user's options, and the
 * story's essentials (the impairment that makes the story; composed with, not replaced by, the
 * user's), and warms the neighbour caches so diagrams start with TCP, not ARP. The contrast's
 * capture in `user` is ignored: a second run passes `contrastOptions(user)`.
 */
export function newScenario(defaults: ScenarioOptions, user: ScenarioOptions, story: ScenarioOptions = {}): Scenario {
  const { capture, contrastCapture: _unused, ...o } = mergeOptions(defaults, user, story);
  const s = new Scenario(capture !== undefined ? { ...o, hostCapture: capture } : o);
  warmNeighbors(s);
  return s;
}

/**
 * Teaches each host the other's MAC, as if they had talked before (`ip neigh replace ... nud
 * reachable`). The entries age like learnt ones; later ARP traffic is real and simply not drawn.
 */
export function warmNeighbors(s: Scenario): void {
  const pairs: [typeof s.client, typeof s.server][] = [[s.client, s.server], [s.server, s.client]];
  for (const [h, peer] of pairs) {
    const mac = peer.stack.interface(peer.ifindex)?.mac;
    if (mac === undefined) continue;
    const flags = { create: true, solicited: true, override: true };
    h.stack.ip.neighbors.learn(h.ifindex, peer.addr, mac, flags, s.now);
    if (h.stack.interface(h.ifindex)?.ipv6.some((a) => a.addr.equals(h.addr6)) === true) {
      h.stack.ip.neighbors.learn(h.ifindex, peer.addr6, mac, flags, s.now);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Frames

/** The TCP segment in a frame, if it carries one. */
export function tcpOf(frame: Uint8Array, medium: Medium = 'ethernet'): TcpRepr | undefined {
  const d = decodeFrame(frame, medium);
  return d.kind === 'tcp' ? d.seg : undefined;
}

/** A test on a TCP segment. */
export type SegmentTest = (seg: TcpRepr) => boolean;

const CTL = TcpFlag.SYN | TcpFlag.ACK | TcpFlag.FIN | TcpFlag.RST;
/** A SYN without ACK. */
export const isSyn: SegmentTest = (seg) => (seg.flags & CTL) === TcpFlag.SYN;
/** A SYN-ACK. */
export const isSynAck: SegmentTest = (seg) => (seg.flags & CTL) === (TcpFlag.SYN | TcpFlag.ACK);
/** An ACK with no data and no SYN, FIN or RST. */
export const isPureAck: SegmentTest = (seg) => (seg.flags & CTL) === TcpFlag.ACK && seg.payload.length === 0;
/** A segment carrying data. */
export const hasData: SegmentTest = (seg) => seg.payload.length > 0;
/** A FIN. */
export const isFin: SegmentTest = (seg) => (seg.flags & TcpFlag.FIN) !== 0;
/** A RST. */
export const isRst: SegmentTest = (seg) => (seg.flags & TcpFlag.RST) !== 0;

/** An impairment filter that drops the `which`-th (1-based) TCP segments passing `test`. */
export function dropMatching(test: SegmentTest, which: readonly number[], medium: Medium = 'ethernet'): ImpairOptions {
  let n = 0;
  return {
    filter: (frame) => {
      const seg = tcpOf(frame, medium);
      if (seg === undefined || !test(seg)) return 'pass';
      n++;
      return which.includes(n) ? 'drop' : 'pass';
    },
  };
}

/** An impairment filter that drops everything while `cut()` is true (a pulled cable). */
export function dropWhile(cut: () => boolean): ImpairOptions {
  return { filter: () => (cut() ? 'drop' : 'pass') };
}

/** Frames of the scenario sent by `from` whose TCP segment passes `test`. */
export function framesWhere(s: Scenario, from: string, test: SegmentTest = () => true): (WireRecord & { seg: TcpRepr })[] {
  const out: (WireRecord & { seg: TcpRepr })[] = [];
  for (const w of s.wire) {
    if (w.from !== from) continue;
    const seg = tcpOf(w.frame, w.medium);
    if (seg !== undefined && test(seg)) out.push({ ...w, seg });
  }
  return out;
}

/** The first time `host` entered `state` (on any connection), or undefined. */
export function stateAt(s: Scenario, host: string, state: string, after = 0): Instant | undefined {
  return s.states.find((r) => r.host === host && r.state === state && r.at >= after)?.at;
}

/** Seconds, rounded to the microsecond, for facts. */
export function secs(t: number | undefined): number {
  return t === undefined ? NaN : Math.round(t) / 1e6;
}

// ---------------------------------------------------------------------------------------------
// Sockets

/** Runs until `cond` holds, or throws ScenarioStalled naming `what`. */
export function waitFor(s: Scenario, cond: () => boolean, what: string, maxMs = 600_000): void {
  if (!s.runUntil(cond, maxMs)) throw new ScenarioStalled(s, `${what}: not reached within ${maxMs / 1000} s of virtual time`);
}

/** Opens a listener on the server and marks LISTEN on the diagram. */
export function listen(s: Scenario, port = 80, backlog = 511): TcpSocket {
  const l = s.server.sockets.socket();
  const e = l.bind('0.0.0.0', port) ?? l.listen(backlog);
  if (e !== undefined) throw new ScenarioStalled(s, `listen on port ${port}: ${e}`);
  s.markState(s.server.name, 'LISTEN');
  if (backlog !== 511) s.note(s.server.name, `listen(backlog=${backlog})`);
  return l;
}

/** Waits for the listener's next connection. */
export function acceptNext(s: Scenario, listener: TcpSocket, what = 'accept()', maxMs = 600_000): TcpSocket {
  let got: TcpSocket | undefined;
  waitFor(s, () => {
    const a = listener.accept();
    if (typeof a !== 'string') got = a;
    return got !== undefined;
  }, what, maxMs);
  return got!;
}

/** Opens a listener on the server and connects the client; runs until the server has accepted. */
export function connectPair(s: Scenario, port = 80): { client: TcpSocket; server: TcpSocket; listener: TcpSocket } {
  const listener = listen(s, port);
  const client = s.client.sockets.socket();
  client.connect(s.server.addr, port);
  let server: TcpSocket | undefined;
  waitFor(s, () => {
    const a = listener.accept();
    if (typeof a !== 'string') server = a;
    return server !== undefined && client.state === 'ESTABLISHED';
  }, `connectPair: no connection (client ${client.state})`, 300_000);
  return { client, server: server!, listener };
}

/** Accumulates what a socket receives. */
export class Reader {
  /** Bytes read so far. */
  bytes = 0;
  /** End of stream seen. */
  eof = false;
  /** The error recv() reported, if any (ECONNRESET, ...). */
  error: SocketErrorCode | undefined;
  private readonly buf = new Uint8Array(64 * 1024);
  private readonly chunks: Uint8Array[] = [];

  constructor(readonly sock: TcpSocket, private readonly keep = false) {}

  /** Reads everything available now; returns the bytes read by this call. */
  drain(): number {
    let n = 0;
    for (;;) {
      const r = this.sock.recv(this.buf);
      if (typeof r === 'string') {
        if (r !== 'EAGAIN') this.error ??= r;
        return n;
      }
      if (r === 0) {
        this.eof = true;
        return n;
      }
      n += r;
      this.bytes += r;
      if (this.keep) this.chunks.push(this.buf.slice(0, r));
    }
  }

  /** Everything read, when constructed with `keep`. */
  text(): string {
    const all = new Uint8Array(this.chunks.reduce((a, c) => a + c.length, 0));
    let off = 0;
    for (const c of this.chunks) {
      all.set(c, off);
      off += c.length;
    }
    return new TextDecoder().decode(all);
  }
}

/** Reads until `n` bytes (in total) have arrived, or EOF, or an error. */
export function readUntil(s: Scenario, r: Reader, n: number, what: string, maxMs = 600_000): void {
  waitFor(s, () => {
    r.drain();
    return r.bytes >= n || r.eof || r.error !== undefined;
  }, what, maxMs);
}

/** Reads until end of stream or an error. */
export function readToEnd(s: Scenario, r: Reader, what: string, maxMs = 600_000): void {
  waitFor(s, () => {
    r.drain();
    return r.eof || r.error !== undefined;
  }, what, maxMs);
}

/** Queues all of `data`, running the simulation while the send buffer is full; returns bytes queued. */
export function sendAll(s: Scenario, sock: TcpSocket, data: Uint8Array, what = 'send()', maxMs = 600_000): number {
  let off = 0;
  waitFor(s, () => {
    while (off < data.length) {
      const n = sock.send(data.subarray(off));
      if (typeof n === 'string') return n !== 'EAGAIN';
      off += n;
    }
    return true;
  }, what, maxMs);
  return off;
}

/** Sends all of `data` on `from` while `to` keeps reading, until every byte has arrived. */
export function transfer(s: Scenario, from: TcpSocket, to: Reader, data: Uint8Array, what = 'the transfer', maxMs = 600_000): void {
  let off = 0;
  const goal = to.bytes + data.length;
  waitFor(s, () => {
    while (off < data.length) {
      const n = from.send(data.subarray(off));
      if (typeof n === 'string') break;
      off += n;
    }
    to.drain();
    return to.bytes >= goal || to.error !== undefined;
  }, what, maxMs);
}

/** `n` bytes of printable filler. */
export function filler(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = 97 + (i % 26);
  return b;
}

/** ASCII text as bytes. */
export function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** tcp_info of a socket's connection now, if it has one. */
export function infoOf(s: Scenario, sock: TcpSocket): TcpInfo | undefined {
  const t = sock.connection;
  return t === undefined ? undefined : tcpInfo(t, s.now);
}
