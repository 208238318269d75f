// Case 1: bulk throughput. Two synack stacks in one process over an in-memory PointToPoint
// link (zero delay, checksum offload, 4 MiB send and 6 MiB receive buffers), one connection,
// MTU 1500 and MTU 65535, driven by the Simulation; the figure is payload bytes over the wall
// clock of the transfer. Node's `net` over 127.0.0.1 moves the same bytes in the same run.
import { Pair } from '../harness.js';
import { nodeBulk } from '../nodenet.js';
import { atLeast, bytesText, cpuMicros, fromRuns, median, secondsSince } from '../stats.js';
import type { BenchCase, CaseContext, ProfileWorkload } from '../types.js';

/** Buffers for the bulk runs: large enough that the window never limits a zero-delay link. */
export const BULK_TCP = { sndBuf: 4 << 20, sndBufMax: 4 << 20, rcvBuf: 6 << 20, rcvBufMax: 6 << 20 } as const;

/** What one bulk transfer measured. */
export interface BulkRun {
  gbps: number;
  /** Wall-clock microseconds per full-sized data segment (with its share of ACKs). */
  usPerSegment: number;
  /** The connection's MSS (payload bytes per full segment). */
  mss: number;
  /** Frames the link carried, both ways. */
  frames: number;
  /** Gbit/s over the process's CPU time instead of the wall clock (see CPU_NOTE). */
  gbpsCpu: number;
}

/** Why the bench also divides by CPU time. */
export const CPU_NOTE = 'over process CPU time (user+sys), not wall clock: less sensitive to other load on the machine';

/** Moves `bytes` from client to server over a fresh pair; returns the figures of the transfer. */
export function synackBulk(mtu: number, bytes: number): BulkRun {
  const p = new Pair({ mtu, tcp: BULK_TCP });
  const l = p.listen(5001);
  const { client, server } = p.connect(l, 5001);
  const chunk = new Uint8Array(1 << 20);
  const buf = new Uint8Array(1 << 20);
  let sent = 0;
  let got = 0;
  const frames0 = p.link.stats.delivered;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  p.drive(() => {
    while (sent < bytes) {
      const n = client.send(chunk.subarray(0, Math.min(chunk.length, bytes - sent)));
      if (typeof n !== 'number') break;
      sent += n;
    }
    for (;;) {
      const n = server.recv(buf);
      if (typeof n !== 'number' || n === 0) break;
      got += n;
    }
    return got >= bytes;
  }, `bulk MTU ${mtu}`);
  const secs = secondsSince(t0);
  const cpu = cpuMicros(cpu0) / 1e6;
  const mss = client.connection?.mss ?? mtu - 52;
  client.close();
  server.close();
  return { gbps: (got * 8) / secs / 1e9, usPerSegment: (secs * 1e6) / Math.ceil(got / mss), mss, frames: p.link.stats.delivered - frames0, gbpsCpu: (got * 8) / cpu / 1e9 };
}

const MTUS = [1500, 65535] as const;
const TARGET: Record<(typeof MTUS)[number], number> = { 1500: 5, 65535: 20 };

export const bulkCase: BenchCase = {
  id: 'bulk',
  n: 1,
  title: 'Bulk throughput, two stacks in one process',
  async run(ctx: CaseContext): Promise<void> {
    const bytes = ctx.sizes.bulkBytes;
    const reps = ctx.reps(3);
    ctx.note(`in-memory PointToPoint, zero delay, checksum offload on (as Linux loopback: no L4 checksum computed or verified), ` +
      `send buffer 4 MiB, receive buffer 6 MiB, one connection, ${bytesText(bytes)} per repetition, driven by the Simulation; ` +
      `Gbit/s = payload bytes / wall-clock seconds of the transfer`);
    const gbps = new Map<number, number>();
    for (const mtu of MTUS) {
      synackBulk(mtu, Math.min(bytes, 16 << 20)); // warm-up: let the JIT settle
      const runs: BulkRun[] = [];
      for (let r = 0; r < reps; r++) {
        runs.push(synackBulk(mtu, bytes));
        ctx.log(`bulk MTU ${mtu} rep ${r + 1}/${reps}: ${runs[r]!.gbps.toFixed(3)} Gbit/s`);
      }
      const f = ctx.figure(fromRuns({
        id: `bulk.mtu${mtu}.gbps`, name: `synack bulk, MTU ${mtu}`, unit: 'Gbit/s', target: atLeast(TARGET[mtu]),
        reference: 'tcpip.js 0.045 (0.48 leak patched); Linux veth 6.7 (MTU 1500)',
      }, runs.map((x) => x.gbps)));
      gbps.set(mtu, f.value!);
      ctx.figure(fromRuns({ id: `bulk.mtu${mtu}.gbps-cpu`, name: '  per CPU-second', unit: 'Gbit/s', reference: CPU_NOTE }, runs.map((x) => x.gbpsCpu)));
      ctx.figure(fromRuns({
        id: `bulk.mtu${mtu}.us-per-segment`, name: `  wall clock per ${runs[0]!.mss}-byte segment`, unit: 'µs',
        target: { cmp: '<=', value: (runs[0]!.mss * 8) / (TARGET[mtu] * 1e3) },
        reference: `the target's budget per segment`,
      }, runs.map((x) => x.usPerSegment)));
    }
    const node: number[] = [];
    await nodeBulk(Math.min(bytes, 64 << 20)); // warm-up
    for (let r = 0; r < reps; r++) node.push(await nodeBulk(bytes));
    const nodeFig = ctx.figure(fromRuns({
      id: 'bulk.node-net.gbps', name: `Node net over 127.0.0.1, one process`, unit: 'Gbit/s',
      reference: '~10 on this machine (NOTES.md)',
    }, node));
    for (const mtu of MTUS) {
      ctx.figure({
        id: `bulk.mtu${mtu}.ratio-node`, name: `synack MTU ${mtu} / Node net`, unit: 'x', value: gbps.get(mtu)! / median(node), reps,
        reference: `same bytes, same process, same run (Node ${nodeFig.value!.toFixed(2)} Gbit/s)`,
      });
    }
  },
  profile(ctx): ProfileWorkload[] {
    const bytes = Math.min(ctx.sizes.bulkBytes, 256 << 20);
    return MTUS.map((mtu) => ({ what: `bulk MTU ${mtu}, ${bytesText(bytes)}`, run: () => void synackBulk(mtu, bytes) }));
  },
};
