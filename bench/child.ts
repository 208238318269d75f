// One case of the suite in its own process (started by bench/suite.ts with --expose-gc and a
// large heap): memory figures start from a clean heap, and a case that runs out of memory
// cannot take the others with it. Usage: child.ts <case-id> <options as JSON>; the CaseResult
// goes back over the IPC channel (or to stdout as JSON when there is none).
import { findCase } from './cases/index.js';
import { profileWorkload } from './profile.js';
import { meets } from './stats.js';
import { SkipCase, type BenchOptions, type CaseContext, type CaseResult, type ProfileWorkload } from './types.js';

/** Runs case `id` with `opts` in this process. */
export async function runCase(id: string, opts: BenchOptions): Promise<CaseResult> {
  const entry = findCase(id);
  if (entry === undefined) throw new Error(`unknown case ${id}`);
  const c = await entry.load();
  const result: CaseResult = { id: c.id, n: c.n, title: c.title, figures: [], notes: [], profiles: [], seconds: 0 };
  const ctx: CaseContext = {
    opts,
    sizes: opts.sizes,
    reps: (fallback) => opts.reps ?? (opts.quick ? Math.min(2, fallback) : fallback),
    figure: (f) => {
      if (f.target !== undefined && f.value !== null && Number.isFinite(f.value)) f.met = meets(f.value, f.target);
      result.figures.push(f);
      return f;
    },
    note: (t) => void result.notes.push(t),
    log: (t) => void process.stderr.write(`  [${c.id}] ${t}\n`),
    addProfile: (p) => void result.profiles.push(p),
  };
  const t0 = performance.now();
  try {
    await c.run(ctx);
  } catch (e) {
    if (e instanceof SkipCase) result.skipped = e.message;
    else result.error = e instanceof Error ? (e.stack ?? e.message) : String(e);
  }
  // Where a target is missed, profile the case's workload and report its top functions.
  const missed = result.figures.some((f) => f.met === false);
  if (missed && opts.profileMissed && c.profile !== undefined && result.error === undefined) {
    const ws = [c.profile(ctx)].flat() as ProfileWorkload[];
    for (const w of ws) {
      ctx.log(`target missed: profiling ${w.what}`);
      const slug = w.what.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase();
      try {
        result.profiles.push(await profileWorkload(w, { file: `${opts.resultsDir}/${c.id}-${slug}`, top: 10, allocTop: 6, root: opts.root }));
      } catch (e) {
        result.notes.push(`profiling ${w.what} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}

const [, , id, json] = process.argv;
if (id !== undefined && json !== undefined && /child\.[cm]?[jt]s$/.test(process.argv[1] ?? '')) {
  const r = await runCase(id, JSON.parse(json) as BenchOptions);
  if (process.send !== undefined) {
    await new Promise<void>((resolve) => process.send!(r, undefined, {}, () => resolve()));
    process.disconnect();
  } else {
    process.stdout.write(`${JSON.stringify(r)}\n`);
  }
  // Handles from Node's net (case 1-3 references) or bench/tap.ts must not keep us alive.
  process.exit(0);
}
