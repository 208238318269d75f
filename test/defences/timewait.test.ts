// TIME-WAIT economics: TIME-WAIT as small records (Linux inet_timewait_sock), tcp_max_tw_buckets,
// tcp_tw_reuse, the ISS of a reopened 4-tuple (RFC 6191, RFC 1122 §4.2.2.13), and the
// port-exhaustion story: N ephemeral ports / 2*MSL caps the connection rate.
import { describe, expect, test } from 'vitest';
import { Harness, LOCAL, Pair, REMOTE } from '../util/tcp-harness.js';
import { IpAddr } from '../../src/wire/ip-addr.js';
import { type Duration, type Instant, seconds } from '../../src/time/instant.js';
import type { Seq } from '../../src/tcp/seq.js';
import { TimeWaitTable, timeWaitReusable } from '../../src/tcp/timewait.js';
import { portExhaustion } from '../../src/sim/scenarios/defences.js';
import { SERVER_PORT, finWait2, out, timeWait } from '../tcp/fixtures.js';
import { tsClock } from '../../src/tcp/output.js';

const TS = { timestamp: { tsval: 100, tsecr: 0 } };

describe('TIME-WAIT records (Linux inet_timewait_sock; RFC 9293 §3.10.7.4)', () => {
  test('TIME-WAIT: the connection leaves the demux table for a record holding its 4-tuple; the socket reads TIME-WAIT, then CLOSED after 2*MSL (Linux TW counter)', () => {
    const c = timeWait();
    expect(c.h.tcp.lookup(LOCAL, c.localPort, REMOTE, c.remotePort)).toBeUndefined();
    const rec = c.h.tcp.lookupTimeWait(LOCAL, c.localPort, REMOTE, c.remotePort)!;
    expect([rec.sndNxt, rec.rcvNxt]).toEqual([c.u(2), c.p(2)]);
    expect(c.h.tcp.timeWaitCount).toBe(1);
    expect(c.h.tcp.connectionCount).toBe(1);
    expect(c.s.state).toBe('TIME-WAIT');
    expect([...c.h.tcp.timeWaitEntries()].map((e) => e.localPort)).toEqual([c.localPort]);
    c.h.advance(60_000);
    expect(c.s.state).toBe('CLOSED');
    expect([c.h.tcp.timeWaitCount, c.h.tcp.counters.TW, c.h.tcp.counters.TimeWaitEntered]).toEqual([0, 1, 1]);
  });

  test('TIME-WAIT: each record expires exactly 2*MSL after entry, the stack indexing only the earliest; lowering MSL at run time leaves every expiry exact', () => {
    const h = new Harness();
    const at = (port: number): number => h.tcp.lookupTimeWait(LOCAL, port, REMOTE, SERVER_PORT)!.deadline;
    const a = clientTimeWait(h).port;
    const t0 = h.now;
    expect(at(a)).toBe(t0 + 60e6);
    h.advance(10_000);
    const b = clientTimeWait(h).port;
    h.advance(5_000); // the connections' own (stale) timer entries pass
    // The stack wakes for nothing before the first expiry (no work per waiting record).
    expect(h.tcp.pollAt()).toBe(t0 + 60e6);
    (h.tcp.config as { msl: Duration }).msl = seconds(5); // as a sysctl would, while records wait
    const c = clientTimeWait(h).port;
    expect([at(b), at(c)]).toEqual([t0 + 70e6, t0 + 25e6]);
    h.advance(5_000);
    expect(h.tcp.pollAt()).toBe(t0 + 25e6);
    const expiries: number[] = [];
    for (const port of [c, a, b]) {
      h.advanceTo(at(port) - 1);
      const before = h.tcp.timeWaitCount;
      h.advanceTo(at(port));
      expect(h.tcp.lookupTimeWait(LOCAL, port, REMOTE, SERVER_PORT)).toBeUndefined();
      expiries.push(before - h.tcp.timeWaitCount);
    }
    expect(expiries).toEqual([1, 1, 1]);
    expect(h.tcp.pollAt()).toBeUndefined();
  });

  test('TIME-WAIT: ACKs from the record carry the connection\'s timestamps: our clock in TSval, TS.Recent in TSecr (RFC 7323 §3.2, §4.3)', () => {
    const c = timeWait({ peerSynOptions: TS });
    c.h.advance(1000);
    // The retransmitted FIN lies below RCV.NXT: acknowledged, but it does not move TS.Recent.
    c.h.peerSends({ flags: 'FIN+ACK', seq: c.p(1), ack: c.u(2), srcPort: c.remotePort, dstPort: c.localPort, options: { timestamp: { tsval: 2000, tsecr: 0 } } });
    const ack = c.h.takeSent()[0]!.seg;
    expect([ack.seq, ack.ack, ack.options.timestamp?.tsecr]).toEqual([c.u(2), c.p(2), 100]);
    expect(ack.options.timestamp!.tsval).toBe((tsClock(c.h.now) + c.h.tcp.isnGenerator.tsOffset(LOCAL, REMOTE)) >>> 0);
    // The window is the one the connection last offered (the ACK of the FIN that entered TIME-WAIT).
    const sent = c.h.ip.sent;
    expect(ack.window).toBe(sent[sent.length - 2]!.seg.window);
  });

  test('TIME-WAIT: bare ACKs outside the window are answered at most every 500 ms; a retransmitted FIN always is (Linux tcp_timewait_check_oow_rate_limit)', () => {
    const c = timeWait();
    const far = { flags: 'ACK', seq: c.p(2 + 200_000), ack: c.u(2) };
    expect(c.send(far)).toEqual([out('ACK', c.u(2), c.p(2))]);
    expect(c.send(far)).toEqual([]);
    expect(c.send({ flags: 'FIN+ACK', seq: c.p(1), ack: c.u(2) })).toEqual([out('ACK', c.u(2), c.p(2))]);
    c.h.advance(500);
    expect(c.send(far)).toEqual([out('ACK', c.u(2), c.p(2))]);
  });

  test('TIME-WAIT: a SYN that reopens the 4-tuple gets an ISS beyond the old incarnation: SND.NXT + 65535 + 2 (RFC 1122 §4.2.2.13; Linux TCP_TW_SYN)', () => {
    const c = timeWait({ side: 'server' });
    c.h.peerSends({ flags: 'SYN', seq: c.p(100_000), srcPort: c.remotePort, dstPort: c.localPort });
    const sa = c.h.takeSent()[0]!.seg;
    expect(sa.seq).toBe(c.u(2 + 65537));
    expect(c.state).toBe('SYN-RECEIVED');
  });
});

