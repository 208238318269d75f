import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Instant } from '../time/instant.js';
import {
  type CaptureFile,
  type CaptureRecord,
  type CaptureSink,
  LINKTYPE_ETHERNET,
  LINKTYPE_RAW,
  PcapngWriter,
  PcapWriter,
  capture,
  readPcap,
} from './capture.js';
import type { Medium, Port } from './link.js';

const at = (us: number): Instant => us as Instant;

/** Bytes from hex text; whitespace is ignored so goldens can be laid out one field per line. */
function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, '');
  return Uint8Array.from(digits.match(/../g) ?? [], (b) => parseInt(b, 16));
}

/** An inner port that keeps what is sent into it; `deliver` plays the link handing a frame up. */
function fakePort(medium: Medium = 'ethernet'): Port & { sent: Array<[Uint8Array, Instant]>; deliver(f: Uint8Array, now: Instant): void } {
  return {
    medium,
    mtu: 1500,
    onFrame: undefined,
    sent: [],
    send(frame, now) {
      this.sent.push([frame, now]);
    },
    deliver(frame, now) {
      this.onFrame?.(frame, now);
    },
  };
}

function read(bytes: Uint8Array): CaptureFile {
  const r = readPcap(bytes);
  if (!r.ok) throw new Error(`readPcap: ${r.error.reason} at ${r.error.offset}`);
  return r.value;
}

