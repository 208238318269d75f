// Transcripts of when the sender sends: Nagle's algorithm and TCP_NODELAY (RFC 9293 §3.7.4),
// TCP_CORK (Linux tcp(7)), and sender-side SWS avoidance with its override timeout (RFC 9293
// §3.8.6.2.1). The peer sent no MSS option, so the effective send MSS is 536.
import { describe, expect, test } from 'vitest';
import { millis } from '../../src/time/instant.js';
import { bytes, established, out } from './helpers.js';

describe('Nagle and TCP_NODELAY (RFC 9293 §3.7.4)', () => {
  test('a small segment waits while data is unacknowledged; the ACK releases it (RFC 9293 §3.7.4 SHLD-7)', () => {
    const c = established();
    c.s.send(bytes(100));
    expect(c.flush()).toEqual([out('PSH+ACK', c.u(1), c.p(1), 100)]);
    c.s.send(bytes(10));
    c.s.send(bytes(10));
    expect(c.flush()).toEqual([]);
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(101) })).toEqual([out('PSH+ACK', c.u(101), c.p(1), 20)]);
  });

  test('full-sized segments are never held; only the short tail waits (RFC 9293 §3.7.4)', () => {
    const c = established();
    c.s.send(bytes(10));
    c.flush();
    c.s.send(bytes(1200));
    expect(c.flush()).toEqual([out('ACK', c.u(11), c.p(1), 536), out('ACK', c.u(547), c.p(1), 536)]);
  });

  test('TCP_NODELAY sends small segments at once, in flight or not (RFC 9293 §3.7.4 MUST-17)', () => {
    const c = established({ setup: (s) => s.setOption('noDelay', true) });
    c.s.send(bytes(100));
    expect(c.flush()).toEqual([out('PSH+ACK', c.u(1), c.p(1), 100)]);
    c.s.send(bytes(10));
    expect(c.flush()).toEqual([out('PSH+ACK', c.u(101), c.p(1), 10)]);
  });
});

describe('TCP_CORK (Linux tcp(7))', () => {
  test('corked, a partial segment is held even with nothing in flight; full segments go; uncorking sends the tail', () => {
    const c = established({ setup: (s) => s.setOption('cork', true) });
    c.s.send(bytes(100));
    expect(c.flush()).toEqual([]);
    c.s.send(bytes(600));
    expect(c.flush()).toEqual([out('ACK', c.u(1), c.p(1), 536)]);
    c.s.setOption('cork', false);
    expect(c.flush()).toEqual([out('PSH+ACK', c.u(537), c.p(1), 164)]);
  });

  test('corked data waits at most until the probe timer (the RTO, 200 ms here): tcp(7)\'s ceiling on corking', () => {
    const c = established({ setup: (s) => s.setOption('cork', true) });
    c.s.send(bytes(100));
    expect(c.flush()).toEqual([]);
    expect(c.advanceTimed(199)).toEqual([]);
    expect(c.advanceTimed(1)).toEqual([`200ms ${out('PSH+ACK', c.u(1), c.p(1), 100)}`]);
  });

  test('shutdown(write) sends the corked tail with the FIN (RFC 9293 §3.10.4)', () => {
    const c = established({ setup: (s) => s.setOption('cork', true) });
    c.s.send(bytes(100));
    c.s.shutdown('write');
    expect(c.flush()).toEqual([out('FIN+PSH+ACK', c.u(1), c.p(1), 100)]);
  });

  test('a full send buffer releases the cork: the application cannot add what would fill the segment (Linux tcp_sendmsg_locked pushes with TCP_NAGLE_PUSH)', () => {
    const c = established({ peerSynOptions: { mss: 1460 }, setup: (s) => { s.setOption('cork', true); s.setOption('sendBuffer', 1); } });
    expect(c.s.send(bytes(10_000))).toBe(4608);
    expect(c.flush()).toEqual([
      out('ACK', c.u(1), c.p(1), 1460), out('ACK', c.u(1461), c.p(1), 1460), out('ACK', c.u(2921), c.p(1), 1460), out('PSH+ACK', c.u(4381), c.p(1), 228),
    ]);
  });
});

describe('sender-side SWS avoidance (RFC 9293 §3.8.6.2.1)', () => {
  test('a window-limited runt waits while less than half the largest window offered is usable; the override timeout (at most 1 s) sends what fits', () => {
    const c = established();
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1), window: 300 })).toEqual([]);
    c.s.send(bytes(1000));
    expect(c.flush()).toEqual([]); // 300 < 65535 / 2 and < MSS
    expect(c.advanceTimed(200)).toEqual([`200ms ${out('ACK', c.u(1), c.p(1), 300)}`]);
  });

  test('when the usable window reaches half the largest the peer offered, the segment goes at once (RFC 9293 §3.8.6.2.1 "Fs * Max(SND.WND)")', () => {
    const c = established({ peerWindow: 800 });
    c.s.send(bytes(2000));
    expect(c.flush()).toEqual([out('ACK', c.u(1), c.p(1), 536)]);
    // 264 bytes usable (< 400, half of 800) with 1464 queued: held until the ACK opens the window.
    expect(c.flush()).toEqual([]);
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(537), window: 800 })).toEqual([out('ACK', c.u(537), c.p(1), 536)]);
  });

  test('the override timeout is at most 1 s even when the RTO is longer (RFC 9293 §3.8.6.2.1: "in the range 0.1 - 1.0 seconds")', () => {
    const c = established({ cfg: { minRto: millis(3000) } });
    expect(c.tcb!.rtt.rto).toBe(3_000_000);
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1), window: 300 });
    c.s.send(bytes(1000));
    expect(c.flush()).toEqual([]);
    expect(c.advanceTimed(1000)).toEqual([`1000ms ${out('ACK', c.u(1), c.p(1), 300)}`]);
  });
});
