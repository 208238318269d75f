// `synack packetdrill FILE.pkt...`: runs packetdrill scripts against a synack stack in virtual
// time (src/packetdrill). Exit code as packetdrill's: 0 every script passed, 1 one failed, 2 a
// script was unsupported or malformed (and none failed). See docs/packetdrill.md. `--json` prints
// one JSON array instead, a `PacketdrillJsonEntry` per script (issue 9), with the same exit code.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import pc from 'picocolors';
import { runPacketdrill } from '../packetdrill/index.js';

/** packetdrill's command-line options the runner understands (values as strings; flags as booleans). */
const VALUE_OPTIONS = ['tolerance_usecs', 'tolerance_percent', 'ip_version', 'mtu', 'local_ip', 'remote_ip', 'bind_port', 'connect_port', 'tcp_ts_tick_usecs', 'profile', 'seed'] as const;
const FLAG_OPTIONS = ['tcp_ts_ecr_scaled', 'strict_segments', 'dry_run'] as const;

interface CliOptions {
  verbose?: boolean;
  json?: boolean;
  define: string[];
  [k: string]: unknown;
}

/** One script's outcome under `--json`: runPacketdrill's result, with null for absent message/line. */
export interface PacketdrillJsonEntry {
  file: string;
  /** runPacketdrill's status, or 'unreadable' when the file could not be read (exit code 2, as before). */
  status: 'pass' | 'fail' | 'unsupported' | 'syntax' | 'unreadable';
  exitCode: 0 | 1 | 2;
  message: string | null;
  line: number | null;
  /** Settings accepted without emulation (from defaults.sh). */
  notes: string[];
  /** With --verbose: every event, packet and system call (printed as text without --json). */
  output?: string[];
}

/** Adds the `packetdrill` subcommand to the `synack` program. */
export function registerPacketdrill(program: Command): void {
  let cmd = program
    .command('packetdrill')
    .description('run packetdrill scripts against synack in virtual time (exit 0 pass, 1 fail, 2 unsupported or syntax error)')
    .argument('<scripts...>', 'packetdrill script files (.pkt)')
    .option('-v, --verbose', 'print every event, injected and sniffed packet, and system call')
    .option('--json', 'machine-readable output: one JSON array of { file, status, exitCode, message, line, notes } on stdout')
    .option('-D, --define <name=value>', 'define a symbol for the scripts (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[]);
  const help: Partial<Record<string, string>> = {
    profile: 'stack defaults: linux (Linux\'s, the default) or synack',
    seed: 'seed of the stack\'s randomness (ISNs, timestamp offsets)',
  };
  for (const o of VALUE_OPTIONS) cmd = cmd.option(`--${o} <value>`, help[o] ?? `packetdrill's --${o}`);
  for (const o of FLAG_OPTIONS) cmd = cmd.option(`--${o}`, `packetdrill's --${o}`);
  cmd.action((files: string[], opts: CliOptions) => {
    const defines: Record<string, string> = {};
    for (const d of opts.define) {
      const eq = d.indexOf('=');
      if (eq <= 0) {
        console.error(`-D ${d}: expected NAME=value`);
        process.exitCode = 2;
        return;
      }
      defines[d.slice(0, eq)] = d.slice(eq + 1);
    }
    const options: Record<string, string | undefined> = {};
    for (const o of VALUE_OPTIONS) if (typeof opts[o] === 'string') options[o] = opts[o];
    for (const o of FLAG_OPTIONS) if (opts[o] === true) options[o] = undefined;
    let failed = false;
    let unsupported = false;
    const json = opts.json === true;
    const entries: PacketdrillJsonEntry[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        const message = `${file}: ${e instanceof Error ? e.message : String(e)}`;
        if (json) entries.push({ file, status: 'unreadable', exitCode: 2, message, line: null, notes: [] });
        else console.error(message);
        unsupported = true;
        continue;
      }
      const verbose = opts.verbose === true;
      // Under --json the verbose log goes into the entry (`output`), never to stdout as text.
      const r = runPacketdrill(text, { path: file, defines, options, verbose, ...(verbose && !json ? { log: (s: string) => console.log(s) } : {}) });
      if (r.exitCode === 1) failed = true;
      else if (r.exitCode === 2) unsupported = true;
      if (json) {
        entries.push({ file, status: r.status, exitCode: r.exitCode, message: r.message ?? null, line: r.line ?? null, notes: r.notes, ...(verbose ? { output: r.output } : {}) });
        continue;
      }
      if (!verbose) for (const n of r.notes) console.log(pc.dim(`note: ${n}`));
      if (r.status === 'pass') {
        console.log(`${pc.green('pass')} ${file}`);
        continue;
      }
      if (!verbose && r.message !== undefined) console.error(r.message);
      console.log(`${r.status === 'fail' ? pc.red('fail') : pc.yellow(r.status)} ${file}`);
    }
    if (json) console.log(JSON.stringify(entries, null, 2));
    process.exitCode = failed ? 1 : unsupported ? 2 : 0;
  });
}
