// A drop-in for Node's `node:net` (TCP only) over a synack Stack: `createNet(stack)` returns
// createServer, connect/createConnection, Socket (a stream.Duplex), Server (an EventEmitter) and
// isIP/isIPv4/isIPv6, matching Node 20 event by event and error by error. test/net/ proves it
// differentially: each case runs against node:net over 127.0.0.1 and against this module over a
// simulated link, and the two recordings must be identical.
//
// How it is built. Node's net.Socket sits on a libuv TCP handle; its behaviour (which events come
// synchronously, which on process.nextTick, which from a later libuv callback) is what a program
// observes. So this file has two layers:
//   - `ConnHandle` / `ListenHandle` play the part of libuv + the kernel over a synack TcpSocket
//     (src/api/socket.ts): a read is attempted only while reading is started, each read, connect
//     completion, write completion, accept and close callback is delivered as its own callback
//     from the EventLoop (src/api/host.ts: one macrotask each, like one libuv callback each, so
//     nextTicks and promise jobs settle in between); writes go into the send buffer
//     synchronously when they fit (like uv_try_write) and complete later when they do not;
//     EADDRINUSE from bind is reported at listen()/connect time as libuv defers it.
//   - `Socket` and `Server` are written in the same shape as Node's lib/net.js over that
//     handle, so the stream machinery (Node's own Duplex) produces events in Node's order.
//
// Time. Socket timeouts (setTimeout) are timers in the stack's time, kept by `NetTimers`, a
// Pollable added to the stack: in a Simulation they fire in virtual time; under the
// RealtimeDriver in real time. Nothing here reads a clock.
//
// Drivers. Virtual time: run the Simulation with `runSimulation` (src/api/host.ts), which lets
// the EventLoop settle between steps; the order of events is then a function of the seed and the
// program only. Real time: give the Stack the driver's clock and pass `{ driver }` here, so every
// call that queues work kicks the driver (src/link/realtime.ts).
//
// Not supported (each fails loudly or is documented): IPC paths (`path`), `fd`, the `onread`
// option (user-supplied read buffers), DNS (names resolve through the `hosts` option; 'localhost'
// is built in), happy eyeballs across several addresses (the first address is used), cluster,
// AbortSignal options, ref/unref (they return `this` and do nothing: the drivers never keep a
// process alive), blockList, `Stream` and `SocketAddress`.
import { Duplex, getDefaultHighWaterMark } from 'node:stream';
import { EventEmitter } from 'node:events';
import { Buffer } from 'node:buffer';
import type * as NodeNet from 'node:net';
import type { Stack } from '../stack.js';
import type { Instant } from '../time/instant.js';
import { TimerWheel } from '../time/wheel.js';
import type { Pollable } from '../link/link.js';
import { IpAddr } from '../wire/ip-addr.js';
import { SocketLayer, Ready, type TcpSocket } from './socket.js';
import {
  type NetErrorCode, errnoException, exceptionWithHostPort, uvExceptionWithHostPort, nodeError, describe,
  validatePort, validateNumberArg, timerDuration, isIP, isIPv4, isIPv6,
} from './common.js';
import { EventLoop, defaultLoop } from './host.js';

/** What `address()` returns. */
export interface AddressInfo {
  address: string;
  family: string;
  port: number;
}

const V4_ANY = '0.0.0.0';
const V6_ANY = '::';

function parseAddr(text: string): IpAddr {
  const pct = text.indexOf('%');
  return IpAddr.from(pct >= 0 ? text.slice(0, pct) : text);
}

/** An address as a socket reports it: IPv4 peers of a dual-stack IPv6 socket appear as `::ffff:a.b.c.d`. */
function endpoint(addr: IpAddr | undefined, port: number | undefined, mapped: boolean): AddressInfo | undefined {
  if (addr === undefined || port === undefined) return undefined;
  if (mapped && addr.family === 4) return { address: `::ffff:${addr.toString()}`, family: 'IPv6', port };
  return { address: addr.toString(), family: addr.family === 4 ? 'IPv4' : 'IPv6', port };
}

// ---------------------------------------------------------------------------------------------
// Timers in the stack's time.

/** A one-shot timer that `refresh()` re-arms, even after it fired (like Node's Timeout). */
class NetTimer {
  /** When it fires; undefined when not armed. */
  at: number | undefined;
  /** The instant of this timer's earliest entry in the wheel (entries at other instants are stale). */
  indexedAt: number | undefined;
  /** Bumped by every refresh and clear, so a firing already posted for an older arming is void. */
  gen = 0;
  constructor(private readonly owner: NetTimers, readonly ms: number, readonly fn: () => void) {}
  /** Restarts the timer from now. */
  refresh(): void {
    this.owner.arm(this);
  }
  /** Stops it. */
  clear(): void {
    this.owner.disarm(this);
  }
}

/**
 * Every socket timeout of one stack, indexed in one TimerWheel ("time as data", as the TCP
 * layer keeps its deadlines): refreshing a timer on every read and write only moves its deadline;
 * an early wheel entry fires, finds the deadline later and re-indexes it. A Pollable on the
 * stack, so any driver fires the timers on time.
 */
class NetTimers implements Pollable {
  private readonly wheel = new TimerWheel<NetTimer>();
  constructor(private readonly ctx: NetContext) {}

  start(ms: number, fn: () => void): NetTimer {
    const t = new NetTimer(this, ms, fn);
    this.arm(t);
    return t;
  }

  arm(t: NetTimer): void {
    // Node's timers have millisecond resolution and fire no earlier than `ms` after arming.
    t.at = this.ctx.now() + Math.max(1, Math.trunc(t.ms)) * 1000;
    t.gen++;
    if (t.indexedAt === undefined || t.at < t.indexedAt) {
      t.indexedAt = t.at;
      this.wheel.schedule(t.at as Instant, t);
      this.ctx.kick();
    }
  }

  disarm(t: NetTimer): void {
    t.gen++;
    t.at = undefined;
  }

  pollAt(): Instant | undefined {
    return this.wheel.nextAt();
  }

  poll(now: Instant): void {
    this.wheel.expire(now, (t, at) => {
      if (t.indexedAt !== at) return; // stale entry
      t.indexedAt = undefined;
      if (t.at === undefined) return; // cleared
      if (t.at > now) {
        // Refreshed since this entry was made: index the real deadline.
        t.indexedAt = t.at;
        this.wheel.schedule(t.at as Instant, t);
        return;
      }
      t.at = undefined;
      const gen = t.gen;
      this.ctx.loop.post(() => {
        if (t.gen === gen) t.fn(); // neither re-armed nor cleared in the meantime
      });
    });
  }
}

// ---------------------------------------------------------------------------------------------
// The shared context of one createNet().

/** Resolves a host name to addresses (like dns.lookup); used for names that are not IP literals. */
export type Resolver = (hostname: string, family: 0 | 4 | 6) => readonly string[];

/** dns.lookup's shape, as the `lookup` option of connect() takes it. */
type LookupFunction = (hostname: string, options: { family: number; hints: number; all?: boolean }, cb: (err: Error | null, address?: unknown, family?: unknown) => void) => void;

/** dns.ADDRCONFIG (Linux), which Node passes when no family is asked for. */
const ADDRCONFIG = 32;

