// ICMPv4 messages (RFC 792, RFC 1191 §4).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { internetChecksum } from './checksum.js';
import {
  ICMPV4_HEADER_LEN, Icmpv4TimeExceededCode, Icmpv4UnreachableCode, emitIcmpv4, icmpv4Length, parseIcmpv4,
  type Icmpv4Repr,
} from './icmpv4.js';
import { parseIpv4Quoted } from './ipv4.js';

/** A ping from 10.0.0.1 (checked with Wireshark). */
const ECHO_REQUEST = Uint8Array.of(
  0x08, // type 8: echo request
  0x00, // code 0
  0x06, 0xfa, // checksum
  0x12, 0x34, // identifier 0x1234
  0x00, 0x01, // sequence number 1
  0x70, 0x69, 0x6e, 0x67, // data "ping"
);
const ECHO_REQUEST_REPR: Icmpv4Repr = { type: 'echo-request', id: 0x1234, seq: 1, data: new TextEncoder().encode('ping') };

/** A router's "fragmentation needed" for a UDP datagram 10.0.0.1 -> 10.0.0.2 (checksum checked with Wireshark). */
const FRAG_NEEDED = Uint8Array.of(
  0x03, // type 3: destination unreachable
  0x04, // code 4: fragmentation needed and DF set
  0x0b, 0xa4, // checksum
  0x00, 0x00, // unused (RFC 1191 §4: zero)
  0x05, 0x78, // next-hop MTU 1400
  // quoted: the original IPv4 header ...
  0x45, 0x2a, 0x00, 0x20, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x11, 0x0a, 0x5b, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
  // ... and its payload (RFC 1812 §4.3.2.3: as much as fits), the UDP header and data
  0xc0, 0x00, 0x00, 0x35, 0x00, 0x0c, 0x8e, 0x00, 0xde, 0xad, 0xbe, 0xef,
);
const FRAG_NEEDED_REPR: Icmpv4Repr = {
  type: 'destination-unreachable',
  code: Icmpv4UnreachableCode.FragmentationNeeded,
  nextHopMtu: 1400,
  quoted: FRAG_NEEDED.slice(8),
};

/** Recomputes the checksum in place after a test edits a field. */
function fixChecksum(b: Uint8Array): Uint8Array {
  b[2] = 0;
  b[3] = 0;
  const c = internetChecksum(b);
  b[2] = c >>> 8;
  b[3] = c & 0xff;
  return b;
}

describe.each([
  ['echo request', ECHO_REQUEST, ECHO_REQUEST_REPR],
  ['fragmentation needed', FRAG_NEEDED, FRAG_NEEDED_REPR],
] as const)('golden %s', (_name, golden, repr) => {
  test('parses to the expected values, the body a subarray', () => {
    const r = parseIcmpv4(golden);
    expect(r).toEqual({ ok: true, value: repr });
    const body = r.ok && ('data' in r.value ? r.value.data : r.value.quoted);
    expect(body && body.buffer).toBe(golden.buffer);
    expect(body && body.byteOffset).toBe(ICMPV4_HEADER_LEN);
  });

  test('emits exactly the golden bytes into a buffer of 0xa5', () => {
    expect(icmpv4Length(repr)).toBe(golden.length);
    const out = new Uint8Array(golden.length).fill(0xa5);
    emitIcmpv4(repr, out);
    expect([...out]).toEqual([...golden]);
  });

  test('emit with the body already in place (a subarray of the output) leaves it and sums it', () => {
    const out = new Uint8Array(golden.length).fill(0xa5);
    out.set(golden.subarray(ICMPV4_HEADER_LEN), ICMPV4_HEADER_LEN);
    const body = out.subarray(ICMPV4_HEADER_LEN);
    emitIcmpv4('data' in repr ? { ...repr, data: body } : { ...repr, quoted: body }, out);
    expect([...out]).toEqual([...golden]);
  });

  test('every truncation is an error', () => {
    // ICMP has no length field of its own (the IP layer delimits it), so a cut shows up as a bad
    // checksum; for these goldens no cut happens to leave the sum unchanged.
    for (let i = 0; i < golden.length; i++) {
      expect(parseIcmpv4(golden.subarray(0, i))).toEqual({ ok: false, error: i < ICMPV4_HEADER_LEN ? 'truncated' : 'bad-checksum' });
    }
  });

  test('any flipped bit fails the checksum', () => {
    for (let i = 0; i < golden.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const b = golden.slice();
        b[i]! ^= 1 << bit;
        expect(parseIcmpv4(b)).toEqual({ ok: false, error: 'bad-checksum' });
        if (i > 0) expect(parseIcmpv4(b, false).ok).toBe(true); // offload: the type is all that is checked then
      }
    }
  });
});

