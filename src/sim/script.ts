// Scenario files: the model behind `synack sim <file>`. A user describes hosts, links with
// impairments, and application steps (listen, connect, send, half-close, close, abort, a SYN
// flood), each triggered at a virtual time or by an event of an earlier step's socket; this file
// validates that description (errors name the path and the value), builds the network (two
// hosts on a PointToPoint link, more on a learning Switch: src/link/memory.ts; impairments from
// src/link/impair.ts), runs it in virtual time, and reports what happened: events, per-socket
// outcomes with tcp_info (src/trace/stats.ts), failures, and the sequence diagram
// (src/trace/diagram.ts) of every frame on every link.
//
// Pure: no Node imports, no clocks, so a browser playground can run the same files. The CLI
// (src/cli/sim.ts) reads the file and writes pcap/SVG files.
//
// Read first: RFC 9293 §3.10 (the user calls a step makes: OPEN, SEND, CLOSE, ABORT), §3.6
// (half-close: "CLOSE ... means I have no more to send"), RFC 4987 (SYN flooding and cookies).
//
// Triggers are level-triggered: a step with `after: "c1.received:1000"` runs (after its
// optional `delay`) at the first instant, once it is pending, that c1 has received 1000 bytes.
// Steps run in file order among those due at one instant.
import { Stack } from '../stack.js';
import { SimRng } from './rng.js';
import { Simulation, type StopReason } from './driver.js';
import { PointToPoint, Switch } from '../link/memory.js';
import { impair, type BurstLoss, type ImpairOptions } from '../link/impair.js';
import { capture, type CaptureSink, type RecordMeta } from '../link/capture.js';
import type { Pollable, Port } from '../link/link.js';
import { Ready, SocketLayer, type SocketOptionValues, type TcpSocket } from '../api/socket.js';
import { defaultTcpConfig, type TcpConfig } from '../tcp/config.js';
import type { Seq } from '../tcp/seq.js';
import { type Duration, type Instant, formatInstant } from '../time/instant.js';
import type { TraceEvent } from '../trace/events.js';
import { connKey, renderDiagram, type DiagramOptions, type NoteRecord, type StateRecord, type WireRecord } from '../trace/diagram.js';
import { renderSvg, type SvgOptions } from '../trace/svg.js';
import { socketTable, tcpInfo, type SocketRow, type TcpInfo } from '../trace/stats.js';
import { EtherType, MacAddr, emitEthernet, ETHERNET_HEADER_LEN } from '../wire/ethernet.js';
import { IPV4_HEADER_LEN, IpProtocol, emitIpv4 } from '../wire/ipv4.js';
import { IpAddr } from '../wire/ip-addr.js';
import { TcpFlag, emitTcp, tcpHeaderLength, type TcpRepr } from '../wire/tcp.js';
import { emptyTcpOptions } from '../wire/tcp-options.js';
import type { Rng } from '../util/rng.js';
import { assertNever } from '../util/result.js';

// ---------------------------------------------------------------------------------------------
// Errors and units

/** A mistake in a scenario file: `path` says where (`steps[2].connect.port`), the message what was found. */
export class ScriptError extends Error {
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'ScriptError';
  }
}

const show = (v: unknown): string => {
  if (v === undefined) return 'nothing';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
};

const bad = (path: string, expected: string, v: unknown): ScriptError => new ScriptError(path, `expected ${expected}, got ${show(v)}`);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function obj(v: unknown, path: string, allowed: readonly string[]): Obj {
  if (!isObj(v)) throw bad(path, 'an object', v);
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) throw new ScriptError(`${path}.${k}`, `unknown field (allowed: ${allowed.join(', ')})`);
  }
  return v;
}

function str(v: unknown, path: string): string {
  if (typeof v !== 'string' || v === '') throw bad(path, 'a non-empty string', v);
  return v;
}

function int(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(path, `an integer in [${min}, ${max}]`, v);
  return v;
}

/** Parses a duration with a unit: `250us`, `10ms`, `1.5s`, `2min`; the number 0 is allowed bare. */
export function parseDuration(v: unknown, path: string): Duration {
  if (v === 0) return 0 as Duration;
  const m = typeof v === 'string' ? /^(\d+(?:\.\d+)?)\s*(us|µs|ms|s|min)$/.exec(v.trim()) : null;
  if (m === null) throw bad(path, 'a duration like "10ms", "1.5s" or "250us"', v);
  const n = Number(m[1]);
  const scale = m[2] === 'min' ? 60e6 : m[2] === 's' ? 1e6 : m[2] === 'ms' ? 1e3 : 1;
  return Math.round(n * scale) as Duration;
}

/** Formats a duration the way files write it: `3s`, `10ms`, `250us`. */
export function formatDuration(d: Duration): string {
  if (d % 1_000_000 === 0) return `${d / 1_000_000}s`;
  if (d % 1000 === 0) return `${d / 1000}ms`;
  return `${d}us`;
}

/** Parses a probability: `"1%"` or a number in [0, 1]. */
export function parseRate(v: unknown, path: string): number {
  let r: number | undefined;
  if (typeof v === 'number') r = v;
  else if (typeof v === 'string') {
    const m = /^(\d+(?:\.\d+)?)\s*%$/.exec(v.trim());
    if (m !== null) r = Number(m[1]) / 100;
  }
  if (r === undefined || !(r >= 0 && r <= 1)) throw bad(path, 'a rate like "1%" or a number in [0, 1]', v);
  return r;
}

