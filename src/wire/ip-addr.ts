// IP addresses as values: IPv4 and IPv6 held as four 32-bit words, so comparison and hashing
// are a few integer operations (demux never builds string keys). IPv4 addresses are stored as
// IPv4-mapped IPv6 words (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) but keep family 4.
import { type Result, ok, err } from '../util/result.js';

/** An IPv4 or IPv6 address. Immutable. */
export class IpAddr {
  private constructor(
    readonly family: 4 | 6,
    readonly w0: number,
    readonly w1: number,
    readonly w2: number,
    readonly w3: number,
  ) {}

  /** An IPv4 address from its 32-bit value. */
  static v4(u32: number): IpAddr {
    return new IpAddr(4, 0, 0, 0xffff, u32 >>> 0);
  }
  /** An IPv6 address from four 32-bit words, most significant first. */
  static v6(w0: number, w1: number, w2: number, w3: number): IpAddr {
    return new IpAddr(6, w0 >>> 0, w1 >>> 0, w2 >>> 0, w3 >>> 0);
  }
  /** Reads 4 (IPv4) or 16 (IPv6) bytes at `off`. The caller has checked the length. */
  static read(bytes: Uint8Array, off: number, family: 4 | 6): IpAddr {
    if (family === 4) return IpAddr.v4(readU32(bytes, off));
    return IpAddr.v6(readU32(bytes, off), readU32(bytes, off + 4), readU32(bytes, off + 8), readU32(bytes, off + 12));
  }
  /** Parses dotted-quad IPv4 or RFC 4291 §2.2 IPv6 text (`::` compression, embedded IPv4). */
  static parse(text: string): Result<IpAddr, string> {
    const v4 = parseV4(text);
    if (v4 !== undefined) return ok(IpAddr.v4(v4));
    const v6 = parseV6(text);
    if (v6 !== undefined) return ok(IpAddr.v6(v6[0], v6[1], v6[2], v6[3]));
    return err(`invalid IP address: ${JSON.stringify(text)}`);
  }
  /** Like `parse`, but throws: for addresses written in code and configuration. */
  static from(text: string): IpAddr {
    const r = IpAddr.parse(text);
    if (!r.ok) throw new TypeError(r.error);
    return r.value;
  }

  /** The unspecified address of a family (0.0.0.0 or ::). */
  static any(family: 4 | 6): IpAddr {
    return family === 4 ? ANY4 : ANY6;
  }

