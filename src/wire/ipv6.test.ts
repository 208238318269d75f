// The IPv6 fixed header and the extension-header walk (RFC 8200 §3-4).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { IpAddr } from './ip-addr.js';
import { Ecn, IpProtocol } from './ipv4.js';
import {
  IPV6_HEADER_LEN, IPV6_MAX_EXTENSION_HEADERS, Ipv6ExtHeader, emitIpv6, parseIpv6, parseIpv6Extensions, parseIpv6Quoted,
  type Ipv6Packet, type Ipv6Repr,
} from './ipv6.js';

/** A UDP datagram from fd00::1 to fd00::2 (checked with Wireshark). */
const GOLDEN = Uint8Array.of(
  0x60, 0x21, 0x23, 0x45, // version 6, traffic class 0x02 (DSCP 0, ECN ECT(0)), flow label 0x12345
  0x00, 0x0c, // payload length 12
  0x11, // next header UDP
  0x40, // hop limit 64
  0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // source fd00::1
  0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // destination fd00::2
  // payload (12 bytes): a UDP header and 4 data bytes
  0xc0, 0x00, 0x00, 0x35, 0x00, 0x0c, 0xa7, 0xfe, 0xde, 0xad, 0xbe, 0xef,
);
const REPR: Ipv6Repr = {
  src: IpAddr.from('fd00::1'),
  dst: IpAddr.from('fd00::2'),
  nextHeader: IpProtocol.UDP,
  hopLimit: 64,
  dscp: 0,
  ecn: Ecn.Ect0,
  flowLabel: 0x12345,
  payloadLen: 12,
};

/** A middle fragment (offset 1480, M = 1) behind Hop-by-Hop and Destination Options headers. */
const WITH_EXTENSIONS = Uint8Array.of(
  0x60, 0x00, 0x00, 0x00, // version 6, traffic class 0, flow label 0
  0x00, 0x20, // payload length 32
  0x00, // next header: Hop-by-Hop Options
  0x40, // hop limit 64
  0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // source fd00::1
  0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // destination fd00::2
  // Hop-by-Hop Options header
  0x3c, // next header: Destination Options
  0x00, // header extension length 0: 8 bytes
  0x01, 0x04, 0x00, 0x00, 0x00, 0x00, // PadN option, 4 bytes of padding
  // Destination Options header
  0x2c, // next header: Fragment
  0x00, // header extension length 0: 8 bytes
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // six Pad1 options
  // Fragment header
  0x11, // next header: UDP
  0x00, // reserved
  0x05, 0xc9, // fragment offset 185 (1480 bytes), reserved 0, M = 1
  0xde, 0xad, 0xbe, 0xef, // identification
  // fragment data (8 bytes)
  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
);

