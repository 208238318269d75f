// System calls of packetdrill scripts, mapped onto synack's socket API (src/api/socket.ts) with
// Linux's semantics on top: blocking by default (a call that cannot complete yet returns 'block'
// and the runner retries it as virtual time passes), O_NONBLOCK / MSG_DONTWAIT, Linux's errno
// numbers, the second connect() of a non-blocking socket, writes that wait for the handshake
// (sk_stream_wait_connect), and poll() revents. Anything outside the supported set is reported
// as unsupported at its line.
import { IpAddr } from '../wire/ip-addr.js';
import { type TcpSocket, type SocketLayer, type SocketOptionValues, Ready } from '../api/socket.js';
import type { SocketErrorCode } from '../tcp/errors.js';
import type { Expr, SyscallEvent } from './ast.js';
import { fail, unsupported } from './errors.js';
import { fastOpenSynRoom } from '../tcp/fastopen.js';
import { ERRNO_OF_CODE, SYMBOLS, symbolValue } from './symbols.js';

/** One open descriptor of the script. */
export interface FdEntry {
  readonly sock: TcpSocket;
  /** O_NONBLOCK. */
  nonblocking: boolean;
  /** A non-blocking connect() returned EINPROGRESS and no later connect() has reported the outcome. */
  connectInProgress: boolean;
}

/** What a finished call returned: the result, errno (0 on success), and a check of out-parameters. */
export interface CallOutcome {
  readonly ret: number;
  readonly errno: number;
  /** Verifies values the call wrote (getsockopt optval, ioctl value, poll revents): an error message, or undefined. */
  readonly check?: (() => string | undefined) | undefined;
}

/** One try at a call: its outcome, or 'block' when a blocking call must wait. */
export type Attempt = (now: number) => CallOutcome | 'block';

/** A started call: how to try it, and after how long a timeout makes it return regardless (poll). */
export interface StartedCall {
  readonly attempt: Attempt;
  /** Microseconds after the start at which the call must be retried even if nothing happened. */
  readonly timeoutUs: number | undefined;
}

/** What the syscalls need from the runner. */
export interface SyscallHost {
  readonly family: 4 | 6;
  readonly localIp: IpAddr;
  readonly remoteIp: IpAddr;
  readonly bindPort: number;
  readonly connectPort: number;
  readonly sockets: SocketLayer;
  fd(n: number): FdEntry | undefined;
  setFd(n: number, e: FdEntry): void;
  closeFd(n: number): void;
  /** socket() made `fd` the socket under test. */
  onSocket(fd: number): void;
  /** listen() succeeded on `fd`. */
  onListen(fd: number, port: number): void;
  /** connect() started a connection on `fd`. */
  onConnect(fd: number, sock: TcpSocket): void;
  /** accept() returned `sock` as `fd`. */
  onAccept(fd: number, sock: TcpSocket): void;
}

const ok = (ret: number, check?: () => string | undefined): CallOutcome => ({ ret, errno: 0, check });
const err = (errno: number): CallOutcome => ({ ret: -1, errno });
const errCode = (c: SocketErrorCode): CallOutcome => err(ERRNO_OF_CODE[c]);

/** Evaluates an integer expression: numbers, symbols, `A|B`, and `[N]`. */
export function intOf(e: Expr, line: number, what: string): number {
  switch (e.kind) {
    case 'int':
      return e.value;
    case 'word': {
      const v = symbolValue(e.name);
      if (v === undefined) throw unsupported(line, `symbol ${e.name} (in ${what})`);
      return v;
    }
    case 'or':
      return intOf(e.lhs, line, what) | intOf(e.rhs, line, what);
    case 'list':
      if (e.items.length === 1) return intOf(e.items[0]!, line, what);
      throw fail(line, `runtime error: expected [<integer>] for ${what}`);
    case 'ellipsis':
    case 'string':
    case 'assign':
    case 'sockaddr':
    case 'pollfd':
    case 'linger':
    case 'iovec':
    case 'struct':
    case 'inet-addr':
      throw fail(line, `runtime error: expected an integer for ${what}, got ${e.kind}`);
  }
}

