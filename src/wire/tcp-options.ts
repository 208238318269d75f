// TCP options: parsing the option area of a received header into `TcpOptions`, and writing
// `TcpOptions` back in the exact byte layout Linux uses. The header itself lives in tcp.ts.
// Read first: RFC 9293 §3.1 (Options) and §3.2 (EOL, NOP, MSS), RFC 7323 §2.2 (window scale) and
// §3.2 (timestamps), RFC 2018 §2-3 (SACK-permitted, SACK), RFC 2883 (D-SACK: a first block below
// the cumulative ACK; it needs nothing special on the wire), RFC 7413 §4.1.1 (Fast Open cookie),
// RFC 6994 §3 (the shared experimental kind 254 with a 16-bit ExID).
//
// Parsing is purely syntactic: an option is reported whatever the segment's flags. RFC 9293 §3.1:
// "A TCP implementation MUST be able to receive a TCP Option in any segment (MUST-5)." Ignoring
// options that only mean something on a SYN (MSS, window scale per RFC 7323 §2.2, SACK-permitted,
// a TFO cookie per RFC 7413 §4.1.1) is the TCP layer's decision, not the wire format's.
//
// Allocation: parsing allocates only what options carry, copied out of the frame (a `SackBlock`
// array and its blocks, a cookie `Uint8Array`), so the repr stays valid after the driver reuses
// the frame buffer; a parser that owns its repr can lend a `TcpOptionScratch` so the timestamp
// and SACK blocks are reused too. Emitting allocates nothing.
import type { Seq } from '../tcp/seq.js';
import type { WireError } from './error.js';
import { getU16, getU32, setU32 } from './net-order.js';
import type { SackBlock, TcpOptions, TcpTimestamp } from './tcp.js';

/** The largest option area: a 4-bit data offset allows 60 header bytes, 20 of them fixed (RFC 9293 §3.1). */
export const TCP_MAX_OPTIONS = 40;

/** Option kinds this module knows (IANA "TCP Option Kind Numbers"). */
export const TcpOptionKind = {
  EOL: 0,
  NOP: 1,
  MSS: 2,
  WSCALE: 3,
  SACK_PERMITTED: 4,
  SACK: 5,
  TIMESTAMP: 8,
  FAST_OPEN: 34,
  EXPERIMENTAL: 254,
} as const;

/** The RFC 6994 ExID Linux and other stacks used for TCP Fast Open before kind 34 was assigned. */
export const TFO_EXPERIMENTAL_MAGIC = 0xf989;

/** The fewest cookie bytes a Fast Open option may carry (RFC 7413 §4.1.1); 0 means a cookie request. */
export const TFO_COOKIE_MIN = 4;
/** The most cookie bytes a Fast Open option may carry (RFC 7413 §4.1.1). */
export const TFO_COOKIE_MAX = 16;

/** The most SACK blocks one option can hold: 2 + 8 * 4 = 34 bytes, and a fifth would not fit in 40 (RFC 2018 §3). */
export const TCP_MAX_SACK_BLOCKS = 4;

const LEN_MSS = 4;
const LEN_WSCALE = 3;
const LEN_SACK_PERMITTED = 2;
const LEN_TIMESTAMP = 10;
const LEN_SACK_BASE = 2;
const LEN_SACK_PER_BLOCK = 8;
const LEN_TFO_BASE = 2;
const LEN_TFO_EXP_BASE = 4;

/** A shared cookie request: a zero-length array cannot be written through, so sharing it is safe. */
const COOKIE_REQUEST = new Uint8Array(0);

/** Sets every field of `o` to undefined, so a reused repr cannot leak options from an earlier segment. */
export function resetTcpOptions(o: TcpOptions): void {
  o.mss = undefined;
  o.wscale = undefined;
  o.sackPermitted = undefined;
  o.sack = undefined;
  o.timestamp = undefined;
  o.fastOpen = undefined;
  o.fastOpenExperimental = undefined;
}

