// Scenario tests for ending connections (issue 3, "Done when"): the four-way close, half-close
// with data flowing in CLOSE-WAIT, simultaneous close through CLOSING, TIME-WAIT for 2*MSL, the
// abortive close with SO_LINGER {on, 0}, and FIN versus RST.
import { describe, expect, test } from 'vitest';
import { abortLinger0, finVersusRst, fourWayClose, halfClose, simultaneousClose, timeWait } from '../../src/sim/scenarios/close.js';
import { framesWhere, isFin, isPureAck, isRst, stateAt } from '../../src/sim/scenarios/common.js';

const S = 1_000_000;

describe('closing (RFC 9293 §3.6, §3.10.4)', () => {
  test('four-way close: FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT at the closer; CLOSE-WAIT -> LAST-ACK -> CLOSED at the other side', () => {
    const r = fourWayClose();
    expect(r.facts).toMatchObject({
      clientStates: 'SYN-SENT>ESTABLISHED>FIN-WAIT-1>FIN-WAIT-2>TIME-WAIT',
      serverStates: 'LISTEN>SYN-RECEIVED>ESTABLISHED>CLOSE-WAIT>LAST-ACK>CLOSED',
      clientState: 'TIME-WAIT', serverState: 'CLOSED', TimeWaitEntered: 1,
    });
    const s = r.scenario;
    expect(framesWhere(s, 'client', isFin)).toHaveLength(1);
    expect(framesWhere(s, 'server', isFin)).toHaveLength(1);
    expect(framesWhere(s, 'client', isRst)).toHaveLength(0);
    expect(framesWhere(s, 'server', isRst)).toHaveLength(0);
  });

  test('half-close: after the client\'s FIN the server sends 3000 bytes from CLOSE-WAIT and the client receives them all in FIN-WAIT-2', () => {
    const r = halfClose();
    expect(r.facts).toMatchObject({
      requestBytes: 17, responseBytesSentInCloseWait: 3000, responseBytesReceivedInFinWait2: 3000,
      clientStates: 'SYN-SENT>ESTABLISHED>FIN-WAIT-1>FIN-WAIT-2>TIME-WAIT',
      serverStates: 'LISTEN>SYN-RECEIVED>ESTABLISHED>CLOSE-WAIT>LAST-ACK>CLOSED',
    });
    const s = r.scenario;
    const clientFin = framesWhere(s, 'client', isFin)[0]!;
    const afterFin = framesWhere(s, 'server', (seg) => seg.payload.length > 0).filter((f) => f.sentAt > clientFin.arrivedAt!);
    expect(afterFin.reduce((n, f) => n + f.seg.payload.length, 0)).toBe(3000);
  });

  test('simultaneous close: both FIN-WAIT-1 -> CLOSING -> TIME-WAIT (RFC 9293 §3.6 Figure 13)', () => {
    const r = simultaneousClose();
    expect(r.facts).toMatchObject({
      clientStates: 'SYN-SENT>ESTABLISHED>FIN-WAIT-1>CLOSING>TIME-WAIT',
      serverStates: 'LISTEN>SYN-RECEIVED>ESTABLISHED>FIN-WAIT-1>CLOSING>TIME-WAIT',
    });
  });

  test('TIME-WAIT: the retransmitted FIN is re-acknowledged, the 2*MSL timer restarts, and the connection ends exactly 60 s after it', () => {
    const r = timeWait();
    const s = r.scenario;
    const fins = framesWhere(s, 'server', isFin);
    expect(fins).toHaveLength(2);
    const acks = framesWhere(s, 'client', isPureAck);
    const lostAck = acks.find((f) => f.lost !== undefined)!;
    expect(lostAck.sentAt).toBe(fins[0]!.arrivedAt);
    const reAck = acks.find((f) => f.sentAt === fins[1]!.arrivedAt);
    expect(reAck?.lost).toBeUndefined();
    expect(stateAt(s, 'server', 'CLOSED')).toBe(reAck!.arrivedAt);
    const entered = stateAt(s, 'client', 'TIME-WAIT')!;
    const closed = stateAt(s, 'client', 'CLOSED', entered)!;
    expect(closed - fins[1]!.arrivedAt!).toBe(60 * S);
    expect(r.facts).toMatchObject({ secondsAfterLastFin: 60, msl: 30, serverFinsSent: 2 });
  });

  test('abort with SO_LINGER {on, 0}: RST instead of FIN, queued data discarded, ECONNRESET at the peer, no TIME-WAIT', () => {
    const r = abortLinger0();
    expect(r.facts).toMatchObject({ bytesQueued: 16384, serverError: 'ECONNRESET', TCPAbortOnLinger: 1, clientTimeWait: 0 });
    expect(Number(r.facts.bytesDelivered)).toBeLessThan(16384);
    expect(Number(r.facts.bytesDiscarded)).toBe(16384 - Number(r.facts.bytesDelivered));
    const s = r.scenario;
    expect(framesWhere(s, 'client', isFin)).toHaveLength(0);
    const rst = framesWhere(s, 'client', isRst)[0]!;
    expect(rst.seg.flags & 0x14).toBe(0x14); // RST+ACK, <SEQ=SND.NXT>, as Linux's tcp_send_active_reset
  });

  test('FIN versus RST: the same writes and close; FIN ends with EOF and leaves TIME-WAIT, RST ends with ECONNRESET and leaves nothing', () => {
    const r = finVersusRst();
    expect(r.caption).toContain('FIN');
    expect(r.facts).toMatchObject({ bytesDelivered: 3000, serverSaw: 'EOF', clientTimeWait: true });
    // As on Linux, send() puts the 3000 bytes (within the initial window) on the wire before the
    // close, so they arrive ahead of the RST; the reader then gets ECONNRESET instead of EOF.
    expect(r.contrast?.facts).toMatchObject({ bytesDelivered: 3000, serverSaw: 'ECONNRESET', clientTimeWait: false });
    expect(framesWhere(r.contrast!.scenario, 'client', (seg) => seg.payload.length > 0).length).toBeGreaterThan(0);
  });
});
