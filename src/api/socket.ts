// The low-level socket API: BSD-socket-shaped calls over the TCP layer (socket, bind, listen,
// accept, connect, send, recv, shutdown, close, abort, setOption/getOption) with non-blocking
// semantics (results are values or error codes such as 'EAGAIN' and 'EINPROGRESS', never
// exceptions), and an epoll-style Poller. Every higher API (net, streams, packetdrill) is built
// on this file.
import { type CongestionAlgorithm, isCongestionAlgorithm } from '../tcp/congestion/cc.js';
import { IpAddr } from '../wire/ip-addr.js';
import { type TcpLayer, type Binding, defaultSocketOptions } from '../tcp/tcp.js';
import { type Tcb, type SocketOptions, Ready } from '../tcp/tcb.js';
import { type Listener, deferAcceptRetransmits, deferAcceptSeconds } from '../tcp/listener.js';
import { fastOpenSynRoom } from '../tcp/fastopen.js';
import type { SocketErrorCode } from '../tcp/errors.js';
import type { TcpState } from '../tcp/state.js';
import { millis, seconds } from '../time/instant.js';

export { Ready };

/** Socket options by name, in the units of their Linux counterparts (seconds, milliseconds, bytes). */
export interface SocketOptionValues {
  /** TCP_NODELAY. */
  noDelay: boolean;
  /** TCP_CONGESTION: 'newreno' or 'cubic'; takes effect when data transfer starts (EISCONN after). */
  congestion: CongestionAlgorithm;
  /** TCP_CORK. */
  cork: boolean;
  /** SO_KEEPALIVE. */
  keepAlive: boolean;
  /** TCP_KEEPIDLE, seconds. */
  keepIdle: number;
  /** TCP_KEEPINTVL, seconds. */
  keepInterval: number;
  /** TCP_KEEPCNT. */
  keepCount: number;
  /** SO_LINGER: undefined = off, otherwise the linger time in seconds (0 = reset on close). */
  linger: number | undefined;
  /** SO_REUSEADDR. */
  reuseAddress: boolean;
  /** TCP_USER_TIMEOUT, milliseconds (0 = default). */
  userTimeout: number;
  /** TCP_MAXSEG, bytes (0 = from the route). */
  maxSegment: number;
  /** TCP_SYNCNT (0 = stack default). */
  synCount: number;
  /** TCP_LINGER2, seconds (0 = stack default). */
  linger2: number;
  /**
   * TCP_DEFER_ACCEPT, seconds (listeners; 0 = off): accept() gets a connection only once data
   * arrived, or after the deferral (see docs/conformance.md). Reads back rounded up to the
   * SYN-ACK retransmission schedule, as Linux does.
   */
  deferAccept: number;
  /** TCP_FASTOPEN: the listener's queue of pending Fast Open requests (0 = off; needs tcp_fastopen & 0x2). */
  fastOpen: number;
  /** TCP_FASTOPEN_CONNECT: connect() holds the SYN until the first send(), which it carries when a cookie is cached. */
  fastOpenConnect: boolean;
  /**
   * SO_SNDBUF, bytes. As Linux (sock_setsockopt): the value asked for is capped at
   * net.core.wmem_max (TcpConfig.wmemMax), doubled, and at least 4608 (SOCK_MIN_SNDBUF); reading
   * it back gives the buffer in use. Setting it locks the size: the stack no longer grows it with
   * the congestion window (SOCK_SNDBUF_LOCK).
   */
  sendBuffer: number;
  /**
   * SO_RCVBUF, bytes: capped at net.core.rmem_max (TcpConfig.rmemMax), doubled, at least 2304
   * (SOCK_MIN_RCVBUF). Setting it turns receive-buffer auto-tuning off for the socket
   * (SOCK_RCVBUF_LOCK). Set it before connect() or listen() to size the first window too.
   */
  receiveBuffer: number;
}

/** Linux's SOCK_MIN_SNDBUF and SOCK_MIN_RCVBUF (2 and 1 times 2048 bytes plus an sk_buff's overhead, on 64-bit). */
const MIN_SNDBUF = 4608;
const MIN_RCVBUF = 2304;

/** Which phase of its life a socket is in. */
export type SocketPhase = 'open' | 'bound' | 'listening' | 'connected' | 'closed';

