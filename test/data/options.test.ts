// Transcripts of the TCP options as used on the data path: MSS (RFC 9293 §3.7.1, RFC 6691),
// window scaling (RFC 7323 §2), timestamps (RFC 7323 §3-5) and SACK as a receiver (RFC 2018,
// RFC 2883 D-SACK). "The peer sends X -> we send Y", in virtual time.
import { describe, expect, test } from 'vitest';
import { Harness, REMOTE } from '../util/tcp-harness.js';
import { seqAdd, type Seq } from '../../src/tcp/seq.js';
import { bytes, drain, establishedWith, fullSyn, Harness6, last, out, sackOf, sendFull, withWin } from './helpers.js';
import { established } from '../tcp/fixtures.js';

/** Our SYN on a harness whose route MTU is `mtu`, with an optional TCP_MAXSEG. */
function ourSyn(mtu: number, maxSegment?: number) {
  const h = new Harness();
  h.ip.mtu = mtu;
  const s = h.sockets.socket();
  if (maxSegment !== undefined) expect(s.setOption('maxSegment', maxSegment)).toBeUndefined();
  s.connect(REMOTE, 80);
  h.flush();
  return h.takeSent()[0]!.seg;
}

describe('MSS (RFC 9293 §3.7.1; RFC 6691)', () => {
  test('the MSS we announce is the interface MTU less the IPv4 and TCP headers (RFC 9293 §3.7.1 MUST-14; RFC 6691 §2)', () => {
    expect(ourSyn(1500).options.mss).toBe(1460);
    expect(ourSyn(9000).options.mss).toBe(8960);
    expect(ourSyn(576).options.mss).toBe(536);
  });

  test('over IPv6 the announced MSS leaves room for the 40-byte IPv6 header (RFC 9293 §3.7.1; RFC 8200 §8.3)', () => {
    const h = new Harness6();
    expect(h.connect({}).syn.options.mss).toBe(1440);
  });

  test('TCP_MAXSEG clamps the MSS we announce and the segments we send (RFC 9293 §3.7.1; Linux tcp(7) TCP_MAXSEG)', () => {
    expect(ourSyn(1500, 1000).options.mss).toBe(1000);
    const c = established({ peerSynOptions: { mss: 1460 }, setup: (s) => s.setOption('maxSegment', 700) });
    c.s.setOption('noDelay', true);
    c.s.send(bytes(1500));
    expect(c.flush()).toEqual([out('ACK', c.u(1), c.p(1), 700), out('ACK', c.u(701), c.p(1), 700), out('PSH+ACK', c.u(1401), c.p(1), 100)]);
  });

  test('without an MSS option from the peer we assume 536 (RFC 9293 §3.7.1 MUST-15)', () => {
    const c = established({ setup: (s) => s.setOption('noDelay', true) });
    c.s.send(bytes(600));
    expect(c.flush()).toEqual([out('ACK', c.u(1), c.p(1), 536), out('PSH+ACK', c.u(537), c.p(1), 64)]);
  });

  test('over IPv6 without an MSS option we assume 1220 (RFC 9293 §3.7.1 MUST-15: "1220 (1280 - 60) for IPv6")', () => {
    const h = new Harness6();
    const { sock } = h.connect({});
    expect(sock.getOption('maxSegment')).toBe(1220);
  });

  test('the effective send MSS is the smaller of the peer\'s MSS and our path, less the options every segment carries: timestamps take 12 bytes (RFC 9293 §3.7.1 "Eff.snd.MSS"; RFC 7323 §3.2)', () => {
    const big = establishedWith({ mss: 9000 });
    expect(big.s.getOption('maxSegment')).toBe(1460); // our 1500-byte path bounds the peer's 9000
    const ts = establishedWith(fullSyn());
    expect(ts.s.getOption('maxSegment')).toBe(1448);
    ts.s.setOption('noDelay', true);
    ts.s.send(bytes(1500));
    ts.h.flush();
    expect(ts.h.takeSent().map((s) => s.seg.payload.length)).toEqual([1448, 52]);
  });

  test('SACK blocks shrink the data in the same segment so the frame still fits the path (RFC 9293 §3.7.1 "the TCP sender ... MUST reduce the size of the data"; Linux tcp_current_mss)', () => {
    const c = establishedWith(fullSyn(), {}, (s) => s.setOption('noDelay', true));
    // The peer's data arrives out of order: we hold it, so our segments carry one SACK block (4 + 8 bytes).
    c.send({ flags: 'ACK', seq: c.p(101), ack: c.u(1), data: 100, options: { timestamp: { tsval: 1001, tsecr: 0 } } });
    c.s.send(bytes(3000));
    c.h.flush();
    const segs = c.h.takeSent().map((s) => s.seg);
    expect(segs.map((s) => s.payload.length)).toEqual([1436, 1436, 128]);
    for (const s of segs) expect(sackOf(c, s)).toEqual([[101, 201]]);
  });
});

