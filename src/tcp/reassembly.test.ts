import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { Reassembly } from './reassembly.js';
import { type Seq, seq, seqAdd, seqDiff } from './seq.js';

const bytes = (n: number, from = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
const BIG = 1 << 20;

/** A test harness around one Reassembly: offsets are relative to `base`, the stream's first byte. */
function harness(base: Seq = seq(1000)) {
  const r = new Reassembly();
  let nxt = base;
  const got: number[] = [];
  const at = (off: number): Seq => seqAdd(base, off);
  return {
    r,
    get nxt(): number { return seqDiff(nxt, base); },
    get got(): number[] { return got; },
    /** The peer's bytes [off, off+len) arrive; window `win` bytes from RCV.NXT. */
    put(off: number, len: number, win = BIG) {
      return r.insert(at(off), bytes(len, off), nxt, seqAdd(nxt, win));
    },
    /** Deliver what is contiguous, the sink taking at most `limit` bytes in total. */
    take(limit = Infinity): number {
      let room = limit;
      nxt = r.takeContiguous(nxt, (c) => {
        const n = Math.min(room, c.length);
        for (let i = 0; i < n; i++) got.push(c[i]!);
        room -= n;
        return n;
      });
      return seqDiff(nxt, base);
    },
    /** In-order data delivered by another path: RCV.NXT jumps. */
    advance(off: number) {
      for (let i = seqDiff(nxt, base); i < off; i++) got.push(i & 0xff);
      nxt = at(off);
    },
    blocks(): [number, number][] {
      return r.blocks().map((b) => [seqDiff(b.left, base), seqDiff(b.right, base)]);
    },
    sack(max: number, mostRecent?: number): [number, number][] {
      return r
        .sackBlocks(max, mostRecent === undefined ? undefined : at(mostRecent))
        .map((b) => [seqDiff(b.left, base), seqDiff(b.right, base)]);
    },
  };
}

describe('Reassembly', () => {
  test('starts empty', () => {
    const r = new Reassembly();
    expect(r.isEmpty).toBe(true);
    expect(r.bytes).toBe(0);
    expect(r.blocks()).toEqual([]);
    expect(r.sackBlocks(4)).toEqual([]);
    expect(r.takeContiguous(seq(5), () => { throw new Error('no data'); })).toBe(5);
  });

  test('in-order data is delivered at once', () => {
    const h = harness();
    expect(h.put(0, 100)).toEqual({ stored: 100, duplicate: false });
    expect(h.take()).toBe(100);
    expect(h.got).toEqual([...bytes(100)]);
    expect(h.r.isEmpty).toBe(true);
  });

  test('out-of-order data waits for the hole, then comes out in order', () => {
    const h = harness();
    expect(h.put(100, 50)).toEqual({ stored: 50, duplicate: false });
    expect(h.take()).toBe(0);
    expect(h.r.bytes).toBe(50);
    expect(h.blocks()).toEqual([[100, 150]]);
    expect(h.put(0, 100)).toEqual({ stored: 100, duplicate: false });
    expect(h.blocks()).toEqual([[0, 150]]); // coalesced with the held range
    expect(h.take()).toBe(150);
    expect(h.got).toEqual([...bytes(150)]);
    expect(h.r.bytes).toBe(0);
  });

  test('adjacent ranges coalesce without being duplicates', () => {
    const h = harness();
    h.put(10, 10);
    expect(h.put(20, 10)).toEqual({ stored: 10, duplicate: false });
    expect(h.put(5, 5)).toEqual({ stored: 5, duplicate: false });
    expect(h.blocks()).toEqual([[5, 30]]);
  });

  test('overlaps store only the new bytes and report the duplicate', () => {
    const h = harness();
    h.put(10, 10);
    expect(h.put(15, 15)).toEqual({ stored: 10, duplicate: true });
    expect(h.put(10, 20)).toEqual({ stored: 0, duplicate: true });
    expect(h.put(12, 3)).toEqual({ stored: 0, duplicate: true });
    expect(h.r.bytes).toBe(20);
    expect(h.blocks()).toEqual([[10, 30]]);
  });

  test('one segment can fill several holes and bridge ranges', () => {
    const h = harness();
    h.put(10, 10);
    h.put(30, 10);
    h.put(50, 5);
    expect(h.blocks()).toEqual([[10, 20], [30, 40], [50, 55]]);
    expect(h.put(5, 40)).toEqual({ stored: 5 + 10 + 5, duplicate: true });
    expect(h.blocks()).toEqual([[5, 45], [50, 55]]);
    expect(h.r.bytes).toBe(45);
    h.put(0, 5);
    h.take();
    expect(h.nxt).toBe(45);
    expect(h.got).toEqual([...bytes(45)]);
  });

  test('bytes below RCV.NXT are duplicates and are not stored', () => {
    const h = harness();
    h.advance(100);
    expect(h.put(50, 30)).toEqual({ stored: 0, duplicate: true });
    expect(h.put(90, 20)).toEqual({ stored: 10, duplicate: true });
    expect(h.blocks()).toEqual([[100, 110]]);
    expect(h.put(0, 0)).toEqual({ stored: 0, duplicate: false });
  });

  test('bytes beyond the window are trimmed, not held', () => {
    const h = harness();
    expect(h.put(90, 30, 100)).toEqual({ stored: 10, duplicate: false });
    expect(h.put(100, 10, 100)).toEqual({ stored: 0, duplicate: false });
    expect(h.put(0, 10, 0)).toEqual({ stored: 0, duplicate: false }); // zero window
    expect(h.blocks()).toEqual([[90, 100]]);
  });

  test('data delivered by another path is pruned from the front', () => {
    const h = harness();
    h.put(50, 50);
    h.put(120, 10);
    h.advance(75); // the caller took 0..75 directly (e.g. a big in-order segment)
    expect(h.r.bytes).toBe(60); // not pruned until the next call
    expect(h.take()).toBe(100);
    expect(h.got).toEqual([...bytes(100)]);
    expect(h.r.bytes).toBe(10);
    h.advance(125);
    expect(h.put(200, 1)).toEqual({ stored: 1, duplicate: false });
    expect(h.blocks()).toEqual([[125, 130], [200, 201]]);
    h.advance(300);
    expect(h.take()).toBe(300);
    expect(h.r.isEmpty).toBe(true);
    expect(h.r.bytes).toBe(0);
  });

  test('a full sink stops delivery part-way; the rest stays held', () => {
    const h = harness();
    h.put(0, 30);
    h.put(30, 30);
    h.put(100, 5);
    expect(h.take(45)).toBe(45);
    expect(h.r.bytes).toBe(60 - 45 + 5);
    expect(h.blocks()).toEqual([[45, 60], [100, 105]]);
    expect(h.take(0)).toBe(45);
    expect(h.take()).toBe(60);
    expect(h.got).toEqual([...bytes(60)]);
  });

  test('works across the 2^32 wrap', () => {
    const h = harness(seq(2 ** 32 - 100));
    h.put(150, 50); // 2^32 + 50 .. + 100: already wrapped
    h.put(80, 40); // straddles zero
    expect(h.blocks()).toEqual([[80, 120], [150, 200]]);
    const raw = h.r.blocks();
    expect(raw[0]!.left).toBe(seq(2 ** 32 - 20));
    expect(raw[0]!.right).toBe(20);
    h.put(0, 80);
    h.put(120, 30);
    expect(h.take()).toBe(200);
    expect(h.got).toEqual([...bytes(200)]);
  });

  test('SACK blocks: the most recently touched first, then by recency (RFC 2018 §4)', () => {
    const h = harness();
    h.put(100, 10); // A
    h.put(200, 10); // B
    h.put(300, 10); // C
    expect(h.sack(4)).toEqual([[300, 310], [200, 210], [100, 110]]);
    h.put(110, 10); // extends A
    expect(h.sack(4)).toEqual([[100, 120], [300, 310], [200, 210]]);
    expect(h.sack(2)).toEqual([[100, 120], [300, 310]]);
    h.put(205, 2); // a duplicate inside B still triggers an ACK whose first block holds it
    expect(h.sack(1)).toEqual([[200, 210]]);
    expect(h.sack(3, 305)).toEqual([[300, 310], [200, 210], [100, 120]]);
    expect(h.sack(0)).toEqual([]);
    expect(h.blocks()).toEqual([[100, 120], [200, 210], [300, 310]]);
  });

  test('SACK: bridging two ranges makes the merged block the first', () => {
    const h = harness();
    h.put(100, 10);
    h.put(120, 10);
    h.put(300, 10);
    h.put(110, 10);
    expect(h.sack(3)).toEqual([[100, 130], [300, 310]]);
  });

  test('many tiny segments are joined into few chunks, and still come out right', () => {
    const h = harness();
    for (let i = 1; i <= 3000; i++) h.put(i, 1);
    expect(h.blocks()).toEqual([[1, 3001]]);
    let chunks = 0;
    h.put(0, 1);
    h.r.takeContiguous(seq(1000), (c) => (chunks++, c.length));
    expect(chunks).toBeLessThan(100);
    expect(h.r.isEmpty).toBe(true);
  });

  test('insert copies: reusing the frame afterwards does not change held data', () => {
    const r = new Reassembly();
    const frame = bytes(10);
    r.insert(seq(10), frame, seq(0), seq(100));
    frame.fill(0);
    const got: number[] = [];
    r.insert(seq(0), bytes(10, 100), seq(0), seq(100));
    r.takeContiguous(seq(0), (c) => (got.push(...c), c.length));
    expect(got.slice(10)).toEqual([...bytes(10)]);
  });

  test('clear drops everything', () => {
    const h = harness();
    h.put(10, 10);
    h.put(30, 10);
    h.r.clear();
    expect(h.r.isEmpty).toBe(true);
    expect(h.r.bytes).toBe(0);
    expect(h.put(10, 5)).toEqual({ stored: 5, duplicate: false });
  });

  test('model: segments of a stream arriving in any order, duplicated, through a window, reassemble exactly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.integer({ min: 1, max: 4000 }),
        fc.integer({ min: 16, max: 3000 }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.boolean(),
        (isn, total, window, seed, nearWrap) => {
          // A small PRNG so the arrival order, segment shapes and sink sizes come from the seed.
          let x = seed;
          const rnd = (n: number): number => {
            x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
            return x % n;
          };
          const base = nearWrap ? seq(2 ** 32 - rnd(total + 1)) : seq(isn);
          const stream = Uint8Array.from({ length: total }, () => rnd(256));
          const r = new Reassembly();
          let nxt = base;
          const out: number[] = [];
          const held = new Set<number>(); // model: held offsets
          for (let step = 0; seqDiff(nxt, base) < total; step++) {
            if (step > 200_000) throw new Error('no progress');
            const rel = seqDiff(nxt, base);
            // Mostly segments near RCV.NXT (so progress happens), sometimes anywhere, some old.
            const off = rnd(4) === 0 ? rnd(total) : Math.max(0, Math.min(total - 1, rel - 50 + rnd(window + 100)));
            const len = 1 + rnd(Math.min(total - off, rnd(3) === 0 ? 2000 : 300));
            const win = rnd(10) === 0 ? rnd(window + 1) : window;
            const lo = Math.max(off, rel);
            const hi = Math.min(off + len, rel + win);
            let wantStored = 0;
            let wantDup = off < rel;
            for (let i = lo; i < hi; i++) {
              if (held.has(i)) wantDup = true;
              else { held.add(i); wantStored++; }
            }
            if (rnd(8) === 0 && off <= rel && off + len > rel) {
              // The fast path: the caller delivers in-order data itself, then asks for the rest.
              const end = Math.min(off + len, rel + win);
              for (let i = rel; i < end; i++) out.push(stream[i]!);
              nxt = seqAdd(base, end);
              for (let i = rel; i < end; i++) held.delete(i);
            } else {
              const res = r.insert(seqAdd(base, off), stream.subarray(off, off + len), nxt, seqAdd(nxt, win));
              if (res.stored !== wantStored || res.duplicate !== wantDup) {
                expect(res).toEqual({ stored: wantStored, duplicate: wantDup });
              }
            }
            let room = rnd(3) === 0 ? rnd(500) : Infinity;
            nxt = r.takeContiguous(nxt, (c) => {
              const n = Math.min(room, c.length);
              for (let i = 0; i < n; i++) out.push(c[i]!);
              room -= n;
              return n;
            });
            const now = seqDiff(nxt, base);
            for (const i of held) if (i < now) held.delete(i);
            // Invariants: blocks sorted, disjoint, not touching, above RCV.NXT, and bytes adds up.
            // (Plain checks: expect() per step would dominate the run time.)
            let sum = 0;
            let prevEnd = -1;
            for (const b of r.blocks()) {
              const l = seqDiff(b.left, nxt), rr = seqDiff(b.right, nxt);
              // Held ranges may begin exactly at RCV.NXT when the sink was full.
              if (!(l > prevEnd && rr > l && l >= 0)) throw new Error(`bad blocks ${JSON.stringify(r.blocks())} at ${nxt}`);
              sum += rr - l;
              prevEnd = rr;
            }
            if (sum !== r.bytes || r.bytes !== held.size) throw new Error(`bytes ${r.bytes}, blocks sum ${sum}, model ${held.size}`);
          }
          expect(out).toEqual([...stream]);
        },
      ),
      { numRuns: 150 },
    );
  });
});
