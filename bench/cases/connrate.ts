// Case 3: connection rate. Each connection: connect, the client sends 1 byte, the server
// (having accepted it) echoes it, the client closes first (TIME-WAIT is the client's), the
// server reads the end of stream and closes. 64 connections are in progress at a time, on both
// synack and Node's `net`. Sockets are driven through the epoll-style Poller, as an event loop
// would. TIME-WAIT records pile up on the client (60 s of virtual time never pass): its
// ephemeral range is 1024-65535 and the server listens on 16 ports, so 1M 4-tuples are free,
// and tcp_max_tw_buckets is raised so no connection skips TIME-WAIT.
import { Pair } from '../harness.js';
import { nodeConnectionRate } from '../nodenet.js';
import { Poller, Ready, type TcpSocket } from '../../src/api/socket.js';
import { atLeast, cpuMicros, fromRuns, grouped, median, secondsSince } from '../stats.js';
import { CPU_NOTE } from './bulk.js';
import type { BenchCase, CaseContext, ProfileWorkload } from '../types.js';

/** Connections in progress at once (synack and Node's net alike). */
export const CONCURRENCY = 64;
const PORTS = 16;
const BASE_PORT = 6000;

type Role = { kind: 'listener' } | { kind: 'client'; sent: boolean } | { kind: 'server' };

/** Runs `count` connections, `CONCURRENCY` at a time; returns completed connections per second (wall clock and CPU time). */
export function synackConnectionRate(count: number): { perSecond: number; perCpuSecond: number } {
  const p = new Pair({
    clientTcp: { portRange: { low: 1024, high: 65535 }, maxTwBuckets: Math.max(262144, count * 2) },
  });
  const poller = new Poller<Role>();
  for (let i = 0; i < PORTS; i++) poller.add(p.listen(BASE_PORT + i), Ready.ACCEPT, { kind: 'listener' });
  const one = new Uint8Array([1]);
  const rb = new Uint8Array(16);
  let started = 0;
  let clientsDone = 0;
  let serversDone = 0;
  const start = (): void => {
    const c = p.clientSockets.socket();
    c.setOption('noDelay', true);
    const e = c.connect(p.serverAddr, BASE_PORT + (started % PORTS));
    if (e !== 'EINPROGRESS') throw new Error(`connect #${started}: ${e}`);
    started++;
    poller.add(c, Ready.WRITABLE, { kind: 'client', sent: false });
  };
  const fail = (s: TcpSocket, who: string): never => {
    throw new Error(`connection rate: ${who} socket failed: ${s.takeError() ?? s.state}`);
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < Math.min(CONCURRENCY, count); i++) start();
  p.drive(() => {
    for (const ev of poller.wait()) {
      const s = ev.socket;
      const role = ev.data;
      switch (role.kind) {
        case 'listener':
          for (;;) {
            const a = s.accept();
            if (typeof a === 'string') break;
            a.setOption('noDelay', true);
            poller.add(a, Ready.READABLE, { kind: 'server' });
          }
          break;
        case 'client':
          if (ev.events & Ready.ERROR) fail(s, 'client');
          if (!role.sent) {
            if (s.state !== 'ESTABLISHED') break;
            if (s.send(one) !== 1) fail(s, 'client');
            role.sent = true;
            poller.modify(s, Ready.READABLE);
          } else if (ev.events & Ready.READABLE) {
            const n = s.recv(rb);
            if (n === 'EAGAIN') break;
            if (n !== 1) fail(s, 'client');
            poller.delete(s);
            s.close();
            clientsDone++;
            if (started < count) start();
          }
          break;
        case 'server': {
          if (ev.events & Ready.ERROR) fail(s, 'server');
          for (;;) {
            const n = s.recv(rb);
            if (n === 'EAGAIN') break;
            if (typeof n !== 'number') fail(s, 'server');
            if (n === 0) {
              poller.delete(s);
              s.close();
              serversDone++;
              break;
            }
            s.send(rb.subarray(0, n as number));
          }
          break;
        }
      }
    }
    // Done when every connection has closed on both ends: the server's close, and the client's
    // TIME-WAIT record (its FIN acknowledged and the server's FIN received).
    return clientsDone >= count && serversDone >= count && p.client.tcp.timeWaitCount >= count;
  }, 'connection rate');
  const secs = secondsSince(t0);
  const cpu = cpuMicros(cpu0) / 1e6;
  const tw = p.client.tcp.timeWaitCount;
  if (tw < count) throw new Error(`connection rate: only ${tw} of ${count} client connections reached TIME-WAIT`);
  return { perSecond: count / secs, perCpuSecond: count / cpu };
}

export const connRateCase: BenchCase = {
  id: 'connrate',
  n: 3,
  title: 'Connection rate: connect, 1-byte exchange, close from the client, accept',
  async run(ctx: CaseContext): Promise<void> {
    const n = ctx.sizes.connRate;
    const reps = ctx.reps(5);
    ctx.note(`${CONCURRENCY} connections in progress at a time, ${grouped(n)} per repetition (Node: ${grouped(ctx.sizes.nodeConnRate)}); ` +
      `the client holds TIME-WAIT (ephemeral ports 1024-65535, server on ${PORTS} ports); the case 1 link`);
    synackConnectionRate(Math.min(n, 5000)); // warm-up
    const runs = Array.from({ length: reps }, (_, r) => {
      const x = synackConnectionRate(n);
      ctx.log(`connrate rep ${r + 1}/${reps}: ${grouped(x.perSecond)} conn/s`);
      return x;
    });
    const f = ctx.figure(fromRuns({
      id: 'connrate.synack.per-s', name: 'synack connections', unit: '/s', target: atLeast(50_000),
      reference: 'tcpip.js ~5,000/s',
    }, runs.map((x) => x.perSecond)));
    ctx.figure(fromRuns({ id: 'connrate.synack.per-cpu-s', name: '  per CPU-second', unit: '/s', reference: CPU_NOTE }, runs.map((x) => x.perCpuSecond)));
    await nodeConnectionRate(Math.min(2000, ctx.sizes.nodeConnRate), CONCURRENCY);
    const node: number[] = [];
    for (let r = 0; r < reps; r++) node.push(await nodeConnectionRate(ctx.sizes.nodeConnRate, CONCURRENCY));
    ctx.figure(fromRuns({ id: 'connrate.node-net.per-s', name: 'Node net over 127.0.0.1 connections', unit: '/s', reference: '~14,500/s (NOTES.md)' }, node));
    ctx.figure({
      id: 'connrate.ratio-node', name: 'synack / Node net', unit: 'x', value: f.value! / median(node), reps,
      target: atLeast(3), reference: 'same work, same process, same run',
    });
  },
  profile(ctx): ProfileWorkload {
    return { what: `connection rate, ${grouped(ctx.sizes.connRate)} connections`, run: () => void synackConnectionRate(ctx.sizes.connRate) };
  },
};
