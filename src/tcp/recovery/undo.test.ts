import { describe, expect, test } from 'vitest';
import type { Instant } from '../../time/instant.js';
import { seq } from '../seq.js';
import { NewReno } from '../congestion/newreno.js';
import { Cubic } from '../congestion/cubic.js';
import { Frto, Undo } from './undo.js';

const MSS = 1000;
const T = 0 as Instant;
const P = (i: number) => seq(1000 * i);

/** A NewReno connection at cwnd 20 (ssthresh 12 from an earlier loss) that has just entered fast recovery (ssthresh 10, cwnd 13). */
function reduced(): { cc: NewReno; undo: Undo } {
  const cc = new NewReno({ mss: MSS, initialCwnd: 20, now: T });
  cc.ssthresh = 12 * MSS;
  const undo = new Undo();
  undo.begin(P(1), cc.cwnd, cc.ssthresh, false);
  cc.ssthresh = cc.ssthreshOnLoss(20 * MSS, T);
  cc.cwnd = cc.ssthresh + 3 * MSS;
  return { cc, undo };
}

describe('undo of a spurious reduction (Linux tcp_try_undo_*, RFC 2883/3708, RFC 3522)', () => {
  test('D-SACKs for every retransmission undo the reduction: cwnd and ssthresh as before', () => {
    const { cc, undo } = reduced();
    undo.onRetransmit(1, undefined);
    undo.onRetransmit(1, undefined);
    expect(undo.mayUndo(undefined)).toBe(false);
    undo.onDsack({ start: P(1), end: P(2) }, MSS);
    expect(undo.mayUndo(undefined)).toBe(false); // one retransmission still in question
    undo.onDsack({ start: P(4), end: P(5) }, MSS);
    expect(undo.mayUndo(undefined)).toBe(true);
    undo.undo(cc);
    expect(cc.cwnd).toBe(20 * MSS);
    // ssthresh returns to Linux's tcp_current_ssthresh: at least 3/4 of the prior cwnd.
    expect(cc.ssthresh).toBe(15 * MSS);
    // Inside a reduction (CWR, Recovery) the prior ssthresh is kept as it was.
    const again = new Undo();
    again.begin(P(1), 20 * MSS, 12 * MSS, true);
    expect(again.priorSsthresh).toBe(12 * MSS);
    expect(undo.mayUndo(undefined)).toBe(false);
  });

  test('a D-SACK for data from before the episode, or before any retransmission, undoes nothing', () => {
    const { undo } = reduced();
    undo.onDsack({ start: P(1), end: P(2) }, MSS);
    expect(undo.retrans).toBeUndefined();
    undo.onRetransmit(1, undefined);
    undo.onDsack({ start: P(0), end: P(1) }, MSS);
    expect(undo.mayUndo(undefined)).toBe(false);
  });

  test('Eifel: an ACK echoing a TSval older than the first retransmission acknowledges the original', () => {
    const { cc, undo } = reduced();
    undo.onRetransmit(1, 5000);
    undo.onRetransmit(1, 5010);
    expect(undo.ackedOriginal(4990)).toBe(true);
    expect(undo.ackedOriginal(5000)).toBe(false);
    expect(undo.ackedOriginal(undefined)).toBe(false);
    // Timestamps wrap like sequence numbers.
    const w = new Undo();
    w.begin(P(1), 0, 0, false);
    w.onRetransmit(1, 5);
    expect(w.ackedOriginal(0xfffffff0)).toBe(true);
    expect(undo.mayUndo(4990)).toBe(true);
    undo.undo(cc);
    expect(cc.cwnd).toBe(20 * MSS);
  });

  test('undo with CUBIC restores W_max and the epoch (RFC 9438 §4.9)', () => {
    const cc = new Cubic({ mss: MSS, initialCwnd: 10, now: T });
    cc.cwnd = 50 * MSS;
    const undo = new Undo();
    undo.begin(P(1), cc.cwnd, cc.ssthresh, false);
    cc.ssthresh = cc.ssthreshOnLoss(cc.cwnd, T);
    cc.cwnd = cc.ssthresh;
    expect(cc.wMax).toBe(50);
    undo.onRetransmit(1, undefined);
    undo.onDsack({ start: P(1), end: P(2) }, MSS);
    undo.undo(cc);
    expect(cc.cwnd).toBe(50 * MSS);
    expect(cc.wMax).toBeUndefined();
  });
});

describe('F-RTO (RFC 5682)', () => {
  // Ten segments P1..P10 outstanding when the RTO fires; P1 is retransmitted.
  const start = (): Frto => {
    const f = new Frto();
    f.onRto(P(11), P(2), true);
    return f;
  };

  test('spurious timeout: the first ACK covers the retransmission, two new segments go out, the second ACK advances', () => {
    const f = start();
    expect(f.onAck({ ack: P(3), advanced: true, dupAck: false, sackedNew: false, canSendNew: true })).toBe('send-new');
    expect(f.onAck({ ack: P(5), advanced: true, dupAck: false, sackedNew: false, canSendNew: true })).toBe('spurious');
    expect(f.step).toBe('off');
  });

  test('real loss: the second ACK is a duplicate (the new segments arrived above a hole): cwnd at most 3 segments', () => {
    const f = start();
    f.onAck({ ack: P(2), advanced: true, dupAck: false, sackedNew: false, canSendNew: true });
    expect(f.onAck({ ack: P(2), advanced: false, dupAck: true, sackedNew: false, canSendNew: true })).toBe('conventional-3');
  });

  test('SACK-enhanced step 3: a duplicate ACK that SACKs never-retransmitted data also shows the timeout spurious', () => {
    const f = start();
    f.onAck({ ack: P(2), advanced: true, dupAck: false, sackedNew: false, canSendNew: true });
    expect(f.onAck({ ack: P(2), advanced: false, dupAck: true, sackedNew: true, canSendNew: true })).toBe('spurious');
  });

  test('step 2a: a duplicate first ACK, one that covers recover, or one short of the retransmission reverts to conventional recovery', () => {
    expect(start().onAck({ ack: P(1), advanced: false, dupAck: true, sackedNew: false, canSendNew: true })).toBe('conventional');
    expect(start().onAck({ ack: P(11), advanced: true, dupAck: false, sackedNew: false, canSendNew: true })).toBe('conventional');
    expect(start().onAck({ ack: seq(1500), advanced: true, dupAck: false, sackedNew: false, canSendNew: true })).toBe('conventional');
  });

  test('without new data to send F-RTO gives up after the first ACK', () => {
    expect(start().onAck({ ack: P(3), advanced: true, dupAck: false, sackedNew: false, canSendNew: false })).toBe('conventional');
  });

  test('not eligible (an RTO during fast recovery): F-RTO stays off', () => {
    const f = new Frto();
    f.onRto(P(11), P(2), false);
    expect(f.onAck({ ack: P(3), advanced: true, dupAck: false, sackedNew: false, canSendNew: true })).toBe('none');
  });
});
