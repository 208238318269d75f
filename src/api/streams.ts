// TCP as web streams, in the shape of the WinterTC / Cloudflare Workers sockets API:
// `connect(address, options)` returns a socket with `readable` (a byte ReadableStream of
// Uint8Array), `writable` (a WritableStream of Uint8Array), `opened`, `closed` and `close()`;
// `listen()` returns an async iterator of such sockets. Browser-safe: no Node built-ins, so it is
// part of the browser bundle (web/).
//
// Backpressure is TCP's own. The readable side is a byte stream (`type: 'bytes'`, BYOB readers
// read straight out of the receive buffer) whose default high-water mark is 0: bytes stay in the
// TCP receive buffer until the application asks for them, so a reader that stops reading closes
// the advertised window and stops the sender. The writable side resolves a write only when the
// last byte is in the send buffer, so a writer that awaits its writes is paced by the peer.
//
// Events come through the same EventLoop as net.ts (src/api/host.ts): readiness reported by the
// stack is handled in a later macrotask, never inside `stack.poll`. Drive a Simulation with
// `runSimulation`; in real time pass `{ driver }` (a RealtimeDriver) so each call kicks it.
//
// Not here: TLS (`secureTransport` other than 'off' throws; `startTls` is absent), and
// `highWaterMark` as a bigint.
import type { Stack } from '../stack.js';
import { IpAddr } from '../wire/ip-addr.js';
import { SocketLayer, type TcpSocket } from './socket.js';
import { EventLoop, defaultLoop } from './host.js';
import { type NetErrorCode, errnoException, exceptionWithHostPort, uvExceptionWithHostPort, isIP, validatePort } from './common.js';

/** Where to connect, as the sockets API takes it: `{ hostname, port }` or `"host:port"` (`"[v6]:port"`). */
export type SocketAddress = { hostname: string; port: number } | string;

/** Options of `connect()`. */
export interface SocketOptions {
  /** Only 'off' (plain TCP) is supported. */
  secureTransport?: 'off' | 'on' | 'starttls';
  /** Keep the writable side open after the peer's FIN (default false: it closes with the readable side). */
  allowHalfOpen?: boolean;
  /** Bytes the readable side may hold beyond what the reader asked for (default 0: TCP's buffer is the queue). */
  highWaterMark?: number;
}

/** What `opened` resolves with. */
export interface SocketInfo {
  /** `address:port` of the peer. */
  remoteAddress?: string;
  /** `address:port` of this end. */
  localAddress?: string;
}

/** A sockets-API socket over a synack TCP connection. */
export interface StreamSocket {
  /** Bytes from the peer; ends at the peer's FIN, errors on a reset. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer; close() sends a FIN, abort() a RST. */
  readonly writable: WritableStream<Uint8Array>;
  /** Resolves when the connection is established, rejects if it cannot be. */
  readonly opened: Promise<SocketInfo>;
  /** Resolves when both directions are finished and the socket is released, rejects on an error. */
  readonly closed: Promise<void>;
  /** Always 'off'. */
  readonly secureTransport: 'off';
  /** Always false (no TLS upgrade). */
  readonly upgraded: boolean;
  /** Closes both directions (the FIN follows what was written) and releases the socket. */
  close(): Promise<void>;
}

/** Options of `listen()`. */
export interface ListenOptions {
  /** The address to listen on (default: the IPv4 wildcard 0.0.0.0). */
  hostname?: string;
  /** The port (0 or absent: an ephemeral port). */
  port?: number;
  /** Accept queue length (default 511, as Node). */
  backlog?: number;
  /** Options for accepted sockets. */
  allowHalfOpen?: boolean;
  highWaterMark?: number;
}

/** A listening socket: an async iterator of accepted sockets. */
export interface StreamListener extends AsyncIterable<StreamSocket> {
  /** The bound address and port. */
  readonly address: { hostname: string; port: number };
  /** The next accepted connection; rejects once the listener is closed. */
  accept(): Promise<StreamSocket>;
  /** Stops listening; connections not yet accepted are reset. Pending accept() calls reject. */
  close(): Promise<void>;
}

/** Options of `createSockets`. */
export interface CreateSocketsOptions {
  /** The event loop events are delivered through (default: host.ts's `defaultLoop`). */
  loop?: EventLoop;
  /** A real-time driver to kick after each call that queues work (omit in a Simulation). */
  driver?: { kick(): void };
  /** Host names and their addresses (default: localhost -> 127.0.0.1). */
  hosts?: Readonly<Record<string, readonly string[]>>;
}

/** The sockets API bound to one stack. */
export interface SynackSockets {
  /** Opens a connection (WinterTC `connect()`). */
  connect(address: SocketAddress, options?: SocketOptions): StreamSocket;
  /** Listens for connections. Throws (like Node's listen errors) when the address is taken or not local. */
  listen(options?: ListenOptions): StreamListener;
}