/** A TCP socket. Calls return values or error codes; they never throw for network conditions. */
export class TcpSocket {
  private binding: Binding | undefined;
  private listener: Listener | undefined;
  private tcb: Tcb | undefined;
  private reuseAddress = false;
  /** TCP_DEFER_ACCEPT as a count of SYN-ACK timeouts (Linux's rskq_defer_accept). */
  private deferAcceptRetrans = 0;
  private fastOpenQueue = 0;
  private fastOpenConnect = false;
  private phaseValue: SocketPhase = 'open';
  /** Called when readiness may have changed (socket layer wake-ups; the Poller sets this). */
  onReady: ((sock: TcpSocket, events: number) => void) | undefined;
  // Never changed in place once a connection or listener uses it: setOption replaces it (the
  // listener's children share their listener's object, so a later change to the listener must
  // not reach them, as Linux copies the options at accept time).
  private opts: SocketOptions;

  /** Creates an unconnected socket; use `SocketLayer.socket()`. */
  constructor(private readonly tcp: TcpLayer, readonly family: 4 | 6 = 4, fromTcb?: Tcb) {
    this.opts = fromTcb?.opts ?? defaultSocketOptions(tcp.config);
    if (fromTcb !== undefined) this.attach(fromTcb);
  }

  /** The socket's phase. */
  get phase(): SocketPhase {
    return this.phaseValue;
  }
  /** The connection state (RFC 9293 names), LISTEN for listeners, CLOSED otherwise. */
  get state(): TcpState {
    // A connection in TIME-WAIT lives on as a small record (src/tcp/timewait.ts); once that has
    // expired the socket's connection is CLOSED.
    if (this.tcb !== undefined) return this.tcb.state === 'TIME-WAIT' && !this.tcp.timeWaitHolds(this.tcb) ? 'CLOSED' : this.tcb.state;
    return this.phaseValue === 'listening' ? 'LISTEN' : 'CLOSED';
  }
  /** The connection's TCB (for statistics and tools), if connected. */
  get connection(): Tcb | undefined {
    return this.tcb;
  }
  /** The local address, once bound or connected. */
  get localAddress(): IpAddr | undefined {
    return this.tcb?.local ?? this.binding?.addr;
  }
  /** The local port, once bound or connected. */
  get localPort(): number | undefined {
    return this.tcb?.localPort ?? this.binding?.port;
  }
  /** The peer's address, once connecting. */
  get remoteAddress(): IpAddr | undefined {
    return this.tcb?.remote;
  }
  /** The peer's port, once connecting. */
  get remotePort(): number | undefined {
    return this.tcb?.remotePort;
  }

  /** bind(2): address and port; port 0 picks an ephemeral port. */
  bind(address: IpAddr | string, port: number): SocketErrorCode | undefined {
    if (this.phaseValue !== 'open') return 'EINVAL';
    if (!Number.isInteger(port) || port < 0 || port > 0xffff) return 'EINVAL';
    const addr = typeof address === 'string' ? IpAddr.parse(address) : { ok: true as const, value: address };
    if (!addr.ok) return 'EINVAL';
    const b = this.tcp.bind(addr.value, port, this.reuseAddress);
    if (typeof b === 'string') return b;
    this.binding = b;
    this.phaseValue = 'bound';
    return undefined;
  }

  /** listen(2). An unbound socket is bound to the wildcard address and an ephemeral port first. */
  listen(backlog = 511): SocketErrorCode | undefined {
    if (this.phaseValue === 'listening') {
      this.listener!.backlog = Math.min(Math.max(backlog, 0), this.tcp.config.somaxconn);
      return undefined;
    }
    if (this.phaseValue === 'open') {
      const e = this.bind(IpAddr.any(this.family), 0);
      if (e !== undefined) return e;
    }
    if (this.phaseValue !== 'bound' || this.binding === undefined) return 'EINVAL';
    const l = this.tcp.listen(this.binding, backlog, this.opts);
    if (typeof l === 'string') return l;
    this.listener = l;
    l.deferAccept = this.deferAcceptRetrans;
    l.fastOpenQueueLen = this.fastOpenQueue;
    l.onReady = (_l, ev) => this.onReady?.(this, ev);
    this.phaseValue = 'listening';
    return undefined;
  }