/** getaddrinfo's "not found", as dns.lookup reports it. */
function notFound(host: string): Error {
  const err = nodeError('ENOTFOUND', `getaddrinfo ENOTFOUND ${host}`) as Error & Record<string, unknown>;
  err['errno'] = -3008;
  err['syscall'] = 'getaddrinfo';
  err['hostname'] = host;
  return err;
}

/** Where a createNet() module's classes keep their context (a static property of the subclass). */
const kContext = Symbol('synack.net.context');

function contextOf(target: unknown): NetContext {
  const c = (target as { [kContext]?: NetContext } | undefined)?.[kContext];
  if (c === undefined) throw new TypeError('synack net: create sockets and servers through the module createNet(stack) returns');
  return c;
}

class NetContext {
  readonly layer: SocketLayer;
  readonly timers: NetTimers;
  /** This module's Socket class (the server creates accepted sockets with it). */
  Socket!: typeof SynackSocket;
  constructor(
    readonly stack: Stack,
    readonly loop: EventLoop,
    private readonly driver: { kick(): void } | undefined,
    readonly resolve: Resolver,
  ) {
    this.layer = new SocketLayer(stack.tcp);
    this.timers = new NetTimers(this);
    stack.addPollable(this.timers);
  }
  now(): number {
    return this.stack.tcp.now;
  }
  /** dns.lookup over the resolver; the answer comes from the event loop, as getaddrinfo's does from the thread pool. */
  readonly lookup: LookupFunction = (host, opts, cb) => {
    this.loop.post(() => {
      const fam = opts.family === 4 || opts.family === 6 ? opts.family : 0;
      const addrs = this.resolve(host, fam).filter((a) => isIP(a) !== 0 && (fam === 0 || isIP(a) === fam));
      if (addrs.length === 0) cb(notFound(host));
      else if (opts.all === true) cb(null, addrs.map((a) => ({ address: a, family: isIP(a) })));
      else cb(null, addrs[0], isIP(addrs[0]));
    });
  };
  /** Something was queued for the stack: a real-time driver must poll soon. */
  kick(): void {
    this.driver?.kick();
  }
}

// ---------------------------------------------------------------------------------------------
// The handle: libuv + kernel behaviour over a TcpSocket.

/** Read size per callback, as libuv's 64 KiB suggestion in Node. */
const READ_SIZE = 64 * 1024;

interface WriteReq {
  chunks: Uint8Array[];
  /** Index of the chunk being written and the offset in it. */
  index: number;
  offset: number;
  bytes: number;
  done: (err: NetErrorCode | undefined) => void;
}

/** What `ConnHandle.write` did: completed at once, queued, or failed at once. */
type WriteResult = { readonly async: boolean; readonly error?: NetErrorCode };

let nextAsyncId = 1;

/** An empty receive buffer only needs a probe for end of stream or an error: no 64 KiB buffer. */
const PROBE = Buffer.alloc(1);

/** A connected (or connecting) TCP socket as libuv presents it to Node's net.Socket. */
class ConnHandle {
  /** An id in the role of libuv handles' async id (node:http's agent asks for it). */
  private readonly asyncId = nextAsyncId++;
  /** Reading is started (uv_read_start). */
  reading = false;
  bytesRead = 0;
  bytesWritten = 0;
  /** Called with data, or null at end of stream, or an error code. */
  onread: ((data: Buffer | null, err?: NetErrorCode) => void) | undefined;
  private eof = false;
  /** The last read was short while the socket was hung up: end of stream comes next. */
  private hupAfterPartialRead = false;
  private closed = false;
  private posted = false;
  private connectCb: ((status: NetErrorCode | undefined) => void) | undefined;
  private readonly writes: WriteReq[] = [];
  private readonly service = (): void => this.run();

  constructor(readonly ctx: NetContext, readonly sock: TcpSocket, readonly mapped = false) {
    sock.onReady = () => {
      // Like an fd not in the epoll set: readiness only matters while something waits for it.
      if (this.connectCb !== undefined || (this.reading && !this.eof) || this.writes.length > 0) this.wake();
    };
  }

  /** The handle's async id (node:http calls `socket._handle.getAsyncId()`). */
  getAsyncId(): number {
    return this.asyncId;
  }

  /** Bytes still queued in this handle (uv's write_queue_size). */
  get writeQueueSize(): number {
    let n = 0;
    for (const w of this.writes) {
      for (let i = w.index; i < w.chunks.length; i++) n += w.chunks[i]!.length - (i === w.index ? w.offset : 0);
    }
    return n;
  }

  private wake(): void {
    if (this.posted || this.closed) return;
    this.posted = true;
    this.ctx.loop.post(this.service);
  }

  /** One libuv callback's worth of work: a connect completion, one read, or write progress. */
  private run(): void {
    this.posted = false;
    if (this.closed) return;
    if (this.connectCb !== undefined) {
      const st = this.sock.state;
      if (st === 'SYN-SENT' || st === 'SYN-RECEIVED') return;
      // SO_ERROR decides, as in libuv's uv__stream_connect.
      const err = this.sock.takeError();
      const cb = this.connectCb;
      this.connectCb = undefined;
      cb(err);
      if (!this.closed && ((this.reading && !this.eof) || this.writes.length > 0)) this.wake();
      return;
    }
    if (this.reading && !this.eof) {
      if (this.hupAfterPartialRead) {
        // libuv (uv__stream_io): when the poll reported POLLHUP and the last read came back short,
        // it reports end of stream without another read, so a pending error (a reset that
        // arrived with the data) is never read: Node sees 'end', not 'read ECONNRESET'.
        this.hupAfterPartialRead = false;
        this.eof = true;
        this.reading = false;
        this.onread?.(null);
        if (!this.closed && this.writes.length > 0) this.wake();
        return;
      }
      const avail = this.sock.readableLength;
      const buf = avail > 0 ? Buffer.allocUnsafe(Math.min(avail, READ_SIZE)) : PROBE;
      const n = this.sock.recv(buf);
      if (typeof n === 'number' && n > 0) {
        this.bytesRead += n;
        this.ctx.kick(); // reading may open the window
        // A read shorter than libuv's 64 KiB buffer on a socket that is hung up (both directions
        // closed, or reset) is followed by end of stream (see above).
        if (n < READ_SIZE && (this.sock.readiness() & Ready.HANGUP) !== 0) this.hupAfterPartialRead = true;
        this.onread?.(n === buf.length ? buf : buf.subarray(0, n));
        // libuv takes that short cut only while the stream is still reading after the callback.
        if (!this.reading) this.hupAfterPartialRead = false;
        if (!this.closed && ((this.reading && !this.eof) || this.writes.length > 0)) this.wake();
        return;
      }
      if (n === 0) {
        // libuv (uv__stream_eof) stops reading at end of stream.
        this.eof = true;
        this.reading = false;
        this.onread?.(null);
        if (!this.closed && this.writes.length > 0) this.wake();
        return;
      }
      if (typeof n === 'string' && n !== 'EAGAIN') {
        this.reading = false;
        this.eof = true;
        this.onread?.(null, n);
        return;
      }
    }
    if (this.writes.length > 0) this.flush();
  }

  /** uv_read_start: the next read happens in a later callback. */
  readStart(): void {
    if (this.closed) return;
    this.reading = true;
    if (!this.eof) this.wake();
  }

  /** uv_read_stop. */
  readStop(): void {
    this.reading = false;
  }

