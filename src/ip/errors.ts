// Socket-level errors of the IP layer and UDP, carrying Node's error codes so the `net`/`dgram`
// style APIs can pass them through unchanged. No RFC; the codes are POSIX errno names.
import type { IpAddr } from '../wire/ip-addr.js';

/** The errno names the IP layer and UDP produce. */
export type NetErrorCode =
  | 'EADDRINUSE'
  | 'EADDRNOTAVAIL'
  | 'EHOSTUNREACH'
  | 'ENETUNREACH'
  | 'ECONNREFUSED'
  | 'EMSGSIZE'
  | 'EPROTO'
  | 'ENOBUFS'
  | 'EINVAL'
  | 'ENOPROTOOPT'
  | 'EOPNOTSUPP'
  | 'EHOSTDOWN'
  | 'ENONET'
  | 'EACCES';

const MESSAGES: Record<NetErrorCode, string> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  ECONNREFUSED: 'connection refused',
  EMSGSIZE: 'message too long',
  EPROTO: 'protocol error',
  ENOBUFS: 'no buffer space available',
  EINVAL: 'invalid argument',
  ENOPROTOOPT: 'protocol not available',
  EOPNOTSUPP: 'operation not supported',
  EHOSTDOWN: 'host is down',
  ENONET: 'machine is not on the network',
  EACCES: 'permission denied',
};

/** An error with a Node-style `code`, `syscall` and, where known, `address` and `port`: `bind EADDRINUSE 0.0.0.0:53`. */
export class NetError extends Error {
  /** The errno name, e.g. `EADDRINUSE`. */
  readonly code: NetErrorCode;
  /** The operation that failed, e.g. `bind`, `send`. */
  readonly syscall: string;
  /** The address involved, as text. */
  readonly address: string | undefined;
  /** The port involved. */
  readonly port: number | undefined;

  constructor(code: NetErrorCode, syscall: string, address?: IpAddr, port?: number) {
    const where = address === undefined ? '' : ` ${address.family === 6 ? `[${address.toString()}]` : address.toString()}${port === undefined ? '' : `:${port}`}`;
    super(`${syscall} ${code}: ${MESSAGES[code]}${where}`);
    this.name = 'NetError';
    this.code = code;
    this.syscall = syscall;
    this.address = address?.toString();
    this.port = port;
  }
}
