// Table tests of the pure acceptability verdicts (src/tcp/classify.ts): RFC 9293 §3.10.7.4's
// four cases, the RST and SYN checks with and without RFC 5961, the ACK range of RFC 5961 §5.2,
// and PAWS (RFC 7323 §5.3, §5.5).
import { describe, expect, test } from 'vitest';
import {
  type ClassifySeg, type ClassifyTcb, type Verdict, PAWS_IDLE_LIMIT_US, classify, pawsRejects, sequenceAcceptable,
  synRcvdAckAcceptable, synSentAckAcceptable, windowUpdateAllowed, acksNewData, segLength,
} from '../../src/tcp/classify.js';
import { type Seq, seq } from '../../src/tcp/seq.js';
import type { TcpState } from '../../src/tcp/state.js';
import type { Instant } from '../../src/time/instant.js';
import { TcpFlag } from '../../src/wire/tcp.js';

const S = (n: number): Seq => seq(n);
const F = TcpFlag;

/** A TCB view: RCV.NXT 1000 with a 100-byte window, SND.UNA 5000, SND.NXT 5100, MAX.SND.WND 1000. */
function tcb(over: Partial<ClassifyTcb> = {}): ClassifyTcb {
  return {
    state: 'ESTABLISHED', rcvNxt: S(1000), rcvWnd: 100, sndUna: S(5000), sndNxt: S(5100), maxSndWnd: 1000,
    tsOk: false, tsRecent: 0, tsRecentAt: 0 as Instant, ...over,
  };
}
function seg(flags: number, s: number, over: Partial<ClassifySeg> = {}): ClassifySeg {
  return { seq: S(s), ack: S(5100), flags, dataLen: 0, tsval: undefined, ...over };
}

describe('the four acceptability cases (RFC 9293 §3.10.7.4)', () => {
  // [segment length, receive window, SEG.SEQ, acceptable]; RCV.NXT = 1000.
  const rows: [string, number, number, number, boolean][] = [
    ['len 0, wnd 0: SEG.SEQ = RCV.NXT', 0, 0, 1000, true],
    ['len 0, wnd 0: SEG.SEQ = RCV.NXT + 1', 0, 0, 1001, false],
    ['len 0, wnd 0: SEG.SEQ = RCV.NXT - 1', 0, 0, 999, false],
    ['len 0, wnd > 0: SEG.SEQ = RCV.NXT', 0, 100, 1000, true],
    ['len 0, wnd > 0: SEG.SEQ = RCV.NXT + RCV.WND - 1', 0, 100, 1099, true],
    ['len 0, wnd > 0: SEG.SEQ = RCV.NXT + RCV.WND', 0, 100, 1100, false],
    ['len 0, wnd > 0: SEG.SEQ = RCV.NXT - 1 (a keepalive probe)', 0, 100, 999, false],
    ['len > 0, wnd 0: even at RCV.NXT', 10, 0, 1000, false],
    ['len > 0, wnd > 0: first octet at RCV.NXT', 10, 100, 1000, true],
    ['len > 0, wnd > 0: first octet at the last window octet', 10, 100, 1099, true],
    ['len > 0, wnd > 0: first octet at the right edge', 10, 100, 1100, false],
    ['len > 0, wnd > 0: old data whose last octet is RCV.NXT', 10, 100, 991, true],
    ['len > 0, wnd > 0: old data ending just before RCV.NXT', 10, 100, 990, false],
    // Deviation (as Linux's tcp_sequence): it fails both tests of the table but carries the window's octets.
    ['len > 0, wnd > 0: a segment covering the whole window is accepted (and trimmed)', 200, 100, 950, true],
  ];
  test.each(rows)('%s (RFC 9293 §3.10.7.4)', (_name, len, wnd, s, ok) => {
    expect(sequenceAcceptable(S(1000), wnd, S(s), len)).toBe(ok);
  });

  test('the window test works across 2^32 (RFC 9293 §3.4, MUST-1)', () => {
    const nxt = S(0xffffffc0);
    expect(sequenceAcceptable(nxt, 0x80, S(0x10), 1)).toBe(true);
    expect(sequenceAcceptable(nxt, 0x80, S(0x40), 1)).toBe(false);
    expect(sequenceAcceptable(nxt, 0x80, S(0xffffffbf), 2)).toBe(true);
    expect(sequenceAcceptable(nxt, 0x80, S(0xffffffbf), 1)).toBe(false);
  });

  test('SEG.LEN counts SYN and FIN (RFC 9293 §3.4)', () => {
    expect(segLength(seg(F.SYN, 0))).toBe(1);
    expect(segLength(seg(F.FIN | F.ACK, 0, { dataLen: 5 }))).toBe(6);
    expect(segLength(seg(F.SYN | F.FIN, 0))).toBe(2);
  });
});