  /** uv_try_write then uv_write: takes what fits now; the rest completes from a later callback. */
  write(chunks: Uint8Array[], done: (err: NetErrorCode | undefined) => void): WriteResult {
    let bytes = 0;
    for (const c of chunks) bytes += c.length;
    const req: WriteReq = { chunks, index: 0, offset: 0, bytes, done };
    if (this.writes.length === 0) {
      const err = this.push(req);
      // A write that fails at once is not counted (Node's StreamBase counts dispatched writes).
      if (err !== undefined && err !== 'EAGAIN') return { async: false, error: err };
      this.bytesWritten += bytes;
      this.ctx.kick();
      if (err === undefined) return { async: false };
    } else {
      this.bytesWritten += bytes;
    }
    this.writes.push(req);
    return { async: true };
  }

  /** Copies as much of `req` into the send buffer as fits; 'EAGAIN' when the buffer filled first. */
  private push(req: WriteReq): NetErrorCode | undefined {
    while (req.index < req.chunks.length) {
      const c = req.chunks[req.index]!;
      if (req.offset >= c.length) {
        req.index++;
        req.offset = 0;
        continue;
      }
      const n = this.sock.send(req.offset === 0 ? c : c.subarray(req.offset));
      if (typeof n !== 'number') return n;
      req.offset += n;
    }
    return undefined;
  }

  /** POLLOUT: continue queued writes; each finished request completes in its own callback. */
  private flush(): void {
    while (this.writes.length > 0) {
      const req = this.writes[0]!;
      const err = this.push(req);
      if (err === 'EAGAIN') return;
      this.writes.shift();
      this.ctx.kick();
      this.ctx.loop.post(() => req.done(err));
    }
  }

  /** uv_tcp_connect. Returns an error at once when the stack refuses to start (no route, ...). */
  connect(addr: IpAddr, port: number, cb: (status: NetErrorCode | undefined) => void): NetErrorCode | undefined {
    const r = this.sock.connect(addr, port);
    if (r !== 'EINPROGRESS') return r;
    this.connectCb = cb;
    this.ctx.kick();
    return undefined;
  }

  /** bind(2) with SO_REUSEADDR, as libuv sets it on every TCP bind. */
  bind(addr: IpAddr, port: number): NetErrorCode | undefined {
    this.sock.setOption('reuseAddress', true);
    return this.sock.bind(addr, port);
  }

  /** uv_shutdown: the FIN is queued from a later callback, then `cb` runs. */
  shutdown(cb: () => void): void {
    this.ctx.loop.post(() => {
      if (!this.closed) {
        this.sock.shutdown('write');
        this.ctx.kick();
      }
      cb();
    });
  }

  /** uv_close: the descriptor closes now (FIN, or RST with unread data, as Linux's tcp_close); `cb` runs later. */
  close(cb?: () => void): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.onReady = undefined;
    this.sock.close();
    this.ctx.kick();
    this.finishClose(cb);
  }

  /** uv_tcp_close_reset: SO_LINGER 0 and close, so the peer gets a RST. */
  reset(cb: () => void): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.onReady = undefined;
    this.sock.abort();
    this.ctx.kick();
    this.finishClose(cb);
  }

  private finishClose(cb: (() => void) | undefined): void {
    const pending = this.writes.splice(0);
    const connectCb = this.connectCb;
    this.connectCb = undefined;
    // libuv cancels queued requests (UV_ECANCELED) just before the close callback.
    this.ctx.loop.post(() => {
      connectCb?.('ECANCELED');
      for (const w of pending) w.done('ECANCELED');
      cb?.();
    });
  }

  getsockname(): AddressInfo | undefined {
    return endpoint(this.sock.localAddress, this.sock.localPort, this.mapped);
  }

  getpeername(): AddressInfo | undefined {
    return endpoint(this.sock.remoteAddress, this.sock.remotePort, this.mapped);
  }

  setNoDelay(on: boolean): void {
    this.sock.setOption('noDelay', on);
    this.ctx.kick();
  }

  /** uv_tcp_keepalive: SO_KEEPALIVE; with a delay, TCP_KEEPIDLE = delay, TCP_KEEPINTVL = 1, TCP_KEEPCNT = 10. */
  setKeepAlive(on: boolean, delaySecs: number): void {
    this.sock.setOption('keepAlive', on);
    // libuv sets TCP_KEEPIDLE to the delay; Linux refuses 0 (EINVAL, ignored by Node), so the
    // idle time then stays at the stack default (tcp_keepalive_time).
    if (on && delaySecs >= 1) {
      this.sock.setOption('keepIdle', Math.min(delaySecs, 32767));
      this.sock.setOption('keepInterval', 1);
      this.sock.setOption('keepCount', 10);
    }
    this.ctx.kick();
  }
}

/** A listening socket; on a wildcard IPv6 address it also listens on IPv4, as Linux dual-stack sockets do. */
class ListenHandle {
  onconnection: ((handle: ConnHandle) => void) | undefined;
  private socks: TcpSocket[] = [];
  private closed = false;
  private posted = false;
  private delayedError: NetErrorCode | undefined;
  private boundAddr = '';
  private boundPort = 0;
  private family: 4 | 6 = 4;
  private dual = false;
  private readonly service = (): void => this.run();

  constructor(readonly ctx: NetContext) {}

  /**
   * bind(2). Like libuv (uv__tcp_bind), EADDRINUSE is remembered and reported by listen();
   * other errors (EADDRNOTAVAIL) are returned at once.
   */
  bind(address: string, port: number): NetErrorCode | undefined {
    const addr = parseAddr(address);
    this.family = addr.family;
    this.boundAddr = address;
    // A wildcard IPv6 socket accepts IPv4 too (IPV6_V6ONLY off, Linux's default), so it holds the
    // IPv4 wildcard on the same port as well: a conflict there is a conflict for it.
    const dual = addr.family === 6 && addr.isUnspecified;
    const open = (family: 4 | 6): TcpSocket => {
      const s = this.ctx.layer.socket(family);
      s.setOption('reuseAddress', true);
      return s;
    };
    let err: NetErrorCode | undefined;
    // With an ephemeral port, a port free for IPv6 may be taken for IPv4: then try another.
    for (let tries = 0; tries < (dual && port === 0 ? 16 : 1); tries++) {
      const s = open(addr.family);
      err = s.bind(addr, port);
      if (err !== undefined) {
        s.close();
        break;
      }
      if (!dual) {
        this.socks = [s];
        break;
      }
      const s4 = open(4);
      err = s4.bind(IpAddr.any(4), s.localPort!);
      if (err === undefined) {
        this.socks = [s, s4];
        this.dual = true;
        break;
      }
      s.close();
      s4.close();
    }
    if (err === undefined) {
      this.boundPort = this.socks[0]!.localPort!;
      return undefined;
    }
    if (err === 'EADDRINUSE') {
      this.delayedError = err;
      return undefined;
    }
    return err;
  }

  /** listen(2) on every bound socket. */
  listen(backlog: number): NetErrorCode | undefined {
    if (this.delayedError !== undefined) return this.delayedError;
    for (const s of this.socks) {
      const e = s.listen(backlog);
      if (e !== undefined) return e;
      s.onReady = () => this.wake();
    }
    this.ctx.kick();
    return undefined;
  }

  private wake(): void {
    if (this.posted || this.closed) return;
    this.posted = true;
    this.ctx.loop.post(this.service);
  }

