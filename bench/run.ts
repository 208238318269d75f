// Benchmarks (figures, never pass/fail). Each figure is printed next to its reference and
// written to bench/results/latest.json. This first version measures the checksum and bulk
// throughput between two synack stacks in one process; the full suite grows in bench/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { internetChecksum } from '../src/wire/checksum.js';
import { Scenario } from '../src/sim/scenario.js';
import { connectPair } from '../src/sim/scenarios/basic.js';
import { micros } from '../src/time/instant.js';

interface Figure { name: string; value: number; unit: string; spread?: string; reference?: string }
const figures: Figure[] = [];
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function checksum(size: number): void {
  const buf = new Uint8Array(size).map((_, i) => i * 31);
  const reps = Math.max(1, Math.floor(2e8 / size));
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    let acc = 0;
    for (let i = 0; i < reps; i++) acc ^= internetChecksum(buf);
    const s = (performance.now() - t0) / 1000;
    if (acc === -1) console.log(acc);
    runs.push((size * reps) / s / 1e9);
  }
  figures.push({ name: `checksum ${size} B`, value: median(runs), unit: 'GB/s', spread: `${Math.min(...runs).toFixed(2)}-${Math.max(...runs).toFixed(2)}`, reference: 'target >= 3 GB/s on 64 KiB' });
}

function bulk(mtu: number, bytes: number): void {
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const s = new Scenario({ seed: r + 1, mtu, delay: micros(0), tcp: { sndBuf: 4 << 20, rcvBuf: 4 << 20 } });
    const { client, server } = connectPair(s);
    const chunk = new Uint8Array(256 * 1024);
    const buf = new Uint8Array(1 << 20);
    let sent = 0;
    let got = 0;
    const t0 = performance.now();
    s.runUntil(() => {
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
    }, 3_600_000);
    const secs = (performance.now() - t0) / 1000;
    runs.push((got * 8) / secs / 1e9);
  }
  figures.push({ name: `bulk, two stacks in one process, MTU ${mtu}, ${bytes >> 20} MiB`, value: median(runs), unit: 'Gbit/s', spread: `${Math.min(...runs).toFixed(3)}-${Math.max(...runs).toFixed(3)}`, reference: 'tcpip.js ~0.05 (0.48 patched); target >= 5 (MTU 1500), >= 20 (MTU 65535)' });
}

const size = Number(process.env['BENCH_BYTES'] ?? 64 << 20);
checksum(1460);
checksum(65535);
bulk(1500, size);
bulk(65535, size);

const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', memGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
console.log(`machine: ${machine.cpus} x ${machine.model}, ${machine.memGiB} GiB, Node ${machine.node}`);
for (const f of figures) console.log(`${f.name.padEnd(56)} ${f.value.toFixed(3).padStart(9)} ${f.unit.padEnd(7)} (${f.spread ?? ''})  ${f.reference ?? ''}`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/latest.json', import.meta.url), JSON.stringify({ machine, at: new Date().toISOString(), figures }, null, 2));
