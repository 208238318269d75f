// The receive buffer (SO_RCVBUF): in-order bytes the application has not yet read. Its free
// space is what the receive window offers. Read first: RFC 9293 §3.3.1 "Receive Sequence Space"
// (RCV.WND), §3.8.6.2.2 (receiver SWS avoidance: the window opens as the application reads),
// §3.10.7.4 (processing the segment text: in-order data is delivered to the user's RECEIVE
// buffers). Out-of-order data waits in reassembly.ts and comes here once it is contiguous.
//
// Storage, two kinds in one FIFO:
// - adopted payloads: the payload of a received segment (a view of the frame, which the stack
//   owns once the link hands it over: the Port contract in src/link/link.ts) is queued as it
//   is and copied once, into the application's buffer, when it reads; Linux queues skbs the same
//   way. Bulk data is then copied three times on its way (application -> send ring -> frame ->
//   application) instead of four (docs/performance.md item 6). Only payloads of at least
//   ADOPT_MIN_BYTES are adopted, so a view never keeps a large frame buffer alive for a few bytes.
// - copied bytes: everything else (small payloads, `push`) goes into the same lazy, growable ring
//   as the send buffer (`ByteRing` in send-buffer.ts): nothing until the first byte, sized to it,
//   doubling up to the capacity, large rings released when drained.
// While nothing is adopted the buffer is exactly that ring. Once something is, `queue` lists
// the FIFO's runs in order: a view, or a number of bytes at the front of the ring. The capacity
// and the window count payload bytes whatever their storage, so the receive-window accounting
// (RFC 9293 §3.8.6, autotune.ts, SO_RCVBUF) is the same as with the ring alone.
import { ByteRing } from './send-buffer.js';

/** Payloads at least this long are queued as views by `adopt`; shorter ones are copied into the ring. */
export const ADOPT_MIN_BYTES = 512;
/** Queue arrays longer than this are released when the buffer drains (a bulk transfer's thousands of views). */
const KEEP_QUEUE_ENTRIES = 64;

/** In-order received bytes waiting for the application, with a capacity (SO_RCVBUF). */
export class RecvBuffer extends ByteRing {
  // The runs in FIFO order when anything is adopted: a Uint8Array is a view to copy from, a
  // number that many bytes at the front of the ring. A circular array (power-of-two length),
  // allocated on the first adopt; empty (qCount 0) whenever nothing adopted is held.
  private queue: (Uint8Array | number)[] | undefined = undefined;
  private qHead = 0;
  private qCount = 0;
  /** Bytes of the first queued view already read. */
  private frontOffset = 0;
  /** Adopted bytes held (not in the ring). */
  private viewBytes = 0;
  private sinkFn: ((data: Uint8Array) => number) | undefined = undefined;

  /** `adopt` as a function value, made on first use: the reassembly queue hands it the chunks it owned (no closure per segment, none for a connection that never reordered). */
  get sink(): (data: Uint8Array) => number {
    return (this.sinkFn ??= (data: Uint8Array): number => this.adopt(data));
  }

  /** Bytes held: copied and adopted. */
  override get length(): number {
    return super.length + this.viewBytes;
  }

  /** Bytes that can be added now: capacity minus length, never negative. */
  override get free(): number {
    const n = this.length;
    return this.capacity > n ? this.capacity - n : 0;
  }

  /** Appends (copies) as much of `data` as fits; returns how many bytes were taken. */
  push(data: Uint8Array): number {
    const n = this.append(data);
    if (n > 0 && this.qCount > 0) this.enqueueRing(n);
    return n;
  }

  /**
   * Takes as much of `data` as fits, keeping it by reference when it is at least
   * ADOPT_MIN_BYTES long (else copying it, as `push`); returns how many bytes were taken. The
   * caller hands `data` over: nothing may write to those bytes afterwards (the payload of a
   * received frame, or a chunk the reassembly queue owned).
   */
  adopt(data: Uint8Array): number {
    if (data.length < ADOPT_MIN_BYTES) return this.push(data);
    const free = this.free;
    const n = data.length < free ? data.length : free;
    if (n === 0) return 0;
    if (this.qCount === 0) {
      // The queue starts: whatever the ring holds comes first.
      const ringBytes = super.length;
      if (ringBytes > 0) this.enqueue(ringBytes);
    }
    this.enqueue(n === data.length ? data : data.subarray(0, n));
    this.viewBytes += n;
    return n;
  }

  /** Moves up to `out.length` bytes into `out`; returns how many (0 when empty). */
  read(out: Uint8Array): number {
    const n = out.length < this.length ? out.length : this.length;
    if (this.qCount === 0) {
      this.copyOut(0, n, out, 0);
      this.drop(n);
      return n;
    }
    this.take(n, out, 0);
    return n;
  }

