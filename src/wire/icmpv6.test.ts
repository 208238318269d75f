// ICMPv6 (RFC 4443) and Neighbor Discovery messages (RFC 4861).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { finish, onesSum, pseudoHeaderSum } from './checksum.js';
import { MacAddr } from './ethernet.js';
import {
  ICMPV6_HEADER_LEN, Icmpv6ParameterProblemCode, Icmpv6TimeExceededCode, Icmpv6UnreachableCode, NDP_HOP_LIMIT, emitIcmpv6,
  icmpv6Length, parseIcmpv6, type Icmpv6Repr,
} from './icmpv6.js';
import { IpAddr } from './ip-addr.js';
import { parseIpv6Quoted } from './ipv6.js';

const A1 = IpAddr.from('fd00::1');
const A2 = IpAddr.from('fd00::2');
const SOLICITED_A2 = IpAddr.from('ff02::1:ff00:2');
const LINK_LOCAL = IpAddr.from('fe80::1');
const ALL_NODES = IpAddr.from('ff02::1');
const UNSPECIFIED = IpAddr.from('::');
const MAC1 = MacAddr.from('02:00:00:00:00:01');
const MAC2 = MacAddr.from('02:00:00:00:00:02');

/** A ping from fd00::1 to fd00::2 (checked with Wireshark). */
const ECHO_REQUEST = Uint8Array.of(
  0x80, // type 128: echo request
  0x00, // code 0
  0x94, 0xae, // checksum over the IPv6 pseudo-header
  0x12, 0x34, // identifier 0x1234
  0x00, 0x01, // sequence number 1
  0x70, 0x69, 0x6e, 0x67, // data "ping"
);

/** fd00::1 asks the solicited-node group of fd00::2 for its MAC (checked with Wireshark). */
const NEIGHBOR_SOLICITATION = Uint8Array.of(
  0x87, // type 135: neighbor solicitation
  0x00, // code 0
  0x7d, 0x97, // checksum
  0x00, 0x00, 0x00, 0x00, // reserved
  0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // target fd00::2
  0x01, // option: source link-layer address
  0x01, // option length: 1 unit of 8 bytes
  0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // 02:00:00:00:00:01
);

/** fd00::2 answers fd00::1 (checked with Wireshark). */
const NEIGHBOR_ADVERTISEMENT = Uint8Array.of(
  0x88, // type 136: neighbor advertisement
  0x00, // code 0
  0x1c, 0x9a, // checksum
  0x60, 0x00, 0x00, 0x00, // flags: R 0, S 1, O 1; reserved
  0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // target fd00::2
  0x02, // option: target link-layer address
  0x01, // option length: 1 unit of 8 bytes
  0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // 02:00:00:00:00:02
);

/** A router on the path from fd00::2 tells fd00::1 the next hop's MTU is 1280 (checked with Wireshark). */
const PACKET_TOO_BIG = Uint8Array.of(
  0x02, // type 2: packet too big
  0x00, // code 0
  0x07, 0x91, // checksum
  0x00, 0x00, 0x05, 0x00, // MTU 1280
  // quoted: the invoking packet's IPv6 header ...
  0x60, 0x21, 0x23, 0x45, 0x00, 0x0c, 0x11, 0x40,
  0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
  0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
  // ... and its UDP header
  0xc0, 0x00, 0x00, 0x35, 0x00, 0x0c, 0xa7, 0xfe,
);

const GOLDENS: [string, Uint8Array, IpAddr, IpAddr, Icmpv6Repr][] = [
  ['echo request', ECHO_REQUEST, A1, A2, { type: 'echo-request', id: 0x1234, seq: 1, data: new TextEncoder().encode('ping') }],
  ['neighbor solicitation', NEIGHBOR_SOLICITATION, A1, SOLICITED_A2, { type: 'neighbor-solicitation', target: A2, sourceLinkAddr: MAC1 }],
  [
    'neighbor advertisement', NEIGHBOR_ADVERTISEMENT, A2, A1,
    { type: 'neighbor-advertisement', router: false, solicited: true, override: true, target: A2, targetLinkAddr: MAC2 },
  ],
  ['packet too big', PACKET_TOO_BIG, A2, A1, { type: 'packet-too-big', mtu: 1280, quoted: PACKET_TOO_BIG.slice(8) }],
];