/** Starts the call of a script line. Validation errors throw ScriptError at `ev.line`. */
export function startSyscall(host: SyscallHost, ev: SyscallEvent): StartedCall {
  const line = ev.line;
  const a = ev.args;
  const arity = (n: number): void => {
    if (a.length !== n) throw fail(line, `runtime error in ${ev.name} call: Expected ${n} args but got ${a.length}`);
  };
  const arg = (i: number): Expr => a[i]!;
  const fdArg = (i: number): { n: number; e: FdEntry | undefined } => {
    const n = intOf(arg(i), line, 'fd');
    return { n, e: host.fd(n) };
  };
  const now = (attempt: Attempt): StartedCall => ({ attempt, timeoutUs: undefined });
  const badFd = (): StartedCall => now(() => err(9));

  switch (ev.name) {
    case 'socket': {
      arity(3);
      const dom = arg(0);
      let family = host.family;
      if (dom.kind !== 'ellipsis') {
        const d = intOf(dom, line, 'domain');
        if (d === SYMBOLS.AF_INET) family = 4;
        else if (d === SYMBOLS.AF_INET6) family = 6;
        else throw unsupported(line, `socket domain ${d}`);
        if (family !== host.family) throw unsupported(line, `an IPv${family} socket in an IPv${host.family} run (IPv4-mapped IPv6 sockets are not supported)`);
      }
      const type = intOf(arg(1), line, 'type');
      if ((type & 0xf) !== SYMBOLS.SOCK_STREAM) throw unsupported(line, 'socket types other than SOCK_STREAM (the runner drives TCP only)');
      const proto = arg(2).kind === 'ellipsis' ? 0 : intOf(arg(2), line, 'protocol');
      if (proto !== 0 && proto !== SYMBOLS.IPPROTO_TCP) throw unsupported(line, `socket protocol ${proto}`);
      const want = ev.result.kind === 'int' && ev.result.value >= 0 ? ev.result.value : undefined;
      return now(() => {
        const sock = host.sockets.socket(family);
        const fd = want ?? firstFreeFd(host);
        host.setFd(fd, { sock, nonblocking: (type & SYMBOLS.SOCK_NONBLOCK) !== 0, connectInProgress: false });
        host.onSocket(fd);
        return ok(fd);
      });
    }
    case 'bind': {
      arity(3);
      const { e } = fdArg(0);
      if (e === undefined) return badFd();
      const { addr, port } = sockaddrOf(arg(1), line, host.localIp, host.bindPort);
      return now(() => {
        const r = e.sock.bind(addr, port);
        return r === undefined ? ok(0) : errCode(r);
      });
    }
    case 'listen': {
      arity(2);
      const { n, e } = fdArg(0);
      if (e === undefined) return badFd();
      const backlog = intOf(arg(1), line, 'backlog');
      return now(() => {
        const r = e.sock.listen(backlog);
        if (r !== undefined) return errCode(r);
        host.onListen(n, e.sock.localPort ?? 0);
        return ok(0);
      });
    }
    case 'accept':
    case 'accept4': {
      if (a.length < 3) arity(3);
      const { e } = fdArg(0);
      if (e === undefined) return badFd();
      const want = ev.result.kind === 'int' && ev.result.value >= 0 ? ev.result.value : undefined;
      return now(() => {
        const r = e.sock.accept();
        if (typeof r === 'string') {
          if (r === 'EAGAIN' && !e.nonblocking && e.sock.phase === 'listening') return 'block';
          return errCode(r);
        }
        const fd = want ?? firstFreeFd(host);
        host.setFd(fd, { sock: r, nonblocking: false, connectInProgress: false });
        host.onAccept(fd, r);
        return ok(fd);
      });
    }
    case 'connect':
      arity(3);
      return now(connectCall(host, ev));
    case 'read':
    case 'recv':
    case 'recvfrom':
    case 'readv': {
      const { e } = fdArg(0);
      let count: number;
      let flags = 0;
      if (ev.name === 'readv') {
        arity(3);
        count = iovLength(arg(1), line);
      } else {
        if (ev.name === 'read') arity(3);
        else if (ev.name === 'recv') arity(4);
        else arity(6);
        count = intOf(arg(2), line, 'count');
        if (ev.name !== 'read') flags = intOf(arg(3), line, 'flags');
      }
      if (e === undefined) return badFd();
      const known = SYMBOLS.MSG_DONTWAIT | SYMBOLS.MSG_WAITALL | SYMBOLS.MSG_NOSIGNAL;
      if (flags & ~known) throw unsupported(line, `recv flags 0x${flags.toString(16)} (MSG_PEEK, MSG_OOB, MSG_TRUNC and MSG_ERRQUEUE are not implemented)`);
      const waitAll = (flags & SYMBOLS.MSG_WAITALL) !== 0;
      const nonblocking = e.nonblocking || (flags & SYMBOLS.MSG_DONTWAIT) !== 0;
      let got = 0;
      return now(() => {
        for (;;) {
          if (got >= count && count > 0) return ok(got);
          const r = e.sock.recv(new Uint8Array(Math.max(0, count - got)));
          if (typeof r === 'number') {
            got += r;
            if (r === 0 || !waitAll || got >= count) return ok(got);
            continue;
          }
          if (r === 'EAGAIN' && !nonblocking) return 'block';
          return got > 0 ? ok(got) : errCode(r);
        }
      });
    }
    case 'write':
    case 'send':
    case 'sendto':
    case 'writev': {
      const { n: fd, e } = fdArg(0);
      let count: number;
      let flags = 0;
      if (ev.name === 'writev') {
        arity(3);
        count = iovLength(arg(1), line);
      } else {
        if (ev.name === 'write') arity(3);
        else if (ev.name === 'send') arity(4);
        else arity(6);
        count = intOf(arg(2), line, 'count');
        if (ev.name !== 'write') flags = intOf(arg(3), line, 'flags');
      }
      const fastOpen = (flags & SYMBOLS.MSG_FASTOPEN) !== 0;
      const known = SYMBOLS.MSG_DONTWAIT | SYMBOLS.MSG_NOSIGNAL | SYMBOLS.MSG_FASTOPEN;
      if (flags & ~known) throw unsupported(line, `send flags 0x${flags.toString(16)} (MSG_MORE, MSG_OOB, MSG_ZEROCOPY and MSG_EOR are not implemented)`);
      if (fastOpen && ev.name !== 'sendto') throw unsupported(line, `MSG_FASTOPEN with ${ev.name}() (only sendto() carries the address it connects to)`);
      const to = fastOpen ? sockaddrOf(arg(4), line, host.remoteIp, host.connectPort) : undefined;
      if (e === undefined) return badFd();
      const nonblocking = e.nonblocking || (flags & SYMBOLS.MSG_DONTWAIT) !== 0;
      let sent = 0;
      let fastOpenDone = false;
      return now(() => {
        // sendto(MSG_FASTOPEN) on an unconnected socket (RFC 7413 §3; Linux tcp_sendmsg_fastopen):
        // connect, and put as much of the data in the SYN as a cached cookie allows
        // (TcpSocket.sendTo). Non-blocking, the call returns what the SYN carries, or EINPROGRESS
        // when it carries nothing (no cookie yet: the SYN asks for one); blocking, it waits for
        // the handshake like connect() and then writes the rest, as tcp_sendmsg_locked goes on
        // after __inet_stream_connect returns. On a connected socket the flag changes nothing.
        if (to !== undefined && !fastOpenDone && e.sock.phase !== 'connected' && e.sock.phase !== 'closed') {
          fastOpenDone = true;
          const r = e.sock.sendTo(new Uint8Array(count), to.addr, to.port);
          if (e.sock.connection !== undefined) host.onConnect(fd, e.sock);
          if (typeof r === 'number') sent = r;
          else if (r !== 'EINPROGRESS') return errCode(r);
          if (nonblocking) return sent > 0 ? ok(sent) : errCode('EINPROGRESS');
        }
        const st = e.sock.state;
        const tcb = e.sock.connection;
        // TCP_FASTOPEN_CONNECT (Linux tcp_sendmsg_locked with DEFER_CONNECT): connect() returned
        // at once and the SYN waits for this write, which it carries as far as the cookie allows.
        if (st === 'SYN-SENT' && tcb?.fastOpen?.deferConnect === true) {
          const room = fastOpenSynRoom(host.sockets.tcp, tcb);
          const r = e.sock.send(new Uint8Array(Math.min(count, room)));
          if (typeof r !== 'number') return errCode(r);
          sent = r;
          if (nonblocking || sent >= count) return ok(sent);
          return 'block';
        }
        // Linux (tcp_sendmsg_locked -> sk_stream_wait_connect): writing before the handshake has
        // finished waits for it (EAGAIN when non-blocking), except on a passive Fast Open child,
        // which may send before the handshake completes (tcp_passive_fastopen); on a socket that
        // is not connecting or connected it fails with EPIPE.
        if (st === 'SYN-SENT' || (st === 'SYN-RECEIVED' && tcb?.fastOpen?.passive !== true)) {
          if (tcb?.error !== undefined) return errCode(e.sock.takeError() ?? 'EPIPE');
          return nonblocking ? err(11) : 'block';
        }
        if (tcb === undefined && e.sock.phase !== 'closed') return err(32);
        while (sent < count) {
          const r = e.sock.send(new Uint8Array(count - sent));
          if (typeof r === 'number') {
            sent += r;
            continue;
          }
          if (r === 'EAGAIN') {
            if (nonblocking) return sent > 0 ? ok(sent) : err(11);
            return 'block';
          }
          return sent > 0 ? ok(sent) : errCode(r);
        }
        return ok(count);
      });
    }
    case 'close': {
      arity(1);
      const { n, e } = fdArg(0);
      if (e === undefined) return badFd();
      return now(() => {
        e.sock.close();
        host.closeFd(n);
        return ok(0);
      });
    }
    case 'shutdown': {
      arity(2);
      const { e } = fdArg(0);
      if (e === undefined) return badFd();
      const how = intOf(arg(1), line, 'how');
      const mode = how === 0 ? 'read' : how === 1 ? 'write' : how === 2 ? 'both' : undefined;
      if (mode === undefined) return now(() => err(22));
      return now(() => {
        const r = e.sock.shutdown(mode);
        return r === undefined ? ok(0) : errCode(r);
      });
    }
    case 'setsockopt':
      arity(5);
      return now(setsockopt(host, ev));
    case 'getsockopt':
      arity(5);
      return now(getsockopt(host, ev));
    case 'fcntl': {
      const { e } = fdArg(0);
      if (a.length < 2) arity(2);
      const cmd = intOf(arg(1), line, 'cmd');
      if (e === undefined) return badFd();
      if (cmd === SYMBOLS.F_GETFL) {
        arity(2);
        return now(() => ok(SYMBOLS.O_RDWR | (e.nonblocking ? SYMBOLS.O_NONBLOCK : 0)));
      }
      if (cmd === SYMBOLS.F_SETFL) {
        arity(3);
        const flags = intOf(arg(2), line, 'flags');
        return now(() => {
          e.nonblocking = (flags & SYMBOLS.O_NONBLOCK) !== 0;
          return ok(0);
        });
      }
      throw unsupported(line, `fcntl command ${cmd} (only F_GETFL and F_SETFL)`);
    }
    case 'ioctl': {
      arity(3);
      const { e } = fdArg(0);
      const req = intOf(arg(1), line, 'request');
      if (e === undefined) return badFd();
      const out = arg(2);
      if (req === SYMBOLS.FIONBIO) {
        const v = intOf(out, line, 'FIONBIO value');
        return now(() => {
          e.nonblocking = v !== 0;
          return ok(0);
        });
      }
      let read: () => number;
      if (req === SYMBOLS.SIOCINQ) read = () => e.sock.readableLength;
      else if (req === SYMBOLS.SIOCOUTQ) read = () => e.sock.connection?.sndBuf.length ?? 0;
      else throw unsupported(line, `ioctl request 0x${req.toString(16)} (only SIOCINQ/FIONREAD, SIOCOUTQ and FIONBIO)`);
      return now(() => {
        if (e.sock.phase === 'listening') return err(22);
        const actual = read();
        return ok(0, () => compareOut(out, actual, line, 'ioctl value'));
      });
    }
    case 'poll':
      arity(3);
      return pollCall(host, ev);
    case 'sendmsg':
    case 'recvmsg':
    case 'epoll_create':
    case 'epoll_ctl':
    case 'epoll_wait':
    case 'sendfile':
    case 'splice':
    case 'pipe':
    case 'open':
    case 'cap_set':
      throw unsupported(line, `the ${ev.name}() system call`);
    default:
      throw unsupported(line, `unknown system call '${ev.name}'`);
  }
}

