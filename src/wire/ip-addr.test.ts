// IpAddr: text forms (RFC 4291 §2.2, RFC 5952), bytes, prefixes.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { IpAddr } from './ip-addr.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
/** IPv6 words biased toward zero groups, so `::` compression gets exercised. */
const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
const word = fc.tuple(group, group).map(([hi, lo]) => ((hi << 16) | lo) >>> 0);
const v6 = fc.tuple(word, word, word, word).map(([a, b, c, d]) => IpAddr.v6(a, b, c, d));
const v4 = u32.map((w) => IpAddr.v4(w));

describe('parse and format', () => {
  test.each([
    // RFC 5952 §4: canonical text is its own round trip.
    '2001:db8::1',
    '::',
    '::1',
    '1::',
    'fe80::1:0:0:1', // §4.2.3: the longest run is compressed
    '2001:db8::1:0:0:1', // §4.2.3: on a tie, the first run is compressed
    '2001:db8:0:1:1:1:1:1', // §4.2.2: a single zero group is not compressed
    '2001:0:0:1::1',
    '1:2:3:4:5:6:7:0',
    '::ffff:10.0.0.1', // §5: IPv4-mapped keeps the dotted quad
    'fd00::2',
    'ff02::1:ff00:2',
  ])('IPv6 %s is canonical', (text) => {
    const a = IpAddr.from(text);
    expect(a.family).toBe(6);
    expect(a.toString()).toBe(text);
  });

  test.each([
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'], // §4.3: lower case
    ['2001:0db8:0000::0001', '2001:db8::1'], // §4.1: no leading zeros
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::1:2:3:4:5:6:7', '0:1:2:3:4:5:6:7'],
    ['::ffff:a00:1', '::ffff:10.0.0.1'],
    ['::13.1.68.3', '::d01:4403'], // RFC 4291 §2.2 example; only mapped addresses keep dots
    ['fe80::1%eth0', 'fe80::1'], // a zone index is accepted and dropped
  ])('IPv6 %s formats as %s', (text, canonical) => {
    expect(IpAddr.from(text).toString()).toBe(canonical);
  });

  test.each(['10.0.0.1', '0.0.0.0', '255.255.255.255', '127.0.0.1'])('IPv4 %s round-trips', (text) => {
    const a = IpAddr.from(text);
    expect(a.family).toBe(4);
    expect(a.toString()).toBe(text);
  });

  test.each([
    '', ' ', '10.0.0', '10.0.0.1.2', '256.0.0.1', '10.0.0.-1', '01.2.3.4', '1.2.3.4 ', '0x1.2.3.4',
    ':', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'g::1', '::1:', ':1::',
    '1:2:3:4:5:6:7::8', '::1.2.3', '::1.2.3.4.5', '1.2.3.4::', '1.2.3.4::1', '::1.2.3.4:5', 'fe80::1%',
    '[::1]', '::ffff:256.0.0.1',
  ])('rejects %j', (text) => {
    const r = IpAddr.parse(text);
    expect(r.ok).toBe(false);
    expect(() => IpAddr.from(text)).toThrow(TypeError);
  });

  test('property: IPv6 text round-trips', () => {
    fc.assert(fc.property(v6, (a) => IpAddr.from(a.toString()).equals(a)));
  });

  test('property: IPv4 text round-trips', () => {
    fc.assert(fc.property(v4, (a) => IpAddr.from(a.toString()).equals(a)));
  });

  test('property: IPv6 text agrees with the WHATWG URL serializer (which also follows RFC 5952 §4)', () => {
    fc.assert(
      fc.property(v6, (a) => {
        fc.pre(!(a.w0 === 0 && a.w1 === 0 && a.w2 === 0xffff)); // URL does not keep the dotted quad (§5)
        expect(`[${a.toString()}]`).toBe(new URL(`http://[${a.toString()}]/`).hostname);
      }),
    );
  });

  test('property: parse never throws on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:.%x '), maxLength: 50 }), (s) => {
      const r = IpAddr.parse(s);
      if (r.ok) expect(IpAddr.from(r.value.toString()).equals(r.value)).toBe(true);
    }));
  });
});

describe('values', () => {
  test('IPv4 and its IPv4-mapped IPv6 form are different addresses', () => {
    const a = IpAddr.from('10.0.0.1');
    const m = IpAddr.from('::ffff:10.0.0.1');
    expect(a.equals(m)).toBe(false);
    expect(a.equals(IpAddr.v4(0x0a000001))).toBe(true);
    expect(a.v4).toBe(0x0a000001);
  });

  test('byteLength, any, predicates', () => {
    expect(IpAddr.from('10.0.0.1').byteLength).toBe(4);
    expect(IpAddr.from('fd00::1').byteLength).toBe(16);
    expect(IpAddr.any(4).toString()).toBe('0.0.0.0');
    expect(IpAddr.any(6).toString()).toBe('::');
    expect(IpAddr.any(6).isUnspecified).toBe(true);
    expect(IpAddr.from('::1').isLoopback).toBe(true);
    expect(IpAddr.from('127.1.2.3').isLoopback).toBe(true);
    expect(IpAddr.from('10.0.0.1').isLoopback).toBe(false);
    expect(IpAddr.from('224.0.0.1').isMulticastOrBroadcast).toBe(true);
    expect(IpAddr.from('255.255.255.255').isMulticastOrBroadcast).toBe(true);
    expect(IpAddr.from('ff02::1').isMulticastOrBroadcast).toBe(true);
    expect(IpAddr.from('fd00::1').isMulticastOrBroadcast).toBe(false);
  });

  test('equal addresses hash equally', () => {
    expect(IpAddr.from('fd00::1').hash()).toBe(IpAddr.from('fd00:0::1').hash());
    expect(IpAddr.from('fd00::1').hash()).not.toBe(IpAddr.from('fd00::2').hash());
  });
});