describe('PcapWriter', () => {
  test('global header and record header, golden bytes (draft-ietf-opsawg-pcap §4, §5)', () => {
    const w = new PcapWriter();
    w.addInterface('ethernet');
    w.record(0, Uint8Array.of(0xaa, 0xbb, 0xcc), at(1_234_567));
    expect(w.bytes()).toEqual(hex(`
      d4c3b2a1 # magic 0xa1b2c3d4, little-endian: microsecond timestamps
      0200     # major version 2
      0400     # minor version 4
      00000000 # reserved 1 (was thiszone)
      00000000 # reserved 2 (was sigfigs)
      00000400 # snaplen 262144
      01000000 # link type 1, LINKTYPE_ETHERNET
      01000000 # record: timestamp seconds 1
      47940300 # record: timestamp microseconds 234567
      03000000 # record: captured length 3
      03000000 # record: original length 3
      aabbcc   # packet data
    `.replace(/#.*$/gm, '')));
  });

  test('medium ip writes LINKTYPE_RAW (101)', () => {
    const w = new PcapWriter();
    w.addInterface('ip');
    expect(new DataView(w.bytes().buffer).getUint32(20, true)).toBe(LINKTYPE_RAW);
    expect(read(w.bytes()).interfaces).toEqual([{ linkType: LINKTYPE_RAW, medium: 'ip', snaplen: 262_144 }]);
  });

  test('several ports share one file when their medium matches; a different medium is refused by name', () => {
    const w = new PcapWriter();
    expect(w.addInterface('ethernet', 'a')).toBe(0);
    expect(w.addInterface('ethernet', 'b')).toBe(1);
    expect(() => w.addInterface('ip', 'tun0')).toThrow(/one link type: interface 'tun0' is 'ip' but the file is 'ethernet'; use PcapngWriter/);
  });

  test('frames longer than the snaplen are cut, keeping the original length', () => {
    const w = new PcapWriter({ snaplen: 4 });
    w.addInterface('ip');
    w.record(0, Uint8Array.of(1, 2, 3, 4, 5, 6), at(7));
    const [rec] = read(w.bytes()).records;
    expect(rec).toEqual({ iface: 0, time: 7, data: Uint8Array.of(1, 2, 3, 4), originalLength: 6 });
  });

  test('a bad snaplen and an unknown interface are refused with the value', () => {
    expect(() => new PcapWriter({ snaplen: 0 })).toThrow('snaplen must be an integer from 1 to 2147483647, got 0');
    expect(() => new PcapngWriter({ snaplen: 1.5 })).toThrow('got 1.5');
    expect(() => new PcapWriter().record(0, new Uint8Array(1), at(0))).toThrow('unknown capture interface 0');
  });
});

describe('PcapngWriter', () => {
  test('section header, interface description and enhanced packet blocks, golden bytes (draft-ietf-opsawg-pcapng §4.1-4.3)', () => {
    const w = new PcapngWriter();
    w.addInterface('ethernet', 'a');
    w.addInterface('ip', 'b');
    w.record(1, Uint8Array.of(0x45, 0, 0), at(0x1_0000_0000 + 5), { direction: 'in', comment: 'lost' });
    const strip = (s: string): string => s.replace(/#.*$/gm, '');
    const shb = hex(strip(`
      0a0d0d0a         # block type: Section Header Block
      2c000000         # block total length 44
      4d3c2b1a         # byte-order magic 0x1a2b3c4d
      0100 0000        # version 1.0
      ffffffffffffffff # section length -1: not given
      0400 0600        # option shb_userappl, length 6
      73796e61636b0000 # "synack", padded to 4
      0000 0000        # opt_endofopt
      2c000000         # block total length, repeated
    `));
    const idb = (linkType: string, name: string): Uint8Array => hex(strip(`
      01000000         # block type: Interface Description Block
      28000000         # block total length 40
      ${linkType} 0000 # link type, reserved
      00000400         # snaplen 262144
      0200 0100        # option if_name, length 1
      ${name}000000    # the name, padded to 4
      0900 0100        # option if_tsresol, length 1
      06000000         # 10^-6 s: microseconds, padded to 4
      0000 0000        # opt_endofopt
      28000000         # block total length, repeated
    `));
    const epb = hex(strip(`
      06000000         # block type: Enhanced Packet Block
      38000000         # block total length 56
      01000000         # interface id 1
      01000000         # timestamp, upper 32 bits
      05000000         # timestamp, lower 32 bits: 2^32 + 5 microseconds
      03000000         # captured length 3
      03000000         # original length 3
      45000000         # packet data, padded to 4
      0200 0400        # option epb_flags, length 4
      01000000         # direction: inbound
      0100 0400        # option opt_comment, length 4
      6c6f7374         # "lost"
      0000 0000        # opt_endofopt
      38000000         # block total length, repeated
    `));
    expect(w.bytes()).toEqual(Uint8Array.from([...shb, ...idb('0100', '61'), ...idb('6500', '62'), ...epb]));
  });

  test('two interfaces of different media in one file, read back with names, directions and comments', () => {
    const w = new PcapngWriter();
    const eth = w.addInterface('ethernet', 'eth0');
    const tun = w.addInterface('ip');
    w.record(eth, Uint8Array.of(1, 2, 3, 4, 5), at(10), { direction: 'out' });
    w.record(tun, Uint8Array.of(0x45), at(20), { comment: 'lost' });
    w.record(eth, Uint8Array.of(9), at(30));
    const file = read(w.bytes());
    expect(file.format).toBe('pcapng');
    expect(file.interfaces).toEqual([
      { linkType: LINKTYPE_ETHERNET, medium: 'ethernet', name: 'eth0', snaplen: 262_144 },
      { linkType: LINKTYPE_RAW, medium: 'ip', name: 'port1', snaplen: 262_144 },
    ]);
    expect(file.records).toEqual<CaptureRecord[]>([
      { iface: 0, time: at(10), data: Uint8Array.of(1, 2, 3, 4, 5), originalLength: 5, direction: 'out' },
      { iface: 1, time: at(20), data: Uint8Array.of(0x45), originalLength: 1, comment: 'lost' },
      { iface: 0, time: at(30), data: Uint8Array.of(9), originalLength: 1 },
    ]);
  });

  test('a comment longer than an option can hold is cut at a character boundary', () => {
    const w = new PcapngWriter();
    w.addInterface('ip');
    w.record(0, Uint8Array.of(0x45), at(0), { comment: 'x' + 'é'.repeat(40_000) });
    const comment = read(w.bytes()).records[0]?.comment ?? '';
    expect(new TextEncoder().encode(comment).length).toBe(65_535);
    expect(comment.endsWith('é')).toBe(true);
  });
});

describe('capture()', () => {
  test('records both directions with their time and direction, and passes frames on unchanged', () => {
    const inner = fakePort();
    const w = new PcapngWriter();
    const port = capture(inner, w, { name: 'a' });
    const got: Array<[number[], Instant]> = [];
    port.onFrame = (f, now) => got.push([[...f], now]);
    const out = Uint8Array.of(1, 2, 3);
    port.send(out, at(100));
    inner.deliver(Uint8Array.of(4, 5), at(250));
    expect(inner.sent).toEqual([[out, 100]]);
    expect(inner.sent[0]?.[0]).toBe(out); // the same bytes, not a copy: ownership passes on
    expect(got).toEqual([[[4, 5], 250]]);
    expect(read(w.bytes()).records).toEqual([
      { iface: 0, time: 100, data: Uint8Array.of(1, 2, 3), originalLength: 3, direction: 'out' },
      { iface: 0, time: 250, data: Uint8Array.of(4, 5), originalLength: 2, direction: 'in' },
    ]);
  });

  test('records a copy: the receiver may reuse the bytes afterwards', () => {
    const inner = fakePort();
    const w = new PcapWriter();
    const port = capture(inner, w);
    port.onFrame = (f) => f.fill(0);
    const frame = Uint8Array.of(7, 7);
    inner.deliver(frame, at(1));
    port.send(frame, at(2)); // sent after being zeroed by the receiver
    frame.fill(9); // and scribbled on again after sending
    expect(read(w.bytes()).records.map((r) => [...r.data])).toEqual([[7, 7], [0, 0]]);
  });

  test('forwards the medium and MTU, and keeps a handler attached before wrapping', () => {
    const inner = fakePort('ip');
    const before: number[] = [];
    inner.onFrame = (f) => before.push(f.length);
    const port = capture(inner, new PcapngWriter());
    expect(port.medium).toBe('ip');
    expect(port.mtu).toBe(1500);
    inner.deliver(new Uint8Array(3), at(0));
    expect(before).toEqual([3]);
    port.onFrame = undefined; // detached: frames are still recorded, and dropped without error
    inner.deliver(new Uint8Array(4), at(1));
  });

  test('several ports into one pcapng file get one interface each', () => {
    const w = new PcapngWriter();
    const a = capture(fakePort('ethernet'), w, { name: 'a' });
    const b = capture(fakePort('ip'), w, { name: 'b' });
    expect([a.captureInterface, b.captureInterface]).toEqual([0, 1]);
    b.send(Uint8Array.of(0x45), at(2));
    a.send(Uint8Array.of(0xff), at(3));
    const file = read(w.bytes());
    expect(file.interfaces.map((i) => i.name)).toEqual(['a', 'b']);
    expect(file.records.map((r) => r.iface)).toEqual([1, 0]);
  });

  test('a sink sees the interface name it was given', () => {
    const calls: string[] = [];
    const sink: CaptureSink = {
      addInterface: (medium, name) => (calls.push(`${medium}:${name ?? '-'}`), 0),
      record: () => undefined,
    };
    capture(fakePort(), sink, { name: 'x' });
    capture(fakePort('ip'), sink);
    expect(calls).toEqual(['ethernet:x', 'ip:-']);
  });
});

describe('readPcap', () => {
  function pcapFile(): Uint8Array {
    const w = new PcapWriter();
    w.addInterface('ethernet');
    w.record(0, Uint8Array.of(1, 2, 3), at(5));
    w.record(0, new Uint8Array(0), at(3_000_000_000_000)); // beyond 2^32 microseconds
    w.record(0, Uint8Array.of(4), at(7));
    return w.bytes();
  }
  function pcapngFile(): Uint8Array {
    const w = new PcapngWriter();
    w.addInterface('ethernet', 'eth0');
    w.record(0, Uint8Array.of(1, 2, 3), at(5), { direction: 'out', comment: 'c' });
    w.addInterface('ip', 'tun0');
    w.record(1, new Uint8Array(0), at(3_000_000_000_000), { direction: 'in' });
    w.record(0, Uint8Array.of(4, 5, 6, 7, 8), at(7));
    return w.bytes();
  }

  test('round trip: classic pcap', () => {
    expect(read(pcapFile())).toEqual<CaptureFile>({
      format: 'pcap',
      interfaces: [{ linkType: 1, medium: 'ethernet', snaplen: 262_144 }],
      records: [
        { iface: 0, time: at(5), data: Uint8Array.of(1, 2, 3), originalLength: 3 },
        { iface: 0, time: at(3_000_000_000_000), data: new Uint8Array(0), originalLength: 0 },
        { iface: 0, time: at(7), data: Uint8Array.of(4), originalLength: 1 },
      ],
    });
  });

  test('round trip: pcapng, with an interface added between packets', () => {
    expect(read(pcapngFile()).records).toEqual<CaptureRecord[]>([
      { iface: 0, time: at(5), data: Uint8Array.of(1, 2, 3), originalLength: 3, direction: 'out', comment: 'c' },
      { iface: 1, time: at(3_000_000_000_000), data: new Uint8Array(0), originalLength: 0, direction: 'in' },
      { iface: 0, time: at(7), data: Uint8Array.of(4, 5, 6, 7, 8), originalLength: 5 },
    ]);
  });

  test('concatenated pcapng sections are read in turn; a section of an unknown version is skipped (§3.4)', () => {
    const v2 = pcapngFile();
    v2[12] = 2; // the SHB's major version
    const file = read(Uint8Array.from([...pcapngFile(), ...v2, ...pcapngFile()]));
    expect(file.interfaces.map((i) => i.name)).toEqual(['eth0', 'tun0', 'eth0', 'tun0']);
    expect(file.records.map((r) => [r.iface, r.time])).toEqual([[0, 5], [1, 3_000_000_000_000], [0, 7], [2, 5], [3, 3_000_000_000_000], [2, 7]]);
  });

  test('big-endian files with nanosecond timestamps are read too', () => {
    const be = hex(`
      a1b23c4d 0002 0004 00000000 00000000 0000ffff 00000065
      00000002 3b9ac9ff 00000001 00000001 45
    `);
    expect(read(be)).toEqual<CaptureFile>({
      format: 'pcap',
      interfaces: [{ linkType: LINKTYPE_RAW, medium: 'ip', snaplen: 65_535 }],
      records: [{ iface: 0, time: at(2_999_999), data: Uint8Array.of(0x45), originalLength: 1 }],
    });
  });

  test('every truncation of a pcap file: never throws; whole records read, a partial one is "truncated"', () => {
    const bytes = pcapFile();
    const ends = new Set([24, 24 + 19, 24 + 19 + 16, bytes.length]);
    for (let n = 0; n <= bytes.length; n++) {
      const r = readPcap(bytes.subarray(0, n));
      if (ends.has(n)) expect(r.ok, `length ${n}`).toBe(true);
      else expect(r, `length ${n}`).toMatchObject({ ok: false, error: { reason: 'truncated' } });
    }
  });

  test('every truncation of a pcapng file: never throws; whole blocks read, a partial one is "truncated"', () => {
    const bytes = pcapngFile();
    const ends = new Set<number>();
    for (let off = 0; off < bytes.length;) {
      off += new DataView(bytes.buffer, bytes.byteOffset + off).getUint32(4, true);
      ends.add(off);
    }
    expect(ends.size).toBe(6);
    for (let n = 0; n <= bytes.length; n++) {
      const r = readPcap(bytes.subarray(0, n));
      if (ends.has(n)) expect(r.ok, `length ${n}`).toBe(true);
      else expect(r, `length ${n}`).toMatchObject({ ok: false, error: { reason: 'truncated' } });
    }
  });

  test('malformed files get a reason and an offset', () => {
    expect(readPcap(hex('00000000 00000000'))).toEqual({ ok: false, error: { reason: 'bad-magic', offset: 0 } });
    const v3 = pcapFile();
    v3[4] = 3;
    expect(readPcap(v3)).toMatchObject({ ok: false, error: { reason: 'bad-version', offset: 0 } });
    const ng = pcapngFile();
    const badLen = ng.slice();
    badLen[44 + 4] = 41; // the first IDB's length, not a multiple of 4
    expect(readPcap(badLen)).toEqual({ ok: false, error: { reason: 'bad-block-length', offset: 44 } });
    const badTrailer = ng.slice();
    badTrailer[44 + 36] = 0; // the first IDB's repeated length
    expect(readPcap(badTrailer)).toEqual({ ok: false, error: { reason: 'bad-block-length', offset: 44 } });
    const badIface = ng.slice();
    badIface[84 + 8] = 7; // the first EPB names interface 7
    expect(readPcap(badIface)).toEqual({ ok: false, error: { reason: 'unknown-interface', offset: 84 } });
    const badOption = ng.slice();
    badOption[44 + 18] = 200; // the first IDB's if_name claims 200 bytes
    expect(readPcap(badOption)).toEqual({ ok: false, error: { reason: 'bad-option', offset: 44 } });
  });

  test('never throws on arbitrary bytes or on corrupted files', () => {
    const files = [pcapFile(), pcapngFile()];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.tuple(fc.constantFrom(...files), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 })).map(([f, edits]) => {
            const b = f.slice();
            for (const [i, v] of edits) b[i % b.length] = v;
            return b;
          }),
        ),
        (bytes) => {
          expect(() => readPcap(bytes)).not.toThrow();
        },
      ),
      { seed: 0x5eed, numRuns: 2_000 },
    );
  });
});
