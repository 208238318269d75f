// Case 5: TIME-WAIT. N connections (100,000 by default; 1,000,000 with --full or BENCH_FULL=1)
// are opened and closed from the client, so the client holds N TIME-WAIT entries; the server's
// ends are gone (LAST-ACK, then CLOSED) and the application has dropped every socket. Measured:
// bytes per entry (heap + array buffers after forced GCs, minus the two stacks before), the CPU
// spent while they wait (virtual time advanced one second per step from the last entry's
// creation to just before the first expiry, each step a full simulation round: with one timer
// wheel and no per-entry timers that should be nothing per entry), and the wall-clock time to
// expire them all when 2*MSL (60 s) has passed.
import { Pair } from '../harness.js';
import type { TcpSocket } from '../../src/api/socket.js';
import { seconds } from '../../src/time/instant.js';
import { atMost, countText, cpuMicros, fromRuns, grouped, memoryNow, secondsSince } from '../stats.js';
import type { BenchCase, CaseContext, ProfileWorkload } from '../types.js';

const BATCH = 4096;
const PER_PORT = 16_000;
const BASE_PORT = 20_000;

/** What holding and expiring `n` TIME-WAIT entries measured. */
export interface TimeWaitRun {
  bytesPerEntry: number;
  /** The V8-heap and array-buffer parts (the TIME-WAIT table's typed arrays are array buffers). */
  heapPerEntry: number;
  arrayBuffersPerEntry: number;
  /** Bytes of the record table's own arrays (TimeWaitTable.byteSize) per entry, slack included. */
  tablePerEntry: number;
  /** CPU microseconds per virtual second of waiting (all N entries together). */
  cpuPerSecond: number;
  /** Simulation steps of one virtual second that were measured. */
  steps: number;
  /** Wall-clock seconds from the first expiry instant until the last entry was gone. */
  expireSeconds: number;
  /** Wall-clock seconds to create them (connect, accept, close both ends). */
  createSeconds: number;
  /** Bytes per entry still held after they all expired (what leaks or stays allocated). */
  leftPerEntry: number;
  keep: unknown;
}

/**
 * Creates `n` TIME-WAIT entries on the client, then waits them out; memory when `measure`.
 * With `holdOnly` it returns once they are made and settled (for a retained-memory profile).
 */
export function timeWaitRun(n: number, measure: boolean, holdOnly = false): TimeWaitRun {
  const p = new Pair({
    clientTcp: { portRange: { low: 1024, high: 65535 }, maxTwBuckets: n + 1024 },
    serverTcp: { somaxconn: 65535 },
  });
  const ports = Math.max(1, Math.ceil(n / PER_PORT));
  const listeners = Array.from({ length: ports }, (_, i) => p.listen(BASE_PORT + i, 65535));
  const warm = p.connect(listeners[0]!, BASE_PORT); // ARP, and a first TIME-WAIT, expired below
  warm.client.close();
  warm.server.close();
  p.sim.advance(seconds(120));
  if (p.client.tcp.timeWaitCount !== 0) throw new Error('warm-up TIME-WAIT did not expire');
  const before = measure ? memoryNow() : undefined;
  const createdFrom = p.sim.now;
  const t0 = performance.now();
  let next = 0;
  const rb = new Uint8Array(16);
  let created = 0;
  while (created < n) {
    const batch = Math.min(BATCH, n - created);
    const clients: TcpSocket[] = [];
    const servers: TcpSocket[] = [];
    for (let i = 0; i < batch; i++) {
      const c = p.clientSockets.socket();
      const e = c.connect(p.serverAddr, BASE_PORT + (next++ % ports));
      if (e !== 'EINPROGRESS') throw new Error(`connect #${created + i}: ${e}`);
      clients.push(c);
    }
    // Accept, close each client once established, close each server end at end of stream.
    let closedClients = 0;
    let closedServers = 0;
    const target = created + batch;
    p.drive(() => {
      for (const l of listeners) {
        for (;;) {
          const a = l.accept();
          if (typeof a === 'string') break;
          servers.push(a);
        }
      }
      for (; closedClients < clients.length; closedClients++) {
        const c = clients[closedClients]!;
        if (c.state !== 'ESTABLISHED') break;
        c.close();
      }
      for (; closedServers < servers.length; closedServers++) {
        const s = servers[closedServers]!;
        const r = s.recv(rb);
        if (r !== 0) break;
        s.close();
      }
      return p.client.tcp.timeWaitCount >= target && p.server.tcp.connectionCount === 0;
    }, `creating ${grouped(n)} TIME-WAIT entries`);
    created = target;
  }
  const createSeconds = secondsSince(t0);
  if (p.client.tcp.counters.TCPTimeWaitOverflow !== 0) throw new Error('connections skipped TIME-WAIT (tcp_max_tw_buckets)');
  // Waiting. The first entries expire 2*MSL after creation began; step up to just before that.
  const firstExpiry = createdFrom + p.client.tcp.config.msl * 2;
  p.sim.advance(seconds(1)); // stale wheel entries of the closed connections fire here
  let bytesPerEntry = NaN;
  let heapPerEntry = NaN;
  let arrayBuffersPerEntry = NaN;
  if (before !== undefined) {
    const m = memoryNow();
    bytesPerEntry = (m.total - before.total) / n;
    heapPerEntry = (m.heap - before.heap) / n;
    arrayBuffersPerEntry = (m.arrayBuffers - before.arrayBuffers) / n;
  }
  const tablePerEntry = p.client.tcp.timeWait.byteSize / n;
  if (holdOnly) return { bytesPerEntry, heapPerEntry, arrayBuffersPerEntry, tablePerEntry, cpuPerSecond: NaN, steps: 0, expireSeconds: NaN, createSeconds, leftPerEntry: NaN, keep: p };
  let steps = 0;
  const cpu0 = process.cpuUsage();
  while (p.sim.now + seconds(1) < firstExpiry) {
    p.sim.advance(seconds(1));
    steps++;
  }
  const cpu = cpuMicros(cpu0);
  if (p.client.tcp.timeWaitCount !== n) throw new Error(`${n - p.client.tcp.timeWaitCount} entries expired early`);
  // Expiry: run until the last entry is gone.
  const t1 = performance.now();
  p.drive(() => p.client.tcp.timeWaitCount === 0, 'expiring TIME-WAIT', seconds(600));
  const expireSeconds = secondsSince(t1);
  const leftPerEntry = before !== undefined ? (memoryNow().total - before.total) / n : NaN;
  return { bytesPerEntry, heapPerEntry, arrayBuffersPerEntry, tablePerEntry, cpuPerSecond: steps > 0 ? cpu / steps : NaN, steps, expireSeconds, createSeconds, leftPerEntry, keep: p };
}

