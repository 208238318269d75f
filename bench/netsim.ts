// netsim: goodput of a bulk transfer over a lossy bottleneck, for each loss rate x RTT x
// congestion-control algorithm, printed next to the Mathis et al. bound (MSS/RTT * 1.22/sqrt(p),
// "The Macroscopic Behavior of the TCP Congestion Avoidance Algorithm", 1997), in the style of
// smoltcp's netsim table. Figures, never pass/fail here (test/congestion/netsim.test.ts keeps a
// reduced grid as a golden snapshot). Everything runs in virtual time (src/sim), so a run is
// reproducible from its seed and the wall-clock time only measures the simulator.
//
// The path: client -> server through a bottleneck (the client's egress impairer: BANDWIDTH,
// a tail-drop queue of QUEUE_FRAMES frames, random loss p, one-way delay RTT/2); ACKs come back
// with RTT/2 delay and no loss. The client writes as fast as the stack accepts for the duration
// of virtual time; goodput is what the server's application read, divided by the duration (slow
// start included). Each algorithm is the connection's CongestionController (TcpConfig.congestion,
// src/tcp/recovery/controller.ts) with SACK, RACK-TLP, PRR and undo as configured by default.
//
// Run: `npx tsx bench/netsim.ts` (NETSIM_QUICK=1 for a short run); writes bench/results/netsim.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Scenario } from '../src/sim/scenario.js';
import { connectPair } from '../src/sim/scenarios/common.js';
import { type Duration, micros, seconds } from '../src/time/instant.js';
import type { CongestionAlgorithm } from '../src/tcp/congestion/cc.js';

/** The grid of one netsim table. */
export interface NetsimGrid {
  loss: readonly number[];
  rttMs: readonly number[];
  algorithms: readonly CongestionAlgorithm[];
  /** Virtual time of each transfer. */
  duration: Duration;
}

/** The full grid: loss {0, 0.1, 1, 5, 10}% x RTT {1, 20, 100} ms x {newreno, cubic}, 30 s each. */
export const FULL_GRID: NetsimGrid = { loss: [0, 0.001, 0.01, 0.05, 0.1], rttMs: [1, 20, 100], algorithms: ['newreno', 'cubic'], duration: seconds(30) };
/** Bottleneck rate, bits per second. */
export const BANDWIDTH = 10_000_000;
/** Bottleneck queue, frames (about one bandwidth-delay product at 100 ms: 10 Mbit/s * 100 ms / 1514 B ~ 83). */
export const QUEUE_FRAMES = 64;
const MTU = 1500;
const SEED = 1;

/** One cell of the table: goodput and the sender's loss-recovery counters. */
export interface NetsimRow { alg: CongestionAlgorithm; loss: number; rttMs: number; goodput: number; rtos: number; fastRetrans: number; retrans: number; mss: number }

/** Runs one bulk transfer of the grid. */
export function runNetsim(alg: CongestionAlgorithm, loss: number, rttMs: number, duration: Duration): NetsimRow {
  const half = micros((rttMs * 1000) / 2);
  const s = new Scenario({
    seed: SEED, mtu: MTU, delay: micros(0), recordWire: false,
    tcp: { sndBuf: 4 << 20, rcvBuf: 4 << 20, congestion: alg },
    clientImpair: { bandwidth: BANDWIDTH, overhead: 24, queueFrames: QUEUE_FRAMES, delay: half, loss },
    serverImpair: { delay: half },
  });
  const { client, server } = connectPair(s);
  const chunk = new Uint8Array(256 * 1024);
  const buf = new Uint8Array(1 << 20);
  const start = s.now;
  let got = 0;
  const end = start + duration;
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
  }, duration / 1000 + 1000);
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
export function mathis(mss: number, rttMs: number, p: number): number {
  return p === 0 ? Infinity : ((mss * 8) / (rttMs / 1000)) * (1.22 / Math.sqrt(p));
}

const mbit = (bps: number): string => (Number.isFinite(bps) ? (bps / 1e6).toFixed(3) : 'inf');

/** Runs every cell of `grid`. */
export function runGrid(grid: NetsimGrid): NetsimRow[] {
  const rows: NetsimRow[] = [];
  for (const alg of grid.algorithms) {
    for (const rttMs of grid.rttMs) {
      for (const loss of grid.loss) rows.push(runNetsim(alg, loss, rttMs, grid.duration));
    }
  }
  return rows;
}

/** The table as Markdown (deterministic: no wall-clock figures). */
export function renderTable(grid: NetsimGrid, rows: readonly NetsimRow[]): string {
  const lines: string[] = [];
  lines.push(`# netsim: bulk goodput over a ${BANDWIDTH / 1e6} Mbit/s bottleneck, ${QUEUE_FRAMES}-frame tail-drop queue, MTU ${MTU}, ${grid.duration / 1e6} s of virtual time, seed ${SEED}`);
  lines.push('');
  lines.push('Goodput in Mbit/s (application bytes read by the receiver / duration). Mathis = MSS/RTT * 1.22/sqrt(p), the');
  lines.push('loss-limited ceiling of Reno-style congestion avoidance; the link rate caps everything at ' + mbit(BANDWIDTH) + '.');
  lines.push('RTOs / fast retransmits / retransmitted segments are the sender\'s counters (TCPTimeouts, TCPFastRetrans, RetransSegs).');
  lines.push('');
  const header = ['loss', 'RTT ms', 'Mathis', ...grid.algorithms.map((a) => `${a} goodput`), ...grid.algorithms.map((a) => `${a} RTO/FR/rtx`)];
  lines.push(`| ${header.join(' | ')} |`);
  lines.push(`|${header.map(() => '---').join('|')}|`);
  for (const rttMs of grid.rttMs) {
    for (const loss of grid.loss) {
      const cells = grid.algorithms.map((a) => rows.find((r) => r.alg === a && r.rttMs === rttMs && r.loss === loss));
      const mss = cells.find((r) => r !== undefined)?.mss ?? MTU - 52;
      const row = [
        `${(loss * 100).toFixed(1)}%`, String(rttMs), mbit(mathis(mss, rttMs, loss)),
        ...cells.map((r) => (r === undefined ? '-' : mbit(r.goodput))),
        ...cells.map((r) => (r === undefined ? '-' : `${r.rtos}/${r.fastRetrans}/${r.retrans}`)),
      ];
      lines.push(`| ${row.join(' | ')} |`);
    }
  }
  return lines.join('\n');
}

// The command line: the full grid (NETSIM_QUICK=1: 5 s per cell).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.env['NETSIM_QUICK'] === '1';
  const grid: NetsimGrid = { ...FULL_GRID, duration: quick ? seconds(5) : FULL_GRID.duration };
  const t0 = performance.now();
  const rows = runGrid(grid);
  const wall = (performance.now() - t0) / 1000;
  const text = `${renderTable(grid, rows)}\n\n(${rows.length} runs, ${wall.toFixed(1)} s of wall-clock time)`;
  console.log(text);
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL(quick ? './results/netsim-quick.md' : './results/netsim.md', import.meta.url), text + '\n');
}
