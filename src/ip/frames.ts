// Where outgoing frames come from: views carved from slabs, so a frame costs a view object and
// not a zero-filled off-heap backing store of its own. No RFC governs this; read the Port
// contract in src/link/link.ts (ownership of a frame passes with `send`) and the "Performance
// by design" rules of the shared ARCHITECTURE.md (no per-segment allocation beyond the frame).
//
// Why: `new Uint8Array(1514)` cost 1.85 µs here (Node 20: malloc, zero-fill, and the external
// memory it adds drives the GC), against 0.04-0.15 µs for a view into a slab; it was 21% of the
// CPU of a bulk transfer at MTU 1500 (docs/performance.md).
//
// Safety by construction: a slab is carved front to back with a bump pointer and never reused.
// Every frame is a distinct, zero-filled range that no other frame overlaps, exactly as a fresh
// array would be, so whoever keeps a frame (a capture, an impairment's delay queue, the neighbour
// queue, IP reassembly, a UDP socket's queue) keeps valid bytes. A slab is freed by the GC once no
// frame into it survives. The price: one long-lived frame keeps its whole slab alive; slabs
// start small and double, so a stack that sends little holds little.

/** The first slab of an allocator: small, so a stack that sends a few frames holds a few KiB. */
export const FIRST_SLAB_BYTES = 16 * 1024;
/**
 * The largest slab. 1 MiB measured best for both 1514-byte and 65549-byte frames here (256 KiB
 * slabs cost 1.7x as much per 1514-byte frame and, for 64 KiB frames, as much as fresh arrays).
 */
export const MAX_SLAB_BYTES = 1024 * 1024;
/** Frame starts are aligned to 8 bytes, so the checksum's 32-bit loads start aligned as in a fresh array. */
const ALIGN = 8;

/** Hands out zero-filled frames carved from slabs that are never reused (see the file comment). */
export class FrameAllocator {
  private slab: ArrayBuffer | undefined = undefined;
  private top = 0;
  private nextSize = FIRST_SLAB_BYTES;

  /** A zero-filled frame of `length` bytes that shares no byte with any other frame. */
  alloc(length: number): Uint8Array {
    let slab = this.slab;
    let top = this.top;
    if (slab === undefined || top + length > slab.byteLength) {
      // A new slab, at least four frames of this size, twice the last one up to the maximum.
      let size = this.nextSize;
      while (size < length * 4) size *= 2;
      slab = new ArrayBuffer(size);
      top = 0;
      this.slab = slab;
      if (this.nextSize < MAX_SLAB_BYTES) this.nextSize *= 2;
    }
    const frame = new Uint8Array(slab, top, length);
    this.top = (top + length + ALIGN - 1) & ~(ALIGN - 1);
    return frame;
  }

  /** Bytes of the current slab (0 before the first frame), for tests and memory accounting. */
  get slabBytes(): number {
    return this.slab === undefined ? 0 : this.slab.byteLength;
  }
}