describe('classify(): verdicts in synchronized states (RFC 9293 §3.10.7.4; RFC 5961)', () => {
  // [name, tcb overrides, segment, verdict with RFC 5961, verdict without]
  const rows: [string, Partial<ClassifyTcb>, ClassifySeg, Verdict, Verdict][] = [
    ['in-window data with an acceptable ACK', {}, seg(F.ACK, 1000, { dataLen: 10 }), 'accept', 'accept'],
    ['a pure ACK at RCV.NXT with a zero window is processed (MUST-66)', { rcvWnd: 0 }, seg(F.ACK, 1000), 'accept', 'accept'],
    ['data with a zero window is acknowledged and dropped', { rcvWnd: 0 }, seg(F.ACK, 1000, { dataLen: 1 }), 'ack-and-drop', 'ack-and-drop'],
    ['data beyond the window is acknowledged and dropped', {}, seg(F.ACK, 1100, { dataLen: 10 }), 'ack-and-drop', 'ack-and-drop'],
    ['an old duplicate is acknowledged and dropped', {}, seg(F.ACK, 900, { dataLen: 10 }), 'ack-and-drop', 'ack-and-drop'],
    ['a segment without ACK is dropped', {}, seg(0, 1000, { dataLen: 10 }), 'drop', 'drop'],
    ['RST at exactly RCV.NXT resets', {}, seg(F.RST, 1000), 'reset', 'reset'],
    ['RST+ACK at exactly RCV.NXT resets', {}, seg(F.RST | F.ACK, 1000), 'reset', 'reset'],
    ['RST in the window but not at RCV.NXT', {}, seg(F.RST, 1050), 'challenge-ack', 'reset'],
    ['RST at the last window octet', {}, seg(F.RST, 1099), 'challenge-ack', 'reset'],
    ['RST at the right edge is out of window', {}, seg(F.RST, 1100), 'drop', 'drop'],
    ['RST below RCV.NXT is out of window', {}, seg(F.RST, 999), 'drop', 'drop'],
    ['RST at RCV.NXT with a zero window resets (MUST-66)', { rcvWnd: 0 }, seg(F.RST, 1000), 'reset', 'reset'],
    ['RST with an ACK far out of range still resets at RCV.NXT', {}, seg(F.RST | F.ACK, 1000, { ack: S(1) }), 'reset', 'reset'],
    ['SYN in the window', {}, seg(F.SYN, 1050), 'challenge-ack', 'reset'],
    ['SYN at RCV.NXT', {}, seg(F.SYN, 1000), 'challenge-ack', 'reset'],
    ['SYN+ACK below the window (an old SYN-ACK)', {}, seg(F.SYN | F.ACK, 999), 'challenge-ack', 'ack-and-drop'],
    ['SYN beyond the window', {}, seg(F.SYN, 5000), 'challenge-ack', 'ack-and-drop'],
    ['ACK = SND.NXT', {}, seg(F.ACK, 1000, { ack: S(5100) }), 'accept', 'accept'],
    ['ACK > SND.NXT (acknowledges unsent data)', {}, seg(F.ACK, 1000, { ack: S(5101) }), 'challenge-ack', 'ack-and-drop'],
    ['ACK = SND.UNA - MAX.SND.WND (oldest acceptable)', {}, seg(F.ACK, 1000, { ack: S(4000) }), 'accept', 'accept'],
    ['ACK < SND.UNA - MAX.SND.WND', {}, seg(F.ACK, 1000, { ack: S(3999) }), 'challenge-ack', 'accept'],
    ['data with ACK < SND.UNA - MAX.SND.WND (blind data injection)', {}, seg(F.ACK, 1000, { ack: S(1), dataLen: 10 }), 'challenge-ack', 'accept'],
  ];
  test.each(rows)('%s (RFC 9293 §3.10.7.4; RFC 5961 §3.2, §4.2, §5.2)', (_name, over, s, with5961, without) => {
    expect(classify(tcb(over), s, 0 as Instant, true)).toBe(with5961);
    expect(classify(tcb(over), s, 0 as Instant, false)).toBe(without);
  });

  const states: TcpState[] = ['ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT', 'CLOSING', 'LAST-ACK', 'TIME-WAIT'];
  test.each(states)('%s: an in-window SYN gets a challenge ACK, never a reset (RFC 5961 §4.2)', (state) => {
    expect(classify(tcb({ state }), seg(F.SYN, 1010), 0 as Instant, true)).toBe('challenge-ack');
  });

  test('SYN-RECEIVED: an ACK outside SND.UNA..SND.NXT is accepted here; the caller answers it with a reset (RFC 9293 §3.10.7.4 fifth step)', () => {
    const t = tcb({ state: 'SYN-RECEIVED', sndUna: S(5000), sndNxt: S(5001) });
    expect(classify(t, seg(F.ACK, 1000, { ack: S(9999) }), 0 as Instant, true)).toBe('accept');
    expect(synRcvdAckAcceptable(S(5000), S(5001), S(5001))).toBe(true);
    expect(synRcvdAckAcceptable(S(5000), S(5001), S(5000))).toBe(false);
    expect(synRcvdAckAcceptable(S(5000), S(5001), S(5002))).toBe(false);
  });

  test('SYN-RECEIVED: an in-window SYN, with or without ACK, is accepted for the fourth step (which returns a passive child to LISTEN) (RFC 9293 §3.10.7.4 fourth step)', () => {
    const t = tcb({ state: 'SYN-RECEIVED' });
    expect(classify(t, seg(F.SYN, 1010), 0 as Instant, true)).toBe('accept');
    expect(classify(t, seg(F.SYN | F.ACK, 1010), 0 as Instant, true)).toBe('accept');
  });

  test('SYN-RECEIVED: a SYN below the window is acknowledged, not challenged (RFC 9293 §3.10.7.4 first step)', () => {
    const t = tcb({ state: 'SYN-RECEIVED' });
    expect(classify(t, seg(F.SYN, 500), 0 as Instant, true)).toBe('ack-and-drop');
  });
});

