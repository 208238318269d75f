// The TCP header (RFC 9293 §3.1): parsing a received segment into a `TcpRepr` (validated once,
// checksum verified, options parsed) and emitting a `TcpRepr` into caller-owned bytes. Options
// are parsed and laid out in tcp-options.ts and re-exported from here.
// Read first: RFC 9293 §3.1 (header format, checksum, pseudo-header) and §3.4 (SEG.LEN),
// RFC 8200 §8.1 (IPv6 pseudo-header), RFC 3168 §6.1 (ECE, CWR); for options RFC 9293 §3.2,
// RFC 7323, RFC 2018, RFC 2883, RFC 7413, RFC 6994.
import type { Seq } from '../tcp/seq.js';
import type { IpAddr } from './ip-addr.js';
import { type Err, type Result, err, ok } from '../util/result.js';
import { finish, fold, onesSum, onesSumRange, pseudoHeaderSum } from './checksum.js';
import type { WireError } from './error.js';
import { getU16, getU32, placeAt, setU16, setU32 } from './net-order.js';
import { type TcpOptionScratch, emitTcpOptions, emptyTcpOptions, parseTcpOptions, resetTcpOptions, tcpOptionsLength } from './tcp-options.js';

export {
  TCP_MAX_OPTIONS,
  TCP_MAX_SACK_BLOCKS,
  TFO_COOKIE_MAX,
  TFO_COOKIE_MIN,
  TFO_EXPERIMENTAL_MAGIC,
  TcpOptionKind,
  TcpOptionScratch,
  emitTcpOptions,
  emittedSackBlocks,
  emptyTcpOptions,
  maxSackBlocks,
  parseTcpOptions,
  resetTcpOptions,
  tcpOptionsLength,
} from './tcp-options.js';

/** TCP control bits (RFC 9293 §3.1, RFC 3168 §6.1 for ECE/CWR). */
export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/** A SACK block (RFC 2018 §3): [left, right) in sequence space. */
export interface SackBlock {
  left: Seq;
  right: Seq;
}

/** The timestamps option (RFC 7323 §3.2). */
export interface TcpTimestamp {
  tsval: number;
  tsecr: number;
}

/** Parsed or to-be-emitted TCP options. Absent fields are undefined. */
export interface TcpOptions {
  /** Maximum segment size (kind 2), SYN only. */
  mss?: number | undefined;
  /** Window scale shift (kind 3), SYN only; values > 14 are kept as received (the TCP layer clamps, RFC 7323 §2.3). */
  wscale?: number | undefined;
  /** SACK-permitted (kind 4), SYN only. */
  sackPermitted?: boolean | undefined;
  /** SACK blocks (kind 5), at most 4. */
  sack?: SackBlock[] | undefined;
  /** Timestamps (kind 8). */
  timestamp?: TcpTimestamp | undefined;
  /** TCP Fast Open cookie (kind 34, RFC 7413 §4.1.1); an empty array is a cookie request. */
  fastOpen?: Uint8Array | undefined;
  /** The TFO option arrived (or is to be sent) in the experimental form: kind 254, magic 0xF989. */
  fastOpenExperimental?: boolean | undefined;
}

/** A TCP segment as values. `payload` borrows the frame's bytes when parsed. */
export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  seq: Seq;
  ack: Seq;
  /** Bitwise OR of `TcpFlag` values. */
  flags: number;
  /** The raw 16-bit window field (unscaled). */
  window: number;
  urgent: number;
  options: TcpOptions;
  payload: Uint8Array;
}

/** Addresses for the checksum pseudo-header (RFC 9293 §3.1, RFC 8200 §8.1). */
export interface PseudoHeader {
  src: IpAddr;
  dst: IpAddr;
}

/** The fixed part of the header: a data offset of 5 words (RFC 9293 §3.1). */
export const TCP_MIN_HEADER = 20;

