// Transcripts of the send and receive buffers and the receive window: SO_SNDBUF / SO_RCVBUF
// (Linux tcp(7), socket(7)), receive-buffer auto-tuning (Linux tcp_moderate_rcvbuf), out-of-order
// data bounded by the window (RFC 9293 §3.10.7.4), window updates as the application reads and
// receiver-side SWS avoidance (RFC 9293 §3.8.6.2.2).
import { describe, expect, test } from 'vitest';
import { Scenario } from '../../src/sim/scenario.js';
import { connectPair } from '../../src/sim/scenarios/common.js';
import { millis } from '../../src/time/instant.js';
import { seqDiff } from '../../src/tcp/seq.js';
import { bytes, drain, established, out, sendFull } from './helpers.js';

/** Reads up to `n` bytes from a socket; returns how many. */
function read(s: { recv(b: Uint8Array): number | string }, n: number): number {
  const r = s.recv(new Uint8Array(n));
  return typeof r === 'number' ? r : 0;
}

describe('SO_SNDBUF / SO_RCVBUF (Linux socket(7): the kernel doubles the value)', () => {
  test('the value asked for is doubled, capped at net.core.[rw]mem_max and raised to the minimum; getsockopt returns what is used', () => {
    const c = established();
    expect(c.s.setOption('receiveBuffer', 10_000)).toBeUndefined();
    expect(c.s.getOption('receiveBuffer')).toBe(20_000);
    expect(c.s.setOption('sendBuffer', 1)).toBeUndefined();
    expect(c.s.getOption('sendBuffer')).toBe(4608); // SOCK_MIN_SNDBUF
    expect(c.s.setOption('receiveBuffer', 1)).toBeUndefined();
    expect(c.s.getOption('receiveBuffer')).toBe(2304); // SOCK_MIN_RCVBUF
    expect(c.s.setOption('sendBuffer', 1 << 30)).toBeUndefined();
    expect(c.s.getOption('sendBuffer')).toBe(2 * 212_992); // 2 * wmem_max
    expect(c.s.setOption('receiveBuffer', -1)).toBe('EINVAL');
  });

  test('a send buffer set before connect bounds what send() takes (RFC 9293 §3.10.2; SO_SNDBUF)', () => {
    const c = established({ setup: (s) => s.setOption('sendBuffer', 3000) });
    expect(c.s.send(bytes(10_000))).toBe(6000);
    expect(c.s.send(bytes(1))).toBe('EAGAIN');
  });

  test('a receive buffer set before connect is the window the peer can fill (RFC 9293 §3.8.6; SO_RCVBUF)', () => {
    const c = established({ setup: (s) => s.setOption('receiveBuffer', 2000) });
    expect(c.tcb!.rcvBuf.capacity).toBe(4000);
    const [a] = sendFull(c, { flags: 'ACK', seq: c.p(1), ack: c.u(1), data: 4000 });
    expect(a!.window).toBe(0);
    // Beyond the window: nothing is kept.
    const [b] = sendFull(c, { flags: 'ACK', seq: c.p(4001), ack: c.u(1), data: 10 });
    expect(b!.ack).toBe(c.p(4001));
    expect(drain(c.s).data.length).toBe(4000);
  });

  test('an accepted connection inherits the listener\'s buffer sizes (Linux: options set on the listening socket)', () => {
    const c = established({ side: 'server', setup: (s) => { s.setOption('receiveBuffer', 5000); s.setOption('sendBuffer', 6000); } });
    expect(c.s.getOption('receiveBuffer')).toBe(10_000);
    expect(c.s.getOption('sendBuffer')).toBe(12_000);
  });
});

describe('receive-buffer auto-tuning (Linux tcp_moderate_rcvbuf, tcp_rcv_space_adjust)', () => {
  function bulk(lock: boolean, bytesToMove: number) {
    const s = new Scenario({ seed: 5, delay: millis(25), recordWire: false, tcp: { sndBuf: 8 << 20 } });
    const { client, server } = connectPair(s);
    if (lock) server.setOption('receiveBuffer', 64 * 1024);
    const chunk = new Uint8Array(1 << 20);
    let sent = 0;
    let got = 0;
    const buf = new Uint8Array(1 << 20);
    const start = s.now;
    s.runUntil(() => {
      while (sent < bytesToMove) {
        const n = client.send(chunk.subarray(0, Math.min(chunk.length, bytesToMove - sent)));
        if (typeof n !== 'number') break;
        sent += n;
      }
      for (;;) {
        const n = server.recv(buf);
        if (typeof n !== 'number' || n === 0) break;
        got += n;
      }
      return got >= bytesToMove;
    }, 120_000);
    return { secs: (s.now - start) / 1e6, rcvBuf: server.connection!.rcvBuf.capacity, got };
  }

  test('over a 50 ms path the receive buffer grows from 128 KiB toward the bandwidth-delay product, and the transfer is faster than with a fixed buffer', () => {
    const tuned = bulk(false, 16 << 20);
    const fixed = bulk(true, 16 << 20);
    expect(tuned.got).toBe(16 << 20);
    expect(fixed.got).toBe(16 << 20);
    expect(tuned.rcvBuf).toBeGreaterThan(1 << 20);
    expect(tuned.rcvBuf).toBeLessThanOrEqual(6 << 20); // tcp_rmem[2]
    expect(fixed.rcvBuf).toBe(128 * 1024); // SO_RCVBUF locks it
    expect(tuned.secs).toBeLessThan(fixed.secs / 2);
  });

  test('the send buffer grows with the congestion window unless SO_SNDBUF was set (Linux tcp_sndbuf_expand)', () => {
    const s = new Scenario({ seed: 6, delay: millis(10), recordWire: false });
    const { client, server } = connectPair(s);
    expect(client.getOption('sendBuffer')).toBe(16 * 1024);
    const chunk = new Uint8Array(64 * 1024);
    let got = 0;
    const buf = new Uint8Array(1 << 16);
    s.runUntil(() => {
      client.send(chunk);
      for (;;) {
        const n = server.recv(buf);
        if (typeof n !== 'number' || n === 0) break;
        got += n;
      }
      return got >= 4 << 20;
    }, 60_000);
    const tcb = client.connection!;
    // Two congestion windows' worth, up to tcp_wmem[2] (4 MiB); the ACK that grew cwnd last grew it too.
    expect(client.getOption('sendBuffer')).toBeGreaterThanOrEqual(Math.min(2 * tcb.cwnd - 2 * tcb.mss, 4 << 20));
    expect(client.getOption('sendBuffer')).toBeLessThanOrEqual(4 << 20);
    expect(client.getOption('sendBuffer')).toBeGreaterThan(16 * 1024);
    // A locked buffer stays as set.
    const s2 = new Scenario({ seed: 6, delay: millis(10), recordWire: false });
    const p2 = connectPair(s2);
    p2.client.setOption('sendBuffer', 8192);
    got = 0;
    s2.runUntil(() => {
      p2.client.send(chunk);
      for (;;) {
        const n = p2.server.recv(buf);
        if (typeof n !== 'number' || n === 0) break;
        got += n;
      }
      return got >= 1 << 20;
    }, 60_000);
    expect(p2.client.getOption('sendBuffer')).toBe(16384);
  });
});