describe('window scaling (RFC 7323 §2)', () => {
  test('our SYN offers shift 7 (for the largest receive buffer, 6 MiB); its window field is never scaled (RFC 7323 §2.2, §2.3)', () => {
    const syn = ourSyn(1500);
    expect(syn.options.wscale).toBe(7);
    expect(syn.window).toBeLessThanOrEqual(65535);
    expect(syn.window).toBeGreaterThan(0);
  });

  test('scaling is used only when both SYNs carried the option: without it our windows and the peer\'s are plain 16-bit values (RFC 7323 §2.2 MUST)', () => {
    const c = establishedWith({ mss: 1460 }, { rcvBuf: 1 << 20 });
    expect(c.tcb!.sndWscale).toBe(0);
    expect(c.tcb!.rcvWscale).toBe(0);
    const acks = sendFull(c, { flags: 'ACK', seq: c.p(1), ack: c.u(1), data: 1000, window: 1000 });
    expect(acks.at(-1)!.window).toBe(65535); // 1 MiB of space, but the unscaled field stops at 65535
    expect(c.tcb!.sndWnd).toBe(1000);
  });

  test('with both options the peer\'s window is shifted by its shift, ours by ours; a shift above 14 counts as 14 (RFC 7323 §2.2, §2.3)', () => {
    const c = establishedWith({ mss: 1460, wscale: 2 }, { rcvBuf: 1 << 20 });
    expect(c.tcb!.sndWscale).toBe(2);
    expect(c.tcb!.rcvWscale).toBe(7);
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1), window: 1000 });
    expect(c.tcb!.sndWnd).toBe(4000);
    const acks = sendFull(c, { flags: 'ACK', seq: c.p(1), ack: c.u(1), data: 100, window: 1000 });
    expect(acks.at(-1)!.window).toBe(Math.floor(((1 << 20) - 100) / 128));
    const c15 = establishedWith({ mss: 1460, wscale: 15 });
    expect(c15.tcb!.sndWscale).toBe(14);
  });

  test('the right edge we offer never moves left, even as data fills the buffer unread (RFC 7323 §2.4; RFC 9293 §3.8.6.2.2 SHLD-14)', () => {
    const c = establishedWith(fullSyn(), { rcvBuf: 8192 });
    let edge = seqAdd(c.tcb!.rcvNxt, 0);
    let ts = 1001;
    for (let i = 0; i < 6; i++) {
      const segs = sendFull(c, { flags: 'ACK', seq: c.p(1 + i * 1000), ack: c.u(1), data: 1000, options: { timestamp: { tsval: ts++, tsecr: 0 } } });
      for (const s of segs) {
        const right = seqAdd(s.ack, s.window << 7);
        expect(((right - edge) | 0) >= -127).toBe(true); // at most a rounding unit of the scaled field
        if (((right - edge) | 0) > 0) edge = right;
      }
      expect(((c.tcb!.rcvAdv - edge) | 0) >= 0).toBe(true);
    }
  });
});