function firstFreeFd(host: SyscallHost): number {
  let n = 3;
  while (host.fd(n) !== undefined) n++;
  return n;
}

function iovLength(e: Expr, line: number): number {
  if (e.kind !== 'list') throw fail(line, 'runtime error: expected an iovec array');
  let n = 0;
  for (const it of e.items) {
    if (it.kind !== 'iovec') throw fail(line, 'runtime error: expected {..., len} iovecs');
    n += it.len;
  }
  return n;
}

/** The address of `...` (the runner's default) or a `{sa_family=..., sin_port=htons(P), sin_addr=inet_addr("A")}`. */
function sockaddrOf(e: Expr, line: number, defAddr: IpAddr, defPort: number): { addr: IpAddr; port: number } {
  if (e.kind === 'ellipsis') return { addr: defAddr, port: defPort };
  if (e.kind === 'sockaddr') {
    const a = IpAddr.parse(e.addr);
    if (!a.ok) throw fail(line, `runtime error: bad address ${JSON.stringify(e.addr)}`);
    return { addr: a.value, port: e.port };
  }
  throw unsupported(line, `socket address expression (${e.kind}); use ... or {sa_family=..., sin_port=htons(N), sin_addr=inet_addr("...")}`);
}

/** connect(2) with Linux's non-blocking semantics (inet_stream_connect). */
function connectCall(host: SyscallHost, ev: SyscallEvent): Attempt {
  const line = ev.line;
  const n = intOf(ev.args[0]!, line, 'fd');
  const e = host.fd(n);
  if (e === undefined) return () => err(9);
  const { addr, port } = sockaddrOf(ev.args[1]!, line, host.remoteIp, host.connectPort);
  let started = false;
  return () => {
    const s = e.sock;
    if (!started) {
      started = true;
      if (e.connectInProgress) {
        // A later connect() on a non-blocking socket: EALREADY while the handshake runs, 0 once
        // it is done (the first time), the pending error if it failed.
        const st = s.state;
        if (st === 'SYN-SENT' || st === 'SYN-RECEIVED') return e.nonblocking ? err(114) : 'block';
        e.connectInProgress = false;
        if (st === 'CLOSED') return errCode(s.takeError() ?? 'ECONNABORTED');
        return ok(0);
      }
      const r = s.connect(addr, port);
      if (r !== 'EINPROGRESS') return errCode(r);
      host.onConnect(n, s);
      // TCP_FASTOPEN_CONNECT with a cookie in hand (Linux __inet_stream_connect with
      // DEFER_CONNECT): connect() returns 0 at once and the SYN waits for the first write.
      if (s.connection?.fastOpen?.deferConnect === true) return ok(0);
      if (e.nonblocking) {
        e.connectInProgress = true;
        return err(115);
      }
    }
    const st = s.state;
    if (st === 'SYN-SENT' || st === 'SYN-RECEIVED') return 'block';
    e.connectInProgress = false;
    if (st === 'CLOSED') return errCode(s.takeError() ?? 'ECONNABORTED');
    return ok(0);
  };
}