/** Bytes per read when the reader supplies no buffer. */
const CHUNK = 64 * 1024;

class Ctx {
  readonly layer: SocketLayer;
  constructor(
    readonly loop: EventLoop,
    private readonly driver: { kick(): void } | undefined,
    readonly hosts: Readonly<Record<string, readonly string[]>>,
    stack: Stack,
  ) {
    this.layer = new SocketLayer(stack.tcp);
  }
  kick(): void {
    this.driver?.kick();
  }
  resolve(hostname: string): string | undefined {
    const h = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
    if (isIP(h) !== 0) return h;
    return this.hosts[h.toLowerCase()]?.find((a) => isIP(a) !== 0);
  }
}

function parseAddress(address: SocketAddress): { hostname: string; port: number } {
  if (typeof address !== 'string') return { hostname: address.hostname, port: validatePort(address.port, 'port', false) };
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
  if (m === null) throw new TypeError(`synack sockets: address ${JSON.stringify(address)} is not "host:port" or "[v6]:port"`);
  return { hostname: m[1]!, port: validatePort(Number(m[2]), 'port', false) };
}

function endpoint(addr: IpAddr | undefined, port: number | undefined): string | undefined {
  if (addr === undefined || port === undefined) return undefined;
  return addr.family === 6 ? `[${addr.toString()}]:${port}` : `${addr.toString()}:${port}`;
}