  /** One accepted connection per callback, as libuv's uv__server_io calls connection_cb per accept. */
  private run(): void {
    this.posted = false;
    if (this.closed) return;
    for (const s of this.socks) {
      const c = s.accept();
      if (typeof c === 'string') continue;
      const h = new ConnHandle(this.ctx, c, this.dual && c.family === 4);
      this.onconnection?.(h);
      this.wake();
      return;
    }
  }

  getsockname(): AddressInfo {
    return { address: this.boundAddr, family: this.family === 4 ? 'IPv4' : 'IPv6', port: this.boundPort };
  }

  /** close(2) on the listeners: connections not yet accepted are reset (Linux inet_csk_listen_stop). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.socks) s.close();
    this.ctx.kick();
  }
}

// ---------------------------------------------------------------------------------------------
// Arguments.

const kNormalized = Symbol('normalizedArgs');

type Callback = (...args: never[]) => void;
type Normalized = [Record<string, unknown>, Callback | null] & { [kNormalized]?: true };

function toNumber(x: unknown): number | false {
  const n = Number(x);
  return n >= 0 ? n : false;
}

function isPipeName(s: unknown): boolean {
  return typeof s === 'string' && toNumber(s) === false;
}

/** Node's normalizeArgs: (options[, cb]), (path[, cb]), ([port][, host][, cb]). */
function normalizeArgs(args: unknown[]): Normalized {
  let arr: Normalized;
  if (args.length === 0) {
    arr = [{}, null] as Normalized;
    arr[kNormalized] = true;
    return arr;
  }
  const a0 = args[0];
  let options: Record<string, unknown> = {};
  if (typeof a0 === 'object' && a0 !== null) options = a0 as Record<string, unknown>;
  else if (isPipeName(a0)) options['path'] = a0;
  else {
    options['port'] = a0;
    if (args.length > 1 && typeof args[1] === 'string') options['host'] = args[1];
  }
  const cb = args[args.length - 1];
  arr = (typeof cb === 'function' ? [options, cb as Callback] : [options, null]) as Normalized;
  arr[kNormalized] = true;
  return arr;
}

function unsupported(what: string): Error {
  return nodeError('ERR_SYNACK_UNSUPPORTED', `synack net: ${what} is not supported`, TypeError);
}

// ---------------------------------------------------------------------------------------------
// Socket.

/** Options of `new Socket()`. */
export interface SocketConstructorOpts {
  allowHalfOpen?: boolean;
  readable?: boolean;
  writable?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  readableHighWaterMark?: number;
  writableHighWaterMark?: number;
  highWaterMark?: number;
}

/** Internal options for sockets the server creates. */
interface InternalSocketOpts extends SocketConstructorOpts {
  handle?: ConnHandle;
  pauseOnCreate?: boolean;
}

type WritevChunk = { chunk: Buffer | string | Uint8Array; encoding: BufferEncoding };

function chunkBytes(chunk: unknown, encoding: string): Uint8Array {
  if (typeof chunk === 'string') return Buffer.from(chunk, encoding as BufferEncoding);
  return chunk as Uint8Array;
}

function chunkLength(chunk: unknown, encoding: string): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, encoding as BufferEncoding);
  return (chunk as Uint8Array).length;
}

/** A TCP socket with the node:net Socket API, as a stream.Duplex over a synack connection. */
export class SynackSocket extends Duplex {
  /** The module context (stack, event loop, timers) of the createNet() this class came from. */
  private readonly ctx: NetContext;
  /** The connection is being established. */
  connecting = false;
  /** The handle (internal; null before connect and after destroy). */
  _handle: ConnHandle | null = null;
  /** Set by the server that accepted this socket. */
  server: SynackServer | null = null;
  _server: SynackServer | null = null;
  /** The idle timeout set by setTimeout (ms). */
  timeout?: number;
  /** Set while resetAndDestroy is closing the socket. */
  resetAndClosing = false;
  _hadError = false;
  _host: string | null = null;
  _peername: AddressInfo | null = null;
  _sockname: AddressInfo | null = null;
  _pendingData: unknown = null;
  _pendingEncoding = '';
  private timer: NetTimer | null = null;
  private lastWriteQueueSize = 0;
  private setNoDelayWanted: boolean;
  private setKeepAliveWanted: boolean;
  private keepAliveDelay: number;
  private savedBytesRead = 0;
  private savedBytesWritten = 0;

  constructor(options?: SocketConstructorOpts | number) {
    const o: InternalSocketOpts = typeof options === 'object' && options !== null ? { ...options } : {};
    if (typeof options === 'number') throw unsupported('new Socket(fd)');
    const raw = o as Record<string, unknown>;
    if (raw['objectMode'] === true) throw nodeError('ERR_INVALID_ARG_VALUE', "The property 'options.objectMode' is not supported. Received true", TypeError);
    if (raw['fd'] !== undefined) throw unsupported('options.fd');
    if (raw['onread'] !== undefined && raw['onread'] !== null) throw unsupported('options.onread');
    if (o.keepAliveInitialDelay !== undefined) {
      validateNumberArg(o.keepAliveInitialDelay, 'options.keepAliveInitialDelay');
      if (o.keepAliveInitialDelay < 0) o.keepAliveInitialDelay = 0;
    }
    super({
      ...(o.readableHighWaterMark !== undefined ? { readableHighWaterMark: o.readableHighWaterMark } : {}),
      ...(o.writableHighWaterMark !== undefined ? { writableHighWaterMark: o.writableHighWaterMark } : {}),
      ...(o.highWaterMark !== undefined ? { highWaterMark: o.highWaterMark } : {}),
      ...(o.readable !== undefined ? { readable: o.readable } : {}),
      ...(o.writable !== undefined ? { writable: o.writable } : {}),
      // As Node: not half-open unless asked, 'close' is ours (after the handle closes), strings pass through.
      allowHalfOpen: Boolean(o.allowHalfOpen),
      emitClose: false,
      autoDestroy: true,
      decodeStrings: false,
    });
    this.ctx = contextOf(new.target);
    this.setNoDelayWanted = Boolean(o.noDelay);
    this.setKeepAliveWanted = Boolean(o.keepAlive);
    this.keepAliveDelay = Math.trunc((o.keepAliveInitialDelay ?? 0) / 1000);
    if (o.handle !== undefined) this._handle = o.handle;
    this.on('end', onReadableStreamEnd);
    this.initHandle();
    if (this._handle !== null && o.readable !== false) {
      if (o.pauseOnCreate === true) {
        this._handle.reading = false;
        this._handle.readStop();
        (this as { readableFlowing: boolean | null }).readableFlowing = false;
      } else {
        this.read(0);
      }
    }
  }

  private initHandle(): void {
    // As Node's initSocketHandle: a destroyed socket that connects again becomes usable again.
    (this as unknown as { _undestroy(): void })._undestroy();
    this._sockname = null;
    const h = this._handle;
    if (h === null) return;
    h.onread = (data, err) => this.onRead(data, err);
  }

  /** onStreamRead: data, end of stream, or a read error. */
  private onRead(data: Buffer | null, err?: NetErrorCode): void {
    this._unrefTimer();
    if (data !== null) {
      if (this.destroyed) return;
      if (!this.push(data)) {
        const h = this._handle;
        if (h !== null) {
          h.reading = false;
          h.readStop();
        }
      }
      return;
    }
    if (err !== undefined) {
      this.destroy(errnoException(err, 'read'));
      return;
    }
    if (!this.readableEnded) {
      this.push(null);
      this.read(0);
    }
  }

