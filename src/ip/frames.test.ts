// Tests for the slab frame allocator: every frame zero-filled, aligned, and sharing no byte with another.
import { describe, expect, test } from 'vitest';
import { FIRST_SLAB_BYTES, FrameAllocator, MAX_SLAB_BYTES } from './frames.js';

describe('FrameAllocator', () => {
  test('frames are zero-filled, 8-byte aligned and disjoint, even after earlier frames were written', () => {
    const a = new FrameAllocator();
    const frames: Uint8Array[] = [];
    const sizes = [60, 1514, 66, 9000, 1, 65549, 78, 1514, 200_000];
    for (let round = 0; round < 40; round++) {
      for (const n of sizes) {
        const f = a.alloc(n);
        expect(f.length).toBe(n);
        expect(f.byteOffset % 8).toBe(0);
        expect(f.every((b) => b === 0)).toBe(true); // nothing of an earlier frame shows through
        f.fill((frames.length % 255) + 1);
        frames.push(f);
      }
    }
    // Writing every frame with its own tag left every other frame intact: no two overlap.
    frames.forEach((f, i) => expect(f.every((b) => b === (i % 255) + 1)).toBe(true));
  });

  test('slabs start small and double up to the maximum; a big frame gets a slab that fits four', () => {
    const a = new FrameAllocator();
    expect(a.slabBytes).toBe(0);
    a.alloc(100);
    expect(a.slabBytes).toBe(FIRST_SLAB_BYTES);
    for (let i = 0; i < 2000; i++) a.alloc(1514);
    expect(a.slabBytes).toBe(MAX_SLAB_BYTES);
    const b = new FrameAllocator();
    b.alloc(65549);
    expect(b.slabBytes).toBeGreaterThanOrEqual(4 * 65549);
  });
});
