// ICMPv6 and the Neighbor Discovery messages carried in it. Read first: RFC 4443 §2-4 (formats,
// the checksum over the IPv6 pseudo-header, error vs informational types), RFC 4861 §4 (NDP
// formats and options) and §6.1.1-2, §7.1.1-2 (what a receiver must validate), RFC 8201 (what
// Packet Too Big means for PMTU). The neighbour cache and router discovery live in src/ip.
// One check is not made here because this layer cannot see it: NDP messages must arrive with
// IP Hop Limit 255 (RFC 4861 §7.1.1), which the IP layer checks (`NDP_HOP_LIMIT`).
import { type Result, ok, err, assertNever } from '../util/result.js';
import { finish, onesSum, pseudoHeaderSum } from './checksum.js';
import type { WireError } from './error.js';
import { MacAddr } from './ethernet.js';
import { IpAddr } from './ip-addr.js';
import { getU16, getU32, placeAt, setU16, setU32 } from './net-order.js';

/** Bytes before the data or quoted packet of most messages: type, code, checksum, one 32-bit field. */
export const ICMPV6_HEADER_LEN = 8;

/** The IP Hop Limit every NDP message is sent with and must arrive with (RFC 4861 §6.1, §7.1). */
export const NDP_HOP_LIMIT = 255;

/** Destination Unreachable codes (RFC 4443 §3.1). */
export const Icmpv6UnreachableCode = {
  NoRoute: 0,
  AdminProhibited: 1,
  BeyondScope: 2,
  Address: 3,
  Port: 4,
  SourcePolicy: 5,
  RejectRoute: 6,
} as const;

/** Time Exceeded codes (RFC 4443 §3.3). */
export const Icmpv6TimeExceededCode = {
  HopLimit: 0,
  Reassembly: 1,
} as const;

/** Parameter Problem codes (RFC 4443 §3.4; 3 from RFC 7112). */
export const Icmpv6ParameterProblemCode = {
  HeaderField: 0,
  NextHeader: 1,
  Option: 2,
  IncompleteHeaderChain: 3,
} as const;

const PROTO_ICMPV6 = 58;
const TYPE_DEST_UNREACHABLE = 1;
const TYPE_PACKET_TOO_BIG = 2;
const TYPE_TIME_EXCEEDED = 3;
const TYPE_PARAMETER_PROBLEM = 4;
const TYPE_ECHO_REQUEST = 128;
const TYPE_ECHO_REPLY = 129;
const TYPE_ROUTER_SOLICITATION = 133;
const TYPE_ROUTER_ADVERTISEMENT = 134;
const TYPE_NEIGHBOR_SOLICITATION = 135;
const TYPE_NEIGHBOR_ADVERTISEMENT = 136;

/** NDP option types (RFC 4861 §4.6). */
const OPT_SOURCE_LL = 1;
const OPT_TARGET_LL = 2;
const OPT_MTU = 5;
/** Bytes in a link-layer address option for Ethernet, and in an MTU option: one 8-octet unit. */
const OPT_UNIT = 8;

/** Fixed bytes of each NDP message before its options (RFC 4861 §4.1-4.4). */
const RS_LEN = 8;
const RA_LEN = 16;
const NS_NA_LEN = 24;

/** ff02::1:ff00:0/104, the solicited-node multicast prefix (RFC 4291 §2.7.1). */
const SOLICITED_NODE_PREFIX = IpAddr.v6(0xff020000, 0, 1, 0xff000000);
/** fe80::/10, link-local unicast (RFC 4291 §2.5.6). */
const LINK_LOCAL_PREFIX = IpAddr.v6(0xfe800000, 0, 0, 0);

/** An Echo Request or Echo Reply (RFC 4443 §4.1-4.2). */
export interface Icmpv6Echo {
  type: 'echo-request' | 'echo-reply';
  /** The Identifier field: matches replies to requests. */
  id: number;
  /** The Sequence Number field. */
  seq: number;
  /** The echoed data; when parsed, a subarray of the input. */
  data: Uint8Array;
}

/** A Destination Unreachable message (RFC 4443 §3.1). */
export interface Icmpv6DestinationUnreachable {
  type: 'destination-unreachable';
  /** See `Icmpv6UnreachableCode`. */
  code: number;
  /** As much of the invoking packet as fits (RFC 4443 §2.4(c)); when parsed, a subarray of the input. */
  quoted: Uint8Array;
}

