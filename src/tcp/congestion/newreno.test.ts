import { describe, expect, test } from 'vitest';
import type { Instant } from '../../time/instant.js';
import { millis, seconds } from '../../time/instant.js';
import { seq, seqAdd } from '../seq.js';
import { NewReno, NewRenoRecovery } from './newreno.js';
import { INFINITE_SSTHRESH, createCongestionControl, initialWindow, restartWindow } from './cc.js';
import type { AckSample } from './cc.js';

const MSS = 1000;
const T0 = 0 as Instant;
const reno = (): NewReno => new NewReno({ mss: MSS, initialCwnd: 10, now: T0 });
const ack = (acked: number, extra: Partial<AckSample> = {}): AckSample => ({ now: T0, acked, inflight: 0, cwndLimited: true, srtt: undefined, ...extra });

describe('NewReno congestion control (RFC 5681 §3.1, RFC 3465, RFC 6928)', () => {
  test('the initial window is 10 segments and ssthresh starts "arbitrarily high"', () => {
    const cc = reno();
    expect(cc.cwnd).toBe(10 * MSS);
    expect(cc.ssthresh).toBe(INFINITE_SSTHRESH);
    expect(initialWindow(10, 1448)).toBe(14480);
  });

  test('slow start grows by the bytes acknowledged, at most L = 2*SMSS per ACK (RFC 3465 §2.2)', () => {
    const cc = reno();
    cc.congAvoid(ack(MSS));
    expect(cc.cwnd).toBe(11 * MSS);
    cc.congAvoid(ack(500));
    expect(cc.cwnd).toBe(11 * MSS + 500);
    cc.congAvoid(ack(5 * MSS)); // a stretch ACK of five segments counts as two
    expect(cc.cwnd).toBe(13 * MSS + 500);
  });

  test('after an RTO the slow-start limit is 1*SMSS (RFC 3465 §2.3)', () => {
    const cc = reno();
    cc.ssthresh = cc.ssthreshOnLoss(10 * MSS, T0);
    cc.cwnd = MSS;
    cc.setState('loss', T0);
    cc.congAvoid(ack(3 * MSS));
    expect(cc.cwnd).toBe(2 * MSS);
    cc.setState('open', T0);
    cc.congAvoid(ack(3 * MSS));
    expect(cc.cwnd).toBe(4 * MSS);
  });

  test('slow start stops at ssthresh and the rest of the ACK counts toward congestion avoidance', () => {
    const cc = reno();
    cc.ssthresh = 10 * MSS + 300;
    cc.congAvoid(ack(2 * MSS));
    expect(cc.cwnd).toBe(10 * MSS + 300);
    // 1700 bytes were carried into bytes_acked; 10300 - 1700 = 8600 more bytes make one SMSS of growth.
    cc.congAvoid(ack(8599));
    expect(cc.cwnd).toBe(10 * MSS + 300);
    cc.congAvoid(ack(1));
    expect(cc.cwnd).toBe(11 * MSS + 300);
  });

  test('congestion avoidance adds one SMSS per cwnd of acknowledged bytes (RFC 3465 §2.1)', () => {
    const cc = reno();
    cc.ssthresh = 5 * MSS;
    for (let i = 0; i < 9; i++) cc.congAvoid(ack(MSS));
    expect(cc.cwnd).toBe(10 * MSS);
    cc.congAvoid(ack(MSS)); // bytes_acked reaches cwnd = 10000
    expect(cc.cwnd).toBe(11 * MSS);
    for (let i = 0; i < 10; i++) cc.congAvoid(ack(MSS));
    expect(cc.cwnd).toBe(11 * MSS); // needs 11000 now
    cc.congAvoid(ack(MSS));
    expect(cc.cwnd).toBe(12 * MSS);
  });

  test('no growth when the sender is not limited by cwnd (RFC 7661 §4.1)', () => {
    const cc = reno();
    cc.congAvoid(ack(MSS, { cwndLimited: false }));
    expect(cc.cwnd).toBe(10 * MSS);
  });

  test('ssthresh = max(FlightSize/2, 2*SMSS) (RFC 5681 equation 4), from FlightSize, not cwnd', () => {
    const cc = reno();
    expect(cc.ssthreshOnLoss(9 * MSS, T0)).toBe(4500);
    expect(cc.ssthreshOnLoss(3 * MSS, T0)).toBe(2 * MSS);
    cc.cwnd = 100 * MSS;
    expect(cc.ssthreshOnLoss(20 * MSS, T0)).toBe(10 * MSS);
  });

  test('undo restores the larger of the current and the prior cwnd (Linux tcp_reno_undo_cwnd)', () => {
    const cc = reno();
    cc.cwnd = 5 * MSS;
    expect(cc.undoCwnd(12 * MSS)).toBe(12 * MSS);
    expect(cc.undoCwnd(3 * MSS)).toBe(5 * MSS);
  });

  test('restart after idle: cwnd = min(IW, cwnd) only when idle exceeded the RTO (RFC 5681 §4.1)', () => {
    expect(restartWindow(40 * MSS, millis(300), millis(200), 10 * MSS)).toBe(10 * MSS);
    expect(restartWindow(40 * MSS, millis(200), millis(200), 10 * MSS)).toBe(40 * MSS);
    expect(restartWindow(4 * MSS, seconds(5), millis(200), 10 * MSS)).toBe(4 * MSS);
  });

  test('the registry builds algorithms by name and names the choices for an unknown one', () => {
    expect(createCongestionControl('newreno', { mss: MSS, initialCwnd: 10, now: T0 }).name).toBe('newreno');
    expect(createCongestionControl('cubic', { mss: MSS, initialCwnd: 10, now: T0 }).name).toBe('cubic');
    expect(() => createCongestionControl('bbr', { mss: MSS, initialCwnd: 10, now: T0 })).toThrow(/unknown congestion control algorithm 'bbr' \(available: newreno, cubic\)/);
  });
});

