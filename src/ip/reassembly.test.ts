// Fragment reassembly: order, overlaps (RFC 5722), duplicates, timeouts, memory limit, ECN.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { IpAddr } from '../wire/ip-addr.js';
import { type Instant, seconds } from '../time/instant.js';
import { type Fragment, QUEUE_OVERHEAD, Reassembler, type ReassemblyOutcome, type TimedOut } from './reassembly.js';

const T = (s: number) => seconds(s) as number as Instant;
const SRC = IpAddr.from('10.0.0.1');
const DST = IpAddr.from('10.0.0.2');
const data = (n: number, seed = 1) => new Uint8Array(n).map((_, i) => (i * 31 + seed) & 255);

function frag(family: 4 | 6, id: number, offset: number, bytes: Uint8Array, more: boolean, extra: Partial<Fragment> = {}): Fragment {
  return {
    family, src: family === 4 ? SRC : IpAddr.from('2001:db8::1'), dst: family === 4 ? DST : IpAddr.from('2001:db8::2'),
    id, protocol: 17, offset, more, data: bytes, ecn: 0, packet: bytes, maxEnd: 65515, ...extra,
  };
}

/** Cuts `whole` into pieces of `size` bytes (a multiple of 8) as fragments. */
function cut(family: 4 | 6, id: number, whole: Uint8Array, size: number): Fragment[] {
  const out: Fragment[] = [];
  for (let off = 0; off < whole.length; off += size) {
    const end = Math.min(whole.length, off + size);
    out.push(frag(family, id, off, whole.subarray(off, end), end < whole.length));
  }
  return out;
}

const complete = (o: ReassemblyOutcome): Uint8Array => {
  if (o.kind !== 'complete') throw new Error(`expected complete, got ${JSON.stringify(o)}`);
  return o.payload;
};