  /** accept(2): the next established connection, or 'EAGAIN'. */
  accept(): TcpSocket | SocketErrorCode {
    if (this.listener === undefined) return 'EINVAL';
    const tcb = this.tcp.accept(this.listener);
    if (tcb === undefined) return 'EAGAIN';
    return new TcpSocket(this.tcp, tcb.local.family, tcb);
  }

  /** connect(2): starts the handshake; returns 'EINPROGRESS' (the SYN leaves at the next poll). */
  connect(address: IpAddr | string, port: number): SocketErrorCode {
    if (this.phaseValue === 'connected') return this.tcb!.state === 'SYN-SENT' ? 'EALREADY' : 'EISCONN';
    if (this.phaseValue === 'listening' || this.phaseValue === 'closed') return 'EINVAL';
    const addr = typeof address === 'string' ? IpAddr.parse(address) : { ok: true as const, value: address };
    if (!addr.ok || !Number.isInteger(port) || port <= 0 || port > 0xffff) return 'EINVAL';
    const tcb = this.tcp.connect(addr.value, port, this.opts, this.binding, this.fastOpenConnect ? 'defer' : undefined);
    if (typeof tcb === 'string') return tcb;
    if (this.binding !== undefined) {
      // The connection now holds the port; the bind reservation is released.
      this.tcp.unbind(this.binding);
      this.binding = undefined;
    }
    this.attach(tcb);
    if (this.opts.keepAlive) this.tcp.optionsChanged(tcb);
    return 'EINPROGRESS';
  }

  /**
   * sendto(2) with MSG_FASTOPEN on an unconnected socket (RFC 7413 §3; Linux
   * tcp_sendmsg_fastopen): connects, and when a Fast Open cookie for the server is cached (or
   * tcp_fastopen has TFO_CLIENT_NO_COOKIE) queues as much of `data` as the SYN can carry and
   * returns that count. Without a cookie the SYN asks for one, nothing is queued and the result is
   * 'EINPROGRESS', as on Linux: send the data once connected. On a connected socket it is send().
   */
  sendTo(data: Uint8Array, address: IpAddr | string, port: number): number | SocketErrorCode {
    if (this.phaseValue === 'connected') return this.send(data);
    if (this.phaseValue === 'listening' || this.phaseValue === 'closed') return 'EINVAL';
    if ((this.tcp.config.fastOpen & 0x1) === 0) return 'EOPNOTSUPP';
    const addr = typeof address === 'string' ? IpAddr.parse(address) : { ok: true as const, value: address };
    if (!addr.ok || !Number.isInteger(port) || port <= 0 || port > 0xffff) return 'EINVAL';
    const tcb = this.tcp.connect(addr.value, port, this.opts, this.binding, 'sendto');
    if (typeof tcb === 'string') return tcb;
    if (this.binding !== undefined) {
      this.tcp.unbind(this.binding);
      this.binding = undefined;
    }
    this.attach(tcb);
    if (this.opts.keepAlive) this.tcp.optionsChanged(tcb);
    if (tcb.fastOpen?.dataAllowed !== true || data.length === 0) return 'EINPROGRESS';
    const room = fastOpenSynRoom(this.tcp, tcb);
    const n = this.tcp.send(tcb, data.subarray(0, Math.min(data.length, room)));
    return typeof n === 'number' && n === 0 ? 'EAGAIN' : n;
  }

  private attach(tcb: Tcb): void {
    this.tcb = tcb;
    this.phaseValue = 'connected';
    tcb.onReady = (_t, ev) => this.onReady?.(this, ev);
  }

  /** send(2): queues bytes; returns how many were taken, 'EAGAIN' when the buffer is full, or an error. */
  send(data: Uint8Array): number | SocketErrorCode {
    // After close() the descriptor is gone (EBADF), even while its connection finishes closing.
    if (this.tcb === undefined || this.phaseValue === 'closed') return this.phaseValue === 'closed' ? 'EBADF' : 'ENOTCONN';
    if (data.length === 0) return 0;
    const n = this.tcp.send(this.tcb, data);
    if (n === 0) return 'EAGAIN';
    return n;
  }