/** Recomputes the checksum in place after a test edits a field. */
function fixChecksum(b: Uint8Array, src: IpAddr, dst: IpAddr): Uint8Array {
  b[2] = 0;
  b[3] = 0;
  const c = finish(onesSum(b, pseudoHeaderSum(src, dst, 58, b.length)));
  b[2] = c >>> 8;
  b[3] = c & 0xff;
  return b;
}

/** Emits `repr` into a fresh buffer of 0xa5 sized by icmpv6Length. */
function emitted(repr: Icmpv6Repr, src: IpAddr, dst: IpAddr): Uint8Array {
  const out = new Uint8Array(icmpv6Length(repr)).fill(0xa5);
  emitIcmpv6(repr, out, src, dst);
  return out;
}

describe.each(GOLDENS)('golden %s', (_name, golden, src, dst, repr) => {
  test('parses to the expected values', () => {
    expect(parseIcmpv6(golden, src, dst)).toEqual({ ok: true, value: repr });
  });

  test('emits exactly the golden bytes into a buffer of 0xa5', () => {
    expect(icmpv6Length(repr)).toBe(golden.length);
    expect([...emitted(repr, src, dst)]).toEqual([...golden]);
  });

  test('every truncation is an error', () => {
    for (let i = 0; i < golden.length; i++) expect(parseIcmpv6(golden.subarray(0, i), src, dst).ok).toBe(false);
  });

  test('any flipped bit fails the checksum', () => {
    for (let i = 0; i < golden.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const b = golden.slice();
        b[i]! ^= 1 << bit;
        expect(parseIcmpv6(b, src, dst)).toEqual({ ok: false, error: 'bad-checksum' });
      }
    }
  });

  test('the checksum covers the pseudo-header addresses', () => {
    expect(parseIcmpv6(golden, src, IpAddr.from('fd00::3'))).toEqual({ ok: false, error: 'bad-checksum' });
    expect(parseIcmpv6(golden, IpAddr.from('fd00::3'), dst)).toEqual({ ok: false, error: 'bad-checksum' });
  });
});

describe('error messages', () => {
  test('packet too big quotes a parsable IPv6 header', () => {
    const r = parseIcmpv6(PACKET_TOO_BIG, A2, A1);
    if (!r.ok || r.value.type !== 'packet-too-big') throw new Error('expected packet-too-big');
    expect(r.value.quoted.buffer).toBe(PACKET_TOO_BIG.buffer);
    const q = parseIpv6Quoted(r.value.quoted);
    expect(q.ok && q.value.src.toString()).toBe('fd00::1');
    expect(q.ok && q.value.protocol).toBe(17);
  });

  test('destination unreachable, time exceeded, parameter problem round-trip', () => {
    const quoted = PACKET_TOO_BIG.subarray(8);
    const cases: Icmpv6Repr[] = [
      { type: 'destination-unreachable', code: Icmpv6UnreachableCode.Port, quoted },
      { type: 'time-exceeded', code: Icmpv6TimeExceededCode.Reassembly, quoted },
      { type: 'parameter-problem', code: Icmpv6ParameterProblemCode.NextHeader, pointer: 6, quoted },
      { type: 'echo-reply', id: 1, seq: 2, data: new Uint8Array(0) },
    ];
    for (const repr of cases) expect(parseIcmpv6(emitted(repr, A2, A1), A2, A1)).toEqual({ ok: true, value: repr });
  });

  test('emit with the body already in place leaves it and sums it', () => {
    const out = new Uint8Array(PACKET_TOO_BIG.length).fill(0xa5);
    out.set(PACKET_TOO_BIG.subarray(8), 8);
    emitIcmpv6({ type: 'packet-too-big', mtu: 1280, quoted: out.subarray(8) }, out, A2, A1);
    expect([...out]).toEqual([...PACKET_TOO_BIG]);
  });

  test.each([[0], [127], [130], [137], [255]])('type %d is unsupported', (type) => {
    const b = ECHO_REQUEST.slice();
    b[0] = type;
    expect(parseIcmpv6(fixChecksum(b, A1, A2), A1, A2)).toEqual({ ok: false, error: 'unsupported' });
  });
});

