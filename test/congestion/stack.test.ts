// Issue 5's "done when" behaviours on the real stack: two Stacks on a Scenario link, CUBIC with
// SACK and RACK-TLP as configured by default (src/tcp/recovery/controller.ts wired through
// src/tcp/tcp.ts). Tail loss recovered by a probe (RFC 8985 §7), reordering that does not collapse
// the window (RFC 8985 §6.2 reordering window, RFC 3522 / D-SACK undo), RTOs falling from NewReno
// to RFC 6675 SACK recovery to RACK-TLP, Jain fairness of CUBIC flows (RFC 9438), ECN (RFC 3168).
import { describe, expect, test } from 'vitest';
import { Scenario } from '../../src/sim/scenario.js';
import { connectPair, listen } from '../../src/sim/scenarios/common.js';
import { millis, type Instant } from '../../src/time/instant.js';
import type { TcpConfig } from '../../src/tcp/config.js';
import type { TcpSocket } from '../../src/api/socket.js';
import type { TraceEvent } from '../../src/trace/events.js';
import { F, bulk, drain, jain, markCe, pump, tcpView } from './stack-util.js';

const MSS = 1448; // 1500 - 20 - 20 - 12 (timestamps)

describe('tail loss', () => {
  test('the last two segments of a burst are lost: a tail loss probe repairs them, no RTO', () => {
    const total = 40 * MSS;
    let isn: number | undefined;
    let dropped = 0;
    const s = new Scenario({
      seed: 1, delay: millis(10), tcp: { sndBuf: 1 << 20 },
      clientImpair: {
        filter: (frame) => {
          const v = tcpView(frame);
          if (v === undefined) return 'pass';
          if ((v.flags & F.SYN) !== 0) isn = v.seq;
          if (isn === undefined || v.payload === 0) return 'pass';
          const end = (v.seq - isn - 1 + v.payload) >>> 0;
          // The first transmission of the last two segments of the transfer.
          if (end > total - 2 * MSS && dropped < 2) {
            dropped++;
            return 'drop';
          }
          return 'pass';
        },
      },
    });
    const { client, server } = connectPair(s);
    const before = { ...s.client.stack.tcp.counters };
    expect(bulk(s, client, server, total, 10_000)).toBe(true);
    const c = s.client.stack.tcp.counters;
    expect(dropped).toBe(2);
    expect(c.TCPLossProbes - before.TCPLossProbes).toBeGreaterThan(0);
    expect(c.TCPTimeouts - before.TCPTimeouts).toBe(0);
    // Repaired well before the 200 ms minimum RTO would have fired after the tail (RTT 20 ms).
    expect(c.RetransSegs - before.RetransSegs).toBeLessThanOrEqual(3);
  });
});

describe('reordering without loss', () => {
  /** A 3 MB transfer over a 20 Mbit/s bottleneck with a queue too deep to overflow; cwnd and counters at the end. */
  const run = (reorder: number) => {
    const s = new Scenario({
      seed: 7, delay: millis(10), tcp: { sndBuf: 4 << 20, rcvBuf: 4 << 20 },
      clientImpair: { bandwidth: 20_000_000, queueFrames: 100_000, reorder, reorderDelay: millis(4) },
    });
    const { client, server } = connectPair(s);
    expect(bulk(s, client, server, 3_000_000, 60_000)).toBe(true);
    const tcb = client.connection!;
    return { cwnd: tcb.cwnd, c: s.client.stack.tcp.counters, stats: s.client.egress.stats, rack: tcb.cc!.rack };
  };

  test('30% of segments held back 4 ms: the window stays within a small factor of the clean run', () => {
    const clean = run(0);
    const reordered = run(0.3);
    expect(reordered.stats.reordered).toBeGreaterThan(100);
    expect(reordered.stats.dropped.queue + reordered.stats.dropped.loss).toBe(0);
    expect(clean.c.RetransSegs).toBe(0);
    console.log(`reordering: cwnd ${reordered.cwnd} vs clean ${clean.cwnd}; retrans ${reordered.c.RetransSegs}, ` +
      `recoveries ${reordered.c.TCPSackRecovery}, D-SACK undo ${reordered.c.TCPDSACKUndo}, spurious RTOs ${reordered.c.TCPSpuriousRTOs}, ` +
      `RTOs ${reordered.c.TCPTimeouts}, RACK reordering seen ${reordered.rack.reorderingSeen}`);
    expect(reordered.c.TCPTimeouts).toBe(0);
    expect(reordered.cwnd).toBeGreaterThanOrEqual(clean.cwnd / 2);
    // Why: RACK saw the reordering and widened its window; any recovery it still entered was undone.
    expect(reordered.rack.reorderingSeen).toBe(true);
    expect(reordered.c.TCPSackRecovery).toBeLessThanOrEqual(reordered.c.TCPDSACKUndo + 2);
  });
});