describe('NewRenoRecovery (RFC 5681 §3.2, RFC 6582 §3.2, RFC 3042)', () => {
  const ISS = seq(1_000_000);
  const una = seqAdd(ISS, 1);
  // Ten segments outstanding: [una, una + 10 MSS).
  const setup = (): { cc: NewReno; r: NewRenoRecovery; nxt: ReturnType<typeof seqAdd> } => {
    const cc = reno();
    return { cc, r: new NewRenoRecovery(ISS), nxt: seqAdd(una, 10 * MSS) };
  };

  test('limited transmit allows one and then two segments beyond cwnd on the first two duplicate ACKs', () => {
    const { cc, r, nxt } = setup();
    expect(r.limitedTransmitAllowance(MSS)).toBe(0);
    expect(r.onDuplicateAck(cc, { sndUna: una, sndNxt: nxt, flight: 10 * MSS, now: T0 })).toEqual({ kind: 'none' });
    expect(r.limitedTransmitAllowance(MSS)).toBe(MSS);
    r.onDuplicateAck(cc, { sndUna: una, sndNxt: seqAdd(nxt, MSS), flight: 11 * MSS, now: T0 });
    expect(r.limitedTransmitAllowance(MSS)).toBe(2 * MSS);
    expect(cc.cwnd).toBe(10 * MSS); // limited transmit never changes cwnd
  });

  test('the third duplicate ACK: ssthresh from FlightSize without limited-transmit data, cwnd = ssthresh + 3*SMSS', () => {
    const { cc, r, nxt } = setup();
    r.onDuplicateAck(cc, { sndUna: una, sndNxt: nxt, flight: 10 * MSS, now: T0 });
    r.onDuplicateAck(cc, { sndUna: una, sndNxt: seqAdd(nxt, MSS), flight: 11 * MSS, now: T0 });
    const high = seqAdd(nxt, 2 * MSS);
    expect(r.onDuplicateAck(cc, { sndUna: una, sndNxt: high, flight: 12 * MSS, now: T0 })).toEqual({ kind: 'fast-retransmit' });
    expect(cc.ssthresh).toBe(5 * MSS);
    expect(cc.cwnd).toBe(8 * MSS);
    expect(r.recover).toBe(high);
    expect(r.limitedTransmitAllowance(MSS)).toBe(0);
    // Step 4: each further duplicate ACK inflates by one SMSS.
    r.onDuplicateAck(cc, { sndUna: una, sndNxt: high, flight: 12 * MSS, now: T0 });
    r.onDuplicateAck(cc, { sndUna: una, sndNxt: high, flight: 12 * MSS, now: T0 });
    expect(cc.cwnd).toBe(10 * MSS);
  });

  test('partial ACKs deflate by the bytes acknowledged and add back one SMSS; only the first resets the timer', () => {
    const { cc, r, nxt } = setup();
    for (let i = 0; i < 3; i++) r.onDuplicateAck(cc, { sndUna: una, sndNxt: nxt, flight: 10 * MSS, now: T0 });
    for (let i = 0; i < 4; i++) r.onDuplicateAck(cc, { sndUna: una, sndNxt: nxt, flight: 10 * MSS, now: T0 });
    expect(cc.cwnd).toBe(12 * MSS);
    expect(r.onNewAck(cc, { ack: seqAdd(una, 3 * MSS), acked: 3 * MSS, flight: 7 * MSS })).toEqual({ kind: 'partial-ack', resetTimer: true });
    expect(cc.cwnd).toBe(10 * MSS); // 12 - 3 + 1
    // A partial ACK of less than one SMSS adds nothing back.
    expect(r.onNewAck(cc, { ack: seqAdd(una, 3 * MSS + 400), acked: 400, flight: 6600 })).toEqual({ kind: 'partial-ack', resetTimer: false });
    expect(cc.cwnd).toBe(9600);
    expect(r.inRecovery).toBe(true);
    expect(r.dupAcks).toBe(0);
  });

  test('the full ACK ends recovery with cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS)', () => {
    const { cc, r, nxt } = setup();
    for (let i = 0; i < 3; i++) r.onDuplicateAck(cc, { sndUna: una, sndNxt: nxt, flight: 10 * MSS, now: T0 });
    expect(r.onNewAck(cc, { ack: nxt, acked: 10 * MSS, flight: 2 * MSS })).toEqual({ kind: 'full-ack' });
    expect(cc.cwnd).toBe(3 * MSS);
    expect(r.inRecovery).toBe(false);
    // With more in flight (new data sent during recovery), cwnd is capped at ssthresh.
    const b = setup();
    for (let i = 0; i < 3; i++) b.r.onDuplicateAck(b.cc, { sndUna: una, sndNxt: b.nxt, flight: 10 * MSS, now: T0 });
    b.r.onNewAck(b.cc, { ack: b.nxt, acked: 10 * MSS, flight: 8 * MSS });
    expect(b.cc.cwnd).toBe(5 * MSS);
  });

  test('after an RTO, duplicate ACKs for data sent before it do not start a second fast retransmit (RFC 6582 step 2)', () => {
    const { cc, r, nxt } = setup();
    r.onRetransmitTimeout(nxt);
    cc.ssthresh = 5 * MSS;
    cc.cwnd = MSS;
    for (let i = 0; i < 5; i++) expect(r.onDuplicateAck(cc, { sndUna: una, sndNxt: nxt, flight: 10 * MSS, now: T0 }).kind).toBe('none');
    expect(cc.ssthresh).toBe(5 * MSS);
    expect(r.inRecovery).toBe(false);
    // Once SND.UNA is beyond recover, three duplicate ACKs start fast retransmit again.
    r.onNewAck(cc, { ack: seqAdd(nxt, MSS), acked: MSS, flight: 0 });
    const later = seqAdd(nxt, MSS);
    for (let i = 0; i < 2; i++) r.onDuplicateAck(cc, { sndUna: later, sndNxt: seqAdd(later, 4 * MSS), flight: 4 * MSS, now: T0 });
    expect(r.onDuplicateAck(cc, { sndUna: later, sndNxt: seqAdd(later, 4 * MSS), flight: 4 * MSS, now: T0 }).kind).toBe('fast-retransmit');
  });

  test('works with CUBIC too: the algorithm supplies ssthresh (0.7*cwnd), recovery inflates', () => {
    const cc = createCongestionControl('cubic', { mss: MSS, initialCwnd: 20, now: T0 });
    const r = new NewRenoRecovery(ISS);
    const nxt = seqAdd(una, 20 * MSS);
    for (let i = 0; i < 3; i++) r.onDuplicateAck(cc, { sndUna: una, sndNxt: nxt, flight: 20 * MSS, now: T0 });
    expect(cc.ssthresh).toBe(14 * MSS);
    expect(cc.cwnd).toBe(17 * MSS);
  });
});