describe('timestamps (RFC 7323 §3-5)', () => {
  test('RTTM: an ACK that advances SND.UNA gives an RTT sample from its TSecr (RFC 7323 §4.1, §4.2)', () => {
    const c = establishedWith(fullSyn(5000));
    c.s.send(bytes(10));
    c.flush();
    const sent = last(c);
    const tsval = sent.options.timestamp!.tsval;
    c.h.advance(70);
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(11), options: { timestamp: { tsval: 5070, tsecr: tsval } } });
    // The handshake took no time in the harness (SRTT 0); this sample is 70 ms: SRTT moves 1/8 of
    // the way (RFC 6298 §2.3), 8.75 ms.
    expect(c.tcb!.rtt.srtt).toBe(8750);
    const before = c.tcb!.rtt.srtt;
    // A duplicate ACK (no new data acknowledged) echoing an older TSval gives no sample (RFC 7323 §4.1 RTTM rule).
    c.h.advance(500);
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(11), options: { timestamp: { tsval: 5570, tsecr: tsval } } });
    expect(c.tcb!.rtt.srtt).toBe(before);
  });

  test('TSval is a 1 ms clock plus a per-connection random offset (RFC 7323 §5.4: keyed by the address pair and a secret, as Linux\'s tsoffset)', () => {
    const a = established({ peerSynOptions: fullSyn(), seed: 1 });
    const b = established({ peerSynOptions: fullSyn(), seed: 2 });
    const tsA = a.ourSyn!.options.timestamp!.tsval;
    const tsB = b.ourSyn!.options.timestamp!.tsval;
    // Both SYNs left at virtual time 0: the offsets are all there is, and they differ.
    expect(tsA).not.toBe(tsB);
    a.h.advance(1234);
    a.s.send(bytes(1));
    a.flush();
    expect((last(a).options.timestamp!.tsval - tsA) >>> 0).toBe(1234);
  });

  test('PAWS: a segment whose TSval is older than TS.Recent is acknowledged and its text dropped (RFC 7323 §5.3 R1-R3)', () => {
    const c = establishedWith(fullSyn(1000));
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1), data: 10, options: { timestamp: { tsval: 2000, tsecr: 0 } } })).toEqual([out('ACK', c.u(1), c.p(11))]);
    expect(c.send({ flags: 'ACK', seq: c.p(11), ack: c.u(1), data: 10, options: { timestamp: { tsval: 1500, tsecr: 0 } } })).toEqual([out('ACK', c.u(1), c.p(11))]);
    expect(drain(c.s).data.length).toBe(10);
    expect(c.tcb!.tsRecent).toBe(2000);
  });

  test('PAWS: after 24 days of idleness TS.Recent is invalid and an older TSval is accepted (RFC 7323 §5.5)', () => {
    const c = establishedWith(fullSyn(1000));
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1), data: 10, options: { timestamp: { tsval: 2000, tsecr: 0 } } });
    c.h.advance(24 * 24 * 3600 * 1000 + 1000);
    expect(c.send({ flags: 'ACK', seq: c.p(11), ack: c.u(1), data: 10, options: { timestamp: { tsval: 1500, tsecr: 0 } } })).toEqual([out('ACK', c.u(1), c.p(21))]);
  });

  test('TS.Recent takes the TSval of a segment at or below the last ACK we sent, so the echo covers the earliest unacknowledged segment (RFC 7323 §4.3)', () => {
    const c = establishedWith(fullSyn(1000));
    // Out of order (above RCV.NXT): TS.Recent is not updated.
    c.send({ flags: 'ACK', seq: c.p(101), ack: c.u(1), data: 10, options: { timestamp: { tsval: 3000, tsecr: 0 } } });
    expect(c.tcb!.tsRecent).toBe(1000);
    expect(last(c).options.timestamp!.tsecr).toBe(1000);
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1), data: 100, options: { timestamp: { tsval: 2000, tsecr: 0 } } });
    expect(c.tcb!.tsRecent).toBe(2000);
    expect(last(c).options.timestamp!.tsecr).toBe(2000);
  });

  test('without the option in the peer\'s SYN-ACK, no segment carries timestamps (RFC 7323 §3.2 MUST NOT)', () => {
    const c = establishedWith({ mss: 1460 });
    c.s.send(bytes(10));
    c.flush();
    expect(last(c).options.timestamp).toBeUndefined();
  });
});