describe.each([4, 6] as const)('IPv%s', (family) => {
  test('in order', () => {
    const r = new Reassembler();
    const whole = data(3000);
    const fs = cut(family, 7, whole, 1200);
    expect(r.add(fs[0]!, T(0)).kind).toBe('pending');
    expect(r.add(fs[1]!, T(0)).kind).toBe('pending');
    expect(complete(r.add(fs[2]!, T(0)))).toEqual(whole);
    expect(r.queues).toBe(0);
    expect(r.memory).toBe(0);
  });

  test('any order (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 9000 }), fc.integer({ min: 1, max: 40 }), fc.integer(), (len, units, seed) => {
      const whole = data(len, seed);
      const fs = cut(family, 1, whole, units * 8);
      const order = fs.map((f, i) => ({ f, k: Math.imul(i + 1, seed | 1) >>> 0 })).sort((a, b) => a.k - b.k).map((x) => x.f);
      const r = new Reassembler();
      let result: Uint8Array | undefined;
      order.forEach((f, i) => {
        const o = r.add(f, T(0));
        if (i < order.length - 1) expect(o.kind).toBe('pending');
        else result = complete(o);
      });
      expect(result).toEqual(whole);
      expect(r.memory).toBe(0);
    }));
  });

  test('interleaved datagrams with different IDs are kept apart', () => {
    const r = new Reassembler();
    const a = cut(family, 1, data(2000, 1), 1000);
    const b = cut(family, 2, data(2000, 2), 1000);
    expect(r.add(a[0]!, T(0)).kind).toBe('pending');
    expect(r.add(b[1]!, T(0)).kind).toBe('pending');
    expect(complete(r.add(a[1]!, T(0)))).toEqual(data(2000, 1));
    expect(complete(r.add(b[0]!, T(0)))).toEqual(data(2000, 2));
  });

  test('an exact duplicate is dropped alone; the datagram still completes (RFC 5722 Errata 3089, Linux)', () => {
    const r = new Reassembler();
    const fs = cut(family, 1, data(2400), 800);
    r.add(fs[0]!, T(0));
    r.add(fs[1]!, T(0));
    expect(r.add(fs[1]!, T(0))).toEqual({ kind: 'drop', reason: 'duplicate', datagramFailed: false });
    // Also a fragment inside the contiguous run [0, 1600).
    expect(r.add(frag(family, 1, 400, data(800).subarray(400, 1200), true), T(0)).kind).toBe('drop');
    expect(complete(r.add(fs[2]!, T(0)))).toEqual(data(2400));
  });

  test('a partial overlap discards the whole datagram, and later fragments of it too (RFC 5722 §4)', () => {
    const r = new Reassembler();
    const fs = cut(family, 1, data(2400), 800);
    r.add(fs[0]!, T(0));
    expect(r.add(frag(family, 1, 400, data(800), true), T(0))).toEqual({ kind: 'drop', reason: 'overlap', datagramFailed: true });
    expect(r.add(fs[1]!, T(0))).toEqual({ kind: 'drop', reason: 'discarded-datagram', datagramFailed: false });
    expect(r.add(fs[2]!, T(0))).toEqual({ kind: 'drop', reason: 'discarded-datagram', datagramFailed: false });
    expect(r.memory).toBe(QUEUE_OVERHEAD); // data freed at once; the marker waits for the timeout
    const timedOut: TimedOut[] = [];
    r.poll(T(100), (t) => timedOut.push(t));
    expect(timedOut).toEqual([expect.objectContaining({ discarded: true })]);
    expect(r.memory).toBe(0);
  });

  test('overlaps spanning a gap, and tiny overlaps of one byte, are rejected', () => {
    const r = new Reassembler();
    r.add(frag(family, 1, 0, data(16), true), T(0));
    r.add(frag(family, 1, 32, data(16), true), T(0));
    expect(r.add(frag(family, 1, 8, data(32), true), T(0))).toMatchObject({ reason: 'overlap' });
    const r2 = new Reassembler();
    r2.add(frag(family, 1, 0, data(16), true), T(0));
    expect(r2.add(frag(family, 1, 8, data(9), false), T(0))).toMatchObject({ reason: 'overlap' });
  });

  test('times out 30 s (v4) / 60 s (v6) after the first fragment; the first fragment is reported for ICMP', () => {
    const r = new Reassembler();
    const fs = cut(family, 1, data(2000), 1000);
    r.add(fs[0]!, T(1));
    const timeout = family === 4 ? 30 : 60;
    expect(r.pollAt()).toBe(T(1 + timeout));
    const timedOut: TimedOut[] = [];
    r.poll(T(timeout), (t) => timedOut.push(t));
    expect(timedOut).toHaveLength(0);
    r.poll(T(1 + timeout), (t) => timedOut.push(t));
    expect(timedOut).toHaveLength(1);
    expect(timedOut[0]!.first).toBe(fs[0]!.packet);
    expect(r.queues).toBe(0);
    expect(r.pollAt()).toBeUndefined();
    // The second fragment now starts a new datagram.
    expect(r.add(fs[1]!, T(100)).kind).toBe('pending');
  });

  test('without the first fragment there is nothing to quote', () => {
    const r = new Reassembler();
    r.add(cut(family, 1, data(2000), 1000)[1]!, T(0));
    const timedOut: TimedOut[] = [];
    r.poll(T(1000), (t) => timedOut.push(t));
    expect(timedOut[0]!.first).toBeUndefined();
  });

  test('the memory limit: a fragment that does not fit discards its datagram; new datagrams are refused', () => {
    const r = new Reassembler(3000);
    const a = cut(family, 1, data(4000), 1000);
    expect(r.add(a[0]!, T(0)).kind).toBe('pending');
    expect(r.add(a[1]!, T(0)).kind).toBe('pending');
    expect(r.add(a[2]!, T(0))).toEqual({ kind: 'drop', reason: 'memory', datagramFailed: true });
    expect(r.memory).toBe(QUEUE_OVERHEAD);
    const b = cut(family, 2, data(4000), 1000);
    expect(r.add(b[0]!, T(0)).kind).toBe('pending');
    expect(r.add(b[1]!, T(0)).kind).toBe('pending');
    const c = cut(family, 3, data(2000), 1000);
    expect(r.add(c[0]!, T(0))).toEqual({ kind: 'drop', reason: 'memory', datagramFailed: true });
    expect(r.memory).toBeLessThanOrEqual(3000);
  });

  test('lengths: past 65535, inconsistent last fragments, data after the end, empty non-last fragments', () => {
    const r = new Reassembler();
    expect(r.add(frag(family, 1, 65512, data(16), false), T(0))).toMatchObject({ reason: 'too-big' });
    expect(r.add(frag(family, 2, 0, data(0), true), T(0))).toMatchObject({ reason: 'bad-length' });
    r.add(frag(family, 3, 16, data(16), false), T(0));
    expect(r.add(frag(family, 3, 8, data(16), false), T(0))).toMatchObject({ reason: 'bad-length', datagramFailed: true });
    r.add(frag(family, 4, 0, data(16), false, { offset: 16 }), T(0));
    expect(r.add(frag(family, 4, 32, data(8), true), T(0))).toMatchObject({ reason: 'bad-length' });
  });

  test('ECN (RFC 3168 §5.3): CE on any fragment marks the datagram; Not-ECT mixed with ECT drops it', () => {
    const r = new Reassembler();
    const a = cut(family, 1, data(2000), 1000);
    r.add({ ...a[0]!, ecn: 2 }, T(0));
    expect(r.add({ ...a[1]!, ecn: 3 }, T(0))).toMatchObject({ kind: 'complete', ecn: 3 });
    const b = cut(family, 2, data(2000), 1000);
    r.add({ ...b[0]!, ecn: 0 }, T(0));
    expect(r.add({ ...b[1]!, ecn: 2 }, T(0))).toMatchObject({ kind: 'drop', reason: 'ecn' });
  });
});

test('IPv4 keys include the protocol; IPv6 keys do not (RFC 791, RFC 8200 §4.5)', () => {
  const r = new Reassembler();
  r.add(frag(4, 1, 0, data(8), true, { protocol: 17 }), T(0));
  expect(r.add(frag(4, 1, 8, data(8), false, { protocol: 6 }), T(0)).kind).toBe('pending');
  r.add(frag(6, 1, 0, data(8), true, { protocol: 17 }), T(0));
  expect(r.add(frag(6, 1, 8, data(8), false, { protocol: 6 }), T(0))).toMatchObject({ kind: 'complete', protocol: 17 });
});
