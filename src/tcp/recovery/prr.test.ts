import { describe, expect, test } from 'vitest';
import { Prr, type PrrBound } from './prr.js';

const MSS = 1000;
interface Step { delivered: number; advanced?: boolean; lost?: boolean }
/**
 * Drives PRR through a recovery in the way RFC 6937 §5 describes its examples: each ACK delivers
 * `delivered` segments (pipe falls by that much), then the sender sends what the new cwnd allows
 * (pipe rises by that much). Returns, per ACK, the cwnd and the segments sent, in segments.
 */
function drive(bound: PrrBound, ssthresh: number, recoverFs: number, pipe0: number, steps: Step[]): { cwnd: number[]; sent: number[] } {
  const prr = new Prr(bound);
  prr.start(ssthresh * MSS, recoverFs * MSS);
  let pipe = pipe0 * MSS;
  const cwnd: number[] = [];
  const sent: number[] = [];
  for (const s of steps) {
    pipe -= s.delivered * MSS;
    const c = prr.onAck({ delivered: s.delivered * MSS, pipe, sndUnaAdvanced: s.advanced === true, newlyLost: s.lost === true }, MSS);
    if (c === undefined) throw new Error('no cwnd');
    const n = Math.max(0, Math.floor((c - pipe) / MSS));
    prr.onSend(n * MSS);
    pipe += n * MSS;
    cwnd.push(c / MSS);
    sent.push(n);
  }
  return { cwnd, sent };
}
const dupacks = (n: number): Step[] => Array.from({ length: n }, () => ({ delivered: 1 }));

describe('PRR (RFC 6937 §3, as Linux tcp_cwnd_reduction)', () => {
  test('one loss, cwnd = FlightSize = 20, ssthresh = 10: one segment sent per two ACKs, the first being the fast retransmit', () => {
    // RFC 6937 §5 single-loss example: recovery starts at the third duplicate ACK; after limited
    // transmit and marking segment 0 lost, pipe = 22 - 3 SACKed - 1 lost = 18 > ssthresh, so every
    // ACK is in the proportional part: sndcnt = CEIL(prr_delivered * 10 / 20) - prr_out.
    const r = drive('ssrb', 10, 20, 19, dupacks(17));
    expect(r.sent.join()).toBe([1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0].join());
    expect(r.cwnd.join()).toBe([19, 18, 18, 17, 17, 16, 16, 15, 15, 14, 14, 13, 13, 12, 12, 11, 10].join());
    // Over the first 16 ACKs sending is exactly ssthresh/RecoverFS of what was delivered; on the
    // 17th pipe has come down to ssthresh and the reduction bound takes over (nothing more to send).
    expect(r.sent.slice(0, 16).reduce((a, b) => a + b, 0)).toBe((16 * 10) / 20);
  });

  test('15 losses with RFC 6937 SSRB: pipe below ssthresh, so PRR slow-starts back up to it (2 segments per ACK)', () => {
    // RFC 6937 §5 burst example: at the third duplicate ACK pipe = 22 - 3 SACKed - 15 lost = 4.
    const r = drive('ssrb-rfc6937', 10, 20, 5, dupacks(7));
    expect(r.sent).toEqual([2, 2, 2, 2, 2, 1, 1]);
    expect(r.cwnd).toEqual([6, 7, 8, 9, 10, 10, 10]);
  });

  test('15 losses with Linux\'s SSRB: no extra segment on duplicate ACKs, one on ACKs that advance SND.UNA without new loss', () => {
    const r = drive('ssrb', 10, 20, 5, [...dupacks(4), { delivered: 1, advanced: true }, { delivered: 1, advanced: true }, { delivered: 1, advanced: true, lost: true }]);
    expect(r.sent).toEqual([1, 1, 1, 1, 2, 2, 1]);
    expect(r.cwnd).toEqual([5, 5, 5, 5, 6, 7, 7]);
  });

  test('CRB is strict packet conservation below ssthresh', () => {
    const r = drive('crb', 10, 20, 5, [...dupacks(3), { delivered: 2, advanced: true }]);
    expect(r.sent).toEqual([1, 1, 1, 2]);
  });

  test('at least one segment while nothing was sent yet (the fast retransmit), never negative afterwards', () => {
    const prr = new Prr();
    prr.start(10 * MSS, 20 * MSS);
    // pipe far above ssthresh and tiny delivery: the proportional share is 0 but the retransmission goes.
    expect(prr.onAck({ delivered: 10, pipe: 19 * MSS, sndUnaAdvanced: false, newlyLost: false }, MSS)).toBe(20 * MSS);
    prr.onSend(5 * MSS);
    expect(prr.onAck({ delivered: 10, pipe: 19 * MSS, sndUnaAdvanced: false, newlyLost: false }, MSS)).toBe(19 * MSS);
    // An ACK that delivered nothing leaves cwnd alone.
    expect(prr.onAck({ delivered: 0, pipe: 19 * MSS, sndUnaAdvanced: false, newlyLost: false }, MSS)).toBeUndefined();
  });

  test('at the end of the round, the flight has been brought to ssthresh from either side', () => {
    const high = drive('ssrb', 10, 20, 19, dupacks(19));
    expect(high.cwnd.at(-1)).toBe(10);
    const low = drive('ssrb-rfc6937', 10, 20, 5, dupacks(12));
    expect(low.cwnd.at(-1)).toBe(10);
  });
});
