// The IPv4 header. Read first: RFC 791 §3.1 (the header), RFC 1122 §3.2.1 (what a host must
// check), RFC 3168 §5 (the ECN field), RFC 2474 §3 (DSCP), RFC 6864 (the Identification field).
// Options are skipped, never interpreted: RFC 7126 §4 recommends dropping or ignoring them, and
// the IP layer decides which. Fragment reassembly lives in src/ip.
import { type Result, ok, err } from '../util/result.js';
import { finish } from './checksum.js';
import type { WireError } from './error.js';
import { IpAddr } from './ip-addr.js';
import { getU16, setU16 } from './net-order.js';

/** Bytes in an IPv4 header without options: what `emitIpv4` writes and the minimum IHL * 4. */
export const IPV4_HEADER_LEN = 20;

/** Protocol / Next Header numbers the stack handles (IANA "Assigned Internet Protocol Numbers"). */
export const IpProtocol = {
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  ICMPv6: 58,
} as const;

/** The two-bit ECN field (RFC 3168 §5), shared by IPv4 and IPv6. */
export const Ecn = {
  /** Not-ECT: the transport does not do ECN. */
  NotEct: 0b00,
  /** ECT(1). */
  Ect1: 0b01,
  /** ECT(0). */
  Ect0: 0b10,
  /** CE: congestion experienced. */
  Ce: 0b11,
} as const;

const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;

/** An IPv4 header as values (what `emitIpv4` writes; never options). */
export interface Ipv4Repr {
  src: IpAddr;
  dst: IpAddr;
  /** The upper-layer protocol (`IpProtocol`). */
  protocol: number;
  ttl: number;
  /** Differentiated Services code point: the upper six bits of the old TOS octet (RFC 2474 §3). */
  dscp: number;
  /** The two ECN bits (RFC 3168 §5; see `Ecn`). */
  ecn: number;
  identification: number;
  /** DF: do not fragment (RFC 791 §3.1; set on every TCP segment for PMTUD, RFC 1191 §3). */
  dontFragment: boolean;
  /** MF: more fragments follow. */
  moreFragments: boolean;
  /** Where this fragment's data sits in the original payload, in bytes (the wire field × 8); a multiple of 8. */
  fragmentOffset: number;
  /** Bytes after the header: total length minus header length. */
  payloadLen: number;
}

/** A parsed IPv4 packet: the header values, where the header ends, and the payload. */
export interface Ipv4Packet extends Ipv4Repr {
  /** IHL × 4: 20 plus any options. */
  headerLen: number;
  /**
   * The payload, a subarray of the input ending at the total length (link padding after it
   * is excluded). Only from `parseIpv4Quoted` can it be shorter than `payloadLen`.
   */
  payload: Uint8Array;
}

/**
 * An IPv4 header read in place by `readIpv4`: the values, but neither the addresses as objects
 * nor the payload as a view (they stay in the buffer: source at +12, destination at +16, payload
 * at +headerLen), so the IP layer can fill one of these per stack and reuse it for every packet.
 */
export interface Ipv4Header extends Omit<Ipv4Repr, 'src' | 'dst' | 'payloadLen'> {
  /** IHL × 4: 20 plus any options. */
  headerLen: number;
  /** The Total Length field: header plus payload, never beyond the bytes present (checked). */
  totalLen: number;
}

/** A blank `Ipv4Header` for `readIpv4` to fill. */
export function newIpv4Header(): Ipv4Header {
  return { headerLen: 0, totalLen: 0, protocol: 0, ttl: 0, dscp: 0, ecn: 0, identification: 0, dontFragment: false, moreFragments: false, fragmentOffset: 0 };
}

/**
 * Validates the IPv4 header of the datagram at `b[off, off + len)` exactly as `parseIpv4` does
 * (same checks, same order, same errors) and fills `out`; returns undefined when it is valid,
 * otherwise the reason (and `out` is unspecified). Allocates nothing: the hot path of the IP
 * layer, which reads the addresses from the bytes itself.
 */
export function readIpv4(b: Uint8Array, off: number, len: number, verifyChecksum: boolean, out: Ipv4Header): WireError | undefined {
  return check(b, off, len, verifyChecksum, false, out);
}

/**
 * Parses and validates an IPv4 header (RFC 1122 §3.2.1.1-2: version 4, a verified checksum,
 * sane lengths). The payload ends at the total length: "the total length field ... includes
 * header and data" (RFC 791 §3.1), so bytes beyond it are link padding and dropped here.
 * Pass `verifyChecksum = false` only for links known to deliver intact frames (offload).
 */
export function parseIpv4(bytes: Uint8Array, verifyChecksum = true): Result<Ipv4Packet, WireError> {
  return parse(bytes, verifyChecksum, false);
}