describe('ACK checks outside classify() (RFC 9293 §3.10.7.3, §3.10.7.4)', () => {
  test('SYN-SENT: an ACK is acceptable only when ISS < SEG.ACK =< SND.NXT (RFC 9293 §3.10.7.3)', () => {
    const iss = S(0xfffffffe);
    const nxt = S(0xffffffff);
    expect(synSentAckAcceptable(iss, nxt, S(0xffffffff))).toBe(true);
    expect(synSentAckAcceptable(iss, nxt, iss)).toBe(false);
    expect(synSentAckAcceptable(iss, nxt, S(0))).toBe(false);
    expect(synSentAckAcceptable(iss, nxt, S(0xfffffff0))).toBe(false);
  });

  test('SND.UNA < SEG.ACK =< SND.NXT acknowledges new data (RFC 9293 §3.10.7.4 fifth step)', () => {
    expect(acksNewData(S(100), S(200), S(150))).toBe(true);
    expect(acksNewData(S(100), S(200), S(200))).toBe(true);
    expect(acksNewData(S(100), S(200), S(100))).toBe(false);
    expect(acksNewData(S(100), S(200), S(201))).toBe(false);
  });

  test('the window is updated only from newer segments: SND.WL1 < SEG.SEQ, or SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK (RFC 9293 §3.10.7.4 fifth step)', () => {
    expect(windowUpdateAllowed(S(10), S(50), S(11), S(0))).toBe(true);
    expect(windowUpdateAllowed(S(10), S(50), S(10), S(50))).toBe(true);
    expect(windowUpdateAllowed(S(10), S(50), S(10), S(49))).toBe(false);
    expect(windowUpdateAllowed(S(10), S(50), S(9), S(60))).toBe(false);
  });
});

describe('PAWS (RFC 7323 §5.3, §5.5)', () => {
  const ts = (over: Partial<ClassifyTcb> = {}): ClassifyTcb => tcb({ tsOk: true, tsRecent: 1000, tsRecentAt: 0 as Instant, ...over });
  const day = 24 * 3600 * 1_000_000;

  const rows: [string, ClassifySeg, number, Verdict][] = [
    ['TSval < TS.Recent: acknowledged and dropped', seg(F.ACK, 1000, { tsval: 999, dataLen: 10 }), 0, 'ack-and-drop'],
    ['TSval = TS.Recent: accepted', seg(F.ACK, 1000, { tsval: 1000, dataLen: 10 }), 0, 'accept'],
    ['TSval > TS.Recent: accepted', seg(F.ACK, 1000, { tsval: 1001, dataLen: 10 }), 0, 'accept'],
    ['TSval 2^31 ahead of TS.Recent counts as older (modular comparison)', seg(F.ACK, 1000, { tsval: (1000 + 0x80000001) >>> 0 }), 0, 'ack-and-drop'],
    ['PAWS runs before the sequence test: an old TSval in window is still dropped', seg(F.ACK, 1050, { tsval: 1 }), 0, 'ack-and-drop'],
    ['a segment without timestamps is not PAWS-checked', seg(F.ACK, 1000), 0, 'accept'],
    ['a RST is exempt from PAWS', seg(F.RST, 1000, { tsval: 1 }), 0, 'reset'],
    ['idle exactly 24 days: TS.Recent still valid', seg(F.ACK, 1000, { tsval: 999 }), 24 * day, 'ack-and-drop'],
    ['idle more than 24 days: TS.Recent invalid, the segment is accepted', seg(F.ACK, 1000, { tsval: 999 }), 24 * day + 1, 'accept'],
  ];
  test.each(rows)('%s (RFC 7323 §5.3, §5.5)', (_name, s, now, verdict) => {
    expect(classify(ts(), s, now as Instant, true)).toBe(verdict);
  });

  test('PAWS does nothing when timestamps were not negotiated (RFC 7323 §3.2)', () => {
    expect(pawsRejects(tcb({ tsOk: false, tsRecent: 1000 }), seg(F.ACK, 1000, { tsval: 1 }), 0 as Instant)).toBe(false);
    expect(PAWS_IDLE_LIMIT_US).toBe(24 * day);
  });
});