  /** Restarts the idle timer (on every read, write and connect, as Node's _unrefTimer). */
  _unrefTimer(): void {
    this.timer?.refresh();
  }

  override _final(cb: (error?: Error | null) => void): void {
    if (this.pending) {
      this.once('connect', () => this._final(cb));
      return;
    }
    const h = this._handle;
    if (h === null) {
      cb();
      return;
    }
    h.shutdown(() => cb());
  }

  /** Sets the idle timeout in milliseconds (0 disables); `callback` is added as a 'timeout' listener. */
  setTimeout(msecs: number, callback?: () => void): this {
    if (this.destroyed) return this;
    this.timeout = msecs;
    const ms = timerDuration(msecs, 'msecs');
    this.timer?.clear();
    this.timer = null;
    if (ms === 0) {
      if (callback !== undefined) this.removeListener('timeout', callback);
    } else {
      this.timer = this.ctx.timers.start(ms, () => this._onTimeout());
      if (callback !== undefined) {
        if (typeof callback !== 'function') throw nodeError('ERR_INVALID_ARG_TYPE', `The "callback" argument must be of type function. Received ${describe(callback)}`, TypeError);
        this.once('timeout', callback);
      }
    }
    return this;
  }

  _onTimeout(): void {
    const h = this._handle;
    const last = this.lastWriteQueueSize;
    if (last > 0 && h !== null) {
      // A write still in progress keeps the socket from being idle.
      const size = h.writeQueueSize;
      if (last !== size) {
        this.lastWriteQueueSize = size;
        this._unrefTimer();
        return;
      }
    }
    this.emit('timeout');
  }

  /** Enables or disables Nagle's algorithm (default: enable = true disables Nagle). */
  setNoDelay(enable?: boolean): this {
    const on = enable === undefined ? true : Boolean(enable);
    if (this._handle === null) {
      this.setNoDelayWanted = on;
      return this;
    }
    if (on !== this.setNoDelayWanted) {
      this.setNoDelayWanted = on;
      this._handle.setNoDelay(on);
    }
    return this;
  }

  /** Enables or disables keep-alive probes; `initialDelay` in milliseconds. */
  setKeepAlive(enable?: boolean, initialDelay?: number): this {
    const on = Boolean(enable);
    const delay = Math.trunc((initialDelay ?? 0) / 1000);
    if (this._handle === null) {
      this.setKeepAliveWanted = on;
      this.keepAliveDelay = delay;
      return this;
    }
    if (on !== this.setKeepAliveWanted || (on && this.keepAliveDelay !== delay)) {
      this.setKeepAliveWanted = on;
      this.keepAliveDelay = delay;
      this._handle.setKeepAlive(on, delay);
    }
    return this;
  }

  /** The bound address: `{ address, family, port }`, or `{}` before connecting. */
  address(): AddressInfo | Record<string, never> {
    return this._getsockname();
  }

  /** True before the connection is established (and after it is destroyed). */
  get pending(): boolean {
    return this._handle === null || this.connecting;
  }

