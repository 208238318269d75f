// The IPv4 header (RFC 791 §3.1).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { internetChecksum } from './checksum.js';
import { IpAddr } from './ip-addr.js';
import { Ecn, IPV4_HEADER_LEN, IpProtocol, emitIpv4, newIpv4Header, parseIpv4, parseIpv4Quoted, readIpv4, type Ipv4Packet, type Ipv4Repr } from './ipv4.js';

/** A UDP datagram from 10.0.0.1 to 10.0.0.2 (checked with Wireshark). */
const GOLDEN = Uint8Array.of(
  0x45, // version 4, IHL 5
  0x2a, // DSCP 10 (AF11), ECN ECT(0)
  0x00, 0x20, // total length 32
  0x1c, 0x46, // identification 0x1c46
  0x40, 0x00, // flags DF, fragment offset 0
  0x40, // TTL 64
  0x11, // protocol UDP
  0x0a, 0x5b, // header checksum
  0x0a, 0x00, 0x00, 0x01, // source 10.0.0.1
  0x0a, 0x00, 0x00, 0x02, // destination 10.0.0.2
  // payload (12 bytes): a UDP header and 4 data bytes
  0xc0, 0x00, 0x00, 0x35, 0x00, 0x0c, 0x8e, 0x00, 0xde, 0xad, 0xbe, 0xef,
);
const REPR: Ipv4Repr = {
  src: IpAddr.from('10.0.0.1'),
  dst: IpAddr.from('10.0.0.2'),
  protocol: IpProtocol.UDP,
  ttl: 64,
  dscp: 10,
  ecn: Ecn.Ect0,
  identification: 0x1c46,
  dontFragment: true,
  moreFragments: false,
  fragmentOffset: 0,
  payloadLen: 12,
};

/** Recomputes the header checksum in place after a test edits a header field. */
function fixChecksum(b: Uint8Array): Uint8Array {
  const ihl = (b[0]! & 0x0f) * 4;
  b[10] = 0;
  b[11] = 0;
  const c = internetChecksum(b.subarray(0, ihl));
  b[10] = c >>> 8;
  b[11] = c & 0xff;
  return b;
}

function parsed(b: Uint8Array, verifyChecksum = true): Ipv4Packet {
  const r = parseIpv4(b, verifyChecksum);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

describe('golden IPv4 header', () => {
  test('parses to the expected values, the payload a subarray ending at the total length', () => {
    const { payload, headerLen, ...repr } = parsed(GOLDEN);
    expect(repr).toEqual(REPR);
    expect(headerLen).toBe(20);
    expect(payload.buffer).toBe(GOLDEN.buffer);
    expect(payload.byteOffset).toBe(20);
    expect([...payload]).toEqual([...GOLDEN.subarray(20)]);
  });

  test('emits exactly the golden header into a buffer of 0xa5, leaving the payload alone', () => {
    const out = new Uint8Array(GOLDEN.length).fill(0xa5);
    emitIpv4(REPR, out);
    expect([...out.subarray(0, IPV4_HEADER_LEN)]).toEqual([...GOLDEN.subarray(0, IPV4_HEADER_LEN)]);
    expect(out.subarray(IPV4_HEADER_LEN).every((x) => x === 0xa5)).toBe(true);
  });

  test('every truncation is an error, never a throw', () => {
    for (let i = 0; i < GOLDEN.length; i++) {
      const r = parseIpv4(GOLDEN.subarray(0, i));
      expect(r.ok).toBe(false);
      expect(r.ok ? undefined : r.error).toBe(i < IPV4_HEADER_LEN ? 'truncated' : 'bad-total-length');
    }
  });

  test('link padding after the total length is not payload', () => {
    const padded = new Uint8Array(GOLDEN.length + 14);
    padded.set(GOLDEN);
    const p = parsed(padded);
    expect(p.payloadLen).toBe(12);
    expect([...p.payload]).toEqual([...GOLDEN.subarray(20)]);
  });

  test('constants', () => {
    expect(IpProtocol).toEqual({ ICMP: 1, TCP: 6, UDP: 17, ICMPv6: 58 });
    expect(Ecn).toEqual({ NotEct: 0, Ect1: 1, Ect0: 2, Ce: 3 });
  });
});

describe('malformed IPv4', () => {
  test('version other than 4', () => {
    for (const v of [0, 5, 6, 15]) {
      const b = fixChecksum(GOLDEN.slice());
      b[0] = (v << 4) | 5;
      expect(parseIpv4(b)).toEqual({ ok: false, error: 'bad-version' });
    }
  });

  test('IHL below 5 or past the buffer', () => {
    for (const ihl of [0, 1, 4, 9, 15]) { // 9 * 4 = 36 > 32 bytes
      const b = GOLDEN.slice();
      b[0] = 0x40 | ihl;
      expect(parseIpv4(b)).toEqual({ ok: false, error: 'bad-header-length' });
    }
  });

  test('total length below the header length or past the buffer', () => {
    for (const total of [0, 19, 33, 0xffff]) {
      const b = GOLDEN.slice();
      b[2] = total >>> 8;
      b[3] = total & 0xff;
      expect(parseIpv4(fixChecksum(b))).toEqual({ ok: false, error: 'bad-total-length' });
    }
  });

  test('total length equal to the header: empty payload', () => {
    const b = GOLDEN.slice();
    b[3] = 20;
    const p = parsed(fixChecksum(b));
    expect(p.payloadLen).toBe(0);
    expect(p.payload.length).toBe(0);
  });

  test('any single flipped bit after the version/IHL octet fails the checksum', () => {
    for (let i = 1; i < IPV4_HEADER_LEN; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const b = GOLDEN.slice();
        b[i]! ^= 1 << bit;
        expect(parseIpv4(b)).toEqual({ ok: false, error: 'bad-checksum' });
      }
    }
  });

  test('verifyChecksum = false accepts a bad checksum (offload)', () => {
    const b = GOLDEN.slice();
    b[11]! ^= 0xff;
    expect(parsed(b, false).src.toString()).toBe('10.0.0.1');
  });
});

