// Transcripts of the retransmission timer (RFC 6298): the initial RTO, the estimate from the
// first and later samples, Karn's algorithm or timestamps, the configurable minimum and maximum,
// exponential backoff, go-back-N from SND.UNA, and the limits: TCP_USER_TIMEOUT (RFC 5482) and
// tcp_retries2 as Linux computes it, a time rather than a count (retransmits_timed_out).
import { describe, expect, test } from 'vitest';
import { millis } from '../../src/time/instant.js';
import { retransmitLimit } from '../../src/tcp/tcp.js';
import { bytes, established, fullSyn, last, out, synSent } from './helpers.js';

/** ESTABLISHED after a handshake whose RTT was `ms` (the SYN-ACK arrives `ms` after our SYN). */
function afterRtt(ms: number, setup?: Parameters<typeof synSent>[0]) {
  const c = synSent(setup);
  c.h.advance(ms);
  expect(c.send({ flags: 'SYN+ACK', seq: c.p(0), ack: c.u(1) })).toEqual([out('ACK', c.u(1), c.p(1))]);
  return c;
}

describe('the retransmission timeout (RFC 6298)', () => {
  test('before any sample the RTO is 1 s: the SYN is sent again after 1 s, then after 2 s more (RFC 6298 §2.1, §5.5)', () => {
    const c = synSent();
    expect(c.advanceTimed(3000)).toEqual([`1000ms ${out('SYN', c.u(0))}`, `3000ms ${out('SYN', c.u(0))}`]);
  });

  test('the first sample R sets SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR (RFC 6298 §2.2)', () => {
    const c = afterRtt(100);
    const rtt = c.tcb!.rtt;
    expect([rtt.srtt, rtt.rttvar, rtt.rto]).toEqual([100_000, 50_000, 300_000]);
    c.s.send(bytes(10));
    c.flush();
    expect(c.advanceTimed(300)).toEqual([`400ms ${out('PSH+ACK', c.u(1), c.p(1), 10)}`]);
  });

  test('later samples: RTTVAR <- 3/4 RTTVAR + 1/4 |SRTT - R|, then SRTT <- 7/8 SRTT + 1/8 R (RFC 6298 §2.3)', () => {
    const c = afterRtt(100);
    c.s.send(bytes(10));
    c.flush();
    c.h.advance(200);
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(11) });
    const rtt = c.tcb!.rtt;
    expect(rtt.rttvar).toBe(0.75 * 50_000 + 0.25 * 100_000);
    expect(rtt.srtt).toBe(0.875 * 100_000 + 0.125 * 200_000);
    expect(rtt.rto).toBe(112_500 + 4 * 62_500);
  });

  test('Karn: the ACK of a retransmitted segment gives no sample without timestamps, and the backed-off RTO stays until a new measurement (RFC 6298 §3, §5)', () => {
    const c = afterRtt(100);
    c.s.send(bytes(10));
    c.flush();
    c.advance(300); // retransmitted at 400 ms; RTO now 600 ms
    c.h.advance(50);
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(11) });
    expect(c.tcb!.rtt.srtt).toBe(100_000); // unchanged
    expect(c.tcb!.rtt.rto).toBe(600_000);
    // New data, acknowledged 100 ms later: a valid sample collapses the RTO.
    c.s.send(bytes(10));
    c.flush();
    c.h.advance(100);
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(21) });
    // SRTT stays 100 ms, RTTVAR 37.5 ms; like Linux, RTO = SRTT + max(4 RTTVAR, RTO_min) (rtt.ts).
    expect(c.tcb!.rtt.rto).toBe(100_000 + Math.max(4 * 37_500, 200_000));
  });

  test('with timestamps, the ACK of a retransmission gives a sample from the echo of the copy that arrived (RFC 7323 §4; RFC 6298 §3)', () => {
    const c = established({ peerSynOptions: fullSyn() });
    c.s.send(bytes(10));
    c.flush();
    c.advance(200); // the retransmission
    const echo = last(c).options.timestamp!.tsval;
    c.h.advance(30);
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(11), options: { timestamp: { tsval: 2000, tsecr: echo } } });
    expect(c.tcb!.rtt.srtt).toBe(0.875 * 0 + 0.125 * 30_000);
  });

  test('an echo older than our last retransmission is no sample: it names a copy whose ACK was lost, and now - TSecr would count the whole backoff (Deviation from RFC 7323 §4.3, see input.ts)', () => {
    const c = established({ peerSynOptions: fullSyn() });
    c.s.send(bytes(10));
    c.flush();
    const original = last(c).options.timestamp!.tsval;
    c.advance(200); // the retransmission: the original had arrived, its ACK was lost
    c.h.advance(30);
    const before = c.tcb!.rtt.srtt;
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(11), options: { timestamp: { tsval: 2000, tsecr: original } } });
    expect(c.tcb!.rtt.srtt).toBe(before);
    expect(c.tcb!.rtt.backoffCount).toBe(1); // no measurement: the backed-off RTO stays (Karn)
  });

  test('a handshake that needed a retransmitted SYN and gave no valid sample starts data with a 3 s RTO (RFC 6298 §5.7)', () => {
    const c = synSent({ peerSynOptions: fullSyn() });
    const first = c.ourSyn!.options.timestamp!.tsval;
    expect(c.advanceTimed(1000)).toEqual([`1000ms ${out('SYN', c.u(0))}`]);
    // The SYN-ACK answers the first SYN (its echo is the first TSval): ambiguous, no sample.
    c.send({ flags: 'SYN+ACK', seq: c.p(0), ack: c.u(1), options: { ...fullSyn(), timestamp: { tsval: 1, tsecr: first } } });
    expect(c.state).toBe('ESTABLISHED');
    expect(c.tcb!.rtt.srtt).toBeUndefined();
    expect(c.tcb!.rtt.rto).toBe(3_000_000);
  });

  test('the minimum RTO is configurable: Linux uses 200 ms (TCP_RTO_MIN), RFC 6298 §2.4 says 1 s', () => {
    const rfc = established({ cfg: { minRto: millis(1000) } });
    expect(rfc.tcb!.rtt.rto).toBe(1_000_000);
    const fast = established({ cfg: { minRto: millis(50) } });
    fast.s.send(bytes(1));
    fast.flush();
    expect(fast.advanceTimed(50)).toEqual([`50ms ${out('PSH+ACK', fast.u(1), fast.p(1), 1)}`]);
  });

  test('each timeout doubles the RTO, up to the maximum (RFC 6298 §5.5, §2.5: "at least 60 seconds"; here maxRto)', () => {
    const c = established({ cfg: { maxRto: millis(2000) } });
    c.s.send(bytes(10));
    c.flush();
    const seg = out('PSH+ACK', c.u(1), c.p(1), 10);
    expect(c.advanceTimed(9000)).toEqual([200, 600, 1400, 3000, 5000, 7000, 9000].map((t) => `${t}ms ${seg}`));
  });

  test('a timeout sends the earliest unacknowledged segment again, alone: the congestion window is one segment (RFC 6298 §5.4; RFC 5681 §3.1)', () => {
    const c = established({ setup: (s) => s.setOption('noDelay', true) });
    c.s.send(bytes(2000));
    expect(c.flush().length).toBe(4);
    expect(c.advanceTimed(200)).toEqual([`200ms ${out('ACK', c.u(1), c.p(1), 536)}`]);
    expect(c.tcb!.cwnd).toBe(536);
    // What is resent next is the recovery algorithm's choice (issue 5); an ACK of everything ends it.
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(2001) });
    expect(c.tcb!.flight).toBe(0);
  });

  test('our FIN is retransmitted like data, and with the last data when both are unacknowledged (RFC 9293 §3.10.4; RFC 6298 §5.4)', () => {
    const c = established();
    c.s.send(bytes(10));
    c.s.shutdown('write');
    expect(c.flush()).toEqual([out('FIN+PSH+ACK', c.u(1), c.p(1), 10)]);
    expect(c.advanceTimed(200)).toEqual([`200ms ${out('FIN+PSH+ACK', c.u(1), c.p(1), 10)}`]);
    // The ACK of the retransmitted data gives no RTT sample: the backed-off RTO (400 ms) stays (Karn).
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(11) })).toEqual([]);
    expect(c.advanceTimed(400)).toEqual([`600ms ${out('FIN+ACK', c.u(11), c.p(1))}`]);
  });
});

