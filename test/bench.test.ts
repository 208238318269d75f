// Keeps the benchmark suite (bench/) from rotting: runs the real runner, each case in its own
// process as `npm run bench` does, with --quick sizes and one repetition, and checks that every
// case produced its figures and the JSON. It asserts nothing about timing: the figures are
// whatever this machine measures. Case 8 (TAP) is left out: it needs root, builds devices in
// namespaces and takes seconds per measurement (bench/tap.ts and test/interop cover that path).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import type { SuiteResult } from '../bench/suite.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'synack-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('benchmark suite (bench/)', () => {
  test('--quick runs every case and writes figures, profiles and JSON', async () => {
    const out = join(dir, 'latest.json');
    const tsx = import.meta.resolve('tsx');
    const { stdout } = await run(process.execPath, [
      '--import', tsx, join(root, 'bench', 'run.ts'),
      '--quick', '--reps', '1', '--only', 'bulk,rr,connrate,concurrency,timewait,synflood,checksum,profile', '--out', out,
    ], { cwd: root, maxBuffer: 16 << 20, env: { ...process.env, NO_COLOR: '1' } });
    const r = JSON.parse(readFileSync(out, 'utf8')) as SuiteResult;
    expect(r.machine.cores).toBeGreaterThan(0);
    expect(r.cases.map((c) => c.id)).toEqual(['bulk', 'rr', 'connrate', 'concurrency', 'timewait', 'synflood', 'checksum', 'profile']);
    for (const c of r.cases) {
      expect(c.error, `${c.id}: ${c.error}`).toBeUndefined();
      expect(c.skipped).toBeUndefined();
      // Every figure has a number, or says plainly why not (SYN cookies not yet implemented).
      for (const f of c.figures) {
        if (f.value === null) expect(f.note, `${c.id} ${f.id}`).toMatch(/not yet implemented/);
        else expect(Number.isFinite(f.value), `${c.id} ${f.id} = ${f.value}`).toBe(true);
        expect(f.id.startsWith(`${c.id}.`)).toBe(true);
      }
    }
    const ids = r.cases.flatMap((c) => c.figures.map((f) => f.id));
    for (const id of ['bulk.mtu1500.gbps', 'bulk.mtu65535.gbps', 'bulk.node-net.gbps', 'bulk.mtu1500.ratio-node', 'rr.trips-per-s', 'rr.p99-us',
      'connrate.synack.per-s', 'connrate.ratio-node', 'concurrency.2k.bytes-per-end', 'concurrency.2k.open-s', 'timewait.2k.bytes-per-entry',
      'timewait.2k.cpu-per-s', 'timewait.2k.expire-s', 'synflood.per-s', 'checksum.1460.gbps', 'checksum.65535.gbps']) {
      expect(ids).toContain(id);
    }
    // Case 9: profiles of case 1, with their top functions, written beside the JSON.
    const prof = r.cases.find((c) => c.id === 'profile')!;
    expect(prof.profiles).toHaveLength(2);
    for (const p of prof.profiles) {
      expect(p.top.length).toBeGreaterThan(0);
      expect(existsSync(join(root, p.cpuFile!))).toBe(true);
    }
    // The table: one per case, and the targets.
    expect(stdout).toMatch(/1\. Bulk throughput/);
    expect(stdout).toMatch(/Targets \(goals from issue 10, not assertions\)/);
  }, 180_000);

  test('a bad option is a usage error (exit code 2) naming it', async () => {
    const tsx = import.meta.resolve('tsx');
    const e = await run(process.execPath, ['--import', tsx, join(root, 'bench', 'run.ts'), '--only', 'nope'], { cwd: root }).catch((x: unknown) => x);
    expect((e as { code?: number }).code).toBe(2);
    expect((e as { stderr?: string }).stderr).toMatch(/unknown case "nope"/);
  }, 60_000);
});
