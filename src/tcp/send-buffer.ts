// The send buffer (SO_SNDBUF): bytes the application wrote that the peer has not yet
// acknowledged, from SND.UNA onwards (RFC 9293 §3.3.1 "Send Sequence Space": the unacknowledged
// bytes, then the ones not yet sent). Also home to `ByteRing`, the storage shared with the
// receive buffer (recv-buffer.ts). Read first: RFC 9293 §3.3.1 and §3.8.6 (windows), §3.10.7.4
// (acknowledgment processing: "Any segments on the retransmission queue that are thereby
// entirely acknowledged are removed." Here the queue is a byte range, and consume() drops it).
//
// Memory: a million idle connections must fit, so storage is lazy and elastic. Nothing is
// allocated until the first byte arrives; the first ring is the size of the first write rounded
// up to 64 bytes (a 1-byte exchange no longer allocates and zero-fills 1 KiB rings: that was 8%
// of the connection-rate benchmark, docs/performance.md item 7), and it grows by doubling up to
// the capacity; when it empties, a ring larger than 16 KiB is released unless it held more than
// 16 KiB since it last emptied (a smaller one is always kept, so chatty request/response
// connections do not allocate on every message), and `trim()` releases whatever is left, for
// idle connections. The rule keeps a bulk transfer's ring: releasing it on every drain
// made the next burst regrow it by doubling, copying its contents each time (a CPU profile of the
// bulk benchmark showed that regrowth as the largest cost of the send and receive paths). A write
// or copy allocates no buffers in the steady state: it copies with `Uint8Array.set` into or out
// of the ring, at most in two pieces. No buffer concatenation, no chunk per write.

/** Smallest ring ever allocated, and the unit the first ring's size is rounded up to. */
export const MIN_RING_BYTES = 64;
/** When the buffer empties, rings larger than this are released, unless they held more than this since they last emptied. */
export const KEEP_RING_BYTES = 16 * 1024;

function checkCapacity(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`invalid buffer capacity ${n}: need a non-negative integer`);
  return n;
}

/** A bounded FIFO of bytes in a lazily allocated, growable ring; the storage behind SendBuffer and RecvBuffer. */
export class ByteRing {
  private buf: Uint8Array | undefined = undefined;
  private head = 0; // index in buf of the oldest byte
  private len = 0;
  private peak = 0; // the most bytes held since the ring last emptied
  private cap: number;

  /** An empty ring that will hold at most `capacity` bytes; allocates nothing yet. */
  constructor(capacity: number) {
    this.cap = checkCapacity(capacity);
  }

  /** The most bytes the buffer accepts; may be set below `length` (then nothing more is accepted until it drains). */
  get capacity(): number {
    return this.cap;
  }
  set capacity(n: number) {
    this.cap = checkCapacity(n);
  }

  /** Bytes held. */
  get length(): number {
    return this.len;
  }

  /** Bytes that can be added now: capacity minus length, never negative. */
  get free(): number {
    return this.cap > this.len ? this.cap - this.len : 0;
  }

  /** Bytes of storage currently allocated (0 when idle), for memory accounting and tests. */
  get allocated(): number {
    return this.buf === undefined ? 0 : this.buf.length;
  }

  /**
   * Copies `len` held bytes starting `offset` bytes after the oldest into `out` at `outOffset`.
   * Throws a RangeError if the bytes are not held or do not fit in `out`: that is a caller bug.
   */
  copyOut(offset: number, len: number, out: Uint8Array, outOffset: number): void {
    if (!(offset >= 0 && len >= 0 && offset + len <= this.len && outOffset >= 0 && outOffset + len <= out.length)) {
      throw new RangeError(
        `copyOut(${offset}, ${len}) into ${out.length} bytes at ${outOffset}: only ${this.len} bytes held`,
      );
    }
    if (len === 0) return;
    const buf = this.buf!;
    const size = buf.length;
    let start = this.head + offset;
    if (start >= size) start -= size;
    const first = len < size - start ? len : size - start;
    // `set` needs the source as an array of its own; a view made with the constructor costs about
    // half what `subarray` does (38 against 67 ns measured here: no species lookup).
    out.set(new Uint8Array(buf.buffer, buf.byteOffset + start, first), outOffset);
    if (first < len) out.set(new Uint8Array(buf.buffer, buf.byteOffset, len - first), outOffset + first);
  }

  /** Releases the storage if nothing is held (for idle connections); a no-op otherwise. */
  trim(): void {
    if (this.len === 0) {
      this.buf = undefined;
      this.head = 0;
    }
  }

  /** Appends as much of `data` as fits; returns how many bytes were taken. */
  protected append(data: Uint8Array): number {
    const free = this.free;
    const n = data.length < free ? data.length : free;
    if (n === 0) return 0;
    const buf = this.reserve(this.len + n);
    const size = buf.length;
    let tail = this.head + this.len;
    if (tail >= size) tail -= size;
    const first = n < size - tail ? n : size - tail;
    buf.set(first === data.length ? data : data.subarray(0, first), tail);
    if (first < n) buf.set(data.subarray(first, n), 0);
    this.len += n;
    if (this.len > this.peak) this.peak = this.len;
    return n;
  }

  /** Drops the `n` oldest bytes; throws a RangeError if fewer are held. */
  protected drop(n: number): void {
    if (!(n >= 0 && n <= this.len)) throw new RangeError(`cannot drop ${n} bytes: only ${this.len} held`);
    this.len -= n;
    if (this.len === 0) {
      this.head = 0;
      if (this.buf !== undefined && this.buf.length > KEEP_RING_BYTES && this.peak <= KEEP_RING_BYTES) this.buf = undefined;
      this.peak = 0;
      return;
    }
    const size = this.buf!.length;
    this.head += n;
    if (this.head >= size) this.head -= size;
  }

  /** Storage of at least `need` bytes (need <= capacity), growing by doubling and keeping the contents. */
  private reserve(need: number): Uint8Array {
    const old = this.buf;
    if (old !== undefined && old.length >= need) return old;
    // The first ring fits the first write (rounded up to MIN_RING_BYTES); later ones double.
    let size = old === undefined ? (need + MIN_RING_BYTES - 1) & ~(MIN_RING_BYTES - 1) : old.length * 2;
    while (size < need) size *= 2;
    const limit = this.cap > need ? this.cap : need;
    if (size > limit) size = limit;
    const buf = new Uint8Array(size);
    if (old !== undefined && this.len > 0) {
      // Linearise: the oldest byte moves to index 0.
      const first = this.len < old.length - this.head ? this.len : old.length - this.head;
      buf.set(old.subarray(this.head, this.head + first), 0);
      if (first < this.len) buf.set(old.subarray(0, this.len - first), first);
    }
    this.buf = buf;
    this.head = 0;
    return buf;
  }
}

/**
 * The bytes between SND.UNA and the end of what the application wrote. Offset 0 is SND.UNA;
 * output copies segments out by offset, and ACK processing consumes from the front.
 */
export class SendBuffer extends ByteRing {
  /** Copies as much of `data` as fits (SO_SNDBUF semantics: a partial write); returns the count. */
  write(data: Uint8Array): number {
    return this.append(data);
  }

  /** `n` bytes were acknowledged (SND.UNA advanced by n): drops them from the front. */
  consume(n: number): void {
    this.drop(n);
  }
}
