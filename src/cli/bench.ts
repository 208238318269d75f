// `synack bench`: runs the benchmark suite of bench/ (issue 10), the same as `npm run bench`,
// with the same options (`synack bench --help` prints them). The suite lives outside src/ (it
// is not part of the build), so this starts it as its own Node process through tsx: it needs a
// source checkout with the dev dependencies installed. On an interactive terminal (not under CI,
// not with --json) it draws a progress bar, one tick per finished case (src/cli/progress.ts): the
// suite reports how far it is over an IPC channel (bench/suite.ts, SYNACK_BENCH_PROGRESS=1), and
// its output passes through here line by line so the bar is cleared before each line and redrawn
// after it; the printed tables are unchanged.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import type { Command } from 'commander';
import { progressBar, progressWanted, type Progress } from './progress.js';

/** The suite's entry point (bench/run.ts) from src/cli or dist/cli, or undefined without a checkout. */
function benchEntry(): string | undefined {
  const entry = fileURLToPath(new URL('../../bench/run.ts', import.meta.url));
  return existsSync(entry) ? entry : undefined;
}

/** tsx's loader, resolved from this package, or undefined when the dev dependencies are missing. */
function tsxLoader(): string | undefined {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return undefined;
  }
}

/** Whether `synack bench args` draws a progress bar: `wanted` (a TTY, not CI) and the args run cases with tables (not --json, --help, --list). */
export function benchWantsBar(args: readonly string[], wanted: boolean = progressWanted()): boolean {
  return wanted && !args.some((a) => a === '--json' || a === '--help' || a === '-h' || a === '--list');
}

/** A progress message from the suite (bench/suite.ts progressReporter). */
interface BenchProgress {
  type: 'bench-progress';
  done: number;
  total: number;
  label: string;
}

const isBenchProgress = (m: unknown): m is BenchProgress =>
  typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'bench-progress' &&
  typeof (m as { done?: unknown }).done === 'number' && typeof (m as { total?: unknown }).total === 'number';

/** The bar plus the suite's output: whole lines are written with the bar cleared, then it is redrawn. */
class BarPrinter {
  private bar: Progress | undefined;
  private done = 0;
  private total = 0;
  private label = '';

  /** The suite finished `done` of `total` cases and is running `label`. */
  progress(m: BenchProgress): void {
    this.done = m.done;
    this.total = m.total;
    this.label = m.label === '' ? '' : `running ${m.label}`;
    if (this.done >= this.total) return this.stop();
    this.bar ??= progressBar(this.total, 'cases', true);
    this.bar.update(this.done, this.label);
  }

  /** Copies `from` to `to` a line at a time, each written with the bar out of the way. */
  pipe(from: Readable, to: Writable): void {
    let pending = '';
    from.setEncoding('utf8');
    from.on('data', (chunk: string) => {
      const text = pending + chunk;
      const end = text.lastIndexOf('\n') + 1;
      pending = text.slice(end);
      if (end > 0) this.write(to, text.slice(0, end));
    });
    from.on('end', () => {
      if (pending !== '') this.write(to, pending);
      pending = '';
    });
  }

  private write(to: Writable, text: string): void {
    const shown = this.bar !== undefined;
    this.stop();
    to.write(text);
    if (shown && this.done < this.total) {
      this.bar = progressBar(this.total, 'cases', true);
      this.bar.update(this.done, this.label);
    }
  }

  /** Clears the bar (it clears its line: clearOnComplete). */
  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

/** Runs the suite with `args`; resolves to its exit code. */
export function runBench(args: readonly string[]): Promise<number> {
  const entry = benchEntry();
  const tsx = tsxLoader();
  if (entry === undefined || tsx === undefined) {
    process.stderr.write(`synack bench: needs a source checkout with its dev dependencies (${entry === undefined ? 'bench/run.ts is missing' : 'tsx is not installed: run npm install'})\n`);
    return Promise.resolve(1);
  }
  const bar = benchWantsBar(args) ? new BarPrinter() : undefined;
  return new Promise((resolve) => {
    const child = bar === undefined
      ? spawn(process.execPath, ['--import', tsx, entry, ...args], { stdio: 'inherit' })
      : spawn(process.execPath, ['--import', tsx, entry, ...args], { stdio: ['inherit', 'pipe', 'pipe', 'ipc'], env: { ...process.env, SYNACK_BENCH_PROGRESS: '1' } });
    if (bar !== undefined) {
      bar.pipe(child.stdout!, process.stdout);
      bar.pipe(child.stderr!, process.stderr);
      child.on('message', (m) => {
        if (isBenchProgress(m)) bar.progress(m);
      });
    }
    child.on('error', (e) => {
      bar?.stop();
      process.stderr.write(`synack bench: ${e.message}\n`);
      resolve(1);
    });
    // 'close', not 'exit': the piped output must be written out before we return.
    child.on('close', (code, signal) => {
      bar?.stop();
      resolve(code ?? (signal !== null ? 1 : 0));
    });
  });
}

/** Registers `synack bench [options]`; every option goes to the suite unchanged. */
export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('run the benchmark suite (as npm run bench): figures beside their references and targets, bench/results/latest.json; --help for its options')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[options...]', 'the suite\'s options: --quick, --full, --only <cases>, --profile, ... (synack bench --help)')
    .action(async (args: string[]) => {
      process.exitCode = await runBench(args);
    });
}
