// TCP header: golden bytes (Linux's option layout), checksums over IPv4 and IPv6 pseudo-headers,
// every truncation, reuse of an `out` repr, and round-trip properties.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { seq, type Seq } from '../tcp/seq.js';
import { IpAddr } from './ip-addr.js';
import {
  type PseudoHeader,
  type SackBlock,
  type TcpOptions,
  type TcpRepr,
  TCP_MAX_OPTIONS,
  TCP_MIN_HEADER,
  TcpFlag,
  TcpOptionScratch,
  emitTcp,
  emitTcpHeader,
  emittedSackBlocks,
  flagsToString,
  hasFlag,
  parseTcp,
  parseTcpAt,
  tcpHeaderLength,
  tcpOptionsLength,
  tcpSegmentLength,
} from './tcp.js';

/** Bytes from hex groups; spaces are ignored. */
function hex(...parts: string[]): Uint8Array {
  const s = parts.join('').replace(/\s+/g, '');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const V4_CLIENT = IpAddr.from('10.0.0.1');
const V4_SERVER = IpAddr.from('10.0.0.2');
const TO_SERVER: PseudoHeader = { src: V4_CLIENT, dst: V4_SERVER };
const TO_CLIENT: PseudoHeader = { src: V4_SERVER, dst: V4_CLIENT };
const V6_PSEUDO: PseudoHeader = { src: IpAddr.from('2001:db8::1'), dst: IpAddr.from('2001:db8::2') };

const NO_OPTIONS: TcpOptions = {};
const EMPTY = new Uint8Array(0);

/** A repr with defaults for what a test does not care about. */
function repr(over: Partial<TcpRepr>): TcpRepr {
  return { srcPort: 1, dstPort: 2, seq: seq(0), ack: seq(0), flags: 0, window: 0, urgent: 0, options: {}, payload: EMPTY, ...over };
}

/** Emits into a buffer pre-filled with 0xa5 (to catch unwritten bytes) of exactly the expected size. */
function emitted(r: TcpRepr, pseudo: PseudoHeader | undefined, size: number): Uint8Array {
  const out = new Uint8Array(size).fill(0xa5);
  expect(emitTcp(r, out, pseudo)).toBe(size);
  return out;
}

function parsed(bytes: Uint8Array, pseudo: PseudoHeader | undefined): TcpRepr {
  const r = parseTcp(bytes, pseudo);
  if (!r.ok) throw new Error(`parse failed: ${r.error}`);
  return r.value;
}

// A SYN as Linux sends it: MSS, SACK-permitted folded into the timestamps word, NOP + wscale.
const SYN_GOLDEN = hex(
  'a028', // source port 41000
  '0050', // destination port 80
  'fffffff0', // sequence number: 16 below the 2^32 wrap
  '00000000', // acknowledgment number (ACK not set)
  'a0', // data offset 10 words (40 bytes), reserved 0
  '02', // flags: SYN
  'faf0', // window 64240
  'b661', // checksum over the IPv4 pseudo-header 10.0.0.1 -> 10.0.0.2
  '0000', // urgent pointer
  '02 04 05b4', // MSS, length 4, 1460
  '04 02', // SACK-permitted, length 2
  '08 0a', // timestamps, length 10
  '0001e240', // TSval 123456
  '00000000', // TSecr 0
  '01', // NOP
  '03 03 07', // window scale, length 3, shift 7
);
const SYN_REPR: TcpRepr = {
  srcPort: 41000,
  dstPort: 80,
  seq: seq(0xfffffff0),
  ack: seq(0),
  flags: TcpFlag.SYN,
  window: 64240,
  urgent: 0,
  options: { mss: 1460, sackPermitted: true, timestamp: { tsval: 123456, tsecr: 0 }, wscale: 7 },
  payload: EMPTY,
};

// Data on an established connection: timestamps only, in Linux's NOP NOP TS form; over IPv6.
const DATA_GOLDEN = hex(
  '01bb', // source port 443
  'c350', // destination port 50000
  '00000010', // sequence number 16
  'fffffff1', // acknowledgment number, just below the wrap
  '80', // data offset 8 words (32 bytes)
  '18', // flags: PSH+ACK
  '01f6', // window 502 (unscaled field)
  '9086', // checksum over the IPv6 pseudo-header 2001:db8::1 -> 2001:db8::2
  '0000', // urgent pointer
  '01 01', // NOP NOP
  '08 0a', // timestamps, length 10
  'deadbeef', // TSval
  '0001e240', // TSecr 123456
  '68656c6c6f', // payload "hello"
);
const DATA_REPR: TcpRepr = {
  srcPort: 443,
  dstPort: 50000,
  seq: seq(0x10),
  ack: seq(0xfffffff1),
  flags: TcpFlag.PSH | TcpFlag.ACK,
  window: 502,
  urgent: 0,
  options: { timestamp: { tsval: 0xdeadbeef, tsecr: 123456 } },
  payload: new TextEncoder().encode('hello'),
};

// A pure ACK carrying timestamps and three SACK blocks: the most that fit beside timestamps.
const SACK_BLOCKS: SackBlock[] = [
  { left: seq(0xfffffff0), right: seq(0x10) }, // wraps through 2^32
  { left: seq(0x100), right: seq(0x200) },
  { left: seq(0x1000), right: seq(0x2000) },
];
const SACK_GOLDEN = hex(
  '0050', // source port 80
  'a028', // destination port 41000
  '00000001', // sequence number 1
  'ffffff00', // acknowledgment number
  'f0', // data offset 15 words (60 bytes): the largest header
  '10', // flags: ACK
  '0400', // window 1024
  '0a50', // checksum over the IPv4 pseudo-header 10.0.0.2 -> 10.0.0.1
  '0000', // urgent pointer
  '01 01 08 0a', // NOP NOP timestamps, length 10
  '000003e8', // TSval 1000
  '000007d0', // TSecr 2000
  '01 01', // NOP NOP
  '05 1a', // SACK, length 26 = 2 + 3 * 8
  'fffffff0 00000010', // block 1
  '00000100 00000200', // block 2
  '00001000 00002000', // block 3
);
const SACK_REPR: TcpRepr = {
  srcPort: 80,
  dstPort: 41000,
  seq: seq(1),
  ack: seq(0xffffff00),
  flags: TcpFlag.ACK,
  window: 1024,
  urgent: 0,
  options: { timestamp: { tsval: 1000, tsecr: 2000 }, sack: SACK_BLOCKS },
  payload: EMPTY,
};

// A SYN requesting a Fast Open cookie (RFC 7413 §4.1.1: an empty cookie).
const TFO_REQUEST_GOLDEN = hex(
  'a029', // source port 41001
  '0050', // destination port 80
  '11223344', // sequence number
  '00000000', // acknowledgment number
  'b0', // data offset 11 words (44 bytes)
  '02', // flags: SYN
  'faf0', // window 64240
  '211f', // checksum (IPv4, 10.0.0.1 -> 10.0.0.2)
  '0000', // urgent pointer
  '02 04 05b4', // MSS 1460
  '04 02 08 0a 00000007 00000000', // SACK-permitted, timestamps TSval 7 TSecr 0
  '01 03 03 07', // NOP, window scale 7
  '22 02', // Fast Open, length 2: cookie request
  '01 01', // NOP NOP: pad to a 4-byte boundary
);
const TFO_REQUEST_REPR: TcpRepr = {
  srcPort: 41001,
  dstPort: 80,
  seq: seq(0x11223344),
  ack: seq(0),
  flags: TcpFlag.SYN,
  window: 64240,
  urgent: 0,
  options: { mss: 1460, sackPermitted: true, timestamp: { tsval: 7, tsecr: 0 }, wscale: 7, fastOpen: new Uint8Array(0) },
  payload: EMPTY,
};

// The SYN-ACK answering it with an 8-byte cookie.
const TFO_COOKIE_GOLDEN = hex(
  '0050', // source port 80
  'a029', // destination port 41001
  '55667788', // sequence number
  '11223345', // acknowledgment number
  'd0', // data offset 13 words (52 bytes)
  '12', // flags: SYN+ACK
  'fe88', // window 65160
  '205a', // checksum (IPv4, 10.0.0.2 -> 10.0.0.1)
  '0000', // urgent pointer
  '02 04 05b4', // MSS 1460
  '04 02 08 0a 00000009 00000007', // SACK-permitted, timestamps TSval 9 TSecr 7
  '01 03 03 07', // NOP, window scale 7
  '22 0a', // Fast Open, length 10
  '0102030405060708', // cookie
  '01 01', // NOP NOP: pad to a 4-byte boundary
);
const TFO_COOKIE_REPR: TcpRepr = {
  srcPort: 80,
  dstPort: 41001,
  seq: seq(0x55667788),
  ack: seq(0x11223345),
  flags: TcpFlag.SYN | TcpFlag.ACK,
  window: 65160,
  urgent: 0,
  options: { mss: 1460, sackPermitted: true, timestamp: { tsval: 9, tsecr: 7 }, wscale: 7, fastOpen: hex('0102030405060708') },
  payload: EMPTY,
};

// A SYN with data and the cookie in the experimental form (RFC 6994, ExID 0xF989).
const TFO_EXP_GOLDEN = hex(
  'a02a', // source port 41002
  '0050', // destination port 80
  '01020304', // sequence number
  '00000000', // acknowledgment number
  '90', // data offset 9 words (36 bytes)
  '02', // flags: SYN
  'faf0', // window 64240
  '8f30', // checksum (IPv4, 10.0.0.1 -> 10.0.0.2), covering the odd-length payload
  '0000', // urgent pointer
  '02 04 05b4', // MSS 1460
  'fe 0c', // experimental option, length 12
  'f989', // ExID: TCP Fast Open
  'a1a2a3a4a5a6a7a8', // cookie; 12 bytes, already aligned: no padding
  '474554', // payload "GET"
);
const TFO_EXP_REPR: TcpRepr = {
  srcPort: 41002,
  dstPort: 80,
  seq: seq(0x01020304),
  ack: seq(0),
  flags: TcpFlag.SYN,
  window: 64240,
  urgent: 0,
  options: { mss: 1460, fastOpen: hex('a1a2a3a4a5a6a7a8'), fastOpenExperimental: true },
  payload: new TextEncoder().encode('GET'),
};

const GOLDEN: readonly { name: string; bytes: Uint8Array; repr: TcpRepr; pseudo: PseudoHeader }[] = [
  { name: 'SYN with Linux options', bytes: SYN_GOLDEN, repr: SYN_REPR, pseudo: TO_SERVER },
  { name: 'data with NOP NOP TS over IPv6', bytes: DATA_GOLDEN, repr: DATA_REPR, pseudo: V6_PSEUDO },
  { name: 'ACK with three SACK blocks', bytes: SACK_GOLDEN, repr: SACK_REPR, pseudo: TO_CLIENT },
  { name: 'TFO cookie request', bytes: TFO_REQUEST_GOLDEN, repr: TFO_REQUEST_REPR, pseudo: TO_SERVER },
  { name: 'TFO cookie', bytes: TFO_COOKIE_GOLDEN, repr: TFO_COOKIE_REPR, pseudo: TO_CLIENT },
  { name: 'experimental TFO cookie with data', bytes: TFO_EXP_GOLDEN, repr: TFO_EXP_REPR, pseudo: TO_SERVER },
];

describe('golden segments', () => {
  test('the SYN is 40 bytes of header, as Linux sends it', () => {
    expect(SYN_GOLDEN.length).toBe(40);
    expect(tcpHeaderLength(SYN_REPR.options)).toBe(40);
  });

  for (const g of GOLDEN) {
    test(`${g.name}: parse`, () => {
      expect(parsed(g.bytes, g.pseudo)).toEqual(g.repr);
      expect(parsed(g.bytes, undefined)).toEqual(g.repr); // checksum offload: same repr
    });
    test(`${g.name}: emit into 0xa5 gives the golden bytes`, () => {
      expect(emitted(g.repr, g.pseudo, g.bytes.length)).toEqual(g.bytes);
    });
    test(`${g.name}: emit without a pseudo-header leaves the checksum zero`, () => {
      const out = emitted(g.repr, undefined, g.bytes.length);
      const expected = g.bytes.slice();
      expected[16] = 0;
      expected[17] = 0;
      expect(out).toEqual(expected);
    });
  }

  test('the parsed payload is a view into the frame (zero copy)', () => {
    const r = parsed(DATA_GOLDEN, undefined);
    expect(r.payload.buffer).toBe(DATA_GOLDEN.buffer);
    expect(r.payload.byteOffset).toBe(DATA_GOLDEN.byteOffset + 32);
  });

  test('SACK blocks and the cookie are copied out, so they survive reuse of the frame', () => {
    const frame = TFO_COOKIE_GOLDEN.slice();
    const r = parsed(frame, undefined);
    frame.fill(0);
    expect(r.options.fastOpen).toEqual(hex('0102030405060708'));
    const sackFrame = SACK_GOLDEN.slice();
    const s = parsed(sackFrame, undefined);
    sackFrame.fill(0);
    expect(s.options.sack).toEqual(SACK_BLOCKS);
  });

  test('emit leaves bytes past the segment untouched', () => {
    const out = new Uint8Array(DATA_GOLDEN.length + 8).fill(0xa5);
    expect(emitTcp(DATA_REPR, out, V6_PSEUDO)).toBe(DATA_GOLDEN.length);
    expect(out.subarray(0, DATA_GOLDEN.length)).toEqual(DATA_GOLDEN);
    expect(out.subarray(DATA_GOLDEN.length)).toEqual(new Uint8Array(8).fill(0xa5));
  });

  test('emit works at a non-zero byteOffset (a TCP header behind IP and Ethernet headers)', () => {
    const frame = new Uint8Array(14 + 20 + DATA_GOLDEN.length).fill(0xa5);
    const out = frame.subarray(34);
    emitTcp(DATA_REPR, out, V6_PSEUDO);
    expect(out).toEqual(DATA_GOLDEN);
    expect(parsed(out, V6_PSEUDO)).toEqual(DATA_REPR);
  });

  test('a payload already in place after the header is not copied', () => {
    const out = new Uint8Array(DATA_GOLDEN.length).fill(0xa5);
    out.set(DATA_REPR.payload, 32);
    const r = { ...DATA_REPR, payload: out.subarray(32) };
    out.set = () => {
      throw new Error('payload copied');
    };
    expect(emitTcp(r, out, V6_PSEUDO)).toBe(DATA_GOLDEN.length);
    delete (out as { set?: unknown }).set; // back to the prototype's, so toEqual sees a plain array
    expect(out).toEqual(DATA_GOLDEN);
  });

  test('a payload elsewhere in the same buffer is copied', () => {
    const buf = new Uint8Array(200).fill(0xa5);
    buf.set(DATA_REPR.payload, 150);
    const r = { ...DATA_REPR, payload: buf.subarray(150, 155) };
    const n = emitTcp(r, buf, V6_PSEUDO);
    expect(buf.subarray(0, n)).toEqual(DATA_GOLDEN);
  });

  test('emit into a buffer too small throws RangeError naming the sizes', () => {
    expect(() => emitTcp(DATA_REPR, new Uint8Array(DATA_GOLDEN.length - 1), undefined)).toThrow(RangeError);
    expect(() => emitTcp(DATA_REPR, new Uint8Array(10), undefined)).toThrow(/10 bytes/);
  });
});

describe('checksum', () => {
  for (const g of GOLDEN) {
    test(`${g.name}: flipping any single bit fails verification`, () => {
      expect(parseTcp(g.bytes, g.pseudo).ok).toBe(true);
      const copy = g.bytes.slice();
      for (let i = 0; i < copy.length; i++) {
        for (let bit = 0; bit < 8; bit++) {
          copy[i]! ^= 1 << bit;
          const r = parseTcp(copy, g.pseudo);
          // A flip in the data offset can fail earlier; it must fail either way.
          expect(r.ok, `byte ${i} bit ${bit}`).toBe(false);
          copy[i]! ^= 1 << bit;
        }
      }
    });
  }

  test('the wrong pseudo-header fails verification (IPv4 and IPv6)', () => {
    // (Swapping source and destination would not: the sum is commutative.)
    expect(parseTcp(SYN_GOLDEN, { src: IpAddr.from('10.0.0.3'), dst: V4_SERVER })).toEqual({ ok: false, error: 'bad-checksum' });
    const other: PseudoHeader = { src: IpAddr.from('2001:db8::3'), dst: V6_PSEUDO.dst };
    expect(parseTcp(DATA_GOLDEN, other)).toEqual({ ok: false, error: 'bad-checksum' });
  });

  test('a flipped bit is accepted when the checksum is offloaded', () => {
    const copy = DATA_GOLDEN.slice();
    copy[copy.length - 1]! ^= 1;
    expect(parseTcp(copy, undefined).ok).toBe(true);
  });
});

describe('truncation and data offset', () => {
  for (const g of GOLDEN) {
    test(`${g.name}: every truncation is an error, never a throw`, () => {
      for (let n = 0; n < g.bytes.length; n++) {
        const r = parseTcp(g.bytes.subarray(0, n), g.pseudo);
        expect(r.ok, `length ${n}`).toBe(false);
        if (!r.ok && n < TCP_MIN_HEADER) expect(r.error).toBe('truncated');
        if (!r.ok && n >= TCP_MIN_HEADER && n < tcpHeaderLength(g.repr.options)) expect(r.error).toBe('bad-data-offset');
      }
    });
  }

  test('without a checksum, truncation inside the header is still caught', () => {
    for (let n = 0; n < SYN_GOLDEN.length; n++) {
      expect(parseTcp(SYN_GOLDEN.subarray(0, n), undefined).ok, `length ${n}`).toBe(false);
    }
  });

  test('data offset below 5 is rejected', () => {
    for (let off = 0; off < 5; off++) {
      const b = new Uint8Array(40);
      b[12] = off << 4;
      expect(parseTcp(b, undefined)).toEqual({ ok: false, error: 'bad-data-offset' });
    }
  });

  test('data offset past the buffer is rejected', () => {
    const b = new Uint8Array(24);
    b[12] = 7 << 4; // 28 bytes of header in 24
    expect(parseTcp(b, undefined)).toEqual({ ok: false, error: 'bad-data-offset' });
    b[12] = 6 << 4;
    expect(parseTcp(b, undefined).ok).toBe(true);
  });

  test('reserved bits are ignored on receipt and zero on emit (RFC 9293 §3.1)', () => {
    const b = SYN_GOLDEN.slice();
    b[12] = b[12]! | 0x0f;
    const r = parsed(b, undefined);
    expect(r).toEqual(SYN_REPR);
    expect(emitted(r, TO_SERVER, 40)).toEqual(SYN_GOLDEN);
  });
});

describe('reusing an out repr', () => {
  test('options from an earlier segment do not leak into the next', () => {
    const out = repr({});
    const first = parseTcp(TFO_COOKIE_GOLDEN, TO_CLIENT, out);
    expect(first.ok && first.value).toBe(out);
    expect(out).toEqual(TFO_COOKIE_REPR);
    const second = parseTcp(DATA_GOLDEN, V6_PSEUDO, out);
    expect(second.ok && second.value).toBe(out);
    expect(out).toEqual(DATA_REPR);
    expect(out.options.mss).toBeUndefined();
    expect(out.options.fastOpen).toBeUndefined();
    const bare = emitted(repr({ flags: TcpFlag.ACK, options: NO_OPTIONS }), undefined, 20);
    expect(parseTcp(bare, undefined, out).ok).toBe(true);
    expect(out.options).toEqual({});
    expect(out.payload.length).toBe(0);
    const third = parseTcp(SACK_GOLDEN, TO_CLIENT, out);
    expect(third.ok).toBe(true);
    expect(out).toEqual(SACK_REPR);
  });

  test('a repr handed back earlier keeps its own option arrays', () => {
    const out = repr({});
    parseTcp(SACK_GOLDEN, undefined, out);
    const blocks = out.options.sack;
    parseTcp(SYN_GOLDEN, undefined, out);
    expect(blocks).toEqual(SACK_BLOCKS);
  });
});

describe('option space', () => {
  const ts = { tsval: 1, tsecr: 2 };
  const blocks = (n: number): SackBlock[] =>
    Array.from({ length: n }, (_, i) => ({ left: seq(i * 100), right: seq(i * 100 + 50) }));

  test('lengths of the common combinations', () => {
    expect(tcpOptionsLength({})).toBe(0);
    expect(tcpOptionsLength({ mss: 1460 })).toBe(4);
    expect(tcpOptionsLength({ sackPermitted: true })).toBe(4);
    expect(tcpOptionsLength({ sackPermitted: false })).toBe(0);
    expect(tcpOptionsLength({ timestamp: ts })).toBe(12);
    expect(tcpOptionsLength({ timestamp: ts, sackPermitted: true })).toBe(12);
    expect(tcpOptionsLength(SYN_REPR.options)).toBe(20);
    expect(tcpOptionsLength({ sack: blocks(1) })).toBe(12);
    expect(tcpOptionsLength({ fastOpen: new Uint8Array(0) })).toBe(4);
    expect(tcpOptionsLength({ fastOpen: new Uint8Array(8) })).toBe(12);
    expect(tcpOptionsLength({ fastOpen: new Uint8Array(8), fastOpenExperimental: true })).toBe(12);
    expect(tcpOptionsLength({ fastOpen: new Uint8Array(0), fastOpenExperimental: true })).toBe(4);
    expect(tcpOptionsLength({ fastOpen: new Uint8Array(16), fastOpenExperimental: true })).toBe(20);
    expect(tcpHeaderLength({})).toBe(20);
  });

  test('SACK blocks are dropped from the end until the options fit in 40 bytes', () => {
    expect(emittedSackBlocks({ sack: blocks(4) })).toBe(4);
    expect(tcpOptionsLength({ sack: blocks(4) })).toBe(36);
    expect(emittedSackBlocks({ sack: blocks(4), timestamp: ts })).toBe(3);
    expect(tcpOptionsLength({ sack: blocks(4), timestamp: ts })).toBe(40);
    // A SYN's 20 bytes leave room for two blocks.
    expect(emittedSackBlocks({ ...SYN_REPR.options, sack: blocks(4) })).toBe(2);
    // Timestamps and a 16-byte cookie leave 8 bytes: not even one block.
    expect(emittedSackBlocks({ timestamp: ts, fastOpen: new Uint8Array(16), sack: blocks(1) })).toBe(0);
    expect(emittedSackBlocks({ sack: [] })).toBe(0);
    expect(tcpOptionsLength({ sack: [] })).toBe(0);
  });

  test('emitting more SACK blocks than fit writes the first ones', () => {
    const r = repr({ flags: TcpFlag.ACK, options: { timestamp: ts, sack: blocks(4) } });
    const out = emitted(r, undefined, 60);
    expect(parsed(out, undefined).options).toEqual({ timestamp: ts, sack: blocks(3) });
  });

  test('the largest option set fits exactly in 40 bytes', () => {
    const o: TcpOptions = { mss: 1, timestamp: ts, sackPermitted: true, wscale: 14, fastOpen: new Uint8Array(16).fill(7), fastOpenExperimental: true };
    expect(tcpOptionsLength(o)).toBe(TCP_MAX_OPTIONS);
    const out = emitted(repr({ flags: TcpFlag.SYN, options: o }), undefined, 60);
    expect(parsed(out, undefined).options).toEqual(o);
  });

  test('a cookie longer than 16 bytes is a caller bug: RangeError', () => {
    expect(() => tcpOptionsLength({ fastOpen: new Uint8Array(17) })).toThrow(RangeError);
    expect(() => emitTcp(repr({ options: { fastOpen: new Uint8Array(17) } }), new Uint8Array(100), undefined)).toThrow(/17 bytes/);
  });

  test('window scale and SACK-permitted alone use Linux\'s NOP forms', () => {
    const out = emitted(repr({ flags: TcpFlag.SYN, options: { mss: 536, sackPermitted: true, wscale: 0 } }), undefined, 32);
    expect(out.subarray(20)).toEqual(hex('02 04 0218', '01 01 04 02', '01 03 03 00'));
  });
});

describe('helpers', () => {
  test('flagsToString uses SYN, FIN, RST, PSH, ACK, URG, ECE, CWR order', () => {
    expect(flagsToString(TcpFlag.SYN)).toBe('SYN');
    expect(flagsToString(TcpFlag.SYN | TcpFlag.ACK)).toBe('SYN+ACK');
    expect(flagsToString(TcpFlag.ACK)).toBe('ACK');
    expect(flagsToString(TcpFlag.FIN | TcpFlag.ACK)).toBe('FIN+ACK');
    expect(flagsToString(TcpFlag.RST)).toBe('RST');
    expect(flagsToString(TcpFlag.RST | TcpFlag.ACK)).toBe('RST+ACK');
    expect(flagsToString(TcpFlag.PSH | TcpFlag.ACK)).toBe('PSH+ACK');
    expect(flagsToString(TcpFlag.SYN | TcpFlag.ECE | TcpFlag.CWR)).toBe('SYN+ECE+CWR');
    expect(flagsToString(0xff)).toBe('SYN+FIN+RST+PSH+ACK+URG+ECE+CWR');
    expect(flagsToString(0)).toBe('none');
  });

  test('hasFlag needs every bit of the mask', () => {
    const sa = TcpFlag.SYN | TcpFlag.ACK;
    expect(hasFlag(sa, TcpFlag.SYN)).toBe(true);
    expect(hasFlag(sa, TcpFlag.FIN)).toBe(false);
    expect(hasFlag(sa, sa)).toBe(true);
    expect(hasFlag(TcpFlag.SYN, sa)).toBe(false);
  });

  test('tcpSegmentLength counts SYN and FIN (RFC 9293 §3.4)', () => {
    expect(tcpSegmentLength(SYN_REPR)).toBe(1);
    expect(tcpSegmentLength(DATA_REPR)).toBe(5);
    expect(tcpSegmentLength(TFO_EXP_REPR)).toBe(4);
    expect(tcpSegmentLength(repr({ flags: TcpFlag.FIN | TcpFlag.ACK }))).toBe(1);
    expect(tcpSegmentLength(repr({ flags: TcpFlag.SYN | TcpFlag.FIN, payload: new Uint8Array(3) }))).toBe(5);
    expect(tcpSegmentLength(repr({ flags: TcpFlag.ACK }))).toBe(0);
  });
});

// ---- properties ----

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
/** Sequence numbers with extra weight near the 2^32 wrap and near zero. */
const seqArb: fc.Arbitrary<Seq> = fc
  .oneof(u32, fc.integer({ min: 0xffffff00, max: 0xffffffff }), fc.integer({ min: 0, max: 0xff }))
  .map((n) => seq(n));
const sackBlockArb: fc.Arbitrary<SackBlock> = fc.record({ left: seqArb, right: seqArb });
/** Valid cookies only: empty (a request) or an even length from 4 to 16 (RFC 7413 §4.1.1). */
const cookieArb = fc
  .oneof(fc.constant(0), fc.integer({ min: 2, max: 8 }).map((n) => n * 2))
  .chain((n) => fc.uint8Array({ minLength: n, maxLength: n }));

const optionsArb: fc.Arbitrary<TcpOptions> = fc.record(
  {
    mss: u16,
    wscale: fc.integer({ min: 0, max: 255 }),
    sackPermitted: fc.constant(true),
    sack: fc.array(sackBlockArb, { minLength: 1, maxLength: 4 }),
    timestamp: fc.record({ tsval: u32, tsecr: u32 }),
    fastOpen: cookieArb,
    fastOpenExperimental: fc.constant(true),
  },
  { requiredKeys: [] },
);

const reprArb: fc.Arbitrary<TcpRepr> = fc.record({
  srcPort: u16,
  dstPort: u16,
  seq: seqArb,
  ack: seqArb,
  flags: fc.integer({ min: 0, max: 255 }),
  window: u16,
  urgent: u16,
  options: optionsArb,
  payload: fc.oneof(fc.uint8Array({ maxLength: 16 }), fc.uint8Array({ maxLength: 400 })),
});

/** What parse should give back for `r`: SACK blocks beyond the space dropped, lone flags cleared. */
function expectedAfterRoundTrip(r: TcpRepr): TcpRepr {
  const o: TcpOptions = { ...r.options };
  const k = emittedSackBlocks(r.options);
  if (k === 0) delete o.sack;
  else o.sack = r.options.sack!.slice(0, k);
  if (o.fastOpen === undefined) delete o.fastOpenExperimental;
  return { ...r, options: o };
}

describe('properties', () => {
  test('parse(emit(x)) equals x, with and without the checksum', () => {
    fc.assert(
      fc.property(reprArb, fc.boolean(), fc.integer({ min: 0, max: 3 }), (r, v6, at) => {
        const pseudo = v6 ? V6_PSEUDO : TO_SERVER;
        const hlen = tcpHeaderLength(r.options);
        expect(hlen).toBeLessThanOrEqual(60);
        expect(hlen % 4).toBe(0);
        // Any alignment: the checksum's 32-bit fast path must agree with its byte loop.
        const out = new Uint8Array(at + hlen + r.payload.length + 5).fill(0xa5).subarray(at);
        const n = emitTcp(r, out, pseudo);
        expect(n).toBe(hlen + r.payload.length);
        const seg = out.subarray(0, n);
        const expected = expectedAfterRoundTrip(r);
        expect(parsed(seg, pseudo)).toEqual(expected);
        expect(parsed(seg, undefined)).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });

  test('parse into a reused repr equals parse into a fresh one', () => {
    const out = repr({});
    fc.assert(
      fc.property(reprArb, (r) => {
        const buf = new Uint8Array(tcpHeaderLength(r.options) + r.payload.length);
        emitTcp(r, buf, undefined);
        const fresh = parseTcp(buf, undefined);
        const reused = parseTcp(buf, undefined, out);
        expect(reused).toEqual(fresh);
      }),
      { numRuns: 500 },
    );
  });

  test('parseTcp never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.boolean(), (bytes, check) => {
        const r = parseTcp(bytes, check ? TO_SERVER : undefined);
        if (r.ok) expect(r.value.payload.length).toBeLessThanOrEqual(bytes.length - TCP_MIN_HEADER);
      }),
      { numRuns: 5000 },
    );
  });

  test('arbitrary option areas behind a valid header never throw, and what parses re-emits', () => {
    const optionArea = fc
      .integer({ min: 0, max: 10 })
      .chain((words) => fc.uint8Array({ minLength: words * 4, maxLength: words * 4 }));
    fc.assert(
      fc.property(optionArea, fc.uint8Array({ maxLength: 8 }), (opts, payload) => {
        const b = new Uint8Array(20 + opts.length + payload.length);
        b[12] = ((20 + opts.length) / 4) << 4;
        b.set(opts, 20);
        b.set(payload, 20 + opts.length);
        const r = parseTcp(b, undefined);
        if (!r.ok) {
          expect(r.error).toBe('bad-option');
          return;
        }
        expect(r.value.payload).toEqual(payload);
        const out = new Uint8Array(60 + payload.length);
        const n = emitTcp(r.value, out, undefined);
        expect(parsed(out.subarray(0, n), undefined)).toEqual(expectedAfterRoundTrip(r.value));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('in place: parseTcpAt and emitTcpHeader (the stack\'s own paths)', () => {
  const pseudoArb = fc.constantFrom(undefined, TO_SERVER, V6_PSEUDO);

  test('emitTcpHeader writes the same bytes as emitTcp, at any offset, leaving the rest alone', () => {
    fc.assert(
      fc.property(reprArb, pseudoArb, fc.integer({ min: 0, max: 7 }), (r, pseudo, at) => {
        const hlen = tcpHeaderLength(r.options);
        const want = new Uint8Array(hlen + r.payload.length);
        emitTcp(r, want, pseudo);
        const buf = new Uint8Array(at + hlen + r.payload.length + 3).fill(0xa5);
        buf.set(r.payload, at + hlen); // the payload laid out first, as the TCP layer does
        const n = emitTcpHeader({ ...r, payload: EMPTY }, buf, at, r.payload.length, pseudo?.src, pseudo?.dst ?? V4_SERVER);
        expect(n).toBe(want.length);
        expect([...buf.subarray(at, at + n)]).toEqual([...want]); // every header byte written: no 0xa5 left
        expect([...buf.subarray(0, at), ...buf.subarray(at + n)]).toEqual(new Array(at + 3).fill(0xa5));
      }),
      { numRuns: 2000 },
    );
  });

  test('parseTcpAt agrees with parseTcp on valid and arbitrary segments, values and errors alike', () => {
    const scratch = new TcpOptionScratch();
    const out = repr({});
    const segArb = fc.oneof(
      fc.tuple(reprArb, pseudoArb).map(([r, pseudo]) => {
        const b = new Uint8Array(tcpHeaderLength(r.options) + r.payload.length);
        emitTcp(r, b, pseudo);
        return { b, pseudo };
      }),
      fc.tuple(fc.uint8Array({ maxLength: 80 }), pseudoArb).map(([b, pseudo]) => ({ b, pseudo })),
    );
    fc.assert(
      fc.property(segArb, fc.integer({ min: 0, max: 5 }), fc.boolean(), ({ b, pseudo }, at, corrupt) => {
        const seg = b.slice();
        if (corrupt && seg.length > 0) seg[seg.length >> 1] = seg[seg.length >> 1]! ^ 0x40;
        const frame = new Uint8Array(at + seg.length + 4).fill(0xee);
        frame.set(seg, at);
        const want = parseTcp(seg, pseudo);
        const error = parseTcpAt(frame, at, seg.length, pseudo?.src, pseudo?.dst ?? V4_SERVER, out, scratch);
        if (!want.ok) {
          expect(error).toBe(want.error);
          return;
        }
        expect(error).toBeUndefined();
        expect({ ...out, payload: [...out.payload] }).toEqual({ ...want.value, payload: [...want.value.payload] });
        if (out.payload.length > 0) expect(out.payload.buffer).toBe(frame.buffer); // a view of the frame, not a copy
      }),
      { numRuns: 3000 },
    );
  });

  test('with a scratch, the timestamp and SACK blocks are the scratch\'s objects, refilled per segment', () => {
    const scratch = new TcpOptionScratch();
    const out = repr({});
    expect(parseTcpAt(SACK_GOLDEN, 0, SACK_GOLDEN.length, TO_CLIENT.src, TO_CLIENT.dst, out, scratch)).toBeUndefined();
    expect(out.options.sack).toEqual(SACK_BLOCKS);
    const blocks = out.options.sack;
    const ts = out.options.timestamp;
    expect(parseTcpAt(SACK_GOLDEN, 0, SACK_GOLDEN.length, undefined, V4_SERVER, out, scratch)).toBeUndefined();
    expect(out.options.sack).toBe(blocks);
    expect(out.options.timestamp).toBe(ts);
    expect(parseTcpAt(SYN_GOLDEN, 0, SYN_GOLDEN.length, undefined, V4_SERVER, out, scratch)).toBeUndefined();
    expect(out.options.sack).toBeUndefined();
  });
});
