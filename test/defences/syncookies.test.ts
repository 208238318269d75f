// SYN cookies (RFC 4987 §3.6; Linux net/ipv4/syncookies.c): the cookie arithmetic, and
// transcripts of a listener answering SYNs with cookies and rebuilding connections from the ACK.
import { describe, expect, test } from 'vitest';
import { Harness, testRng } from '../util/tcp-harness.js';
import { IpAddr } from '../../src/wire/ip-addr.js';
import { IsnGenerator } from '../../src/tcp/isn.js';
import { type Seq, seq } from '../../src/tcp/seq.js';
import type { Instant } from '../../src/time/instant.js';
import {
  MSSTAB_V4, MSSTAB_V6, SYNCOOKIE_PERIOD_US, checkCookie, cookieTsval, decodeCookieTs, makeCookie, mssIndex,
} from '../../src/tcp/syncookies.js';
import { tsClock } from '../../src/tcp/output.js';
import { CLIENT_PORT, SERVER_PORT, bytes, drain, listening, out } from '../tcp/fixtures.js';
import { flagsToString } from '../../src/wire/tcp.js';

const isn = new IsnGenerator(testRng(5));
const at = (us: number): Instant => us as Instant;

describe('the cookie (Linux secure_tcp_syn_cookie / check_tcp_syn_cookie)', () => {
  const L = IpAddr.from('10.0.0.1');
  const R = IpAddr.from('192.0.2.7');
  const clientIsn = seq(0x12345678);

  test('a cookie checks out for the same 4-tuple and client ISN, and gives back the MSS index', () => {
    for (let i = 0; i < 4; i++) {
      const c = makeCookie(isn, L, 80, R, 40000, clientIsn, i, at(1_000_000));
      expect(checkCookie(isn, MSSTAB_V4, L, 80, R, 40000, clientIsn, c, at(1_000_000))).toBe(i);
    }
  });

  test('a cookie is accepted within two counter periods (1 to 2 minutes) and refused after (Linux MAX_SYNCOOKIE_AGE)', () => {
    const t0 = 10 * SYNCOOKIE_PERIOD_US + 1;
    const c = makeCookie(isn, L, 80, R, 40000, clientIsn, 3, at(t0));
    expect(checkCookie(isn, MSSTAB_V4, L, 80, R, 40000, clientIsn, c, at(t0 + SYNCOOKIE_PERIOD_US))).toBe(3);
    expect(checkCookie(isn, MSSTAB_V4, L, 80, R, 40000, clientIsn, c, at(t0 + 2 * SYNCOOKIE_PERIOD_US))).toBe(-1);
  });

  test('any other 4-tuple, client ISN or a changed bit fails the check', () => {
    const c = makeCookie(isn, L, 80, R, 40000, clientIsn, 2, at(0));
    expect(checkCookie(isn, MSSTAB_V4, L, 80, R, 40001, clientIsn, c, at(0))).toBe(-1);
    expect(checkCookie(isn, MSSTAB_V4, L, 80, IpAddr.from('192.0.2.8'), 40000, clientIsn, c, at(0))).toBe(-1);
    // The client ISN is added, not hashed (as in Linux): an ISN off by a few only moves the MSS
    // index, one off by more fails.
    expect(checkCookie(isn, MSSTAB_V4, L, 80, R, 40000, seq(clientIsn + 0x1000), c, at(0))).toBe(-1);
    // Bits 2-31 are covered by the MAC and the counter; as in Linux, only the 2-bit MSS index can
    // absorb a change in the lowest bits, and then it decodes to another MSS.
    for (let bit = 0; bit < 32; bit++) {
      const got = checkCookie(isn, MSSTAB_V4, L, 80, R, 40000, clientIsn, ((c ^ (1 << bit)) >>> 0) as Seq, at(0));
      if (bit >= 2) expect(got).toBe(-1);
      else expect(got).not.toBe(2);
    }
    // Another host's secret gives other cookies.
    const other = new IsnGenerator(testRng(6));
    expect(checkCookie(other, MSSTAB_V4, L, 80, R, 40000, clientIsn, c, at(0))).toBe(-1);
  });

  test('IPv6 4-tuples work the same way, with Linux\'s IPv6 MSS table', () => {
    const L6 = IpAddr.from('fd00::1');
    const R6 = IpAddr.from('fd00::2');
    expect(MSSTAB_V6).toEqual([1220, 1420, 1440, 8940]);
    const c = makeCookie(isn, L6, 443, R6, 50000, clientIsn, mssIndex(MSSTAB_V6, 1440), at(0));
    expect(MSSTAB_V6[checkCookie(isn, MSSTAB_V6, L6, 443, R6, 50000, clientIsn, c, at(0))]).toBe(1440);
  });

  test('the MSS is rounded down to the table (Linux msstab: 536, 1300, 1440, 1460)', () => {
    expect([100, 536, 1299, 1300, 1452, 1460, 9000].map((m) => MSSTAB_V4[mssIndex(MSSTAB_V4, m)])).toEqual([536, 536, 536, 1300, 1440, 1460, 1460]);
  });

  test('TSval carries window scale and SACK-permitted in its low 6 bits and never runs ahead of the clock (Linux cookie_init_timestamp)', () => {
    for (const now of [0, 12_345_678, 999_999_999]) {
      const off = 0x9abcdef0;
      const ts = cookieTsval(at(now), off, 7, true);
      expect(decodeCookieTs(ts, off)).toEqual({ wscale: 7, sack: true });
      expect(((ts - off - tsClock(at(now))) | 0)).toBeLessThanOrEqual(0);
      expect(((ts - off - tsClock(at(now))) | 0)).toBeGreaterThan(-64);
      expect(decodeCookieTs(cookieTsval(at(now), off, undefined, false), off)).toEqual({ wscale: undefined, sack: false });
    }
  });
});

