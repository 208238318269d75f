// `synack bench`: runs the benchmark suite of bench/ (issue 10), the same as `npm run bench`,
// with the same options (`synack bench --help` prints them). The suite lives outside src/ (it
// is not part of the build), so this starts it as its own Node process through tsx: it needs a
// source checkout with the dev dependencies installed.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';

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

/** Runs the suite with `args`; resolves to its exit code. */
export function runBench(args: readonly string[]): Promise<number> {
  const entry = benchEntry();
  const tsx = tsxLoader();
  if (entry === undefined || tsx === undefined) {
    process.stderr.write(`synack bench: needs a source checkout with its dev dependencies (${entry === undefined ? 'bench/run.ts is missing' : 'tsx is not installed: run npm install'})\n`);
    return Promise.resolve(1);
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', tsx, entry, ...args], { stdio: 'inherit' });
    child.on('error', (e) => {
      process.stderr.write(`synack bench: ${e.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal !== null ? 1 : 0)));
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