  /** 'opening', 'open', 'readOnly', 'writeOnly' or 'closed'. */
  get readyState(): 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable && !this.writable) return 'readOnly';
    if (!this.readable && this.writable) return 'writeOnly';
    return 'closed';
  }

  /** Bytes buffered for writing (deprecated in Node; writableLength). */
  get bufferSize(): number | undefined {
    return this._handle !== null ? this.writableLength : undefined;
  }

  override _read(n: number): void {
    const h = this._handle;
    if (this.connecting || h === null) {
      this.once('connect', () => this._read(n));
    } else if (!h.reading) {
      h.reading = true;
      h.readStart();
    }
  }

  /** Resets the connection (RST) and destroys the socket. */
  resetAndDestroy(): this {
    if (this._handle !== null) {
      if (this.connecting) this.once('connect', () => this._reset());
      else this._reset();
    } else {
      this.destroy(nodeError('ERR_SOCKET_CLOSED', 'Socket is closed'));
    }
    return this;
  }

  _reset(): this {
    this.resetAndClosing = true;
    return this.destroy();
  }

  /** Ends the writable side, then destroys once everything is flushed. */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  override _destroy(exception: Error | null, cb: (error?: Error | null) => void): void {
    this.connecting = false;
    this.timer?.clear();
    const h = this._handle;
    if (h !== null) {
      const isException = exception ? true : false;
      this.savedBytesRead = h.bytesRead;
      this.savedBytesWritten = h.bytesWritten;
      if (this.resetAndClosing) {
        this.resetAndClosing = false;
        h.reset(() => this.emit('close', isException));
      } else {
        h.close(() => this.emit('close', isException));
      }
      h.onread = undefined;
      this._handle = null;
      this._sockname = null;
      cb(exception);
    } else {
      cb(exception);
      process.nextTick(() => this.emit('close'));
    }
    const srv = this._server;
    if (srv !== null) {
      srv._connections--;
      srv._emitCloseIfDrained();
    }
  }

  _getpeername(): AddressInfo | Record<string, never> {
    const h = this._handle;
    if (h === null || this.connecting) return this._peername ?? {};
    if (this._peername === null) {
      const p = h.getpeername();
      if (p === undefined) return {};
      this._peername = p;
    }
    return this._peername;
  }

  _getsockname(): AddressInfo | Record<string, never> {
    const h = this._handle;
    if (h === null) return {};
    if (this._sockname === null) {
      const s = h.getsockname();
      if (s === undefined) return {};
      this._sockname = s;
    }
    return this._sockname;
  }

  /** Bytes received. */
  get bytesRead(): number {
    return this._handle !== null ? this._handle.bytesRead : this.savedBytesRead;
  }
  /** The peer's address. */
  get remoteAddress(): string | undefined {
    return (this._getpeername() as Partial<AddressInfo>).address;
  }
  /** 'IPv4' or 'IPv6'. */
  get remoteFamily(): string | undefined {
    return (this._getpeername() as Partial<AddressInfo>).family;
  }
  /** The peer's port. */
  get remotePort(): number | undefined {
    return (this._getpeername() as Partial<AddressInfo>).port;
  }
  /** Our address. */
  get localAddress(): string | undefined {
    return (this._getsockname() as Partial<AddressInfo>).address;
  }
  /** Our port. */
  get localPort(): number | undefined {
    return (this._getsockname() as Partial<AddressInfo>).port;
  }
  /** 'IPv4' or 'IPv6'. */
  get localFamily(): string | undefined {
    return (this._getsockname() as Partial<AddressInfo>).family;
  }
  get _bytesDispatched(): number {
    return this._handle !== null ? this._handle.bytesWritten : this.savedBytesWritten;
  }
  /** Bytes written by the application, including those still queued (as Node counts them). */
  get bytesWritten(): number | undefined {
    let bytes = this._bytesDispatched;
    const buffered = (this as unknown as { writableBuffer?: WritevChunk[] }).writableBuffer;
    if (!buffered) return undefined;
    for (const el of buffered) bytes += chunkLength(el.chunk, el.encoding);
    const data = this._pendingData;
    if (Array.isArray(data)) {
      for (const c of data as (WritevChunk | Uint8Array)[]) {
        bytes += c instanceof Uint8Array ? c.length : chunkLength(c.chunk, c.encoding);
      }
    } else if (data !== null && data !== undefined) {
      bytes += chunkLength(data, this._pendingEncoding);
    }
    return bytes;
  }

  _writeGeneric(writev: boolean, data: unknown, encoding: string, cb: (error?: Error | null) => void): void {
    if (this.connecting) {
      this._pendingData = data;
      this._pendingEncoding = encoding;
      const onClose = (): void => cb(nodeError('ERR_SOCKET_CLOSED_BEFORE_CONNECTION', 'Socket closed before the connection was established'));
      this.once('connect', () => {
        this.off('close', onClose);
        this._writeGeneric(writev, data, encoding, cb);
      });
      this.once('close', onClose);
      return;
    }
    this._pendingData = null;
    this._pendingEncoding = '';
    const h = this._handle;
    if (h === null) {
      cb(nodeError('ERR_SOCKET_CLOSED', 'Socket is closed'));
      return;
    }
    this._unrefTimer();
    const chunks = writev
      ? (data as (WritevChunk | Uint8Array)[]).map((c) => (c instanceof Uint8Array ? c : chunkBytes(c.chunk, c.encoding)))
      : [chunkBytes(data, encoding)];
    const r = h.write(chunks, (status) => {
      // onWriteComplete
      if (this.destroyed) {
        cb(null);
        return;
      }
      if (status !== undefined) {
        cb(errnoException(status, 'write'));
        return;
      }
      this._unrefTimer();
      this.lastWriteQueueSize = 0;
      cb(null);
    });
    if (r.error !== undefined) {
      cb(errnoException(r.error, 'write'));
      return;
    }
    if (r.async) {
      let bytes = 0;
      for (const c of chunks) bytes += c.length;
      this.lastWriteQueueSize = bytes;
    } else {
      cb();
    }
  }

  override _writev(chunks: WritevChunk[], cb: (error?: Error | null) => void): void {
    this._writeGeneric(true, chunks, '', cb);
  }

  override _write(data: unknown, encoding: BufferEncoding, cb: (error?: Error | null) => void): void {
    this._writeGeneric(false, data, encoding, cb);
  }

  /** Opens the connection: connect(port[, host][, listener]), connect(options[, listener]). */
  connect(...args: unknown[]): this {
    const normalized = Array.isArray(args[0]) && (args[0] as Normalized)[kNormalized] === true ? (args[0] as Normalized) : normalizeArgs(args);
    const [options, cb] = normalized;
    if (cb !== null) this.once('connect', cb as () => void);
    if (options['port'] === undefined && (options['path'] === undefined || options['path'] === null)) {
      throw nodeError('ERR_MISSING_ARGS', 'The "options" or "port" or "path" argument must be specified', TypeError);
    }
    if (options['path'] !== undefined && options['path'] !== null) throw unsupported('IPC (options.path)');
    if (Object.prototype.hasOwnProperty.call(this, 'write')) delete (this as { write?: unknown }).write;
    if (this.destroyed) {
      this._handle = null;
      this._peername = null;
      this._sockname = null;
    }
    if (this._handle === null) {
      this._handle = new ConnHandle(this.ctx, this.ctx.layer.socket(4));
      this.initHandle();
    }
    this._unrefTimer();
    this.connecting = true;
    this.lookupAndConnect(options);
    return this;
  }

  private lookupAndConnect(options: Record<string, unknown>): void {
    const localAddress = options['localAddress'] as string | undefined;
    const localPort = options['localPort'] as number | undefined;
    if (localAddress && !isIP(localAddress)) throw nodeError('ERR_INVALID_IP_ADDRESS', `Invalid IP address: ${String(localAddress)}`, TypeError);
    if (localPort) validateNumberArg(localPort, 'options.localPort');
    let port = options['port'];
    if (port !== undefined) {
      if (typeof port !== 'number' && typeof port !== 'string') {
        throw nodeError('ERR_INVALID_ARG_TYPE', `The "options.port" property must be one of type number or string. Received ${describe(port)}`, TypeError);
      }
      validatePort(port);
    }
    port = (port as number) | 0;
    const host = (options['host'] as string | undefined) || 'localhost';
    const family = isIP(host);
    if (family !== 0) {
      process.nextTick(() => {
        if (this.connecting) this.internalConnect(host, port as number, family, localAddress, localPort);
      });
      return;
    }
    this._host = host;
    // socketToDnsFamily: 'IPv4' and 'IPv6' become 4 and 6; anything else is passed on as given.
    const rawFamily = options['family'] === 'IPv4' ? 4 : options['family'] === 'IPv6' ? 6 : options['family'];
    const want = rawFamily === 4 || rawFamily === 6 ? rawFamily : 0;
    const userLookup = options['lookup'];
    if (userLookup !== undefined && userLookup !== null && typeof userLookup !== 'function') {
      throw nodeError('ERR_INVALID_ARG_TYPE', `The "options.lookup" property must be of type function. Received ${describe(userLookup)}`, TypeError);
    }
    const lookup = (typeof userLookup === 'function' ? userLookup : this.ctx.lookup) as LookupFunction;
    const autoSelect = options['autoSelectFamily'] ?? true;
    const onError = (err: Error): void => {
      // Node defers the error so listeners added after connect() see it.
      process.nextTick(() => this.destroy(err));
    };
    if (want === 0 && !localAddress && autoSelect !== false) {
      // Node 20 (autoSelectFamily): every address is looked up and announced. Deviation: the
      // first usable address is connected to; the others are not tried (no happy eyeballs).
      lookup(host, { family: rawFamily as number, hints: ADDRCONFIG, all: true }, (err: Error | null, addresses: unknown) => {
        if (!this.connecting) return;
        if (err) {
          this.emit('lookup', err, undefined, undefined, host);
          onError(err);
          return;
        }
        let first: { address: string; family: 4 | 6 } | undefined;
        for (const a of (addresses as { address: string; family: number }[] | undefined) ?? []) {
          this.emit('lookup', err, a.address, a.family, host);
          if (!this.connecting) return;
          if (first === undefined && isIP(a.address) !== 0 && (a.family === 4 || a.family === 6)) first = { address: a.address, family: a.family };
        }
        if (first === undefined) {
          onError(nodeError('ERR_INVALID_IP_ADDRESS', `Invalid IP address: ${String((addresses as { address?: string }[] | undefined)?.[0]?.address)}`, TypeError));
          return;
        }
        this._unrefTimer();
        this.internalConnect(first.address, port as number, first.family, localAddress, localPort);
      });
      return;
    }
    lookup(host, { family: rawFamily as number, hints: want === 0 ? ADDRCONFIG : 0 }, (err: Error | null, ip: unknown, addressType: unknown) => {
      this.emit('lookup', err, ip, addressType, host);
      if (!this.connecting) return;
      if (err) onError(err);
      else if (typeof ip !== 'string' || isIP(ip) === 0) onError(nodeError('ERR_INVALID_IP_ADDRESS', `Invalid IP address: ${String(ip)}`, TypeError));
      else if (addressType !== 4 && addressType !== 6) {
        onError(nodeError('ERR_INVALID_ADDRESS_FAMILY', `Invalid address family: ${String(addressType)} ${host}:${String(port)}`, RangeError));
      } else {
        this._unrefTimer();
        this.internalConnect(ip, port as number, addressType, localAddress, localPort);
      }
    });
  }

  private internalConnect(address: string, port: number, family: 4 | 6, localAddress: string | undefined, localPort: number | undefined): void {
    let h = this._handle!;
    if (h.sock.family !== family) {
      // The socket was created for IPv4 before the address family was known.
      h.sock.close();
      h = this._handle = new ConnHandle(this.ctx, this.ctx.layer.socket(family));
      this.initHandle();
    }
    if (localAddress || localPort) {
      const la = localAddress || (family === 4 ? V4_ANY : V6_ANY);
      const err = h.bind(parseAddr(la), localPort ?? 0);
      // libuv reports EADDRINUSE late; Node's checkBindError then reports it as a bind error.
      if (err !== undefined) {
        this.destroy(exceptionWithHostPort(err, 'bind', la, localPort ?? 0));
        return;
      }
    }
    this.emit('connectionAttempt', address, port, family);
    const err = h.connect(parseAddr(address), port, (status) => this.afterConnect(status, address, port, family, localAddress, localPort));
    if (err !== undefined) {
      const sn = this._getsockname() as Partial<AddressInfo>;
      const details = sn.address !== undefined ? `${sn.address}:${String(sn.port)}` : undefined;
      this.destroy(exceptionWithHostPort(err, 'connect', address, port, details));
    }
  }

  private afterConnect(status: NetErrorCode | undefined, address: string, port: number, family: 4 | 6, localAddress: string | undefined, localPort: number | undefined): void {
    if (this.destroyed) return;
    this.connecting = false;
    this._sockname = null;
    if (status === undefined) {
      this._unrefTimer();
      const h = this._handle!;
      if (this.setNoDelayWanted) h.setNoDelay(true);
      if (this.setKeepAliveWanted) h.setKeepAlive(true, this.keepAliveDelay);
      this.emit('connect');
      this.emit('ready');
      if (!this.isPaused()) this.read(0);
      return;
    }
    const details = localAddress && localPort ? `${localAddress}:${localPort}` : undefined;
    const ex = exceptionWithHostPort(status, 'connect', address, port, details) as Error & Record<string, unknown>;
    if (details !== undefined) {
      ex['localAddress'] = localAddress;
      ex['localPort'] = localPort;
    }
    this.emit('connectionAttemptFailed', address, port, family, ex);
    this.destroy(ex);
  }

  /** Does nothing here: the drivers never hold a process open. */
  ref(): this {
    return this;
  }
  /** Does nothing here: the drivers never hold a process open. */
  unref(): this {
    return this;
  }
}

