// TAP benchmark (figures, never pass/fail): how fast frames cross the TUN/TAP driver
// (src/link/tap.ts + native/tun.c) each way, how fast synack's TCP runs against the Linux kernel
// over it, and, for reference, Linux-to-Linux iperf3 over a veth pair between two namespaces.
// Needs root, /dev/net/tun and the built addon; otherwise it returns the reason it skipped.
// Everything happens inside namespaces it creates (10.77.x.x) and deletes.
//
//   npx tsx bench/tap.ts                 prints the figures
//   import { tapBench } from './tap.js'  for bench/run.ts: resolves to { figures, skipped? }
//
// Env: BENCH_TAP_SECONDS (per raw measurement, default 2), BENCH_TAP_BYTES (per TCP direction,
// default 200 MB).
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { openTapHost, type TapHost } from '../src/cli/tap.js';
import { TapPort, tapUnavailable } from '../src/link/tap.js';
import { Ready, type TcpSocket } from '../src/api/socket.js';
import type { Instant } from '../src/time/instant.js';

const run = promisify(execFile);

/** One benchmark figure, in bench/run.ts's shape. */
export interface TapFigure {
  name: string;
  value: number;
  unit: string;
  spread?: string;
  reference?: string;
}

/** What `tapBench` measured, or why it could not. */
export interface TapBenchResult {
  figures: TapFigure[];
  /** One line per part that was skipped (no privilege, no iperf3, ...). */
  skipped: string[];
}

const have = (cmd: string): boolean => ['/usr/bin', '/usr/sbin', '/bin', '/sbin', '/usr/local/bin'].some((d) => existsSync(`${d}/${cmd}`));

