// The differential harness for the `net` API: a case is one small client/server program written
// once against a node:net-shaped module; it runs against node:net over 127.0.0.1 (the real kernel)
// and against createNet(stack) over a simulated link between two stacks. Both runs record, per
// channel ('client', 'server', ...), every event in order with readyState, bytesRead and
// bytesWritten at that moment, and every error's code, errno, syscall, address, port and
// message. After addresses and ports are normalised the two recordings must be identical.
//
// Cases keep their event order deterministic on a real kernel: each action waits for the event
// that makes it safe (no sleeps, no races between the two sides within one channel). Chunk
// boundaries of `data` are not deterministic over a real kernel, so consecutive `data` events are
// coalesced into one record with their total byte count.
import * as nodeNet from 'node:net';

/** The node:net surface the cases use; both node:net and createNet(stack) provide it. */
export type NetLike = Pick<typeof nodeNet, 'createServer' | 'connect' | 'createConnection' | 'Socket' | 'Server' | 'isIP' | 'isIPv4' | 'isIPv6'>;

/** What a case is given. */
export interface CaseContext {
  /** The module the server side uses. */
  readonly serverNet: NetLike;
  /** The module the client side uses (another stack in the simulated run). */
  readonly clientNet: NetLike;
  /** The server host's IPv4 address: 127.0.0.1 on the kernel, 10.0.0.2 in the simulation. */
  readonly host: string;
  /** The server host's IPv6 address: ::1 on the kernel, fd00::2 in the simulation. */
  readonly host6: string;
  /** Which implementation runs: cases never branch on it for behaviour, only for diagnostics. */
  readonly impl: 'node' | 'synack';
  /** Records one line in a channel. */
  log(channel: string, text: string): void;
  /**
   * Records every event of a socket into `channel` (data coalesced). `ignore` names events not to
   * record, for cases where an event depends on kernel buffer sizing rather than on behaviour.
   */
  watch(channel: string, socket: nodeNet.Socket, ignore?: readonly string[]): nodeNet.Socket;
  /** Records every event of a server into `channel`. */
  watchServer(channel: string, server: nodeNet.Server): nodeNet.Server;
  /** Records a snapshot of a socket's state (readyState, pending, connecting, byte counts). */
  state(channel: string, socket: nodeNet.Socket, label: string): void;
  /** Formats an error with every field the recording compares. */
  err(e: unknown): string;
  /** Ends the program: the recording is complete. */
  done(): void;
  /** Calls `done` after `n` calls of the returned function. */
  countdown(n: number): () => void;
}

/** One differential case. */
export interface NetCase {
  readonly name: string;
  /** The program; it must call ctx.done() exactly when it is finished. */
  run(ctx: CaseContext): void;
  /** Real-time budget for the node:net run (default 5 s); virtual time is unbounded but capped. */
  readonly timeoutMs?: number;
}

/** A recording: lines per channel, in order. */
export type Recording = Record<string, string[]>;

/** Collects a recording, channel by channel. */
export class Recorder {
  readonly channels = new Map<string, string[]>();
  private lastData = new Map<string, { index: number; bytes: number }>();
  /** Set when the case calls done(): later events are not part of the recording. */
  stopped = false;

  log(channel: string, text: string): void {
    if (this.stopped) return;
    let list = this.channels.get(channel);
    if (list === undefined) this.channels.set(channel, (list = []));
    list.push(text);
    this.lastData.delete(channel);
  }

  data(channel: string, bytes: number, suffix: string): void {
    if (this.stopped) return;
    const last = this.lastData.get(channel);
    const list = this.channels.get(channel);
    if (last !== undefined && list !== undefined && last.index === list.length - 1) {
      last.bytes += bytes;
      list[last.index] = `data ${last.bytes}${suffix}`;
      return;
    }
    this.log(channel, `data ${bytes}${suffix}`);
    const l = this.channels.get(channel)!;
    this.lastData.set(channel, { index: l.length - 1, bytes });
  }
}

/** Formats an error with the fields Node puts on socket errors. */
export function formatError(e: unknown): string {
  if (!(e instanceof Error)) return `non-error ${String(e)}`;
  const x = e as Error & { code?: unknown; errno?: unknown; syscall?: unknown; address?: unknown; port?: unknown };
  const parts = [`${e.name}`, `code=${String(x.code)}`];
  if (x.errno !== undefined) parts.push(`errno=${String(x.errno)}`);
  if (x.syscall !== undefined) parts.push(`syscall=${String(x.syscall)}`);
  if (x.address !== undefined) parts.push(`address=${String(x.address)}`);
  if (x.port !== undefined) parts.push(`port=${String(x.port)}`);
  parts.push(`message=${JSON.stringify(e.message)}`);
  parts.push(`ctor=${e.constructor === Error ? 'Error' : e.constructor.name}`);
  return parts.join(' ');
}

function snap(s: nodeNet.Socket): string {
  return ` rs=${s.readyState} r=${s.bytesRead} w=${String(s.bytesWritten)}`;
}