describe('messages', () => {
  test('the quoted datagram parses as an IPv4 header and the start of its payload', () => {
    const r = parseIcmpv4(FRAG_NEEDED);
    if (!r.ok || r.value.type !== 'destination-unreachable') throw new Error('expected destination-unreachable');
    const q = parseIpv4Quoted(r.value.quoted);
    if (!q.ok) throw new Error(q.error);
    expect(q.value.src.toString()).toBe('10.0.0.1');
    expect(q.value.protocol).toBe(17);
    expect([...q.value.payload.subarray(0, 4)]).toEqual([0xc0, 0x00, 0x00, 0x35]); // ports
  });

  test('next-hop MTU is read only for code 4; elsewhere the field is unused', () => {
    const b = FRAG_NEEDED.slice();
    b[1] = Icmpv4UnreachableCode.Port;
    const r = parseIcmpv4(fixChecksum(b));
    expect(r.ok && r.value.type === 'destination-unreachable' && r.value.nextHopMtu).toBe(0);
    const out = new Uint8Array(FRAG_NEEDED.length);
    emitIcmpv4({ type: 'destination-unreachable', code: Icmpv4UnreachableCode.Port, nextHopMtu: 1400, quoted: FRAG_NEEDED.subarray(8) }, out);
    expect([...out.subarray(4, 8)]).toEqual([0, 0, 0, 0]);
  });

  test('a pre-RFC 1191 router sends MTU 0', () => {
    const b = FRAG_NEEDED.slice();
    b[6] = 0;
    b[7] = 0;
    const r = parseIcmpv4(fixChecksum(b));
    expect(r.ok && r.value.type === 'destination-unreachable' && r.value.nextHopMtu).toBe(0);
  });

  test('echo reply, time exceeded and parameter problem', () => {
    const quoted = FRAG_NEEDED.subarray(8);
    const cases: Icmpv4Repr[] = [
      { type: 'echo-reply', id: 7, seq: 0xffff, data: new Uint8Array(0) },
      { type: 'time-exceeded', code: Icmpv4TimeExceededCode.TtlExceeded, quoted },
      { type: 'time-exceeded', code: Icmpv4TimeExceededCode.ReassemblyTimeExceeded, quoted },
      { type: 'parameter-problem', code: 0, pointer: 9, quoted },
    ];
    for (const repr of cases) {
      const out = new Uint8Array(icmpv4Length(repr)).fill(0xa5);
      emitIcmpv4(repr, out);
      expect(parseIcmpv4(out)).toEqual({ ok: true, value: repr });
    }
    const out = new Uint8Array(8);
    emitIcmpv4({ type: 'echo-reply', id: 7, seq: 8, data: new Uint8Array(0) }, out);
    expect([...out]).toEqual([0x00, 0x00, 0xff, 0xf0, 0x00, 0x07, 0x00, 0x08]); // ~(0x0007 + 0x0008)
    emitIcmpv4({ type: 'parameter-problem', code: 0, pointer: 9, quoted: new Uint8Array(0) }, out);
    expect([out[0], out[4], out[5], out[6], out[7]]).toEqual([12, 9, 0, 0, 0]);
  });

  test.each([
    [4, 'source quench'],
    [5, 'redirect'],
    [9, 'router advertisement'],
    [13, 'timestamp'],
    [255, 'unassigned'],
  ])('type %d (%s) is unsupported', (type) => {
    const b = ECHO_REQUEST.slice();
    b[0] = type;
    expect(parseIcmpv4(fixChecksum(b))).toEqual({ ok: false, error: 'unsupported' });
  });
});

describe('properties', () => {
  const u16 = fc.integer({ min: 0, max: 0xffff });
  const body = fc.uint8Array({ maxLength: 100 });
  const repr: fc.Arbitrary<Icmpv4Repr> = fc.oneof(
    fc.record({ type: fc.constantFrom('echo-request' as const, 'echo-reply' as const), id: u16, seq: u16, data: body }),
    fc.integer({ min: 0, max: 255 }).chain((code) => fc.record({
      type: fc.constant('destination-unreachable' as const),
      code: fc.constant(code),
      nextHopMtu: code === Icmpv4UnreachableCode.FragmentationNeeded ? u16 : fc.constant(0),
      quoted: body,
    })),
    fc.record({ type: fc.constant('time-exceeded' as const), code: fc.integer({ min: 0, max: 255 }), quoted: body }),
    fc.record({
      type: fc.constant('parameter-problem' as const),
      code: fc.integer({ min: 0, max: 255 }),
      pointer: fc.integer({ min: 0, max: 255 }),
      quoted: body,
    }),
  );

  test('parse(emit(x)) == x', () => {
    fc.assert(fc.property(repr, (r) => {
      const out = new Uint8Array(icmpv4Length(r)).fill(0xa5);
      emitIcmpv4(r, out);
      expect(internetChecksum(out)).toBe(0);
      expect(parseIcmpv4(out)).toEqual({ ok: true, value: r });
    }));
  });

  test('parse never throws on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (b, verify) => {
      parseIcmpv4(b, verify);
    }));
  });
});
