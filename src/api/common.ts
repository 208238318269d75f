// Pieces shared by the application APIs (net.ts for Node, streams.ts for browsers and workers):
// IP literal validation as Node's net.isIP does it, and errors in Node's shapes (code, errno,
// syscall, address, port; messages such as `connect ECONNREFUSED 10.0.0.2:80`). Browser-safe:
// no Node built-ins.
import { ERRNO, ERROR_TEXT, type SocketErrorCode } from '../tcp/errors.js';

// ---------------------------------------------------------------------------------------------
// Errors, in Node's shapes.

/** Error codes the APIs report: the TCP layer's and a few more libuv names. */
export type NetErrorCode = SocketErrorCode | 'ECANCELED' | 'ENOTFOUND';

const EXTRA_ERRNO: Record<'ECANCELED' | 'ENOTFOUND', number> = { ECANCELED: 125, ENOTFOUND: 3008 };
const EXTRA_TEXT: Record<'ECANCELED' | 'ENOTFOUND', string> = { ECANCELED: 'operation canceled', ENOTFOUND: 'unknown node or service' };

/** The negated errno Node reports for a code. */
export function errnoOf(code: NetErrorCode): number {
  return code === 'ECANCELED' || code === 'ENOTFOUND' ? -EXTRA_ERRNO[code] : -ERRNO[code];
}
/** libuv's text for a code (`connection refused`). */
export function textOf(code: NetErrorCode): string {
  return code === 'ECANCELED' || code === 'ENOTFOUND' ? EXTRA_TEXT[code] : ERROR_TEXT[code];
}

/** A system error as Node's ErrnoException builds it: `read ECONNRESET`. */
export function errnoException(code: NetErrorCode, syscall: string): Error {
  const e = new Error(`${syscall} ${code}`) as Error & Record<string, unknown>;
  e['errno'] = errnoOf(code);
  e['code'] = code;
  e['syscall'] = syscall;
  return e;
}

/** As Node's ExceptionWithHostPort: `connect ECONNREFUSED 10.0.0.2:80`. */
export function exceptionWithHostPort(code: NetErrorCode, syscall: string, address: string, port: number, additional?: string): Error {
  let details = port > 0 ? ` ${address}:${port}` : address !== '' ? ` ${address}` : '';
  if (additional !== undefined) details += ` - Local (${additional})`;
  const e = new Error(`${syscall} ${code}${details}`) as Error & Record<string, unknown>;
  e['errno'] = errnoOf(code);
  e['code'] = code;
  e['syscall'] = syscall;
  e['address'] = address;
  if (port) e['port'] = port;
  return e;
}

/** As Node's UVExceptionWithHostPort: `listen EADDRINUSE: address already in use 10.0.0.2:80`. */
export function uvExceptionWithHostPort(code: NetErrorCode, syscall: string, address: string, port: number): Error {
  const details = port > 0 ? ` ${address}:${port}` : address !== '' ? ` ${address}` : '';
  const e = new Error(`${syscall} ${code}: ${textOf(code)}${details}`) as Error & Record<string, unknown>;
  e['code'] = code;
  e['errno'] = errnoOf(code);
  e['syscall'] = syscall;
  e['address'] = address;
  if (port) e['port'] = port;
  return e;
}

/** A Node `ERR_*` error: an instance of the base class with a `code`. */
export function nodeError(code: string, message: string, Base: ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor = Error): Error {
  const e = new Base(message) as Error & { code?: string };
  e.code = code;
  return e;
}

/** How Node describes a value in ERR_INVALID_ARG_TYPE / ERR_SOCKET_BAD_PORT messages. */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'function') return `function ${v.name}`;
  if (typeof v === 'object') return `an instance of ${(v as { constructor?: { name?: string } }).constructor?.name ?? 'Object'}`;
  let shown = typeof v === 'string' ? `'${v.length > 28 ? `${v.slice(0, 25)}...` : v}'` : String(v);
  if (typeof v === 'bigint') shown += 'n';
  return `type ${typeof v} (${shown})`;
}

/** Node's validatePort: a number or numeric string in [0, 65535] (or (0, 65535] without zero). */
export function validatePort(port: unknown, name = 'Port', allowZero = true): number {
  const bad =
    (typeof port !== 'number' && typeof port !== 'string') ||
    (typeof port === 'string' && port.trim().length === 0) ||
    +port !== +port >>> 0 ||
    +port > 0xffff ||
    (+port === 0 && !allowZero);
  if (bad) throw nodeError('ERR_SOCKET_BAD_PORT', `${name} should be ${allowZero ? '>=' : '>'} 0 and < 65536. Received ${describe(port)}.`, RangeError);
  return +port | 0;
}

export function validateNumberArg(v: unknown, name: string): void {
  if (typeof v !== 'number') throw nodeError('ERR_INVALID_ARG_TYPE', `The "${name}" argument must be of type number. Received ${describe(v)}`, TypeError);
}

/** Node's getTimerDuration for socket.setTimeout. */
export function timerDuration(msecs: unknown, name: string): number {
  validateNumberArg(msecs, name);
  const n = msecs as number;
  if (n < 0 || !Number.isFinite(n)) {
    throw nodeError('ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be a non-negative finite number. Received ${String(n)}`, RangeError);
  }
  // Like Node, durations beyond the 32-bit timer range become 1 ms (Node also prints a warning).
  return n > 0x7fffffff ? 1 : n;
}

// ---------------------------------------------------------------------------------------------
// Addresses.

const V4_PART = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)$/;

/** Whether `s` is a dotted-quad IPv4 address (no leading zeros), as node:net.isIPv4. */
export function isIPv4(s: unknown): boolean {
  if (typeof s !== 'string') return false;
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => V4_PART.test(p));
}

/** Whether `s` is an IPv6 address (with an optional `%zone` and trailing dotted quad), as node:net.isIPv6. */
export function isIPv6(s: unknown): boolean {
  if (typeof s !== 'string') return false;
  let text = s;
  const pct = text.indexOf('%');
  if (pct >= 0) {
    if (!/^[0-9a-zA-Z\-.:]+$/.test(text.slice(pct + 1))) return false;
    text = text.slice(0, pct);
  }
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = (h: string): string[] | undefined => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === undefined || tail === undefined) return false;
  const all = [...head, ...tail];
  let words = 0;
  for (let i = 0; i < all.length; i++) {
    const g = all[i]!;
    if (i === all.length - 1 && isIPv4(g)) {
      words += 2;
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return false;
    words++;
  }
  return halves.length === 2 ? words <= 7 : words === 8;
}

/** 4 or 6 when `s` is an IP address, else 0, as node:net.isIP. */
export function isIP(s: unknown): 0 | 4 | 6 {
  if (isIPv4(s)) return 4;
  if (isIPv6(s)) return 6;
  return 0;
}

