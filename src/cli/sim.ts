// `synack sim <file>`: runs a user-written scenario (src/sim/script.ts): a JSON file, or a TS/JS
// module whose default export is such an object or a function `(ctx) => void` that builds the
// network itself. Prints the sequence diagram, each connection's tcp_info, the events and each
// host's socket table; writes `--pcap` / `--svg`; `--json` for machines. Exit codes: 0 when every
// step ran and nothing unexpected happened, 1 when a step failed (an unexpected error, a step
// that never ran, an unmet `expect`), 2 for a bad file or bad options. Node only (reads and
// writes files); the scenario model itself is browser-safe.
import { readFileSync, writeFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { PcapWriter, PcapngWriter, type CaptureSink } from '../link/capture.js';
import { ScriptError, loadModuleExport, parseScript, type ScriptRun, type SimOutcome } from '../sim/script.js';
import { formatInstant } from '../time/instant.js';
import { formatSocketTable, formatTcpInfo } from '../trace/stats.js';
import { UsageError, parseSeed } from './demo.js';
import { progressBar } from './progress.js';
import type { RenderOptions } from './tour.js';

/** The options of `synack sim`, as commander hands them over. */
export interface SimFlags {
  seed?: string;
  pcap?: string;
  svg?: string;
  json?: boolean;
  absolute?: boolean;
  progress?: boolean;
}

const MODULE_EXTS = new Set(['.ts', '.mts', '.js', '.mjs']);

/** Loads a scenario file into a run; every problem with the file becomes a UsageError naming it. */
export async function loadSimFile(file: string, opts: { seed?: number; capture?: CaptureSink }): Promise<{ run: ScriptRun; description: string | undefined }> {
  const ext = extname(file).toLowerCase();
  const where = (e: unknown): never => {
    if (e instanceof ScriptError) throw new UsageError(`${file}: ${e.message}`);
    throw e;
  };
  if (ext === '.json') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    try {
      const run = parseScript(text, opts);
      const d = (JSON.parse(text) as { description?: unknown }).description;
      return { run, description: typeof d === 'string' ? d : undefined };
    } catch (e) {
      return where(e);
    }
  }
  if (!MODULE_EXTS.has(ext)) throw new UsageError(`${file}: expected a .json scenario or a .ts/.js module`);
  let mod: { default?: unknown; description?: unknown };
  try {
    mod = await importModule(resolve(file), ext);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && !existsQuiet(file)) throw new UsageError(`cannot read ${file}: ENOENT`);
    throw new UsageError(`${file}: cannot load the module: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (mod.default === undefined) throw new UsageError(`${file}: the module has no default export (export a scenario object or a function (ctx) => void)`);
  try {
    const run = loadModuleExport(mod.default, opts);
    const d = typeof mod.default === 'object' && mod.default !== null ? (mod.default as { description?: unknown }).description : mod.description;
    return { run, description: typeof d === 'string' ? d : undefined };
  } catch (e) {
    return where(e);
  }
}

function existsQuiet(file: string): boolean {
  try {
    readFileSync(file);
    return true;
  } catch {
    return false;
  }
}

/** Imports a module; a .ts module outside tsx gets tsx's loader registered first (a checkout has it). */
async function importModule(path: string, ext: string): Promise<{ default?: unknown; description?: unknown }> {
  const url = pathToFileURL(path).href;
  try {
    return (await import(url)) as { default?: unknown };
  } catch (e) {
    if ((ext !== '.ts' && ext !== '.mts') || (e as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e;
    const { register } = (await import('tsx/esm/api')) as { register: () => unknown };
    register();
    return (await import(url)) as { default?: unknown };
  }
}

/** The run's outcome as JSON (tcp_info per connection, events, tables, failures, the diagram). */
export function outcomeJson(file: string, o: SimOutcome, run: ScriptRun, absolute: boolean, files: string[]): Record<string, unknown> {
  return {
    file, ok: o.ok, failures: o.failures, stopped: o.reason, end: o.end / 1e6,
    steps: o.steps.map((s) => ({ path: s.path, ran: s.ran, at: s.at === undefined ? null : s.at / 1e6 })),
    sockets: o.sockets.map((s) => ({ ...s, error: s.error ?? null, local: s.local ?? null, remote: s.remote ?? null, info: s.info ?? null })),
    events: o.events.map((e) => ({ at: e.at / 1e6, socket: e.socket, event: e.event, ...(e.detail !== undefined ? { detail: e.detail } : {}) })),
    hosts: o.hosts,
    diagram: run.diagram({ absolute }),
    files,
  };
}

/** The run's outcome as text: diagram, tcp_info, events, socket tables, failures. */
export function outcomeText(o: SimOutcome, run: ScriptRun, render: RenderOptions, description: string | undefined, files: string[]): string {
  const dim = render.dim ?? ((s: string) => s);
  const lines: string[] = [];
  if (description !== undefined) lines.push(description, '');
  lines.push(run.diagram({ absolute: render.absolute === true, ...(render.style !== undefined ? { style: render.style } : {}) }), '');
  const conns = o.sockets.filter((s) => s.kind === 'connection');
  if (conns.length > 0) {
    lines.push('  connections (tcp_info at the end)');
    for (const s of conns) {
      lines.push(`    ${s.name} on ${s.host}: ${s.local ?? '?'} -> ${s.remote ?? '?'} ${s.state}, sent ${s.sent} B, received ${s.received} B${s.eof ? ', eof' : ''}${s.error !== undefined ? `, error ${s.error}` : ''}`);
      if (s.info !== undefined) lines.push(dim(`      ${formatTcpInfo(s.info)}`));
    }
    lines.push('');
  }
  for (const s of o.sockets.filter((x) => x.kind !== 'connection')) {
    lines.push(`  ${s.name} on ${s.host}: ${s.kind === 'listener' ? `listener ${s.local ?? ''}, ${s.count} accepted` : `flood, ${s.count} SYNs sent`}`);
  }
  lines.push('', '  events');
  for (const e of o.events) lines.push(`    ${formatInstant(e.at).padStart(12)}  ${e.socket} ${e.event}${e.detail !== undefined ? ` (${e.detail})` : ''}`);
  for (const h of o.hosts) {
    lines.push('', `  ss -tan on ${h.name}`, ...formatSocketTable(h.table).split('\n').map((l) => `    ${l}`));
    const c = h.counters;
    const keys = ['TcpActiveOpens', 'TcpPassiveOpens', 'TcpRetransSegs', 'TcpEstabResets', 'TcpExtSyncookiesSent', 'TcpExtSyncookiesRecv', 'TcpExtListenDrops', 'TcpExtListenOverflows'].filter((k) => c[k] !== undefined);
    if (keys.length > 0) lines.push(dim(`    ${keys.map((k) => `${k} ${c[k]}`).join('  ')}`));
  }
  lines.push('', `  stopped at ${formatInstant(o.end)}s (${o.reason === 'quiescent' ? 'nothing left to do' : o.reason === 'max-time' ? 'the file\'s "until"' : o.reason})`);
  for (const f of files) lines.push(`  wrote ${f}`);
  if (o.ok) lines.push('  ok: every step ran, nothing unexpected happened');
  else lines.push(`  FAILED (${o.failures.length}):`, ...o.failures.map((f) => `    - ${f}`));
  return lines.join('\n');
}

/** Runs `synack sim`; returns the text to print and the exit code. */
export async function runSim(file: string, flags: SimFlags, render: RenderOptions): Promise<{ output: string; code: number }> {
  const seed = flags.seed !== undefined ? parseSeed(flags.seed) : undefined;
  const sink = flags.pcap === undefined ? undefined : flags.pcap.toLowerCase().endsWith('.pcapng') ? new PcapngWriter() : new PcapWriter();
  const { run, description } = await loadSimFile(file, { ...(seed !== undefined ? { seed } : {}), ...(sink !== undefined ? { capture: sink } : {}) });
  const total = Math.round(run.until / 1e6);
  const bar = progressBar(total, 's virtual', flags.progress === false ? false : undefined);
  let outcome: SimOutcome;
  try {
    outcome = run.run({ onProgress: (now) => bar.update(Math.floor(now / 1e6)) });
  } catch (e) {
    if (e instanceof ScriptError) throw new UsageError(`${file}: ${e.message}`);
    throw e;
  } finally {
    bar.stop();
  }
  const files: string[] = [];
  if (flags.pcap !== undefined && sink !== undefined) {
    writeFileSync(flags.pcap, sink.bytes());
    files.push(flags.pcap);
  }
  if (flags.svg !== undefined) {
    writeFileSync(flags.svg, run.svg({ title: description ?? file, absolute: flags.absolute === true }));
    files.push(flags.svg);
  }
  const output = flags.json === true
    ? JSON.stringify(outcomeJson(file, outcome, run, flags.absolute === true, files), null, 2)
    : outcomeText(outcome, run, { ...render, absolute: flags.absolute === true }, description, files);
  return { output, code: outcome.ok ? 0 : 1 };
}

/** Registers `synack sim <file>` on the program. */
export function registerSim(program: Command, render: () => RenderOptions): void {
  program
    .command('sim')
    .description('run a scenario file: hosts, links, impairments and application steps (JSON, or a TS/JS module; see examples/)')
    .argument('<file>', 'a .json scenario or a .ts/.js module whose default export is one (or a function (ctx) => void)')
    .option('--seed <n>', 'random seed, overriding the file\'s')
    .option('--pcap <file>', 'write every frame, once, as its sender sent it (.pcapng: one interface per host)')
    .option('--svg <file>', 'write the diagram as SVG')
    .option('--absolute', 'absolute sequence numbers')
    .option('--json', 'machine-readable output')
    .option('--no-progress', 'no progress bar (it is only shown on a terminal, and never with CI=true)')
    .action(async (file: string, flags: SimFlags) => {
      const { output, code } = await runSim(file, flags, render());
      console.log(output);
      process.exitCode = code;
    });
}