/** Parses a bandwidth in bits per second: `"10Mbit"`, `"512kbit"`, `"1Gbit"`, or a number. */
export function parseBandwidth(v: unknown, path: string): number {
  if (typeof v === 'number' && v > 0 && Number.isFinite(v)) return v;
  const m = typeof v === 'string' ? /^(\d+(?:\.\d+)?)\s*(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$/i.exec(v.trim()) : null;
  if (m === null || Number(m[1]) <= 0) throw bad(path, 'a bandwidth like "10Mbit", "512kbit" or a positive number of bit/s', v);
  const unit = (m[2] as string).toLowerCase()[0];
  const scale = unit === 'k' ? 1e3 : unit === 'm' ? 1e6 : unit === 'g' ? 1e9 : 1;
  return Number(m[1]) * scale;
}

/** Parses a byte count: an integer, or `"64KiB"`, `"1MiB"`, `"10kB"`, `"2MB"`. */
export function parseBytes(v: unknown, path: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  const m = typeof v === 'string' ? /^(\d+(?:\.\d+)?)\s*(B|kB|KiB|MB|MiB|GB|GiB)$/.exec(v.trim()) : null;
  if (m === null) throw bad(path, 'a byte count like 10000, "64KiB" or "1MB"', v);
  const scale: Record<string, number> = { B: 1, kB: 1e3, KiB: 1024, MB: 1e6, MiB: 1 << 20, GB: 1e9, GiB: 1 << 30 };
  return Math.round(Number(m[1]) * (scale[m[2] as string] as number));
}

// ---------------------------------------------------------------------------------------------
// The model: what a validated file holds

/** A host as written in a file (`hosts[i]`). */
export interface HostSpec {
  name: string;
  /** `a.b.c.d/len`; default `10.0.0.<n>/24` for the n-th host. */
  ipv4?: string;
  /** Optional IPv6 address `addr/len`. */
  ipv6?: string;
  /** TcpConfig fields (Linux sysctl names); durations as strings with units (`"30s"`). */
  tcp?: Obj;
}

/** Impairments as written in a file (`links[i].impair`, `links[i].from.<host>`). */
export interface ImpairSpec {
  loss?: string | number; duplicate?: string | number; corrupt?: string | number; reorder?: string | number;
  reorderDelay?: string; delay?: string; jitter?: string; jitterDistribution?: 'uniform' | 'normal';
  bandwidth?: string | number; queue?: number; queueBytes?: number | string; mtu?: number;
  burst?: { toBad: string | number; toGood: string | number; lossGood?: string | number; lossBad?: string | number };
}

/** A link as written in a file (`links[i]`). */
export interface LinkSpec {
  /** Two hosts (a point-to-point wire) or more (an Ethernet switch). */
  between: string[];
  delay?: string;
  mtu?: number;
  /** Shorthand for `impair.loss`. */
  loss?: string | number;
  /** Impairments on what every host on the link sends. */
  impair?: ImpairSpec;
  /** Impairments on what one host sends, merged over `impair`. */
  from?: Record<string, ImpairSpec>;
}

/** A step as written in a file (`steps[i]`); exactly one action field. */
export type StepSpec = Obj;

/** A whole scenario file. */
export interface ScriptSpec {
  seed?: number;
  hosts: HostSpec[];
  links: LinkSpec[];
  steps?: StepSpec[];
  /** How long to run at most (default "120s"). */
  until?: string;
  /** Teach hosts each other's MAC before the run so diagrams start with TCP (default true). */
  warmNeighbors?: boolean;
  /** Outcomes checked at the end, by socket name. */
  expect?: Record<string, { received?: number | string; sent?: number | string; state?: string; error?: string; eof?: boolean }>;
}

/** What a server socket does with a connection. */
export type Serve =
  | { kind: 'echo' }
  | { kind: 'sink' }
  /** After `after` bytes arrive, send `bytes` bytes; then close if `close`. */
  | { kind: 'respond'; after: number; bytes: number; close: boolean };

/** The events a trigger can wait for. */
export type SockEvent = 'connected' | 'accepted' | 'sent' | 'received' | 'eof' | 'closed' | 'error' | 'done';
const SOCK_EVENTS: readonly SockEvent[] = ['connected', 'accepted', 'sent', 'received', 'eof', 'closed', 'error', 'done'];

/** When a step runs. */
export type Trigger =
  | { kind: 'at'; at: Instant }
  | { kind: 'after'; socket: string; event: SockEvent; n: number | undefined; code: string | undefined; delay: Duration };

/** What a step does. */
export type Action =
  | { kind: 'listen'; port: number; as: string; backlog: number; autoAccept: boolean; serve: Serve | undefined; options: SocketOptionList }
  | { kind: 'connect'; to: string; port: number; as: string; options: SocketOptionList; expect: string | undefined }
  | { kind: 'accept'; listener: string; as: string; serve: Serve | undefined }
  | { kind: 'send'; socket: string; data: Uint8Array }
  | { kind: 'shutdown'; socket: string }
  | { kind: 'close'; socket: string }
  | { kind: 'abort'; socket: string }
  | { kind: 'flood'; as: string; port: number; rate: number; duration: Duration }
  | { kind: 'note'; text: string };

type SocketOptionList = [keyof SocketOptionValues, SocketOptionValues[keyof SocketOptionValues]][];

/** A validated step. */
export interface Step {
  index: number;
  /** `steps[3]` (or where a module added it). */
  path: string;
  host: string;
  trigger: Trigger;
  action: Action;
}

// ---------------------------------------------------------------------------------------------
// Validation of the pieces

const DURATION_KEYS = new Set(['msl', 'finTimeout', 'initialRto', 'minRto', 'maxRto', 'delayedAck', 'delayedAckMax', 'keepaliveIdle', 'keepaliveInterval']);

/** Validates a `tcp` block against TcpConfig's fields and types. */
export function parseTcpConfig(v: unknown, path: string): Partial<TcpConfig> {
  const defaults = defaultTcpConfig() as unknown as Obj;
  const allowed = Object.keys(defaults).filter((k) => k !== 'fastOpenKey');
  const o = obj(v, path, allowed);
  const out: Obj = {};
  for (const [k, val] of Object.entries(o)) {
    const p = `${path}.${k}`;
    const d = defaults[k];
    if (DURATION_KEYS.has(k)) out[k] = parseDuration(val, p);
    else if (k === 'portRange') {
      const r = obj(val, p, ['low', 'high']);
      const low = int(r['low'], `${p}.low`, 1, 65535);
      const high = int(r['high'], `${p}.high`, low, 65535);
      out[k] = { low, high };
    } else if (typeof d === 'boolean') {
      if (typeof val !== 'boolean') throw bad(p, 'true or false', val);
      out[k] = val;
    } else if (typeof d === 'number') {
      if (typeof val !== 'number' || !Number.isFinite(val) || val < 0) throw bad(p, 'a non-negative number', val);
      out[k] = val;
    } else if (typeof d === 'string') out[k] = str(val, p);
    else throw new ScriptError(p, 'cannot be set from a scenario file');
  }
  return out as Partial<TcpConfig>;
}

/** Validates impairments. */
export function parseImpair(v: unknown, path: string): ImpairOptions {
  const o = obj(v, path, ['loss', 'duplicate', 'corrupt', 'reorder', 'reorderDelay', 'delay', 'jitter', 'jitterDistribution', 'bandwidth', 'queue', 'queueBytes', 'mtu', 'burst']);
  const out: ImpairOptions = {};
  const p = (k: string): string => `${path}.${k}`;
  if (o['loss'] !== undefined) out.loss = parseRate(o['loss'], p('loss'));
  if (o['duplicate'] !== undefined) out.duplicate = parseRate(o['duplicate'], p('duplicate'));
  if (o['corrupt'] !== undefined) out.corrupt = parseRate(o['corrupt'], p('corrupt'));
  if (o['reorder'] !== undefined) out.reorder = parseRate(o['reorder'], p('reorder'));
  if (o['reorderDelay'] !== undefined) out.reorderDelay = parseDuration(o['reorderDelay'], p('reorderDelay'));
  if (o['delay'] !== undefined) out.delay = parseDuration(o['delay'], p('delay'));
  if (o['jitter'] !== undefined) out.jitter = parseDuration(o['jitter'], p('jitter'));
  if (o['jitterDistribution'] !== undefined) {
    const j = o['jitterDistribution'];
    if (j !== 'uniform' && j !== 'normal') throw bad(p('jitterDistribution'), '"uniform" or "normal"', j);
    out.jitterDistribution = j;
  }
  if (o['bandwidth'] !== undefined) out.bandwidth = parseBandwidth(o['bandwidth'], p('bandwidth'));
  if (o['queue'] !== undefined) out.queueFrames = int(o['queue'], p('queue'), 1, 1e9);
  if (o['queueBytes'] !== undefined) out.queueBytes = parseBytes(o['queueBytes'], p('queueBytes'));
  if (o['mtu'] !== undefined) out.mtu = int(o['mtu'], p('mtu'), 68, 65535);
  if (o['burst'] !== undefined) {
    const b = obj(o['burst'], p('burst'), ['toBad', 'toGood', 'lossGood', 'lossBad']);
    const burst: BurstLoss = { toBad: parseRate(b['toBad'], `${p('burst')}.toBad`), toGood: parseRate(b['toGood'], `${p('burst')}.toGood`) };
    if (b['lossGood'] !== undefined) burst.lossGood = parseRate(b['lossGood'], `${p('burst')}.lossGood`);
    if (b['lossBad'] !== undefined) burst.lossBad = parseRate(b['lossBad'], `${p('burst')}.lossBad`);
    out.burst = burst;
  }
  return out;
}

const BOOL_OPTIONS = new Set(['noDelay', 'cork', 'keepAlive', 'reuseAddress', 'fastOpenConnect']);
const NUM_OPTIONS = new Set(['keepIdle', 'keepInterval', 'keepCount', 'userTimeout', 'maxSegment', 'synCount', 'linger2', 'deferAccept', 'fastOpen', 'sendBuffer', 'receiveBuffer']);

function parseSocketOptions(v: unknown, path: string): SocketOptionList {
  if (v === undefined) return [];
  const o = obj(v, path, [...BOOL_OPTIONS, ...NUM_OPTIONS, 'linger']);
  const out: SocketOptionList = [];
  for (const [k, val] of Object.entries(o)) {
    const p = `${path}.${k}`;
    if (BOOL_OPTIONS.has(k)) {
      if (typeof val !== 'boolean') throw bad(p, 'true or false', val);
    } else if (k === 'linger') {
      if (val !== null && (typeof val !== 'number' || !(val >= 0))) throw bad(p, 'seconds (0 resets on close) or null (off)', val);
    } else if (typeof val !== 'number' || !(val >= 0)) throw bad(p, 'a non-negative number', val);
    out.push([k as keyof SocketOptionValues, (val === null ? undefined : val) as SocketOptionValues[keyof SocketOptionValues]]);
  }
  return out;
}

function parseServe(v: unknown, path: string): Serve | undefined {
  if (v === undefined) return undefined;
  if (v === 'echo') return { kind: 'echo' };
  if (v === 'sink') return { kind: 'sink' };
  if (isObj(v) && 'respond' in v) {
    const r = obj(obj(v, path, ['respond'])['respond'], `${path}.respond`, ['after', 'bytes', 'close']);
    const close = r['close'] ?? true;
    if (typeof close !== 'boolean') throw bad(`${path}.respond.close`, 'true or false', close);
    return { kind: 'respond', after: parseBytes(r['after'] ?? 1, `${path}.respond.after`), bytes: parseBytes(r['bytes'], `${path}.respond.bytes`), close };
  }
  throw bad(path, '"echo", "sink" or {"respond": {"after": M, "bytes": N}}', v);
}

const NAME = /^[A-Za-z_][\w-]*$/;
function sockName(v: unknown, path: string): string {
  if (typeof v !== 'string' || !NAME.test(v)) throw bad(path, 'a socket name (letters, digits, _ and -, not starting with a digit)', v);
  return v;
}

/** Parses `"c1.received:1000"`, `"srv#1.eof"`, `"c1.error:ECONNREFUSED"`. */
function parseTrigger(v: unknown, path: string): { socket: string; event: SockEvent; n: number | undefined; code: string | undefined } {
  const m = typeof v === 'string' ? /^([A-Za-z_][\w-]*(?:#\d+)?)\.([a-z]+)(?::(\w+))?$/.exec(v.trim()) : null;
  if (m === null) throw bad(path, 'an event like "c1.connected", "c1.received:1000", "srv#1.eof" or "c1.error:ECONNREFUSED"', v);
  const event = m[2] as SockEvent;
  if (!SOCK_EVENTS.includes(event)) throw new ScriptError(path, `unknown event '${m[2]}' in ${show(v)} (events: ${SOCK_EVENTS.join(', ')})`);
  const arg = m[3];
  let n: number | undefined;
  let code: string | undefined;
  if (arg !== undefined) {
    if (event === 'error') code = arg;
    else if ((event === 'received' || event === 'sent' || event === 'accepted') && /^\d+$/.test(arg)) n = Number(arg);
    else throw new ScriptError(path, `'${event}' takes ${event === 'received' || event === 'sent' || event === 'accepted' ? 'a count' : 'no argument'}, got ${show(v)}`);
  }
  return { socket: m[1] as string, event, n, code };
}

const ACTIONS = ['listen', 'connect', 'accept', 'send', 'shutdown', 'close', 'abort', 'flood', 'note'] as const;

// ---------------------------------------------------------------------------------------------
// The run

/** One host of a run. */
export interface SimHost {
  readonly name: string;
  readonly stack: Stack;
  readonly sockets: SocketLayer;
  /** Its IPv4 address (without the prefix length). */
  readonly addr: IpAddr;
  readonly mac: MacAddr;
  /** The stack's interface index once the host is on a link. */
  ifindex: number | undefined;
  /** Its port towards the link (after recording and impairment), once linked. */
  port: Port | undefined;
}

/** Something that happened to a named socket. */
export interface SimEvent {
  at: Instant;
  socket: string;
  event: SockEvent;
  detail?: string;
}

/** A named socket's outcome. */
export interface SocketReport {
  name: string;
  host: string;
  kind: 'listener' | 'connection' | 'flood';
  local: string | undefined;
  remote: string | undefined;
  /** The connection's state at the end (LISTEN for listeners). */
  state: string;
  sent: number;
  received: number;
  eof: boolean;
  error: string | undefined;
  /** Connections accepted (listeners), SYNs sent (floods). */
  count: number;
  info: TcpInfo | undefined;
}

/** How a run ended. */
export interface SimOutcome {
  ok: boolean;
  failures: string[];
  reason: StopReason;
  end: Instant;
  events: SimEvent[];
  sockets: SocketReport[];
  /** Each host's `ss -tan` table and its non-zero TCP counters at the end. */
  hosts: { name: string; table: SocketRow[]; counters: Record<string, number> }[];
  steps: { path: string; ran: boolean; at: Instant | undefined }[];
}

/** The runtime record of a named socket. */
interface Named {
  name: string;
  host: SimHost;
  kind: 'listener' | 'connection' | 'flood';
  sock: TcpSocket | undefined;
  flood: SynFlood | undefined;
  serve: Serve | undefined;
  autoAccept: boolean;
  accepted: number;
  children: number;
  pending: Uint8Array[];
  pendingBytes: number;
  asked: number;
  sent: number;
  received: number;
  responded: boolean;
  eof: boolean;
  connected: boolean;
  closed: boolean;
  closeWhenFlushed: 'close' | 'shutdown' | undefined;
  released: boolean;
  error: string | undefined;
  expectError: string | undefined;
}

const PATTERN_LEN = 65536;
const PATTERN = ((): Uint8Array => {
  const p = new Uint8Array(PATTERN_LEN);
  for (let i = 0; i < p.length; i++) p[i] = 0x20 + (i % 95);
  return p;
})();

/** The deterministic payload of `n` bytes that `send: {bytes: n}` writes (printable ASCII). */
export function payload(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += PATTERN_LEN) out.set(PATTERN.subarray(0, Math.min(PATTERN_LEN, n - off)), off);
  return out;
}

/** The object a module's default-export function receives: the network under construction and the run's machinery. */
export interface SimContext {
  /** The virtual-time driver. */
  readonly sim: Simulation;
  /** The run's seeded randomness. */
  readonly rng: SimRng;
  /** Adds a host (same fields as `hosts[i]` in a file) and returns it. */
  host(spec: HostSpec): SimHost;
  /** Adds a link (same fields as `links[i]`). */
  link(spec: LinkSpec): void;
  /** Adds a step (same fields as `steps[i]`). */
  step(spec: StepSpec): void;
  /** Calls `fn` at virtual time `time` (`"1.5s"`) between polls, where socket calls are safe. */
  at(time: string, fn: () => void): void;
  /** Calls `fn` every `period` from `start` (default: one period from now) until it returns false. */
  every(period: string, fn: () => boolean | void, start?: string): void;
  /** Calls `fn` when the run has ended, before the outcome is computed (a place for `fail`). */
  onEnd(fn: () => void): void;
  /** Records an application note on the diagram beside `host`. */
  note(host: string, text: string): void;
  /** Marks the run failed with a reason. */
  fail(reason: string): void;
  /** Sets how long to run at most (`"30s"`). */
  until(time: string): void;
  /** A host by name. */
  get(host: string): SimHost;
}

/** Options for a run. */
export interface ScriptRunOptions {
  /** Overrides the file's seed. */
  seed?: number;
  /** Records every frame each host sends (once, as it leaves the host), one capture interface per host. */
  capture?: CaptureSink;
  /** Told the virtual time now and the end time from time to time during a run. */
  onProgress?: (now: Instant, until: Instant) => void;
}

/** A network of hosts, links and steps, built from a file or a module, then run once. */
export class ScriptRun implements Pollable {
  readonly sim = new Simulation();
  readonly rng: SimRng;
  readonly hosts = new Map<string, SimHost>();
  /** Every frame sent, with where it was lost and when it arrived. */
  readonly wire: WireRecord[] = [];
  readonly states: StateRecord[] = [];
  readonly notes: NoteRecord[] = [];
  readonly events: SimEvent[] = [];
  readonly failures: string[] = [];
  until: Instant = 120_000_000 as Instant;
  warm = true;
  private readonly steps: Step[] = [];
  private readonly stepRan: (Instant | undefined)[] = [];
  private readonly stepDue: (Instant | undefined)[] = [];
  private readonly named = new Map<string, Named>();
  /** Socket names declared by steps so far, with their host, for validation. */
  private readonly declared = new Map<string, { host: string; listener: boolean }>();
  private readonly timed: { at: Instant; fn: () => void }[] = [];
  private readonly enders: (() => void)[] = [];
  private readonly linked = new Set<string>();
  private readonly byFrame = new WeakMap<Uint8Array, WireRecord>();
  /** Host names by MAC (as a number), to name a frame's receiver. */
  private readonly macs = new Map<number, string>();
  private readonly addrSpecs = new Map<string, { ipv4: string; ipv6: string | undefined }>();
  /** Which link each host is on (an index), for warming neighbour caches. */
  private readonly linkOf = new Map<string, number>();
  private links = 0;
  private readonly floods: string[] = [];
  private expectations: NonNullable<ScriptSpec['expect']> = {};
  private recorded = 0;
  private dirty = false;
  private started = false;
  private readonly scratch = new Uint8Array(65536);

  constructor(seed: number, private readonly captureSink: CaptureSink | undefined = undefined) {
    this.rng = new SimRng(seed);
  }

  // ---- building

  /** Adds a host; `path` names it in errors. */
  addHost(spec: unknown, path = `hosts[${this.hosts.size}]`): SimHost {
    const o = obj(spec, path, ['name', 'ipv4', 'ipv6', 'tcp']);
    const name = str(o['name'], `${path}.name`);
    if (!NAME.test(name)) throw bad(`${path}.name`, 'a host name (letters, digits, _ and -)', name);
    if (this.hosts.has(name)) throw new ScriptError(`${path}.name`, `host ${show(name)} is defined twice`);
    const n = this.hosts.size + 1;
    if (n > 250) throw new ScriptError(path, 'at most 250 hosts');
    const ipv4 = o['ipv4'] === undefined ? `10.0.0.${n}/24` : str(o['ipv4'], `${path}.ipv4`);
    const m4 = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(ipv4);
    const a4 = m4 === null ? undefined : IpAddr.parse(m4[1] as string);
    if (m4 === null || a4 === undefined || !a4.ok || Number(m4[2]) > 32) throw bad(`${path}.ipv4`, 'an address with a prefix length like "10.0.0.1/24"', o['ipv4']);
    const ipv6 = o['ipv6'] === undefined ? undefined : str(o['ipv6'], `${path}.ipv6`);
    if (ipv6 !== undefined) {
      const a6 = IpAddr.parse(ipv6.split('/')[0] as string);
      if (!a6.ok || !/\/\d+$/.test(ipv6)) throw bad(`${path}.ipv6`, 'an address with a prefix length like "fd00::1/64"', ipv6);
    }
    const tcp = o['tcp'] === undefined ? {} : parseTcpConfig(o['tcp'], `${path}.tcp`);
    for (const h of this.hosts.values()) if (h.addr.equals(a4.value)) throw new ScriptError(`${path}.ipv4`, `address ${ipv4} is also ${h.name}'s`);
    const stack = new Stack({
      rng: this.rng.fork(name), name, tcp, clock: () => this.sim.now,
      tracer: (ev) => this.onTrace(ev),
    });
    const mac = MacAddr.from(`02:00:00:00:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`);
    const host: SimHost = { name, stack, sockets: new SocketLayer(stack.tcp), addr: a4.value, mac, ifindex: undefined, port: undefined };
    this.addrSpecs.set(name, { ipv4, ipv6 });
    this.macs.set(mac.toNumber(), name);
    this.hosts.set(name, host);
    return host;
  }

  /** Adds a link between hosts already added; `path` names it in errors. */
  addLink(spec: unknown, path = 'links[?]'): void {
    const o = obj(spec, path, ['between', 'delay', 'mtu', 'loss', 'impair', 'from']);
    const between = o['between'];
    if (!Array.isArray(between) || between.length < 2) throw bad(`${path}.between`, 'a list of two or more host names', between);
    const names = between.map((h, i) => {
      const p = `${path}.between[${i}]`;
      const name = str(h, p);
      if (!this.hosts.has(name)) throw new ScriptError(p, `no host named ${show(name)} (hosts: ${[...this.hosts.keys()].join(', ')})`);
      if (this.linked.has(name)) throw new ScriptError(p, `host ${show(name)} is already on a link: a host has one interface in a scenario file`);
      return name;
    });
    if (new Set(names).size !== names.length) throw new ScriptError(`${path}.between`, `a host is listed twice in ${show(between)}`);
    const delay = o['delay'] === undefined ? (10_000 as Duration) : parseDuration(o['delay'], `${path}.delay`);
    const mtu = o['mtu'] === undefined ? 1500 : int(o['mtu'], `${path}.mtu`, 68, 65535);
    const shared = o['impair'] === undefined ? {} : parseImpair(o['impair'], `${path}.impair`);
    if (o['loss'] !== undefined) shared.loss = parseRate(o['loss'], `${path}.loss`);
    const per: Record<string, ImpairOptions> = {};
    if (o['from'] !== undefined) {
      const f = obj(o['from'], `${path}.from`, names);
      for (const [h, imp] of Object.entries(f)) per[h] = parseImpair(imp, `${path}.from.${h}`);
    }
    let ports: Port[];
    if (names.length === 2) {
      const link = new PointToPoint({ delay, mtu });
      this.sim.add(link, `link ${names.join('-')}`);
      ports = [link.a, link.b];
    } else {
      const sw = new Switch({ delay, mtu });
      this.sim.add(sw, `switch ${names.join('-')}`);
      ports = names.map(() => sw.port());
    }
    const id = this.links++;
    for (const name of names) this.linkOf.set(name, id);
    names.forEach((name, i) => this.attach(this.hosts.get(name) as SimHost, ports[i] as Port, { ...shared, ...per[name] }));
  }

  private attach(h: SimHost, port: Port, imp: ImpairOptions): void {
    this.linked.add(h.name);
    const egress = impair(port, {
      ...imp,
      onEvent: (ev) => {
        // A corrupted frame is discarded by the receiver's checksum check: on the diagram it is lost.
        if ((ev.kind !== 'drop' && ev.kind !== 'corrupt') || ev.direction !== 'egress') return;
        const rec = this.byFrame.get(ev.frame);
        if (rec !== undefined) rec.lost = ev.kind === 'corrupt' ? 'corrupted' : ev.reason;
      },
    }, this.rng.fork(`impair-${h.name}`));
    let hostPort = this.recorder(egress, h.name);
    if (this.captureSink !== undefined) hostPort = capture(hostPort, outOnly(this.captureSink), { name: h.name });
    const ext = this.addrSpecs.get(h.name) as { ipv4: string; ipv6: string | undefined };
    h.ifindex = h.stack.addInterface({
      port: hostPort, ipv4: ext.ipv4, mac: h.mac, linkLocal: false,
      ...(ext.ipv6 !== undefined ? { ipv6: ext.ipv6 } : {}),
    });
    h.port = hostPort;
    this.sim.add(egress, `impair-${h.name}`).add(h.stack, h.name);
  }

  /** Records each frame a host sends when it sends it, and when it reaches its receiver. */
  private recorder(inner: Port, from: string): Port {
    const outer: Port = {
      medium: inner.medium,
      get mtu() { return inner.mtu; },
      send: (frame: Uint8Array, now: Instant): void => {
        const to = (frame.length >= 6 ? this.macs.get(MacAddr.read(frame, 0).toNumber()) : undefined) ?? 'broadcast';
        const rec: WireRecord = { sentAt: now, from, to, frame: frame.slice(), medium: inner.medium, order: this.recorded++ };
        this.wire.push(rec);
        this.byFrame.set(frame, rec);
        inner.send(frame, now);
      },
      onFrame: undefined,
    };
    inner.onFrame = (f, now) => {
      const rec = this.byFrame.get(f);
      if (rec !== undefined && rec.arrivedAt === undefined) rec.arrivedAt = now;
      outer.onFrame?.(f, now);
    };
    return outer;
  }

  private onTrace(ev: TraceEvent): void {
    if (ev.kind === 'tcp-state') {
      this.states.push({ at: ev.at, host: ev.stack, state: ev.to, conn: connKey(ev.conn.local, ev.conn.remote), order: this.recorded++ });
    }
    this.dirty = true;
  }

  /** Adds a step; `path` names it in errors. */
  addStep(spec: unknown, path = `steps[${this.steps.length}]`): void {
    const present = isObj(spec) ? ACTIONS.filter((a) => spec[a] !== undefined) : [];
    const o = obj(spec, path, ['at', 'after', 'delay', 'host', ...ACTIONS]);
    if (present.length !== 1) throw new ScriptError(path, `a step needs exactly one action (${ACTIONS.join(', ')}), got ${present.length === 0 ? 'none' : present.join(' and ')}`);
    const kind = present[0] as (typeof ACTIONS)[number];
    if ((o['at'] === undefined) === (o['after'] === undefined)) throw new ScriptError(path, `a step needs either "at" (a time) or "after" (an event), got ${o['at'] === undefined ? 'neither' : 'both'}`);
    let trigger: Trigger;
    if (o['at'] !== undefined) {
      if (o['delay'] !== undefined) throw new ScriptError(`${path}.delay`, 'only with "after"');
      trigger = { kind: 'at', at: parseDuration(o['at'], `${path}.at`) as number as Instant };
    } else {
      const t = parseTrigger(o['after'], `${path}.after`);
      this.knownSocket(t.socket, `${path}.after`);
      trigger = { kind: 'after', ...t, delay: o['delay'] === undefined ? (0 as Duration) : parseDuration(o['delay'], `${path}.delay`) };
    }
    const hostOf = (): string => {
      const h = str(o['host'], `${path}.host`);
      if (!this.hosts.has(h)) throw new ScriptError(`${path}.host`, `no host named ${show(h)} (hosts: ${[...this.hosts.keys()].join(', ')})`);
      return h;
    };
    const sockHost = (name: string, p: string): string => {
      const d = this.knownSocket(name, p);
      if (o['host'] !== undefined && o['host'] !== d.host) throw new ScriptError(`${path}.host`, `socket ${show(name)} belongs to ${d.host}, not ${show(o['host'])}`);
      return d.host;
    };
    const declare = (name: string, p: string, host: string, listener: boolean): void => {
      if (this.declared.has(name)) throw new ScriptError(p, `socket name ${show(name)} is already used`);
      this.declared.set(name, { host, listener });
    };
    const v = o[kind];
    const ap = `${path}.${kind}`;
    let action: Action;
    let host: string;
    switch (kind) {
      case 'listen': {
        host = hostOf();
        const l = obj(v, ap, ['port', 'as', 'backlog', 'accept', 'serve', 'options']);
        const port = int(l['port'], `${ap}.port`, 1, 65535);
        const as = l['as'] === undefined ? `${host}-${port}` : sockName(l['as'], `${ap}.as`);
        const acc = l['accept'] ?? 'auto';
        if (acc !== 'auto' && acc !== 'manual') throw bad(`${ap}.accept`, '"auto" or "manual"', acc);
        declare(as, `${ap}.as`, host, true);
        action = { kind, port, as, backlog: l['backlog'] === undefined ? 511 : int(l['backlog'], `${ap}.backlog`, 0, 65535), autoAccept: acc === 'auto', serve: parseServe(l['serve'], `${ap}.serve`), options: parseSocketOptions(l['options'], `${ap}.options`) };
        break;
      }
      case 'connect': {
        host = hostOf();
        const c = obj(v, ap, ['to', 'port', 'as', 'options', 'expect']);
        const to = str(c['to'], `${ap}.to`);
        if (!this.hosts.has(to) && !IpAddr.parse(to).ok) throw new ScriptError(`${ap}.to`, `${show(to)} is neither a host (${[...this.hosts.keys()].join(', ')}) nor an IP address`);
        const as = sockName(c['as'], `${ap}.as`);
        declare(as, `${ap}.as`, host, false);
        const expect = c['expect'] === undefined ? undefined : str(c['expect'], `${ap}.expect`);
        action = { kind, to, port: int(c['port'], `${ap}.port`, 1, 65535), as, options: parseSocketOptions(c['options'], `${ap}.options`), expect };
        break;
      }
      case 'accept': {
        const a = obj(v, ap, ['listener', 'as', 'serve']);
        const listener = sockName(a['listener'], `${ap}.listener`);
        host = sockHost(listener, `${ap}.listener`);
        if (this.declared.get(listener)?.listener !== true) throw new ScriptError(`${ap}.listener`, `${show(listener)} is not a listener`);
        const as = sockName(a['as'], `${ap}.as`);
        declare(as, `${ap}.as`, host, false);
        action = { kind, listener, as, serve: parseServe(a['serve'], `${ap}.serve`) };
        break;
      }
      case 'send': {
        const s = obj(v, ap, ['socket', 'bytes', 'data']);
        const socket = str(s['socket'], `${ap}.socket`);
        host = sockHost(socket, `${ap}.socket`);
        if ((s['bytes'] === undefined) === (s['data'] === undefined)) throw new ScriptError(ap, 'give either "bytes" (a count) or "data" (a string)');
        const data = s['data'] !== undefined ? new TextEncoder().encode(str(s['data'], `${ap}.data`)) : payload(parseBytes(s['bytes'], `${ap}.bytes`));
        if (data.length === 0) throw new ScriptError(`${ap}.bytes`, 'sending nothing: give at least 1 byte');
        action = { kind, socket, data };
        break;
      }
      case 'shutdown':
      case 'close':
      case 'abort': {
        const socket = str(v, ap);
        host = sockHost(socket, ap);
        action = { kind, socket };
        break;
      }
      case 'flood': {
        host = hostOf();
        const f = obj(v, ap, ['as', 'port', 'rate', 'duration']);
        const as = f['as'] === undefined ? 'attacker' : sockName(f['as'], `${ap}.as`);
        declare(as, `${ap}.as`, host, false);
        const rate = f['rate'];
        if (typeof rate !== 'number' || !(rate > 0 && rate <= 1e6)) throw bad(`${ap}.rate`, 'SYNs per second, a number in (0, 1000000]', rate);
        action = { kind, as, port: int(f['port'], `${ap}.port`, 1, 65535), rate, duration: parseDuration(f['duration'], `${ap}.duration`) };
        break;
      }
      case 'note':
        host = hostOf();
        action = { kind, text: str(v, ap) };
        break;
      default:
        return assertNever(kind, 'action');
    }
    this.steps.push({ index: this.steps.length, path, host, trigger, action });
    this.stepRan.push(undefined);
    this.stepDue.push(undefined);
  }

  /** A socket name declared by an earlier step, or `L#n` for the n-th connection a listener L accepted. */
  private knownSocket(name: string, path: string): { host: string; listener: boolean } {
    const d = this.declared.get(name);
    if (d !== undefined) return d;
    const m = /^(.+)#\d+$/.exec(name);
    const l = m === null ? undefined : this.declared.get(m[1] as string);
    if (l?.listener === true) return { host: l.host, listener: false };
    throw new ScriptError(path, `no earlier step names a socket ${show(name)} (known: ${[...this.declared.keys()].join(', ') || 'none'}; a listener L's connections are L#1, L#2, ...)`);
  }

  /** Sets the outcomes checked at the end. */
  setExpect(v: unknown, path = 'expect'): void {
    const o = obj(v, path, [...this.declared.keys(), ...Object.keys(isObj(v) ? v : {}).filter((k) => /#\d+$/.test(k))]);
    for (const [name, e] of Object.entries(o)) {
      const p = `${path}.${name}`;
      this.knownSocket(name, p);
      const x = obj(e, p, ['received', 'sent', 'state', 'error', 'eof']);
      if (x['received'] !== undefined) parseBytes(x['received'], `${p}.received`);
      if (x['sent'] !== undefined) parseBytes(x['sent'], `${p}.sent`);
      if (x['state'] !== undefined) str(x['state'], `${p}.state`);
      if (x['error'] !== undefined) str(x['error'], `${p}.error`);
      if (x['eof'] !== undefined && typeof x['eof'] !== 'boolean') throw bad(`${p}.eof`, 'true or false', x['eof']);
    }
    this.expectations = o as NonNullable<ScriptSpec['expect']>;
  }

  /** Calls `fn` between polls at virtual time `at`. */
  at(at: Instant, fn: () => void): void {
    let i = this.timed.length;
    while (i > 0 && (this.timed[i - 1] as { at: Instant }).at > at) i--;
    this.timed.splice(i, 0, { at, fn });
  }

  /** Records an application note beside `host`'s column. */
  note(host: string, text: string): void {
    this.notes.push({ at: this.sim.now, host, text, order: this.recorded++ });
  }

  /** The context a module's default-export function receives. */
  context(): SimContext {
    return {
      sim: this.sim,
      rng: this.rng,
      host: (spec) => this.addHost(spec, `host(${show(isObj(spec) ? spec['name'] : spec)})`),
      link: (spec) => this.addLink(spec, `link(${show(isObj(spec) ? spec['between'] : spec)})`),
      step: (spec) => this.addStep(spec, `step #${this.steps.length + 1}`),
      at: (time, fn) => this.at(parseDuration(time, 'at()') as number as Instant, fn),
      every: (period, fn, start) => {
        const d = parseDuration(period, 'every()');
        if (d <= 0) throw new ScriptError('every()', `the period must be positive, got ${show(period)}`);
        const tick = (): void => {
          if (fn() !== false) this.at((this.sim.now + d) as Instant, tick);
        };
        this.at((start === undefined ? this.sim.now + d : parseDuration(start, 'every() start')) as Instant, tick);
      },
      onEnd: (fn) => { this.enders.push(fn); },
      note: (host, text) => this.note(host, text),
      fail: (reason) => { this.failures.push(reason); },
      until: (time) => { this.until = parseDuration(time, 'until()') as number as Instant; },
      get: (name) => {
        const h = this.hosts.get(name);
        if (h === undefined) throw new ScriptError(`get(${show(name)})`, `no such host (hosts: ${[...this.hosts.keys()].join(', ')})`);
        return h;
      },
    };
  }

  // ---- running

  /** The application: due when a step or a timed callback is due, or at once after any socket activity. */
  pollAt(): Instant | undefined {
    if (this.dirty) return this.sim.now;
    let t: number | undefined = this.timed[0]?.at;
    for (let i = 0; i < this.steps.length; i++) {
      if (this.stepRan[i] !== undefined) continue;
      const s = this.steps[i] as Step;
      const due = s.trigger.kind === 'at' ? s.trigger.at : this.stepDue[i];
      if (due !== undefined && (t === undefined || due < t)) t = due;
    }
    return t as Instant | undefined;
  }

  /** Serves every socket, then runs every step that is due, until nothing changes at this instant. */
  poll(now: Instant): void {
    this.dirty = false;
    for (let guard = 0; guard < 1000; guard++) {
      let changed = false;
      while (this.timed.length > 0 && (this.timed[0] as { at: Instant }).at <= now) {
        (this.timed.shift() as { fn: () => void }).fn();
        changed = true;
      }
      for (const n of this.named.values()) if (this.service(n, now)) changed = true;
      for (const s of this.steps) {
        if (this.stepRan[s.index] !== undefined) continue;
        if (s.trigger.kind === 'after' && this.stepDue[s.index] === undefined && this.holds(s.trigger)) {
          this.stepDue[s.index] = (now + s.trigger.delay) as Instant;
        }
        const due = s.trigger.kind === 'at' ? s.trigger.at : this.stepDue[s.index];
        if (due !== undefined && due <= now) {
          this.stepRan[s.index] = now;
          this.execute(s, now);
          changed = true;
        }
      }
      if (!changed) return;
    }
  }

  private holds(t: Extract<Trigger, { kind: 'after' }>): boolean {
    const n = this.named.get(t.socket);
    if (n === undefined) return false;
    switch (t.event) {
      case 'connected': return n.connected;
      // A manual listener's connection counts once it waits in the accept queue (accept() would return it).
      case 'accepted': return n.accepted + (!n.autoAccept && n.sock !== undefined && (n.sock.readiness() & Ready.ACCEPT) !== 0 ? 1 : 0) >= (t.n ?? 1);
      case 'sent': return t.n !== undefined ? n.sent >= t.n : n.asked > 0 && n.pendingBytes === 0;
      case 'received': return n.received >= (t.n ?? 1);
      case 'eof': return n.eof;
      case 'closed': return n.closed;
      case 'error': return n.error !== undefined && (t.code === undefined || n.error === t.code);
      case 'done': return n.flood !== undefined ? n.flood.pollAt() === undefined : n.closed;
      default: return assertNever(t.event, 'event');
    }
  }

  private event(n: Named, event: SockEvent, detail?: string): void {
    this.events.push(detail === undefined ? { at: this.sim.now, socket: n.name, event } : { at: this.sim.now, socket: n.name, event, detail });
  }

  private newNamed(name: string, host: SimHost, kind: Named['kind'], sock: TcpSocket | undefined): Named {
    const n: Named = {
      name, host, kind, sock, flood: undefined, serve: undefined, autoAccept: false, accepted: 0, children: 0,
      pending: [], pendingBytes: 0, asked: 0, sent: 0, received: 0, responded: false, eof: false, connected: false,
      closed: false, closeWhenFlushed: undefined, released: false, error: undefined, expectError: undefined,
    };
    if (sock !== undefined) sock.onReady = () => { this.dirty = true; };
    this.named.set(name, n);
    return n;
  }

  private expectedError(n: Named): string | undefined {
    return n.expectError ?? this.expectations[n.name]?.error;
  }

  private setError(n: Named, code: string, now: Instant): void {
    if (n.error !== undefined) return;
    n.error = code;
    this.event(n, 'error', code);
    const want = this.expectedError(n);
    if (want !== code) this.failures.push(`${n.name} on ${n.host.name}: ${code} at ${formatInstant(now)}s${want !== undefined ? ` (expected ${want})` : ' (not expected: add "expect" to say it is)'}`);
  }

  private queue(n: Named, data: Uint8Array): void {
    n.pending.push(data);
    n.pendingBytes += data.length;
    n.asked += data.length;
  }

  /** Moves data in and out of one socket; returns whether anything happened. */
  private service(n: Named, now: Instant): boolean {
    const sock = n.sock;
    if (sock === undefined || n.kind === 'flood') return false;
    let changed = false;
    if (n.kind === 'listener') {
      if (!n.autoAccept) return false;
      for (;;) {
        const c = sock.accept();
        if (typeof c === 'string') break;
        this.adopt(n, c, `${n.name}#${++n.children}`, n.serve, now);
        changed = true;
      }
      return changed;
    }
    const err = sock.takeError();
    if (err !== undefined) {
      this.setError(n, err, now);
      changed = true;
    }
    const st = sock.state;
    if (!n.connected && n.error === undefined && st !== 'SYN-SENT' && st !== 'SYN-RECEIVED' && st !== 'CLOSED') {
      n.connected = true;
      this.event(n, 'connected');
      changed = true;
    }
    if (!n.released) {
      // Read everything there is: clients count it, servers act on it.
      for (;;) {
        const r = sock.recv(this.scratch);
        if (typeof r === 'string' || n.eof) break;
        if (r === 0) {
          n.eof = true;
          this.event(n, 'eof', `after ${n.received} bytes`);
          changed = true;
          break;
        }
        if (n.received === 0) this.event(n, 'received', 'first byte');
        n.received += r;
        changed = true;
        const s = n.serve;
        if (s?.kind === 'echo') this.queue(n, this.scratch.slice(0, r));
        if (s?.kind === 'respond' && !n.responded && n.received >= s.after) {
          n.responded = true;
          this.queue(n, payload(s.bytes));
          if (s.close) n.closeWhenFlushed = 'close';
        }
      }
      // Write what the application has queued, as far as the send buffer takes it.
      while (n.pending.length > 0) {
        const head = n.pending[0] as Uint8Array;
        const w = sock.send(head);
        if (typeof w === 'string') {
          if (w !== 'EAGAIN') {
            this.setError(n, w, now);
            n.pending = [];
            n.pendingBytes = 0;
          }
          break;
        }
        n.sent += w;
        n.pendingBytes -= w;
        changed = true;
        if (w === head.length) n.pending.shift();
        else n.pending[0] = head.subarray(w);
        if (n.pendingBytes === 0) this.event(n, 'sent', String(n.sent));
      }
      // A server closes once the peer has finished and everything is written, as an HTTP/1.0 server does.
      if (n.serve !== undefined && n.eof && n.closeWhenFlushed === undefined) n.closeWhenFlushed = 'close';
      if (n.closeWhenFlushed !== undefined && n.pendingBytes === 0) {
        const how = n.closeWhenFlushed;
        n.closeWhenFlushed = undefined;
        this.note(n.host.name, how === 'close' ? `${n.name}: close()` : `${n.name}: shutdown(SHUT_WR)`);
        if (how === 'close') {
          sock.close();
          n.released = true;
        } else sock.shutdown('write');
        changed = true;
      }
    }
    const fin = sock.connection?.state;
    if (!n.closed && (fin === 'CLOSED' || fin === 'TIME-WAIT' || (n.released && sock.connection === undefined) || (n.error !== undefined && sock.state === 'CLOSED'))) {
      n.closed = true;
      this.event(n, 'closed', fin ?? 'CLOSED');
      changed = true;
    }
    return changed;
  }

  private adopt(listener: Named, c: TcpSocket, name: string, serve: Serve | undefined, now: Instant): void {
    const n = this.newNamed(name, listener.host, 'connection', c);
    n.serve = serve;
    listener.accepted++;
    this.event(listener, 'accepted', name);
    this.service(n, now);
  }

  private sock(name: string, path: string, now: Instant): Named | undefined {
    const n = this.named.get(name);
    if (n === undefined) this.failures.push(`${path}: socket ${name} does not exist at ${formatInstant(now)}s (its connection was never made)`);
    return n;
  }

  private execute(s: Step, now: Instant): void {
    const a = s.action;
    const host = this.hosts.get(s.host) as SimHost;
    const setOptions = (sock: TcpSocket, opts: SocketOptionList, path: string): boolean => {
      for (const [k, v] of opts) {
        const e = sock.setOption(k, v);
        if (e !== undefined) {
          this.failures.push(`${path}.options.${k}: setsockopt failed with ${e} for ${show(v)}`);
          return false;
        }
      }
      return true;
    };
    switch (a.kind) {
      case 'listen': {
        const sock = host.sockets.socket();
        const n = this.newNamed(a.as, host, 'listener', sock);
        n.autoAccept = a.autoAccept;
        n.serve = a.serve;
        sock.setOption('reuseAddress', true);
        if (!setOptions(sock, a.options, `${s.path}.listen`)) return;
        const e = sock.bind('0.0.0.0', a.port) ?? sock.listen(a.backlog);
        this.note(host.name, `listen(:${a.port})`);
        if (e !== undefined) {
          this.failures.push(`${s.path}.listen: listen ${e} on port ${a.port}`);
          n.error = e;
          return;
        }
        this.states.push({ at: now, host: host.name, state: 'LISTEN', order: this.recorded++ });
        return;
      }
      case 'connect': {
        const sock = host.sockets.socket();
        const n = this.newNamed(a.as, host, 'connection', sock);
        n.expectError = a.expect;
        if (!setOptions(sock, a.options, `${s.path}.connect`)) return;
        const target = this.hosts.get(a.to)?.addr ?? a.to;
        this.note(host.name, `${a.as}: connect(${target.toString()}:${a.port})`);
        const e = sock.connect(target, a.port);
        if (e !== 'EINPROGRESS') this.setError(n, e, now);
        return;
      }
      case 'accept': {
        const l = this.sock(a.listener, `${s.path}.accept`, now);
        if (l?.sock === undefined) return;
        const c = l.sock.accept();
        if (typeof c === 'string') {
          this.failures.push(`${s.path}.accept: accept() on ${a.listener} returned ${c} at ${formatInstant(now)}s (trigger it with "after": "${a.listener}.accepted" or later)`);
          return;
        }
        this.note(host.name, `${a.as} = accept()`);
        this.adopt(l, c, a.as, a.serve, now);
        return;
      }
      case 'send': {
        const n = this.sock(a.socket, `${s.path}.send`, now);
        if (n === undefined) return;
        this.note(host.name, `${a.socket}: send(${a.data.length})`);
        this.queue(n, a.data);
        this.service(n, now);
        return;
      }
      case 'shutdown':
      case 'close': {
        const n = this.sock(a.socket, `${s.path}.${a.kind}`, now);
        if (n === undefined) return;
        if (n.kind === 'listener') {
          this.note(host.name, `${a.socket}: close()`);
          n.sock?.close();
          n.released = true;
          return;
        }
        n.closeWhenFlushed = a.kind;
        this.service(n, now);
        return;
      }
      case 'abort': {
        const n = this.sock(a.socket, `${s.path}.abort`, now);
        if (n?.sock === undefined) return;
        this.note(host.name, `${a.socket}: abort() (RST)`);
        n.sock.abort();
        n.released = true;
        n.pending = [];
        n.pendingBytes = 0;
        return;
      }
      case 'flood': {
        const target = host;
        if (target.ifindex === undefined) {
          this.failures.push(`${s.path}.flood: ${target.name} is on no link`);
          return;
        }
        const f = new SynFlood(this, target, a.port, a.rate, now, (now + a.duration) as Instant, this.rng.fork(`flood-${a.as}`), a.as);
        const n = this.newNamed(a.as, host, 'flood', undefined);
        n.flood = f;
        this.floods.push(a.as);
        this.sim.add(f, `flood ${a.as}`);
        this.notes.push({ at: now, host: a.as, text: `${a.rate} spoofed SYN/s to :${a.port} for ${formatDuration(a.duration)}`, order: this.recorded++ });
        return;
      }
      case 'note':
        this.note(host.name, a.text);
        return;
      default:
        assertNever(a, 'action');
    }
  }

  /** Delivers a forged frame to `host` as if it arrived on its link now, drawn as sent by `from`. */
  inject(from: string, host: SimHost, frame: Uint8Array): void {
    this.wire.push({ sentAt: this.sim.now, arrivedAt: this.sim.now, from, to: host.name, frame: frame.slice(), medium: 'ethernet', order: this.recorded++ });
    host.stack.ingress(host.ifindex as number, frame, this.sim.now);
  }

  /** Runs to `until` or quiescence and reports; a run happens once. */
  run(opts: Pick<ScriptRunOptions, 'onProgress'> = {}): SimOutcome {
    if (this.started) throw new Error('ScriptRun.run: a run happens once');
    this.started = true;
    const unlinked = [...this.hosts.keys()].filter((h) => !this.linked.has(h));
    if (unlinked.length > 0) throw new ScriptError('links', `host(s) on no link: ${unlinked.join(', ')}`);
    if (this.warm) this.warmNeighbors();
    // The application is polled after the stacks and links of each round, so what they reported
    // at an instant is acted on at that instant, and its calls go out at the next round.
    this.sim.add(this, 'steps');
    let r = this.sim.run({ maxTime: this.until, maxSteps: 5000 });
    while (r.reason === 'max-steps') {
      opts.onProgress?.(this.sim.now, this.until);
      r = this.sim.run({ maxTime: this.until, maxSteps: 5000 });
    }
    opts.onProgress?.(this.sim.now, this.until);
    for (const fn of this.enders) fn();
    return this.outcome(r.reason);
  }

  private warmNeighbors(): void {
    const flags = { create: true, solicited: true, override: true };
    for (const h of this.hosts.values()) {
      for (const peer of this.hosts.values()) {
        if (peer === h || h.ifindex === undefined || peer.ifindex === undefined) continue;
        if (this.linkOf.get(h.name) !== this.linkOf.get(peer.name)) continue;
        h.stack.ip.neighbors.learn(h.ifindex, peer.addr, peer.mac, flags, this.sim.now);
      }
    }
  }

  private outcome(reason: StopReason): SimOutcome {
    const now = this.sim.now;
    const failures = [...this.failures];
    this.steps.forEach((s, i) => {
      if (this.stepRan[i] === undefined) {
        const why = s.trigger.kind === 'at' ? `its time ${formatInstant(s.trigger.at)}s is after the end` : this.stepDue[i] !== undefined ? 'its delay ran past the end' : `${s.trigger.socket}.${s.trigger.event}${s.trigger.n !== undefined ? `:${s.trigger.n}` : ''}${s.trigger.code !== undefined ? `:${s.trigger.code}` : ''} never happened`;
        failures.push(`${s.path} (${s.action.kind}) never ran: ${why}`);
      }
    });
    const sockets: SocketReport[] = [...this.named.values()].map((n) => {
      const tcb = n.sock?.connection;
      return {
        name: n.name, host: n.host.name, kind: n.kind,
        local: n.sock?.localAddress !== undefined ? `${n.sock.localAddress.toString()}:${n.sock.localPort ?? 0}` : undefined,
        remote: n.sock?.remoteAddress !== undefined ? `${n.sock.remoteAddress.toString()}:${n.sock.remotePort ?? 0}` : undefined,
        state: n.kind === 'flood' ? (n.flood?.pollAt() === undefined ? 'done' : 'running') : n.kind === 'listener' ? (n.released ? 'CLOSED' : 'LISTEN') : n.sock?.state ?? 'CLOSED',
        sent: n.kind === 'flood' ? (n.flood?.sent ?? 0) : n.sent, received: n.received, eof: n.eof, error: n.error,
        count: n.kind === 'flood' ? (n.flood?.sent ?? 0) : n.accepted,
        info: tcb !== undefined ? tcpInfo(tcb, now) : undefined,
      };
    });
    for (const [name, e] of Object.entries(this.expectations)) {
      const s = sockets.find((x) => x.name === name);
      const p = `expect.${name}`;
      if (s === undefined) {
        failures.push(`${p}: socket ${name} never existed`);
        continue;
      }
      if (e.received !== undefined && s.received !== parseBytes(e.received, p)) failures.push(`${p}.received: expected ${show(e.received)}, got ${s.received}`);
      if (e.sent !== undefined && s.sent !== parseBytes(e.sent, p)) failures.push(`${p}.sent: expected ${show(e.sent)}, got ${s.sent}`);
      if (e.state !== undefined && s.state !== e.state) failures.push(`${p}.state: expected ${e.state}, got ${s.state}`);
      if (e.eof !== undefined && s.eof !== e.eof) failures.push(`${p}.eof: expected ${e.eof}, got ${s.eof}`);
      if (e.error !== undefined && s.error !== e.error) failures.push(`${p}.error: expected ${e.error}, got ${s.error ?? 'no error'}`);
    }
    for (const n of this.named.values()) {
      if (n.expectError !== undefined && n.error === undefined) failures.push(`${n.name}: expected ${n.expectError}, got no error`);
    }
    const hosts = [...this.hosts.values()].map((h) => ({
      name: h.name, table: socketTable(h.stack.tcp),
      counters: Object.fromEntries(Object.entries(h.stack.tcp.counters.nstat()).filter(([, v]) => v !== 0)),
    }));
    return {
      ok: failures.length === 0, failures, reason, end: now, events: this.events, sockets, hosts,
      steps: this.steps.map((s, i) => ({ path: s.path, ran: this.stepRan[i] !== undefined, at: this.stepRan[i] })),
    };
  }

  private diagramOptions(): DiagramOptions {
    // Host columns in the order they were defined, after a column for each flood.
    return { hosts: [...this.floods, ...this.hosts.keys()], notes: this.notes };
  }

  /** State changes to draw: a flood's half-open connections would bury everything else, so they are left out. */
  private drawnStates(): StateRecord[] {
    return this.floods.length === 0 ? this.states : this.states.filter((s) => s.conn === undefined || !FLOOD_SOURCE.test(s.conn));
  }

  /**
   * Frames and notes to draw: of each flood only its first two and its last SYN, with a note
   * saying how many were left out (each spoofed SYN is its own connection, so the diagram's own
   * folding of look-alike rows, which keeps connections apart, would not fold them).
   */
  private drawn(): { wire: WireRecord[]; notes: NoteRecord[] } {
    if (this.floods.length === 0) return { wire: this.wire, notes: this.notes };
    const notes = [...this.notes];
    const keep = new Set<WireRecord>();
    const others = this.wire.filter((w) => !this.floods.includes(w.from));
    for (const f of this.floods) {
      const mine = this.wire.filter((w) => w.from === f);
      if (mine.length <= 4) {
        for (const w of mine) keep.add(w);
        continue;
      }
      const third = mine[2] as WireRecord;
      keep.add(mine[0] as WireRecord).add(mine[1] as WireRecord).add(mine[mine.length - 1] as WireRecord);
      notes.push({ at: third.sentAt, host: f, text: `⋮ ${mine.length - 3} more spoofed SYNs (not drawn)`, order: third.order });
    }
    const wire = [...others, ...this.wire.filter((w) => keep.has(w))].sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
    return { wire, notes };
  }

  /** The sequence diagram of the run as text. */
  diagram(opts: DiagramOptions = {}): string {
    const { wire, notes } = this.drawn();
    return renderDiagram(wire, this.drawnStates(), { ...this.diagramOptions(), notes, ...opts });
  }

  /** The sequence diagram of the run as SVG. */
  svg(opts: SvgOptions = {}): string {
    const { wire, notes } = this.drawn();
    return renderSvg(wire, this.drawnStates(), { ...this.diagramOptions(), notes, ...opts });
  }
}

/** A connection key with an endpoint in 198.18.0.0/15, where SynFlood's spoofed SYNs come from. */
const FLOOD_SOURCE = /(^|\|)198\.1[89]\./;

/** A capture sink that keeps only what each host sends, so every frame is in the file once. */
function outOnly(sink: CaptureSink): CaptureSink {
  return {
    addInterface: (medium, name) => sink.addInterface(medium, name),
    record: (iface: number, frame: Uint8Array, now: Instant, meta?: RecordMeta) => {
      if (meta?.direction !== 'in') sink.record(iface, frame, now, meta);
    },
  };
}

/**
 * A SYN flood (RFC 4987 §2): SYNs from random addresses of 198.18.0.0/15 (RFC 2544's benchmarking
 * range), random ports and sequence numbers, with an MSS option like a real SYN, delivered to the
 * target as if they came in on its link. The target has no route back to those addresses, so its
 * SYN-ACKs go nowhere, as a victim's do.
 */
class SynFlood implements Pollable {
  private next: Instant;
  private readonly interval: number;
  sent = 0;

  constructor(
    private readonly run: ScriptRun, private readonly target: SimHost, private readonly port: number, rate: number,
    start: Instant, private readonly stop: Instant, private readonly rng: Rng, private readonly name: string,
  ) {
    this.interval = 1e6 / rate;
    this.next = start;
  }

  pollAt(): Instant | undefined {
    return this.next < this.stop ? this.next : undefined;
  }

  poll(now: Instant): void {
    while (this.next <= now && this.next < this.stop) {
      this.send();
      this.next = Math.round(this.next + this.interval) as Instant;
    }
  }

  private send(): void {
    const o = emptyTcpOptions();
    o.mss = 1460;
    const r: TcpRepr = {
      srcPort: 1024 + (this.rng.nextU32() % 64512), dstPort: this.port, seq: (this.rng.nextU32() >>> 0) as Seq, ack: 0 as Seq,
      flags: TcpFlag.SYN, window: 64240, urgent: 0, options: o, payload: new Uint8Array(0),
    };
    const src = IpAddr.v4((0xc6120000 | (this.rng.nextU32() & 0x1ffff)) >>> 0);
    const tcpLen = tcpHeaderLength(o);
    const frame = new Uint8Array(ETHERNET_HEADER_LEN + IPV4_HEADER_LEN + tcpLen);
    emitEthernet({ dst: this.target.mac, src: MacAddr.from('02:00:00:00:ff:fe'), ethertype: EtherType.IPv4 }, frame);
    emitIpv4({
      src, dst: this.target.addr, protocol: IpProtocol.TCP, ttl: 64, dscp: 0, ecn: 0, identification: this.sent & 0xffff,
      dontFragment: true, moreFragments: false, fragmentOffset: 0, payloadLen: tcpLen,
    }, frame.subarray(ETHERNET_HEADER_LEN));
    emitTcp(r, frame.subarray(ETHERNET_HEADER_LEN + IPV4_HEADER_LEN), { src, dst: this.target.addr });
    this.sent++;
    this.run.inject(this.name, this.target, frame);
  }
}

// ---------------------------------------------------------------------------------------------
// Files

/** Validates a parsed JSON scenario (or a module's exported object) and builds its run. */
export function loadScript(spec: unknown, opts: ScriptRunOptions = {}): ScriptRun {
  const o = obj(spec, '(file)', ['$schema', 'description', 'seed', 'hosts', 'links', 'steps', 'until', 'warmNeighbors', 'expect']);
  if (o['description'] !== undefined && typeof o['description'] !== 'string') throw bad('description', 'a string', o['description']);
  const seed = opts.seed ?? (o['seed'] === undefined ? 1 : int(o['seed'], 'seed', -(2 ** 31), 2 ** 32 - 1));
  const run = new ScriptRun(seed, opts.capture);
  if (o['warmNeighbors'] !== undefined) {
    if (typeof o['warmNeighbors'] !== 'boolean') throw bad('warmNeighbors', 'true or false', o['warmNeighbors']);
    run.warm = o['warmNeighbors'];
  }
  const hosts = o['hosts'];
  if (!Array.isArray(hosts) || hosts.length < 2) throw bad('hosts', 'a list of two or more hosts', hosts);
  hosts.forEach((h, i) => run.addHost(h, `hosts[${i}]`));
  const links = o['links'];
  if (!Array.isArray(links) || links.length < 1) throw bad('links', 'a list of one or more links', links);
  links.forEach((l, i) => run.addLink(l, `links[${i}]`));
  const steps = o['steps'] ?? [];
  if (!Array.isArray(steps)) throw bad('steps', 'a list of steps', steps);
  steps.forEach((s, i) => run.addStep(s, `steps[${i}]`));
  if (o['until'] !== undefined) run.until = parseDuration(o['until'], 'until') as number as Instant;
  if (o['expect'] !== undefined) run.setExpect(o['expect']);
  return run;
}

/** Parses scenario-file text as JSON and builds its run; JSON syntax errors become ScriptErrors. */
export function parseScript(text: string, opts: ScriptRunOptions = {}): ScriptRun {
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch (e) {
    throw new ScriptError('(file)', `not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  return loadScript(spec, opts);
}

/**
 * Builds a run from what a module exports by default: a scenario object (as a JSON file holds),
 * or a function that receives a SimContext and builds the network itself.
 */
export function loadModuleExport(exported: unknown, opts: ScriptRunOptions = {}): ScriptRun {
  if (typeof exported === 'function') {
    const run = new ScriptRun(opts.seed ?? 1, opts.capture);
    (exported as (c: SimContext) => unknown)(run.context());
    return run;
  }
  if (isObj(exported)) return loadScript(exported, opts);
  throw bad('(module default export)', 'a scenario object or a function (ctx) => void', typeof exported);
}