describe('SYNs meeting a TIME-WAIT record (RFC 6191 §2; Linux tcp_timewait_state_process)', () => {
  test('TIME-WAIT with timestamps: a SYN with the same TSval is not a PAWS failure, and its higher sequence number reopens the 4-tuple (Linux: TCP_TW_SYN when after RCV.NXT or newer TSval)', () => {
    const c = timeWait({ side: 'server', peerSynOptions: TS });
    c.h.peerSends({ flags: 'SYN', seq: c.p(70_000), srcPort: c.remotePort, dstPort: c.localPort, options: { timestamp: { tsval: 100, tsecr: 0 } } });
    expect(c.h.takeSent().map((x) => x.seg.flags)).toEqual([0x12]);
    expect(c.state).toBe('SYN-RECEIVED');
  });

  test('TIME-WAIT without RFC 5961: an in-window SYN gets <SEQ=SND.NXT><CTL=RST,ACK> and the record is deleted (RFC 9293 §3.10.7.4 fourth step)', () => {
    const c = timeWait({ cfg: { rfc5961: false } });
    expect(c.send({ flags: 'SYN', seq: c.p(2) })).toEqual([out('RST+ACK', c.u(2), c.p(2))]);
    expect(c.state).toBe('CLOSED');
  });
});

describe('tcp_max_tw_buckets (Linux tcp_time_wait, TCPTimeWaitOverflow)', () => {
  test('with the table full, a connection that would enter TIME-WAIT acknowledges the FIN, closes at once and is counted', () => {
    const a = finWait2({ cfg: { maxTwBuckets: 0 } });
    expect(a.send({ flags: 'FIN+ACK', seq: a.p(1), ack: a.u(2) })).toEqual([out('ACK', a.u(2), a.p(2))]);
    expect(a.state).toBe('CLOSED');
    expect(a.s.state).toBe('CLOSED');
    expect([a.h.tcp.counters.TCPTimeWaitOverflow, a.h.tcp.timeWaitCount, a.h.tcp.counters.TimeWaitEntered]).toEqual([1, 0, 1]);
    const b = timeWait({ cfg: { maxTwBuckets: 1 } });
    expect([b.state, b.h.tcp.counters.TCPTimeWaitOverflow]).toEqual(['TIME-WAIT', 0]);
  });

  test('two stacks: the second connection to close beyond the bound skips TIME-WAIT, the first keeps its record', () => {
    const p = new Pair(1000, { maxTwBuckets: 1 });
    const srv = p.b.sockets.socket();
    srv.bind(REMOTE, SERVER_PORT);
    srv.listen(8);
    const ports: number[] = [];
    for (let i = 0; i < 2; i++) {
      const c = p.a.sockets.socket();
      c.connect(REMOTE, SERVER_PORT);
      p.advance(10);
      const child = srv.accept();
      if (typeof child === 'string') throw new Error(child);
      c.close();
      p.advance(10);
      child.close();
      p.advance(10);
      ports.push(c.localPort!);
    }
    expect(p.a.tcp.timeWaitCount).toBe(1);
    expect(p.a.tcp.lookupTimeWait(LOCAL, ports[0]!, REMOTE, SERVER_PORT)).toBeDefined();
    expect(p.a.tcp.counters.TCPTimeWaitOverflow).toBe(1);
  });
});

