// Transcripts of a connection's timers (RFC 9293 §3.8): delayed ACKs (§3.8.6.3), keep-alives
// (§3.8.4), zero-window probes (§3.8.6.1), retransmission backoff and its limits (§3.8.1,
// §3.8.3; RFC 6298 §5), and TCP_USER_TIMEOUT (RFC 5482). All in virtual time.
import { describe, expect, test } from 'vitest';
import { Ready } from '../../src/api/socket.js';
import { bytes, established, out } from './fixtures.js';

describe('delayed ACK (RFC 9293 §3.8.6.3; RFC 1122 §4.2.3.2)', () => {
  /** An ESTABLISHED client whose quick-ACK budget (16 segments, Linux TCP_MAX_QUICKACKS) is used up. */
  function pastQuickAck() {
    const c = established();
    for (let i = 0; i < 16; i++) {
      expect(c.send({ flags: 'PSH+ACK', seq: c.p(1 + i), ack: c.u(1), data: 1 })).toEqual([out('ACK', c.u(1), c.p(2 + i))]);
    }
    return c;
  }

  test('ESTABLISHED: after the quick-ACK segments of connection start, a small segment is acknowledged after the 40 ms delayed-ACK timeout (RFC 9293 §3.8.6.3 MUST-40; Linux TCP_DELACK_MIN)', () => {
    const c = pastQuickAck();
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(17), ack: c.u(1), data: 10 })).toEqual([]);
    expect(c.advanceTimed(39)).toEqual([]);
    expect(c.advanceTimed(1)).toEqual([`40ms ${out('ACK', c.u(1), c.p(27))}`]);
    expect(c.advance(1000)).toEqual([]);
  });

  test('ESTABLISHED: every second full-sized segment is acknowledged at once (RFC 9293 §3.8.6.3 SHLD-19; RFC 5681 §4.2)', () => {
    const c = pastQuickAck();
    const mss = 1460;
    expect(c.send({ flags: 'ACK', seq: c.p(17), ack: c.u(1), data: mss })).toEqual([]);
    expect(c.send({ flags: 'ACK', seq: c.p(17 + mss), ack: c.u(1), data: mss })).toEqual([out('ACK', c.u(1), c.p(17 + 2 * mss))]);
    expect(c.send({ flags: 'ACK', seq: c.p(17 + 2 * mss), ack: c.u(1), data: mss })).toEqual([]);
    expect(c.send({ flags: 'ACK', seq: c.p(17 + 3 * mss), ack: c.u(1), data: mss })).toEqual([out('ACK', c.u(1), c.p(17 + 4 * mss))]);
    expect(c.advance(1000)).toEqual([]); // nothing left to acknowledge
  });

  test('ESTABLISHED: a pending delayed ACK rides on outgoing data and its timer is cancelled (RFC 9293 §3.8.6.3)', () => {
    const c = pastQuickAck();
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(17), ack: c.u(1), data: 10 })).toEqual([]);
    c.advance(10);
    expect(c.s.send(bytes(5))).toBe(5);
    expect(c.flush()).toEqual([out('PSH+ACK', c.u(1), c.p(27), 5)]);
    expect(c.advance(100)).toEqual([]);
  });

  test('ESTABLISHED: an out-of-order segment is acknowledged at once with a duplicate ACK (RFC 9293 §3.10.7.4 seventh step; RFC 5681 §4.2)', () => {
    const c = pastQuickAck();
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(100), ack: c.u(1), data: 10 })).toEqual([out('ACK', c.u(1), c.p(17))]);
    // Filling the hole is acknowledged at once too, up to the end of what was held.
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(17), ack: c.u(1), data: 83 })).toEqual([out('ACK', c.u(1), c.p(110))]);
  });
});

