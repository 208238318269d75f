// The benchmark suite's runner (issue 10): parses the options, runs each case in its own child
// process (bench/child.ts, with --expose-gc and a heap sized to the machine), prints each case's
// table as it finishes, then the targets, and writes everything, with the machine described, to
// bench/results/latest.json. `npm run bench` and `synack bench` both come here. Figures, never
// pass/fail: the exit code is 0 unless a case failed to run.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildChild, tsxEntry, type ChildEntry } from './build.js';
import { CASES, findCase } from './cases/index.js';
import { describeMachine, machineLine, type Machine } from './machine.js';
import { parseBytes, parseCount } from './stats.js';
import { caseLines, targetLines } from './table.js';
import type { BenchOptions, CaseResult, Sizes } from './types.js';

const HERE = dirname(fileURLToPath(import.meta.url));

/** Sizes of a default run; --full adds the 1,000,000 cases. */
export function defaultSizes(full: boolean): Sizes {
  return {
    bulkBytes: 2 ** 30,
    rrTrips: 20_000,
    connRate: 20_000,
    nodeConnRate: 10_000,
    concurrency: full ? [100_000, 1_000_000] : [100_000],
    timeWait: full ? [100_000, 1_000_000] : [100_000],
    synFlood: 500_000,
    checksumBytes: 2e8,
  };
}

/** Sizes of a --quick smoke run: every code path, seconds per case. */
export function quickSizes(): Sizes {
  return {
    bulkBytes: 8 << 20,
    rrTrips: 2000,
    connRate: 2000,
    nodeConnRate: 1000,
    concurrency: [2000],
    timeWait: [2000],
    synFlood: 20_000,
    checksumBytes: 2e7,
  };
}

/** The command line's help. */
export const USAGE = `usage: npm run bench -- [options]      (or: synack bench [options])

Runs issue 10's benchmark suite; prints a table per case and writes bench/results/latest.json.

  --quick            small sizes, 2 repetitions: a smoke run of every case in under a minute
  --full             also 1,000,000 idle connections and TIME-WAIT entries (or BENCH_FULL=1)
  --only <cases>     comma-separated ids or numbers: ${CASES.map((c) => `${c.n}=${c.id}`).join(' ')}
  --reps <n>         repetitions per figure (default: 3 for bulk and memory cases, 5 otherwise)
  --bytes <size>     bytes per bulk transfer, e.g. 256M (default 1G; or BENCH_BYTES)
  --idle <counts>    idle connection counts for case 4, e.g. 100k,1M
  --timewait <counts> TIME-WAIT entry counts for case 5, e.g. 100k,1M
  --profile          case 9: CPU and heap profiles of case 1, written to bench/results/
  --no-profile-missed  do not profile a case whose target is missed (default: profile it, except with --quick)
  --out <file>       where the JSON goes (default bench/results/latest.json); profiles go beside it
  --json             print the JSON on stdout instead of the tables
  --list             list the cases
  -h, --help         this text
`;

/** Thrown for a bad command line; the message says what is wrong. */
export class BenchUsageError extends Error {}