/** A fresh `TcpOptions` with every field present and undefined (one object shape for all reprs). */
export function emptyTcpOptions(): TcpOptions {
  return {
    mss: undefined,
    wscale: undefined,
    sackPermitted: undefined,
    sack: undefined,
    timestamp: undefined,
    fastOpen: undefined,
    fastOpenExperimental: undefined,
  };
}

/**
 * Storage a parser that owns its repr can lend `parseTcpOptions` for what options carry: the
 * timestamp and the SACK blocks are then written into these objects instead of fresh ones (one
 * object per timestamped segment, an array and its blocks per SACK, in the profile of a bulk
 * transfer). What a parse with a scratch returns is valid until the next parse with it.
 */
export class TcpOptionScratch {
  /** The timestamp of the last segment parsed with this scratch. */
  readonly timestamp: TcpTimestamp = { tsval: 0, tsecr: 0 };
  private readonly blocks: readonly SackBlock[] = [0, 1, 2, 3].map(() => ({ left: 0 as Seq, right: 0 as Seq }));
  // One array per block count, each a prefix of `blocks`, made once.
  private readonly views: readonly SackBlock[][] = [0, 1, 2, 3, 4].map((k) => this.blocks.slice(0, k));

  /** `n` (1 to 4) reused blocks as an array of length `n`. */
  sackBlocks(n: number): SackBlock[] {
    return this.views[n]!;
  }
}

/**
 * Parses the option area `bytes[start, end)` into `o` (which the caller has reset); returns
 * undefined on success or 'bad-option' when the option list cannot be walked. With `scratch`,
 * the timestamp and SACK blocks are written into its objects (see `TcpOptionScratch`).
 *
 * Policies, each the same as Linux's tcp_parse_options (net/ipv4/tcp_input.c) unless marked:
 * - EOL ends the list; bytes after it are padding and are not looked at (RFC 9293 §3.2).
 * - Duplicated options: the last well-formed one wins, since each simply overwrites the field.
 * - A known kind with the wrong length is ignored and the segment kept: Linux checks `opsize`
 *   against each option's fixed size and skips the option when it differs. The option is then
 *   absent (an earlier well-formed copy, if any, stands).
 * - Unknown kinds, including kind 254 with an ExID other than 0xF989, are skipped by their
 *   length. RFC 9293 §3.1: "A TCP implementation MUST (MUST-6) ignore without error any TCP
 *   Option it does not implement, assuming that the option has a length field."
 */
