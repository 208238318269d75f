// Ethernet II framing and MAC addresses. Read first: RFC 894 (IPv4 over Ethernet), RFC 2464
// (IPv6 over Ethernet: §7 for multicast addresses), IEEE 802.3 §3.2.6 (Length/Type) and
// RFC 9542 (IANA considerations for IEEE 802 parameters: the group and local bits).
// The frame check sequence never reaches us: TAP devices and our simulated links strip it.
import { type Result, ok, err } from '../util/result.js';
import type { WireError } from './error.js';
import type { IpAddr } from './ip-addr.js';
import { getU16, getU32, setU16, setU32 } from './net-order.js';

/** Bytes in an Ethernet II header: destination MAC, source MAC, EtherType. */
export const ETHERNET_HEADER_LEN = 14;

/** The EtherType values the stack dispatches on (IANA "IEEE 802 Numbers"). */
export const EtherType = {
  IPv4: 0x0800,
  ARP: 0x0806,
  IPv6: 0x86dd,
} as const;

/** A 48-bit IEEE 802 MAC address as a value: two integers, so comparing allocates nothing. */
export class MacAddr {
  private constructor(
    /** The first two octets, as a 16-bit value. */
    readonly hi: number,
    /** The last four octets, as an unsigned 32-bit value. */
    readonly lo: number,
  ) {}

  /** ff:ff:ff:ff:ff:ff, the broadcast address (ARP requests go here, RFC 826). */
  static readonly BROADCAST = new MacAddr(0xffff, 0xffffffff);
  /** 00:00:00:00:00:00, the "unknown" target hardware address of an ARP request. */
  static readonly ZERO = new MacAddr(0, 0);

  /** Reads six bytes at `off`. The caller has checked the length. */
  static read(bytes: Uint8Array, off: number): MacAddr {
    return new MacAddr(getU16(bytes, off), getU32(bytes, off + 2));
  }
  /** The address whose 48-bit big-endian value is `n` (0 <= n < 2^48). */
  static fromNumber(n: number): MacAddr {
    return new MacAddr(Math.floor(n / 0x1_0000_0000) & 0xffff, n >>> 0);
  }
  /** Parses six two-digit hex octets separated by ':' (or '-'), e.g. "02:00:00:00:00:01". */
  static parse(text: string): Result<MacAddr, string> {
    if (!/^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/.test(text)) {
      return err(`invalid MAC address: ${JSON.stringify(text)}`);
    }
    const h = text.replace(/[:-]/g, '');
    return ok(new MacAddr(parseInt(h.slice(0, 4), 16), parseInt(h.slice(4), 16) >>> 0));
  }
  /** Like `parse`, but throws: for addresses written in code and configuration. */
  static from(text: string): MacAddr {
    const r = MacAddr.parse(text);
    if (!r.ok) throw new TypeError(r.error);
    return r.value;
  }
  /**
   * The Ethernet address an IPv6 multicast group maps to. RFC 2464 §7: "transmitted to the
   * Ethernet multicast address whose first two octets are the value 3333 hexadecimal and whose
   * last four octets are the last four octets of DST."
   */
  static ipv6Multicast(group: IpAddr): MacAddr {
    return new MacAddr(0x3333, group.w3);
  }

  /** The 48-bit value as an exact integer: a cheap key for maps. */
  toNumber(): number {
    return this.hi * 0x1_0000_0000 + this.lo;
  }
  /** True for ff:ff:ff:ff:ff:ff. */
  get isBroadcast(): boolean {
    return this.hi === 0xffff && this.lo === 0xffffffff;
  }
  /** True when the I/G bit (least significant bit of the first octet) marks a group address; includes broadcast. */
  get isMulticast(): boolean {
    return (this.hi & 0x0100) !== 0;
  }
  /** Same 48 bits. */
  equals(o: MacAddr): boolean {
    return this.hi === o.hi && this.lo === o.lo;
  }
  /** Whether the six bytes at `off` equal this address, without allocating. */
  equalsBytes(bytes: Uint8Array, off: number): boolean {
    return getU16(bytes, off) === this.hi && getU32(bytes, off + 2) === this.lo;
  }
  /** Writes six bytes at `off`. */
  write(bytes: Uint8Array, off: number): void {
    setU16(bytes, off, this.hi);
    setU32(bytes, off + 2, this.lo);
  }
  /** Lower-case, colon-separated: "02:00:00:00:00:01". */
  toString(): string {
    const h = this.hi.toString(16).padStart(4, '0') + this.lo.toString(16).padStart(8, '0');
    return h.replace(/(..)(?!$)/g, '$1:');
  }
}

/** The values of an Ethernet II header. */
export interface EthernetRepr {
  dst: MacAddr;
  src: MacAddr;
  /** The Type field; values below 0x0600 are 802.3 lengths, which the stack drops as unsupported. */
  ethertype: number;
}

/** A parsed Ethernet II frame: the header values and the payload that follows them. */
export interface EthernetFrame extends EthernetRepr {
  /** Everything after the 14-byte header (a subarray of the input, never a copy); may include link padding. */
  payload: Uint8Array;
}

/**
 * Parses an Ethernet II header. Any EtherType is accepted here: which ones the stack handles
 * is the stack's decision (and its drop counter). The payload keeps any padding that brought
 * the frame to the 60-byte minimum; the IP and ARP parsers ignore it.
 */
export function parseEthernet(bytes: Uint8Array): Result<EthernetFrame, WireError> {
  if (bytes.length < ETHERNET_HEADER_LEN) return err('truncated');
  return ok({
    dst: MacAddr.read(bytes, 0),
    src: MacAddr.read(bytes, 6),
    ethertype: getU16(bytes, 12),
    payload: bytes.subarray(ETHERNET_HEADER_LEN),
  });
}

/**
 * Writes the 14-byte header at the start of `out`; allocates nothing. The payload is the
 * caller's: it is already in place at `out[14..]` and is not touched.
 */
export function emitEthernet(repr: EthernetRepr, out: Uint8Array): void {
  repr.dst.write(out, 0);
  repr.src.write(out, 6);
  setU16(out, 12, repr.ethertype);
}
