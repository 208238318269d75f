// The UDP header (RFC 768; RFC 8200 §8.1 for IPv6).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { IpAddr } from './ip-addr.js';
import { UDP_HEADER_LEN, emitUdp, parseUdp, type UdpRepr } from './udp.js';

const SRC4 = IpAddr.from('10.0.0.1');
const DST4 = IpAddr.from('10.0.0.2');
const SRC6 = IpAddr.from('fd00::1');
const DST6 = IpAddr.from('fd00::2');

/** 10.0.0.1:49152 -> 10.0.0.2:53 with 4 data bytes (checked with Wireshark). */
const GOLDEN4 = Uint8Array.of(
  0xc0, 0x00, // source port 49152
  0x00, 0x35, // destination port 53
  0x00, 0x0c, // length 12
  0x8e, 0x00, // checksum over the IPv4 pseudo-header
  0xde, 0xad, 0xbe, 0xef, // data
);
/** [fd00::1]:49152 -> [fd00::2]:53, the same datagram over IPv6 (checked with Wireshark). */
const GOLDEN6 = Uint8Array.of(
  0xc0, 0x00, // source port 49152
  0x00, 0x35, // destination port 53
  0x00, 0x0c, // length 12
  0xa7, 0xfe, // checksum over the IPv6 pseudo-header
  0xde, 0xad, 0xbe, 0xef, // data
);
const REPR: UdpRepr = { srcPort: 49152, dstPort: 53, payloadLen: 4 };

describe.each([
  ['IPv4', GOLDEN4, SRC4, DST4],
  ['IPv6', GOLDEN6, SRC6, DST6],
] as const)('golden UDP over %s', (_name, golden, src, dst) => {
  test('parses to the expected values, the payload a subarray', () => {
    const r = parseUdp(golden, src, dst);
    if (!r.ok) throw new Error(r.error);
    const { payload, ...repr } = r.value;
    expect(repr).toEqual(REPR);
    expect(payload.buffer).toBe(golden.buffer);
    expect(payload.byteOffset).toBe(UDP_HEADER_LEN);
    expect([...payload]).toEqual([0xde, 0xad, 0xbe, 0xef]);
  });

  test('emits exactly the golden bytes; the data placed beforehand is summed, not moved', () => {
    const out = new Uint8Array(golden.length).fill(0xa5);
    out.set([0xde, 0xad, 0xbe, 0xef], UDP_HEADER_LEN);
    emitUdp(REPR, out, src, dst);
    expect([...out]).toEqual([...golden]);
  });

  test('emit writes only its datagram in a larger buffer', () => {
    const out = new Uint8Array(golden.length + 3).fill(0xa5);
    out.set([0xde, 0xad, 0xbe, 0xef], UDP_HEADER_LEN);
    emitUdp(REPR, out, src, dst);
    expect([...out.subarray(0, golden.length)]).toEqual([...golden]);
    expect([...out.subarray(golden.length)]).toEqual([0xa5, 0xa5, 0xa5]);
  });

  test('every truncation is an error', () => {
    for (let i = 0; i < golden.length; i++) {
      expect(parseUdp(golden.subarray(0, i), src, dst)).toEqual({ ok: false, error: i < UDP_HEADER_LEN ? 'truncated' : 'bad-length' });
    }
  });

  test('any flipped bit outside the length field fails the checksum', () => {
    for (const i of [0, 1, 2, 3, 6, 7, 8, 9, 10, 11]) {
      for (let bit = 0; bit < 8; bit++) {
        const b = golden.slice();
        b[i]! ^= 1 << bit;
        if (i === 6 || i === 7) {
          // Flipping the checksum field to zero would mean "no checksum" over IPv4; it is not zero here.
          expect(b[6]! | b[7]!).not.toBe(0);
        }
        expect(parseUdp(b, src, dst)).toEqual({ ok: false, error: 'bad-checksum' });
      }
    }
  });

  test('any flipped bit in the length field is an error', () => {
    for (const i of [4, 5]) {
      for (let bit = 0; bit < 8; bit++) {
        const b = golden.slice();
        b[i]! ^= 1 << bit;
        expect(parseUdp(b, src, dst).ok).toBe(false);
      }
    }
  });

  test('the wrong pseudo-header fails the checksum', () => {
    expect(parseUdp(golden, dst, src).ok).toBe(true); // swapping is symmetric in a one's complement sum
    const other = src.family === 4 ? IpAddr.from('10.0.0.3') : IpAddr.from('fd00::3');
    expect(parseUdp(golden, src, other)).toEqual({ ok: false, error: 'bad-checksum' });
  });

  test('verifyChecksum = false accepts a bad checksum (offload)', () => {
    const b = golden.slice();
    b[7]! ^= 1;
    expect(parseUdp(b, src, dst, false).ok).toBe(true);
  });
});

