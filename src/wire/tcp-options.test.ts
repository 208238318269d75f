// TCP options: malformed option areas, wrong fixed lengths, unknown and experimental kinds, EOL,
// duplicates, Fast Open cookie lengths (RFC 9293 §3.1-3.2, RFC 7323, RFC 2018, RFC 7413, RFC 6994).
import { describe, expect, test } from 'vitest';
import { seq } from '../tcp/seq.js';
import { type TcpOptions, parseTcp } from './tcp.js';
import { TCP_MAX_OPTIONS, emitTcpOptions, emptyTcpOptions, parseTcpOptions, tcpOptionsLength } from './tcp-options.js';

/** A 20-byte header (SYN, ports 1 -> 2) followed by `opts`, which must be a multiple of 4 bytes. */
function segment(...opts: number[]): Uint8Array {
  if (opts.length % 4 !== 0 || opts.length > TCP_MAX_OPTIONS) throw new Error(`bad test option area: ${opts.length} bytes`);
  const b = new Uint8Array(20 + opts.length);
  b[1] = 1;
  b[3] = 2;
  b[12] = ((20 + opts.length) / 4) << 4;
  b[13] = 0x02;
  b.set(opts, 20);
  return b;
}

/** The options parsed from an option area, or the error. */
function options(...opts: number[]): TcpOptions | string {
  const r = parseTcp(segment(...opts), undefined);
  return r.ok ? r.value.options : r.error;
}

const MSS_1460 = [2, 4, 0x05, 0xb4];

describe('malformed option areas are bad-option', () => {
  test('length 0', () => {
    expect(options(30, 0, 0, 0)).toBe('bad-option');
    expect(options(2, 0, 0, 0)).toBe('bad-option'); // even for a kind we know
  });
  test('length 1', () => {
    expect(options(30, 1, 1, 1)).toBe('bad-option');
    expect(options(1, 1, 8, 1)).toBe('bad-option');
  });
  test('an option running past the header end', () => {
    expect(options(2, 8, 0x05, 0xb4)).toBe('bad-option');
    expect(options(1, 1, 1, 8, 10, 0, 0, 0)).toBe('bad-option'); // a timestamp cut short
    expect(options(...MSS_1460, 1, 1, 5, 10)).toBe('bad-option'); // a SACK with no room for its block
    expect(options(1, 1, 1, 1, 254, 255, 0xf9, 0x89)).toBe('bad-option');
  });
  test('the length byte missing at the very end of the header', () => {
    expect(options(1, 1, 1, 2)).toBe('bad-option');
    expect(options(1, 1, 1, 30)).toBe('bad-option');
  });
  test('an option ending exactly at the header end is fine', () => {
    expect(options(1, 1, 1, 1, 30, 4, 0, 0)).toEqual({});
  });
  test('parseTcpOptions reports the same on a bare area', () => {
    const o = emptyTcpOptions();
    expect(parseTcpOptions(new Uint8Array([1, 1, 2]), 0, 3, o)).toBe('bad-option');
    expect(parseTcpOptions(new Uint8Array([2, 4, 0, 1]), 0, 4, o)).toBeUndefined();
    expect(o.mss).toBe(1);
    // Only [start, end) is looked at: bytes past `end` are the payload's.
    expect(parseTcpOptions(new Uint8Array([1, 2, 4, 0, 1]), 0, 1, emptyTcpOptions())).toBeUndefined();
  });
});

describe('known options with the wrong fixed length are ignored, the segment kept (as Linux)', () => {
  test('MSS of length 6', () => {
    expect(options(2, 6, 0x05, 0xb4, 0, 0, 1, 1)).toEqual({});
  });
  test('MSS of length 3, then a good option after it', () => {
    expect(options(2, 3, 0x05, 3, 3, 7, 1, 1)).toEqual({ wscale: 7 });
  });
  test('window scale of length 4', () => {
    expect(options(3, 4, 7, 0)).toEqual({});
  });
  test('SACK-permitted of length 3 and 4', () => {
    expect(options(4, 3, 0, 1)).toEqual({});
    expect(options(4, 4, 0, 0)).toEqual({});
  });
  test('timestamps of length 8 and 12', () => {
    expect(options(8, 8, 0, 0, 0, 1, 0, 0)).toEqual({});
    expect(options(8, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0)).toEqual({});
  });
  test('SACK without a block (length 2) or not 2 + 8n (length 9)', () => {
    expect(options(5, 2, 1, 1)).toEqual({});
    expect(options(5, 9, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1)).toEqual({});
  });
  test('a wrong-length copy does not erase an earlier good one', () => {
    expect(options(...MSS_1460, 2, 3, 0, 1)).toEqual({ mss: 1460 });
  });
});

