// ARP packets for IPv4 over Ethernet, nothing else. Read first: RFC 826 (the packet and the
// receive algorithm), RFC 5227 §2.1.1 (probes carry sender IP 0.0.0.0) and §2.3 (gratuitous
// announcements), RFC 5494 (operation codes). The cache and its timers live in src/ip.
import { type Result, ok, err } from '../util/result.js';
import type { WireError } from './error.js';
import { MacAddr } from './ethernet.js';
import { IpAddr } from './ip-addr.js';
import { getU16, setU16 } from './net-order.js';

/** Bytes in an Ethernet/IPv4 ARP packet (Ethernet frames pad it to 46; the padding is ignored). */
export const ARP_LEN = 28;

/** ar$hrd for Ethernet (RFC 826; IANA "Hardware Types"). */
const HTYPE_ETHERNET = 1;
/** ar$pro: the protocol's EtherType, IPv4. */
const PTYPE_IPV4 = 0x0800;
const OP_REQUEST = 1;
const OP_REPLY = 2;

/** The ARP operation (ar$op, RFC 826): 1 is a request, 2 a reply; RFC 5494 lists the rest, which we do not handle. */
export type ArpOperation = 'request' | 'reply';

/** An Ethernet/IPv4 ARP packet as values. */
export interface ArpRepr {
  operation: ArpOperation;
  /** ar$sha. */
  senderMac: MacAddr;
  /** ar$spa; 0.0.0.0 in an RFC 5227 probe. */
  senderIp: IpAddr;
  /** ar$tha; ignored in a request, where it is conventionally zero. */
  targetMac: MacAddr;
  /** ar$tpa. */
  targetIp: IpAddr;
}

/**
 * Parses an ARP packet. Anything but Ethernet hardware addresses for IPv4 (htype 1, ptype
 * 0x0800, hlen 6, plen 4), or an operation other than request and reply, is 'unsupported':
 * RFC 826 has the receiver check "Do I have the hardware type in ar$hrd? ... Do I speak the
 * protocol in ar$pro?" and otherwise discard. Bytes past the 28 are padding and ignored.
 */
export function parseArp(bytes: Uint8Array): Result<ArpRepr, WireError> {
  if (bytes.length < 8) return err('truncated');
  if (getU16(bytes, 0) !== HTYPE_ETHERNET || getU16(bytes, 2) !== PTYPE_IPV4 || bytes[4] !== 6 || bytes[5] !== 4) {
    return err('unsupported');
  }
  const op = getU16(bytes, 6);
  if (op !== OP_REQUEST && op !== OP_REPLY) return err('unsupported');
  if (bytes.length < ARP_LEN) return err('truncated');
  return ok({
    operation: op === OP_REQUEST ? 'request' : 'reply',
    senderMac: MacAddr.read(bytes, 8),
    senderIp: IpAddr.read(bytes, 14, 4),
    targetMac: MacAddr.read(bytes, 18),
    targetIp: IpAddr.read(bytes, 24, 4),
  });
}

/** Writes the 28-byte packet at the start of `out`; allocates nothing. Both addresses must be IPv4. */
export function emitArp(repr: ArpRepr, out: Uint8Array): void {
  setU16(out, 0, HTYPE_ETHERNET);
  setU16(out, 2, PTYPE_IPV4);
  out[4] = 6;
  out[5] = 4;
  setU16(out, 6, repr.operation === 'request' ? OP_REQUEST : OP_REPLY);
  repr.senderMac.write(out, 8);
  repr.senderIp.write(out, 14);
  repr.targetMac.write(out, 18);
  repr.targetIp.write(out, 24);
}