export function parseTcpOptions(bytes: Uint8Array, start: number, end: number, o: TcpOptions, scratch?: TcpOptionScratch): WireError | undefined {
  let i = start;
  while (i < end) {
    const kind = bytes[i]!;
    if (kind === TcpOptionKind.EOL) return undefined;
    if (kind === TcpOptionKind.NOP) {
      i++;
      continue;
    }
    // RFC 9293 §3.1: "All TCP Options except End of Option List Option (EOL) and No-Operation
    // (NOP) MUST have length fields, including all future options (MUST-68). TCP implementations
    // MUST be prepared to handle an illegal option length (e.g., zero); a suggested procedure is
    // to reset the connection and log the error cause (MUST-7)."
    // Deviation: Linux stops parsing at a missing length byte, a length below 2 or an option
    // running past the header, and keeps the segment with the options read so far. We reject the
    // whole segment as 'bad-option' so the stack counts it: such a header was built by a broken or
    // hostile sender, and guessing which of its options to believe helps nobody. We do not reset
    // the connection (MUST-7 only suggests it); an unauthenticated RST trigger would be an attack
    // vector.
    if (i + 1 >= end) return 'bad-option';
    const len = bytes[i + 1]!;
    if (len < 2 || i + len > end) return 'bad-option';
    const body = i + 2;
    switch (kind) {
      case TcpOptionKind.MSS:
        // RFC 9293 §3.2: "Length: 1 byte; Length == 4."
        if (len === LEN_MSS) o.mss = getU16(bytes, body);
        break;
      case TcpOptionKind.WSCALE:
        // RFC 7323 §2.2: "Kind: 3 Length: 3 bytes". A shift above 14 is kept as received; the TCP
        // layer applies RFC 7323 §2.3 ("MUST use 14 instead of the specified value").
        if (len === LEN_WSCALE) o.wscale = bytes[body]!;
        break;
      case TcpOptionKind.SACK_PERMITTED:
        // RFC 2018 §2: "Kind: 4 Length: 2".
        if (len === LEN_SACK_PERMITTED) o.sackPermitted = true;
        break;
      case TcpOptionKind.SACK: {
        // RFC 2018 §3: "Kind: 5 Length: Variable", 8 bytes per block. A length that is not
        // 2 + 8n with n >= 1 is ignored, as Linux does. n <= 4 holds by construction: the whole
        // area is at most 40 bytes.
        const n = (len - LEN_SACK_BASE) >>> 3;
        if (n === 0 || len !== LEN_SACK_BASE + n * LEN_SACK_PER_BLOCK) break;
        if (scratch !== undefined) {
          const blocks = scratch.sackBlocks(n);
          for (let k = 0; k < n; k++) {
            const p = body + k * LEN_SACK_PER_BLOCK;
            const b = blocks[k]!;
            b.left = (getU32(bytes, p) | 0) as Seq; // signed (src/tcp/seq.ts)
            b.right = (getU32(bytes, p + 4) | 0) as Seq;
          }
          o.sack = blocks;
          break;
        }
        const blocks: SackBlock[] = new Array<SackBlock>(n);
        for (let k = 0; k < n; k++) {
          const p = body + k * LEN_SACK_PER_BLOCK;
          blocks[k] = { left: (getU32(bytes, p) | 0) as Seq, right: (getU32(bytes, p + 4) | 0) as Seq }; // signed (src/tcp/seq.ts)
        }
        o.sack = blocks;
        break;
      }
      case TcpOptionKind.TIMESTAMP:
        // RFC 7323 §3.2: "Kind: 8 Length: 10 bytes", then TSval and TSecr, 4 bytes each.
        if (len === LEN_TIMESTAMP) {
          if (scratch !== undefined) {
            const t = scratch.timestamp;
            t.tsval = getU32(bytes, body);
            t.tsecr = getU32(bytes, body + 4);
            o.timestamp = t;
          } else {
            o.timestamp = { tsval: getU32(bytes, body), tsecr: getU32(bytes, body + 4) };
          }
        }
        break;
      case TcpOptionKind.FAST_OPEN:
        parseFastOpen(bytes, body, len - LEN_TFO_BASE, false, o);
        break;
      case TcpOptionKind.EXPERIMENTAL:
        // RFC 6994 §3: the first two bytes after kind and length are the ExID. Any other ExID
        // is someone else's experiment: skipped like an unknown kind.
        if (len >= LEN_TFO_EXP_BASE && getU16(bytes, body) === TFO_EXPERIMENTAL_MAGIC) {
          parseFastOpen(bytes, body + 2, len - LEN_TFO_EXP_BASE, true, o);
        }
        break;
      default:
        break; // not ours (MUST-6): skipped by its length below
    }
    i += len;
  }
  return undefined;
}

/**
 * RFC 7413 §4.1.1 (with erratum 4238): "Length 1 byte: range 2 to 18 (bytes); limited by
 * remaining space in the options field. The number MUST be even. Cookie 0, or 4 to 16 bytes in
 * length (Length - 2)", and "Options with invalid Length values or without the SYN flag set MUST
 * be ignored." So an odd or out-of-range cookie length makes the option absent, not the segment
 * bad: the rest of the header is well formed, and dropping the SYN would turn a bad cookie into a
 * failed connection instead of a fallback to the ordinary handshake. Linux's
 * tcp_parse_fastopen_option also ignores odd lengths and never uses an out-of-range cookie.
 */
