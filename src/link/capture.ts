// Packet capture as link middleware, and the two file formats it writes: classic pcap
// (draft-ietf-opsawg-pcap-09, "PCAP Capture File Format": §4 File Header, §5 Packet Record) and
// pcapng (draft-ietf-opsawg-pcapng-06, "PCAP Now Generic": §3.1 General Block Structure, §3.4
// Physical File Layout, §3.5 Options, §4.1 Section Header Block, §4.2 Interface Description
// Block, §4.3 Enhanced Packet Block, §4.3.1 its Flags Word). Neither is an RFC yet. Writers build the file in memory so this file runs in
// browsers too; `capture-file.ts` writes one to disk under Node. `readPcap` reads both formats
// back and never throws on malformed input.
import type { Instant } from '../time/instant.js';
import { type Result, assertNever, err, ok } from '../util/result.js';
import type { Medium, Port } from './link.js';

/** Which way a frame crossed a captured port, as seen by the stack attached to it. */
export type Direction = 'in' | 'out';

/** Per-frame annotations; pcapng keeps them, classic pcap has nowhere to put them. */
export interface RecordMeta {
  /** Sent by the attached stack ('out') or delivered to it ('in'). */
  readonly direction?: Direction;
  /** Free text shown by Wireshark as a packet comment, e.g. "lost" for a dropped frame. */
  readonly comment?: string;
}

/** Where captured frames go: a file writer, or anything else that wants them. */
export interface CaptureSink {
  /** Declares an interface (one per captured port) and returns the id to pass to `record`. */
  addInterface(medium: Medium, name?: string): number;
  /** Records a copy of `frame` seen on interface `iface` at `now`; never keeps `frame` itself. */
  record(iface: number, frame: Uint8Array, now: Instant, meta?: RecordMeta): void;
}

/** LINKTYPE_ETHERNET: IEEE 802.3 Ethernet II frames, without FCS. */
export const LINKTYPE_ETHERNET = 1;
/** LINKTYPE_RAW: bare IPv4 or IPv6 packets, told apart by the version nibble. */
export const LINKTYPE_RAW = 101;
/** The snapshot length both writers declare: libpcap's maximum, larger than any frame we emit. */
export const DEFAULT_SNAPLEN = 262_144;

/** The LINKTYPE_ value for frames of a medium. */
export function linkTypeOf(medium: Medium): number {
  switch (medium) {
    case 'ethernet': return LINKTYPE_ETHERNET;
    case 'ip': return LINKTYPE_RAW;
    default: return assertNever(medium, 'medium');
  }
}

/** The medium a LINKTYPE_ value carries, or undefined for link types this stack does not speak. */
export function mediumOf(linkType: number): Medium | undefined {
  if (linkType === LINKTYPE_ETHERNET) return 'ethernet';
  if (linkType === LINKTYPE_RAW) return 'ip';
  return undefined;
}

/** A Port wrapped by `capture`: behaves as the inner port and says which capture interface it records on. */
export interface CapturedPort extends Port {
  /** The id `sink.addInterface` returned for this port, for annotating frames (e.g. drops) on it. */
  readonly captureInterface: number;
}

/** How `capture` names the port in the file. */
export interface CaptureOptions {
  /** The interface name (pcapng if_name); the writer picks one when absent. */
  readonly name?: string;
}

const OUT: RecordMeta = { direction: 'out' };
const IN: RecordMeta = { direction: 'in' };

/**
 * Wraps `port` so that every frame sent through it and every frame delivered from it is recorded
 * in `sink` at its `now`, then passed on unchanged. Attach the stack to the returned port: its
 * `onFrame` receives what the inner port delivers.
 */