/** The SYN-ACK we sent in answer to a SYN from `port`, or undefined. */
function synFrom(h: Harness, port: number, seqNo: number, options = {}): ReturnType<Harness['takeSent']>[number] | undefined {
  h.peerSends({ flags: 'SYN', seq: seqNo, srcPort: port, dstPort: SERVER_PORT, options });
  const sent = h.takeSent();
  return sent[0];
}

describe('a listener answering with SYN cookies (Linux tcp_conn_request, cookie_v4_check)', () => {
  const FULL = { mss: 1460, wscale: 9, sackPermitted: true, timestamp: { tsval: 5000, tsecr: 0 } };

  test('tcp_syncookies=2: every SYN gets a cookie SYN-ACK and no state; the ACK alone builds the connection with the options the cookie kept', () => {
    const { h, listener } = listening({ cfg: { syncookies: 2 } });
    const sa = synFrom(h, CLIENT_PORT, 1000, FULL)!;
    expect(flagsToString(sa.seg.flags)).toBe('SYN+ACK');
    expect(sa.seg.ack).toBe(1001);
    // The SYN-ACK offers what the ACK can bring back: MSS, window scale, SACK-permitted, timestamps.
    expect(sa.seg.options.mss).toBe(1460);
    expect(sa.seg.options.wscale).toBe(7);
    expect(sa.seg.options.sackPermitted).toBe(true);
    expect(sa.seg.options.timestamp?.tsecr).toBe(5000);
    expect(h.tcp.connectionCount).toBe(0);
    expect([...h.tcp.allListeners()][0]!.synQueue.size).toBe(0);
    expect(h.tcp.counters.SyncookiesSent).toBe(1);
    const cookie = sa.seg.seq;
    const tsval = sa.seg.options.timestamp!.tsval;
    h.advance(30);
    h.peerSends({ flags: 'ACK', seq: 1001, ack: cookie + 1, srcPort: CLIENT_PORT, options: { timestamp: { tsval: 5030, tsecr: tsval } } });
    expect(h.takeSummary()).toEqual([]);
    expect(h.tcp.counters.SyncookiesRecv).toBe(1);
    const child = listener.accept();
    if (typeof child === 'string') throw new Error(child);
    const t = child.connection!;
    expect(t.state).toBe('ESTABLISHED');
    expect(t.iss).toBe(cookie);
    expect([t.peerMss, t.sndWscale, t.rcvWscale, t.sackOk, t.tsOk, t.tsRecent]).toEqual([1460, 9, 7, true, true, 5030]);
    // Data flows both ways.
    h.peerSends({ flags: 'PSH+ACK', seq: 1001, ack: cookie + 1, srcPort: CLIENT_PORT, data: bytes(10), options: { timestamp: { tsval: 5040, tsecr: tsval } } });
    expect(drain(child).data).toEqual(Array.from(bytes(10)));
    expect(h.takeSummary()).toEqual([out('ACK', cookie + 1, 1011)]); // quick ACK at connection start
    expect(child.send(bytes(5))).toBe(5);
    h.flush();
    expect(h.takeSummary()).toEqual([out('PSH+ACK', cookie + 1, 1011, 5)]);
  });

  test('tcp_syncookies=1: SYNs queue until the SYN queue is full; the next one gets a cookie, counted in TCPReqQFullDoCookies', () => {
    const { h } = listening({ backlog: 2 });
    synFrom(h, CLIENT_PORT, 100);
    synFrom(h, CLIENT_PORT + 1, 200);
    expect(h.tcp.counters.SyncookiesSent).toBe(0);
    const sa = synFrom(h, CLIENT_PORT + 2, 300)!;
    expect(flagsToString(sa.seg.flags)).toBe('SYN+ACK');
    expect(h.tcp.counters.SyncookiesSent).toBe(1);
    expect(h.tcp.counters.TCPReqQFullDoCookies).toBe(1);
    expect(h.tcp.counters.ListenDrops).toBe(0);
    expect(h.tcp.connectionCount).toBe(2);
  });

  test('without timestamps window scale and SACK-permitted are not offered (they could not come back) and the MSS is rounded to the table (Linux tcp_clear_options)', () => {
    const { h, listener } = listening({ cfg: { syncookies: 2 } });
    const sa = synFrom(h, CLIENT_PORT, 7, { mss: 1400, wscale: 7, sackPermitted: true })!;
    expect(sa.seg.options.wscale).toBeUndefined();
    expect(sa.seg.options.sackPermitted ?? false).toBe(false);
    expect(sa.seg.options.timestamp).toBeUndefined();
    h.peerSends({ flags: 'ACK', seq: 8, ack: sa.seg.seq + 1, srcPort: CLIENT_PORT });
    const child = listener.accept();
    if (typeof child === 'string') throw new Error(child);
    const t = child.connection!;
    expect([t.peerMss, t.wsOk, t.sackOk, t.tsOk]).toEqual([1300, false, false, false]);
  });

  test('the ACK may carry the first data: it is delivered with the connection', () => {
    const { h, listener } = listening({ cfg: { syncookies: 2 } });
    const sa = synFrom(h, CLIENT_PORT, 7)!;
    h.peerSends({ flags: 'PSH+ACK', seq: 8, ack: sa.seg.seq + 1, srcPort: CLIENT_PORT, data: bytes(20) });
    const child = listener.accept();
    if (typeof child === 'string') throw new Error(child);
    expect(drain(child).data).toEqual(Array.from(bytes(20)));
    expect(h.takeSummary()).toEqual([out('ACK', sa.seg.seq + 1, 28)]);
  });

  test('an ACK with a wrong cookie is answered <SEQ=SEG.ACK><CTL=RST> and counted in SyncookiesFailed', () => {
    const { h, listener } = listening({ cfg: { syncookies: 2 } });
    const sa = synFrom(h, CLIENT_PORT, 7)!;
    const forged = (sa.seg.seq + 1 + (1 << 20)) >>> 0;
    h.peerSends({ flags: 'ACK', seq: 8, ack: forged, srcPort: CLIENT_PORT });
    expect(h.takeSummary()).toEqual([out('RST', forged)]);
    expect(h.tcp.counters.SyncookiesFailed).toBe(1);
    expect(listener.accept()).toBe('EAGAIN');
  });

  test('a cookie returned after its two counter periods fails (Linux MAX_SYNCOOKIE_AGE)', () => {
    const { h, listener } = listening({ cfg: { syncookies: 2 } });
    h.advanceTo(59_000_000);
    const sa = synFrom(h, CLIENT_PORT, 7)!;
    h.advanceTo(121_000_000);
    h.peerSends({ flags: 'ACK', seq: 8, ack: sa.seg.seq + 1, srcPort: CLIENT_PORT });
    expect(h.takeSummary()).toEqual([out('RST', sa.seg.seq + 1)]);
    expect(h.tcp.counters.SyncookiesFailed).toBe(1);
    expect(listener.accept()).toBe('EAGAIN');
  });

  test('LISTEN: when no cookie was sent in the last two minutes, an ACK is not checked as one: it meets a RST (Linux tcp_synq_no_recent_overflow)', () => {
    const { h } = listening();
    h.peerSends({ flags: 'ACK', seq: 8, ack: 12345, srcPort: CLIENT_PORT });
    expect(h.takeSummary()).toEqual([out('RST', 12345)]);
    expect(h.tcp.counters.SyncookiesFailed).toBe(0);
  });

  test('a valid cookie with the accept queue full is dropped silently and counted in ListenOverflows (Linux tcp_v4_syn_recv_sock)', () => {
    const { h, listener } = listening({ backlog: 0, cfg: { syncookies: 2 } });
    const a = synFrom(h, CLIENT_PORT, 7)!;
    const b = synFrom(h, CLIENT_PORT + 1, 70)!;
    h.peerSends({ flags: 'ACK', seq: 8, ack: a.seg.seq + 1, srcPort: CLIENT_PORT });
    h.peerSends({ flags: 'ACK', seq: 71, ack: b.seg.seq + 1, srcPort: CLIENT_PORT + 1 });
    expect(h.takeSummary()).toEqual([]);
    expect(h.tcp.counters.SyncookiesRecv).toBe(2);
    expect(h.tcp.counters.ListenOverflows).toBe(1);
    expect(h.tcp.connectionCount).toBe(1);
    expect(typeof listener.accept()).not.toBe('string');
  });

  test('tcp_syncookies=0: a full SYN queue drops the SYN, counted in TCPReqQFullDrop and ListenDrops', () => {
    const { h } = listening({ backlog: 1, cfg: { syncookies: 0 } });
    expect(synFrom(h, CLIENT_PORT, 1)).toBeDefined();
    expect(synFrom(h, CLIENT_PORT + 1, 2)).toBeUndefined();
    expect([h.tcp.counters.TCPReqQFullDrop, h.tcp.counters.ListenDrops, h.tcp.counters.SyncookiesSent]).toEqual([1, 1, 0]);
  });

  test('the listener\'s state stays bounded under a flood: 10,000 SYNs from as many sources leave at most backlog half-open connections', () => {
    const { h } = listening({ backlog: 16 });
    for (let i = 0; i < 10_000; i++) {
      const addr = IpAddr.v4(0xc6120000 + i);
      h.ip.pendingDst = addr; // the harness checks our checksums against this peer
      h.peerSends({ flags: 'SYN', seq: i * 7919, srcPort: 1024 + (i % 60000), dstPort: SERVER_PORT }, { addr });
    }
    expect(h.tcp.connectionCount).toBe(16);
    expect([...h.tcp.allListeners()][0]!.synQueue.size).toBe(16);
    expect(h.tcp.counters.SyncookiesSent).toBe(10_000 - 16);
    expect(h.takeSent().length).toBe(10_000); // a SYN-ACK each, from the queue or with a cookie
  });
});
