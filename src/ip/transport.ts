// The contract between the IP layer and transports (TCP, UDP): what a transport receives for
// each datagram and for each ICMP error about a datagram it sent, and how ICMP errors map to
// errno codes. Read first: RFC 1122 §3.2.2.1 and §4.2.3.9 (what transports do with ICMP
// errors), RFC 4443 §3 (ICMPv6 errors), RFC 5927 (ICMP attacks on TCP).
import type { IpAddr } from '../wire/ip-addr.js';
import type { Instant } from '../time/instant.js';
import { assertNever } from '../util/result.js';
import type { NetErrorCode } from './errors.js';

/**
 * What the IP layer knows about a delivered datagram. The IP layer reuses ONE object for every
 * datagram: a handler must copy any field it keeps past its `input` call (IpAddr values are
 * immutable and may be kept by reference; `packet` borrows the frame).
 */
export interface PacketInfo {
  /** The interface it arrived on. */
  ifindex: number;
  /** Source address. */
  src: IpAddr;
  /** Destination address: ours, or the broadcast/multicast group it was sent to. */
  dst: IpAddr;
  family: 4 | 6;
  /** The ECN field (RFC 3168 §5), combined over fragments. */
  ecn: number;
  /** IPv4 TTL or IPv6 Hop Limit as received. */
  ttl: number;
  /** The destination was broadcast or multicast: never answer it with RST or ICMP errors (RFC 1122 §4.2.3.10, §3.2.2). */
  multicast: boolean;
  /** The interface skips L4 checksums (in-process link known clean): do not verify. */
  checksumOffload: boolean;
  /** The IP datagram as received, header included (for a reassembled datagram, its first fragment): what an ICMP error quotes. */
  packet: Uint8Array;
  /**
   * The frame goes back to the link for reuse as soon as `inputAt` returns (`Port.release`): the
   * handler must keep no view of it, and copies what it keeps. Only ever true for `inputAt`.
   */
  frameReused: boolean;
}

/** The ICMP error kinds transports see. 'frag-needed' is ICMPv4 type 3 code 4, 'packet-too-big' ICMPv6 type 2. */
export type IcmpErrorKind = 'unreachable' | 'frag-needed' | 'packet-too-big' | 'time-exceeded' | 'param-problem';

/**
 * An ICMP error about a datagram we sent, or a local failure reported the same way. `src`,
 * `dst` and `quoted` describe the ORIGINAL datagram (src is ours). A neighbour-resolution
 * failure arrives as a local 'unreachable' with the host-unreachable code (ICMPv4 1, ICMPv6 3),
 * as Linux reports it (ipv4_link_failure sends ICMP_HOST_UNREACH to the local socket).
 */
export interface IcmpError {
  kind: IcmpErrorKind;
  /** The ICMP code (the family's numbering). */
  code: number;
  /** The path MTU for 'frag-needed' / 'packet-too-big', after clamping (RFC 1191 §3, RFC 8201 §4). */
  mtu?: number;
  family: 4 | 6;
  /** Source of the original datagram (ours). */
  src: IpAddr;
  /** Destination of the original datagram. */
  dst: IpAddr;
  /** The quoted transport header bytes (at least 8 when from the network; RFC 792 guarantees 8). */
  quoted: Uint8Array;
  /** Who sent the ICMP message; undefined for a local report. */
  from: IpAddr | undefined;
  /** True when generated locally (neighbour resolution failed), not received. */
  local: boolean;
}

/** A transport protocol plugged into the IP layer by protocol number. */
export interface TransportHandler {
  /** A datagram for this protocol arrived; `pkt` is reused after return (copy what you keep). */
  input(pkt: Readonly<PacketInfo>, payload: Uint8Array, now: Instant): void;
  /**
   * The same as `input` with the payload given in place, as `buf[off, off + len)` (the frame as
   * received), so the IP layer makes no view for it. When present, the IP layer calls this
   * instead of `input`; a handler that keeps payload bytes makes its own view of them, unless
   * `pkt.frameReused` says the frame is about to be reused: then it copies them.
   */
  inputAt?(pkt: Readonly<PacketInfo>, buf: Uint8Array, off: number, len: number, now: Instant): void;
  /** An ICMP error (or local failure) about a datagram this protocol sent. */
  icmpError?(err: IcmpError, now: Instant): void;
}

// Linux icmp_err_convert[] (net/ipv4/icmp.c) for Destination Unreachable codes 0-15.
const UNREACH4: readonly NetErrorCode[] = [
  'ENETUNREACH', 'EHOSTUNREACH', 'ENOPROTOOPT', 'ECONNREFUSED', 'EMSGSIZE', 'EOPNOTSUPP', 'ENETUNREACH', 'EHOSTDOWN',
  'ENONET', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTUNREACH', 'EHOSTUNREACH', 'EHOSTUNREACH', 'EHOSTUNREACH',
];
// Linux tab_unreach[] (net/ipv6/icmp.c icmpv6_err_convert) for codes 0-6.
const UNREACH6: readonly NetErrorCode[] = ['ENETUNREACH', 'EACCES', 'EHOSTUNREACH', 'EHOSTUNREACH', 'ECONNREFUSED', 'EACCES', 'EACCES'];

/** The errno a socket reports for an ICMP error, as Linux's icmp_err_convert / icmpv6_err_convert. */
export function icmpErrno(e: Pick<IcmpError, 'kind' | 'code' | 'family'>): NetErrorCode {
  switch (e.kind) {
    case 'unreachable':
      return (e.family === 4 ? UNREACH4[e.code] : UNREACH6[e.code]) ?? 'EHOSTUNREACH';
    case 'frag-needed':
    case 'packet-too-big':
      return 'EMSGSIZE';
    case 'time-exceeded':
      return 'EHOSTUNREACH';
    case 'param-problem':
      return 'EPROTO';
    default:
      return assertNever(e.kind, 'ICMP error kind');
  }
}

/** Whether an ICMP error is "hard" for a connected socket (RFC 1122 §4.2.3.9: port/protocol unreachable; Linux also treats frag-needed as not hard). */
export function icmpIsHard(e: Pick<IcmpError, 'kind' | 'code' | 'family'>): boolean {
  if (e.kind !== 'unreachable') return e.kind === 'param-problem';
  return e.family === 4 ? e.code === 2 || e.code === 3 : e.code === 1 || e.code === 4;
}