describe('out-of-order data and the window (RFC 9293 §3.10.7.4, §3.8.6)', () => {
  test('out-of-order data is held only within the window we offered; what lies beyond is dropped and the peer sends it again', () => {
    const c = established({ cfg: { rcvBuf: 4000, moderateRcvBuf: false } });
    const [a] = sendFull(c, { flags: 'ACK', seq: c.p(3001), ack: c.u(1), data: bytes(2000, 3000) });
    expect(a!.ack).toBe(c.p(1));
    expect(c.tcb!.ooo.bytes).toBe(1000); // [3000, 4000): the rest is beyond the right edge
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1), data: bytes(3000) });
    expect(drain(c.s).data).toEqual([...bytes(4000)]);
  });

  test('data is delivered in order the moment the hole fills, whatever order the pieces came in (RFC 9293 §3.10.7.4)', () => {
    const c = established({ cfg: { moderateRcvBuf: false } });
    for (const off of [4000, 1000, 3000, 0, 2000]) {
      c.send({ flags: 'ACK', seq: c.p(1 + off), ack: c.u(1), data: bytes(1000, off) });
      const readable = drain(c.s).data.length;
      expect(readable).toBe(off === 0 ? 2000 : off === 2000 ? 3000 : 0);
    }
  });
});

describe('window updates as the application reads; receiver SWS avoidance (RFC 9293 §3.8.6.2.2)', () => {
  test('a read that at least doubles a window that is at most half the buffer is announced at once (Linux tcp_cleanup_rbuf)', () => {
    const c = established({ cfg: { rcvBuf: 8000, moderateRcvBuf: false } });
    const [a] = sendFull(c, { flags: 'ACK', seq: c.p(1), ack: c.u(1), data: 6000 });
    expect(a!.window).toBe(2000);
    // Reading 1000 bytes would offer 3000: less than twice 2000, so nothing is sent.
    expect(read(c.s, 1000)).toBe(1000);
    expect(c.flush()).toEqual([]);
    // Reading the rest offers 8000 >= 2 * 2000: a window update goes out.
    drain(c.s);
    const upd = c.h.flush();
    void upd;
    const sent = c.h.takeSent();
    expect(sent.map((x) => [x.seg.ack, x.seg.window])).toEqual([[c.p(6001), 8000]]);
  });

  test('after a zero window, reading less than min(RCV.BUFF/2, MSS) leaves the window shut; reading enough reopens it with an immediate update (RFC 9293 §3.8.6.2.2 MUST-39)', () => {
    const c = established({ cfg: { rcvBuf: 4000, moderateRcvBuf: false }, peerSynOptions: { mss: 1460 } });
    const [a] = sendFull(c, { flags: 'ACK', seq: c.p(1), ack: c.u(1), data: 4000 });
    expect(a!.window).toBe(0);
    expect(read(c.s, 500)).toBe(500);
    expect(c.flush()).toEqual([]); // 500 < min(2000, 1460)
    expect(read(c.s, 1000)).toBe(1000);
    expect(c.flush()).toEqual([out('ACK', c.u(1), c.p(4001))]);
    expect(c.h.ip.sent.at(-1)!.seg.window).toBe(1500);
  });

  test('the window never shrinks: a zero-window probe beyond RCV.NXT is answered with the same edge (RFC 9293 §3.8.6.1, §3.8.6.2.2)', () => {
    const c = established({ cfg: { rcvBuf: 4000, moderateRcvBuf: false } });
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1), data: 4000 });
    const [probe] = sendFull(c, { flags: 'ACK', seq: c.p(4001), ack: c.u(1), data: 1 });
    expect([probe!.ack, probe!.window]).toEqual([c.p(4001), 0]);
    const edge = seqDiff(c.tcb!.rcvAdv, c.tcb!.rcvNxt);
    expect(edge).toBe(0);
  });
});
