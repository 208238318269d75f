// Case 6: SYN flood. SYNs per second a synack listener answers with SYN cookies. The server is
// one Stack on a bare-IP port (like TUN: no ARP), with tcp_syncookies = 2 so every SYN is
// answered with a cookie and no state is kept; a default route sends the SYN-ACKs back out of
// the port, which only counts them. The SYNs are 4,096 distinct prebuilt frames from spoofed
// addresses in 198.18.0.0/15 (RFC 2544's benchmarking range) with a Linux client's options
// (MSS, SACK permitted, timestamps, window scale), fed to `stack.ingress` in a loop; virtual
// time advances 1 µs per SYN. Checksums are verified on the SYNs and computed on the SYN-ACKs
// (a flood comes from a real network: no offload here).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Stack } from '../../src/stack.js';
import { SimRng } from '../../src/sim/rng.js';
import { SocketLayer } from '../../src/api/socket.js';
import { defaultTcpConfig, type TcpConfig } from '../../src/tcp/config.js';
import type { Port } from '../../src/link/link.js';
import { IpAddr } from '../../src/wire/ip-addr.js';
import { IPV4_HEADER_LEN, IpProtocol, emitIpv4 } from '../../src/wire/ipv4.js';
import { TcpFlag, emitTcp, tcpHeaderLength, type TcpRepr } from '../../src/wire/tcp.js';
import { emptyTcpOptions } from '../../src/wire/tcp-options.js';
import type { Seq } from '../../src/tcp/seq.js';
import type { Instant } from '../../src/time/instant.js';
import { atLeast, cpuMicros, fromRuns, grouped, secondsSince } from '../stats.js';
import { CPU_NOTE } from './bulk.js';
import type { BenchCase, CaseContext, ProfileWorkload } from '../types.js';

const SERVER = IpAddr.from('10.0.0.1');
const PORT = 80;
const DISTINCT = 4096;

/** Whether SYN cookies are in the tree (under `root`): src/tcp/syncookies.ts and the `syncookies` setting. */
export function synCookiesImplemented(root: string): boolean {
  return existsSync(join(root, 'src', 'tcp', 'syncookies.ts')) && 'syncookies' in defaultTcpConfig();
}

/** `count` distinct SYN packets (bare IPv4) toward SERVER:PORT from spoofed sources. */
function synPackets(count: number, seed: number): Uint8Array[] {
  const rng = new SimRng(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const o = emptyTcpOptions();
    o.mss = 1460;
    o.sackPermitted = true;
    o.timestamp = { tsval: rng.nextU32(), tsecr: 0 };
    o.wscale = 7;
    const r: TcpRepr = {
      srcPort: 1024 + (rng.nextU32() % 64512), dstPort: PORT, seq: rng.nextU32() as Seq, ack: 0 as Seq,
      flags: TcpFlag.SYN, window: 64240, urgent: 0, options: o, payload: new Uint8Array(0),
    };
    const src = IpAddr.v4((0xc6120000 | (rng.nextU32() & 0x1ffff)) >>> 0);
    const tcpLen = tcpHeaderLength(o);
    const pkt = new Uint8Array(IPV4_HEADER_LEN + tcpLen);
    emitIpv4({
      src, dst: SERVER, protocol: IpProtocol.TCP, ttl: 64, dscp: 0, ecn: 0, identification: i & 0xffff,
      dontFragment: true, moreFragments: false, fragmentOffset: 0, payloadLen: tcpLen,
    }, pkt);
    emitTcp(r, pkt.subarray(IPV4_HEADER_LEN), { src, dst: SERVER });
    out.push(pkt);
  }
  return out;
}

/** Feeds `count` SYNs to a fresh listener; returns SYN-ACKs sent per wall-clock second. */
export function synFloodRate(count: number): { perSecond: number; perCpuSecond: number; answered: number } {
  const stack = new Stack({ rng: new SimRng(3), name: 'server', tcp: { syncookies: 2 } as Partial<TcpConfig> });
  let synAcks = 0;
  const port: Port = {
    medium: 'ip',
    mtu: 1500,
    send: () => void synAcks++,
    onFrame: undefined,
  };
  const ifindex = stack.addInterface({ port, ipv4: `${SERVER.toString()}/24` });
  stack.addRoute('default', undefined, ifindex);
  const l = new SocketLayer(stack.tcp).socket();
  const e = l.bind('0.0.0.0', PORT) ?? l.listen(4096);
  if (e !== undefined) throw new Error(`listen: ${e}`);
  const syns = synPackets(DISTINCT, 11);
  let now = 1_000_000;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    stack.ingress(ifindex, syns[i & (DISTINCT - 1)]!, now as Instant);
    now++;
    // A driver polls after each batch it reads from the device.
    if ((i & 63) === 63) stack.poll(now as Instant);
  }
  stack.poll(now as Instant);
  const secs = secondsSince(t0);
  const cpu = cpuMicros(cpu0) / 1e6;
  const sent = stack.tcp.counters.SyncookiesSent;
  if (synAcks !== count || sent !== count) throw new Error(`SYN flood: ${count} SYNs, ${synAcks} frames out, ${sent} cookies sent`);
  if (stack.tcp.connectionCount !== 0) throw new Error('SYN flood: the listener kept state');
  return { perSecond: synAcks / secs, perCpuSecond: synAcks / cpu, answered: synAcks };
}

export const synFloodCase: BenchCase = {
  id: 'synflood',
  n: 6,
  title: 'SYN flood: SYNs per second a listener answers with SYN cookies',
  run(ctx: CaseContext): void {
    if (!synCookiesImplemented(ctx.opts.root)) {
      ctx.figure({ id: 'synflood.per-s', name: 'SYN-ACKs with cookies', unit: 'SYN/s', value: null, target: atLeast(500_000), note: 'not yet implemented (no src/tcp/syncookies.ts or `syncookies` setting)' });
      return;
    }
    const n = ctx.sizes.synFlood;
    const reps = ctx.reps(5);
    ctx.note(`tcp_syncookies = 2 (every SYN gets a cookie, no state kept), ${grouped(n)} SYNs per repetition from ${DISTINCT} spoofed ` +
      'sources with MSS/SACK/TS/wscale options, bare-IP port, checksums verified on input and computed on output');
    synFloodRate(Math.min(n, 20_000)); // warm-up
    const runs = Array.from({ length: reps }, () => synFloodRate(n));
    ctx.figure(fromRuns({
      id: 'synflood.per-s', name: 'SYN-ACKs with cookies', unit: 'SYN/s', target: atLeast(500_000),
    }, runs.map((x) => x.perSecond)));
    ctx.figure(fromRuns({ id: 'synflood.per-cpu-s', name: '  per CPU-second', unit: 'SYN/s', reference: CPU_NOTE }, runs.map((x) => x.perCpuSecond)));
  },
  profile(ctx): ProfileWorkload {
    return { what: `SYN flood, ${grouped(ctx.sizes.synFlood)} SYNs`, run: () => void synFloodRate(ctx.sizes.synFlood) };
  },
};
