// ARP for Ethernet/IPv4 (RFC 826).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ARP_LEN, emitArp, parseArp, type ArpRepr } from './arp.js';
import { MacAddr } from './ethernet.js';
import { IpAddr } from './ip-addr.js';

/** 10.0.0.1 (02:00:00:00:00:01) asks who has 10.0.0.2. */
const REQUEST = Uint8Array.of(
  0x00, 0x01, // hardware type: Ethernet
  0x08, 0x00, // protocol type: IPv4
  0x06, // hardware address length
  0x04, // protocol address length
  0x00, 0x01, // operation: request
  0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // sender MAC 02:00:00:00:00:01
  0x0a, 0x00, 0x00, 0x01, // sender IP 10.0.0.1
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // target MAC: unknown
  0x0a, 0x00, 0x00, 0x02, // target IP 10.0.0.2
);
const REQUEST_REPR: ArpRepr = {
  operation: 'request',
  senderMac: MacAddr.from('02:00:00:00:00:01'),
  senderIp: IpAddr.from('10.0.0.1'),
  targetMac: MacAddr.ZERO,
  targetIp: IpAddr.from('10.0.0.2'),
};

/** 10.0.0.2 answers that it is at 02:00:00:00:00:02. */
const REPLY = Uint8Array.of(
  0x00, 0x01, // hardware type: Ethernet
  0x08, 0x00, // protocol type: IPv4
  0x06, // hardware address length
  0x04, // protocol address length
  0x00, 0x02, // operation: reply
  0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // sender MAC 02:00:00:00:00:02
  0x0a, 0x00, 0x00, 0x02, // sender IP 10.0.0.2
  0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // target MAC 02:00:00:00:00:01
  0x0a, 0x00, 0x00, 0x01, // target IP 10.0.0.1
);
const REPLY_REPR: ArpRepr = {
  operation: 'reply',
  senderMac: MacAddr.from('02:00:00:00:00:02'),
  senderIp: IpAddr.from('10.0.0.2'),
  targetMac: MacAddr.from('02:00:00:00:00:01'),
  targetIp: IpAddr.from('10.0.0.1'),
};

describe.each([
  ['request', REQUEST, REQUEST_REPR],
  ['reply', REPLY, REPLY_REPR],
] as const)('golden ARP %s', (_name, golden, repr) => {
  test('parses to the expected values', () => {
    expect(parseArp(golden)).toEqual({ ok: true, value: repr });
  });

  test('emits exactly the golden bytes into a buffer of 0xa5', () => {
    const out = new Uint8Array(ARP_LEN).fill(0xa5);
    emitArp(repr, out);
    expect([...out]).toEqual([...golden]);
  });

  test('every truncation is an error', () => {
    for (let i = 0; i < golden.length; i++) expect(parseArp(golden.subarray(0, i))).toEqual({ ok: false, error: 'truncated' });
  });

  test('Ethernet padding after the 28 bytes is ignored', () => {
    const padded = new Uint8Array(46);
    padded.set(golden);
    expect(parseArp(padded)).toEqual({ ok: true, value: repr });
  });
});

describe('unsupported ARP', () => {
  const withBytes = (patch: Record<number, number>): Uint8Array => {
    const b = REQUEST.slice();
    for (const [i, v] of Object.entries(patch)) b[Number(i)] = v;
    return b;
  };
  test.each([
    ['hardware type IEEE 802 (6)', { 1: 6 }],
    ['protocol type IPv6', { 2: 0x86, 3: 0xdd }],
    ['hardware length 8', { 4: 8 }],
    ['protocol length 16', { 5: 16 }],
    ['operation 0', { 7: 0 }],
    ['operation 3 (RARP request)', { 7: 3 }],
    ['operation 8 (InARP request)', { 7: 8 }],
    ['operation 0x0101', { 6: 1 }],
  ])('%s is unsupported', (_name, patch) => {
    expect(parseArp(withBytes(patch))).toEqual({ ok: false, error: 'unsupported' });
  });
});

describe('properties', () => {
  const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => MacAddr.read(b, 0));
  const ip = fc.integer({ min: 0, max: 0xffffffff }).map((w) => IpAddr.v4(w));
  const repr: fc.Arbitrary<ArpRepr> = fc.record({
    operation: fc.constantFrom('request', 'reply'),
    senderMac: mac,
    senderIp: ip,
    targetMac: mac,
    targetIp: ip,
  });

  test('parse(emit(x)) == x', () => {
    fc.assert(fc.property(repr, (r) => {
      const out = new Uint8Array(ARP_LEN).fill(0xa5);
      emitArp(r, out);
      expect(parseArp(out)).toEqual({ ok: true, value: r });
    }));
  });

  test('parse never throws', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      parseArp(b);
    }));
    // And with a valid fixed part, so the address reads are reached.
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (tail) => {
      const b = new Uint8Array(8 + tail.length);
      b.set(REQUEST.subarray(0, 8));
      b.set(tail, 8);
      parseArp(b);
    }));
  });
});