  /** recv(2): copies up to out.length bytes; 0 at end of stream; 'EAGAIN' when nothing is there yet. */
  recv(out: Uint8Array): number | SocketErrorCode {
    if (this.tcb === undefined || this.phaseValue === 'closed') return this.phaseValue === 'closed' ? 'EBADF' : 'ENOTCONN';
    return this.tcp.recv(this.tcb, out);
  }

  /** Bytes waiting to be read (FIONREAD / SIOCINQ). */
  get readableLength(): number {
    return this.tcb?.rcvBuf.length ?? 0;
  }
  /** Free space in the send buffer. */
  get writableLength(): number {
    return this.tcb?.sndBuf.free ?? 0;
  }

  /** shutdown(2). */
  shutdown(how: 'read' | 'write' | 'both'): SocketErrorCode | undefined {
    if (this.phaseValue === 'closed') return 'EBADF';
    if (this.tcb === undefined) return 'ENOTCONN';
    return this.tcp.shutdown(this.tcb, how);
  }

  /** close(2): releases the socket; the connection finishes its close on its own. */
  close(): void {
    if (this.phaseValue === 'closed') return;
    if (this.listener !== undefined) this.tcp.closeListener(this.listener);
    if (this.binding !== undefined) this.tcp.unbind(this.binding);
    if (this.tcb !== undefined) this.tcp.close(this.tcb);
    this.phaseValue = 'closed';
    this.onReady = undefined;
  }

  /** Aborts the connection with a reset (RFC 9293 §3.10.5) and releases the socket. */
  abort(): void {
    if (this.tcb !== undefined) {
      this.tcb.onReady = undefined;
      this.tcp.abort(this.tcb);
    }
    this.close();
  }

  /** SO_ERROR: the pending error, cleared by reading it. */
  takeError(): SocketErrorCode | undefined {
    return this.tcb === undefined ? undefined : this.tcp.takeError(this.tcb);
  }

  /** The readiness of this socket now (level-triggered): a mask of `Ready` bits. */
  readiness(): number {
    const t = this.tcb;
    if (this.listener !== undefined) return this.listener.acceptQueue.length > 0 ? Ready.ACCEPT | Ready.READABLE : 0;
    if (t === undefined) return this.phaseValue === 'closed' ? Ready.HANGUP : 0;
    let r = 0;
    if (t.error !== undefined) r |= Ready.ERROR | Ready.READABLE | Ready.WRITABLE;
    if (t.rcvBuf.length > 0) r |= Ready.READABLE;
    const s = t.state;
    const peerClosed = s === 'CLOSE-WAIT' || s === 'CLOSING' || s === 'LAST-ACK' || s === 'TIME-WAIT' || s === 'CLOSED';
    if (peerClosed || t.readShut) r |= Ready.READABLE | Ready.RDHUP;
    if ((s === 'ESTABLISHED' || s === 'CLOSE-WAIT') && !t.finQueued && t.sndBuf.free > 0) r |= Ready.WRITABLE;
    // Fast Open (Linux tcp_poll): a deferred TCP_FASTOPEN_CONNECT waits for its first write, and a
    // passive Fast Open child may write before its handshake completes.
    if ((s === 'SYN-SENT' && t.fastOpen?.deferConnect === true) || (s === 'SYN-RECEIVED' && t.fastOpen?.passive === true && !t.finQueued)) r |= Ready.WRITABLE;
    // Linux (tcp_poll): once the sending side is shut down a write fails at once (EPIPE), so the
    // socket reports writable instead of leaving a writer waiting forever.
    if (t.finQueued || s === 'CLOSED') r |= Ready.WRITABLE;
    if (s === 'CLOSED' || (peerClosed && t.finQueued)) r |= Ready.HANGUP;
    return r;
  }