/**
 * Parses the IPv4 header quoted inside an ICMP error (RFC 792; RFC 1812 §4.3.2.3 says as much of
 * the datagram as fits): the total length may exceed the bytes present, so `payload` is what
 * was quoted (often only the first 8 bytes of the transport header), and the checksum is not
 * checked (routers quote the header as they saw it, which the IP layer cannot vouch for).
 */
export function parseIpv4Quoted(bytes: Uint8Array): Result<Ipv4Packet, WireError> {
  return parse(bytes, false, true);
}

// One header for `parse` to validate into before it builds its result (parse never re-enters).
const PARSE_SCRATCH = newIpv4Header();

function parse(b: Uint8Array, verifyChecksum: boolean, quoted: boolean): Result<Ipv4Packet, WireError> {
  const h = PARSE_SCRATCH;
  const e = check(b, 0, b.length, verifyChecksum, quoted, h);
  if (e !== undefined) return err(e);
  return ok({
    src: IpAddr.read(b, 12, 4),
    dst: IpAddr.read(b, 16, 4),
    protocol: h.protocol,
    ttl: h.ttl,
    dscp: h.dscp,
    ecn: h.ecn,
    identification: h.identification,
    dontFragment: h.dontFragment,
    moreFragments: h.moreFragments,
    fragmentOffset: h.fragmentOffset,
    payloadLen: h.totalLen - h.headerLen,
    headerLen: h.headerLen,
    payload: b.subarray(h.headerLen, Math.min(h.totalLen, b.length)),
  });
}

/** The checks of RFC 1122 §3.2.1.1-2 over `b[off, off + len)`, filling `h`; `quoted` lets the total length exceed the bytes present. */
function check(b: Uint8Array, off: number, len: number, verifyChecksum: boolean, quoted: boolean, h: Ipv4Header): WireError | undefined {
  if (len < IPV4_HEADER_LEN) return 'truncated';
  const vihl = b[off]!;
  if (vihl >>> 4 !== 4) return 'bad-version';
  const headerLen = (vihl & 0x0f) * 4;
  if (headerLen < IPV4_HEADER_LEN || headerLen > len) return 'bad-header-length';
  // The checksum covers the header only, options included (RFC 791 §3.1).
  if (verifyChecksum && finish(headerSum(b, off, headerLen)) !== 0) return 'bad-checksum';
  const totalLen = getU16(b, off + 2);
  if (totalLen < headerLen || (!quoted && totalLen > len)) return 'bad-total-length';
  const frag = getU16(b, off + 6);
  // The reserved flag bit (0x8000) is ignored on receipt, as Linux does: RFC 791 only says it
  // "must be zero", and a receiver rejecting it would gain nothing.
  const tos = b[off + 1]!;
  h.headerLen = headerLen;
  h.totalLen = totalLen;
  h.protocol = b[off + 9]!;
  h.ttl = b[off + 8]!;
  h.dscp = tos >>> 2;
  h.ecn = tos & 0b11;
  h.identification = getU16(b, off + 4);
  h.dontFragment = (frag & FLAG_DF) !== 0;
  h.moreFragments = (frag & FLAG_MF) !== 0;
  h.fragmentOffset = (frag & 0x1fff) * 8;
  return undefined;
}

/**
 * Writes a 20-byte header (no options) at `out[off..]` (default the start), checksum included;
 * allocates nothing. The payload (`repr.payloadLen` bytes) is the caller's, already in place
 * after the header, and is not read: the IPv4 checksum covers only the header.
 */
export function emitIpv4(repr: Ipv4Repr, out: Uint8Array, off = 0): void {
  out[off] = 0x45; // version 4, IHL 5
  out[off + 1] = (repr.dscp << 2) | (repr.ecn & 0b11);
  setU16(out, off + 2, IPV4_HEADER_LEN + repr.payloadLen);
  setU16(out, off + 4, repr.identification);
  setU16(out, off + 6, (repr.dontFragment ? FLAG_DF : 0) | (repr.moreFragments ? FLAG_MF : 0) | ((repr.fragmentOffset >>> 3) & 0x1fff));
  out[off + 8] = repr.ttl;
  out[off + 9] = repr.protocol;
  setU16(out, off + 10, 0);
  repr.src.write(out, off + 12);
  repr.dst.write(out, off + 16);
  setU16(out, off + 10, finish(headerSum(out, off, IPV4_HEADER_LEN)));
}

/** The unfolded one's complement sum of the `len` (even, <= 60) bytes at `off`, without a subarray. */
function headerSum(b: Uint8Array, off: number, len: number): number {
  let s = 0;
  for (let i = off; i < off + len; i += 2) s += getU16(b, i);
  return s;
}
