// Socket error codes, as Node and POSIX name them, so higher APIs can be drop-ins for node:net.

/** An error a socket operation can report. */
export type SocketErrorCode =
  | 'ECONNREFUSED'
  | 'ECONNRESET'
  | 'ECONNABORTED'
  | 'ETIMEDOUT'
  | 'EPIPE'
  | 'EADDRINUSE'
  | 'EADDRNOTAVAIL'
  | 'EAGAIN'
  | 'EINPROGRESS'
  | 'EALREADY'
  | 'EISCONN'
  | 'ENOTCONN'
  | 'EINVAL'
  | 'EHOSTUNREACH'
  | 'ENETUNREACH'
  | 'EMSGSIZE'
  | 'EBADF'
  | 'EOPNOTSUPP'
  | 'ENOPROTOOPT'
  | 'EPROTO'
  | 'EACCES';

/** Linux errno values, as Node reports them (negated) in `err.errno`. */
export const ERRNO: Record<SocketErrorCode, number> = {
  ECONNREFUSED: 111,
  ECONNRESET: 104,
  ECONNABORTED: 103,
  ETIMEDOUT: 110,
  EPIPE: 32,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  EAGAIN: 11,
  EINPROGRESS: 115,
  EALREADY: 114,
  EISCONN: 106,
  ENOTCONN: 107,
  EINVAL: 22,
  EHOSTUNREACH: 113,
  ENETUNREACH: 101,
  EMSGSIZE: 90,
  EBADF: 9,
  EOPNOTSUPP: 95,
  ENOPROTOOPT: 92,
  EPROTO: 71,
  EACCES: 13,
};

/** strerror() text for each code, as libuv prints it. */
export const ERROR_TEXT: Record<SocketErrorCode, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  ECONNABORTED: 'software caused connection abort',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'broken pipe',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available',
  EAGAIN: 'resource temporarily unavailable',
  EINPROGRESS: 'operation in progress',
  EALREADY: 'connection already in progress',
  EISCONN: 'socket is already connected',
  ENOTCONN: 'socket is not connected',
  EINVAL: 'invalid argument',
  EHOSTUNREACH: 'host is unreachable',
  ENETUNREACH: 'network is unreachable',
  EMSGSIZE: 'message too long',
  EBADF: 'bad file descriptor',
  EOPNOTSUPP: 'operation not supported on socket',
  ENOPROTOOPT: 'protocol not available',
  EPROTO: 'protocol error',
  EACCES: 'permission denied',
};

/** An error from a socket operation, carrying a POSIX/Node code. */
export class SocketError extends Error {
  readonly errno: number;
  constructor(readonly code: SocketErrorCode, readonly syscall: string, detail?: string) {
    super(`${syscall} ${code}${detail !== undefined ? ` ${detail}` : ''}`);
    this.name = 'SocketError';
    this.errno = -ERRNO[code];
  }
}
