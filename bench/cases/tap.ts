// Case 8: synack over the TAP driver against the Linux kernel, with iperf3 between two
// namespaces over veth for reference. The work is bench/tap.ts (owned by the TAP driver's
// author); this case runs it when it and src/link/tap.ts are there, and reports why not
// otherwise (no root, no /dev/net/tun, no addon: bench/tap.ts says which).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SkipCase, type BenchCase, type CaseContext } from '../types.js';

interface TapModule {
  tapBench(): Promise<{ figures: { name: string; value: number; unit: string; spread?: string; reference?: string }[]; skipped: string[] }>;
}

export const tapCase: BenchCase = {
  id: 'tap',
  n: 8,
  title: 'Over the TAP driver against the Linux kernel',
  async run(ctx: CaseContext): Promise<void> {
    const driver = join(ctx.opts.root, 'src', 'link', 'tap.ts');
    const bench = join(ctx.opts.root, 'bench', 'tap.ts');
    if (!existsSync(driver) || !existsSync(bench)) {
      ctx.note(`skipped: ${!existsSync(driver) ? 'src/link/tap.ts' : 'bench/tap.ts'} is not in the tree`);
      throw new SkipCase('no TAP driver or TAP benchmark in the tree');
    }
    if (ctx.opts.quick) {
      // Shorter measurements for a smoke run (bench/tap.ts reads these when called).
      process.env['BENCH_TAP_SECONDS'] ??= '0.5';
      process.env['BENCH_TAP_BYTES'] ??= String(20e6);
    }
    const mod = (await import(pathToFileURL(bench).href)) as TapModule;
    const { figures, skipped } = await mod.tapBench();
    for (const s of skipped) ctx.note(`skipped: ${s}`);
    if (figures.length === 0) throw new SkipCase(skipped.join('; ') || 'bench/tap.ts measured nothing');
    ctx.note(`bench/tap.ts: BENCH_TAP_SECONDS=${process.env['BENCH_TAP_SECONDS'] ?? '2'} per raw measurement, BENCH_TAP_BYTES=${process.env['BENCH_TAP_BYTES'] ?? '200e6'} per TCP direction`);
    figures.forEach((f, i) => {
      const spread = f.spread?.split('-').map(Number);
      ctx.figure({
        id: `tap.${i}`, name: f.name, value: f.value, unit: f.unit,
        ...(spread !== undefined && spread.length === 2 && spread.every(Number.isFinite) ? { min: spread[0]!, max: spread[1]! } : {}),
        ...(f.reference !== undefined ? { reference: f.reference } : {}),
      });
    });
  },
};