/** Installed as a listener for 'end': a non-half-open socket refuses writes after the peer's FIN. */
function onReadableStreamEnd(this: SynackSocket): void {
  if (!this.allowHalfOpen) (this as { write: unknown }).write = writeAfterFIN;
}

function writeAfterFIN(this: SynackSocket, chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
  if (!this.writableEnded) return (Duplex.prototype.write as (...a: unknown[]) => boolean).call(this, chunk, encoding, cb);
  if (typeof encoding === 'function') cb = encoding;
  const er = nodeError('EPIPE', 'This socket has been ended by the other party');
  if (typeof cb === 'function') process.nextTick(cb as (e: Error) => void, er);
  this.destroy(er);
  return false;
}

// ---------------------------------------------------------------------------------------------
// Server.

/** Options of `createServer()`. */
export interface ServerOpts {
  allowHalfOpen?: boolean;
  pauseOnConnect?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  highWaterMark?: number;
}

/** A TCP server with the node:net Server API. */
export class SynackServer extends EventEmitter {
  /** The module context (stack, event loop, timers) of the createNet() this class came from. */
  private readonly ctx: NetContext;
  _connections = 0;
  _handle: ListenHandle | null = null;
  /** Connections beyond this many are dropped ('drop' event) and closed. */
  maxConnections?: number;
  allowHalfOpen: boolean;
  pauseOnConnect: boolean;
  noDelay: boolean;
  keepAlive: boolean;
  keepAliveInitialDelay: number;
  highWaterMark: number;
  private listeningId = 1;

  constructor(options?: ServerOpts | ((socket: SynackSocket) => void), connectionListener?: (socket: SynackSocket) => void) {
    super();
    this.ctx = contextOf(new.target);
    let o: ServerOpts;
    if (typeof options === 'function') {
      this.on('connection', options);
      o = {};
    } else if (options === undefined || options === null || typeof options === 'object') {
      o = { ...options };
      if (typeof connectionListener === 'function') this.on('connection', connectionListener);
    } else {
      throw nodeError('ERR_INVALID_ARG_TYPE', `The "options" argument must be of type object. Received ${describe(options)}`, TypeError);
    }
    if (o.keepAliveInitialDelay !== undefined) {
      validateNumberArg(o.keepAliveInitialDelay, 'options.keepAliveInitialDelay');
      if (o.keepAliveInitialDelay < 0) o.keepAliveInitialDelay = 0;
    }
    if (o.highWaterMark !== undefined) {
      validateNumberArg(o.highWaterMark, 'options.highWaterMark');
      if (o.highWaterMark < 0) o.highWaterMark = getDefaultHighWaterMark(false);
    }
    this.allowHalfOpen = o.allowHalfOpen ?? false;
    this.pauseOnConnect = Boolean(o.pauseOnConnect);
    this.noDelay = Boolean(o.noDelay);
    this.keepAlive = Boolean(o.keepAlive);
    this.keepAliveInitialDelay = Math.trunc((o.keepAliveInitialDelay ?? 0) / 1000);
    this.highWaterMark = o.highWaterMark ?? getDefaultHighWaterMark(false);
  }

  /** listen([port[, host[, backlog]]][, cb]) or listen(options[, cb]). */
  listen(...args: unknown[]): this {
    const normalized = normalizeArgs(args);
    const options = normalized[0];
    const cb = normalized[1];
    if (this._handle !== null) throw nodeError('ERR_SERVER_ALREADY_LISTEN', 'Listen method has been called more than once without closing.');
    if (cb !== null) this.once('listening', cb as () => void);
    const backlogFromArgs = toNumber(args.length > 1 && args[1]) || toNumber(args.length > 2 && args[2]);
    this.listeningId++;
    if (typeof options['fd'] === 'number' || options['handle'] !== undefined || options['_handle'] !== undefined) throw unsupported('listening on a handle or fd');
    if (args.length === 0 || typeof args[0] === 'function' || (options['port'] === undefined && 'port' in options) || options['port'] === null) {
      options['port'] = 0;
    }
    if (typeof options['port'] === 'number' || typeof options['port'] === 'string') {
      const port = validatePort(options['port'], 'options.port');
      const backlog = (options['backlog'] as number | undefined) || backlogFromArgs || 0;
      const host = options['host'] as string | undefined;
      if (host) this.lookupAndListen(port, host, backlog);
      else this.setupListenHandle(undefined, port, backlog);
      return this;
    }
    if (options['path'] !== undefined) throw unsupported('IPC (options.path)');
    throw nodeError('ERR_INVALID_ARG_VALUE', `The argument 'options' must have the property "port" or "path". Received ${JSON.stringify(options)}`, TypeError);
  }

