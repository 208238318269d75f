// The UDP header. Read first: RFC 768 (the header and its checksum), RFC 1122 §4.1.3.4 (hosts
// check the checksum and generate it by default), RFC 8200 §8.1 (IPv6: the pseudo-header, and
// the checksum is mandatory), RFC 8085 (how UDP should be used).
import { type Result, ok, err } from '../util/result.js';
import { finish, onesSum, pseudoHeaderSum } from './checksum.js';
import type { WireError } from './error.js';
import type { IpAddr } from './ip-addr.js';
import { getU16, setU16 } from './net-order.js';

/** Bytes in a UDP header. */
export const UDP_HEADER_LEN = 8;

/** UDP's protocol number in the pseudo-header. */
const PROTO_UDP = 17;

/** A UDP header as values (what `emitUdp` writes). */
export interface UdpRepr {
  srcPort: number;
  dstPort: number;
  /** Bytes of data after the header: the Length field minus 8. */
  payloadLen: number;
}

/** A parsed UDP datagram. */
export interface UdpPacket extends UdpRepr {
  /** The data, a subarray of the input ending where the Length field says. */
  payload: Uint8Array;
}

/**
 * Parses a UDP datagram from the IP payload `bytes`, checking the checksum over the
 * pseudo-header built from `src` and `dst` (their family selects RFC 768 or RFC 8200 §8.1).
 * The Length field must be at least 8 and within `bytes`; the datagram ends there.
 * A zero checksum means "none" over IPv4 (RFC 768: "An all zero transmitted checksum value
 * means that the transmitter generated no checksum"), but over IPv6 RFC 8200 §8.1 says
 * "IPv6 receivers must discard UDP packets containing a zero checksum": 'bad-checksum'.
 * Pass `verifyChecksum = false` only for links known to deliver intact frames (offload).
 */
export function parseUdp(bytes: Uint8Array, src: IpAddr, dst: IpAddr, verifyChecksum = true): Result<UdpPacket, WireError> {
  if (bytes.length < UDP_HEADER_LEN) return err('truncated');
  const len = getU16(bytes, 4);
  if (len < UDP_HEADER_LEN || len > bytes.length) return err('bad-length');
  const datagram = len === bytes.length ? bytes : bytes.subarray(0, len);
  if (getU16(bytes, 6) === 0) {
    if (src.family === 6) return err('bad-checksum');
  } else if (verifyChecksum && finish(onesSum(datagram, pseudoHeaderSum(src, dst, PROTO_UDP, len))) !== 0) {
    return err('bad-checksum');
  }
  return ok({
    srcPort: getU16(bytes, 0),
    dstPort: getU16(bytes, 2),
    payloadLen: len - UDP_HEADER_LEN,
    payload: datagram.subarray(UDP_HEADER_LEN),
  });
}

/**
 * Writes the 8-byte header at the start of `out` and the checksum over the pseudo-header,
 * header and data. The data (`repr.payloadLen` bytes) must already be in place at `out[8..]`:
 * it is summed, never copied. Always checksums (RFC 1122 §4.1.3.4: checksumming "MUST default
 * to checksumming on"); a computed 0 is sent as 0xFFFF (RFC 768), since 0 means "none".
 */
export function emitUdp(repr: UdpRepr, out: Uint8Array, src: IpAddr, dst: IpAddr): void {
  const len = UDP_HEADER_LEN + repr.payloadLen;
  setU16(out, 0, repr.srcPort);
  setU16(out, 2, repr.dstPort);
  setU16(out, 4, len);
  setU16(out, 6, 0);
  const sum = finish(onesSum(len === out.length ? out : out.subarray(0, len), pseudoHeaderSum(src, dst, PROTO_UDP, len)));
  setU16(out, 6, sum === 0 ? 0xffff : sum);
}