/** Compares an out-parameter the script expects (`[N]`, N, or `...`) with the value the call produced. */
function compareOut(expected: Expr, actual: number, line: number, what: string): string | undefined {
  if (expected.kind === 'ellipsis') return undefined;
  const want = intOf(expected, line, what);
  return want === actual ? undefined : `Bad ${what}: expected: ${want} actual: ${actual}`;
}

type IntOption = keyof Pick<SocketOptionValues, 'keepIdle' | 'keepInterval' | 'keepCount' | 'userTimeout' | 'maxSegment' | 'synCount' | 'linger2' | 'sendBuffer' | 'receiveBuffer' | 'deferAccept' | 'fastOpen'>;
type BoolOption = keyof Pick<SocketOptionValues, 'noDelay' | 'cork' | 'keepAlive' | 'reuseAddress' | 'fastOpenConnect'>;

type OptionKind = { kind: 'bool'; key: BoolOption } | { kind: 'int'; key: IntOption } | { kind: 'linger' } | { kind: 'error' };

/** The socket-API option a (level, name) pair maps to, or why it is not supported. */
function optionFor(level: number, name: number): OptionKind | string {
  if (level === SYMBOLS.SOL_SOCKET) {
    switch (name) {
      case SYMBOLS.SO_REUSEADDR: return { kind: 'bool', key: 'reuseAddress' };
      case SYMBOLS.SO_KEEPALIVE: return { kind: 'bool', key: 'keepAlive' };
      case SYMBOLS.SO_LINGER: return { kind: 'linger' };
      case SYMBOLS.SO_ERROR: return { kind: 'error' };
      case SYMBOLS.SO_SNDBUF: return { kind: 'int', key: 'sendBuffer' };
      case SYMBOLS.SO_RCVBUF: return { kind: 'int', key: 'receiveBuffer' };
      case SYMBOLS.SO_REUSEPORT: return 'SO_REUSEPORT is not implemented';
      default: return `socket option SOL_SOCKET/${name}`;
    }
  }
  if (level === SYMBOLS.SOL_TCP) {
    switch (name) {
      case SYMBOLS.TCP_NODELAY: return { kind: 'bool', key: 'noDelay' };
      case SYMBOLS.TCP_CORK: return { kind: 'bool', key: 'cork' };
      case SYMBOLS.TCP_MAXSEG: return { kind: 'int', key: 'maxSegment' };
      case SYMBOLS.TCP_KEEPIDLE: return { kind: 'int', key: 'keepIdle' };
      case SYMBOLS.TCP_KEEPINTVL: return { kind: 'int', key: 'keepInterval' };
      case SYMBOLS.TCP_KEEPCNT: return { kind: 'int', key: 'keepCount' };
      case SYMBOLS.TCP_USER_TIMEOUT: return { kind: 'int', key: 'userTimeout' };
      case SYMBOLS.TCP_SYNCNT: return { kind: 'int', key: 'synCount' };
      case SYMBOLS.TCP_LINGER2: return { kind: 'int', key: 'linger2' };
      case SYMBOLS.TCP_DEFER_ACCEPT: return { kind: 'int', key: 'deferAccept' };
      case SYMBOLS.TCP_FASTOPEN: return { kind: 'int', key: 'fastOpen' };
      case SYMBOLS.TCP_FASTOPEN_CONNECT: return { kind: 'bool', key: 'fastOpenConnect' };
      case SYMBOLS.TCP_FASTOPEN_KEY: return 'TCP_FASTOPEN_KEY: synack has one Fast Open key per stack; set it with sysctl net.ipv4.tcp_fastopen_key';
      case SYMBOLS.TCP_FASTOPEN_NO_COOKIE: return 'TCP_FASTOPEN_NO_COOKIE is not implemented (tcp_fastopen bits 0x4 and 0x200 do it for the whole stack)';
      case SYMBOLS.TCP_INFO: return 'getsockopt(TCP_INFO) as a structure; use %{ assert tcpi_... }% blocks';
      case SYMBOLS.TCP_QUICKACK: return 'TCP_QUICKACK is not implemented';
      case SYMBOLS.TCP_CONGESTION: return 'TCP_CONGESTION: synack has one congestion control (NewReno)';
      case SYMBOLS.TCP_NOTSENT_LOWAT: return 'TCP_NOTSENT_LOWAT is not implemented';
      case SYMBOLS.TCP_WINDOW_CLAMP: return 'TCP_WINDOW_CLAMP is not implemented';
      case SYMBOLS.TCP_MD5SIG: return 'TCP_MD5SIG (RFC 2385) is not implemented';
      default: return `socket option SOL_TCP/${name}`;
    }
  }
  return `socket option level ${level}`;
}

