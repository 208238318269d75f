// netsim: goodput of a bulk transfer over a lossy bottleneck, for each loss rate x RTT x
// congestion-control algorithm, printed next to the Mathis et al. bound (MSS/RTT * 1.22/sqrt(p),
// "The Macroscopic Behavior of the TCP Congestion Avoidance Algorithm", 1997), in the style of
// smoltcp's netsim table. Figures, never pass/fail. Everything runs in virtual time (src/sim), so
// a run is reproducible from its seed and the wall-clock time only measures the simulator.
//
// The path: client -> server through a bottleneck (the client's egress impairer: BANDWIDTH,
// a tail-drop queue of QUEUE_FRAMES frames, random loss p, one-way delay RTT/2); ACKs come back
// with RTT/2 delay and no loss. The client writes as fast as the stack accepts for DURATION of
// virtual time; goodput is what the server's application read, divided by DURATION (slow start
// included).
//
// Today the stack runs its built-in NewReno (src/tcp/input.ts); the modules of
// src/tcp/congestion and src/tcp/recovery are not wired in yet (issue 5, phase 2;
// docs/congestion.md). So only 'newreno' is run, and 'cubic' is printed as "not wired yet" rather
// than with numbers that would not be CUBIC's. Phase 2 sets WIRED.cubic and the TcpConfig field
// `congestion` then chooses.
//
// Run: `npx tsx bench/netsim.ts` (NETSIM_QUICK=1 for a short run); writes bench/results/netsim.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Scenario } from '../src/sim/scenario.js';
import { connectPair } from '../src/sim/scenarios/basic.js';
import { type Duration, micros, seconds } from '../src/time/instant.js';
import type { CongestionAlgorithm } from '../src/tcp/congestion/cc.js';

const LOSS = [0, 0.001, 0.01, 0.05, 0.1];
const RTT_MS = [1, 20, 100];
const ALGORITHMS: CongestionAlgorithm[] = ['newreno', 'cubic'];
/** Which algorithms the stack actually runs today (phase 2 of issue 5 wires cubic). */
const WIRED: Record<CongestionAlgorithm, boolean> = { newreno: true, cubic: false };
const QUICK = process.env['NETSIM_QUICK'] === '1';
/** Bottleneck rate, bits per second. */
const BANDWIDTH = 10_000_000;
/** Bottleneck queue, frames (about one bandwidth-delay product at 100 ms: 10 Mbit/s * 100 ms / 1514 B ~ 83). */
const QUEUE_FRAMES = 64;
const DURATION: Duration = seconds(QUICK ? 5 : 30);
const MTU = 1500;
const SEED = 1;

interface Row { alg: CongestionAlgorithm; loss: number; rttMs: number; goodput?: number; rtos?: number; fastRetrans?: number; retrans?: number; mss?: number }

function run(alg: CongestionAlgorithm, loss: number, rttMs: number): Row {
  const half = micros((rttMs * 1000) / 2);
  const s = new Scenario({
    seed: SEED, mtu: MTU, delay: micros(0),
    tcp: { sndBuf: 4 << 20, rcvBuf: 4 << 20, congestion: alg },
    clientImpair: { bandwidth: BANDWIDTH, overhead: 24, queueFrames: QUEUE_FRAMES, delay: half, loss },
    serverImpair: { delay: half },
  });
  const { client, server } = connectPair(s);
  const chunk = new Uint8Array(256 * 1024);
  const buf = new Uint8Array(1 << 20);
  const start = s.now;
  let got = 0;
  const end = start + DURATION;
  const before = { ...s.client.stack.tcp.counters };
  s.runUntil(() => {
    for (;;) {
      const n = client.send(chunk);
      if (typeof n !== 'number' || n === 0) break;
    }
    for (;;) {
      const n = server.recv(buf);
      if (typeof n !== 'number' || n === 0) break;
      got += n;
    }
    return s.now >= end;
  }, DURATION / 1000 + 1000);
  const c = s.client.stack.tcp.counters;
  const mss = MTU - 40 - 12; // IPv4 + TCP headers + timestamps option
  return {
    alg, loss, rttMs, mss,
    goodput: (got * 8) / ((s.now - start) / 1e6),
    rtos: c.TCPTimeouts - before.TCPTimeouts,
    fastRetrans: c.TCPFastRetrans - before.TCPFastRetrans,
    retrans: c.RetransSegs - before.RetransSegs,
  };
}

/** Mathis et al.: rate <= MSS/RTT * C/sqrt(p), C = sqrt(3/2) ~ 1.22, in bit/s; Infinity without loss. */
function mathis(mss: number, rttMs: number, p: number): number {
  return p === 0 ? Infinity : ((mss * 8) / (rttMs / 1000)) * (1.22 / Math.sqrt(p));
}

const mbit = (bps: number): string => (Number.isFinite(bps) ? (bps / 1e6).toFixed(3) : 'inf');
const rows: Row[] = [];
const t0 = performance.now();
for (const alg of ALGORITHMS) {
  for (const rttMs of RTT_MS) {
    for (const loss of LOSS) {
      rows.push(WIRED[alg] ? run(alg, loss, rttMs) : { alg, loss, rttMs });
    }
  }
}
const wall = (performance.now() - t0) / 1000;

const lines: string[] = [];
lines.push(`# netsim: bulk goodput over a ${BANDWIDTH / 1e6} Mbit/s bottleneck, ${QUEUE_FRAMES}-frame tail-drop queue, MTU ${MTU}, ${DURATION / 1e6} s of virtual time, seed ${SEED}`);
lines.push('');
lines.push('Goodput in Mbit/s (application bytes read by the receiver / duration). Mathis = MSS/RTT * 1.22/sqrt(p), the');
lines.push('loss-limited ceiling of Reno-style congestion avoidance; the link rate caps everything at ' + mbit(BANDWIDTH) + '.');
lines.push('RTOs / fast retransmits / retransmitted segments are the sender\'s counters (TCPTimeouts, TCPFastRetrans, RetransSegs).');
lines.push('');
const header = ['loss', 'RTT ms', 'Mathis', ...ALGORITHMS.map((a) => (WIRED[a] ? `${a} goodput` : `${a} (not wired yet)`)), ...ALGORITHMS.filter((a) => WIRED[a]).map((a) => `${a} RTO/FR/rtx`)];
lines.push(`| ${header.join(' | ')} |`);
lines.push(`|${header.map(() => '---').join('|')}|`);
for (const rttMs of RTT_MS) {
  for (const loss of LOSS) {
    const cells = ALGORITHMS.map((a) => rows.find((r) => r.alg === a && r.rttMs === rttMs && r.loss === loss));
    const mss = cells.find((r) => r?.mss !== undefined)?.mss ?? MTU - 52;
    const row = [
      `${(loss * 100).toFixed(1)}%`, String(rttMs), mbit(Math.min(mathis(mss, rttMs, loss), Infinity)),
      ...cells.map((r) => (r?.goodput === undefined ? '-' : mbit(r.goodput))),
      ...cells.filter((r) => r !== undefined && WIRED[r.alg]).map((r) => `${r?.rtos}/${r?.fastRetrans}/${r?.retrans}`),
    ];
    lines.push(`| ${row.join(' | ')} |`);
  }
}
lines.push('');
lines.push(`(${rows.filter((r) => r.goodput !== undefined).length} runs, ${wall.toFixed(1)} s of wall-clock time)`);
const text = lines.join('\n');
console.log(text);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL(QUICK ? './results/netsim-quick.md' : './results/netsim.md', import.meta.url), text + '\n');