/** A Packet Too Big message (RFC 4443 §3.2), the signal for path MTU discovery (RFC 8201). */
export interface Icmpv6PacketTooBig {
  type: 'packet-too-big';
  /** The MTU of the next-hop link, as sent: RFC 8201 §4 has the IP layer ignore values below 1280. */
  mtu: number;
  /** As much of the invoking packet as fits. */
  quoted: Uint8Array;
}

/** A Time Exceeded message (RFC 4443 §3.3). */
export interface Icmpv6TimeExceeded {
  type: 'time-exceeded';
  /** See `Icmpv6TimeExceededCode`. */
  code: number;
  /** As much of the invoking packet as fits. */
  quoted: Uint8Array;
}

/** A Parameter Problem message (RFC 4443 §3.4). */
export interface Icmpv6ParameterProblem {
  type: 'parameter-problem';
  /** See `Icmpv6ParameterProblemCode`. */
  code: number;
  /** Offset within the quoted packet where the error was detected. */
  pointer: number;
  /** As much of the invoking packet as fits. */
  quoted: Uint8Array;
}

/** A Router Solicitation (RFC 4861 §4.1). */
export interface NdpRouterSolicitation {
  type: 'router-solicitation';
  /** The sender's MAC (Source Link-Layer Address option), if included. */
  sourceLinkAddr: MacAddr | undefined;
}

/**
 * A Router Advertisement, minimally (RFC 4861 §4.2): the fixed fields and the SLLA and MTU
 * options. Prefix Information and other options are skipped on parse and never emitted.
 */
export interface NdpRouterAdvertisement {
  type: 'router-advertisement';
  /** Hop limit hosts should use; 0 means unspecified. */
  curHopLimit: number;
  /** The M flag: addresses are available via DHCPv6. */
  managed: boolean;
  /** The O flag: other configuration is available via DHCPv6. */
  other: boolean;
  /** Seconds this router may be used as a default router; 0 means it is not one. */
  routerLifetime: number;
  /** Milliseconds; 0 means unspecified. */
  reachableTime: number;
  /** Milliseconds between retransmitted Neighbor Solicitations; 0 means unspecified. */
  retransTimer: number;
  /** The router's MAC, if included. */
  sourceLinkAddr: MacAddr | undefined;
  /** The link MTU (MTU option, RFC 4861 §4.6.4), if included. */
  mtu: number | undefined;
}

/** A Neighbor Solicitation (RFC 4861 §4.3): address resolution, unreachability detection, DAD. */
export interface NdpNeighborSolicitation {
  type: 'neighbor-solicitation';
  /** The address being resolved; never multicast. */
  target: IpAddr;
  /** The sender's MAC; absent in a Duplicate Address Detection probe (source ::). */
  sourceLinkAddr: MacAddr | undefined;
}

/** A Neighbor Advertisement (RFC 4861 §4.4). */
export interface NdpNeighborAdvertisement {
  type: 'neighbor-advertisement';
  /** The R flag: the sender is a router. */
  router: boolean;
  /** The S flag: sent in response to a Neighbor Solicitation. */
  solicited: boolean;
  /** The O flag: the advertisement should override a cached link-layer address. */
  override: boolean;
  /** The address whose link-layer address is advertised. */
  target: IpAddr;
  /** The target's MAC, if included. */
  targetLinkAddr: MacAddr | undefined;
}

/**
 * An ICMPv6 message as values, by type. Other types parse as 'unsupported': RFC 4443 §2.4(b)
 * has unknown informational messages silently discarded, and the IP layer may still count
 * unknown error messages.
 */
export type Icmpv6Repr =
  | Icmpv6Echo
  | Icmpv6DestinationUnreachable
  | Icmpv6PacketTooBig
  | Icmpv6TimeExceeded
  | Icmpv6ParameterProblem
  | NdpRouterSolicitation
  | NdpRouterAdvertisement
  | NdpNeighborSolicitation
  | NdpNeighborAdvertisement;