/** IP protocol number of TCP, for the pseudo-header (RFC 9293 §3.1, RFC 8200 §8.1). */
const PROTO_TCP = 6;

// Failures are shared constants so rejecting a segment allocates nothing.
const TRUNCATED: Err<WireError> = err('truncated');
const BAD_DATA_OFFSET: Err<WireError> = err('bad-data-offset');
const BAD_CHECKSUM: Err<WireError> = err('bad-checksum');
const BAD_OPTION: Err<WireError> = err('bad-option');

/**
 * Parses and validates a TCP segment (`bytes` is exactly the segment: the IP payload).
 *
 * Checks, in order: at least 20 bytes ('truncated'); data offset >= 5 and within `bytes`
 * ('bad-data-offset'); the checksum over pseudo-header + segment when `pseudo` is given
 * ('bad-checksum'; undefined means the link offloads it, as Linux loopback does); the option
 * list ('bad-option', see `parseTcpOptions`). Never throws.
 *
 * When `out` is given it is filled and returned (its options are reset first), so the stack can
 * parse without a fresh repr per segment; on failure its contents are unspecified. `payload` is a
 * subarray of `bytes` (zero copy); SACK blocks and the Fast Open cookie are copied out. Beyond
 * those and the `ok` wrapper, a parse into `out` allocates nothing.
 */
export function parseTcp(bytes: Uint8Array, pseudo: PseudoHeader | undefined, out?: TcpRepr): Result<TcpRepr, WireError> {
  const n = bytes.length;
  if (n < TCP_MIN_HEADER) return TRUNCATED;
  const hlen = (bytes[12]! >>> 4) << 2;
  if (hlen < TCP_MIN_HEADER || hlen > n) return BAD_DATA_OFFSET;
  if (pseudo !== undefined) {
    // RFC 9293 §3.1: the checksum is "the 16-bit ones' complement of the ones' complement sum of
    // all 16-bit words in the header and text", with the pseudo-header prefixed. Summing the
    // received checksum field too, a correct segment folds to 0xffff.
    const sum = onesSum(bytes, pseudoHeaderSum(pseudo.src, pseudo.dst, PROTO_TCP, n));
    if (fold(sum) !== 0xffff) return BAD_CHECKSUM;
  }
  let r: TcpRepr;
  if (out === undefined) {
    r = {
      srcPort: 0,
      dstPort: 0,
      seq: 0 as Seq,
      ack: 0 as Seq,
      flags: 0,
      window: 0,
      urgent: 0,
      options: emptyTcpOptions(),
      payload: bytes,
    };
  } else {
    r = out;
    resetTcpOptions(r.options);
  }
  if (hlen > TCP_MIN_HEADER && parseTcpOptions(bytes, TCP_MIN_HEADER, hlen, r.options) !== undefined) return BAD_OPTION;
  r.srcPort = getU16(bytes, 0);
  r.dstPort = getU16(bytes, 2);
  r.seq = (getU32(bytes, 4) | 0) as Seq; // signed, as TCP holds sequence numbers (src/tcp/seq.ts)
  r.ack = (getU32(bytes, 8) | 0) as Seq;
  // RFC 9293 §3.1: the four Rsrvd bits "must be ignored in received segments if the
  // corresponding future features are not implemented"; we implement none (that includes
  // AccECN's AE bit, and the historic ECN nonce bit, RFC 8311 §3).
  r.flags = bytes[13]!;
  r.window = getU16(bytes, 14);
  r.urgent = getU16(bytes, 18);
  r.payload = bytes.subarray(hlen);
  return ok(r);
}

/** The payload of a segment that carries none: shared, since a zero-length array cannot be written through. */
const NO_PAYLOAD = new Uint8Array(0);

/**
 * `parseTcp` for the stack's own receive path: the segment is `buf[off, off + len)` (the frame
 * the IP layer got, read in place), the pseudo-header addresses come as two arguments (`src`
 * undefined: the link offloads the checksum), and the result is the error or undefined (`out`
 * then holds the segment). The same checks in the same order as `parseTcp`. `out.payload` is
 * one view of the frame, or a shared empty array when there is no payload; with `scratch` the
 * timestamp and SACK blocks are reused objects (`TcpOptionScratch`). Allocates nothing else.
 */