/** Parses the command line (and BENCH_FULL / BENCH_BYTES) into options. */
export function parseBenchArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BenchOptions & { json: boolean; list: boolean; help: boolean } {
  let v;
  try {
    v = parseArgs({
      args: [...argv],
      options: {
        quick: { type: 'boolean' }, full: { type: 'boolean' }, only: { type: 'string' }, reps: { type: 'string' },
        bytes: { type: 'string' }, idle: { type: 'string' }, timewait: { type: 'string' }, profile: { type: 'boolean' },
        'no-profile-missed': { type: 'boolean' }, out: { type: 'string' }, json: { type: 'boolean' }, list: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new BenchUsageError(e instanceof Error ? e.message : String(e));
  }
  const quick = v.quick === true;
  const full = v.full === true || env['BENCH_FULL'] === '1';
  const sizes = quick ? quickSizes() : defaultSizes(full);
  if (quick && full) sizes.concurrency = sizes.timeWait = [2000, 20_000];
  const bytes = v.bytes ?? env['BENCH_BYTES'];
  if (bytes !== undefined) {
    const b = parseBytes(bytes);
    if (!Number.isFinite(b) || b < 1) throw new BenchUsageError(`--bytes: ${JSON.stringify(bytes)} is not a size (like 1G, 256M, 1048576)`);
    sizes.bulkBytes = b;
  }
  const counts = (name: string, text: string | undefined): number[] | undefined => {
    if (text === undefined) return undefined;
    const xs = text.split(',').map(parseCount);
    if (xs.some((x) => !Number.isInteger(x) || x < 1)) throw new BenchUsageError(`--${name}: ${JSON.stringify(text)} is not a list of counts (like 100k,1M)`);
    return xs;
  };
  sizes.concurrency = counts('idle', v.idle) ?? sizes.concurrency;
  sizes.timeWait = counts('timewait', v.timewait) ?? sizes.timeWait;
  let reps: number | undefined;
  if (v.reps !== undefined) {
    reps = Number(v.reps);
    if (!Number.isInteger(reps) || reps < 1) throw new BenchUsageError(`--reps: ${JSON.stringify(v.reps)} is not a positive integer`);
  }
  let only: string[] | undefined;
  if (v.only !== undefined) {
    only = v.only.split(',').map((s) => s.trim()).filter((s) => s !== '').map((k) => {
      const c = findCase(k);
      if (c === undefined) throw new BenchUsageError(`--only: unknown case ${JSON.stringify(k)}; the cases: ${CASES.map((x) => `${x.n}=${x.id}`).join(', ')}`);
      return c.id;
    });
  }
  if (v.profile === true) only = [...(only ?? CASES.filter((c) => c.byDefault).map((c) => c.id)), 'profile'];
  const out = resolve(v.out ?? resolve(HERE, 'results', 'latest.json'));
  const root = resolve(HERE, '..');
  return {
    quick, full, reps, only, profile: v.profile === true,
    profileMissed: v['no-profile-missed'] !== true && !quick,
    out,
    // Profiles go beside the JSON.
    resultsDir: dirname(out),
    root,
    sizes,
    json: v.json === true, list: v.list === true, help: v.help === true,
  };
}

/** Everything a run produced: what bench/results/latest.json holds. */
export interface SuiteResult {
  at: string;
  machine: Machine;
  /** How the measured code was prepared (see bench/build.ts). */
  runtime: string;
  /** Load averages when the run ended. */
  loadAvgAfter: number[];
  argv: string[];
  options: BenchOptions;
  cases: CaseResult[];
}

/** Heap limit for the case processes: three quarters of the machine (1M connections need gigabytes). */
const heapLimitMb = (): number => Math.max(2048, Math.floor((totalmem() / 2 ** 20) * 0.75));

/** Runs one case in a child process started from `child`; resolves to its result (an error result if the child died). */
export function runCaseInChild(id: string, opts: BenchOptions, child: ChildEntry = tsxEntry()): Promise<CaseResult> {
  const entry = findCase(id)!;
  const args = ['--expose-gc', `--max-old-space-size=${heapLimitMb()}`, ...child.execArgv, child.script, id, JSON.stringify(opts)];
  return new Promise((done) => {
    const t0 = performance.now();
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: CaseResult | undefined;
    proc.on('message', (m) => { result = m as CaseResult; });
    proc.on('error', (e) => { done(failed(entry.id, entry.n, entry.title, `could not start: ${e.message}`, t0)); });
    proc.on('exit', (code, signal) => {
      if (result !== undefined) done(result);
      else done(failed(entry.id, entry.n, entry.title, `the case's process ended (${signal ?? `exit code ${code}`}) without a result${code === 134 || signal === 'SIGABRT' ? ' (out of memory?)' : ''}`, t0));
    });
  });
}

const failed = (id: string, n: number, title: string, error: string, t0: number): CaseResult =>
  ({ id, n, title, figures: [], notes: [], profiles: [], error, seconds: (performance.now() - t0) / 1000 });

/**
 * How far the run is, for `synack bench`'s progress bar (src/cli/bench.ts): sent over the IPC
 * channel only when that parent asked for it (SYNACK_BENCH_PROGRESS=1); otherwise a no-op.
 */
function progressReporter(): (done: number, total: number, label: string) => void {
  if (process.send === undefined || process.env['SYNACK_BENCH_PROGRESS'] !== '1') return () => undefined;
  process.channel?.unref(); // the channel must not keep the suite alive once it is done
  return (done, total, label) => void process.send?.({ type: 'bench-progress', done, total, label });
}

/** Runs the suite: every selected case, each in its own process; prints tables unless `json`. */
export async function runSuite(opts: BenchOptions & { json?: boolean }, argv: readonly string[] = []): Promise<SuiteResult> {
  const machine = describeMachine();
  const ids = opts.only ?? CASES.filter((c) => c.byDefault).map((c) => c.id);
  const print = (s: string): void => {
    if (opts.json !== true) process.stdout.write(`${s}\n`);
  };
  print(`synack benchmarks ${new Date().toISOString()}${opts.quick ? ' (--quick: small sizes, figures not comparable)' : ''}`);
  print(`machine: ${machineLine(machine)}`);
  // The cases run the code bundled as tsc would compile it (bench/build.ts); case 8 loads
  // bench/tap.ts at run time, so it runs through tsx (its figures are I/O bound).
  // One directory per run: two runs at once (a bench and the test suite) never share a bundle.
  const buildDir = resolve(opts.root, '.tmp', 'bench', String(process.pid));
  const bundled = await buildChild(buildDir);
  print(`code: ${bundled.runtime}`);
  if (machine.loadAvg[0]! > machine.cores * 0.5) print(`warning: load average ${machine.loadAvg[0]} on ${machine.cores} cores: other work is running and will skew the figures`);
  print('');
  const cases: CaseResult[] = [];
  const progress = progressReporter();
  try {
    for (const id of ids) {
      progress(cases.length, ids.length, id);
      const r = await runCaseInChild(id, opts, id === 'tap' ? tsxEntry() : bundled);
      cases.push(r);
      print(caseLines(r).join('\n'));
      print('');
    }
    progress(cases.length, ids.length, '');
  } finally {
    rmSync(buildDir, { recursive: true, force: true });
  }
  if (cases.some((c) => c.figures.some((f) => f.target !== undefined))) print(targetLines(cases).join('\n'));
  const { json: _json, ...options } = opts as BenchOptions & { json?: boolean; list?: boolean; help?: boolean };
  const result: SuiteResult = { at: new Date().toISOString(), machine, runtime: bundled.runtime, loadAvgAfter: describeMachine().loadAvg, argv: [...argv], options, cases };
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(result, null, 2)}\n`);
  print(`\nwritten: ${opts.out}`);
  if (opts.json === true) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return result;
}

/** The command line: parses `argv`, runs, returns the exit code (0; 1 when a case failed; 2 usage). */
export async function main(argv: readonly string[]): Promise<number> {
  let opts;
  try {
    opts = parseBenchArgs(argv);
  } catch (e) {
    if (!(e instanceof BenchUsageError)) throw e;
    process.stderr.write(`bench: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (opts.list) {
    for (const c of CASES) process.stdout.write(`  ${String(c.n).padStart(2)}  ${c.id.padEnd(12)} ${c.title}${c.byDefault ? '' : ' (with --profile)'}\n`);
    return 0;
  }
  const r = await runSuite(opts, argv);
  return r.cases.some((c) => c.error !== undefined) ? 1 : 0;
}
