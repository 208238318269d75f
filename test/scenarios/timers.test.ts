// Scenario tests for the timers of an idle or stalled connection: keep-alive finding a dead peer
// (RFC 1122 §4.2.3.6), zero-window probing (RFC 9293 §3.8.6.1), and fast retransmit before the
// retransmission timer (RFC 5681 §3.2).
import { expect, test } from 'vitest';
import { KEEPALIVE, keepaliveDeadPeer, zeroWindow } from '../../src/sim/scenarios/timers.js';
import { fastRetransmit } from '../../src/sim/scenarios/loss.js';
import { framesWhere, isPureAck } from '../../src/sim/scenarios/common.js';

const S = 1_000_000;

test('keep-alive: probes at idle, idle + intvl, idle + 2 intvl; ETIMEDOUT at idle + cnt x intvl after the peer was last heard', () => {
  const r = keepaliveDeadPeer();
  const heard = Math.round(Number(r.facts.lastHeardAt) * S);
  const probes = framesWhere(r.scenario, 'client', isPureAck).filter((f) => f.sentAt > heard);
  expect(probes.map((f) => f.sentAt - heard)).toEqual([10 * S, 12 * S, 14 * S]);
  // A probe carries SEG.SEQ = SND.NXT - 1 (RFC 1122 §4.2.3.6), so a live peer must answer it.
  const next = framesWhere(r.scenario, 'client', (seg) => seg.payload.length > 0)[0]!;
  expect(probes[0]!.seg.seq).toBe((next.seg.seq + next.seg.payload.length - 1) >>> 0);
  expect(probes.every((f) => f.lost !== undefined)).toBe(true);
  expect(r.facts).toMatchObject({ probesSent: KEEPALIVE.count, error: 'ETIMEDOUT', secondsAfterLastHeard: 16, expectedSeconds: 16 });
});

test('zero window: probes back off 1x, 2x, 4x the RTO; the transfer resumes on the window update and every byte arrives', () => {
  const r = zeroWindow();
  const s = r.scenario;
  expect(r.facts).toMatchObject({ bytesQueued: 16384, bytesDelivered: 16384, probes: 3 });
  const zero = framesWhere(s, 'server', (seg) => seg.window === 0)[0]!;
  const probes = framesWhere(s, 'client', isPureAck).filter((f) => f.sentAt > zero.sentAt && f.sentAt < 3 * S);
  const rto = r.info!.rto * 1000; // the RTO while stalled (at least TCP_RTO_MIN, 200 ms)
  expect(rto).toBeGreaterThanOrEqual(200_000);
  expect(probes[0]!.sentAt - zero.arrivedAt!).toBe(rto);
  expect(probes.slice(1).map((p, i) => p.sentAt - probes[i]!.sentAt)).toEqual([2 * rto, 4 * rto]);
  // Linux's probe: SEG.SEQ = SND.UNA - 1 and no data.
  expect(probes[0]!.seg.seq).toBe((zero.seg.ack - 1) >>> 0);
  for (const p of probes) {
    const answer = framesWhere(s, 'server', (seg) => seg.window === 0).find((f) => f.sentAt === p.arrivedAt);
    expect(answer).toBeDefined();
  }
  expect(r.info?.sndWnd).toBe(0);
  expect(Number(r.facts.dataResumedAt)).toBeGreaterThanOrEqual(3);
});

test('fast retransmit: the lost segment is resent when the third duplicate ACK arrives, well before the RTO, with no timeout', () => {
  const r = fastRetransmit();
  expect(r.facts).toMatchObject({ bytesDelivered: 8 * 1448, dupAcks: 5, TCPFastRetrans: 1, TCPTimeouts: 0 });
  expect(r.facts.retransmittedAt).toBe(r.facts.thirdDupAckArrivedAt);
  expect((Number(r.facts.retransmittedAt) - Number(r.facts.lostSentAt)) * 1000).toBeLessThan(Number(r.facts.rtoMs));
  expect(r.info?.totalRetrans).toBe(1);
});
