import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { KEEP_RING_BYTES, MIN_RING_BYTES, SendBuffer } from './send-buffer.js';

const bytes = (n: number, from = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
const all = (b: SendBuffer): number[] => {
  const out = new Uint8Array(b.length);
  b.copyOut(0, b.length, out, 0);
  return [...out];
};

describe('SendBuffer', () => {
  test('allocates nothing until the first byte is written', () => {
    const b = new SendBuffer(64 * 1024);
    expect(b.allocated).toBe(0);
    expect(b.length).toBe(0);
    expect(b.free).toBe(64 * 1024);
    expect(b.write(new Uint8Array(0))).toBe(0);
    expect(b.allocated).toBe(0);
    b.write(bytes(10));
    expect(b.allocated).toBe(MIN_RING_BYTES);
  });

  test('the first ring is the first write rounded up to MIN_RING_BYTES; later growth doubles', () => {
    const one = new SendBuffer(64 * 1024);
    one.write(bytes(1));
    expect(one.allocated).toBe(64); // a 1-byte exchange: 64 bytes, not 1 KiB
    const b = new SendBuffer(64 * 1024);
    b.write(bytes(1448));
    expect(b.allocated).toBe(1472);
    b.write(bytes(100, 1448));
    expect(b.allocated).toBe(2944);
    expect(all(b)).toEqual([...bytes(1548)]);
    const capped = new SendBuffer(1000);
    capped.write(bytes(990));
    expect(capped.allocated).toBe(1000); // rounding never goes beyond the capacity
  });

  test('a write takes what fits and reports it (partial write)', () => {
    const b = new SendBuffer(100);
    expect(b.write(bytes(60))).toBe(60);
    expect(b.write(bytes(60, 60))).toBe(40);
    expect(b.free).toBe(0);
    expect(b.write(bytes(1))).toBe(0);
    expect(all(b)).toEqual([...bytes(100)]);
    expect(b.allocated).toBe(100); // never beyond capacity
  });

  test('copyOut reads at stream offsets without consuming; consume drops from the front', () => {
    const b = new SendBuffer(4096);
    b.write(bytes(1000));
    const frame = new Uint8Array(20).fill(0xa5);
    b.copyOut(500, 10, frame, 5);
    expect([...frame.subarray(5, 15)]).toEqual([...bytes(10, 500)]);
    expect(frame[4]).toBe(0xa5);
    expect(frame[15]).toBe(0xa5);
    expect(b.length).toBe(1000);
    b.consume(300);
    expect(b.length).toBe(700);
    expect(b.free).toBe(4096 - 700);
    const out = new Uint8Array(5);
    b.copyOut(0, 5, out, 0);
    expect([...out]).toEqual([...bytes(5, 300)]);
  });

  test('wraps around the end of the ring', () => {
    const b = new SendBuffer(1024);
    b.write(bytes(800));
    b.consume(700);
    expect(b.write(bytes(900, 800))).toBe(900); // 100 + 900 = 1000 bytes, wrapping
    expect(b.allocated).toBe(1024);
    expect(all(b)).toEqual([...bytes(1000, 700)]);
    const out = new Uint8Array(400);
    b.copyOut(200, 400, out, 0); // spans the wrap point
    expect([...out]).toEqual([...bytes(400, 900)]);
  });

  test('grows by doubling, keeping wrapped contents in order', () => {
    const b = new SendBuffer(1 << 20);
    b.write(bytes(1000));
    b.consume(900);
    b.write(bytes(500, 1000)); // wraps in the 1 KiB ring
    b.write(bytes(3000, 1500)); // 3600 held: grows to 4 KiB
    expect(b.allocated).toBe(4096);
    expect(all(b)).toEqual([...bytes(3600, 900)]);
  });

  test('keeps a large ring that held more than 16 KiB when it drains, releases it once a drain finds it lightly used, keeps a small one, and trim() releases any', () => {
    const big = new SendBuffer(1 << 20);
    big.write(bytes(KEEP_RING_BYTES + 1));
    const bigRing = KEEP_RING_BYTES + MIN_RING_BYTES; // the first write, rounded up
    expect(big.allocated).toBe(bigRing);
    big.consume(KEEP_RING_BYTES);
    expect(big.allocated).toBe(bigRing);
    big.consume(1);
    expect(big.allocated).toBe(bigRing); // it held KEEP_RING_BYTES + 1: a bulk sender keeps its ring
    big.write(bytes(3));
    expect(all(big)).toEqual([0, 1, 2]);
    big.consume(3);
    expect(big.allocated).toBe(0); // at most 3 bytes since the last drain: released
    big.write(bytes(3));
    expect(all(big)).toEqual([0, 1, 2]);

    const small = new SendBuffer(1 << 20);
    small.write(bytes(2000));
    small.consume(2000);
    expect(small.allocated).toBe(2048);
    small.trim();
    expect(small.allocated).toBe(0);
    small.write(bytes(2));
    small.trim(); // not empty: kept
    expect(all(small)).toEqual([0, 1]);
  });

  test('capacity can be changed; below length it just stops accepting', () => {
    const b = new SendBuffer(100);
    b.write(bytes(80));
    b.capacity = 50;
    expect(b.free).toBe(0);
    expect(b.write(bytes(1))).toBe(0);
    b.consume(40);
    expect(b.free).toBe(10);
    b.capacity = 10_000;
    expect(b.write(bytes(5000))).toBe(5000);
    expect(b.length).toBe(5040);
    expect(() => (b.capacity = -1)).toThrow(/capacity -1/);
    expect(() => new SendBuffer(1.5)).toThrow(RangeError);
  });

  test('rejects copies and consumes beyond what is held', () => {
    const b = new SendBuffer(100);
    b.write(bytes(10));
    expect(() => b.copyOut(5, 6, new Uint8Array(10), 0)).toThrow(/only 10 bytes held/);
    expect(() => b.copyOut(0, 5, new Uint8Array(4), 0)).toThrow(RangeError);
    expect(() => b.copyOut(-1, 1, new Uint8Array(4), 0)).toThrow(RangeError);
    expect(() => b.consume(11)).toThrow(/cannot drop 11 bytes/);
    b.copyOut(10, 0, new Uint8Array(0), 0); // empty copy at the end is fine
  });

  test('an empty buffer with zero capacity never allocates', () => {
    const b = new SendBuffer(0);
    expect(b.write(bytes(10))).toBe(0);
    expect(b.allocated).toBe(0);
    b.consume(0);
  });

  test('model: random write/copyOut/consume/capacity sequences match a plain array', () => {
    type Op =
      | { op: 'write'; n: number; seed: number }
      | { op: 'copy'; at: number; len: number }
      | { op: 'consume'; n: number }
      | { op: 'capacity'; cap: number }
      | { op: 'trim' };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ op: fc.constant('write' as const), n: fc.integer({ min: 0, max: 6000 }), seed: fc.nat(255) }) },
      { weight: 3, arbitrary: fc.record({ op: fc.constant('copy' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), len: fc.double({ min: 0, max: 1, noNaN: true }) }).map((o) => ({ op: 'copy' as const, at: o.at, len: o.len })) },
      { weight: 3, arbitrary: fc.record({ op: fc.constant('consume' as const), n: fc.double({ min: 0, max: 1, noNaN: true }) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('capacity' as const), cap: fc.integer({ min: 0, max: 70_000 }) }) },
      { weight: 1, arbitrary: fc.constant({ op: 'trim' as const }) },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 70_000 }), fc.array(opArb, { maxLength: 60 }), (cap0, ops) => {
        const b = new SendBuffer(cap0);
        let cap = cap0;
        const model: number[] = [];
        for (const o of ops) {
          switch (o.op) {
            case 'write': {
              const data = bytes(o.n, o.seed);
              const took = b.write(data);
              const want = Math.min(o.n, Math.max(0, cap - model.length));
              expect(took).toBe(want);
              for (let i = 0; i < took; i++) model.push(data[i]!);
              break;
            }
            case 'copy': {
              const at = Math.floor(o.at * model.length);
              const len = Math.floor(o.len * (model.length - at));
              const out = new Uint8Array(len + 2).fill(0xa5);
              b.copyOut(at, len, out, 1);
              expect([...out.subarray(1, 1 + len)]).toEqual(model.slice(at, at + len));
              expect(out[0]).toBe(0xa5);
              expect(out[len + 1]).toBe(0xa5);
              break;
            }
            case 'consume': {
              const n = Math.floor(o.n * model.length);
              b.consume(n);
              model.splice(0, n);
              break;
            }
            case 'capacity':
              b.capacity = o.cap;
              cap = o.cap;
              break;
            case 'trim':
              b.trim();
              break;
          }
          expect(b.length).toBe(model.length);
          expect(b.free).toBe(Math.max(0, cap - model.length));
          expect(b.allocated).toBeGreaterThanOrEqual(model.length);
        }
        expect(all(b)).toEqual(model);
      }),
      { numRuns: 200 },
    );
  });
});