describe('loss recovery: RTOs with and without SACK and RACK-TLP', () => {
  /** A 400 KB transfer over a 10 Mbit/s, 40 ms RTT path losing 3% of data frames, with the given TCP settings; the sender's counters. */
  const run = (seed: number, tcp: Partial<TcpConfig>) => {
    const s = new Scenario({
      seed, delay: millis(20), tcp: { sndBuf: 1 << 20, ...tcp },
      clientImpair: { bandwidth: 10_000_000, queueFrames: 1000, loss: 0.03 },
    });
    const { client, server } = connectPair(s);
    const before = { ...s.client.stack.tcp.counters };
    expect(bulk(s, client, server, 400_000, 600_000)).toBe(true);
    const c = s.client.stack.tcp.counters;
    return { rtos: c.TCPTimeouts - before.TCPTimeouts, retrans: c.RetransSegs - before.RetransSegs, probes: c.TCPLossProbes - before.TCPLossProbes };
  };

  test('the same seeded lossy transfers: RTOs fall from NewReno to SACK to SACK + RACK-TLP', () => {
    const configs = { 'no SACK (NewReno)': { sack: false }, 'SACK (RFC 6675)': { sack: true, rack: false }, 'SACK + RACK-TLP': { sack: true, rack: true } } as const;
    const totals: number[] = [];
    for (const [name, tcp] of Object.entries(configs)) {
      let rtos = 0;
      let retrans = 0;
      let probes = 0;
      for (let seed = 1; seed <= 6; seed++) {
        const r = run(seed, tcp);
        rtos += r.rtos;
        retrans += r.retrans;
        probes += r.probes;
      }
      console.log(`${name.padEnd(20)} RTOs ${rtos}, retransmitted segments ${retrans}, loss probes ${probes}`);
      totals.push(rtos);
    }
    const [noSack, sack, rack] = totals as [number, number, number];
    expect(noSack).toBeGreaterThanOrEqual(sack);
    expect(sack).toBeGreaterThanOrEqual(rack);
    expect(rack).toBeLessThan(noSack);
  });
});

describe('fairness of CUBIC flows on one bottleneck', () => {
  /**
   * `n` client sockets send as fast as they can through the client's egress (10 Mbit/s, a 64-frame
   * tail-drop queue, 20 ms RTT); each flow's goodput is what its server socket read between the end
   * of the warm-up and the end of the run.
   */
  const run = (n: number, warmupMs: number, measureMs: number): { index: number; mbit: number[] } => {
    const s = new Scenario({
      seed: 3, delay: millis(10), tcp: { sndBuf: 1 << 20, rcvBuf: 1 << 20 },
      clientImpair: { bandwidth: 10_000_000, queueFrames: 64 },
    });
    const listener = listen(s, 80);
    const clients: TcpSocket[] = [];
    for (let i = 0; i < n; i++) {
      const c = s.client.sockets.socket();
      c.connect(s.server.addr, 80);
      clients.push(c);
    }
    const servers: TcpSocket[] = [];
    s.runUntil(() => {
      for (let a = listener.accept(); typeof a !== 'string'; a = listener.accept()) servers.push(a);
      return servers.length === n;
    }, 10_000);
    expect(servers.length).toBe(n);
    // Server sockets in the clients' order (accept order need not match).
    const byPort = new Map(servers.map((sv) => [sv.remotePort, sv]));
    const ordered = clients.map((c) => byPort.get(c.localPort)!);
    const chunk = new Uint8Array(64 * 1024);
    const buf = new Uint8Array(256 * 1024);
    const got = new Array<number>(n).fill(0);
    const start = s.now;
    const measureFrom = (start + warmupMs * 1000) as Instant;
    const end = measureFrom + measureMs * 1000;
    s.runUntil(() => {
      for (let i = 0; i < n; i++) {
        pump(clients[i]!, 0, Infinity, chunk);
        const r = drain(ordered[i]!, buf);
        if (s.now >= measureFrom) got[i]! += r;
      }
      return s.now >= end;
    }, warmupMs + measureMs + 1000);
    const mbit = got.map((b) => (b * 8) / (measureMs * 1000));
    return { index: jain(mbit), mbit };
  };

  test.each([
    [2, 2000, 8000],
    [4, 2000, 8000],
    [16, 2000, 8000],
  ])('%i flows: Jain index >= 0.9', (n, warmupMs, measureMs) => {
    const r = run(n, warmupMs, measureMs);
    console.log(`${n} flows: Jain ${r.index.toFixed(3)}, Mbit/s ${r.mbit.map((x) => x.toFixed(2)).join(' ')}`);
    expect(r.mbit.reduce((a, b) => a + b, 0)).toBeGreaterThan(8); // the bottleneck is used
    expect(r.index).toBeGreaterThanOrEqual(0.9);
  });
});