describe('giving up (RFC 9293 §3.8.3; RFC 5482; Linux tcp_retries2)', () => {
  test('tcp_retries2 = 15 is a time, as Linux computes it: what 15 doublings from 200 ms would take with the 120 s cap, 924.6 s (tcp_model_timeout)', () => {
    expect(retransmitLimit(15, 200_000, 120_000_000)).toBe(924_600_000);
    expect(retransmitLimit(8, 200_000, 120_000_000)).toBe(102_200_000);
    expect(retransmitLimit(3, 200_000, 120_000_000)).toBe(3_000_000);
  });

  test('with a long RTO the connection times out after 924.6 s, so after fewer than 15 retransmissions (Linux retransmits_timed_out)', () => {
    const c = afterRtt(334); // RTO 1002 ms
    c.s.send(bytes(10));
    c.flush();
    c.advance(1_000_000);
    expect(c.state).toBe('CLOSED');
    expect(c.s.takeError()).toBe('ETIMEDOUT');
    const rtx = c.h.ip.sent.filter((s) => s.seg.payload.length === 10).length - 1;
    expect(rtx).toBe(13);
  });

  test('an orphan (closed by the application with data unacknowledged) gives up after tcp_orphan_retries = 8, 102.2 s (Linux tcp_orphan_retries)', () => {
    const c = established();
    c.s.send(bytes(10));
    c.flush();
    c.s.close();
    c.advance(102_000);
    expect(c.state).not.toBe('CLOSED');
    c.advance(150_000);
    expect(c.state).toBe('CLOSED');
  });

  test('TCP_USER_TIMEOUT replaces the limit: ETIMEDOUT when data has been unacknowledged that long (RFC 5482 §3; Linux tcp_clamp_rto_to_user_timeout)', () => {
    const c = established({ setup: (s) => s.setOption('userTimeout', 1000) });
    c.s.send(bytes(10));
    c.flush();
    c.advance(999);
    expect(c.state).toBe('ESTABLISHED');
    c.advance(1);
    expect(c.state).toBe('CLOSED');
    expect(c.s.takeError()).toBe('ETIMEDOUT');
  });
});