/** A client connection with timestamps that ends in TIME-WAIT on `h`, from `port` if bound. */
function clientTimeWait(h: Harness, ts = true): { port: number; sndNxt: number } {
  const s = h.sockets.socket();
  s.connect(REMOTE, SERVER_PORT);
  h.flush();
  const syn = h.takeSent()[0]!.seg;
  const port = syn.srcPort;
  const u = (n: number) => (syn.seq + n) | 0;
  const opts = ts ? { timestamp: { tsval: 100, tsecr: syn.options.timestamp!.tsval } } : {};
  h.peerSends({ flags: 'SYN+ACK', seq: 5000, ack: u(1), srcPort: SERVER_PORT, dstPort: port, options: opts });
  s.close();
  h.flush();
  h.peerSends({ flags: 'FIN+ACK', seq: 5001, ack: u(2), srcPort: SERVER_PORT, dstPort: port, options: ts ? { timestamp: { tsval: 101, tsecr: 0 } } : {} });
  h.takeSent();
  expect(h.tcp.lookupTimeWait(LOCAL, port, REMOTE, SERVER_PORT)).toBeDefined();
  return { port, sndNxt: u(2) };
}

describe('tcp_tw_reuse (Linux tcp_twsk_unique)', () => {
  const one = { low: 50000, high: 50000 };

  test('tcp_tw_reuse=1: connect() takes over a TIME-WAIT 4-tuple once TS.Recent is over a second old, with ISS = SND.NXT + 65535 + 2 (TWRecycled)', () => {
    const h = new Harness({ portRange: one, twReuse: 1 });
    const tw = clientTimeWait(h);
    expect(h.sockets.socket().connect(REMOTE, SERVER_PORT)).toBe('EADDRNOTAVAIL');
    h.advance(1001);
    const s = h.sockets.socket();
    expect(s.connect(REMOTE, SERVER_PORT)).toBe('EINPROGRESS');
    h.flush();
    const syn = h.takeSent()[0]!.seg;
    expect([syn.srcPort, syn.seq]).toEqual([tw.port, (tw.sndNxt + 65537) | 0]);
    expect([h.tcp.counters.TWRecycled, h.tcp.timeWaitCount]).toEqual([1, 0]);
  });

  test('tcp_tw_reuse=2 (Linux\'s default) reuses only over loopback; 0 never; without timestamps never (the peer\'s PAWS could not tell old segments apart)', () => {
    const h2 = new Harness({ portRange: one });
    clientTimeWait(h2);
    h2.advance(5000);
    expect(h2.sockets.socket().connect(REMOTE, SERVER_PORT)).toBe('EADDRNOTAVAIL');
    const h0 = new Harness({ portRange: one, twReuse: 0 });
    clientTimeWait(h0);
    h0.advance(5000);
    expect(h0.sockets.socket().connect(REMOTE, SERVER_PORT)).toBe('EADDRNOTAVAIL');
    const hn = new Harness({ portRange: one, twReuse: 1 });
    clientTimeWait(hn, false);
    hn.advance(5000);
    expect(hn.sockets.socket().connect(REMOTE, SERVER_PORT)).toBe('EADDRNOTAVAIL');
    // The loopback rule, on the record itself.
    const t = new TimeWaitTable();
    const rec = (local: IpAddr, remote: IpAddr) => t.add({
      id: 1, local, localPort: 1, remote, remotePort: 2, sndNxt: 0 as Seq, rcvNxt: 0 as Seq,
      rcvWnd: 0, rcvWscale: 0, maxSndWnd: 0, tsOk: true, tsRecent: 1, tsRecentAt: 0 as Instant, tsOffset: 0, deadline: 60e6 as Instant,
    });
    const lo = rec(IpAddr.from('127.0.0.1'), IpAddr.from('127.0.0.1'));
    const v6lo = rec(IpAddr.from('::1'), IpAddr.from('::1'));
    const far = rec(LOCAL, REMOTE);
    const now = 2e6 as Instant;
    expect([lo, v6lo, far].map((s) => timeWaitReusable(t, s, 2, false, now))).toEqual([true, true, false]);
    expect(timeWaitReusable(t, far, 1, false, 1e6 as Instant)).toBe(false); // not over a second old
  });

  test('a connect() from an explicitly bound port may take over the TIME-WAIT 4-tuple when it used timestamps, whatever tcp_tw_reuse says (Linux __inet_hash_connect without a TIME-WAIT pointer)', () => {
    const h = new Harness({ twReuse: 0 });
    const tw = clientTimeWait(h);
    const s = h.sockets.socket();
    s.setOption('reuseAddress', true);
    expect(s.bind(LOCAL, tw.port)).toBeUndefined();
    expect(s.connect(REMOTE, SERVER_PORT)).toBe('EINPROGRESS');
    h.flush();
    expect(h.takeSent()[0]!.seg.seq).toBe((tw.sndNxt + 65537) | 0);
    const hn = new Harness();
    const twn = clientTimeWait(hn, false);
    const sn = hn.sockets.socket();
    sn.setOption('reuseAddress', true);
    sn.bind(LOCAL, twn.port);
    expect(sn.connect(REMOTE, SERVER_PORT)).toBe('EADDRNOTAVAIL');
  });
});

