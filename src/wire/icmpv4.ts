// ICMP for IPv4: the messages a host sends and acts on. Read first: RFC 792 (formats), RFC 1122
// §3.2.2 (what a host must do with each), RFC 1191 §4 (the next-hop MTU in "fragmentation
// needed"), RFC 1812 §4.3.2.3 (how much of the original datagram is quoted), RFC 5927 and
// RFC 6633 (how TCP should treat ICMP errors; source quench is obsolete and unsupported here).
import { type Result, ok, err, assertNever } from '../util/result.js';
import { finish, onesSum } from './checksum.js';
import type { WireError } from './error.js';
import { getU16, placeAt, setU16, setU32 } from './net-order.js';

/** Bytes before the data or quoted datagram: type, code, checksum and one 32-bit field. */
export const ICMPV4_HEADER_LEN = 8;

/** Destination Unreachable codes (RFC 792; RFC 1122 §3.2.2.1; RFC 1812 §5.2.7.1 for 13). */
export const Icmpv4UnreachableCode = {
  Net: 0,
  Host: 1,
  Protocol: 2,
  Port: 3,
  /** "Fragmentation needed and DF set": carries the next-hop MTU (RFC 1191 §4). */
  FragmentationNeeded: 4,
  SourceRouteFailed: 5,
  AdminProhibited: 13,
} as const;

/** Time Exceeded codes (RFC 792). */
export const Icmpv4TimeExceededCode = {
  TtlExceeded: 0,
  ReassemblyTimeExceeded: 1,
} as const;

const TYPE_ECHO_REPLY = 0;
const TYPE_DEST_UNREACHABLE = 3;
const TYPE_ECHO_REQUEST = 8;
const TYPE_TIME_EXCEEDED = 11;
const TYPE_PARAMETER_PROBLEM = 12;

/** An Echo or Echo Reply message (RFC 792), e.g. ping. */
export interface Icmpv4Echo {
  type: 'echo-request' | 'echo-reply';
  /** The Identifier field: matches replies to requests. */
  id: number;
  /** The Sequence Number field. */
  seq: number;
  /** The echoed data; when parsed, a subarray of the input. */
  data: Uint8Array;
}

/** A Destination Unreachable message (RFC 792). */
export interface Icmpv4DestinationUnreachable {
  type: 'destination-unreachable';
  /** See `Icmpv4UnreachableCode`. */
  code: number;
  /**
   * The next-hop MTU for code 4 (RFC 1191 §4: "the low-order 16 bits of the ICMP header field
   * that is labelled 'unused'"); 0 when a pre-RFC 1191 router sent none, and 0 for every other code.
   */
  nextHopMtu: number;
  /** The original IP header and at least the first 8 data bytes; when parsed, a subarray of the input. */
  quoted: Uint8Array;
}

/** A Time Exceeded message (RFC 792). */
export interface Icmpv4TimeExceeded {
  type: 'time-exceeded';
  /** See `Icmpv4TimeExceededCode`. */
  code: number;
  /** The original IP header and at least the first 8 data bytes. */
  quoted: Uint8Array;
}

/** A Parameter Problem message (RFC 792; code 1 "missing a required option", RFC 1122 §3.2.2.5). */
export interface Icmpv4ParameterProblem {
  type: 'parameter-problem';
  code: number;
  /** The octet of the quoted datagram where the problem was found (code 0). */
  pointer: number;
  /** The original IP header and at least the first 8 data bytes. */
  quoted: Uint8Array;
}

/** An ICMPv4 message as values, by type. Other types (redirect, timestamp, source quench, ...) parse as 'unsupported'. */
export type Icmpv4Repr = Icmpv4Echo | Icmpv4DestinationUnreachable | Icmpv4TimeExceeded | Icmpv4ParameterProblem;

