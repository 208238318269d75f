// Case 4: concurrency. N idle established connections between two synack stacks in one process
// (100,000 by default; 1,000,000 with --full or BENCH_FULL=1): the bytes they hold (V8 heap plus
// array buffers, after forced GCs, minus what the two stacks held before), per connection pair
// (both ends) and per end, and the wall-clock time to open them. The application keeps both
// sockets of each pair, as a server and its clients would; buffers not yet used are not
// allocated (send and receive rings are lazy), so they are not counted, as issue 10 asks.
//
// Connections are opened in batches of 4,096 (each listener's accept queue holds up to its
// backlog); the server listens on one port per 16,000 connections, and the client's ephemeral
// range is 1024-65535, so RFC 6056 port selection never has to search a nearly full range.
import { Pair } from '../harness.js';
import type { TcpSocket } from '../../src/api/socket.js';
import { seconds } from '../../src/time/instant.js';
import { atMost, countText, fromRuns, grouped, memoryNow, secondsSince } from '../stats.js';
import type { BenchCase, CaseContext, ProfileWorkload } from '../types.js';

const BATCH = 4096;
const PER_PORT = 16_000;
const BASE_PORT = 10_000;

/** What opening `n` connections measured. */
export interface IdleRun {
  /** Bytes per connection pair (both ends) and the heap / array-buffer parts. */
  perPair: number;
  heapPerPair: number;
  arrayBuffersPerPair: number;
  /** Wall-clock seconds to open them all (connect, handshake, accept). */
  openSeconds: number;
  /** The stacks and sockets, for a retained-memory profile taken before they are let go. */
  keep: unknown;
}

/** Opens `n` idle connections; measures memory when `measure` (needs --expose-gc). */
export function openIdle(n: number, measure: boolean): IdleRun {
  const p = new Pair({
    clientTcp: { portRange: { low: 1024, high: 65535 } },
    serverTcp: { somaxconn: 65535 },
  });
  const ports = Math.max(1, Math.ceil(n / PER_PORT));
  const listeners = Array.from({ length: ports }, (_, i) => p.listen(BASE_PORT + i, 65535));
  const clients: TcpSocket[] = [];
  const servers: TcpSocket[] = [];
  // Warm the neighbour caches (ARP) before measuring: the first connection pays for them.
  const first = p.connect(listeners[0]!, BASE_PORT);
  first.client.close();
  first.server.close();
  p.sim.advance(seconds(120)); // the warm-up connection's TIME-WAIT passes
  const before = measure ? memoryNow() : undefined;
  const t0 = performance.now();
  let next = 0;
  while (clients.length < n) {
    const batch = Math.min(BATCH, n - clients.length);
    const from = clients.length;
    for (let i = 0; i < batch; i++) {
      const c = p.clientSockets.socket();
      const e = c.connect(p.serverAddr, BASE_PORT + (next++ % ports));
      if (e !== 'EINPROGRESS') throw new Error(`connect #${clients.length}: ${e}`);
      clients.push(c);
    }
    const target = from + batch;
    p.drive(() => {
      for (const l of listeners) {
        for (;;) {
          const a = l.accept();
          if (typeof a === 'string') break;
          servers.push(a);
        }
      }
      return servers.length >= target && p.client.tcp.counters.CurrEstab >= target;
    }, `opening ${grouped(n)} connections`);
  }
  const openSeconds = secondsSince(t0);
  for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 97))) {
    if (clients[i]!.state !== 'ESTABLISHED' || servers[i]!.state !== 'ESTABLISHED') throw new Error(`connection ${i} is not established`);
  }
  // Idle: let every timer from the handshakes (SYN-ACK retransmission deadlines, delayed ACKs)
  // come due and go, so nothing but the connections themselves is counted.
  p.sim.advance(seconds(10));
  let perPair = NaN;
  let heapPerPair = NaN;
  let arrayBuffersPerPair = NaN;
  if (before !== undefined) {
    const after = memoryNow();
    perPair = (after.total - before.total) / n;
    heapPerPair = (after.heap - before.heap) / n;
    arrayBuffersPerPair = (after.arrayBuffers - before.arrayBuffers) / n;
  }
  // Keep everything reachable until measured.
  if (clients.length !== n || servers.length < n || p.client.tcp.connectionCount < n) throw new Error('lost connections');
  return { perPair, heapPerPair, arrayBuffersPerPair, openSeconds, keep: { p, clients, servers } };
}

export const concurrencyCase: BenchCase = {
  id: 'concurrency',
  n: 4,
  title: 'Concurrency: idle established connections in one process',
  run(ctx: CaseContext): void {
    ctx.note('memory = V8 heap + array buffers after forced GCs, minus the two stacks before opening; both ends counted ' +
      '(both sockets of each pair kept by the application); connections opened 4,096 at a time; the case 1 link');
    openIdle(Math.min(2000, ctx.sizes.concurrency[0]!), false); // warm-up
    for (const n of ctx.sizes.concurrency) {
      const reps = n >= 1_000_000 ? 1 : ctx.reps(3);
      const runs: IdleRun[] = [];
      for (let r = 0; r < reps; r++) {
        runs.push(openIdle(n, true));
        ctx.log(`concurrency ${countText(n)} rep ${r + 1}/${reps}: ${grouped(runs[r]!.perPair)} B/pair, opened in ${runs[r]!.openSeconds.toFixed(2)} s`);
      }
      const k = countText(n);
      ctx.figure(fromRuns({
        id: `concurrency.${k}.bytes-per-end`, name: `${k} idle connections: bytes per end`, unit: 'B', target: atMost(2048),
        reference: 'Node net ~1 KB JS per end + ~5 KB kernel; tcpip.js ~7 KB',
      }, runs.map((x) => x.perPair / 2)));
      ctx.figure(fromRuns({
        id: `concurrency.${k}.bytes-per-pair`, name: '  bytes per connection pair', unit: 'B',
        reference: 'Node net ~2 KB JS + ~10 KB kernel; tcpip.js ~14 KB',
      }, runs.map((x) => x.perPair)));
      ctx.figure(fromRuns({ id: `concurrency.${k}.heap-per-pair`, name: '    of which V8 heap', unit: 'B' }, runs.map((x) => x.heapPerPair)));
      ctx.figure(fromRuns({ id: `concurrency.${k}.ab-per-pair`, name: '    of which array buffers', unit: 'B' }, runs.map((x) => x.arrayBuffersPerPair)));
      ctx.figure(fromRuns({ id: `concurrency.${k}.open-s`, name: `  time to open ${k}`, unit: 's' }, runs.map((x) => x.openSeconds)));
      ctx.figure(fromRuns({ id: `concurrency.${k}.open-per-s`, name: '  opening rate', unit: 'conn/s' }, runs.map((x) => n / x.openSeconds)));
    }
  },
  profile(ctx): ProfileWorkload {
    const n = Math.min(ctx.sizes.concurrency[0]!, 100_000);
    return { what: `opening ${grouped(n)} idle connections`, heap: 'retained', run: () => openIdle(n, false).keep };
  },
};
