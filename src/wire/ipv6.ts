// The IPv6 fixed header and the walk over extension headers to the upper layer. Read first:
// RFC 8200 §3 (the header), §4 (extension headers: order, options, routing, fragment), RFC 6946
// §4 (atomic fragments), RFC 7112 (the whole header chain is in the first fragment), RFC 3168
// §5 (ECN bits in the traffic class), RFC 6437 (flow label). We send no extension headers, so
// emit writes the fixed header only. Fragment reassembly lives in src/ip.
import { type Result, ok, err } from '../util/result.js';
import type { WireError } from './error.js';
import { IpAddr } from './ip-addr.js';
import { getU16, getU32, setU16, setU32 } from './net-order.js';

/** Bytes in the IPv6 fixed header. */
export const IPV6_HEADER_LEN = 40;

/** Next Header values for the extension headers the walk understands (RFC 8200 §4.1). */
export const Ipv6ExtHeader = {
  HopByHop: 0,
  Routing: 43,
  Fragment: 44,
  NoNextHeader: 59,
  DestinationOptions: 60,
} as const;

/**
 * The longest extension-header chain walked. RFC 8200 §4.1: "Each extension header should occur
 * at most once, except for the Destination Options header, which should occur at most twice",
 * so the four kinds we walk make at most five; a longer chain is malformed or an attack.
 */
export const IPV6_MAX_EXTENSION_HEADERS = 8;

/** The IPv6 fixed header as values (what `emitIpv6` writes). */
export interface Ipv6Repr {
  src: IpAddr;
  dst: IpAddr;
  /** The Next Header field of the fixed header (an extension header or the upper layer). */
  nextHeader: number;
  hopLimit: number;
  /** The upper six bits of the traffic class (RFC 2474 §3). */
  dscp: number;
  /** The lower two bits of the traffic class (RFC 3168 §5; see `Ecn` in ipv4.ts). */
  ecn: number;
  /** The 20-bit flow label (RFC 6437). */
  flowLabel: number;
  /** The Payload Length field: everything after the fixed header, extension headers included. */
  payloadLen: number;
}

/** The fields of a Fragment header (RFC 8200 §4.5) that reassembly needs. */
export interface Ipv6Fragment {
  /** Where this fragment's data sits in the fragmentable part, in bytes (the wire field × 8). */
  offset: number;
  /** The M flag: more fragments follow. */
  moreFragments: boolean;
  identification: number;
}

/** Where the extension-header chain ends: the upper-layer protocol and its bytes. */
export interface Ipv6Upper {
  /** The upper-layer protocol (e.g. 6, 17, 58), or 59 for "no next header". For a fragment, the Next Header of its Fragment header. */
  protocol: number;
  /** The upper-layer bytes (for a fragment: the fragment's data), a subarray of the input. */
  payload: Uint8Array;
  /** Offset of `payload` within the parsed bytes. */
  headerLen: number;
  /** Present when a (non-atomic) Fragment header was found; the walk stops there. */
  fragment: Ipv6Fragment | undefined;
}

/** A parsed IPv6 packet: fixed-header values plus the end of the extension-header chain. */
export interface Ipv6Packet extends Ipv6Repr, Ipv6Upper {}

/**
 * Parses the fixed header and walks the extension headers to the upper layer. The payload
 * ends at 40 + Payload Length; later bytes are link padding. A Fragment header stops the
 * walk: its data is reported as `payload` for src/ip to reassemble, after which
 * `parseIpv6Extensions` walks the rest of the chain.
 */
export function parseIpv6(bytes: Uint8Array): Result<Ipv6Packet, WireError> {
  return parse(bytes, false);
}

/**
 * Parses an IPv6 packet quoted in an ICMPv6 error (RFC 4443 §2.4(c): as much as fits in the
 * minimum MTU): the Payload Length may exceed the bytes present, and `payload` is what was
 * quoted. The extension headers must still be whole to be walked.
 */
export function parseIpv6Quoted(bytes: Uint8Array): Result<Ipv6Packet, WireError> {
  return parse(bytes, true);
}

/**
 * Walks extension headers starting with `nextHeader` over `bytes`: for the fragmentable part
 * of a reassembled packet. A Hop-by-Hop header is an error here, since RFC 8200 §4.1 places
 * it only immediately after the fixed header.
 */
export function parseIpv6Extensions(nextHeader: number, bytes: Uint8Array): Result<Ipv6Upper, WireError> {
  return walk(nextHeader, bytes, 0, bytes.length, false);
}

/** Writes the 40-byte fixed header at `out[off..]` (default the start); allocates nothing. The payload is already in place after it and is not touched. */
export function emitIpv6(repr: Ipv6Repr, out: Uint8Array, off = 0): void {
  setU32(out, off, (6 << 28) | (repr.dscp << 22) | ((repr.ecn & 0b11) << 20) | (repr.flowLabel & 0xfffff));
  setU16(out, off + 4, repr.payloadLen);
  out[off + 6] = repr.nextHeader;
  out[off + 7] = repr.hopLimit;
  repr.src.write(out, off + 8);
  repr.dst.write(out, off + 24);
}