function parseFastOpen(bytes: Uint8Array, at: number, cookieLen: number, experimental: boolean, o: TcpOptions): void {
  if (cookieLen !== 0 && (cookieLen < TFO_COOKIE_MIN || cookieLen > TFO_COOKIE_MAX || (cookieLen & 1) !== 0)) return;
  o.fastOpen = cookieLen === 0 ? COOKIE_REQUEST : bytes.slice(at, at + cookieLen);
  o.fastOpenExperimental = experimental ? true : undefined;
}

/** Bytes the options other than SACK blocks occupy when emitted, already a multiple of 4. */
function fixedOptionsLength(o: TcpOptions): number {
  let n = 0;
  if (o.mss !== undefined) n += 4;
  if (o.timestamp !== undefined) n += 12; // carries SACK-permitted in its first word when present
  else if (o.sackPermitted === true) n += 4;
  if (o.wscale !== undefined) n += 4;
  if (o.fastOpen !== undefined) n += fastOpenSpace(o.fastOpen.length, o.fastOpenExperimental === true);
  return n;
}

function fastOpenSpace(cookieLen: number, experimental: boolean): number {
  // The cookie is caller data (a peer's cookie we echo, or one we generated); a wrong size here is
  // a bug in the caller, and one above 16 bytes could push the header past 60 bytes.
  if (cookieLen > TFO_COOKIE_MAX) {
    throw new RangeError(`TCP Fast Open cookie of ${cookieLen} bytes is longer than ${TFO_COOKIE_MAX} (RFC 7413 §4.1.1)`);
  }
  return (cookieLen + (experimental ? LEN_TFO_EXP_BASE : LEN_TFO_BASE) + 3) & ~3;
}

/**
 * How many SACK blocks fit beside the other options in `o` (0 to 4), whatever `o.sack` holds;
 * with timestamps it is 3, as RFC 2018 §3 notes.
 */
export function maxSackBlocks(o: TcpOptions): number {
  const room = TCP_MAX_OPTIONS - fixedOptionsLength(o) - 4; // 4: NOP NOP kind length
  return room < LEN_SACK_PER_BLOCK ? 0 : Math.min(TCP_MAX_SACK_BLOCKS, room >>> 3);
}

/** How many of `o.sack`'s blocks `emitTcpOptions` writes: the first ones, as many as fit. */
export function emittedSackBlocks(o: TcpOptions): number {
  const n = o.sack === undefined ? 0 : o.sack.length;
  return n === 0 ? 0 : Math.min(n, maxSackBlocks(o));
}

/**
 * Bytes the options occupy when emitted: a multiple of 4, at most 40. When everything does not
 * fit, SACK blocks are dropped from the end of `o.sack`, as Linux's tcp_established_options does:
 * RFC 2018 §4 puts the block that matters most first ("The first SACK block ... MUST specify the
 * contiguous block of data containing the segment which triggered this ACK"); `maxSackBlocks` tells the
 * TCP layer how many will go out. Throws RangeError for a Fast Open cookie longer than 16 bytes.
 */
export function tcpOptionsLength(o: TcpOptions): number {
  const k = emittedSackBlocks(o);
  return fixedOptionsLength(o) + (k === 0 ? 0 : 4 + k * LEN_SACK_PER_BLOCK);
}

