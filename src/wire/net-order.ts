// Byte helpers for the wire parsers and emitters: big-endian ("network byte order", RFC 791
// Appendix B) reads and writes of 16- and 32-bit fields, and placing a body after a header.
// Plain index arithmetic rather than a DataView, so parsing a header allocates nothing.
// Callers check bounds first: these helpers never do.

/** Reads the big-endian 16-bit value at `o`. */
export function getU16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/** Reads the big-endian unsigned 32-bit value at `o`. */
export function getU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Writes the low 16 bits of `v` big-endian at `o`. */
export function setU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}

/** Writes `v` as a big-endian 32-bit value at `o`. */
export function setU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/**
 * Copies `body` to `out[at..]` unless it already sits exactly there (a subarray of the same
 * buffer at that position), so a payload built in place is never copied onto itself.
 */
export function placeAt(out: Uint8Array, at: number, body: Uint8Array): void {
  if (body.buffer === out.buffer && body.byteOffset === out.byteOffset + at) return;
  out.set(body, at);
}