function parse(b: Uint8Array, quoted: boolean): Result<Ipv6Packet, WireError> {
  if (b.length < IPV6_HEADER_LEN) return err('truncated');
  const w = getU32(b, 0);
  if (w >>> 28 !== 6) return err('bad-version');
  const payloadLen = getU16(b, 4);
  let end = IPV6_HEADER_LEN + payloadLen;
  if (end > b.length) {
    if (!quoted) return err('bad-total-length');
    end = b.length;
  }
  const nextHeader = b[6]!;
  const upper = walk(nextHeader, b, IPV6_HEADER_LEN, end, true);
  if (!upper.ok) return upper;
  const tc = (w >>> 20) & 0xff;
  return ok({
    src: IpAddr.read(b, 8, 6),
    dst: IpAddr.read(b, 24, 6),
    nextHeader,
    hopLimit: b[7]!,
    dscp: tc >>> 2,
    ecn: tc & 0b11,
    flowLabel: w & 0xfffff,
    payloadLen,
    protocol: upper.value.protocol,
    payload: upper.value.payload,
    headerLen: upper.value.headerLen,
    fragment: upper.value.fragment,
  });
}

/**
 * Follows the Next Header chain over `b[start..end)`. Every length is checked against `end`
 * before it is used, and the chain is bounded, so no input can loop or read past the buffer.
 */
function walk(nh: number, b: Uint8Array, start: number, end: number, hopByHopAllowed: boolean): Result<Ipv6Upper, WireError> {
  let off = start;
  for (let count = 0; ; count++) {
    if (nh !== Ipv6ExtHeader.HopByHop && nh !== Ipv6ExtHeader.Routing && nh !== Ipv6ExtHeader.Fragment &&
      nh !== Ipv6ExtHeader.DestinationOptions) {
      // The upper layer, or 59 ("no next header", RFC 8200 §4.7: the rest is ignored).
      return ok({ protocol: nh, payload: b.subarray(off, end), headerLen: off, fragment: undefined });
    }
    if (count === IPV6_MAX_EXTENSION_HEADERS) return err('bad-extension-header');
    if (nh === Ipv6ExtHeader.Fragment) {
      if (off + 8 > end) return err('bad-extension-header');
      const next = b[off]!;
      const field = getU16(b, off + 2);
      const offset = field & 0xfff8; // (field >>> 3) * 8
      const moreFragments = (field & 1) !== 0;
      const identification = getU32(b, off + 4);
      off += 8;
      // RFC 6946 §4: an atomic fragment (offset 0, M 0) "MUST be processed in isolation from
      // any other packets/fragments": it is not a fragment at all, so keep walking.
      if (offset === 0 && !moreFragments) {
        nh = next;
        continue;
      }
      return ok({ protocol: next, payload: b.subarray(off, end), headerLen: off, fragment: { offset, moreFragments, identification } });
    }
    // Hop-by-Hop, Routing and Destination Options share the layout: Next Header, Hdr Ext Len
    // in 8-octet units not counting the first 8 (RFC 8200 §4.3, §4.4, §4.6).
    if (nh === Ipv6ExtHeader.HopByHop && !(hopByHopAllowed && off === start)) {
      // RFC 8200 §4.1: "The Hop-by-Hop Options header, when present, must immediately follow the IPv6 header."
      return err('bad-extension-header');
    }
    if (off + 8 > end) return err('bad-extension-header');
    const len = (b[off + 1]! + 1) * 8;
    if (off + len > end) return err('bad-extension-header');
    if (nh === Ipv6ExtHeader.Routing) {
      // RFC 8200 §4.4: with Segments Left 0 "the node must ignore the Routing header and
      // proceed"; otherwise we would have to forward, and a host does not.
      // Deviation: no ICMP Parameter Problem goes back for Segments Left != 0 (§4.4 asks for
      // one when the routing type is unrecognised); the packet is dropped as 'unsupported'.
      if (b[off + 3] !== 0) return err('unsupported');
    } else {
      const bad = checkOptions(b, off + 2, off + len);
      if (bad !== undefined) return err(bad);
    }
    nh = b[off]!;
    off += len;
  }
}

/**
 * Walks the TLV options of a Hop-by-Hop or Destination Options header (RFC 8200 §4.2). We
 * recognise only padding, so any option whose two high-order type bits are not 00 ("skip over
 * this option") means the packet must be discarded: 'unsupported'. This includes the Jumbo
 * Payload option (0xC2, RFC 2675), which we do not support.
 * Deviation: for action bits 10 and 11 RFC 8200 §4.2 also asks for an ICMP Parameter Problem
 * (code 2); we only drop, counted as 'unsupported', so an unknown option never makes us send.
 */
function checkOptions(b: Uint8Array, off: number, end: number): WireError | undefined {
  while (off < end) {
    const type = b[off]!;
    if (type === 0) { // Pad1: a single octet, no length
      off += 1;
      continue;
    }
    if (off + 2 > end) return 'bad-option';
    const next = off + 2 + b[off + 1]!;
    if (next > end) return 'bad-option';
    if (type >>> 6 !== 0) return 'unsupported';
    off = next;
  }
  return undefined;
}
