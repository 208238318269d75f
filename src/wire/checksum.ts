// The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum of
// 16-bit words. Sums are kept unfolded in a double (exact up to 2^53), so pieces (pseudo-header,
// header, payload) can be summed separately and combined; every piece but the last must have
// even length. Large aligned buffers are summed 32 bits at a time through a Uint32Array with
// deferred carries (RFC 1071 §2(C)); byte order is fixed once at the end (§2(B)).
import type { IpAddr } from './ip-addr.js';

/** Below this many bytes the plain byte-pair loop beats creating a Uint32Array view. */
const WIDE_THRESHOLD = 128;

/** Whether typed arrays use little-endian byte order here (every mainstream JS engine does). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Adds the bytes, as big-endian 16-bit words, to the unfolded sum `acc`; returns the new sum. */
export function onesSum(bytes: Uint8Array, acc = 0): number {
  return onesSumRange(bytes, 0, bytes.length, acc);
}

/**
 * Adds `bytes[start, end)`, as big-endian 16-bit words from `start`, to the unfolded sum `acc`;
 * returns the new sum. The same as `onesSum(bytes.subarray(start, end), acc)` without the view,
 * for the per-segment paths that checksum part of a frame.
 */
export function onesSumRange(bytes: Uint8Array, start: number, end: number, acc = 0): number {
  const n = end - start;
  let i = start;
  let be = acc;
  const off = bytes.byteOffset + start;
  if (n >= WIDE_THRESHOLD && (off & 1) === 0) {
    // Reach 4-byte alignment with at most one 16-bit word.
    if ((off & 3) !== 0) {
      be += (bytes[i]! << 8) | bytes[i + 1]!;
      i += 2;
    }
    const words = (end - i) >>> 2;
    const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words);
    // On a little-endian host each 16-bit half is a byte-swapped network word: swap once at the end.
    let le = 0;
    let k = 0;
    for (; k + 4 <= words; k += 4) {
      const a = u32[k]!, b = u32[k + 1]!, c = u32[k + 2]!, d = u32[k + 3]!;
      le += (a & 0xffff) + (a >>> 16) + (b & 0xffff) + (b >>> 16) + (c & 0xffff) + (c >>> 16) + (d & 0xffff) + (d >>> 16);
    }
    for (; k < words; k++) {
      const a = u32[k]!;
      le += (a & 0xffff) + (a >>> 16);
    }
    const f = fold(le);
    // A big-endian host reads network words as they are; no swap (RFC 1071 §2(B)).
    be += LITTLE_ENDIAN ? ((f & 0xff) << 8) | (f >>> 8) : f;
    i += words << 2;
  }
  for (; i + 1 < end; i += 2) be += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) be += bytes[i]! << 8; // odd trailing byte, padded with zero (RFC 1071 §1)
  return be;
}

/** Folds an unfolded sum to 16 bits with end-around carries. */
export function fold(sum: number): number {
  // The sum fits in 53 bits; two divisions bring it under 2^32, then integer folds finish.
  while (sum > 0xffffffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The checksum field value for an unfolded sum: the one's complement of the folded sum. */
export function finish(sum: number): number {
  return ~fold(sum) & 0xffff;
}

/** The Internet checksum of `bytes` (plus an optional partial sum). Verifying data that contains its own checksum yields 0. */
export function internetChecksum(bytes: Uint8Array, acc = 0): number {
  return finish(onesSum(bytes, acc));
}

/**
 * The unfolded sum of the TCP/UDP pseudo-header: RFC 9293 §3.1 (IPv4: src, dst, zero, protocol,
 * TCP length) and RFC 8200 §8.1 (IPv6: src, dst, upper-layer length, zeros, next header).
 */
export function pseudoHeaderSum(src: IpAddr, dst: IpAddr, protocol: number, length: number): number {
  // Written out word by word: this runs once per segment, so no temporary array.
  let s = wordSum(src.w3) + wordSum(dst.w3);
  if (src.family === 6) {
    s += wordSum(src.w0) + wordSum(src.w1) + wordSum(src.w2) + wordSum(dst.w0) + wordSum(dst.w1) + wordSum(dst.w2);
  }
  return s + protocol + wordSum(length);
}

/** The two 16-bit halves of a 32-bit value, added. */
function wordSum(w: number): number {
  return (w >>> 16) + (w & 0xffff);
}