function parsed(b: Uint8Array): Ipv6Packet {
  const r = parseIpv6(b);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

/** A packet with `nextHeader` in the fixed header and `rest` as its payload. */
function packet(nextHeader: number, rest: number[]): Uint8Array {
  const b = new Uint8Array(IPV6_HEADER_LEN + rest.length);
  emitIpv6({ ...REPR, nextHeader, payloadLen: rest.length }, b);
  b.set(rest, IPV6_HEADER_LEN);
  return b;
}
/** An 8-byte Destination Options (or Hop-by-Hop) header holding only padding. */
const padded = (next: number): number[] => [next, 0, 0x01, 0x04, 0, 0, 0, 0];

describe('golden IPv6 header', () => {
  test('parses to the expected values, the payload a subarray', () => {
    const { payload, headerLen, protocol, fragment, ...repr } = parsed(GOLDEN);
    expect(repr).toEqual(REPR);
    expect(protocol).toBe(IpProtocol.UDP);
    expect(fragment).toBeUndefined();
    expect(headerLen).toBe(IPV6_HEADER_LEN);
    expect(payload.buffer).toBe(GOLDEN.buffer);
    expect(payload.byteOffset).toBe(IPV6_HEADER_LEN);
    expect([...payload]).toEqual([...GOLDEN.subarray(IPV6_HEADER_LEN)]);
  });

  test('emits exactly the golden header into a buffer of 0xa5, leaving the payload alone', () => {
    const out = new Uint8Array(GOLDEN.length).fill(0xa5);
    emitIpv6(REPR, out);
    expect([...out.subarray(0, IPV6_HEADER_LEN)]).toEqual([...GOLDEN.subarray(0, IPV6_HEADER_LEN)]);
    expect(out.subarray(IPV6_HEADER_LEN).every((x) => x === 0xa5)).toBe(true);
  });

  test('every truncation is an error', () => {
    for (let i = 0; i < GOLDEN.length; i++) {
      expect(parseIpv6(GOLDEN.subarray(0, i))).toEqual({ ok: false, error: i < IPV6_HEADER_LEN ? 'truncated' : 'bad-total-length' });
    }
  });

  test('link padding after the payload length is ignored', () => {
    const b = new Uint8Array(GOLDEN.length + 10);
    b.set(GOLDEN);
    expect([...parsed(b).payload]).toEqual([...GOLDEN.subarray(IPV6_HEADER_LEN)]);
  });

  test('version other than 6', () => {
    for (const v of [0, 4, 7, 15]) {
      const b = GOLDEN.slice();
      b[0] = (v << 4) | (b[0]! & 0x0f);
      expect(parseIpv6(b)).toEqual({ ok: false, error: 'bad-version' });
    }
  });
});

describe('extension headers', () => {
  test('golden chain: Hop-by-Hop, Destination Options, Fragment', () => {
    const p = parsed(WITH_EXTENSIONS);
    expect(p.nextHeader).toBe(Ipv6ExtHeader.HopByHop);
    expect(p.payloadLen).toBe(32);
    expect(p.protocol).toBe(IpProtocol.UDP);
    expect(p.fragment).toEqual({ offset: 1480, moreFragments: true, identification: 0xdeadbeef });
    expect(p.headerLen).toBe(64);
    expect([...p.payload]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(p.payload.buffer).toBe(WITH_EXTENSIONS.buffer);
  });

  test('emit of the golden chain\'s fixed header', () => {
    const out = new Uint8Array(IPV6_HEADER_LEN).fill(0xa5);
    emitIpv6({ ...REPR, ecn: 0, flowLabel: 0, nextHeader: Ipv6ExtHeader.HopByHop, payloadLen: 32 }, out);
    expect([...out]).toEqual([...WITH_EXTENSIONS.subarray(0, IPV6_HEADER_LEN)]);
  });

  test('every truncation of the chain is an error', () => {
    for (let i = 0; i < WITH_EXTENSIONS.length; i++) expect(parseIpv6(WITH_EXTENSIONS.subarray(0, i)).ok).toBe(false);
  });

  test('every shorter payload length makes the chain run past it', () => {
    for (let len = 0; len < 24; len++) {
      const b = WITH_EXTENSIONS.slice();
      b[5] = len;
      expect(parseIpv6(b)).toEqual({ ok: false, error: 'bad-extension-header' });
    }
  });

  test('a first fragment (offset 0, M = 1) is reported, not walked through', () => {
    const b = packet(Ipv6ExtHeader.Fragment, [17, 0, 0x00, 0x01, 0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8]);
    const p = parsed(b);
    expect(p.fragment).toEqual({ offset: 0, moreFragments: true, identification: 7 });
    expect(p.protocol).toBe(17);
    expect(p.payload.length).toBe(8);
  });

  test('an atomic fragment (offset 0, M = 0) is walked through (RFC 6946 §4)', () => {
    const p = parsed(packet(Ipv6ExtHeader.Fragment, [58, 0, 0, 0, 0, 0, 0, 9, 0x80, 0, 0, 0]));
    expect(p.fragment).toBeUndefined();
    expect(p.protocol).toBe(58);
    expect(p.headerLen).toBe(48);
    expect(p.payload.length).toBe(4);
  });

  test('a truncated Fragment header', () => {
    expect(parseIpv6(packet(Ipv6ExtHeader.Fragment, [17, 0, 0, 1, 0, 0, 0]))).toEqual({ ok: false, error: 'bad-extension-header' });
  });

  test('Routing header with Segments Left 0 is skipped; otherwise unsupported (we do not forward)', () => {
    const rh = (segmentsLeft: number): number[] => [17, 0, 4, segmentsLeft, 0, 0, 0, 0];
    const p = parsed(packet(Ipv6ExtHeader.Routing, [...rh(0), 1, 2]));
    expect(p.protocol).toBe(17);
    expect([...p.payload]).toEqual([1, 2]);
    expect(parseIpv6(packet(Ipv6ExtHeader.Routing, [...rh(1), 1, 2]))).toEqual({ ok: false, error: 'unsupported' });
  });

  test('No Next Header (59) ends the walk', () => {
    const p = parsed(packet(Ipv6ExtHeader.DestinationOptions, [...padded(59), 0xaa]));
    expect(p.protocol).toBe(59);
    expect(p.payload.length).toBe(1);
  });

  test('Hop-by-Hop anywhere but first is malformed (RFC 8200 §4.1)', () => {
    expect(parseIpv6(packet(Ipv6ExtHeader.DestinationOptions, [...padded(0), ...padded(17)])))
      .toEqual({ ok: false, error: 'bad-extension-header' });
    expect(parseIpv6(packet(Ipv6ExtHeader.HopByHop, [...padded(0), ...padded(17)])))
      .toEqual({ ok: false, error: 'bad-extension-header' });
  });

  test('a header length past the payload', () => {
    // Header extension length 1: 16 bytes, but only 8 are there.
    expect(parseIpv6(packet(Ipv6ExtHeader.DestinationOptions, [17, 1, 1, 4, 0, 0, 0, 0])))
      .toEqual({ ok: false, error: 'bad-extension-header' });
    // Header extension length 255: 2048 bytes.
    expect(parseIpv6(packet(Ipv6ExtHeader.DestinationOptions, [17, 255, 1, 4, 0, 0, 0, 0])))
      .toEqual({ ok: false, error: 'bad-extension-header' });
    // Fewer than 8 bytes left for a header.
    expect(parseIpv6(packet(Ipv6ExtHeader.DestinationOptions, [17, 0, 1, 2, 0, 0])))
      .toEqual({ ok: false, error: 'bad-extension-header' });
  });

  test(`chains are bounded at ${IPV6_MAX_EXTENSION_HEADERS} headers`, () => {
    const chain = (n: number): number[] => Array.from({ length: n }, (_, i) => padded(i === n - 1 ? 17 : 60)).flat();
    const ok8 = parsed(packet(60, chain(IPV6_MAX_EXTENSION_HEADERS)));
    expect(ok8.protocol).toBe(17);
    expect(ok8.headerLen).toBe(IPV6_HEADER_LEN + 8 * IPV6_MAX_EXTENSION_HEADERS);
    expect(parseIpv6(packet(60, chain(IPV6_MAX_EXTENSION_HEADERS + 1)))).toEqual({ ok: false, error: 'bad-extension-header' });
    // A chain of atomic fragments: each 8 bytes, each pointing at another.
    const frags = Array.from({ length: 20 }, () => [44, 0, 0, 0, 0, 0, 0, 0]).flat();
    expect(parseIpv6(packet(44, frags))).toEqual({ ok: false, error: 'bad-extension-header' });
  });

  test('options: unknown "skip" options are skipped; others discard the packet (RFC 8200 §4.2)', () => {
    const opts = (...o: number[]): number[] => [17, 0, ...o];
    expect(parsed(packet(60, opts(0x1e, 0x04, 1, 2, 3, 4))).protocol).toBe(17); // action 00
    expect(parsed(packet(60, opts(0x00, 0x01, 0x02, 9, 9, 0x00))).protocol).toBe(17); // Pad1, PadN 2, Pad1
    expect(parseIpv6(packet(60, opts(0x5e, 0x04, 1, 2, 3, 4)))).toEqual({ ok: false, error: 'unsupported' }); // 01
    expect(parseIpv6(packet(60, opts(0x9e, 0x04, 1, 2, 3, 4)))).toEqual({ ok: false, error: 'unsupported' }); // 10
    expect(parseIpv6(packet(0, opts(0xc2, 0x04, 0, 1, 0, 0)))).toEqual({ ok: false, error: 'unsupported' }); // Jumbo Payload
  });

  test('options: lengths past the header are malformed', () => {
    expect(parseIpv6(packet(60, [17, 0, 0x01, 0x05, 0, 0, 0, 0]))).toEqual({ ok: false, error: 'bad-option' });
    expect(parseIpv6(packet(60, [17, 0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01]))).toEqual({ ok: false, error: 'bad-option' });
    expect(parseIpv6(packet(0, [17, 0, 0x01, 0xff, 0, 0, 0, 0]))).toEqual({ ok: false, error: 'bad-option' });
  });
});

describe('parseIpv6Extensions (after reassembly)', () => {
  test('walks the fragmentable part', () => {
    const b = Uint8Array.of(...padded(17), 0xc0, 0x00);
    const r = parseIpv6Extensions(Ipv6ExtHeader.DestinationOptions, b);
    expect(r.ok && r.value.protocol).toBe(17);
    expect(r.ok && r.value.headerLen).toBe(8);
    expect(r.ok && [...r.value.payload]).toEqual([0xc0, 0x00]);
    expect(parseIpv6Extensions(17, b)).toEqual({ ok: true, value: { protocol: 17, payload: b, headerLen: 0, fragment: undefined } });
  });

  test('rejects Hop-by-Hop, which belongs to the unfragmentable part', () => {
    expect(parseIpv6Extensions(Ipv6ExtHeader.HopByHop, Uint8Array.of(...padded(17)))).toEqual({ ok: false, error: 'bad-extension-header' });
  });
});

describe('parseIpv6Quoted (inside ICMPv6 errors)', () => {
  test('accepts a payload length beyond the quoted bytes', () => {
    const quoted = GOLDEN.subarray(0, 48);
    expect(parseIpv6(quoted)).toEqual({ ok: false, error: 'bad-total-length' });
    const r = parseIpv6Quoted(quoted);
    if (!r.ok) throw new Error(r.error);
    expect(r.value.payloadLen).toBe(12);
    expect(r.value.protocol).toBe(17);
    expect([...r.value.payload]).toEqual([...GOLDEN.subarray(40, 48)]);
  });

  test('extension headers must still be whole', () => {
    expect(parseIpv6Quoted(WITH_EXTENSIONS.subarray(0, 60))).toEqual({ ok: false, error: 'bad-extension-header' });
    expect(parseIpv6Quoted(WITH_EXTENSIONS.subarray(0, 64)).ok).toBe(true);
    for (let i = 0; i < IPV6_HEADER_LEN; i++) expect(parseIpv6Quoted(GOLDEN.subarray(0, i)).ok).toBe(false);
  });
});

describe('properties', () => {
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const ip = fc.tuple(u32, u32, u32, u32).map(([a, b, c, d]) => IpAddr.v6(a, b, c, d));
  const upper = fc.integer({ min: 0, max: 255 }).filter((n) => ![0, 43, 44, 60].includes(n));
  const repr: fc.Arbitrary<Ipv6Repr> = fc.record({
    src: ip,
    dst: ip,
    nextHeader: upper,
    hopLimit: fc.integer({ min: 0, max: 255 }),
    dscp: fc.integer({ min: 0, max: 63 }),
    ecn: fc.integer({ min: 0, max: 3 }),
    flowLabel: fc.integer({ min: 0, max: 0xfffff }),
    payloadLen: fc.integer({ min: 0, max: 1500 }),
  });

  test('parse(emit(x)) == x', () => {
    fc.assert(fc.property(repr, (r) => {
      const out = new Uint8Array(IPV6_HEADER_LEN + r.payloadLen).fill(0xa5);
      emitIpv6(r, out);
      const { payload, headerLen, protocol, fragment, ...back } = parsed(out);
      expect(back).toEqual(r);
      expect(protocol).toBe(r.nextHeader);
      expect(fragment).toBeUndefined();
      expect(headerLen).toBe(IPV6_HEADER_LEN);
      expect(payload.length).toBe(r.payloadLen);
    }));
  });

  test('parse never throws on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (b) => {
      parseIpv6(b);
      parseIpv6Quoted(b);
    }));
  });

  test('parse never throws on random extension-header chains', () => {
    const ext = fc.constantFrom(0, 43, 44, 60, 59, 17);
    fc.assert(fc.property(ext, fc.array(fc.oneof(ext, fc.integer({ min: 0, max: 255 })), { maxLength: 200 }), fc.integer({ min: 0, max: 255 }), (nh, rest, cut) => {
      const b = packet(nh, rest);
      const r = parseIpv6(b);
      if (r.ok) {
        expect(r.value.headerLen + r.value.payload.length).toBe(b.length);
        expect(r.value.payload.buffer).toBe(b.buffer);
      }
      parseIpv6Quoted(b.subarray(0, Math.min(b.length, IPV6_HEADER_LEN + cut)));
      parseIpv6Extensions(nh, Uint8Array.from(rest));
    }), { numRuns: 500 });
  });
});