describe('length field', () => {
  test('below 8 is malformed', () => {
    for (const len of [0, 1, 7]) {
      const b = GOLDEN4.slice();
      b[5] = len;
      expect(parseUdp(b, SRC4, DST4)).toEqual({ ok: false, error: 'bad-length' });
    }
  });

  test('past the buffer is malformed', () => {
    const b = GOLDEN4.slice();
    b[5] = 13;
    expect(parseUdp(b, SRC4, DST4)).toEqual({ ok: false, error: 'bad-length' });
  });

  test('the datagram ends at the length field: trailing bytes are not data and not summed', () => {
    const b = new Uint8Array(GOLDEN4.length + 6).fill(0x77);
    b.set(GOLDEN4);
    const r = parseUdp(b, SRC4, DST4);
    expect(r.ok && [...r.value.payload]).toEqual([0xde, 0xad, 0xbe, 0xef]);
  });

  test('an empty datagram', () => {
    const out = new Uint8Array(8).fill(0xa5);
    emitUdp({ srcPort: 1, dstPort: 2, payloadLen: 0 }, out, SRC4, DST4);
    const r = parseUdp(out, SRC4, DST4);
    expect(r).toEqual({ ok: true, value: { srcPort: 1, dstPort: 2, payloadLen: 0, payload: new Uint8Array(0) } });
  });
});

describe('zero checksum', () => {
  const zeroed = (b: Uint8Array): Uint8Array => {
    const c = b.slice();
    c[6] = 0;
    c[7] = 0;
    return c;
  };
  test('over IPv4 means "no checksum" (RFC 768)', () => {
    expect(parseUdp(zeroed(GOLDEN4), SRC4, DST4).ok).toBe(true);
    const corrupted = zeroed(GOLDEN4);
    corrupted[8] = 0;
    expect(parseUdp(corrupted, SRC4, DST4).ok).toBe(true);
  });

  test('over IPv6 is invalid (RFC 8200 §8.1)', () => {
    expect(parseUdp(zeroed(GOLDEN6), SRC6, DST6)).toEqual({ ok: false, error: 'bad-checksum' });
    expect(parseUdp(zeroed(GOLDEN6), SRC6, DST6, false)).toEqual({ ok: false, error: 'bad-checksum' });
  });

  test.each([
    ['IPv4', SRC4, DST4],
    ['IPv6', SRC6, DST6],
  ] as const)('a computed checksum of 0 is sent as 0xFFFF over %s, and verifies', (_n, src, dst) => {
    // With data word w, the checksum is ~(S + w) where S is the sum without it; choose w = ~S.
    const out = new Uint8Array(10);
    emitUdp({ srcPort: 1000, dstPort: 2000, payloadLen: 2 }, out, src, dst);
    const c = (out[6]! << 8) | out[7]!; // ~S with data 0
    out[8] = c >>> 8;
    out[9] = c & 0xff;
    emitUdp({ srcPort: 1000, dstPort: 2000, payloadLen: 2 }, out, src, dst);
    expect([out[6], out[7]]).toEqual([0xff, 0xff]);
    expect(parseUdp(out, src, dst).ok).toBe(true);
  });
});

describe('properties', () => {
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const v4 = u32.map((w) => IpAddr.v4(w));
  const v6 = fc.tuple(u32, u32, u32, u32).map(([a, b, c, d]) => IpAddr.v6(a, b, c, d));
  const addrs = fc.oneof(fc.tuple(v4, v4), fc.tuple(v6, v6));
  const port = fc.integer({ min: 0, max: 0xffff });

  test('parse(emit(x)) == x', () => {
    fc.assert(fc.property(port, port, fc.uint8Array({ maxLength: 300 }), addrs, (srcPort, dstPort, data, [src, dst]) => {
      const out = new Uint8Array(UDP_HEADER_LEN + data.length).fill(0xa5);
      out.set(data, UDP_HEADER_LEN);
      const repr = { srcPort, dstPort, payloadLen: data.length };
      emitUdp(repr, out, src, dst);
      expect(out[6]! | out[7]!).not.toBe(0);
      expect(parseUdp(out, src, dst)).toEqual({ ok: true, value: { ...repr, payload: data } });
    }));
  });

  test('parse never throws on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), addrs, fc.boolean(), (b, [src, dst], verify) => {
      parseUdp(b, src, dst, verify);
    }));
  });
});