export function parseTcpAt(buf: Uint8Array, off: number, len: number, src: IpAddr | undefined, dst: IpAddr, out: TcpRepr, scratch?: TcpOptionScratch): WireError | undefined {
  if (len < TCP_MIN_HEADER) return 'truncated';
  const hlen = (buf[off + 12]! >>> 4) << 2;
  if (hlen < TCP_MIN_HEADER || hlen > len) return 'bad-data-offset';
  // RFC 9293 §3.1, as in parseTcp: a correct segment, its checksum included, folds to 0xffff.
  if (src !== undefined && fold(onesSumRange(buf, off, off + len, pseudoHeaderSum(src, dst, PROTO_TCP, len))) !== 0xffff) return 'bad-checksum';
  resetTcpOptions(out.options);
  if (hlen > TCP_MIN_HEADER && parseTcpOptions(buf, off + TCP_MIN_HEADER, off + hlen, out.options, scratch) !== undefined) return 'bad-option';
  out.srcPort = getU16(buf, off);
  out.dstPort = getU16(buf, off + 2);
  out.seq = (getU32(buf, off + 4) | 0) as Seq; // signed (src/tcp/seq.ts)
  out.ack = (getU32(buf, off + 8) | 0) as Seq;
  out.flags = buf[off + 13]!; // the Rsrvd bits ignored, as in parseTcp
  out.window = getU16(buf, off + 14);
  out.urgent = getU16(buf, off + 18);
  // A view made with the constructor: `subarray` costs about twice as much (its species lookup).
  out.payload = len > hlen ? new Uint8Array(buf.buffer, buf.byteOffset + off + hlen, len - hlen) : NO_PAYLOAD;
  return undefined;
}

/** Bytes the header occupies when `o` is emitted: 20 plus the padded options (at most 60). */
export function tcpHeaderLength(o: TcpOptions): number {
  return TCP_MIN_HEADER + tcpOptionsLength(o);
}

/**
 * Writes the segment into `out` (header, options in Linux's order, then the payload) and returns
 * the bytes written; allocates nothing itself (checksum.ts's `onesSum` makes one Uint32Array view
 * for payloads of 128 bytes or more).
 *
 * `out` must hold at least header + payload bytes; otherwise, or for a Fast Open cookie longer
 * than 16 bytes, it throws RangeError (a bug in the caller, never a property of received data).
 * When `r.payload` already sits right after the header in `out` (same buffer, offset
 * `out.byteOffset + header length`) it is not copied: the TCP layer can lay data out first and the
 * header around it; otherwise the payload must not overlap `out[0, header + payload)`. The
 * checksum covers pseudo-header, header and payload when `pseudo` is given; when undefined the
 * field is left zero for a link that offloads it. The Rsrvd bits are zero
 * (RFC 9293 §3.1: "Must be zero in generated segments"); only the low 8 bits of `r.flags` count.
 */
export function emitTcp(r: TcpRepr, out: Uint8Array, pseudo: PseudoHeader | undefined): number {
  const hlen = tcpHeaderLength(r.options);
  const payload = r.payload;
  const total = hlen + payload.length;
  if (out.length < total) {
    throw new RangeError(`emitTcp: buffer of ${out.length} bytes cannot hold a ${hlen}-byte header and ${payload.length}-byte payload`);
  }
  setU16(out, 0, r.srcPort);
  setU16(out, 2, r.dstPort);
  setU32(out, 4, r.seq);
  setU32(out, 8, r.ack);
  out[12] = (hlen >>> 2) << 4;
  out[13] = r.flags;
  setU16(out, 14, r.window);
  setU16(out, 16, 0); // checksum, filled below
  setU16(out, 18, r.urgent);
  emitTcpOptions(r.options, out, TCP_MIN_HEADER);
  placeAt(out, hlen, payload);
  if (pseudo !== undefined) {
    // The header is a whole number of 16-bit words, so header and payload sums combine; summing
    // the header in place avoids a subarray view.
    let sum = pseudoHeaderSum(pseudo.src, pseudo.dst, PROTO_TCP, total);
    for (let i = 0; i < hlen; i += 2) sum += (out[i]! << 8) | out[i + 1]!;
    // The payload's bytes are identical in `r.payload` and `out` now, so sum the existing view.
    sum = onesSum(payload, sum);
    setU16(out, 16, finish(sum));
  }
  return total;
}

