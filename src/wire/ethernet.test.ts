// Ethernet II header and MAC addresses.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ETHERNET_HEADER_LEN, EtherType, MacAddr, emitEthernet, parseEthernet, type EthernetRepr } from './ethernet.js';
import { IpAddr } from './ip-addr.js';

const GOLDEN = Uint8Array.of(
  0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // destination 02:00:00:00:00:02
  0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // source 02:00:00:00:00:01
  0x08, 0x00, // EtherType IPv4
  0x45, 0x00, 0x00, 0x14, // payload: the start of an IPv4 header
);

const REPR: EthernetRepr = {
  dst: MacAddr.from('02:00:00:00:00:02'),
  src: MacAddr.from('02:00:00:00:00:01'),
  ethertype: EtherType.IPv4,
};

const mac = fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }))
  .map(([hi, lo]) => MacAddr.fromNumber(hi * 2 ** 32 + lo));

describe('Ethernet II golden frame', () => {
  test('parses to the expected values, with the payload as a subarray', () => {
    const r = parseEthernet(GOLDEN);
    if (!r.ok) throw new Error(r.error);
    const { payload, ...repr } = r.value;
    expect(repr).toEqual(REPR);
    expect(payload.buffer).toBe(GOLDEN.buffer);
    expect(payload.byteOffset).toBe(ETHERNET_HEADER_LEN);
    expect([...payload]).toEqual([0x45, 0x00, 0x00, 0x14]);
  });

  test('emits exactly the golden header into a buffer of 0xa5', () => {
    const out = new Uint8Array(ETHERNET_HEADER_LEN + 4).fill(0xa5);
    emitEthernet(REPR, out);
    expect([...out.subarray(0, ETHERNET_HEADER_LEN)]).toEqual([...GOLDEN.subarray(0, ETHERNET_HEADER_LEN)]);
    expect([...out.subarray(ETHERNET_HEADER_LEN)]).toEqual([0xa5, 0xa5, 0xa5, 0xa5]); // payload untouched
  });

  test('every truncation of the header is an error', () => {
    for (let i = 0; i < ETHERNET_HEADER_LEN; i++) expect(parseEthernet(GOLDEN.subarray(0, i))).toEqual({ ok: false, error: 'truncated' });
    const bare = parseEthernet(GOLDEN.subarray(0, ETHERNET_HEADER_LEN));
    expect(bare.ok && bare.value.payload.length).toBe(0);
  });

  test('constants', () => {
    expect(EtherType).toEqual({ IPv4: 0x0800, ARP: 0x0806, IPv6: 0x86dd });
  });

  test('property: parse(emit(x)) == x', () => {
    fc.assert(
      fc.property(mac, mac, fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 64 }), (dst, src, ethertype, payload) => {
        const out = new Uint8Array(ETHERNET_HEADER_LEN + payload.length).fill(0xa5);
        out.set(payload, ETHERNET_HEADER_LEN);
        const repr = { dst, src, ethertype };
        emitEthernet(repr, out);
        expect(parseEthernet(out)).toEqual({ ok: true, value: { ...repr, payload } });
      }),
    );
  });

  test('property: parse never throws', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      parseEthernet(b);
    }));
  });
});

describe('MacAddr', () => {
  test('parses and formats', () => {
    const a = MacAddr.from('02:00:00:00:00:01');
    expect(a.toString()).toBe('02:00:00:00:00:01');
    expect(a.toNumber()).toBe(0x020000000001);
    expect(MacAddr.from('AA-BB-CC-DD-EE-FF').toString()).toBe('aa:bb:cc:dd:ee:ff');
    expect(MacAddr.from('ff:ff:ff:ff:ff:ff').equals(MacAddr.BROADCAST)).toBe(true);
    expect(MacAddr.ZERO.toString()).toBe('00:00:00:00:00:00');
  });

  test.each(['', '02:00:00:00:00', '02:00:00:00:00:01:02', '02:00:00:00:00:0g', '2:0:0:0:0:1', '02:00-00:00:00:01', '0200.0000.0001', '020000000001'])(
    'rejects %j',
    (text) => {
      expect(MacAddr.parse(text).ok).toBe(false);
      expect(() => MacAddr.from(text)).toThrow(TypeError);
    },
  );

  test('broadcast and multicast: the I/G bit is the low bit of the first octet', () => {
    expect(MacAddr.BROADCAST.isBroadcast).toBe(true);
    expect(MacAddr.BROADCAST.isMulticast).toBe(true);
    expect(MacAddr.from('01:00:5e:00:00:01').isMulticast).toBe(true);
    expect(MacAddr.from('33:33:00:00:00:01').isMulticast).toBe(true);
    expect(MacAddr.from('02:00:00:00:00:01').isMulticast).toBe(false);
    expect(MacAddr.from('02:00:00:00:00:01').isBroadcast).toBe(false);
  });

  test('IPv6 multicast mapping, RFC 2464 §7: 33:33 and the last four octets', () => {
    expect(MacAddr.ipv6Multicast(IpAddr.from('ff02::1')).toString()).toBe('33:33:00:00:00:01');
    expect(MacAddr.ipv6Multicast(IpAddr.from('ff02::1:ff00:2')).toString()).toBe('33:33:ff:00:00:02');
    expect(MacAddr.ipv6Multicast(IpAddr.from('ff05::1:3')).toString()).toBe('33:33:00:01:00:03');
  });

  test('read, write and equalsBytes at an offset', () => {
    const buf = new Uint8Array(8).fill(0xa5);
    const a = MacAddr.from('02:00:00:00:00:01');
    a.write(buf, 1);
    expect([...buf]).toEqual([0xa5, 0x02, 0, 0, 0, 0, 0x01, 0xa5]);
    expect(MacAddr.read(buf, 1).equals(a)).toBe(true);
    expect(a.equalsBytes(buf, 1)).toBe(true);
    expect(a.equalsBytes(buf, 0)).toBe(false);
    expect(MacAddr.from('02:00:00:00:00:02').equalsBytes(buf, 1)).toBe(false);
  });

  test('property: text and number round trips', () => {
    fc.assert(fc.property(mac, (a) => {
      expect(MacAddr.from(a.toString()).equals(a)).toBe(true);
      expect(MacAddr.fromNumber(a.toNumber()).equals(a)).toBe(true);
      expect(a.toString()).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    }));
  });
});
