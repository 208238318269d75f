// Case 2: request/response. A 1-byte ping-pong on one connection between two synack stacks
// (the case 1 link: in memory, zero delay, checksum offload, TCP_NODELAY on both ends). Each
// round trip is timed on the wall clock: the client's send, the segment through both stacks and
// the link, the server's echo, and back.
import { Pair } from '../harness.js';
import { nodePingPong } from '../nodenet.js';
import { fromRuns, grouped, percentileSorted, secondsSince } from '../stats.js';
import type { BenchCase, CaseContext, ProfileWorkload } from '../types.js';

/** Round trips per second and latency percentiles (µs) of `trips` ping-pongs. */
export function synackPingPong(trips: number): { perSecond: number; p50: number; p99: number } {
  const p = new Pair({ mtu: 1500 });
  const l = p.listen(7);
  const { client, server } = p.connect(l, 7);
  client.setOption('noDelay', true);
  server.setOption('noDelay', true);
  const one = new Uint8Array([0x2a]);
  const rb = new Uint8Array(64);
  const lat = new Float64Array(trips);
  let done = 0;
  let inflight = false;
  let t = 0;
  const t0 = performance.now();
  p.drive(() => {
    // The server echoes whatever arrived.
    for (;;) {
      const n = server.recv(rb);
      if (typeof n !== 'number' || n === 0) break;
      server.send(rb.subarray(0, n));
    }
    if (inflight) {
      const n = client.recv(rb);
      if (typeof n === 'number' && n > 0) {
        lat[done++] = (performance.now() - t) * 1000;
        inflight = false;
      }
    }
    if (!inflight) {
      if (done >= trips) return true;
      t = performance.now();
      if (client.send(one) !== 1) throw new Error('ping-pong: send refused');
      inflight = true;
    }
    return false;
  }, 'ping-pong');
  const secs = secondsSince(t0);
  lat.sort();
  return { perSecond: trips / secs, p50: percentileSorted(lat, 50), p99: percentileSorted(lat, 99) };
}

export const rrCase: BenchCase = {
  id: 'rr',
  n: 2,
  title: 'Request/response: 1-byte ping-pong on one connection',
  async run(ctx: CaseContext): Promise<void> {
    const trips = ctx.sizes.rrTrips;
    const reps = ctx.reps(5);
    ctx.note(`${grouped(trips)} round trips per repetition, TCP_NODELAY, the case 1 link; latency is wall clock per round trip`);
    synackPingPong(Math.min(trips, 5000)); // warm-up
    const runs = Array.from({ length: reps }, () => synackPingPong(trips));
    ctx.figure(fromRuns({ id: 'rr.trips-per-s', name: 'synack round trips', unit: '/s' }, runs.map((r) => r.perSecond)));
    ctx.figure(fromRuns({ id: 'rr.p50-us', name: '  latency p50', unit: 'µs' }, runs.map((r) => r.p50)));
    ctx.figure(fromRuns({ id: 'rr.p99-us', name: '  latency p99', unit: 'µs' }, runs.map((r) => r.p99)));
    const nodeTrips = Math.min(trips, 20_000);
    await nodePingPong(Math.min(nodeTrips, 2000));
    const node: Awaited<ReturnType<typeof nodePingPong>>[] = [];
    for (let r = 0; r < reps; r++) node.push(await nodePingPong(nodeTrips));
    ctx.figure(fromRuns({ id: 'rr.node-net.trips-per-s', name: 'Node net over 127.0.0.1 round trips', unit: '/s', reference: 'same process, same run' }, node.map((r) => r.perSecond)));
    ctx.figure(fromRuns({ id: 'rr.node-net.p50-us', name: '  latency p50', unit: 'µs' }, node.map((r) => r.p50)));
    ctx.figure(fromRuns({ id: 'rr.node-net.p99-us', name: '  latency p99', unit: 'µs' }, node.map((r) => r.p99)));
  },
  profile(ctx): ProfileWorkload {
    return { what: `ping-pong, ${grouped(ctx.sizes.rrTrips)} round trips`, run: () => void synackPingPong(ctx.sizes.rrTrips) };
  },
};