  /** Copies up to `out.length` bytes starting `offset` bytes in (MSG_PEEK), without consuming; returns how many. */
  peek(out: Uint8Array, offset = 0): number {
    const avail = this.length - offset;
    if (!(offset >= 0) || avail < 0) throw new RangeError(`peek at offset ${offset}: only ${this.length} bytes held`);
    const n = out.length < avail ? out.length : avail;
    if (this.qCount === 0) {
      this.copyOut(offset, n, out, 0);
      return n;
    }
    const q = this.queue!;
    const mask = q.length - 1;
    let skip = offset + this.frontOffset; // the first view's read part counts as skipped
    let ringAt = 0; // ring bytes before the current run
    let done = 0;
    for (let k = 0; k < this.qCount && done < n; k++) {
      const e = q[(this.qHead + k) & mask]!;
      const size = typeof e === 'number' ? e : e.length;
      if (skip >= size) {
        skip -= size;
        if (typeof e === 'number') ringAt += e;
        continue;
      }
      const want = size - skip < n - done ? size - skip : n - done;
      if (typeof e === 'number') {
        this.copyOut(ringAt + skip, want, out, done);
        ringAt += e;
      } else {
        out.set(new Uint8Array(e.buffer, e.byteOffset + skip, want), done);
      }
      done += want;
      skip = 0;
    }
    return n;
  }

  /** Removes and returns up to `max` bytes (default: all) as one new array, the only allocation. */
  readAll(max: number = Infinity): Uint8Array {
    const n = max < this.length ? Math.max(0, Math.floor(max)) : this.length;
    const out = new Uint8Array(n);
    this.read(out);
    return out;
  }

  /** Discards up to `n` of the oldest bytes unread (MSG_TRUNC-like); returns how many. */
  skip(n: number): number {
    const k = n < this.length ? Math.max(0, Math.floor(n)) : this.length;
    if (this.qCount === 0) this.drop(k);
    else this.take(k, undefined, 0);
    return k;
  }

  /** Consumes `n` (<= length) bytes from the queue's front, copying them to `out` at `at` when given. */
  private take(n: number, out: Uint8Array | undefined, at: number): void {
    const q = this.queue!;
    const mask = q.length - 1;
    let done = 0;
    while (done < n) {
      const e = q[this.qHead]!;
      if (typeof e === 'number') {
        const want = e < n - done ? e : n - done;
        if (out !== undefined) this.copyOut(0, want, out, at + done);
        this.drop(want);
        done += want;
        if (want === e) this.dequeue(mask);
        else q[this.qHead] = e - want;
      } else {
        const off = this.frontOffset;
        const left = e.length - off;
        const want = left < n - done ? left : n - done;
        if (out !== undefined) out.set(off === 0 && want === e.length ? e : new Uint8Array(e.buffer, e.byteOffset + off, want), at + done);
        done += want;
        this.viewBytes -= want;
        if (want === left) {
          this.frontOffset = 0;
          this.dequeue(mask);
        } else {
          this.frontOffset = off + want;
        }
      }
    }
    if (this.viewBytes === 0) {
      // Nothing adopted is left: the ring holds everything again (any ring runs still queued
      // describe exactly its bytes), so the queue is dropped and reads take the ring path.
      for (let k = 0; k < this.qCount; k++) q[(this.qHead + k) & mask] = 0;
      this.qHead = 0;
      this.qCount = 0;
      this.frontOffset = 0;
      if (q.length > KEEP_QUEUE_ENTRIES) this.queue = undefined;
    }
  }

  /** Records `n` bytes just appended to the ring, after everything queued. */
  private enqueueRing(n: number): void {
    const q = this.queue!;
    const last = (this.qHead + this.qCount - 1) & (q.length - 1);
    const e = q[last]!;
    if (typeof e === 'number') q[last] = e + n;
    else this.enqueue(n);
  }

  private enqueue(e: Uint8Array | number): void {
    let q = this.queue;
    if (q === undefined) {
      q = new Array<Uint8Array | number>(8).fill(0);
      this.queue = q;
      this.qHead = 0;
    } else if (this.qCount === q.length) {
      const grown = new Array<Uint8Array | number>(q.length * 2).fill(0);
      for (let k = 0; k < this.qCount; k++) grown[k] = q[(this.qHead + k) & (q.length - 1)]!;
      q = grown;
      this.queue = q;
      this.qHead = 0;
    }
    q[(this.qHead + this.qCount) & (q.length - 1)] = e;
    this.qCount++;
  }

  private dequeue(mask: number): void {
    this.queue![this.qHead] = 0; // no reference kept to a view that was read
    this.qHead = (this.qHead + 1) & mask;
    this.qCount--;
  }
}