  /** setsockopt(2). */
  setOption<K extends keyof SocketOptionValues>(name: K, value: SocketOptionValues[K]): SocketErrorCode | undefined {
    const o: SocketOptions = { ...this.opts }; // copy on write (see `opts`)
    const num = (v: unknown, min: number, max: number): number | undefined =>
      typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v : undefined;
    switch (name) {
      case 'noDelay': o.noDelay = value === true; break;
      case 'congestion':
        // Linux's TCP_CONGESTION (ENOENT for an unknown name; EINVAL here, as for any bad value).
        // Deviation: Linux switches the algorithm of a running connection; here the algorithm is
        // chosen when the connection's controller is created, so a later change is refused.
        if (typeof value !== 'string' || !isCongestionAlgorithm(value)) return 'EINVAL';
        if (this.tcb?.cc !== undefined && this.tcb.cc.cc.name !== value) return 'EISCONN';
        o.congestion = value;
        break;
      case 'cork': o.cork = value === true; break;
      case 'keepAlive': o.keepAlive = value === true; break;
      case 'reuseAddress': this.reuseAddress = value === true; break;
      case 'keepIdle': { const v = num(value, 1, 32767); if (v === undefined) return 'EINVAL'; o.keepIdle = seconds(v); break; }
      case 'keepInterval': { const v = num(value, 1, 32767); if (v === undefined) return 'EINVAL'; o.keepInterval = seconds(v); break; }
      case 'keepCount': { const v = num(value, 1, 127); if (v === undefined) return 'EINVAL'; o.keepCount = v; break; }
      case 'linger': {
        if (value === undefined) { o.linger = undefined; break; }
        const v = num(value, 0, 0x7fffffff); if (v === undefined) return 'EINVAL'; o.linger = v; break;
      }
      case 'userTimeout': { const v = num(value, 0, 0x7fffffff); if (v === undefined) return 'EINVAL'; o.userTimeout = millis(v); break; }
      case 'maxSegment': { const v = num(value, 0, 65535); if (v === undefined || (v !== 0 && v < 88)) return 'EINVAL'; o.maxSeg = v; break; }
      case 'synCount': { const v = num(value, 1, 127); if (v === undefined) return 'EINVAL'; o.synCount = v; break; }
      case 'linger2': { const v = num(value, 0, 0x7fffffff); if (v === undefined) return 'EINVAL'; o.linger2 = seconds(v); break; }
      case 'deferAccept': {
        const v = num(value, 0, 0x7fffffff); if (v === undefined) return 'EINVAL';
        const cfg = this.tcp.config;
        this.deferAcceptRetrans = deferAcceptRetransmits(v, cfg.initialRto / 1e6, cfg.maxRto / 1e6);
        if (this.listener !== undefined) this.listener.deferAccept = this.deferAcceptRetrans;
        return undefined;
      }
      case 'fastOpen': {
        // Linux (do_tcp_setsockopt TCP_FASTOPEN): on a closed or listening socket, capped by somaxconn.
        const v = num(value, 0, 0x7fffffff); if (v === undefined || !Number.isInteger(v)) return 'EINVAL';
        if (this.phaseValue === 'connected' || this.phaseValue === 'closed') return 'EINVAL';
        this.fastOpenQueue = Math.min(v, this.tcp.config.somaxconn);
        if (this.listener !== undefined) this.listener.fastOpenQueueLen = this.fastOpenQueue;
        return undefined;
      }
      case 'fastOpenConnect': {
        // Linux (TCP_FASTOPEN_CONNECT): only before connecting, and only with client Fast Open enabled.
        if ((this.tcp.config.fastOpen & 0x1) === 0) return 'EOPNOTSUPP';
        if (this.phaseValue !== 'open' && this.phaseValue !== 'bound') return 'EINVAL';
        this.fastOpenConnect = value === true;
        return undefined;
      }
      case 'sendBuffer': {
        const v = num(value, 0, 0x7fffffff); if (v === undefined) return 'EINVAL';
        o.sndBuf = Math.max(Math.min(Math.floor(v), this.tcp.config.wmemMax) * 2, MIN_SNDBUF);
        if (this.tcb !== undefined) this.tcb.sndBuf.capacity = o.sndBuf;
        break;
      }
      case 'receiveBuffer': {
        const v = num(value, 0, 0x7fffffff); if (v === undefined) return 'EINVAL';
        o.rcvBuf = Math.max(Math.min(Math.floor(v), this.tcp.config.rmemMax) * 2, MIN_RCVBUF);
        if (this.tcb !== undefined) this.tcb.rcvBuf.capacity = o.rcvBuf;
        break;
      }
      default: return 'ENOPROTOOPT';
    }
    this.opts = o;
    if (this.listener !== undefined) this.listener.childOpts = o;
    if (this.tcb !== undefined) {
      this.tcb.opts = o;
      this.tcp.optionsChanged(this.tcb);
    }
    return undefined;
  }

