// The composed controller in a model network (model-net.ts): the behaviours issue 5 asks for,
// checked on the controller's own decisions before it is wired into the stack.
import { describe, expect, test } from 'vitest';
import { millis } from '../../src/time/instant.js';
import { runModel } from './model-net.js';

const MSS = 1000;

describe('CongestionController in a model network', () => {
  test('a clean transfer: slow start, no recovery, no retransmission', () => {
    for (const algorithm of ['newreno', 'cubic'] as const) {
      const r = runModel({ algorithm, bytes: 300 * MSS });
      expect(r.done).toBe(true);
      expect(r.rtos + r.recoveries + r.retransmits).toBe(0);
      expect(r.finalCwnd).toBeGreaterThan(100 * MSS);
      expect(r.states).toEqual(['open']);
    }
  });

  test('one loss with SACK: one fast recovery, one retransmission, cwnd ends at ssthresh (PRR), no RTO', () => {
    const r = runModel({ algorithm: 'newreno', bytes: 300 * MSS, rate: 1_000_000, path: (n) => ({ drop: n === 60 }) });
    expect(r.done).toBe(true);
    expect(r.recoveries).toBe(1);
    expect(r.retransmits).toBe(1);
    expect(r.rtos).toBe(0);
    expect(r.states).toContain('recovery');
  });

  test('one loss without SACK: NewReno fast retransmit and recovery, no RTO', () => {
    const r = runModel({ sack: false, bytes: 300 * MSS, rate: 1_000_000, path: (n) => ({ drop: n === 60 }) });
    expect(r.done).toBe(true);
    expect(r.recoveries).toBe(1);
    expect(r.rtos).toBe(0);
    expect(r.retransmits).toBe(1);
  });

  test('tail loss: RACK-TLP recovers by probe, not by RTO; without RACK-TLP the RTO fires', () => {
    const bytes = 40 * MSS;
    const tail = (_n: number, start: number) => ({ drop: start >= bytes - 2 * MSS && start < bytes });
    let dropped = 0;
    const once = (n: number, start: number, len: number) => {
      const v = tail(n, start);
      if (v.drop && dropped < 2) {
        dropped++;
        return v;
      }
      void len;
      return {};
    };
    const withTlp = runModel({ bytes, path: once });
    expect(withTlp.done).toBe(true);
    expect(withTlp.probes).toBeGreaterThanOrEqual(1);
    expect(withTlp.rtos).toBe(0);
    dropped = 0;
    const withoutTlp = runModel({ bytes, rack: false, path: once });
    expect(withoutTlp.done).toBe(true);
    expect(withoutTlp.rtos).toBeGreaterThanOrEqual(1);
  });

  test('heavy reordering without loss does not collapse the window (RACK reordering window, D-SACK undo)', () => {
    // Every 7th segment is held back 30 ms (1.5 one-way delays): it arrives after later ones.
    const reordered = runModel({ algorithm: 'cubic', bytes: 600 * MSS, rate: 2_000_000, path: (n) => ({ extraDelay: n % 7 === 3 ? millis(30) : (0 as never) }) });
    const clean = runModel({ algorithm: 'cubic', bytes: 600 * MSS, rate: 2_000_000 });
    expect(reordered.done).toBe(true);
    expect(reordered.rtos).toBe(0);
    expect(reordered.finalCwnd).toBeGreaterThanOrEqual(clean.finalCwnd * 0.7);
    expect(reordered.ctl.rack.reorderingSeen).toBe(true);
  });

  test('random loss: RTOs fall from no SACK to SACK to SACK with RACK-TLP', () => {
    const totals = { noSack: 0, sack: 0, rack: 0 };
    for (let seed = 1; seed <= 12; seed++) {
      let x = seed * 2654435761;
      const rnd = (): number => {
        x = (x ^ (x << 13)) >>> 0;
        x = (x ^ (x >>> 17)) >>> 0;
        x = (x ^ (x << 5)) >>> 0;
        return x / 2 ** 32;
      };
      const draws: boolean[] = [];
      const lossy = (n: number) => {
        while (draws.length <= n) draws.push(rnd() < 0.03);
        return { drop: draws[n] === true };
      };
      const common = { bytes: 200 * MSS, rate: 1_000_000, path: lossy };
      totals.noSack += runModel({ ...common, sack: false }).rtos;
      totals.sack += runModel({ ...common, rack: false }).rtos;
      totals.rack += runModel({ ...common }).rtos;
    }
    expect(totals.noSack).toBeGreaterThan(totals.sack);
    expect(totals.sack).toBeGreaterThan(totals.rack);
  });

  test('ECN: CE marks cause one CWR reduction per window and no retransmission', () => {
    const r = runModel({ ecn: true, algorithm: 'cubic', bytes: 300 * MSS, path: (n) => ({ ce: n === 80 || n === 81 }) });
    expect(r.done).toBe(true);
    expect(r.retransmits).toBe(0);
    expect(r.states).toContain('cwr');
    expect(r.ctl.cc.ssthresh).toBeLessThan(0x7fffffff);
  });

  test('a delay spike longer than the RTO: F-RTO finds the timeout spurious and undoes it', () => {
    // The return path stalls from 300 ms to 2 s (a link-layer outage that queues, not drops):
    // every ACK sent then is released at 2 s. Nothing is lost, but the RTO fires (twice, backed off).
    const r = runModel({ bytes: 500 * MSS, rate: 1_000_000, ackDelay: (now) => (now >= millis(300) && now < millis(2000) ? millis(2000) - now : 0) as never });
    expect(r.done).toBe(true);
    expect(r.rtos).toBeGreaterThanOrEqual(1);
    expect(r.undos).toBe(1);
    expect(r.retransmits).toBe(r.rtos); // only the RTO retransmissions of the head: no go-back-N
    expect(r.states).toEqual(['open', 'loss', 'open']);
    expect(r.ctl.cc.ssthresh).toBe(0x7fffffff); // restored
    expect(r.finalCwnd).toBeGreaterThan(100 * MSS);
  });
});

describe('CongestionController, direct', () => {
  test('restart after idle: cwnd back to min(IW, cwnd) after more than an RTO without sending (RFC 5681 §4.1)', async () => {
    const { CongestionController } = await import('../../src/tcp/recovery/controller.js');
    const { RttEstimator } = await import('../../src/tcp/rtt.js');
    const { seq, seqAdd } = await import('../../src/tcp/seq.js');
    const rtt = new RttEstimator();
    rtt.sample(millis(100));
    const una = seq(1);
    const ctl = new CongestionController({ algorithm: 'newreno', mss: MSS, initialCwnd: 10, sndUna: una, sack: true, rack: true, frto: true, ecn: false, slowStartAfterIdle: true, rtt, now: 0 as never });
    for (let i = 0; i < 10; i++) ctl.onTransmit(0 as never, seqAdd(una, i * MSS), MSS);
    for (let i = 1; i <= 10; i++) {
      ctl.onAck(millis(100) as never, { ack: seqAdd(una, i * MSS), sack: [], dupAck: false, ece: false, tsecr: undefined, echoedAt: undefined, rttSample: millis(100), cwndLimited: true, canSendNew: true });
    }
    expect(ctl.cc.cwnd).toBe(20 * MSS);
    expect(ctl.sb.flight).toBe(0);
    expect(ctl.caState).toBe('open');
    ctl.beforeTransmit(millis(300) as never); // idle 300 ms = RTO (300 ms): not more than it
    expect(ctl.cc.cwnd).toBe(20 * MSS);
    ctl.beforeTransmit(millis(301) as never);
    expect(ctl.cc.cwnd).toBe(10 * MSS);
  });
});