export function capture(port: Port, sink: CaptureSink, options: CaptureOptions = {}): CapturedPort {
  const iface = sink.addInterface(port.medium, options.name);
  const wrapped: CapturedPort = {
    medium: port.medium,
    get mtu(): number {
      return port.mtu;
    },
    captureInterface: iface,
    // A handler set on the inner port before wrapping keeps receiving frames, now through us.
    onFrame: port.onFrame,
    send(frame: Uint8Array, now: Instant): void {
      // Record before passing on: once sent, the bytes belong to the link.
      sink.record(iface, frame, now, OUT);
      port.send(frame, now);
    },
  };
  port.onFrame = (frame: Uint8Array, now: Instant): void => {
    sink.record(iface, frame, now, IN);
    wrapped.onFrame?.(frame, now);
  };
  return wrapped;
}

/** A little-endian byte buffer that grows by doubling; both writers build their file in one. */
class ByteBuffer {
  private buf = new Uint8Array(4096);
  private dv = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }
  u16(v: number): void {
    this.reserve(2);
    this.dv.setUint16(this.length, v, true);
    this.length += 2;
  }
  u32(v: number): void {
    this.reserve(4);
    this.dv.setUint32(this.length, v >>> 0, true);
    this.length += 4;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  /** Zero bytes up to the next multiple of 4. */
  pad4(): void {
    const n = (4 - (this.length & 3)) & 3;
    this.reserve(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
  }
  setU32(at: number, v: number): void {
    this.dv.setUint32(at, v >>> 0, true);
  }
  copy(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Splits an instant into whole seconds and microseconds; files have no time before the epoch. */
function secondsAndMicros(now: Instant): [number, number] {
  const t = Math.max(0, Math.round(now));
  const s = Math.floor(t / 1_000_000);
  return [s, t - s * 1_000_000];
}

function checkSnaplen(snaplen: number): number {
  if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > 0x7fffffff) {
    throw new RangeError(`snaplen must be an integer from 1 to 2147483647, got ${snaplen}`);
  }
  return snaplen;
}

/** Options for both writers. */
export interface WriterOptions {
  /** Frames longer than this are cut to it (the record keeps the original length). */
  readonly snaplen?: number;
}

/**
 * Writes classic libpcap files (draft-ietf-opsawg-pcap §4, §5): little-endian, magic 0xa1b2c3d4
 * (microsecond timestamps), version 2.4. One link type per file, so every captured port must
 * share a medium; use `PcapngWriter` to mix them.
 */
export class PcapWriter implements CaptureSink {
  private readonly out = new ByteBuffer();
  private readonly snaplen: number;
  private medium: Medium | undefined;
  private interfaces = 0;

  constructor(options: WriterOptions = {}) {
    this.snaplen = checkSnaplen(options.snaplen ?? DEFAULT_SNAPLEN);
    const o = this.out;
    o.u32(0xa1b2c3d4); // magic: microsecond timestamps; its byte order gives the file's
    o.u16(2); // major version
    o.u16(4); // minor version
    o.u32(0); // reserved (was thiszone): 0
    o.u32(0); // reserved (was sigfigs): 0
    o.u32(this.snaplen); // snaplen
    o.u32(LINKTYPE_ETHERNET); // link type: set by the first interface, before any record
  }

  /** Declares a port; throws if its medium differs from the first one (one link type per file). */
  addInterface(medium: Medium, name?: string): number {
    if (this.medium === undefined) {
      this.medium = medium;
      this.out.setU32(20, linkTypeOf(medium));
    } else if (medium !== this.medium) {
      const who = name === undefined ? `interface ${this.interfaces}` : `interface '${name}'`;
      throw new Error(`a classic pcap file holds one link type: ${who} is '${medium}' but the file is '${this.medium}'; use PcapngWriter to capture both`);
    }
    return this.interfaces++;
  }

  /** Appends a packet record; the interface and `meta` are not representable in classic pcap and are dropped. */
  record(iface: number, frame: Uint8Array, now: Instant, _meta?: RecordMeta): void {
    if (!(iface >= 0 && iface < this.interfaces)) throw new RangeError(`unknown capture interface ${iface}`);
    const [s, us] = secondsAndMicros(now);
    const caplen = Math.min(frame.length, this.snaplen);
    const o = this.out;
    o.u32(s); // timestamp, seconds
    o.u32(us); // timestamp, microseconds
    o.u32(caplen); // captured length
    o.u32(frame.length); // original length
    o.bytes(caplen === frame.length ? frame : frame.subarray(0, caplen));
  }

  /** A copy of the file written so far. */
  bytes(): Uint8Array {
    return this.out.copy();
  }
}

// pcapng block types (§4) and option codes (§3.5, §4.2, §4.3).
const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 1;
const BT_SPB = 3;
const BT_EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_TSRESOL = 9;
const EPB_FLAGS = 2;
const MAX_OPTION_LENGTH = 0xffff;

const utf8 = new TextEncoder();

/** UTF-8 bytes of `s`, cut at a character boundary to fit an option's 16-bit length. */
function optionText(s: string): Uint8Array {
  const b = utf8.encode(s);
  if (b.length <= MAX_OPTION_LENGTH) return b;
  let n = MAX_OPTION_LENGTH;
  while (n > 0 && (b[n]! & 0xc0) === 0x80) n--; // never split a multi-byte sequence
  return b.subarray(0, n);
}

/**
 * Writes pcapng files (draft-ietf-opsawg-pcapng §4): one section, one Interface Description
 * Block per captured port (if_name, if_tsresol = 6: microseconds), and an Enhanced Packet Block
 * per frame carrying its direction (epb_flags) and an optional comment (opt_comment).
 */
export class PcapngWriter implements CaptureSink {
  private readonly out = new ByteBuffer();
  private readonly snaplen: number;
  private interfaces = 0;

  constructor(options: WriterOptions = {}) {
    this.snaplen = checkSnaplen(options.snaplen ?? DEFAULT_SNAPLEN);
    const start = this.begin(BT_SHB);
    const o = this.out;
    o.u32(BYTE_ORDER_MAGIC); // byte-order magic
    o.u16(1); // major version
    o.u16(0); // minor version
    o.u32(0xffffffff); // section length, 64 bits: -1, not given
    o.u32(0xffffffff);
    this.option(SHB_USERAPPL, optionText('synack'));
    this.end(start, true);
  }

  /** Writes an Interface Description Block; ports may be added between packets, before their first frame. */
  addInterface(medium: Medium, name?: string): number {
    const id = this.interfaces++;
    const start = this.begin(BT_IDB);
    const o = this.out;
    o.u16(linkTypeOf(medium)); // link type
    o.u16(0); // reserved
    o.u32(this.snaplen); // snaplen
    this.option(IF_NAME, optionText(name ?? `port${id}`));
    this.option(IF_TSRESOL, Uint8Array.of(6)); // timestamps in units of 10^-6 s
    this.end(start, true);
    return id;
  }

  /** Appends an Enhanced Packet Block for `frame` on interface `iface`, with `meta` as options. */
  record(iface: number, frame: Uint8Array, now: Instant, meta?: RecordMeta): void {
    if (!(iface >= 0 && iface < this.interfaces)) throw new RangeError(`unknown capture interface ${iface}`);
    const t = Math.max(0, Math.round(now));
    const hi = Math.floor(t / 0x1_0000_0000);
    const caplen = Math.min(frame.length, this.snaplen);
    const start = this.begin(BT_EPB);
    const o = this.out;
    o.u32(iface); // interface id
    o.u32(hi); // timestamp, upper 32 bits (units of if_tsresol)
    o.u32(t - hi * 0x1_0000_0000); // timestamp, lower 32 bits
    o.u32(caplen); // captured packet length
    o.u32(frame.length); // original packet length
    o.bytes(caplen === frame.length ? frame : frame.subarray(0, caplen));
    o.pad4();
    let options = false;
    if (meta?.direction !== undefined) {
      // epb_flags (§4.3.1) bits 0-1: 01 inbound, 10 outbound.
      this.option(EPB_FLAGS, u32le(meta.direction === 'in' ? 1 : 2));
      options = true;
    }
    if (meta?.comment !== undefined) {
      this.option(OPT_COMMENT, optionText(meta.comment));
      options = true;
    }
    this.end(start, options);
  }

  /** A copy of the file written so far. */
  bytes(): Uint8Array {
    return this.out.copy();
  }

  private begin(type: number): number {
    const start = this.out.length;
    this.out.u32(type); // block type
    this.out.u32(0); // block total length, patched by `end`
    return start;
  }
  private option(code: number, value: Uint8Array): void {
    this.out.u16(code);
    this.out.u16(value.length);
    this.out.bytes(value);
    this.out.pad4();
  }
  private end(start: number, hasOptions: boolean): void {
    if (hasOptions) this.option(OPT_ENDOFOPT, EMPTY);
    const total = this.out.length + 4 - start;
    this.out.u32(total); // block total length, repeated
    this.out.setU32(start + 4, total);
  }
}

const EMPTY = new Uint8Array(0);

function u32le(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
}

// ---------------------------------------------------------------------------------------------
// Reading

/** An interface described by a capture file (classic pcap has exactly one). */
export interface CaptureInterface {
  /** The LINKTYPE_ value. */
  readonly linkType: number;
  /** The medium for the link types this stack speaks; undefined for others. */
  readonly medium: Medium | undefined;
  /** if_name, when the file gives one. */
  readonly name?: string;
  /** The largest number of bytes kept per packet. */
  readonly snaplen: number;
}

/** One packet read from a capture file. */
export interface CaptureRecord {
  /** Index into `CaptureFile.interfaces`. */
  readonly iface: number;
  /** The timestamp in microseconds (rounded down from finer resolutions). */
  readonly time: Instant;
  /** The captured bytes: a view into the input, not a copy. */
  readonly data: Uint8Array;
  /** The packet's length on the wire; larger than `data.length` when cut to the snaplen. */
  readonly originalLength: number;
  /** From pcapng epb_flags, when present. */
  readonly direction?: Direction;
  /** From pcapng opt_comment, when present (the first, if several). */
  readonly comment?: string;
}

/** The contents of a pcap or pcapng file. */
export interface CaptureFile {
  /** Which format the bytes were in. */
  readonly format: 'pcap' | 'pcapng';
  /** Interfaces in file order; pcapng sections after the first append theirs. */
  readonly interfaces: readonly CaptureInterface[];
  /** Packets in file order. */
  readonly records: readonly CaptureRecord[];
}

/** Why `readPcap` rejected its input, and the byte offset of the header or block at fault. */
export interface CaptureFileError {
  /** What was wrong. */
  readonly reason:
    | 'truncated' // the file ends inside a header, block or packet
    | 'bad-magic' // neither a pcap magic number nor a pcapng Section Header Block
    | 'bad-version' // a classic pcap major version other than 2
    | 'bad-block-length' // a pcapng block length under 12, not a multiple of 4, or not repeated
    | 'bad-block' // a pcapng block too short for its fixed fields
    | 'bad-option' // a pcapng option runs past its block
    | 'unknown-interface'; // a packet names an interface no IDB declared
  /** Offset of the file header, record or block at fault. */
  readonly offset: number;
}

const fail = (reason: CaptureFileError['reason'], offset: number): Result<CaptureFile, CaptureFileError> =>
  err({ reason, offset });

/** Reads a classic pcap or pcapng file; malformed input yields an error value, never an exception. */
export function readPcap(bytes: Uint8Array): Result<CaptureFile, CaptureFileError> {
  if (bytes.length < 4) return fail('truncated', 0);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint32(0, true);
  if (magic === BT_SHB) return readPcapng(bytes, dv);
  for (const le of [true, false]) {
    const m = dv.getUint32(0, le);
    if (m === 0xa1b2c3d4) return readClassic(bytes, dv, le, 1);
    if (m === 0xa1b23c4d) return readClassic(bytes, dv, le, 1_000); // nanosecond timestamps
  }
  return fail('bad-magic', 0);
}

function readClassic(bytes: Uint8Array, dv: DataView, le: boolean, subsecPerMicro: number): Result<CaptureFile, CaptureFileError> {
  if (bytes.length < 24) return fail('truncated', 0);
  if (dv.getUint16(4, le) !== 2) return fail('bad-version', 0);
  const snaplen = dv.getUint32(16, le);
  // The upper bits hold FCS information (§4); the link type is the low 16.
  const linkType = dv.getUint32(20, le) & 0xffff;
  const records: CaptureRecord[] = [];
  let off = 24;
  while (off < bytes.length) {
    if (bytes.length - off < 16) return fail('truncated', off);
    const s = dv.getUint32(off, le);
    const sub = dv.getUint32(off + 4, le);
    const caplen = dv.getUint32(off + 8, le);
    const origlen = dv.getUint32(off + 12, le);
    if (caplen > bytes.length - off - 16) return fail('truncated', off);
    const time = (s * 1_000_000 + Math.floor(sub / subsecPerMicro)) as Instant;
    records.push({ iface: 0, time, data: bytes.subarray(off + 16, off + 16 + caplen), originalLength: origlen });
    off += 16 + caplen;
  }
  return ok({ format: 'pcap', interfaces: [{ linkType, medium: mediumOf(linkType), snaplen }], records });
}

interface Section {
  le: boolean;
  /** A version this reader does not know: its blocks are skipped (§3.4). */
  skip: boolean;
  /** Index in the file-wide interface list of this section's interface 0. */
  base: number;
  /** if_tsresol per interface of this section. */
  tsresol: number[];
}

const utf8Decoder = new TextDecoder('utf-8'); // not fatal: bad UTF-8 becomes U+FFFD, never an exception

function readPcapng(bytes: Uint8Array, dv: DataView): Result<CaptureFile, CaptureFileError> {
  const interfaces: CaptureInterface[] = [];
  const records: CaptureRecord[] = [];
  let section: Section | undefined;
  let off = 0;
  while (off < bytes.length) {
    const left = bytes.length - off;
    if (left < 12) return fail('truncated', off);
    const type = dv.getUint32(off, true);
    if (type === BT_SHB) {
      // The byte-order magic decides how to read everything in this section, its length too.
      const bom = dv.getUint32(off + 8, true);
      if (bom !== BYTE_ORDER_MAGIC && bom !== 0x4d3c2b1a) return fail('bad-magic', off);
      section = { le: bom === BYTE_ORDER_MAGIC, skip: false, base: interfaces.length, tsresol: [] };
    } else if (section === undefined) {
      return fail('bad-magic', off);
    }
    const le = section.le;
    const len = dv.getUint32(off + 4, le);
    if (len < 12 || (len & 3) !== 0) return fail('bad-block-length', off);
    if (len > left) return fail('truncated', off);
    if (dv.getUint32(off + len - 4, le) !== len) return fail('bad-block-length', off);
    const body = off + 8;
    const end = off + len - 4;
    const blockType = dv.getUint32(off, le);
    if (section.skip && blockType !== BT_SHB) {
      off += len;
      continue;
    }
    switch (blockType) {
      case BT_SHB: {
        if (end - body < 16) return fail('bad-block', off);
        // §3.4: a reader that cannot read a section's version "MUST skip everything until the
        // next Section Header Block".
        section.skip = dv.getUint16(body + 4, le) !== 1;
        break;
      }
      case BT_IDB: {
        if (end - body < 8) return fail('bad-block', off);
        const linkType = dv.getUint16(body, le);
        const snaplen = dv.getUint32(body + 4, le);
        let name: string | undefined;
        let tsresol = 6;
        const bad = eachOption(dv, le, body + 8, end, (code, at, n) => {
          if (code === IF_NAME && name === undefined) name = utf8Decoder.decode(bytes.subarray(at, at + n));
          if (code === IF_TSRESOL && n >= 1) tsresol = bytes[at]!;
        });
        if (bad) return fail('bad-option', off);
        section.tsresol.push(tsresol);
        interfaces.push(name === undefined ? { linkType, medium: mediumOf(linkType), snaplen } : { linkType, medium: mediumOf(linkType), name, snaplen });
        break;
      }
      case BT_EPB: {
        if (end - body < 20) return fail('bad-block', off);
        const id = dv.getUint32(body, le);
        const resol = section.tsresol[id];
        if (resol === undefined) return fail('unknown-interface', off);
        const hi = dv.getUint32(body + 4, le);
        const lo = dv.getUint32(body + 8, le);
        const caplen = dv.getUint32(body + 12, le);
        const origlen = dv.getUint32(body + 16, le);
        const data = body + 20;
        if (caplen > end - data) return fail('bad-block', off);
        let direction: Direction | undefined;
        let comment: string | undefined;
        const bad = eachOption(dv, le, data + ((caplen + 3) & ~3), end, (code, at, n) => {
          if (code === OPT_COMMENT && comment === undefined) comment = utf8Decoder.decode(bytes.subarray(at, at + n));
          if (code === EPB_FLAGS && n === 4) {
            const dir = dv.getUint32(at, le) & 3;
            if (dir === 1) direction = 'in';
            else if (dir === 2) direction = 'out';
          }
        });
        if (bad) return fail('bad-option', off);
        records.push({
          iface: section.base + id,
          time: toMicros(hi, lo, resol),
          data: bytes.subarray(data, data + caplen),
          originalLength: origlen,
          ...(direction === undefined ? {} : { direction }),
          ...(comment === undefined ? {} : { comment }),
        });
        break;
      }
      case BT_SPB: {
        // A Simple Packet Block belongs to interface 0 and has no timestamp.
        if (end - body < 4) return fail('bad-block', off);
        const snaplen = interfaces[section.base]?.snaplen;
        if (snaplen === undefined) return fail('unknown-interface', off);
        const origlen = dv.getUint32(body, le);
        const caplen = Math.min(origlen, snaplen === 0 ? origlen : snaplen, end - body - 4);
        records.push({ iface: section.base, time: 0 as Instant, data: bytes.subarray(body + 4, body + 4 + caplen), originalLength: origlen });
        break;
      }
      default:
        break; // blocks we do not need (statistics, name resolution, custom) are skipped
    }
    off += len;
  }
  return ok({ format: 'pcapng', interfaces, records });
}

/** Calls `f(code, valueOffset, valueLength)` for each option in [from, end); true if one overruns. */
function eachOption(dv: DataView, le: boolean, from: number, end: number, f: (code: number, at: number, n: number) => void): boolean {
  let at = from;
  while (end - at >= 4) {
    const code = dv.getUint16(at, le);
    const n = dv.getUint16(at + 2, le);
    if (code === OPT_ENDOFOPT) return false;
    if (n > end - at - 4) return true;
    f(code, at + 4, n);
    at += 4 + ((n + 3) & ~3);
  }
  return false;
}

/** A pcapng timestamp (64 bits in units of if_tsresol) in microseconds, rounded down. */
function toMicros(hi: number, lo: number, tsresol: number): Instant {
  if (tsresol === 6) return (hi * 0x1_0000_0000 + lo) as Instant;
  const units = (BigInt(hi) << 32n) | BigInt(lo);
  // The high bit picks the base: 10^-n seconds when clear, 2^-n when set.
  const micros = (tsresol & 0x80) === 0
    ? units * 1_000_000n / 10n ** BigInt(tsresol)
    : (units * 1_000_000n) >> BigInt(tsresol & 0x7f);
  return Number(micros) as Instant;
}