function supportedOption(level: number, name: number, line: number, call: string): OptionKind {
  const opt = optionFor(level, name);
  if (typeof opt === 'string') throw unsupported(line, `${call}: ${opt}`);
  return opt;
}

function setsockopt(host: SyscallHost, ev: SyscallEvent): Attempt {
  const line = ev.line;
  const n = intOf(ev.args[0]!, line, 'fd');
  const e = host.fd(n);
  if (e === undefined) return () => err(9);
  const opt = supportedOption(intOf(ev.args[1]!, line, 'level'), intOf(ev.args[2]!, line, 'optname'), line, 'setsockopt');
  const val = ev.args[3]!;
  switch (opt.kind) {
    case 'error':
      return () => err(92);
    case 'linger': {
      if (val.kind !== 'linger') throw fail(line, 'runtime error: SO_LINGER needs {onoff=N, linger=M}');
      if (val.onoff !== 0 && val.linger !== 0) throw unsupported(line, 'SO_LINGER with a non-zero timeout (close() never blocks in synack)');
      return () => {
        const r = e.sock.setOption('linger', val.onoff === 0 ? undefined : 0);
        return r === undefined ? ok(0) : errCode(r);
      };
    }
    case 'bool': {
      const v = intOf(val, line, 'optval');
      return () => {
        const r = e.sock.setOption(opt.key, v !== 0);
        return r === undefined ? ok(0) : errCode(r);
      };
    }
    case 'int': {
      const v = intOf(val, line, 'optval');
      if (opt.key === 'linger2' && v < 0) throw unsupported(line, 'TCP_LINGER2 below 0');
      return () => {
        const r = e.sock.setOption(opt.key, v);
        return r === undefined ? ok(0) : errCode(r);
      };
    }
  }
}

