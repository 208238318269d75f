// The receive buffer (SO_RCVBUF): in-order bytes the application has not yet read. Its free
// space is what the receive window offers. Read first: RFC 9293 §3.3.1 "Receive Sequence Space"
// (RCV.WND), §3.8.6.2.2 (receiver SWS avoidance: the window opens as the application reads),
// §3.10.7.4 (processing the segment text: in-order data is delivered to the user's RECEIVE
// buffers). Out-of-order data waits in reassembly.ts and comes here once it is contiguous.
//
// Memory: the same lazy, growable ring as the send buffer (`ByteRing` in send-buffer.ts):
// nothing until the first byte, doubling up to the capacity, large rings released when drained.
import { ByteRing } from './send-buffer.js';

/** In-order received bytes waiting for the application, with a capacity (SO_RCVBUF). */
export class RecvBuffer extends ByteRing {
  private sinkFn: ((data: Uint8Array) => number) | undefined;

  /** `push` as a function value, made on first use and kept: the reassembly queue hands chunks to it (no closure per segment, none on connections that never reorder). */
  get sink(): (data: Uint8Array) => number {
    return (this.sinkFn ??= (data: Uint8Array): number => this.append(data));
  }

  /** Appends (copies) as much of `data` as fits; returns how many bytes were taken. */
  push(data: Uint8Array): number {
    return this.append(data);
  }

  /** Moves up to `out.length` bytes into `out`; returns how many (0 when empty). */
  read(out: Uint8Array): number {
    const n = out.length < this.length ? out.length : this.length;
    this.copyOut(0, n, out, 0);
    this.drop(n);
    return n;
  }

  /** Copies up to `out.length` bytes starting `offset` bytes in (MSG_PEEK), without consuming; returns how many. */
  peek(out: Uint8Array, offset = 0): number {
    const avail = this.length - offset;
    if (!(offset >= 0) || avail < 0) throw new RangeError(`peek at offset ${offset}: only ${this.length} bytes held`);
    const n = out.length < avail ? out.length : avail;
    this.copyOut(offset, n, out, 0);
    return n;
  }

  /** Removes and returns up to `max` bytes (default: all) as one new array, the only allocation. */
  readAll(max: number = Infinity): Uint8Array {
    const n = max < this.length ? Math.max(0, Math.floor(max)) : this.length;
    const out = new Uint8Array(n);
    this.copyOut(0, n, out, 0);
    this.drop(n);
    return out;
  }

  /** Discards up to `n` of the oldest bytes unread (MSG_TRUNC-like); returns how many. */
  skip(n: number): number {
    const k = n < this.length ? Math.max(0, Math.floor(n)) : this.length;
    this.drop(k);
    return k;
  }
}