export const timeWaitCase: BenchCase = {
  id: 'timewait',
  n: 5,
  title: 'TIME-WAIT: entries held and expired',
  run(ctx: CaseContext): void {
    ctx.note('entries made by real connections (connect, accept, client closes first); sockets dropped; memory = heap + array buffers ' +
      'after forced GCs minus the stacks before; CPU while waiting = process CPU time of simulation steps of one virtual second each ' +
      '(a real driver would not even wake: pollAt() is the first expiry)');
    timeWaitRun(Math.min(2000, ctx.sizes.timeWait[0]!), false); // warm-up
    for (const n of ctx.sizes.timeWait) {
      const reps = n >= 1_000_000 ? 1 : ctx.reps(3);
      const runs: TimeWaitRun[] = [];
      for (let r = 0; r < reps; r++) {
        runs.push(timeWaitRun(n, true));
        const x = runs[r]!;
        ctx.log(`timewait ${countText(n)} rep ${r + 1}/${reps}: ${x.bytesPerEntry.toFixed(0)} B/entry, ${x.cpuPerSecond.toFixed(1)} µs CPU per virtual s, expired in ${x.expireSeconds.toFixed(3)} s`);
      }
      const k = countText(n);
      ctx.figure(fromRuns({
        id: `timewait.${k}.bytes-per-entry`, name: `${k} TIME-WAIT: bytes per entry`, unit: 'B', target: atMost(200),
        reference: 'Linux: a 168-byte tcp_timewait_sock (src/tcp/timewait.ts)',
      }, runs.map((x) => x.bytesPerEntry)));
      ctx.figure(fromRuns({ id: `timewait.${k}.heap-per-entry`, name: '    of which V8 heap', unit: 'B' }, runs.map((x) => x.heapPerEntry)));
      ctx.figure(fromRuns({ id: `timewait.${k}.ab-per-entry`, name: '    of which array buffers', unit: 'B' }, runs.map((x) => x.arrayBuffersPerEntry)));
      ctx.figure(fromRuns({ id: `timewait.${k}.table-per-entry`, name: '      of which the record table (TimeWaitTable.byteSize)', unit: 'B' }, runs.map((x) => x.tablePerEntry)));
      ctx.figure(fromRuns({
        id: `timewait.${k}.cpu-per-s`, name: `  CPU while waiting, all ${k} together`, unit: 'µs/s',
        target: atMost(1000), reference: 'per virtual second, stepped each second; flat in N = nothing per entry',
      }, runs.map((x) => x.cpuPerSecond)));
      ctx.figure(fromRuns({ id: `timewait.${k}.cpu-per-entry`, name: '  CPU per entry while waiting', unit: 'ns/s' }, runs.map((x) => (x.cpuPerSecond * 1000) / n)));
      ctx.figure(fromRuns({ id: `timewait.${k}.expire-s`, name: `  time to expire ${k}`, unit: 's' }, runs.map((x) => x.expireSeconds)));
      ctx.figure(fromRuns({ id: `timewait.${k}.expire-per-s`, name: '  expiry rate', unit: 'entries/s' }, runs.map((x) => n / x.expireSeconds)));
      ctx.figure(fromRuns({ id: `timewait.${k}.create-s`, name: `  time to create ${k} (connect+close)`, unit: 's' }, runs.map((x) => x.createSeconds)));
      ctx.figure(fromRuns({ id: `timewait.${k}.left-per-entry`, name: '  still held after expiry, per entry', unit: 'B' }, runs.map((x) => x.leftPerEntry)));
    }
  },
  profile(ctx): ProfileWorkload {
    const n = Math.min(ctx.sizes.timeWait[0]!, 100_000);
    return { what: `creating ${grouped(n)} TIME-WAIT entries`, heap: 'retained', run: () => timeWaitRun(n, false, true).keep };
  },
};