describe('Neighbor Discovery validation (RFC 4861 §6.1, §7.1)', () => {
  const NS = NEIGHBOR_SOLICITATION;
  const edit = (golden: Uint8Array, patch: Record<number, number>, src: IpAddr, dst: IpAddr): Uint8Array => {
    const b = golden.slice();
    for (const [i, v] of Object.entries(patch)) b[Number(i)] = v;
    return fixChecksum(b, src, dst);
  };

  test('constants', () => {
    expect(NDP_HOP_LIMIT).toBe(255);
    expect(ICMPV6_HEADER_LEN).toBe(8);
  });

  test('ICMP code must be 0', () => {
    expect(parseIcmpv6(edit(NS, { 1: 1 }, A1, SOLICITED_A2), A1, SOLICITED_A2)).toEqual({ ok: false, error: 'bad-value' });
    expect(parseIcmpv6(edit(NEIGHBOR_ADVERTISEMENT, { 1: 1 }, A2, A1), A2, A1)).toEqual({ ok: false, error: 'bad-value' });
  });

  test('an option of length 0 is malformed (§4.6)', () => {
    expect(parseIcmpv6(edit(NS, { 25: 0 }, A1, SOLICITED_A2), A1, SOLICITED_A2)).toEqual({ ok: false, error: 'bad-option' });
  });

  test('an option running past the message is malformed', () => {
    expect(parseIcmpv6(edit(NS, { 25: 2 }, A1, SOLICITED_A2), A1, SOLICITED_A2)).toEqual({ ok: false, error: 'bad-option' });
    const oneByteLeft = fixChecksum(Uint8Array.of(...NS, 0x01), A1, SOLICITED_A2);
    expect(parseIcmpv6(oneByteLeft, A1, SOLICITED_A2)).toEqual({ ok: false, error: 'bad-option' });
  });

  test('a link-layer address option that is not one unit (not Ethernet) is malformed', () => {
    const b = fixChecksum(Uint8Array.of(...NS.subarray(0, 24), 0x01, 0x02, 2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0), A1, SOLICITED_A2);
    expect(parseIcmpv6(b, A1, SOLICITED_A2)).toEqual({ ok: false, error: 'bad-option' });
  });

  test('unknown options are skipped; the first of a kind wins', () => {
    const b = fixChecksum(Uint8Array.of(
      ...NS.subarray(0, 24),
      0x0e, 0x01, 1, 2, 3, 4, 5, 6, // an unknown option (14, nonce)
      0x01, 0x01, 2, 0, 0, 0, 0, 1, // SLLA 02:00:00:00:00:01
      0x01, 0x01, 2, 0, 0, 0, 0, 9, // a second SLLA, ignored
      0x02, 0x01, 2, 0, 0, 0, 0, 8, // a TLLA, not meaningful in an NS, ignored
    ), A1, SOLICITED_A2);
    expect(parseIcmpv6(b, A1, SOLICITED_A2)).toEqual({ ok: true, value: { type: 'neighbor-solicitation', target: A2, sourceLinkAddr: MAC1 } });
  });

  test('shorter than the fixed part is truncated', () => {
    const b = fixChecksum(NS.slice(0, 20), A1, SOLICITED_A2);
    expect(parseIcmpv6(b, A1, SOLICITED_A2)).toEqual({ ok: false, error: 'truncated' });
  });

  test('a multicast target is invalid', () => {
    const ns = edit(NS, { 8: 0xff, 9: 0x02 }, A1, SOLICITED_A2);
    expect(parseIcmpv6(ns, A1, SOLICITED_A2)).toEqual({ ok: false, error: 'bad-value' });
    const na = edit(NEIGHBOR_ADVERTISEMENT, { 8: 0xff, 9: 0x02 }, A2, A1);
    expect(parseIcmpv6(na, A2, A1)).toEqual({ ok: false, error: 'bad-value' });
  });

  test('Duplicate Address Detection: from :: to a solicited-node group, without SLLA', () => {
    const probe: Icmpv6Repr = { type: 'neighbor-solicitation', target: A2, sourceLinkAddr: undefined };
    expect(icmpv6Length(probe)).toBe(24);
    expect(parseIcmpv6(emitted(probe, UNSPECIFIED, SOLICITED_A2), UNSPECIFIED, SOLICITED_A2)).toEqual({ ok: true, value: probe });
    // With an SLLA, or to a group that is not solicited-node, it is invalid.
    const withSlla = emitted({ ...probe, sourceLinkAddr: MAC1 }, UNSPECIFIED, SOLICITED_A2);
    expect(parseIcmpv6(withSlla, UNSPECIFIED, SOLICITED_A2)).toEqual({ ok: false, error: 'bad-value' });
    expect(parseIcmpv6(emitted(probe, UNSPECIFIED, ALL_NODES), UNSPECIFIED, ALL_NODES)).toEqual({ ok: false, error: 'bad-value' });
  });

  test('an advertisement to a multicast group must not be solicited', () => {
    const unsolicited: Icmpv6Repr = { type: 'neighbor-advertisement', router: true, solicited: false, override: true, target: A2, targetLinkAddr: MAC2 };
    expect(parseIcmpv6(emitted(unsolicited, A2, ALL_NODES), A2, ALL_NODES)).toEqual({ ok: true, value: unsolicited });
    const solicited = { ...unsolicited, solicited: true };
    expect(parseIcmpv6(emitted(solicited, A2, ALL_NODES), A2, ALL_NODES)).toEqual({ ok: false, error: 'bad-value' });
  });

  test('router solicitation and advertisement', () => {
    const rs: Icmpv6Repr = { type: 'router-solicitation', sourceLinkAddr: MAC1 };
    const rsBytes = emitted(rs, LINK_LOCAL, IpAddr.from('ff02::2'));
    expect([...rsBytes.subarray(0, 2), ...rsBytes.subarray(4)]).toEqual([133, 0, 0, 0, 0, 0, 1, 1, 2, 0, 0, 0, 0, 1]);
    expect(parseIcmpv6(rsBytes, LINK_LOCAL, IpAddr.from('ff02::2'))).toEqual({ ok: true, value: rs });
    // §6.1.1: from :: there must be no SLLA.
    expect(parseIcmpv6(emitted(rs, UNSPECIFIED, IpAddr.from('ff02::2')), UNSPECIFIED, IpAddr.from('ff02::2')))
      .toEqual({ ok: false, error: 'bad-value' });

    const ra: Icmpv6Repr = {
      type: 'router-advertisement', curHopLimit: 64, managed: true, other: false, routerLifetime: 1800,
      reachableTime: 30000, retransTimer: 1000, sourceLinkAddr: MAC1, mtu: 1500,
    };
    const raBytes = emitted(ra, LINK_LOCAL, ALL_NODES);
    expect(raBytes.length).toBe(32);
    expect([...raBytes.subarray(24)]).toEqual([5, 1, 0, 0, 0, 0, 0x05, 0xdc]); // MTU option, 1500
    expect(parseIcmpv6(raBytes, LINK_LOCAL, ALL_NODES)).toEqual({ ok: true, value: ra });
    // §6.1.2: the source must be link-local.
    expect(parseIcmpv6(emitted(ra, A1, ALL_NODES), A1, ALL_NODES)).toEqual({ ok: false, error: 'bad-value' });
    // A Prefix Information option (type 3, 4 units) is skipped.
    const withPrefix = fixChecksum(Uint8Array.of(...raBytes, 3, 4, ...new Uint8Array(30)), LINK_LOCAL, ALL_NODES);
    expect(parseIcmpv6(withPrefix, LINK_LOCAL, ALL_NODES)).toEqual({ ok: true, value: ra });
    // An MTU option of the wrong size is malformed.
    const badMtu = raBytes.slice();
    badMtu[25] = 2;
    expect(parseIcmpv6(fixChecksum(badMtu, LINK_LOCAL, ALL_NODES), LINK_LOCAL, ALL_NODES)).toEqual({ ok: false, error: 'bad-option' });
    // Shorter than its fixed 16 bytes.
    expect(parseIcmpv6(fixChecksum(raBytes.slice(0, 12), LINK_LOCAL, ALL_NODES), LINK_LOCAL, ALL_NODES)).toEqual({ ok: false, error: 'truncated' });
  });
});

