// `synack demo <scenario>`: one scenario of the catalogue with chosen impairments (loss, delay,
// seed), drawn as a sequence diagram with its facts, tcp_info and both hosts' socket tables, and
// optionally saved as a pcap and an SVG. Node only (it writes files).
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { PcapWriter } from '../link/capture.js';
import { millis } from '../time/instant.js';
import { SCENARIOS, ScenarioStalled, findScenario, type ScenarioOptions, type ScenarioResult } from '../sim/scenarios/index.js';
import { formatSocketTable, socketTable } from '../trace/stats.js';
import { renderResult, resultJson, viewOf, type RenderOptions } from './tour.js';

/** A command-line mistake: reported with exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parses a loss rate: `5%`, `0.05`. */
export function parseLoss(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(text.trim());
  if (m === null) throw new UsageError(`--loss: expected a rate like 5% or 0.05, got '${text}'`);
  const v = Number(m[1]) / (m[2] === '%' ? 100 : 1);
  if (!(v >= 0 && v <= 1)) throw new UsageError(`--loss: a rate must be between 0 and 100%, got '${text}'`);
  return v;
}

/** Parses a one-way delay into microseconds: `20ms`, `1s`, `250us`, or plain milliseconds. */
export function parseDelay(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(us|µs|ms|s)?$/.exec(text.trim());
  if (m === null) throw new UsageError(`--delay: expected a duration like 20ms, 1s or 250us, got '${text}'`);
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  const us = unit === 's' ? n * 1e6 : unit === 'ms' ? n * 1e3 : n;
  if (us > 60e6) throw new UsageError(`--delay: at most 60s, got '${text}'`);
  return Math.round(us);
}

/** Parses a seed: any integer. */
export function parseSeed(text: string): number {
  if (!/^-?\d+$/.test(text.trim())) throw new UsageError(`--seed: expected an integer, got '${text}'`);
  return Number(text);
}

/** The options of `synack demo`, as commander hands them over. */
export interface DemoFlags {
  loss?: string;
  delay?: string;
  seed?: string;
  pcap?: string;
  svg?: string;
  absolute?: boolean;
  json?: boolean;
}

/** Where a contrasting run's file goes: `out.pcap` -> `out-2.pcap`. */
export function secondPath(path: string): string {
  const dot = path.lastIndexOf('.');
  return dot > path.lastIndexOf('/') ? `${path.slice(0, dot)}-2${path.slice(dot)}` : `${path}-2`;
}

/** Builds the scenario options from the flags. */
export function demoOptions(flags: DemoFlags): { opts: ScenarioOptions; pcaps: PcapWriter[] } {
  const opts: ScenarioOptions = {};
  if (flags.seed !== undefined) opts.seed = parseSeed(flags.seed);
  if (flags.delay !== undefined) opts.delay = millis(parseDelay(flags.delay) / 1000);
  if (flags.loss !== undefined) {
    const loss = parseLoss(flags.loss);
    opts.clientImpair = { loss };
    opts.serverImpair = { loss };
  }
  const pcaps: PcapWriter[] = [];
  if (flags.pcap !== undefined) {
    const a = new PcapWriter();
    const b = new PcapWriter();
    opts.capture = a;
    opts.contrastCapture = b;
    pcaps.push(a, b);
  }
  return { opts, pcaps };
}

/** Runs `synack demo`; returns the text to print (or throws UsageError / ScenarioStalled). */
export function runDemo(id: string, flags: DemoFlags, render: RenderOptions): string {
  const entry = findScenario(id);
  if (entry === undefined) {
    throw new UsageError(`unknown scenario '${id}'; choose one of:\n${SCENARIOS.map((e) => `  ${e.id.padEnd(24)}${e.title}`).join('\n')}`);
  }
  const { opts, pcaps } = demoOptions(flags);
  const r = entry.run(opts);
  const written: string[] = [];
  if (flags.pcap !== undefined) {
    writeFileSync(flags.pcap, pcaps[0]!.bytes());
    written.push(flags.pcap);
    if (r.contrast !== undefined) {
      writeFileSync(secondPath(flags.pcap), pcaps[1]!.bytes());
      written.push(secondPath(flags.pcap));
    }
  }
  if (flags.svg !== undefined) {
    writeFileSync(flags.svg, r.scenario.svg({ ...viewOf(r, {}), title: `${entry.id}${r.caption !== undefined ? `: ${r.caption}` : ''}` }));
    written.push(flags.svg);
    if (r.contrast !== undefined) {
      const c = r.contrast;
      writeFileSync(secondPath(flags.svg), c.scenario.svg({ ...viewOf(c, {}), title: `${entry.id}${c.caption !== undefined ? `: ${c.caption}` : ''}` }));
      written.push(secondPath(flags.svg));
    }
  }
  if (flags.json === true) {
    return JSON.stringify({ id: entry.id, title: entry.title, ...resultJson(r, flags.absolute === true), sockets: tables(r), files: written }, null, 2);
  }
  const lines = [`${entry.id}: ${entry.title}`, '', renderResult(r, render), ''];
  for (const [host, rows] of Object.entries(tables(r))) {
    lines.push(`  ss -tan on ${host}`, ...formatSocketTable(rows).split('\n').map((l) => `    ${l}`), '');
  }
  for (const f of written) lines.push(`  wrote ${f}`);
  return lines.join('\n').trimEnd();
}

/** Both hosts' socket tables at the end of the run. */
function tables(r: ScenarioResult): Record<string, ReturnType<typeof socketTable>> {
  const s = r.scenario;
  return { [s.client.name]: socketTable(s.client.stack.tcp), [s.server.name]: socketTable(s.server.stack.tcp) };
}

/** Registers `synack demo` on the program. */
export function registerDemo(program: Command, render: () => RenderOptions): void {
  program
    .command('demo')
    .description('run one scenario with chosen impairments and draw it (ids: synack demo --list)')
    .argument('[scenario]', 'scenario id, e.g. handshake, lost-syn, spoofed-rst')
    .option('--list', 'list the scenarios')
    .option('--loss <rate>', 'random loss on both directions, e.g. 5% or 0.05')
    .option('--delay <time>', 'one-way link delay, e.g. 20ms (default 10ms)')
    .option('--seed <n>', 'random seed (runs are reproducible from it)')
    .option('--pcap <file>', 'write the frames at the client\'s end as a pcap (a second run goes to <file>-2)')
    .option('--svg <file>', 'write the diagram as SVG')
    .option('--absolute', 'absolute sequence numbers')
    .option('--json', 'machine-readable output')
    .action((id: string | undefined, flags: DemoFlags & { list?: boolean }) => {
      if (flags.list === true || id === undefined) {
        const list = SCENARIOS.map((e) => `  ${e.id.padEnd(24)}${e.title}`).join('\n');
        if (id === undefined && flags.list !== true) throw new UsageError(`which scenario? choose one of:\n${list}`);
        console.log(flags.json === true ? JSON.stringify(SCENARIOS.map((e) => ({ id: e.id, title: e.title })), null, 2) : list);
        return;
      }
      try {
        console.log(runDemo(id, flags, render()));
      } catch (e) {
        if (e instanceof ScenarioStalled) {
          console.log(e.scenario.diagram(viewOf({ scenario: e.scenario, facts: {} }, render())));
          console.error(`\nsynack demo ${id}: the story stalled: ${e.message}`);
          process.exitCode = 1;
          return;
        }
        throw e;
      }
    });
}
