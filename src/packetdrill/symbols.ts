// Linux's numbers for the names scripts use (packetdrill's symbols_linux.c): socket constants,
// option names, flags, and errno values. Scripts are written against Linux, so the runner speaks
// Linux's numbers and maps them onto synack's socket API.
import type { SocketErrorCode } from '../tcp/errors.js';

/** Named integer constants (socket families, levels, option names, flags). */
export const SYMBOLS = {
  AF_INET: 2, AF_INET6: 10, AF_UNSPEC: 0, PF_INET: 2, PF_INET6: 10,
  SOCK_STREAM: 1, SOCK_DGRAM: 2, SOCK_RAW: 3, SOCK_NONBLOCK: 0o4000, SOCK_CLOEXEC: 0o2000000,
  IPPROTO_IP: 0, IPPROTO_TCP: 6, IPPROTO_UDP: 17, IPPROTO_IPV6: 41, IPPROTO_ICMP: 1,
  SOL_SOCKET: 1, SOL_TCP: 6, SOL_IP: 0, SOL_IPV6: 41,
  SO_DEBUG: 1, SO_REUSEADDR: 2, SO_TYPE: 3, SO_ERROR: 4, SO_DONTROUTE: 5, SO_BROADCAST: 6,
  SO_SNDBUF: 7, SO_RCVBUF: 8, SO_KEEPALIVE: 9, SO_OOBINLINE: 10, SO_LINGER: 13, SO_REUSEPORT: 15,
  SO_RCVLOWAT: 18, SO_SNDLOWAT: 19, SO_RCVTIMEO: 20, SO_SNDTIMEO: 21, SO_ZEROCOPY: 60,
  TCP_NODELAY: 1, TCP_MAXSEG: 2, TCP_CORK: 3, TCP_KEEPIDLE: 4, TCP_KEEPINTVL: 5, TCP_KEEPCNT: 6,
  TCP_SYNCNT: 7, TCP_LINGER2: 8, TCP_DEFER_ACCEPT: 9, TCP_WINDOW_CLAMP: 10, TCP_INFO: 11,
  TCP_QUICKACK: 12, TCP_CONGESTION: 13, TCP_MD5SIG: 14, TCP_THIN_LINEAR_TIMEOUTS: 16,
  TCP_THIN_DUPACK: 17, TCP_USER_TIMEOUT: 18, TCP_REPAIR: 19, TCP_FASTOPEN: 23, TCP_TIMESTAMP: 24,
  TCP_NOTSENT_LOWAT: 25, TCP_CC_INFO: 26, TCP_SAVE_SYN: 27, TCP_SAVED_SYN: 28,
  TCP_FASTOPEN_CONNECT: 30, TCP_ULP: 31, TCP_FASTOPEN_KEY: 33, TCP_FASTOPEN_NO_COOKIE: 34,
  TCP_ZEROCOPY_RECEIVE: 35, TCP_INQ: 36, TCP_TX_DELAY: 37,
  SHUT_RD: 0, SHUT_WR: 1, SHUT_RDWR: 2,
  F_GETFL: 3, F_SETFL: 4, F_GETFD: 1, F_SETFD: 2,
  O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_NONBLOCK: 0o4000, O_NDELAY: 0o4000,
  SIOCINQ: 0x541b, FIONREAD: 0x541b, SIOCOUTQ: 0x5411, TIOCOUTQ: 0x5411, SIOCOUTQNSD: 0x894b, FIONBIO: 0x5421,
  POLLIN: 0x1, POLLPRI: 0x2, POLLOUT: 0x4, POLLERR: 0x8, POLLHUP: 0x10, POLLNVAL: 0x20,
  POLLRDNORM: 0x40, POLLRDBAND: 0x80, POLLWRNORM: 0x100, POLLWRBAND: 0x200, POLLMSG: 0x400, POLLRDHUP: 0x2000,
  MSG_OOB: 0x1, MSG_PEEK: 0x2, MSG_DONTROUTE: 0x4, MSG_TRUNC: 0x20, MSG_DONTWAIT: 0x40, MSG_EOR: 0x80,
  MSG_WAITALL: 0x100, MSG_NOSIGNAL: 0x4000, MSG_MORE: 0x8000, MSG_ERRQUEUE: 0x2000,
  MSG_ZEROCOPY: 0x4000000, MSG_FASTOPEN: 0x20000000,
  INADDR_ANY: 0,
} as const;