describe('options, flags and fragments', () => {
  /** The golden packet with a 4-byte options area (three NOPs and End of Option List), IHL 6. */
  function withOptions(): Uint8Array {
    const b = new Uint8Array(GOLDEN.length + 4);
    b.set(GOLDEN.subarray(0, 20));
    b.set([0x01, 0x01, 0x01, 0x00], 20); // NOP, NOP, NOP, EOOL
    b.set(GOLDEN.subarray(20), 24);
    b[0] = 0x46;
    b[3] = 36;
    return fixChecksum(b);
  }

  test('options are skipped: the payload starts at IHL * 4', () => {
    const p = parsed(withOptions());
    expect(p.headerLen).toBe(24);
    expect(p.payloadLen).toBe(12);
    expect([...p.payload]).toEqual([...GOLDEN.subarray(20)]);
  });

  test('the checksum covers the options', () => {
    const b = withOptions();
    b[21] = 0x07;
    expect(parseIpv4(b)).toEqual({ ok: false, error: 'bad-checksum' });
  });

  test('options that run past the total length are an error, not a read past it', () => {
    const b = withOptions();
    b[0] = 0x4f; // IHL 15: 60 bytes, more than the 36 there are
    expect(parseIpv4(b)).toEqual({ ok: false, error: 'bad-header-length' });
  });

  test('MF and fragment offset (in 8-byte units on the wire)', () => {
    const b = GOLDEN.slice();
    b[6] = 0x20; // MF
    b[7] = 185; // 185 * 8 = 1480
    const p = parsed(fixChecksum(b));
    expect(p.moreFragments).toBe(true);
    expect(p.dontFragment).toBe(false);
    expect(p.fragmentOffset).toBe(1480);
    b[6] = 0x1f;
    b[7] = 0xff;
    expect(parsed(fixChecksum(b)).fragmentOffset).toBe(8191 * 8);
  });

  test('the reserved flag is ignored', () => {
    const b = GOLDEN.slice();
    b[6] = 0xc0; // reserved + DF
    const p = parsed(fixChecksum(b));
    expect(p.dontFragment).toBe(true);
    expect(p.moreFragments).toBe(false);
  });
});

describe('parseIpv4Quoted (inside ICMP errors)', () => {
  test('accepts a total length beyond the quoted bytes; payload is what is there', () => {
    const quoted = GOLDEN.subarray(0, 28);
    expect(parseIpv4(quoted)).toEqual({ ok: false, error: 'bad-total-length' });
    const r = parseIpv4Quoted(quoted);
    if (!r.ok) throw new Error(r.error);
    expect(r.value.payloadLen).toBe(12);
    expect([...r.value.payload]).toEqual([...GOLDEN.subarray(20, 28)]);
    expect(r.value.protocol).toBe(IpProtocol.UDP);
  });

  test('does not verify the checksum, but still validates version and IHL', () => {
    const b = GOLDEN.slice(0, 28);
    b[8] = 1; // a router decremented the TTL
    expect(parseIpv4Quoted(b).ok).toBe(true);
    b[0] = 0x48; // IHL 8: 32 bytes, more than were quoted
    expect(parseIpv4Quoted(b)).toEqual({ ok: false, error: 'bad-header-length' });
    for (let i = 0; i < 20; i++) expect(parseIpv4Quoted(GOLDEN.subarray(0, i)).ok).toBe(false);
  });
});