/** Bytes `emitIcmpv6` writes for `repr`. */
export function icmpv6Length(repr: Icmpv6Repr): number {
  switch (repr.type) {
    case 'echo-request':
    case 'echo-reply':
      return ICMPV6_HEADER_LEN + repr.data.length;
    case 'destination-unreachable':
    case 'packet-too-big':
    case 'time-exceeded':
    case 'parameter-problem':
      return ICMPV6_HEADER_LEN + repr.quoted.length;
    case 'router-solicitation':
      return RS_LEN + (repr.sourceLinkAddr ? OPT_UNIT : 0);
    case 'router-advertisement':
      return RA_LEN + (repr.sourceLinkAddr ? OPT_UNIT : 0) + (repr.mtu !== undefined ? OPT_UNIT : 0);
    case 'neighbor-solicitation':
      return NS_NA_LEN + (repr.sourceLinkAddr ? OPT_UNIT : 0);
    case 'neighbor-advertisement':
      return NS_NA_LEN + (repr.targetLinkAddr ? OPT_UNIT : 0);
    default:
      return assertNever(repr, 'ICMPv6 message');
  }
}

/**
 * Parses an ICMPv6 message: `bytes` is the whole upper-layer payload of the IPv6 packet, and
 * `src`/`dst` its addresses, for the checksum (RFC 4443 §2.3: the pseudo-header of RFC 8200
 * §8.1 with Next Header 58) and for the NDP checks of RFC 4861 §6.1 and §7.1 that depend on
 * them. Pass `verifyChecksum = false` only for links known to deliver intact frames (offload).
 */
export function parseIcmpv6(bytes: Uint8Array, src: IpAddr, dst: IpAddr, verifyChecksum = true): Result<Icmpv6Repr, WireError> {
  if (bytes.length < ICMPV6_HEADER_LEN) return err('truncated');
  if (verifyChecksum && finish(onesSum(bytes, pseudoHeaderSum(src, dst, PROTO_ICMPV6, bytes.length))) !== 0) {
    return err('bad-checksum');
  }
  const type = bytes[0]!;
  const code = bytes[1]!;
  switch (type) {
    case TYPE_DEST_UNREACHABLE:
      return ok({ type: 'destination-unreachable', code, quoted: bytes.subarray(ICMPV6_HEADER_LEN) });
    case TYPE_PACKET_TOO_BIG:
      return ok({ type: 'packet-too-big', mtu: getU32(bytes, 4), quoted: bytes.subarray(ICMPV6_HEADER_LEN) });
    case TYPE_TIME_EXCEEDED:
      return ok({ type: 'time-exceeded', code, quoted: bytes.subarray(ICMPV6_HEADER_LEN) });
    case TYPE_PARAMETER_PROBLEM:
      return ok({ type: 'parameter-problem', code, pointer: getU32(bytes, 4), quoted: bytes.subarray(ICMPV6_HEADER_LEN) });
    case TYPE_ECHO_REQUEST:
    case TYPE_ECHO_REPLY:
      return ok({
        type: type === TYPE_ECHO_REQUEST ? 'echo-request' : 'echo-reply',
        id: getU16(bytes, 4),
        seq: getU16(bytes, 6),
        data: bytes.subarray(ICMPV6_HEADER_LEN),
      });
    case TYPE_ROUTER_SOLICITATION:
    case TYPE_ROUTER_ADVERTISEMENT:
    case TYPE_NEIGHBOR_SOLICITATION:
    case TYPE_NEIGHBOR_ADVERTISEMENT:
      // RFC 4861 §6.1.1, §6.1.2, §7.1.1, §7.1.2: "ICMP Code is 0."
      if (code !== 0) return err('bad-value');
      return parseNdp(type, bytes, src, dst);
    default:
      return err('unsupported');
  }
}