/** The value of a named constant, if the runner knows it. */
export function symbolValue(name: string): number | undefined {
  return (SYMBOLS as Readonly<Record<string, number>>)[name];
}

/** Linux errno values by name (asm-generic/errno.h), including the aliases scripts use. */
export const ERRNO_BY_NAME: Readonly<Record<string, number>> = {
  EPERM: 1, ENOENT: 2, EINTR: 4, EIO: 5, EBADF: 9, EAGAIN: 11, EWOULDBLOCK: 11, ENOMEM: 12,
  EACCES: 13, EFAULT: 14, EBUSY: 16, EEXIST: 17, EINVAL: 22, ENFILE: 23, EMFILE: 24, ENOSPC: 28,
  EPIPE: 32, ERANGE: 34, ENOTSOCK: 88, EDESTADDRREQ: 89, EMSGSIZE: 90, EPROTOTYPE: 91,
  ENOPROTOOPT: 92, EPROTONOSUPPORT: 93, EOPNOTSUPP: 95, ENOTSUP: 95, EAFNOSUPPORT: 97,
  EADDRINUSE: 98, EADDRNOTAVAIL: 99, ENETDOWN: 100, ENETUNREACH: 101, ENETRESET: 102,
  ECONNABORTED: 103, ECONNRESET: 104, ENOBUFS: 105, EISCONN: 106, ENOTCONN: 107,
  ETIMEDOUT: 110, ECONNREFUSED: 111, EHOSTDOWN: 112, EHOSTUNREACH: 113, EALREADY: 114,
  EINPROGRESS: 115, EPROTO: 71,
};

/** strerror() for the errno values above. */
const STRERROR: Readonly<Record<number, string>> = {
  0: 'Success', 1: 'Operation not permitted', 9: 'Bad file descriptor', 11: 'Resource temporarily unavailable',
  13: 'Permission denied', 22: 'Invalid argument', 32: 'Broken pipe', 71: 'Protocol error', 90: 'Message too long',
  92: 'Protocol not available', 95: 'Operation not supported', 98: 'Address already in use',
  99: 'Cannot assign requested address', 101: 'Network is unreachable', 103: 'Software caused connection abort',
  104: 'Connection reset by peer', 106: 'Transport endpoint is already connected',
  107: 'Transport endpoint is not connected', 110: 'Connection timed out', 111: 'Connection refused',
  113: 'No route to host', 114: 'Operation already in progress', 115: 'Operation now in progress',
};

/** Linux errno numbers for synack's socket error codes. */
export const ERRNO_OF_CODE: Readonly<Record<SocketErrorCode, number>> = {
  ECONNREFUSED: 111, ECONNRESET: 104, ECONNABORTED: 103, ETIMEDOUT: 110, EPIPE: 32, EADDRINUSE: 98,
  EADDRNOTAVAIL: 99, EAGAIN: 11, EINPROGRESS: 115, EALREADY: 114, EISCONN: 106, ENOTCONN: 107,
  EINVAL: 22, EHOSTUNREACH: 113, ENETUNREACH: 101, EMSGSIZE: 90, EBADF: 9, EOPNOTSUPP: 95,
  ENOPROTOOPT: 92, EPROTO: 71, EACCES: 13,
};

/** The name scripts usually write for an errno number. */
export function errnoName(n: number): string {
  if (n === 0) return '0';
  for (const [k, v] of Object.entries(ERRNO_BY_NAME)) if (v === n) return k;
  return String(n);
}

/** `strerror(n)`. */
export function strerror(n: number): string {
  return STRERROR[n] ?? `Unknown error ${n}`;
}