describe('properties', () => {
  const ip = fc.integer({ min: 0, max: 0xffffffff }).map((w) => IpAddr.v4(w));
  const repr: fc.Arbitrary<Ipv4Repr> = fc.record({
    src: ip,
    dst: ip,
    protocol: fc.integer({ min: 0, max: 255 }),
    ttl: fc.integer({ min: 0, max: 255 }),
    dscp: fc.integer({ min: 0, max: 63 }),
    ecn: fc.integer({ min: 0, max: 3 }),
    identification: fc.integer({ min: 0, max: 0xffff }),
    dontFragment: fc.boolean(),
    moreFragments: fc.boolean(),
    fragmentOffset: fc.integer({ min: 0, max: 0x1fff }).map((u) => u * 8),
    payloadLen: fc.integer({ min: 0, max: 1500 }),
  });

  test('parse(emit(x)) == x', () => {
    fc.assert(fc.property(repr, (r) => {
      const out = new Uint8Array(IPV4_HEADER_LEN + r.payloadLen).fill(0xa5);
      emitIpv4(r, out);
      const { payload, headerLen, ...back } = parsed(out);
      expect(back).toEqual(r);
      expect(headerLen).toBe(IPV4_HEADER_LEN);
      expect(payload.length).toBe(r.payloadLen);
      expect(payload.byteOffset).toBe(IPV4_HEADER_LEN);
    }));
  });

  test('parse never throws on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), fc.boolean(), (b, verify) => {
      parseIpv4(b, verify);
      parseIpv4Quoted(b);
    }));
  });

  test('parse never throws on random headers that pass the version check', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 100 }), fc.integer({ min: 0, max: 15 }), (b, ihl) => {
      b[0] = 0x40 | ihl;
      if (b.length >= 20) fixChecksum(b.length >= ihl * 4 ? b : b.subarray(0, 20));
      const r = parseIpv4(b);
      if (r.ok) expect(r.value.headerLen + r.value.payload.length).toBeLessThanOrEqual(b.length);
      parseIpv4Quoted(b);
    }));
  });

  test('readIpv4 at an offset agrees with parseIpv4, values and errors alike', () => {
    const h = newIpv4Header();
    const bytesArb = fc.oneof(
      fc.tuple(repr, fc.integer({ min: 0, max: 6 })).map(([r, pad]) => {
        const b = new Uint8Array(IPV4_HEADER_LEN + r.payloadLen + pad);
        emitIpv4(r, b);
        return b;
      }),
      fc.uint8Array({ maxLength: 60 }).map((b) => {
        if (b.length > 0) b[0] = 0x40 | (b[0]! & 0x0f);
        return b;
      }),
    );
    fc.assert(fc.property(bytesArb, fc.integer({ min: 0, max: 20 }), fc.boolean(), (b, at, verify) => {
      const frame = new Uint8Array(at + b.length).fill(0x5a);
      frame.set(b, at);
      const want = parseIpv4(b, verify);
      const e = readIpv4(frame, at, b.length, verify, h);
      if (!want.ok) {
        expect(e).toBe(want.error);
        return;
      }
      expect(e).toBeUndefined();
      const p = want.value;
      expect(h).toEqual({
        headerLen: p.headerLen, totalLen: p.headerLen + p.payloadLen, protocol: p.protocol, ttl: p.ttl, dscp: p.dscp, ecn: p.ecn,
        identification: p.identification, dontFragment: p.dontFragment, moreFragments: p.moreFragments, fragmentOffset: p.fragmentOffset,
      });
    }), { numRuns: 2000 });
  });

  test('emitIpv4 at an offset writes the same 20 bytes there and nothing else', () => {
    fc.assert(fc.property(repr, fc.integer({ min: 0, max: 20 }), (r, at) => {
      const want = new Uint8Array(IPV4_HEADER_LEN);
      emitIpv4(r, want);
      const buf = new Uint8Array(at + IPV4_HEADER_LEN + 4).fill(0xa5);
      emitIpv4(r, buf, at);
      expect([...buf.subarray(at, at + IPV4_HEADER_LEN)]).toEqual([...want]);
      expect([...buf.subarray(0, at), ...buf.subarray(at + IPV4_HEADER_LEN)]).toEqual(new Array(at + 4).fill(0xa5));
    }));
  });
});