/**
 * Writes the options of `o` at `out[off]` in Linux's order and returns the bytes written
 * (`tcpOptionsLength(o)`); allocates nothing.
 *
 * Layout, word by word, as Linux's tcp_options_write (net/ipv4/tcp_output.c) lays them out, so
 * captures compare byte for byte with the kernel's (an interop suite checks this). Linux's comment
 * there warns that middleboxes are sensitive to the order, which is one more reason to copy it:
 *   1. MSS:                          02 04 mm mm
 *   2. timestamps, with SACK-perm:   04 02 08 0a  tsval  tsecr
 *      timestamps, without:          01 01 08 0a  tsval  tsecr
 *   3. SACK-perm without timestamps: 01 01 04 02
 *   4. window scale:                 01 03 03 ss
 *   5. SACK blocks:                  01 01 05 ll  (left right) x n
 *   6. Fast Open:                    22 ll cookie...            then NOPs to a 4-byte boundary
 *      experimental Fast Open:       fe ll f9 89 cookie...      then NOPs to a 4-byte boundary
 * Linux puts MD5/AO signatures first and MPTCP/SMC last; we emit neither. Options are written
 * as given, whatever the segment's flags: which options go on which segment is the TCP layer's
 * choice. `sackPermitted: false` and `fastOpenExperimental: false` are the same as absent.
 * Numeric fields are written modulo their width (MSS 16 bits, shift 8 bits, timestamps 32 bits).
 */
export function emitTcpOptions(o: TcpOptions, out: Uint8Array, off: number): number {
  const start = off;
  if (o.mss !== undefined) {
    off = word(out, off, TcpOptionKind.MSS, LEN_MSS, (o.mss >>> 8) & 0xff, o.mss & 0xff);
  }
  const sackPermitted = o.sackPermitted === true;
  if (o.timestamp !== undefined) {
    off = sackPermitted
      ? word(out, off, TcpOptionKind.SACK_PERMITTED, LEN_SACK_PERMITTED, TcpOptionKind.TIMESTAMP, LEN_TIMESTAMP)
      : word(out, off, TcpOptionKind.NOP, TcpOptionKind.NOP, TcpOptionKind.TIMESTAMP, LEN_TIMESTAMP);
    setU32(out, off, o.timestamp.tsval);
    setU32(out, off + 4, o.timestamp.tsecr);
    off += 8;
  } else if (sackPermitted) {
    off = word(out, off, TcpOptionKind.NOP, TcpOptionKind.NOP, TcpOptionKind.SACK_PERMITTED, LEN_SACK_PERMITTED);
  }
  if (o.wscale !== undefined) {
    off = word(out, off, TcpOptionKind.NOP, TcpOptionKind.WSCALE, LEN_WSCALE, o.wscale & 0xff);
  }
  const k = emittedSackBlocks(o);
  if (k > 0) {
    const blocks = o.sack!;
    off = word(out, off, TcpOptionKind.NOP, TcpOptionKind.NOP, TcpOptionKind.SACK, LEN_SACK_BASE + k * LEN_SACK_PER_BLOCK);
    for (let b = 0; b < k; b++) {
      const block = blocks[b]!;
      setU32(out, off, block.left);
      setU32(out, off + 4, block.right);
      off += 8;
    }
  }
  if (o.fastOpen !== undefined) {
    const cookie = o.fastOpen;
    const space = fastOpenSpace(cookie.length, o.fastOpenExperimental === true);
    const optEnd = off + space;
    if (o.fastOpenExperimental === true) {
      const magic = TFO_EXPERIMENTAL_MAGIC;
      off = word(out, off, TcpOptionKind.EXPERIMENTAL, LEN_TFO_EXP_BASE + cookie.length, magic >>> 8, magic & 0xff);
    } else {
      out[off] = TcpOptionKind.FAST_OPEN;
      out[off + 1] = LEN_TFO_BASE + cookie.length;
      off += 2;
    }
    out.set(cookie, off);
    off += cookie.length;
    // Linux pads with two NOPs when the option length is 2 mod 4; its cookies are always even.
    // Padding every case with NOPs gives the same bytes for even cookies and a walkable list
    // for odd ones.
    while (off < optEnd) out[off++] = TcpOptionKind.NOP;
  }
  return off - start;
}

function word(out: Uint8Array, off: number, a: number, b: number, c: number, d: number): number {
  out[off] = a;
  out[off + 1] = b;
  out[off + 2] = c;
  out[off + 3] = d;
  return off + 4;
}