describe('SACK as a receiver (RFC 2018; RFC 2883)', () => {
  const ts = (v: number) => ({ timestamp: { tsval: v, tsecr: 0 } });

  test('a hole: the ACK for the out-of-order segment carries a SACK block for it (RFC 2018 §4)', () => {
    const c = establishedWith(fullSyn());
    const [ack] = sendFull(c, { flags: 'ACK', seq: c.p(1001), ack: c.u(1), data: 500, options: ts(1001) });
    expect(withWin(ack!).startsWith(out('ACK', c.u(1), c.p(1)))).toBe(true);
    expect(sackOf(c, ack!)).toEqual([[1001, 1501]]);
  });

  test('several holes: the block of the segment that triggered the ACK first, then the most recent ones, at most 3 beside timestamps (RFC 2018 §3, §4)', () => {
    const c = establishedWith(fullSyn());
    c.send({ flags: 'ACK', seq: c.p(1001), ack: c.u(1), data: 100, options: ts(1001) });
    c.send({ flags: 'ACK', seq: c.p(2001), ack: c.u(1), data: 100, options: ts(1002) });
    c.send({ flags: 'ACK', seq: c.p(3001), ack: c.u(1), data: 100, options: ts(1003) });
    const [a4] = sendFull(c, { flags: 'ACK', seq: c.p(4001), ack: c.u(1), data: 100, options: ts(1004) });
    expect(sackOf(c, a4!)).toEqual([[4001, 4101], [3001, 3101], [2001, 2101]]);
    // More data for the oldest range makes it the most recent.
    const [a5] = sendFull(c, { flags: 'ACK', seq: c.p(1101), ack: c.u(1), data: 100, options: ts(1005) });
    expect(sackOf(c, a5!)).toEqual([[1001, 1201], [4001, 4101], [3001, 3101]]);
  });

  test('without timestamps up to 4 blocks fit (RFC 2018 §3)', () => {
    const c = establishedWith({ mss: 1460, sackPermitted: true });
    for (let i = 1; i <= 5; i++) c.send({ flags: 'ACK', seq: c.p(1 + i * 1000), ack: c.u(1), data: 100 });
    expect(sackOf(c, last(c))).toEqual([[5001, 5101], [4001, 4101], [3001, 3101], [2001, 2101]]);
  });

  test('filling the hole: the cumulative ACK covers everything held and SACK blocks are gone (RFC 2018 §4; RFC 9293 §3.10.7.4)', () => {
    const c = establishedWith(fullSyn());
    c.send({ flags: 'ACK', seq: c.p(101), ack: c.u(1), data: bytes(100, 100), options: ts(1001) });
    const [a] = sendFull(c, { flags: 'ACK', seq: c.p(1), ack: c.u(1), data: bytes(100), options: ts(1002) });
    expect(withWin(a!).startsWith(out('ACK', c.u(1), c.p(201)))).toBe(true);
    expect(a!.options.sack).toBeUndefined();
    expect(drain(c.s).data).toEqual([...bytes(200)]);
  });

  test('D-SACK: a duplicate of data already acknowledged is reported in the first block, below the cumulative ACK (RFC 2883 §4.1.1)', () => {
    const c = establishedWith(fullSyn());
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1), data: 300, options: ts(1001) });
    const [dup] = sendFull(c, { flags: 'ACK', seq: c.p(101), ack: c.u(1), data: 100, options: ts(1002) });
    expect(dup!.ack).toBe(c.p(301));
    expect(sackOf(c, dup!)).toEqual([[101, 201]]);
    // Reported once: the next ACK has no D-SACK block.
    const [next] = sendFull(c, { flags: 'ACK', seq: c.p(301), ack: c.u(1), data: 10, options: ts(1003) });
    void next;
    c.h.advance(200);
    expect(last(c).options.sack).toBeUndefined();
  });

  test('D-SACK: a duplicate of out-of-order data we hold reports the duplicate first, then the block holding it (RFC 2883 §4.1.2)', () => {
    const c = establishedWith(fullSyn());
    c.send({ flags: 'ACK', seq: c.p(1001), ack: c.u(1), data: 500, options: ts(1001) });
    c.send({ flags: 'ACK', seq: c.p(3001), ack: c.u(1), data: 100, options: ts(1002) });
    const [dup] = sendFull(c, { flags: 'ACK', seq: c.p(1101), ack: c.u(1), data: 100, options: ts(1003) });
    expect(sackOf(c, dup!)).toEqual([[1101, 1201], [1001, 1501], [3001, 3101]]);
  });

  test('D-SACK: a segment partly old reports only its old part (RFC 2883 §4.1.1)', () => {
    const c = establishedWith(fullSyn());
    c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1), data: 200, options: ts(1001) });
    const [a] = sendFull(c, { flags: 'ACK', seq: c.p(101), ack: c.u(1), data: 200, options: ts(1002) });
    expect(a!.ack).toBe(c.p(301));
    expect(sackOf(c, a!)).toEqual([[101, 201]]);
  });

  test('no SACK blocks when the peer did not send SACK-permitted (RFC 2018 §2 "MUST NOT be sent")', () => {
    const c = establishedWith({ mss: 1460, timestamp: { tsval: 1, tsecr: 0 } });
    const [a] = sendFull(c, { flags: 'ACK', seq: c.p(1001), ack: c.u(1), data: 100, options: ts(2) });
    expect(a!.options.sack).toBeUndefined();
    expect(c.tcb!.sackOk).toBe(false);
  });

  test('our SYN offers SACK-permitted; the sequence space it describes wraps across 2^32 (RFC 2018 §2; RFC 9293 §3.4)', () => {
    expect(ourSyn(1500).options.sackPermitted).toBe(true);
    const c = established({ peerIss: 0xffff_ff00, peerSynOptions: fullSyn() });
    const [a] = sendFull(c, { flags: 'ACK', seq: c.p(301), ack: c.u(1), data: 100, options: ts(1001) });
    expect(a!.options.sack![0]!.left).toBe(((0xffff_ff00 + 301) >>> 0) as Seq);
    expect(a!.options.sack![0]!.right).toBe(((0xffff_ff00 + 401) >>> 0) as Seq);
  });
});