/** Builds the context a case runs in (exported for the simulated runner). */
export function makeContext(rec: Recorder, impl: 'node' | 'synack', serverNet: NetLike, clientNet: NetLike, host: string, host6: string, finish: () => void): CaseContext {
  let finished = false;
  const ctx: CaseContext = {
    serverNet, clientNet, host, host6, impl,
    log: (c, t) => rec.log(c, t),
    watch(channel, s, ignore = []) {
      const ev = (name: string, extra = ''): void => {
        if (!ignore.includes(name)) rec.log(channel, `${name}${extra}${snap(s)}`);
      };
      s.on('lookup', (e: Error | null, address: string, family: number | string) => ev('lookup', ` ${e === null ? 'ok' : formatError(e)} ${address} ${family}`));
      s.on('connectionAttempt', (address: string, port: number, family: number) => ev('connectionAttempt', ` ${address}:${port} ${family}`));
      s.on('connect', () => ev('connect', ` local=${s.localAddress}:${s.localPort} ${s.localFamily} remote=${s.remoteAddress}:${s.remotePort} ${s.remoteFamily}`));
      s.on('ready', () => ev('ready'));
      // Only readyState: the other counters at a data event depend on how the kernel chunked the bytes.
      s.on('data', (d: Buffer) => rec.data(channel, d.length, ` rs=${s.readyState}`));
      s.on('end', () => ev('end'));
      s.on('finish', () => ev('finish'));
      s.on('close', (hadError: boolean) => ev('close', ` hadError=${hadError} destroyed=${s.destroyed}`));
      s.on('timeout', () => ev('timeout'));
      s.on('drain', () => ev('drain'));
      s.on('error', (e: Error) => ev('error', ` ${formatError(e)}`));
      return s;
    },
    watchServer(channel, srv) {
      srv.on('listening', () => {
        const a = srv.address();
        rec.log(channel, `listening ${typeof a === 'object' && a !== null ? `${a.address}:${a.port} ${a.family}` : String(a)}`);
      });
      srv.on('connection', (s: nodeNet.Socket) => rec.log(channel, `connection local=${s.localAddress}:${s.localPort} remote=${s.remoteAddress}:${s.remotePort} ${s.remoteFamily}${snap(s)}`));
      srv.on('close', () => rec.log(channel, 'server close'));
      srv.on('error', (e: Error) => rec.log(channel, `server error ${formatError(e)}`));
      srv.on('drop', (d?: { localAddress?: string; localPort?: number; remoteAddress?: string; remotePort?: number; remoteFamily?: string }) =>
        rec.log(channel, `drop ${d === undefined ? 'none' : `local=${d.localAddress}:${d.localPort} remote=${d.remoteAddress}:${d.remotePort} ${d.remoteFamily}`}`));
      return srv;
    },
    state(channel, s, label) {
      rec.log(channel, `${label}: pending=${s.pending} connecting=${s.connecting} destroyed=${s.destroyed}${snap(s)}`);
    },
    err: formatError,
    done() {
      if (finished) return;
      finished = true;
      rec.stopped = true;
      finish();
    },
    countdown(n) {
      let left = n;
      return () => {
        if (--left === 0) ctx.done();
      };
    },
  };
  return ctx;
}

/**
 * Replaces addresses and ports by placeholders: the kernel run uses 127.0.0.1 and random ports,
 * the simulation 10.0.0.x and its own. Ports become P0, P1, ... in order of first appearance, so
 * two recordings agree exactly when they use the same ports in the same places.
 */
export function normalise(rec: Recording, addrs: readonly string[]): Recording {
  const ports = new Map<string, string>();
  const port = (p: string): string => {
    if (p === '0') return p;
    let t = ports.get(p);
    if (t === undefined) ports.set(p, (t = `P${ports.size}`));
    return t;
  };
  const out: Recording = {};
  for (const ch of Object.keys(rec).sort()) {
    out[ch] = rec[ch]!.map((line) => {
      let l = line;
      for (const a of addrs) {
        const v6 = a.includes(':');
        l = l.split(`::ffff:${a}`).join('<mapped4>').split(a).join(v6 ? '<ip6>' : '<ip4>');
      }
      l = l.replace(/(<ip4>|<ip6>|<mapped4>|0\.0\.0\.0|::):(\d+)/g, (_m, a: string, p: string) => `${a}:${port(p)}`);
      l = l.replace(/port=(\d+)/g, (_m, p: string) => `port=${port(p)}`);
      return l;
    });
  }
  return out;
}

/** Runs a case against node:net over 127.0.0.1. */
export async function runOnNode(c: NetCase): Promise<Recording> {
  const rec = new Recorder();
  const net = nodeNet as NetLike;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${c.name}: node:net run did not finish in ${c.timeoutMs ?? 5000} ms; so far: ${JSON.stringify(Object.fromEntries(rec.channels))}`)), c.timeoutMs ?? 5000);
    const ctx = makeContext(rec, 'node', net, net, '127.0.0.1', '::1', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      c.run(ctx);
    } catch (e) {
      clearTimeout(timer);
      reject(e instanceof Error ? e : new Error(String(e)));
    }
  });
  return normalise(Object.fromEntries(rec.channels), ['127.0.0.1', '::1']);
}