  /** The IPv4 address as a 32-bit value (only meaningful for family 4). */
  get v4(): number {
    return this.w3;
  }
  /** Number of bytes on the wire: 4 or 16. */
  get byteLength(): 4 | 16 {
    return this.family === 4 ? 4 : 16;
  }
  /** True for 0.0.0.0 and ::. */
  get isUnspecified(): boolean {
    return this.family === 4 ? this.w3 === 0 : (this.w0 | this.w1 | this.w2 | this.w3) === 0;
  }
  /** True for 127.0.0.0/8 and ::1. */
  get isLoopback(): boolean {
    return this.family === 4 ? this.w3 >>> 24 === 127 : (this.w0 | this.w1 | this.w2) === 0 && this.w3 === 1;
  }
  /** True for IPv4 224.0.0.0/4, IPv4 limited broadcast and IPv6 ff00::/8. */
  get isMulticastOrBroadcast(): boolean {
    return this.family === 4 ? this.w3 >>> 28 === 0xe || this.w3 === 0xffffffff : this.w0 >>> 24 === 0xff;
  }
  /** Same family and same bits. */
  equals(o: IpAddr): boolean {
    return this.family === o.family && this.w3 === o.w3 && this.w2 === o.w2 && this.w1 === o.w1 && this.w0 === o.w0;
  }
  /** Whether the bytes at `off` (of this address's family) equal this address, without allocating. */
  equalsBytes(bytes: Uint8Array, off: number): boolean {
    if (this.family === 4) return readU32(bytes, off) === this.w3;
    return readU32(bytes, off) === this.w0 && readU32(bytes, off + 4) === this.w1 &&
      readU32(bytes, off + 8) === this.w2 && readU32(bytes, off + 12) === this.w3;
  }
  /** Whether this address lies in `prefix`/`len`. */
  inPrefix(prefix: IpAddr, len: number): boolean {
    if (this.family !== prefix.family) return false;
    // IPv4 is held as ::ffff:a.b.c.d, so its prefix bits start at bit 96. Word by word, without
    // temporary arrays: route lookups call this per packet.
    const bits = (this.family === 4 ? 96 : 0) + len;
    return maskedEqual(this.w0, prefix.w0, bits) && maskedEqual(this.w1, prefix.w1, bits - 32) &&
      maskedEqual(this.w2, prefix.w2, bits - 64) && maskedEqual(this.w3, prefix.w3, bits - 96);
  }
  /** Writes 4 or 16 bytes at `off`. */
  write(bytes: Uint8Array, off: number): void {
    if (this.family === 4) {
      writeU32(bytes, off, this.w3);
      return;
    }
    writeU32(bytes, off, this.w0);
    writeU32(bytes, off + 4, this.w1);
    writeU32(bytes, off + 8, this.w2);
    writeU32(bytes, off + 12, this.w3);
  }
  /** A 32-bit mix of the address words, for hash tables (signed, see `mix32`). */
  hash(): number {
    return mix32(this.w0 ^ mix32(this.w1 ^ mix32(this.w2 ^ mix32(this.w3))));
  }
  /** Dotted quad for IPv4; RFC 5952 canonical text for IPv6. */
  toString(): string {
    if (this.family === 4) {
      const a = this.w3;
      return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
    }
    return formatV6([this.w0, this.w1, this.w2, this.w3]);
  }
}

const ANY4 = IpAddr.v4(0);
const ANY6 = IpAddr.v6(0, 0, 0, 0);

/**
 * A 32-bit integer mixer (the murmur3 finaliser), returned as a signed 32-bit value: V8 keeps
 * that as a small integer, where an unsigned result of 2^31 or more (half of them) is a heap
 * number allocated per call (10-15% of the bytes allocated per SYN in the SYN-flood benchmark).
 * Every user masks it (`& (size - 1)`) or uses it as a key, for which the sign does not matter.
 */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Whether the first `bits` bits (clamped to 0..32) of two 32-bit words agree. */
function maskedEqual(a: number, b: number, bits: number): boolean {
  if (bits <= 0) return true;
  const mask = bits >= 32 ? 0xffffffff : ~(0xffffffff >>> bits);
  return ((a ^ b) & mask) === 0;
}

function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
}

function parseV4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return v >>> 0;
}

function parseV6(text: string): [number, number, number, number] | undefined {
  const pct = text.indexOf('%');
  if (pct >= 0) {
    if (pct === text.length - 1) return undefined; // RFC 6874 §2: a zone ID is not empty
    text = text.slice(0, pct); // zone index: not meaningful to us
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  // RFC 4291 §2.2 (3): an embedded dotted quad is only ever the last 32 bits of the address.
  const groups = (s: string, last: boolean): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (last && i === parts.length - 1 && p.includes('.')) {
        const v4 = parseV4(p);
        if (v4 === undefined) return undefined;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? groups(halves[1]!, true) : [];
  if (head === undefined || tail === undefined) return undefined;
  let all: number[];
  if (halves.length === 2) {
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return undefined;
    all = [...head, ...new Array<number>(fill).fill(0), ...tail];
  } else {
    all = head;
  }
  if (all.length !== 8) return undefined;
  return [0, 1, 2, 3].map((i) => ((all[2 * i]! << 16) | all[2 * i + 1]!) >>> 0) as [number, number, number, number];
}

function formatV6(w: number[]): string {
  const g: number[] = [];
  for (const x of w) g.push(x >>> 16, x & 0xffff);
  // RFC 5952 §4.2: compress the longest run (>= 2) of zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
  if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) {
    const a = w[3]!;
    return `::ffff:${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}
