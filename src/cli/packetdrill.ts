// `synack packetdrill FILE.pkt...`: runs packetdrill scripts against a synack stack in virtual
// time (src/packetdrill). Exit code as packetdrill's: 0 every script passed, 1 one failed, 2 a
// script was unsupported or malformed (and none failed). See docs/packetdrill.md.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import pc from 'picocolors';
import { runPacketdrill } from '../packetdrill/index.js';

/** packetdrill's command-line options the runner understands (values as strings; flags as booleans). */
const VALUE_OPTIONS = ['tolerance_usecs', 'tolerance_percent', 'ip_version', 'mtu', 'local_ip', 'remote_ip', 'bind_port', 'connect_port', 'tcp_ts_tick_usecs', 'profile', 'seed'] as const;
const FLAG_OPTIONS = ['tcp_ts_ecr_scaled', 'strict_segments', 'dry_run'] as const;

interface CliOptions {
  verbose?: boolean;
  define: string[];
  [k: string]: unknown;
}

/** Adds the `packetdrill` subcommand to the `synack` program. */
export function registerPacketdrill(program: Command): void {
  let cmd = program
    .command('packetdrill')
    .description('run packetdrill scripts against synack in virtual time (exit 0 pass, 1 fail, 2 unsupported or syntax error)')
    .argument('<scripts...>', 'packetdrill script files (.pkt)')
    .option('-v, --verbose', 'print every event, injected and sniffed packet, and system call')
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
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        console.error(`${file}: ${e instanceof Error ? e.message : String(e)}`);
        unsupported = true;
        continue;
      }
      const verbose = opts.verbose === true;
      const r = runPacketdrill(text, { path: file, defines, options, verbose, ...(verbose ? { log: (s: string) => console.log(s) } : {}) });
      if (!verbose) for (const n of r.notes) console.log(pc.dim(`note: ${n}`));
      if (r.status === 'pass') {
        console.log(`${pc.green('pass')} ${file}`);
        continue;
      }
      if (!verbose && r.message !== undefined) console.error(r.message);
      console.log(`${r.status === 'fail' ? pc.red('fail') : pc.yellow(r.status)} ${file}`);
      if (r.exitCode === 1) failed = true;
      else unsupported = true;
    }
    process.exitCode = failed ? 1 : unsupported ? 2 : 0;
  });
}