  /** getsockopt(2). */
  getOption<K extends keyof SocketOptionValues>(name: K): SocketOptionValues[K] {
    const o = this.opts;
    const values: SocketOptionValues = {
      noDelay: o.noDelay, cork: o.cork, keepAlive: o.keepAlive,
      keepIdle: o.keepIdle / 1e6, keepInterval: o.keepInterval / 1e6, keepCount: o.keepCount,
      linger: o.linger, reuseAddress: this.reuseAddress, userTimeout: o.userTimeout / 1e3,
      congestion: this.tcb?.cc?.cc.name ?? o.congestion ?? this.tcp.config.congestion,
      maxSegment: this.tcb?.mss ?? (o.maxSeg || 536), synCount: o.synCount || this.tcp.config.synRetries,
      linger2: (o.linger2 || this.tcp.config.finTimeout) / 1e6,
      deferAccept: deferAcceptSeconds(this.deferAcceptRetrans, this.tcp.config.initialRto / 1e6, this.tcp.config.maxRto / 1e6),
      fastOpen: this.fastOpenQueue, fastOpenConnect: this.fastOpenConnect,
      sendBuffer: this.tcb?.sndBuf.capacity ?? (o.sndBuf || this.tcp.config.sndBuf),
      receiveBuffer: this.tcb?.rcvBuf.capacity ?? (o.rcvBuf || this.tcp.config.rcvBuf),
    };
    return values[name];
  }
}

/** One ready socket reported by `Poller.wait`. */
export interface PollEvent<T> {
  socket: TcpSocket;
  events: number;
  data: T;
}

/**
 * An epoll-style readiness multiplexer. Level-triggered like epoll's default: a socket stays in
 * the ready list while it is ready. Wake-ups are O(1) per event; `wait` only looks at sockets
 * that had events, so a million idle sockets cost nothing.
 */
export class Poller<T = undefined> {
  private readonly interest = new Map<TcpSocket, { mask: number; data: T }>();
  private readonly ready = new Set<TcpSocket>();
  /** Called when a registered socket may have become ready (drivers use it to schedule a `wait`). */
  onWake: (() => void) | undefined;

  /** Registers `socket` for the events in `mask` (Ready bits; ERROR and HANGUP are always reported). */
  add(socket: TcpSocket, mask: number, data: T): void {
    this.interest.set(socket, { mask, data });
    socket.onReady = (s) => this.wake(s);
    if (socket.readiness() !== 0) this.wake(socket);
  }
  /** Changes the interest mask. */
  modify(socket: TcpSocket, mask: number): void {
    const e = this.interest.get(socket);
    if (e !== undefined) e.mask = mask;
    this.wake(socket);
  }
  /** Unregisters a socket. */
  delete(socket: TcpSocket): void {
    this.interest.delete(socket);
    this.ready.delete(socket);
    socket.onReady = undefined;
  }
  /** Number of registered sockets. */
  get size(): number {
    return this.interest.size;
  }

  private wake(s: TcpSocket): void {
    if (!this.interest.has(s)) return;
    this.ready.add(s);
    this.onWake?.();
  }

  /** Returns up to `max` sockets that are ready now, with their ready events. */
  wait(max = Infinity): PollEvent<T>[] {
    const out: PollEvent<T>[] = [];
    for (const s of this.ready) {
      if (out.length >= max) break;
      const e = this.interest.get(s);
      const ev = e === undefined ? 0 : s.readiness() & (e.mask | Ready.ERROR | Ready.HANGUP);
      if (ev === 0) {
        this.ready.delete(s);
        continue;
      }
      out.push({ socket: s, events: ev, data: e!.data });
    }
    return out;
  }
}

/** Creates sockets on a TCP layer. */
export class SocketLayer {
  constructor(readonly tcp: TcpLayer) {}
  /** socket(AF_INET or AF_INET6, SOCK_STREAM). */
  socket(family: 4 | 6 = 4): TcpSocket {
    return new TcpSocket(this.tcp, family);
  }
}