  private lookupAndListen(port: number, host: string, backlog: number): void {
    const id = this.listeningId;
    const done = (ip: string | undefined, err?: Error): void => {
      if (id !== this.listeningId) return;
      if (err !== undefined) this.emit('error', err);
      else this.setupListenHandle(ip, port, backlog);
    };
    if (isIP(host) !== 0) {
      // dns.lookup answers an IP literal on the next tick.
      process.nextTick(() => done(host));
      return;
    }
    this.ctx.loop.post(() => {
      const ip = this.ctx.resolve(host, 0).find((a) => isIP(a) !== 0);
      if (ip !== undefined) {
        done(ip);
        return;
      }
      done(undefined, notFound(host));
    });
  }

  /** setupListenHandle: bind (the IPv6 wildcard, dual stack, when no address is given), listen, then 'listening' on the next tick. */
  private setupListenHandle(address: string | undefined, port: number, backlog: number): void {
    let addr = address ?? V6_ANY;
    let h = new ListenHandle(this.ctx);
    let err = h.bind(addr, port);
    if (err !== undefined && address === undefined) {
      // Node falls back to the IPv4 wildcard when the IPv6 one cannot be bound.
      addr = V4_ANY;
      h = new ListenHandle(this.ctx);
      err = h.bind(addr, port);
    }
    if (err === undefined) err = h.listen(backlog || 511);
    if (err !== undefined) {
      h.close();
      const ex = uvExceptionWithHostPort(err, 'listen', addr, port);
      process.nextTick(() => this.emit('error', ex));
      return;
    }
    this._handle = h;
    h.onconnection = (c) => this.onconnection(c);
    process.nextTick(() => {
      if (this._handle !== null) this.emit('listening');
    });
  }

  private onconnection(c: ConnHandle): void {
    if (this.maxConnections !== undefined && this.maxConnections > 0 && this._connections >= this.maxConnections) {
      const local = c.getsockname();
      const remote = c.getpeername();
      this.emit('drop', {
        localAddress: local?.address, localPort: local?.port, localFamily: local?.family,
        remoteAddress: remote?.address, remotePort: remote?.port, remoteFamily: remote?.family,
      });
      c.close();
      return;
    }
    const socket = new this.ctx.Socket({
      handle: c,
      allowHalfOpen: this.allowHalfOpen,
      pauseOnCreate: this.pauseOnConnect,
      readable: true,
      writable: true,
      readableHighWaterMark: this.highWaterMark,
      writableHighWaterMark: this.highWaterMark,
    } as SocketConstructorOpts);
    if (this.noDelay) {
      (socket as unknown as { setNoDelayWanted: boolean }).setNoDelayWanted = true;
      c.setNoDelay(true);
    }
    if (this.keepAlive) {
      (socket as unknown as { setKeepAliveWanted: boolean }).setKeepAliveWanted = true;
      (socket as unknown as { keepAliveDelay: number }).keepAliveDelay = this.keepAliveInitialDelay;
      c.setKeepAlive(true, this.keepAliveInitialDelay);
    }
    this._connections++;
    socket.server = this;
    socket._server = this;
    this.emit('connection', socket);
  }

  /** Whether the server is listening. */
  get listening(): boolean {
    return this._handle !== null;
  }

  /** `{ address, family, port }` while listening, else null. */
  address(): AddressInfo | null {
    return this._handle !== null ? this._handle.getsockname() : null;
  }

  /** Calls back (on the next tick) with the number of open connections. */
  getConnections(cb: (err: Error | null, count: number) => void): this {
    process.nextTick(cb, null, this._connections);
    return this;
  }

  /** Stops accepting; 'close' follows once every connection has closed. */
  close(cb?: (err?: Error) => void): this {
    this.listeningId++;
    if (typeof cb === 'function') {
      if (this._handle === null) this.once('close', () => cb(nodeError('ERR_SERVER_NOT_RUNNING', 'Server is not running.')));
      else this.once('close', cb);
    }
    if (this._handle !== null) {
      this._handle.close();
      this._handle = null;
    }
    this._emitCloseIfDrained();
    return this;
  }

  _emitCloseIfDrained(): void {
    if (this._handle !== null || this._connections > 0) return;
    process.nextTick(() => this.emit('close'));
  }

  /** Closes the server (for `await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this._handle === null) return;
    await new Promise<void>((resolve, reject) => this.close((e) => (e ? reject(e) : resolve())));
  }

  /** Does nothing here: the drivers never hold a process open. */
  ref(): this {
    return this;
  }
  /** Does nothing here: the drivers never hold a process open. */
  unref(): this {
    return this;
  }
}


// ---------------------------------------------------------------------------------------------
// The module object.

/** Options of `createNet`. */
export interface CreateNetOptions {
  /** The event loop socket events are delivered through (default: host.ts's `defaultLoop`, which `runSimulation` also uses). */
  loop?: EventLoop;
  /** A real-time driver to kick after each call that queues work (omit in a Simulation). */
  driver?: { kick(): void };
  /** Host names and their addresses, for connect/listen with a name (default: localhost -> 127.0.0.1). */
  hosts?: Readonly<Record<string, readonly string[]>>;
  /** A resolver for names not in `hosts`. */
  resolve?: Resolver;
}

/** The node:net-shaped module createNet returns; typed as node:net's own declarations for drop-in use. */
export interface SynackNet {
  createServer: typeof NodeNet.createServer;
  connect: typeof NodeNet.connect;
  createConnection: typeof NodeNet.createConnection;
  Socket: typeof NodeNet.Socket;
  Server: typeof NodeNet.Server;
  isIP: typeof NodeNet.isIP;
  isIPv4: typeof NodeNet.isIPv4;
  isIPv6: typeof NodeNet.isIPv6;
  /** The stack this module's sockets live on. */
  readonly stack: Stack;
}

/**
 * Returns a node:net-compatible module whose sockets live on `stack`. In a Simulation, run it with
 * `runSimulation` (src/api/host.ts); in real time, give the Stack the RealtimeDriver's clock and
 * pass the driver here.
 */
export function createNet(stack: Stack, options: CreateNetOptions = {}): SynackNet {
  const hosts: Record<string, readonly string[]> = { localhost: ['127.0.0.1'], ...options.hosts };
  const resolve: Resolver = (name, family) => hosts[name.toLowerCase()] ?? options.resolve?.(name, family) ?? [];
  const ctx = new NetContext(stack, options.loop ?? defaultLoop, options.driver, resolve);
  // Subclasses carry the context, so `new net.Socket()` and `new net.Server()` know their stack.
  const Socket = class Socket extends SynackSocket {};
  const Server = class Server extends SynackServer {};
  Object.defineProperty(Socket, kContext, { value: ctx });
  Object.defineProperty(Server, kContext, { value: ctx });
  ctx.Socket = Socket;
  const createServer = (...args: ConstructorParameters<typeof SynackServer>): SynackServer => new Server(...args);
  const connect = (...args: unknown[]): SynackSocket => {
    const normalized = normalizeArgs(args);
    const o = normalized[0];
    const socket = new Socket(o as SocketConstructorOpts);
    if (o['timeout']) socket.setTimeout(o['timeout'] as number);
    return socket.connect(normalized);
  };
  const mod = { createServer, connect, createConnection: connect, Socket, Server, isIP, isIPv4, isIPv6, stack };
  // The classes are ours, but their API is node:net's: expose them under node:net's types.
  return mod as unknown as SynackNet;
}