/** A deferred promise whose rejection, when nobody listens, is not reported as unhandled. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

class Conn implements StreamSocket {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly secureTransport = 'off' as const;
  readonly upgraded = false;
  private readonly openedD = deferred<SocketInfo>();
  private readonly closedD = deferred<void>();
  private phase: 'connecting' | 'open' | 'failed' | 'released' = 'connecting';
  private readDone = false;
  private writeDone = false;
  /** Chunks queued on the writable and not yet fully in the send buffer. */
  private queuedChunks = 0;
  /** The peer's FIN arrived without allowHalfOpen: close our side when the queue is empty. */
  private endAfterQueue = false;
  private failure: Error | undefined;
  private posted = false;
  /** Whoever waits for the socket to become readable, writable or connected. */
  private waiters: (() => void)[] = [];
  private readController: ReadableByteStreamController | undefined;
  private writeController: WritableStreamDefaultController | undefined;

  constructor(private readonly ctx: Ctx, private readonly sock: TcpSocket, private readonly allowHalfOpen: boolean, highWaterMark: number, private readonly target?: { host: string; port: number }) {
    sock.onReady = () => this.wake();
    const source: UnderlyingByteSource = {
      type: 'bytes',
      start: (c) => {
        this.readController = c;
      },
      pull: (c) => this.pull(c),
      cancel: () => {
        this.readDone = true;
        this.sock.shutdown('read');
        this.maybeReleased();
      },
    };
    this.readable = new ReadableStream(source, { highWaterMark }) as ReadableStream<Uint8Array>;
    this.writable = new WritableStream<Uint8Array>({
      start: (c) => {
        this.writeController = c;
      },
      write: (chunk) => this.write(chunk),
      close: () => this.closeWrite(),
      abort: () => {
        // A RST, as SO_LINGER 0: what was queued is discarded.
        this.writeDone = this.readDone = true;
        this.sock.abort();
        this.ctx.kick();
        this.phase = 'released';
        this.closedD.resolve();
      },
    }, {
      highWaterMark: 16 * 1024,
      // Called as each chunk is queued: counts what the application has handed over but the
      // sink has not finished, for the automatic close at the peer's FIN.
      size: (chunk) => {
        this.queuedChunks++;
        return chunk.byteLength;
      },
    });
    if (target === undefined) this.established();
  }

  get opened(): Promise<SocketInfo> {
    return this.openedD.promise;
  }

  get closed(): Promise<void> {
    return this.closedD.promise;
  }

  /** Readiness changed: handle it from the event loop, not from inside the stack. */
  private wake(): void {
    if (this.posted) return;
    this.posted = true;
    this.ctx.loop.post(() => {
      this.posted = false;
      this.service();
    });
  }

  private service(): void {
    if (this.phase === 'connecting') {
      const st = this.sock.state;
      if (st === 'SYN-SENT' || st === 'SYN-RECEIVED') return;
      const err = this.sock.takeError();
      if (err !== undefined) {
        const t = this.target!;
        this.fail(exceptionWithHostPort(err, 'connect', t.host, t.port));
        return;
      }
      this.established();
    }
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private established(): void {
    this.phase = 'open';
    const remote = endpoint(this.sock.remoteAddress, this.sock.remotePort);
    const local = endpoint(this.sock.localAddress, this.sock.localPort);
    this.openedD.resolve({ ...(remote !== undefined ? { remoteAddress: remote } : {}), ...(local !== undefined ? { localAddress: local } : {}) });
  }

  /** Ends the socket with an error: opened (if pending) and closed reject, both streams error. */
  fail(e: Error): void {
    if (this.failure !== undefined || this.phase === 'released') return;
    this.failure = e;
    const wasConnecting = this.phase === 'connecting';
    this.phase = 'failed';
    if (wasConnecting) this.openedD.reject(e);
    try {
      if (!this.readDone) this.readController?.error(e);
    } catch {
      // already closed
    }
    try {
      if (!this.writeDone) this.writeController?.error(e);
    } catch {
      // already closed
    }
    this.readDone = this.writeDone = true;
    this.sock.close();
    this.ctx.kick();
    this.closedD.reject(e);
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private waitReady(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private async pull(c: ReadableByteStreamController): Promise<void> {
    while (true) {
      if (this.failure !== undefined) throw this.failure;
      if (this.readDone) return;
      if (this.phase === 'connecting') {
        await this.waitReady();
        continue;
      }
      const req = c.byobRequest;
      const view = req?.view !== null && req?.view !== undefined ? new Uint8Array(req.view.buffer, req.view.byteOffset, req.view.byteLength) : undefined;
      const avail = this.sock.readableLength;
      // Without a reader's buffer: exactly what is there (up to CHUNK), or a 1-byte probe that
      // can only find end of stream, an error or nothing.
      const buf = view ?? new Uint8Array(avail > 0 ? Math.min(avail, CHUNK) : 1);
      const n = this.sock.recv(buf);
      if (typeof n === 'number' && n > 0) {
        this.ctx.kick(); // reading may open the window
        if (view !== undefined) req!.respond(n);
        else c.enqueue(n === buf.length ? buf : buf.slice(0, n));
        return;
      }
      if (n === 0) {
        this.readDone = true;
        c.close();
        if (view !== undefined) req!.respond(0);
        // Without half-open, the peer's FIN closes our sending side too (as Workers do): once
        // the chunks already queued on the writable are sent, our FIN follows; later writes fail.
        if (!this.allowHalfOpen && !this.writeDone) {
          this.endAfterQueue = true;
          this.maybeAutoEnd();
        }
        this.maybeReleased();
        return;
      }
      if (n === 'EAGAIN') {
        await this.waitReady();
        continue;
      }
      this.fail(errnoException(n as NetErrorCode, 'read'));
      throw this.failure;
    }
  }

  private async write(chunk: Uint8Array): Promise<void> {
    try {
      await this.writeAll(chunk);
    } finally {
      this.queuedChunks--;
      this.maybeAutoEnd();
    }
  }

  /** The automatic close of the sending side (allowHalfOpen false), once queued chunks are sent. */
  private maybeAutoEnd(): void {
    if (!this.endAfterQueue || this.queuedChunks > 0 || this.writeDone) return;
    this.writeDone = true;
    this.sock.shutdown('write');
    this.ctx.kick();
    this.maybeReleased();
  }

  private async writeAll(chunk: Uint8Array): Promise<void> {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('synack sockets: write() takes a Uint8Array');
    if (this.writeDone && this.failure === undefined) throw errnoException('EPIPE', 'write');
    let off = 0;
    while (off < chunk.length) {
      if (this.failure !== undefined) throw this.failure;
      if (this.phase === 'connecting') {
        await this.waitReady();
        continue;
      }
      const r = this.sock.send(off === 0 ? chunk : chunk.subarray(off));
      if (typeof r === 'number') {
        off += r;
        this.ctx.kick();
        continue;
      }
      if (r === 'EAGAIN') {
        await this.waitReady();
        continue;
      }
      this.fail(errnoException(r, 'write'));
      throw this.failure;
    }
  }

  private async closeWrite(): Promise<void> {
    while (this.phase === 'connecting') await this.waitReady();
    if (this.failure !== undefined) throw this.failure;
    if (this.writeDone) return;
    this.writeDone = true;
    this.sock.shutdown('write');
    this.ctx.kick();
    this.maybeReleased();
  }

  private maybeReleased(): void {
    if (!this.readDone || !this.writeDone || this.phase === 'released' || this.failure !== undefined) return;
    this.phase = 'released';
    this.sock.close();
    this.ctx.kick();
    this.closedD.resolve();
  }

  close(): Promise<void> {
    if (this.phase === 'released' || this.failure !== undefined) return this.closed;
    if (!this.readDone) {
      this.readDone = true;
      try {
        this.readController?.close();
        this.readController?.byobRequest?.respond(0);
      } catch {
        // already closed
      }
    }
    if (!this.writeDone) {
      this.writeDone = true;
      try {
        this.writeController?.error(new TypeError('synack sockets: the socket was closed'));
      } catch {
        // already closed
      }
    }
    if (this.phase === 'connecting') {
      this.sock.close();
      this.phase = 'released';
      this.openedD.reject(new Error('synack sockets: closed before the connection was established'));
      this.closedD.resolve();
    } else {
      this.maybeReleased();
    }
    this.ctx.kick();
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
    return this.closed;
  }
}

class Listener implements StreamListener {
  readonly address: { hostname: string; port: number };
  private readonly queue: Conn[] = [];
  private readonly waiting: { resolve: (s: StreamSocket) => void; reject: (e: unknown) => void }[] = [];
  private closedFlag = false;
  private posted = false;

  constructor(private readonly ctx: Ctx, private readonly sock: TcpSocket, hostname: string, private readonly opts: ListenOptions) {
    this.address = { hostname, port: sock.localPort! };
    sock.onReady = () => {
      if (this.posted) return;
      this.posted = true;
      this.ctx.loop.post(() => {
        this.posted = false;
        this.drain();
      });
    };
  }

  private drain(): void {
    while (!this.closedFlag && this.waiting.length > 0) {
      const c = this.sock.accept();
      if (typeof c === 'string') return;
      this.waiting.shift()!.resolve(new Conn(this.ctx, c, this.opts.allowHalfOpen ?? false, this.opts.highWaterMark ?? 0));
    }
  }

  accept(): Promise<StreamSocket> {
    if (this.closedFlag) return Promise.reject(new Error('synack sockets: the listener is closed'));
    const d = deferred<StreamSocket>();
    this.waiting.push({ resolve: d.resolve, reject: d.reject });
    // A connection may already be queued: take it from the loop, like any other event.
    this.ctx.loop.post(() => this.drain());
    return d.promise;
  }

  close(): Promise<void> {
    if (!this.closedFlag) {
      this.closedFlag = true;
      this.sock.close();
      this.ctx.kick();
      for (const w of this.waiting.splice(0)) w.reject(new Error('synack sockets: the listener is closed'));
    }
    return Promise.resolve();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<StreamSocket> {
    while (!this.closedFlag) {
      let s: StreamSocket;
      try {
        s = await this.accept();
      } catch {
        return;
      }
      yield s;
    }
  }
}

/** Returns the sockets API (`connect`, `listen`) over `stack`. */
export function createSockets(stack: Stack, options: CreateSocketsOptions = {}): SynackSockets {
  const ctx = new Ctx(options.loop ?? defaultLoop, options.driver, { localhost: ['127.0.0.1'], ...options.hosts }, stack);
  return {
    connect(address, o = {}) {
      if (o.secureTransport !== undefined && o.secureTransport !== 'off') throw new TypeError('synack sockets: TLS (secureTransport) is not supported');
      const { hostname, port } = parseAddress(address);
      const ip = ctx.resolve(hostname);
      const hwm = o.highWaterMark ?? 0;
      if (ip === undefined) {
        const sock = ctx.layer.socket(4);
        const c = new Conn(ctx, sock, o.allowHalfOpen ?? false, hwm, { host: hostname, port });
        const e = new Error(`getaddrinfo ENOTFOUND ${hostname}`) as Error & { code?: string };
        e.code = 'ENOTFOUND';
        ctx.loop.post(() => c.fail(e));
        return c;
      }
      const addr = IpAddr.from(ip);
      const sock = ctx.layer.socket(addr.family);
      const c = new Conn(ctx, sock, o.allowHalfOpen ?? false, hwm, { host: ip, port });
      const r = sock.connect(addr, port);
      if (r !== 'EINPROGRESS') ctx.loop.post(() => c.fail(exceptionWithHostPort(r, 'connect', ip, port)));
      ctx.kick();
      return c;
    },
    listen(o = {}) {
      const hostname = o.hostname ?? '0.0.0.0';
      const ip = ctx.resolve(hostname);
      if (ip === undefined) throw new Error(`getaddrinfo ENOTFOUND ${hostname}`);
      const port = o.port === undefined ? 0 : validatePort(o.port, 'port');
      const addr = IpAddr.from(ip);
      const sock = ctx.layer.socket(addr.family);
      sock.setOption('reuseAddress', true);
      const err = sock.bind(addr, port) ?? sock.listen(o.backlog ?? 511);
      if (err !== undefined) {
        sock.close();
        throw uvExceptionWithHostPort(err, 'listen', ip, port);
      }
      ctx.kick();
      return new Listener(ctx, sock, ip, o);
    },
  };
}