describe('bytes', () => {
  test('write and read at an offset', () => {
    const buf = new Uint8Array(24).fill(0xa5);
    IpAddr.from('fd00::2').write(buf, 3);
    expect([...buf.subarray(3, 19)]).toEqual([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    expect(buf[2]).toBe(0xa5);
    expect(buf[19]).toBe(0xa5);
    expect(IpAddr.read(buf, 3, 6).toString()).toBe('fd00::2');
    IpAddr.from('10.0.0.2').write(buf, 20);
    expect([...buf.subarray(20, 24)]).toEqual([10, 0, 0, 2]);
    expect(IpAddr.read(buf, 20, 4).toString()).toBe('10.0.0.2');
  });

  test('equalsBytes compares in place', () => {
    const buf = Uint8Array.of(0xff, 10, 0, 0, 1);
    expect(IpAddr.from('10.0.0.1').equalsBytes(buf, 1)).toBe(true);
    expect(IpAddr.from('10.0.0.2').equalsBytes(buf, 1)).toBe(false);
    expect(IpAddr.from('10.0.0.1').equalsBytes(buf, 0)).toBe(false);
  });

  test('property: equalsBytes is true exactly for the written address', () => {
    fc.assert(
      fc.property(fc.oneof(v4, v6), fc.oneof(v4, v6), fc.integer({ min: 0, max: 8 }), (a, b, off) => {
        fc.pre(a.family === b.family);
        const buf = new Uint8Array(32);
        a.write(buf, off);
        expect(a.equalsBytes(buf, off)).toBe(true);
        expect(IpAddr.read(buf, off, a.family).equals(a)).toBe(true);
        expect(b.equalsBytes(buf, off)).toBe(a.equals(b));
      }),
    );
  });
});

describe('inPrefix', () => {
  test.each([
    ['10.0.0.1', '10.0.0.0', 8, true],
    ['10.0.0.1', '10.0.0.0', 24, true],
    ['10.0.0.1', '10.0.0.1', 32, true],
    ['10.0.0.1', '10.0.0.2', 32, false],
    ['10.0.0.1', '10.0.0.0', 31, true],
    ['10.0.0.2', '10.0.0.0', 31, false],
    ['11.0.0.1', '10.0.0.0', 8, false],
    ['192.168.1.1', '0.0.0.0', 0, true],
    ['fd00::1', 'fd00::', 8, true],
    ['fd00::1', 'fc00::', 7, true],
    ['fd00::1', '2001:db8::', 32, false],
    ['fd00::1', 'fd00::1', 128, true],
    ['fd00::1', 'fd00::', 127, true],
    ['fd00::2', 'fd00::', 127, false],
    ['fd00::1', 'fd00::', 126, true],
    ['fe80::1', 'fe80::', 10, true],
    ['febf::1', 'fe80::', 10, true],
    ['fec0::1', 'fe80::', 10, false],
    ['ff02::1:ff00:2', 'ff02::1:ff00:0', 104, true],
    ['ff02::1:fe00:2', 'ff02::1:ff00:0', 104, false],
    ['2001:db8::1', '::', 0, true],
    ['10.0.0.1', '::', 0, false], // families differ
    ['::ffff:10.0.0.1', '10.0.0.0', 8, false],
  ] as const)('%s in %s/%d is %s', (addr, prefix, len, expected) => {
    expect(IpAddr.from(addr).inPrefix(IpAddr.from(prefix), len)).toBe(expected);
  });

  /** The 128-bit value of an address as a bigint (IPv4 as the 32-bit value). */
  const big = (a: IpAddr): bigint =>
    a.family === 4 ? BigInt(a.w3) : (BigInt(a.w0) << 96n) | (BigInt(a.w1) << 64n) | (BigInt(a.w2) << 32n) | BigInt(a.w3);

  test('property: agrees with a bigint reference', () => {
    fc.assert(
      fc.property(fc.oneof(v4, v6), fc.oneof(v4, v6), fc.integer({ min: 0, max: 128 }), (a, p, rawLen) => {
        fc.pre(a.family === p.family);
        const bits = a.family === 4 ? 32 : 128;
        const len = rawLen % (bits + 1);
        const shift = BigInt(bits - len);
        expect(a.inPrefix(p, len)).toBe(big(a) >> shift === big(p) >> shift);
        expect(a.inPrefix(a, len)).toBe(true);
      }),
    );
  });
});
