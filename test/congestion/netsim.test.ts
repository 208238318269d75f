// The netsim table (bench/netsim.ts) as a golden snapshot: goodput of NewReno and CUBIC over a
// 10 Mbit/s bottleneck with a 64-frame tail-drop queue, per loss rate and RTT, next to the Mathis
// et al. bound. Virtual time makes every figure reproducible, so any change to loss recovery or
// congestion control shows up here as a diff of the table to read.
//
// The default is a reduced grid (a few seconds); NETSIM_FULL=1 runs the full grid (loss
// {0, 0.1, 1, 5, 10}% x RTT {1, 20, 100} ms, 30 s each) against its own golden file.
// To regenerate after an intended change: UPDATE_GOLDEN=1 [NETSIM_FULL=1] npx vitest run test/congestion/netsim.test.ts
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { FULL_GRID, renderTable, runGrid, type NetsimGrid } from '../../bench/netsim.js';
import { seconds } from '../../src/time/instant.js';

const here = dirname(fileURLToPath(import.meta.url));
const update = process.env['UPDATE_GOLDEN'] === '1';
const full = process.env['NETSIM_FULL'] === '1';

const REDUCED: NetsimGrid = { loss: [0, 0.01, 0.05], rttMs: [20, 100], algorithms: ['newreno', 'cubic'], duration: seconds(5) };

describe('netsim golden table', () => {
  const grid = full ? FULL_GRID : REDUCED;
  const name = full ? 'netsim-full.md' : 'netsim.md';
  test(name, { timeout: full ? 600_000 : 60_000 }, () => {
    const rows = runGrid(grid);
    const text = `${renderTable(grid, rows)}\n`;
    console.log(text);
    const path = join(here, 'golden', name);
    if (update || !existsSync(path)) {
      if (!update) throw new Error(`${path} is missing: run UPDATE_GOLDEN=1 npx vitest run test/congestion/netsim.test.ts`);
      writeFileSync(path, text);
    }
    expect(text).toBe(readFileSync(path, 'utf8'));
    // Sanity beyond the snapshot: every transfer moved data and none beat the link. (The Mathis
    // bound is printed, not asserted: it describes steady-state Reno congestion avoidance, and a
    // 5 s run at 100 ms RTT is mostly slow start and recovery, which it does not model.)
    for (const r of rows) {
      expect(r.goodput).toBeGreaterThan(0);
      expect(r.goodput).toBeLessThanOrEqual(10_000_000);
    }
  });
});