describe('Fast Open cookie lengths (RFC 7413 §4.1.1)', () => {
  const tfo = (cookieLen: number, pad: number): number[] => [
    34,
    2 + cookieLen,
    ...Array.from({ length: cookieLen }, (_, i) => i + 1),
    ...new Array<number>(pad).fill(1),
  ];
  test('a request (length 2) and cookies of 4..16 even bytes are kept', () => {
    expect(options(...tfo(0, 2))).toEqual({ fastOpen: new Uint8Array(0) });
    for (const n of [4, 6, 8, 10, 12, 14, 16]) {
      const o = options(...tfo(n, (4 - ((2 + n) % 4)) % 4));
      expect(o, `cookie of ${n}`).toEqual({ fastOpen: Uint8Array.from({ length: n }, (_, i) => i + 1) });
    }
  });
  test('odd or out-of-range cookie lengths make the option absent, not the segment bad', () => {
    for (const n of [1, 2, 3, 5, 7, 9, 15, 17, 18, 20]) {
      const o = options(...tfo(n, (4 - ((2 + n) % 4)) % 4));
      expect(o, `cookie of ${n}`).toEqual({});
    }
  });
  test('experimental form: kind 254, ExID 0xF989', () => {
    expect(options(254, 4, 0xf9, 0x89)).toEqual({ fastOpen: new Uint8Array(0), fastOpenExperimental: true });
    expect(options(254, 8, 0xf9, 0x89, 9, 8, 7, 6)).toEqual({ fastOpen: new Uint8Array([9, 8, 7, 6]), fastOpenExperimental: true });
    expect(options(254, 7, 0xf9, 0x89, 9, 8, 7, 1)).toEqual({}); // odd cookie
  });
  test('kind 254 with another ExID is an unknown option: skipped', () => {
    expect(options(254, 8, 0x12, 0x34, 9, 8, 7, 6, ...MSS_1460)).toEqual({ mss: 1460 });
    expect(options(254, 2, ...MSS_1460, 1, 1)).toEqual({ mss: 1460 }); // too short to hold an ExID
    expect(options(254, 3, 0xf9, 2, 4, 0x05, 0xb4, 1)).toEqual({ mss: 1460 });
  });
  test('the last TFO option wins, including its form', () => {
    expect(options(254, 4, 0xf9, 0x89, 34, 2, 1, 1)).toEqual({ fastOpen: new Uint8Array(0) });
    const o = options(34, 2, 1, 1, 254, 4, 0xf9, 0x89);
    expect(o).toEqual({ fastOpen: new Uint8Array(0), fastOpenExperimental: true });
  });
  test('an emitted odd cookie is padded with NOPs so the list still walks', () => {
    const out = new Uint8Array(12).fill(0xa5);
    const o: TcpOptions = { fastOpen: new Uint8Array([7, 7, 7, 7, 7]) };
    expect(tcpOptionsLength(o)).toBe(8);
    expect(emitTcpOptions(o, out, 2)).toBe(8);
    expect(out).toEqual(new Uint8Array([0xa5, 0xa5, 34, 7, 7, 7, 7, 7, 7, 1, 0xa5, 0xa5]));
  });
});

describe('walking the list', () => {
  test('unknown kinds are skipped by their length (RFC 9293 §3.1 MUST-6)', () => {
    expect(options(99, 6, 1, 2, 3, 4, ...MSS_1460, 1, 1)).toEqual({ mss: 1460 });
    expect(options(30, 2, 3, 3, 14, 1, 1, 1)).toEqual({ wscale: 14 });
  });
  test('EOL stops parsing: what follows is padding, even if it would be malformed', () => {
    expect(options(...MSS_1460, 0, 2, 0, 0)).toEqual({ mss: 1460 });
    expect(options(0, 3, 3, 7)).toEqual({});
    expect(options(1, 0, 0xff, 0xff)).toEqual({});
  });
  test('NOPs anywhere, and options that are not word-aligned (RFC 9293 MUST-64)', () => {
    expect(options(1, 3, 3, 7, 2, 4, 0x05, 0xb4, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 4, 2)).toEqual({
      wscale: 7,
      mss: 1460,
      timestamp: { tsval: 1, tsecr: 2 },
      sackPermitted: true,
    });
  });
  test('duplicated options: the last one wins', () => {
    expect(options(...MSS_1460, 2, 4, 0x02, 0x18)).toEqual({ mss: 536 });
    expect(options(3, 3, 1, 3, 3, 2, 1, 1)).toEqual({ wscale: 2 });
    expect(options(5, 10, 0, 0, 0, 1, 0, 0, 0, 2, 5, 10, 0, 0, 0, 3, 0, 0, 0, 4)).toEqual({
      sack: [{ left: seq(3), right: seq(4) }],
    });
  });
  test('four SACK blocks, the most one option can carry', () => {
    const blocks = [1, 2, 3, 4, 5, 6, 7, 8].flatMap((v) => [0, 0, 0, v]);
    expect(options(1, 1, 5, 34, ...blocks)).toEqual({
      sack: [
        { left: seq(1), right: seq(2) },
        { left: seq(3), right: seq(4) },
        { left: seq(5), right: seq(6) },
        { left: seq(7), right: seq(8) },
      ],
    });
  });
  test('options are reported whatever the flags: the TCP layer decides what to honour', () => {
    const b = segment(...MSS_1460, 1, 3, 3, 7);
    b[13] = 0x10; // ACK, no SYN
    const r = parseTcp(b, undefined);
    expect(r.ok && r.value.options).toEqual({ mss: 1460, wscale: 7 });
  });
  test('window scale shifts above 14 are kept as received (RFC 7323 §2.3 clamping is the TCP layer\'s)', () => {
    expect(options(1, 3, 3, 200)).toEqual({ wscale: 200 });
  });
  test('a header of 60 bytes full of NOPs parses to no options', () => {
    expect(options(...new Array<number>(40).fill(1))).toEqual({});
  });
});