async function withNetns<T>(n: number, body: (names: string[]) => Promise<T>): Promise<T> {
  const names = Array.from({ length: n }, () => `synack-bench-${randomBytes(3).toString('hex')}`);
  const made: string[] = [];
  try {
    for (const ns of names) {
      await run('ip', ['netns', 'add', ns]);
      made.push(ns);
      await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    return await body(names);
  } finally {
    for (const ns of made) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  }
}

const nsExec = (ns: string, ...argv: string[]): Promise<{ stdout: string }> => run('ip', ['netns', 'exec', ns, ...argv], { maxBuffer: 16 << 20 });

/** Raw frames through the driver, no stack: kernel -> TapPort (a Python UDP blaster) and TapPort -> kernel (a write loop). */
async function rawFrames(seconds: number, figures: TapFigure[]): Promise<void> {
  await withNetns(1, async ([ns]) => {
    let now = 0 as Instant;
    const port = TapPort.open({ name: 'tap0', netns: ns!, up: true, driver: { now: () => now, kick: () => {} } });
    try {
      await run('ip', ['-n', ns!, 'addr', 'add', '10.77.0.1/24', 'dev', 'tap0']);
      // A permanent neighbour: the kernel sends without asking who 10.77.0.2 is.
      await run('ip', ['-n', ns!, 'neigh', 'add', '10.77.0.2', 'lladdr', '02:00:00:00:00:02', 'dev', 'tap0', 'nud', 'permanent']);
      const kernelMac = (JSON.parse((await run('ip', ['-n', ns!, '-j', 'link', 'show', 'tap0'])).stdout) as { address: string }[])[0]!.address;
      for (const payload of [1472, 18]) {
        let frames = 0;
        let bytes = 0;
        port.onFrame = (f) => {
          frames++;
          bytes += f.length;
        };
        const blaster = `import socket,time
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
b=bytes(${payload});end=time.time()+${seconds};n=0
while time.time()<end:
  for _ in range(2000):
    try: s.sendto(b,('10.77.0.2',9)); n+=1
    except OSError: pass
print(n)`;
        const sent = await new Promise<number>((resolve, reject) => {
          const p = spawn('ip', ['netns', 'exec', ns!, 'python3', '-c', blaster], { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          p.stdout.on('data', (d: Buffer) => (out += d.toString()));
          p.on('exit', () => resolve(Number(out.trim())));
          p.on('error', reject);
        });
        const frameLen = payload + 42;
        figures.push({ name: `TAP read, kernel -> synack, ${frameLen} B frames`, value: frames / seconds, unit: 'frames/s', reference: `${Math.round(sent / seconds)} frames/s offered by one Python sender` });
        if (payload > 1000) figures.push({ name: `TAP read, kernel -> synack, ${frameLen} B frames`, value: (bytes * 8) / seconds / 1e9, unit: 'Gbit/s' });
      }
      port.onFrame = undefined;
      // Writes: IPv4/UDP frames to the kernel (port 9, nobody listening: the kernel drops them).
      for (const payload of [1472, 18]) {
        const frame = udpFrame(kernelMac, payload);
        const errorsBefore = JSON.stringify(port.stats.txErrors);
        const t0 = performance.now();
        let n = 0;
        while (performance.now() - t0 < seconds * 1000) {
          for (let i = 0; i < 1000; i++) port.send(frame, now);
          n += 1000;
          now = Math.round((performance.now() - t0) * 1000) as Instant;
        }
        const s = (performance.now() - t0) / 1000;
        const errors = JSON.stringify(port.stats.txErrors) === errorsBefore ? 'no write errors' : `write errors: ${JSON.stringify(port.stats.txErrors)}`;
        figures.push({ name: `TAP write, synack -> kernel, ${frame.length} B frames`, value: n / s, unit: 'frames/s', reference: `${errors}; one write(2) per frame` });
        if (payload > 1000) figures.push({ name: `TAP write, synack -> kernel, ${frame.length} B frames`, value: (n * frame.length * 8) / s / 1e9, unit: 'Gbit/s' });
      }
    } finally {
      port.close();
    }
  });
}

/** An Ethernet + IPv4 + UDP frame from 10.77.0.2 to 10.77.0.1:9 (checksums valid, UDP checksum 0 = none). */
function udpFrame(dstMac: string, payload: number): Uint8Array {
  const f = new Uint8Array(14 + 28 + payload);
  const dv = new DataView(f.buffer);
  f.set(dstMac.split(':').map((h) => parseInt(h, 16)), 0);
  f.set([0x02, 0, 0, 0, 0, 0x02], 6);
  dv.setUint16(12, 0x0800);
  dv.setUint8(14, 0x45);
  dv.setUint16(16, 28 + payload);
  dv.setUint8(22, 64);
  dv.setUint8(23, 17);
  f.set([10, 77, 0, 2, 10, 77, 0, 1], 26);
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += dv.getUint16(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  dv.setUint16(24, ~sum & 0xffff);
  dv.setUint16(34, 40000);
  dv.setUint16(36, 9);
  dv.setUint16(38, 8 + payload);
  return f;
}

/** Resolves when `cond` holds, re-checking on every socket event of `s` and every 5 ms. */
function until(host: TapHost, s: TcpSocket, cond: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  if (cond()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (!cond()) return;
      clearInterval(timer);
      clearTimeout(timeout);
      s.onReady = undefined;
      resolve();
    };
    s.onReady = () => queueMicrotask(check);
    const timer = setInterval(check, 5);
    const timeout = setTimeout(() => {
      clearInterval(timer);
      reject(new Error(`bench: timed out waiting for ${what}`));
    }, timeoutMs);
    host.driver.kick();
  });
}

/** synack's TCP against the kernel over the TAP, each way, with 4 MiB buffers. */
async function tcpThroughput(bytes: number, figures: TapFigure[]): Promise<void> {
  await withNetns(1, async ([ns]) => {
    const host = openTapHost({ device: { name: 'tap0', netns: ns!, up: true }, ipv4: '10.77.0.2/24', tcp: { sndBuf: 4 << 20, rcvBuf: 4 << 20 } });
    try {
      await run('ip', ['-n', ns!, 'addr', 'add', '10.77.0.1/24', 'dev', 'tap0']);
      const py = (script: string): ReturnType<typeof spawn> => spawn('ip', ['netns', 'exec', ns!, 'python3', '-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      const listening = (port: number): Promise<void> => (async () => {
        for (let i = 0; i < 500; i++) {
          if ((await nsExec(ns!, 'ss', '-Htln', `sport = :${port}`)).stdout.trim() !== '') return;
          await new Promise((r) => setTimeout(r, 10));
        }
        throw new Error(`bench: nothing listens on ${port}`);
      })();
      const server = (port: number, body: string): string => `import socket
l=socket.socket();l.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);l.bind(('10.77.0.1',${port}));l.listen(1)
c,_=l.accept()
${body}`;
      // Upload: synack -> kernel sink.
      const sink = py(server(5401, 'n=0\nwhile True:\n  b=c.recv(1<<20)\n  if not b: break\n  n+=len(b)\nprint(n)'));
      await listening(5401);
      const up = await transfer(host, 'send', bytes, 5401);
      figures.push({ name: 'TCP over TAP, synack -> Linux (upload)', value: up, unit: 'Gbit/s', reference: `${bytes / 1e6} MB, 4 MiB buffers, MTU 1500` });
      sink.kill();
      // Download: kernel source -> synack.
      const source = py(server(5402, `b=bytes(1<<20)\nleft=${bytes}\nwhile left>0:\n  c.sendall(b[:min(left,1<<20)]); left-=min(left,1<<20)\nc.close()`));
      await listening(5402);
      const down = await transfer(host, 'recv', bytes, 5402);
      figures.push({ name: 'TCP over TAP, Linux -> synack (download)', value: down, unit: 'Gbit/s', reference: `${bytes / 1e6} MB, 4 MiB buffers, MTU 1500` });
      source.kill();
    } finally {
      host.close();
    }
  });
}

async function transfer(host: TapHost, way: 'send' | 'recv', bytes: number, port: number): Promise<number> {
  const s = host.sockets.socket(4);
  s.connect('10.77.0.1', port);
  await until(host, s, () => s.state !== 'SYN-SENT', 'connect');
  if (s.state !== 'ESTABLISHED') throw new Error(`bench: connect failed: ${s.takeError() ?? s.state}`);
  const buf = new Uint8Array(1 << 20);
  const t0 = performance.now();
  let done = 0;
  if (way === 'send') {
    while (done < bytes) {
      const n = s.send(buf.subarray(0, Math.min(buf.length, bytes - done)));
      if (typeof n === 'number') {
        done += n;
        host.driver.kick();
        continue;
      }
      if (n !== 'EAGAIN') throw new Error(`bench: send ${n}`);
      await until(host, s, () => (s.readiness() & (Ready.WRITABLE | Ready.ERROR)) !== 0, 'send space');
    }
    s.shutdown('write');
    await until(host, s, () => s.connection === undefined || s.connection.sndUna === s.connection.sndNxt, 'all acknowledged');
  } else {
    for (;;) {
      const n = s.recv(buf);
      if (n === 0) break;
      if (typeof n === 'number') {
        done += n;
        continue;
      }
      if (n !== 'EAGAIN') throw new Error(`bench: recv ${n}`);
      await until(host, s, () => (s.readiness() & (Ready.READABLE | Ready.ERROR)) !== 0, 'data');
    }
  }
  const secs = (performance.now() - t0) / 1000;
  s.close();
  host.driver.kick();
  return (done * 8) / secs / 1e9;
}

/** iperf3 between two namespaces over a veth pair at MTU 1500: the kernel's own figure, each way. */
async function iperfVeth(figures: TapFigure[], skipped: string[]): Promise<void> {
  if (!have('iperf3')) {
    skipped.push('iperf3 reference skipped: iperf3 is not installed (apt-get install iperf3)');
    return;
  }
  await withNetns(2, async ([a, b]) => {
    await run('ip', ['-n', a!, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', b!]);
    await run('ip', ['-n', a!, 'addr', 'add', '10.77.2.1/24', 'dev', 'va']);
    await run('ip', ['-n', b!, 'addr', 'add', '10.77.2.2/24', 'dev', 'vb']);
    await run('ip', ['-n', a!, 'link', 'set', 'va', 'up']);
    await run('ip', ['-n', b!, 'link', 'set', 'vb', 'up']);
    const offloads = have('ethtool') ? 'off' : 'on (no ethtool to turn them off)';
    if (have('ethtool')) {
      for (const [ns, dev] of [[a!, 'va'], [b!, 'vb']] as const) await nsExec(ns, 'ethtool', '-K', dev, 'tso', 'off', 'gso', 'off', 'gro', 'off').catch(() => undefined);
    }
    for (const reverse of [false, true]) {
      const srv = spawn('ip', ['netns', 'exec', b!, 'iperf3', '-s', '-1', '-B', '10.77.2.2'], { stdio: 'ignore' });
      try {
        let bps: number | undefined;
        let last = '';
        for (let i = 0; i < 100 && bps === undefined; i++) {
          // Until the server listens, the client fails (with a non-zero exit or an "error" in its JSON).
          const r = await nsExec(a!, 'iperf3', '-c', '10.77.2.2', '-t', '3', '-J', ...(reverse ? ['-R'] : [])).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
          last = r.stdout;
          try {
            bps = (JSON.parse(r.stdout) as { end?: { sum_received?: { bits_per_second?: number } } }).end?.sum_received?.bits_per_second;
          } catch {
            bps = undefined;
          }
          if (bps === undefined) await new Promise((res) => setTimeout(res, 20));
        }
        if (bps === undefined) throw new Error(`bench: iperf3 gave no result: ${last.slice(0, 200)}`);
        figures.push({ name: `Linux iperf3 over veth between namespaces${reverse ? ' (reverse)' : ''}`, value: bps / 1e9, unit: 'Gbit/s', reference: `MTU 1500, offloads ${offloads}; NOTES: 6.7 Gbit/s with offloads off` });
      } finally {
        srv.kill();
      }
    }
  });
}

/** Runs the TAP benchmarks; privileged parts are skipped (with a reason) where they cannot run. */
export async function tapBench(): Promise<TapBenchResult> {
  const figures: TapFigure[] = [];
  const skipped: string[] = [];
  const why = process.platform !== 'linux' ? 'TAP benchmarks need Linux'
    : process.getuid?.() !== 0 ? 'TAP benchmarks need root (network namespaces and TAP devices)'
      : !existsSync('/dev/net/tun') ? 'TAP benchmarks need /dev/net/tun' : tapUnavailable();
  if (why !== undefined) return { figures, skipped: [why] };
  const seconds = Number(process.env['BENCH_TAP_SECONDS'] ?? 2);
  const bytes = Number(process.env['BENCH_TAP_BYTES'] ?? 200e6);
  await rawFrames(seconds, figures);
  await tcpThroughput(bytes, figures);
  await iperfVeth(figures, skipped);
  return { figures, skipped };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { figures, skipped } = await tapBench();
  for (const s of skipped) console.log(`skipped: ${s}`);
  for (const f of figures) {
    const v = f.unit === 'frames/s' ? Math.round(f.value).toLocaleString('en-US') : f.value.toFixed(3);
    console.log(`${f.name.padEnd(52)} ${v.padStart(11)} ${f.unit.padEnd(9)} ${f.reference ?? ''}`);
  }
}