/** Bytes `emitIcmpv4` writes for `repr`: the 8-byte header plus the data or quoted bytes. */
export function icmpv4Length(repr: Icmpv4Repr): number {
  return ICMPV4_HEADER_LEN + ('data' in repr ? repr.data : repr.quoted).length;
}

/**
 * Parses an ICMPv4 message: `bytes` is the whole IP payload, which the checksum covers (RFC
 * 792: "the 16-bit one's complement of the one's complement sum of the ICMP message starting
 * with the ICMP Type"). Data and quoted datagrams are subarrays of the input.
 * Pass `verifyChecksum = false` only for links known to deliver intact frames (offload).
 */
export function parseIcmpv4(bytes: Uint8Array, verifyChecksum = true): Result<Icmpv4Repr, WireError> {
  if (bytes.length < ICMPV4_HEADER_LEN) return err('truncated');
  if (verifyChecksum && finish(onesSum(bytes)) !== 0) return err('bad-checksum');
  const type = bytes[0]!;
  const code = bytes[1]!;
  const rest = bytes.subarray(ICMPV4_HEADER_LEN);
  switch (type) {
    case TYPE_ECHO_REQUEST:
    case TYPE_ECHO_REPLY:
      // The code is 0 in both (RFC 792); as Linux does, other codes are not rejected.
      return ok({
        type: type === TYPE_ECHO_REQUEST ? 'echo-request' : 'echo-reply',
        id: getU16(bytes, 4),
        seq: getU16(bytes, 6),
        data: rest,
      });
    case TYPE_DEST_UNREACHABLE:
      return ok({
        type: 'destination-unreachable',
        code,
        nextHopMtu: code === Icmpv4UnreachableCode.FragmentationNeeded ? getU16(bytes, 6) : 0,
        quoted: rest,
      });
    case TYPE_TIME_EXCEEDED:
      return ok({ type: 'time-exceeded', code, quoted: rest });
    case TYPE_PARAMETER_PROBLEM:
      return ok({ type: 'parameter-problem', code, pointer: bytes[4]!, quoted: rest });
    default:
      return err('unsupported');
  }
}

/**
 * Writes the message (`icmpv4Length(repr)` bytes) at the start of `out`, checksum included;
 * allocates nothing. The data or quoted bytes are copied to `out[8..]` unless they are already
 * there (a subarray of `out`'s buffer at that very position), in which case they are only summed.
 */
export function emitIcmpv4(repr: Icmpv4Repr, out: Uint8Array): void {
  let body: Uint8Array;
  switch (repr.type) {
    case 'echo-request':
    case 'echo-reply':
      out[0] = repr.type === 'echo-request' ? TYPE_ECHO_REQUEST : TYPE_ECHO_REPLY;
      out[1] = 0;
      setU16(out, 4, repr.id);
      setU16(out, 6, repr.seq);
      body = repr.data;
      break;
    case 'destination-unreachable':
      out[0] = TYPE_DEST_UNREACHABLE;
      out[1] = repr.code;
      // RFC 1191 §4: "The high-order 16 bits remain unused, and MUST be set to zero."
      setU32(out, 4, repr.code === Icmpv4UnreachableCode.FragmentationNeeded ? repr.nextHopMtu & 0xffff : 0);
      body = repr.quoted;
      break;
    case 'time-exceeded':
      out[0] = TYPE_TIME_EXCEEDED;
      out[1] = repr.code;
      setU32(out, 4, 0);
      body = repr.quoted;
      break;
    case 'parameter-problem':
      out[0] = TYPE_PARAMETER_PROBLEM;
      out[1] = repr.code;
      setU32(out, 4, (repr.pointer & 0xff) << 24);
      body = repr.quoted;
      break;
    default:
      return assertNever(repr, 'ICMPv4 message');
  }
  placeAt(out, ICMPV4_HEADER_LEN, body);
  const len = ICMPV4_HEADER_LEN + body.length;
  setU16(out, 2, 0);
  setU16(out, 2, finish(onesSum(len === out.length ? out : out.subarray(0, len))));
}