describe('keep-alive (RFC 9293 §3.8.4; RFC 1122 §4.2.3.6)', () => {
  const keep = (idle: number, intvl: number, cnt: number) => established({
    setup: (s) => {
      expect(s.setOption('keepIdle', idle)).toBeUndefined();
      expect(s.setOption('keepInterval', intvl)).toBeUndefined();
      expect(s.setOption('keepCount', cnt)).toBeUndefined();
      expect(s.setOption('keepAlive', true)).toBeUndefined();
    },
  });

  test('ESTABLISHED: keep-alive probes <SEQ=SND.NXT-1> go out after TCP_KEEPIDLE, every TCP_KEEPINTVL; after TCP_KEEPCNT unanswered probes a RST and ETIMEDOUT (RFC 9293 §3.8.4 MUST-24, MUST-26, MUST-27; Linux tcp_keepalive_timer)', () => {
    const c = keep(10, 2, 3);
    const probe = out('ACK', c.u(0), c.p(1));
    expect(c.advanceTimed(15_999)).toEqual([`10000ms ${probe}`, `12000ms ${probe}`, `14000ms ${probe}`]);
    expect(c.state).toBe('ESTABLISHED');
    expect(c.advanceTimed(1)).toEqual([`16000ms ${out('RST+ACK', c.u(1), c.p(1))}`]);
    expect(c.state).toBe('CLOSED');
    expect(c.s.readiness() & Ready.ERROR).toBe(Ready.ERROR);
    expect(c.s.recv(new Uint8Array(1))).toBe('ETIMEDOUT');
    expect(c.h.tcp.counters.TCPKeepAliveProbes).toBe(3);
  });

  test('ESTABLISHED: an answered probe keeps the connection and restarts the idle period (RFC 9293 §3.8.4 MUST-29)', () => {
    const c = keep(10, 2, 3);
    const probe = out('ACK', c.u(0), c.p(1));
    expect(c.advance(10_000)).toEqual([probe]);
    c.advance(500);
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1) })).toEqual([]);
    expect(c.advanceTimed(9_999)).toEqual([]);
    expect(c.advanceTimed(1)).toEqual([`20500ms ${probe}`]);
    expect(c.state).toBe('ESTABLISHED');
  });

  test('ESTABLISHED: probes are only sent after the connection has been idle: traffic from the peer postpones them (RFC 9293 §3.8.4 MUST-26)', () => {
    const c = keep(10, 2, 3);
    c.advance(8_000);
    c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: 1 });
    expect(c.advance(9_999)).toEqual([]);
    expect(c.advance(1)).toEqual([out('ACK', c.u(0), c.p(2))]);
  });

  test('keep-alive is off by default (RFC 9293 §3.8.4 MUST-25)', () => {
    const c = established();
    expect(c.advance(3 * 3600 * 1000)).toEqual([]);
    expect(c.state).toBe('ESTABLISHED');
  });

  test('SO_KEEPALIVE alone uses Linux\'s defaults: first probe after 2 hours, 9 probes 75 s apart (RFC 9293 §3.8.4 MUST-28; Linux tcp_keepalive_time/_intvl/_probes)', () => {
    const c = established({ setup: (s) => s.setOption('keepAlive', true) });
    expect(c.advance(7_199_999)).toEqual([]);
    expect(c.advance(1)).toEqual([out('ACK', c.u(0), c.p(1))]);
    expect(c.advance(8 * 75_000)).toHaveLength(8);
    expect(c.state).toBe('ESTABLISHED');
    expect(c.advance(75_000)).toEqual([out('RST+ACK', c.u(1), c.p(1))]);
    expect(c.s.takeError()).toBe('ETIMEDOUT');
  });

  test('turning SO_KEEPALIVE on an established socket arms it from the last time the peer was heard (Linux tcp_set_keepalive)', () => {
    const c = established();
    c.advance(5_000);
    c.s.setOption('keepIdle', 10);
    c.s.setOption('keepAlive', true);
    expect(c.advanceTimed(9_999)).toEqual([]);
    expect(c.advanceTimed(1)).toEqual([`15000ms ${out('ACK', c.u(0), c.p(1))}`]);
  });
});