function parseNdp(type: number, b: Uint8Array, src: IpAddr, dst: IpAddr): Result<Icmpv6Repr, WireError> {
  switch (type) {
    case TYPE_ROUTER_SOLICITATION: {
      const opts = parseOptions(b, RS_LEN);
      if (typeof opts === 'string') return err(opts);
      // §6.1.1: "If the IP source address is the unspecified address, there is no source
      // link-layer address option in the message."
      if (src.isUnspecified && opts.sll) return err('bad-value');
      return ok({ type: 'router-solicitation', sourceLinkAddr: opts.sll });
    }
    case TYPE_ROUTER_ADVERTISEMENT: {
      if (b.length < RA_LEN) return err('truncated');
      // §6.1.2: "IP Source Address is a link-local address."
      if (!src.inPrefix(LINK_LOCAL_PREFIX, 10)) return err('bad-value');
      const opts = parseOptions(b, RA_LEN);
      if (typeof opts === 'string') return err(opts);
      return ok({
        type: 'router-advertisement',
        curHopLimit: b[4]!,
        managed: (b[5]! & 0x80) !== 0,
        other: (b[5]! & 0x40) !== 0,
        routerLifetime: getU16(b, 6),
        reachableTime: getU32(b, 8),
        retransTimer: getU32(b, 12),
        sourceLinkAddr: opts.sll,
        mtu: opts.mtu,
      });
    }
    case TYPE_NEIGHBOR_SOLICITATION: {
      if (b.length < NS_NA_LEN) return err('truncated');
      const target = IpAddr.read(b, 8, 6);
      // §7.1.1: "Target Address is not a multicast address."
      if (target.isMulticastOrBroadcast) return err('bad-value');
      const opts = parseOptions(b, NS_NA_LEN);
      if (typeof opts === 'string') return err(opts);
      // §7.1.1: a DAD probe (source ::) goes to a solicited-node address and carries no SLLA.
      if (src.isUnspecified && (opts.sll || !dst.inPrefix(SOLICITED_NODE_PREFIX, 104))) return err('bad-value');
      return ok({ type: 'neighbor-solicitation', target, sourceLinkAddr: opts.sll });
    }
    default: { // TYPE_NEIGHBOR_ADVERTISEMENT, the only type left
      if (b.length < NS_NA_LEN) return err('truncated');
      const target = IpAddr.read(b, 8, 6);
      // §7.1.2: "Target Address is not a multicast address."
      if (target.isMulticastOrBroadcast) return err('bad-value');
      const solicited = (b[4]! & 0x40) !== 0;
      // §7.1.2: "If the IP Destination Address is a multicast address the Solicited flag is zero."
      if (solicited && dst.isMulticastOrBroadcast) return err('bad-value');
      const opts = parseOptions(b, NS_NA_LEN);
      if (typeof opts === 'string') return err(opts);
      return ok({
        type: 'neighbor-advertisement',
        router: (b[4]! & 0x80) !== 0,
        solicited,
        override: (b[4]! & 0x20) !== 0,
        target,
        targetLinkAddr: opts.tll,
      });
    }
  }
}

/** The NDP options this stack reads; the first of each kind wins, as in Linux's ndisc_parse_options. */
interface NdOptions {
  sll: MacAddr | undefined;
  tll: MacAddr | undefined;
  mtu: number | undefined;
}

/**
 * Walks the options from `off` to the end of the message (RFC 4861 §4.6). "Nodes MUST silently
 * discard an ND packet that contains an option with length zero" (§4.6); an option running
 * past the message is equally malformed. A link-layer address option must be one 8-octet unit
 * (a 6-byte MAC; we speak Ethernet only, and Linux drops other lengths too); unknown options
 * are skipped: "Receivers MUST silently ignore any options they do not recognize" (§4.6).
 */
function parseOptions(b: Uint8Array, off: number): NdOptions | WireError {
  const opts: NdOptions = { sll: undefined, tll: undefined, mtu: undefined };
  while (off < b.length) {
    if (off + 2 > b.length) return 'bad-option';
    const len = b[off + 1]! * 8;
    if (len === 0 || off + len > b.length) return 'bad-option';
    switch (b[off]) {
      case OPT_SOURCE_LL:
      case OPT_TARGET_LL: {
        if (len !== OPT_UNIT) return 'bad-option';
        const mac = MacAddr.read(b, off + 2);
        if (b[off] === OPT_SOURCE_LL) opts.sll ??= mac;
        else opts.tll ??= mac;
        break;
      }
      case OPT_MTU:
        if (len !== OPT_UNIT) return 'bad-option';
        opts.mtu ??= getU32(b, off + 4);
        break;
      default:
        break;
    }
    off += len;
  }
  return opts;
}

/**
 * Writes the message (`icmpv6Length(repr)` bytes) at the start of `out`, checksum over the
 * pseudo-header of `src`/`dst` included. Data or quoted bytes are copied to `out[8..]` unless
 * they already sit exactly there, in which case they are only summed. Allocates nothing.
 */