describe('properties', () => {
  const u8 = fc.integer({ min: 0, max: 255 });
  const u16 = fc.integer({ min: 0, max: 0xffff });
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const v6 = fc.tuple(u32, u32, u32, u32).map(([a, b, c, d]) => IpAddr.v6(a, b, c, d));
  const unicast = v6.filter((a) => !a.isMulticastOrBroadcast && !a.isUnspecified);
  const linkLocal = fc.tuple(u32, u32).map(([c, d]) => IpAddr.v6(0xfe800000, 0, c, d));
  const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => MacAddr.read(b, 0));
  const maybeMac = fc.option(mac, { nil: undefined });
  const body = fc.uint8Array({ maxLength: 100 });

  /** A message with source and destination addresses that make it valid. */
  const message: fc.Arbitrary<[Icmpv6Repr, IpAddr, IpAddr]> = fc.oneof(
    fc.tuple(fc.oneof(
      fc.record({ type: fc.constantFrom('echo-request' as const, 'echo-reply' as const), id: u16, seq: u16, data: body }),
      fc.record({ type: fc.constant('destination-unreachable' as const), code: u8, quoted: body }),
      fc.record({ type: fc.constant('packet-too-big' as const), mtu: u32, quoted: body }),
      fc.record({ type: fc.constant('time-exceeded' as const), code: u8, quoted: body }),
      fc.record({ type: fc.constant('parameter-problem' as const), code: u8, pointer: u32, quoted: body }),
      fc.record({ type: fc.constant('neighbor-solicitation' as const), target: unicast, sourceLinkAddr: maybeMac }),
      fc.record({
        type: fc.constant('neighbor-advertisement' as const), router: fc.boolean(), solicited: fc.boolean(), override: fc.boolean(),
        target: unicast, targetLinkAddr: maybeMac,
      }),
      fc.record({ type: fc.constant('router-solicitation' as const), sourceLinkAddr: maybeMac }),
    ), unicast, unicast),
    fc.tuple(fc.record({
      type: fc.constant('router-advertisement' as const), curHopLimit: u8, managed: fc.boolean(), other: fc.boolean(),
      routerLifetime: u16, reachableTime: u32, retransTimer: u32, sourceLinkAddr: maybeMac, mtu: fc.option(u32, { nil: undefined }),
    }), linkLocal, v6),
  );

  test('parse(emit(x)) == x', () => {
    fc.assert(fc.property(message, ([repr, src, dst]) => {
      const out = emitted(repr, src, dst);
      expect(parseIcmpv6(out, src, dst)).toEqual({ ok: true, value: repr });
    }));
  });

  test('parse never throws on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), v6, v6, fc.boolean(), (b, src, dst, verify) => {
      parseIcmpv6(b, src, dst, verify);
    }));
  });

  test('parse never throws on random NDP messages (valid checksum, random options)', () => {
    fc.assert(fc.property(fc.constantFrom(133, 134, 135, 136), fc.uint8Array({ maxLength: 80 }), fc.constantFrom(A1, UNSPECIFIED, LINK_LOCAL), (type, rest, src) => {
      const b = Uint8Array.of(type, 0, 0, 0, ...rest);
      fixChecksum(b, src, SOLICITED_A2);
      const r = parseIcmpv6(b, src, SOLICITED_A2);
      if (!r.ok) expect(['truncated', 'bad-option', 'bad-value']).toContain(r.error);
    }), { numRuns: 500 });
  });
});