describe('port exhaustion (RFC 6056 §2.3; "let the client hold TIME-WAIT")', () => {
  test('one client address, one server port, N = 100 ephemeral ports and 2*MSL = 10 s cap the rate at N/T = 10 connections/s; connect() fails with EADDRNOTAVAIL meanwhile', () => {
    const r = portExhaustion({ runSeconds: 30 });
    console.log(r.lines.join('\n'));
    expect(r.facts.capPerSecond).toBe(10);
    expect(r.facts.measuredPerSecond).toBeGreaterThanOrEqual(9.5);
    expect(r.facts.measuredPerSecond).toBeLessThanOrEqual(10.5);
    expect(r.facts.eaddrnotavail).toBeGreaterThan(0);
    expect([r.facts.clientTimeWaitMax, r.facts.serverTimeWaitMax, r.facts.holder]).toEqual([100, 0, 'client']);
  });

  test('with tcp_tw_reuse=1 the client reuses TIME-WAIT 4-tuples after a second and runs well past the cap', () => {
    const r = portExhaustion({ runSeconds: 10, twReuse: 1 });
    console.log(r.lines.join('\n'));
    expect(r.facts.measuredPerSecond).toBeGreaterThan(5 * (r.facts.capPerSecond as number));
    expect(r.facts.twRecycled).toBeGreaterThan(0);
  });

  test('when the server closes first it holds the TIME-WAIT records, the client\'s ports are free at once, and each new SYN reopens the server\'s record (RFC 6191)', () => {
    const r = portExhaustion({ runSeconds: 10, closer: 'server' });
    console.log(r.lines.join('\n'));
    expect(r.facts.holder).toBe('server');
    expect(r.facts.clientTimeWaitMax).toBe(0);
    expect(r.facts.eaddrnotavail).toBe(0);
    expect(r.facts.measuredPerSecond).toBeGreaterThan(5 * (r.facts.capPerSecond as number));
  });
});

