import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { ADOPT_MIN_BYTES, RecvBuffer } from './recv-buffer.js';
import { KEEP_RING_BYTES, MIN_RING_BYTES } from './send-buffer.js';

const bytes = (n: number, from = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);

describe('RecvBuffer', () => {
  test('is lazy: nothing allocated until data arrives', () => {
    const r = new RecvBuffer(128 * 1024);
    expect(r.allocated).toBe(0);
    expect(r.free).toBe(128 * 1024);
    expect(r.read(new Uint8Array(10))).toBe(0);
    expect(r.readAll().length).toBe(0);
    expect(r.allocated).toBe(0);
    r.push(bytes(1));
    expect(r.allocated).toBe(MIN_RING_BYTES);
  });

  test('push takes up to free and read hands bytes back in order', () => {
    const r = new RecvBuffer(10);
    expect(r.push(bytes(6))).toBe(6);
    expect(r.push(bytes(6, 6))).toBe(4);
    expect(r.free).toBe(0);
    const out = new Uint8Array(4);
    expect(r.read(out)).toBe(4);
    expect([...out]).toEqual([0, 1, 2, 3]);
    expect(r.free).toBe(4);
    const rest = new Uint8Array(100);
    expect(r.read(rest)).toBe(6);
    expect([...rest.subarray(0, 6)]).toEqual([4, 5, 6, 7, 8, 9]);
    expect(r.length).toBe(0);
  });

  test('peek copies without consuming, from an offset', () => {
    const r = new RecvBuffer(100);
    r.push(bytes(10));
    const out = new Uint8Array(4);
    expect(r.peek(out)).toBe(4);
    expect([...out]).toEqual([0, 1, 2, 3]);
    expect(r.peek(out, 8)).toBe(2);
    expect([...out.subarray(0, 2)]).toEqual([8, 9]);
    expect(r.peek(out, 10)).toBe(0);
    expect(() => r.peek(out, 11)).toThrow(/offset 11/);
    expect(r.length).toBe(10);
  });

  test('readAll returns one new array of up to max bytes', () => {
    const r = new RecvBuffer(100);
    r.push(bytes(10));
    expect([...r.readAll(3)]).toEqual([0, 1, 2]);
    expect([...r.readAll()]).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(r.readAll().length).toBe(0);
  });

  test('skip discards unread bytes', () => {
    const r = new RecvBuffer(100);
    r.push(bytes(10));
    expect(r.skip(4)).toBe(4);
    expect(r.skip(100)).toBe(6);
    r.push(bytes(2, 50));
    expect([...r.readAll()]).toEqual([50, 51]);
  });

  test('wraps and grows with data in order; a big ring is kept while busy and released when a drain finds it mostly idle', () => {
    const r = new RecvBuffer(1 << 20);
    r.push(bytes(1000));
    r.skip(990);
    r.push(bytes(30, 1000)); // wraps inside the first ring (the first push rounded up: 1 KiB)
    expect(r.allocated).toBe(1024);
    r.push(bytes(KEEP_RING_BYTES, 1030)); // grows past the keep limit by doubling
    expect(r.allocated).toBe(2 * KEEP_RING_BYTES);
    const all = r.readAll();
    expect([...all]).toEqual([...bytes(40 + KEEP_RING_BYTES, 990)]);
    expect(r.allocated).toBe(2 * KEEP_RING_BYTES); // it held more than KEEP_RING_BYTES: kept
    r.push(bytes(10));
    r.readAll();
    expect(r.allocated).toBe(0); // 10 bytes since the last drain: released
  });

  test('adopt keeps a payload of ADOPT_MIN_BYTES or more by reference and copies a shorter one into the ring', () => {
    const r = new RecvBuffer(1 << 20);
    const big = bytes(ADOPT_MIN_BYTES, 7);
    expect(r.adopt(big)).toBe(ADOPT_MIN_BYTES);
    expect(r.allocated).toBe(0); // nothing copied
    expect(r.length).toBe(ADOPT_MIN_BYTES);
    expect(r.adopt(bytes(10, 1))).toBe(10); // short: copied
    expect(r.allocated).toBe(64);
    expect(r.push(bytes(3, 200))).toBe(3);
    expect(r.free).toBe((1 << 20) - ADOPT_MIN_BYTES - 13);
    const out = new Uint8Array(ADOPT_MIN_BYTES + 13);
    expect(r.read(out)).toBe(ADOPT_MIN_BYTES + 13);
    expect([...out]).toEqual([...bytes(ADOPT_MIN_BYTES, 7), ...bytes(10, 1), ...bytes(3, 200)]);
    expect(r.length).toBe(0);
  });

  test('adopt takes only what fits, like push', () => {
    const r = new RecvBuffer(1000);
    r.push(bytes(300));
    expect(r.adopt(bytes(900, 50))).toBe(700);
    expect(r.free).toBe(0);
    expect([...r.readAll()]).toEqual([...bytes(300), ...bytes(700, 50)]);
  });

  test('model: random push/adopt/read/peek/skip/readAll sequences match a plain array', () => {
    type Op =
      | { op: 'push'; n: number; seed: number }
      | { op: 'adopt'; n: number; seed: number }
      | { op: 'skip'; n: number }
      | { op: 'read'; n: number }
      | { op: 'peek'; at: number; n: number }
      | { op: 'readAll'; max: number }
      | { op: 'trim' };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ op: fc.constant('push' as const), n: fc.integer({ min: 0, max: 5000 }), seed: fc.nat(255) }) },
      { weight: 4, arbitrary: fc.record({ op: fc.constant('adopt' as const), n: fc.integer({ min: 0, max: 5000 }), seed: fc.nat(255) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('skip' as const), n: fc.integer({ min: 0, max: 5000 }) }) },
      { weight: 3, arbitrary: fc.record({ op: fc.constant('read' as const), n: fc.integer({ min: 0, max: 5000 }) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('peek' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), n: fc.integer({ min: 0, max: 3000 }) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('readAll' as const), max: fc.integer({ min: 0, max: 40_000 }) }) },
      { weight: 1, arbitrary: fc.constant({ op: 'trim' as const }) },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40_000 }), fc.array(opArb, { maxLength: 60 }), (cap, ops) => {
        const r = new RecvBuffer(cap);
        const model: number[] = [];
        for (const o of ops) {
          switch (o.op) {
            case 'push':
            case 'adopt': {
              // A view into a larger buffer, as a frame's payload is.
              const frame = bytes(o.n + 40, o.seed);
              const data = frame.subarray(20, 20 + o.n);
              const took = o.op === 'push' ? r.push(data) : r.adopt(data);
              expect(took).toBe(Math.min(o.n, cap - model.length));
              for (let i = 0; i < took; i++) model.push(data[i]!);
              break;
            }
            case 'skip':
              expect(r.skip(o.n)).toBe(model.splice(0, o.n).length);
              break;
            case 'read': {
              const out = new Uint8Array(o.n);
              const got = r.read(out);
              const want = model.splice(0, o.n);
              expect(got).toBe(want.length);
              expect([...out.subarray(0, got)]).toEqual(want);
              break;
            }
            case 'peek': {
              const at = Math.floor(o.at * model.length);
              const out = new Uint8Array(o.n);
              const got = r.peek(out, at);
              expect([...out.subarray(0, got)]).toEqual(model.slice(at, at + o.n));
              break;
            }
            case 'readAll':
              expect([...r.readAll(o.max)]).toEqual(model.splice(0, o.max));
              break;
            case 'trim':
              r.trim();
              break;
          }
          expect(r.length).toBe(model.length);
          expect(r.free).toBe(cap - model.length);
        }
        expect([...r.readAll()]).toEqual(model);
      }),
      { numRuns: 400 },
    );
  });
});