describe('zero-window probes (RFC 9293 §3.8.6.1)', () => {
  test('ESTABLISHED: with a zero send window and data queued, probes <SEQ=SND.UNA-1> go out after one RTO and back off exponentially; data flows when the window opens (RFC 9293 §3.8.6.1 MUST-35, MUST-36, SHLD-29, SHLD-30; Linux tcp_probe_timer)', () => {
    const c = established();
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1), window: 0 })).toEqual([]);
    expect(c.s.send(bytes(100))).toBe(100);
    expect(c.flush()).toEqual([]);
    const probe = out('ACK', c.u(0), c.p(1));
    expect(c.advanceTimed(1500)).toEqual([`200ms ${probe}`, `600ms ${probe}`, `1400ms ${probe}`]);
    // The peer answers a probe, still with a zero window: it may stay closed indefinitely (MUST-37).
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1), window: 0 })).toEqual([]);
    expect(c.advanceTimed(1600)).toEqual([`3000ms ${probe}`]);
    expect(c.state).toBe('ESTABLISHED');
    // The window opens: the data goes at once and probing stops.
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1), window: 1000 })).toEqual([out('PSH+ACK', c.u(1), c.p(1), 100)]);
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(101), window: 1000 })).toEqual([]);
    expect(c.advance(60_000)).toEqual([]);
  });

  test('ESTABLISHED: a zero window that stays closed for a long time does not end the connection (RFC 9293 §3.8.6.1 MUST-37)', () => {
    const c = established();
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1), window: 0 });
    c.s.send(bytes(10));
    c.flush();
    for (let i = 0; i < 30; i++) {
      c.advance(60_000);
      c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1), window: 0 });
    }
    expect(c.state).toBe('ESTABLISHED');
    expect(c.h.takeSummary().every((s) => s === out('ACK', c.u(0), c.p(1)))).toBe(true);
  });
});

describe('retransmission timeout (RFC 9293 §3.8.1, §3.8.3; RFC 6298 §5)', () => {
  test('ESTABLISHED: unacknowledged data is retransmitted with exponential backoff from RTO 200 ms, capped at 120 s, and after tcp_retries2 = 15 the connection fails with ETIMEDOUT, without a RST (RFC 6298 §5.5; RFC 9293 §3.8.3 MUST-20; Linux tcp_retries2)', () => {
    const c = established();
    expect(c.s.send(bytes(10))).toBe(10);
    const seg = out('PSH+ACK', c.u(1), c.p(1), 10);
    expect(c.flush()).toEqual([seg]);
    const times = [200, 600, 1400, 3000, 6200, 12600, 25400, 51000, 102200, 204600, 324600, 444600, 564600, 684600, 804600];
    expect(c.advanceTimed(924_599)).toEqual(times.map((t) => `${t}ms ${seg}`));
    expect(c.state).toBe('ESTABLISHED');
    expect(c.advanceTimed(1)).toEqual([]);
    expect(c.state).toBe('CLOSED');
    expect(c.s.recv(new Uint8Array(1))).toBe('ETIMEDOUT');
    expect(c.h.tcp.counters.TCPAbortOnTimeout).toBe(1);
  });

  test('ESTABLISHED: config retries2 bounds the retransmissions (RFC 9293 §3.8.3 MUST-20, R2; Linux tcp_retries2)', () => {
    const c = established({ cfg: { retries2: 3 } });
    c.s.send(bytes(10));
    const seg = out('PSH+ACK', c.u(1), c.p(1), 10);
    expect(c.flush()).toEqual([seg]);
    expect(c.advanceTimed(2_999)).toEqual([`200ms ${seg}`, `600ms ${seg}`, `1400ms ${seg}`]);
    expect(c.advance(1)).toEqual([]);
    expect(c.s.takeError()).toBe('ETIMEDOUT');
  });

  test('ESTABLISHED: an ACK of new data ends the backoff: the next loss is retransmitted after the base RTO again (RFC 6298 §5.3, §5.7)', () => {
    const c = established();
    c.s.send(bytes(10));
    c.flush();
    expect(c.advance(600)).toHaveLength(2);
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(11) })).toEqual([]);
    c.s.send(bytes(10));
    expect(c.flush()).toEqual([out('PSH+ACK', c.u(11), c.p(1), 10)]);
    const rto = c.tcb!.rtt.rto / 1000;
    expect(c.advanceTimed(rto)).toEqual([`${600 + rto}ms ${out('PSH+ACK', c.u(11), c.p(1), 10)}`]);
  });

  test('ESTABLISHED: TCP_USER_TIMEOUT ends the connection with ETIMEDOUT when data has been unacknowledged that long, clamping the last backoff (RFC 5482; RFC 9293 §3.8.3 MUST-21; Linux tcp_clamp_rto_to_user_timeout)', () => {
    const c = established({ setup: (s) => expect(s.setOption('userTimeout', 2000)).toBeUndefined() });
    c.s.send(bytes(10));
    const seg = out('PSH+ACK', c.u(1), c.p(1), 10);
    expect(c.flush()).toEqual([seg]);
    expect(c.advanceTimed(1_999)).toEqual([`200ms ${seg}`, `600ms ${seg}`, `1400ms ${seg}`]);
    expect(c.state).toBe('ESTABLISHED');
    expect(c.advance(1)).toEqual([]);
    expect(c.state).toBe('CLOSED');
    expect(c.s.takeError()).toBe('ETIMEDOUT');
  });

  test('ESTABLISHED: TCP_USER_TIMEOUT replaces the tcp_retries2 limit: retransmissions go on until it expires (RFC 5482 §3; Linux tcp_write_timeout)', () => {
    const c = established({ cfg: { retries2: 3 }, setup: (s) => s.setOption('userTimeout', 10_000) });
    c.s.send(bytes(10));
    c.flush();
    expect(c.advance(9_999)).toHaveLength(5); // 0.2, 0.6, 1.4, 3.0, 6.2 s
    expect(c.state).toBe('ESTABLISHED');
    expect(c.advance(1)).toEqual([]);
    expect(c.state).toBe('CLOSED');
  });
});