function getsockopt(host: SyscallHost, ev: SyscallEvent): Attempt {
  const line = ev.line;
  const n = intOf(ev.args[0]!, line, 'fd');
  const e = host.fd(n);
  if (e === undefined) return () => err(9);
  const opt = supportedOption(intOf(ev.args[1]!, line, 'level'), intOf(ev.args[2]!, line, 'optname'), line, 'getsockopt');
  const out = ev.args[3]!;
  switch (opt.kind) {
    case 'error':
      return () => {
        const code = e.sock.takeError();
        const v = code === undefined ? 0 : ERRNO_OF_CODE[code];
        return ok(0, () => compareOut(out, v, line, 'getsockopt optval'));
      };
    case 'linger':
      return () => {
        const l = e.sock.getOption('linger');
        const actual = l === undefined ? { onoff: 0, linger: 0 } : { onoff: 1, linger: l };
        return ok(0, () => {
          if (out.kind === 'ellipsis') return undefined;
          if (out.kind !== 'linger') return 'Bad getsockopt optval: expected {onoff=N, linger=M}';
          return out.onoff === actual.onoff && out.linger === actual.linger
            ? undefined : `Bad getsockopt optval: expected: {onoff=${out.onoff}, linger=${out.linger}} actual: {onoff=${actual.onoff}, linger=${actual.linger}}`;
        });
      };
    case 'bool':
      return () => {
        const v = e.sock.getOption(opt.key) ? 1 : 0;
        return ok(0, () => compareOut(out, v, line, 'getsockopt optval'));
      };
    case 'int':
      return () => {
        const v = e.sock.getOption(opt.key);
        return ok(0, () => compareOut(out, v, line, 'getsockopt optval'));
      };
  }
}