describe('ECN (RFC 3168)', () => {
  test('negotiated with tcp_ecn = 1; two CE marks in one window: one reduction, ECE echoed until CWR', () => {
    let data = 0;
    const marked: number[] = [];
    const s = new Scenario({
      seed: 5, delay: millis(10), tcp: { sndBuf: 1 << 20 }, clientTcp: { ecn: 1 },
      clientImpair: {
        // An AQM marking two consecutive data segments Congestion Experienced (RFC 3168 §5).
        filter: (frame) => {
          const v = tcpView(frame);
          if (v === undefined || v.payload === 0) return 'pass';
          data++;
          if (data === 30 || data === 31) {
            expect(v.ecn).toBe(2); // ECT(0) on new data
            markCe(frame, v.ip);
            marked.push(v.seq);
          }
          return 'pass';
        },
      },
    });
    const cwnd: Extract<TraceEvent, { kind: 'tcp-cwnd' }>[] = [];
    const { client, server } = connectPair(s);
    const t0 = s.trace.length;
    expect(bulk(s, client, server, 300 * MSS, 20_000)).toBe(true);
    for (const e of s.trace.slice(t0)) if (e.kind === 'tcp-cwnd' && e.stack === 'client') cwnd.push(e);
    const frames = s.wire.map((w) => ({ w, v: tcpView(w.frame) })).filter((x) => x.v !== undefined).map((x) => ({ ...x.w, v: x.v! }));

    // RFC 3168 §6.1.1: an ECN-setup SYN (ECE and CWR) and an ECN-setup SYN-ACK (ECE, not CWR).
    const syn = frames.find((f) => f.from === 'client' && (f.v.flags & F.SYN) !== 0)!;
    const synAck = frames.find((f) => f.from === 'server' && (f.v.flags & F.SYN) !== 0)!;
    expect(syn.v.flags & (F.ECE | F.CWR)).toBe(F.ECE | F.CWR);
    expect(synAck.v.flags & (F.ECE | F.CWR)).toBe(F.ECE);
    expect(marked.length).toBe(2);

    // One reduction: the client entered CWR once, and ssthresh was set once.
    const entries = cwnd.filter((e, i) => e.state === 'cwr' && cwnd[i - 1]?.state !== 'cwr');
    expect(entries.length).toBe(1);
    expect(new Set(cwnd.map((e) => e.ssthresh)).size).toBe(2); // infinite, then the one reduction
    expect(s.client.stack.tcp.counters.RetransSegs).toBe(0);

    // §6.1.3: the receiver sets ECE on every ACK from the CE mark until a CWR segment arrives.
    const cwrSeg = frames.find((f) => f.from === 'client' && (f.v.flags & F.CWR) !== 0 && f.v.payload > 0)!;
    expect(cwrSeg).toBeDefined();
    expect(frames.filter((f) => f.from === 'client' && (f.v.flags & F.CWR) !== 0 && (f.v.flags & F.SYN) === 0).length).toBe(1);
    // Classified by what each ACK acknowledges (many frames share an instant here): no ECE before
    // the CE-marked segment is acknowledged, ECE from then on, none once the CWR segment is.
    const cmp = (x: number, y: number): number => (x - y) | 0;
    const acks = frames.filter((f) => f.from === 'server' && (f.v.flags & F.SYN) === 0);
    const before = acks.filter((f) => cmp(f.v.ack, marked[0]!) <= 0);
    const between = acks.filter((f) => cmp(f.v.ack, marked[0]!) > 0 && cmp(f.v.ack, cwrSeg.v.seq) <= 0);
    const after = acks.filter((f) => cmp(f.v.ack, cwrSeg.v.seq) > 0);
    expect(between.length).toBeGreaterThan(0);
    expect(between.every((f) => (f.v.flags & F.ECE) !== 0)).toBe(true);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((f) => (f.v.flags & F.ECE) === 0)).toBe(true);
    expect(before.every((f) => (f.v.flags & F.ECE) === 0)).toBe(true);
  });

  test('ecn = 2 on both ends (the default): no ECN-setup SYN, no ECT codepoints', () => {
    const s = new Scenario({ seed: 5 });
    const { client, server } = connectPair(s);
    expect(bulk(s, client, server, 20 * MSS, 5_000)).toBe(true);
    const frames = s.wire.map((w) => tcpView(w.frame)).filter((v) => v !== undefined);
    expect(frames.every((v) => v.ecn === 0 && (v.flags & (F.ECE | F.CWR)) === 0)).toBe(true);
  });
});