describe('small windows (RFC 9293 §3.8.6.2.1, §3.8.6.1)', () => {
  test('ESTABLISHED: sender SWS avoidance holds a window-limited runt, and the override timeout sends what fits when nothing is in flight (RFC 9293 §3.8.6.2.1 MUST-38; Linux tcp_write_wakeup)', () => {
    const c = established();
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1), window: 300 })).toEqual([]);
    expect(c.s.send(bytes(1000))).toBe(1000);
    expect(c.flush()).toEqual([]); // 300 < MSS and < half the largest window offered: wait
    expect(c.advanceTimed(200)).toEqual([`200ms ${out('ACK', c.u(1), c.p(1), 300)}`]);
    // The 300-byte runt is acknowledged, so Nagle (with Minshall's refinement, as Linux) lets the
    // 164-byte tail follow the full segment at once.
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(301), window: 65535 })).toEqual([out('ACK', c.u(301), c.p(1), 536), out('PSH+ACK', c.u(837), c.p(1), 164)]);
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(837), window: 65535 })).toEqual([]);
  });

  test('ESTABLISHED: a window that shrinks below what is in flight is survived; the retransmission stays within the new window (RFC 9293 §3.8.6 MUST-34)', () => {
    const c = established({ setup: (s) => s.setOption('noDelay', true) });
    c.s.send(bytes(1000));
    expect(c.flush()).toEqual([out('ACK', c.u(1), c.p(1), 536), out('PSH+ACK', c.u(537), c.p(1), 464)]);
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1), window: 100 })).toEqual([]);
    expect(c.state).toBe('ESTABLISHED');
    expect(c.advanceTimed(200)).toEqual([`200ms ${out('ACK', c.u(1), c.p(1), 100)}`]);
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1001), window: 65535 })).toEqual([]);
    expect(c.tcb!.flight).toBe(0);
  });
});