/**
 * `emitTcp` for a segment laid out in place: writes the header of `r` at `buf[off..]` for a
 * payload of `payloadLen` bytes that the caller has already put right after it (at `off` plus
 * `tcpHeaderLength(r.options)`); `r.payload` is not read. The checksum covers pseudo-header,
 * header and payload when `src` is given (undefined: left zero for a link that offloads it).
 * Returns the bytes of the segment. No views, no allocation: the send path of the TCP layer.
 */
export function emitTcpHeader(r: TcpRepr, buf: Uint8Array, off: number, payloadLen: number, src: IpAddr | undefined, dst: IpAddr): number {
  const hlen = tcpHeaderLength(r.options);
  const total = hlen + payloadLen;
  if (off < 0 || buf.length - off < total) {
    throw new RangeError(`emitTcpHeader: ${buf.length - off} bytes at offset ${off} cannot hold a ${hlen}-byte header and ${payloadLen}-byte payload`);
  }
  setU16(buf, off, r.srcPort);
  setU16(buf, off + 2, r.dstPort);
  setU32(buf, off + 4, r.seq);
  setU32(buf, off + 8, r.ack);
  buf[off + 12] = (hlen >>> 2) << 4;
  buf[off + 13] = r.flags;
  setU16(buf, off + 14, r.window);
  setU16(buf, off + 16, 0); // checksum, filled below
  setU16(buf, off + 18, r.urgent);
  emitTcpOptions(r.options, buf, off + TCP_MIN_HEADER);
  if (src !== undefined) setU16(buf, off + 16, finish(onesSumRange(buf, off, off + total, pseudoHeaderSum(src, dst, PROTO_TCP, total))));
  return total;
}

/** True when every bit of `f` (one `TcpFlag` or an OR of several) is set in `flags`. */
export function hasFlag(flags: number, f: number): boolean {
  return (flags & f) === f;
}

/** Flag names in display order: the order a reader scans a handshake trace in. */
const FLAG_ORDER: readonly (readonly [number, string])[] = [
  [TcpFlag.SYN, 'SYN'],
  [TcpFlag.FIN, 'FIN'],
  [TcpFlag.RST, 'RST'],
  [TcpFlag.PSH, 'PSH'],
  [TcpFlag.ACK, 'ACK'],
  [TcpFlag.URG, 'URG'],
  [TcpFlag.ECE, 'ECE'],
  [TcpFlag.CWR, 'CWR'],
];

/** The flags as "SYN+ACK", "FIN+ACK", "PSH+ACK"... (SYN, FIN, RST, PSH, ACK, URG, ECE, CWR order); "none" for no flags. */
export function flagsToString(flags: number): string {
  let s = '';
  for (const [bit, name] of FLAG_ORDER) {
    if ((flags & bit) !== 0) s = s === '' ? name : `${s}+${name}`;
  }
  return s === '' ? 'none' : s;
}

/** SEG.LEN (RFC 9293 §3.4): "the number of octets occupied by the data in the segment (counting SYN and FIN)". */
export function tcpSegmentLength(r: TcpRepr): number {
  return r.payload.length + (r.flags & TcpFlag.SYN ? 1 : 0) + (r.flags & TcpFlag.FIN ? 1 : 0);
}