const POLL = {
  IN: SYMBOLS.POLLIN, OUT: SYMBOLS.POLLOUT, ERR: SYMBOLS.POLLERR, HUP: SYMBOLS.POLLHUP, NVAL: SYMBOLS.POLLNVAL,
  RDNORM: SYMBOLS.POLLRDNORM, WRNORM: SYMBOLS.POLLWRNORM, RDHUP: SYMBOLS.POLLRDHUP,
};

/** poll(2) revents for one descriptor (Linux tcp_poll, from synack's readiness bits). */
function revents(e: FdEntry | undefined, events: number): number {
  if (e === undefined) return POLL.NVAL;
  const r = e.sock.readiness();
  let m = 0;
  if (r & (Ready.READABLE | Ready.ACCEPT)) m |= POLL.IN | POLL.RDNORM;
  if (r & Ready.WRITABLE) m |= POLL.OUT | POLL.WRNORM;
  if (r & Ready.ERROR) m |= POLL.ERR;
  if (r & Ready.HANGUP) m |= POLL.HUP;
  if (r & Ready.RDHUP) m |= POLL.RDHUP;
  return m & (events | POLL.ERR | POLL.HUP | POLL.NVAL);
}

function pollCall(host: SyscallHost, ev: SyscallEvent): StartedCall {
  const line = ev.line;
  const list = ev.args[0]!;
  if (list.kind !== 'list') throw fail(line, 'runtime error: poll needs an array of {fd=..., events=...}');
  const fds = list.items.map((it) => {
    if (it.kind !== 'pollfd') throw fail(line, 'runtime error: poll needs {fd=..., events=..., revents=...} entries');
    return { fd: intOf(it.fd, line, 'fd'), events: intOf(it.events, line, 'events'), revents: it.revents };
  });
  const nfds = intOf(ev.args[1]!, line, 'nfds');
  if (nfds !== fds.length) throw fail(line, `runtime error: poll nfds ${nfds} but ${fds.length} entries`);
  const timeoutMs = intOf(ev.args[2]!, line, 'timeout');
  let deadline: number | undefined;
  let start: number | undefined;
  const attempt: Attempt = (now) => {
    start ??= now;
    if (timeoutMs >= 0) deadline ??= start + timeoutMs * 1000;
    const got = fds.map((f) => revents(host.fd(f.fd), f.events));
    const ready = got.filter((m) => m !== 0).length;
    const blocking = timeoutMs !== 0;
    if (ready === 0 && blocking && (deadline === undefined || now < deadline)) return 'block';
    return ok(ready, () => {
      for (let i = 0; i < fds.length; i++) {
        const f = fds[i]!;
        if (f.revents.kind === 'ellipsis') continue;
        const want = intOf(f.revents, line, 'revents');
        if (want !== got[i]) return `Bad poll revents for fd ${f.fd}: expected: ${pollText(want)} actual: ${pollText(got[i]!)}`;
      }
      return undefined;
    });
  };
  return { attempt, timeoutUs: timeoutMs > 0 ? timeoutMs * 1000 : undefined };
}

/** `POLLIN|POLLOUT` for a revents mask. */
export function pollText(m: number): string {
  const names: string[] = [];
  for (const [k, v] of Object.entries(POLL)) if (m & v) names.push(`POLL${k}`);
  return names.length === 0 ? '0' : names.join('|');
}