export function emitIcmpv6(repr: Icmpv6Repr, out: Uint8Array, src: IpAddr, dst: IpAddr): void {
  const len = icmpv6Length(repr);
  out[1] = 0;
  switch (repr.type) {
    case 'echo-request':
    case 'echo-reply':
      out[0] = repr.type === 'echo-request' ? TYPE_ECHO_REQUEST : TYPE_ECHO_REPLY;
      setU16(out, 4, repr.id);
      setU16(out, 6, repr.seq);
      placeAt(out, ICMPV6_HEADER_LEN, repr.data);
      break;
    case 'destination-unreachable':
      out[0] = TYPE_DEST_UNREACHABLE;
      out[1] = repr.code;
      setU32(out, 4, 0);
      placeAt(out, ICMPV6_HEADER_LEN, repr.quoted);
      break;
    case 'packet-too-big':
      out[0] = TYPE_PACKET_TOO_BIG;
      setU32(out, 4, repr.mtu);
      placeAt(out, ICMPV6_HEADER_LEN, repr.quoted);
      break;
    case 'time-exceeded':
      out[0] = TYPE_TIME_EXCEEDED;
      out[1] = repr.code;
      setU32(out, 4, 0);
      placeAt(out, ICMPV6_HEADER_LEN, repr.quoted);
      break;
    case 'parameter-problem':
      out[0] = TYPE_PARAMETER_PROBLEM;
      out[1] = repr.code;
      setU32(out, 4, repr.pointer);
      placeAt(out, ICMPV6_HEADER_LEN, repr.quoted);
      break;
    case 'router-solicitation':
      out[0] = TYPE_ROUTER_SOLICITATION;
      setU32(out, 4, 0);
      if (repr.sourceLinkAddr) emitLinkAddrOption(out, RS_LEN, OPT_SOURCE_LL, repr.sourceLinkAddr);
      break;
    case 'router-advertisement': {
      out[0] = TYPE_ROUTER_ADVERTISEMENT;
      out[4] = repr.curHopLimit;
      out[5] = (repr.managed ? 0x80 : 0) | (repr.other ? 0x40 : 0);
      setU16(out, 6, repr.routerLifetime);
      setU32(out, 8, repr.reachableTime);
      setU32(out, 12, repr.retransTimer);
      let off = RA_LEN;
      if (repr.sourceLinkAddr) {
        emitLinkAddrOption(out, off, OPT_SOURCE_LL, repr.sourceLinkAddr);
        off += OPT_UNIT;
      }
      if (repr.mtu !== undefined) {
        out[off] = OPT_MTU;
        out[off + 1] = 1;
        setU16(out, off + 2, 0);
        setU32(out, off + 4, repr.mtu);
      }
      break;
    }
    case 'neighbor-solicitation':
      out[0] = TYPE_NEIGHBOR_SOLICITATION;
      setU32(out, 4, 0);
      repr.target.write(out, 8);
      if (repr.sourceLinkAddr) emitLinkAddrOption(out, NS_NA_LEN, OPT_SOURCE_LL, repr.sourceLinkAddr);
      break;
    case 'neighbor-advertisement':
      out[0] = TYPE_NEIGHBOR_ADVERTISEMENT;
      setU32(out, 4, ((repr.router ? 0x80 : 0) | (repr.solicited ? 0x40 : 0) | (repr.override ? 0x20 : 0)) << 24);
      repr.target.write(out, 8);
      if (repr.targetLinkAddr) emitLinkAddrOption(out, NS_NA_LEN, OPT_TARGET_LL, repr.targetLinkAddr);
      break;
    default:
      assertNever(repr, 'ICMPv6 message');
  }
  setU16(out, 2, 0);
  setU16(out, 2, finish(onesSum(len === out.length ? out : out.subarray(0, len), pseudoHeaderSum(src, dst, PROTO_ICMPV6, len))));
}

/** Writes a Source/Target Link-Layer Address option for Ethernet (RFC 4861 §4.6.1; RFC 2464 §6). */
function emitLinkAddrOption(out: Uint8Array, off: number, type: number, mac: MacAddr): void {
  out[off] = type;
  out[off + 1] = 1; // one 8-octet unit
  mac.write(out, off + 2);
}
