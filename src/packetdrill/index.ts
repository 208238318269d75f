// The library entry of the packetdrill runner: `runPacketdrill(text, options)` parses a script,
// applies its header options and the caller's (packetdrill's command-line options), runs it
// against a fresh synack stack in virtual time, and reports pass / fail / unsupported with
// packetdrill's exit codes (0, 1, 2) and messages (`file:line: ...`). The `synack packetdrill`
// command (src/cli/packetdrill.ts) and test/packetdrill/ use it. See docs/packetdrill.md.
import { parseScript } from './parser.js';
import { Runner, type RunnerConfig, defaultRunnerConfig } from './runner.js';
import { ScriptError, exitCodeOf, syntaxError, unsupported } from './errors.js';

export { parseScript } from './parser.js';
export { tcpInfo, type TcpInfo } from './tcp-info.js';
export { profileConfig, type ProfileName } from './linux.js';
export type { Script, ScriptEvent } from './ast.js';

/** How to run a script. */
export interface PacketdrillOptions {
  /** The script's path, for messages (`path:line: ...`). */
  path?: string;
  /** `-D NAME=value` definitions, applied when the script is read. */
  defines?: Readonly<Record<string, string>>;
  /** Command-line options by name without dashes (`tolerance_usecs: '10000'`); they override the script's own. */
  options?: Readonly<Record<string, string | undefined>>;
  /** Print every event, injected and sniffed packet and system call result. */
  verbose?: boolean;
  /** Where progress and notes go (default: collected in the result only). */
  log?: (line: string) => void;
}

/** How a run ended. */
export interface PacketdrillResult {
  /** pass; fail (the stack did something else); unsupported (a construct synack lacks); syntax (the script is malformed). */
  status: 'pass' | 'fail' | 'unsupported' | 'syntax';
  /** packetdrill's exit code: 0 pass, 1 fail, 2 unsupported or syntax error. */
  exitCode: 0 | 1 | 2;
  /** `path:line: what happened` (with both packets dumped for packet mismatches); undefined on pass. */
  message: string | undefined;
  /** The script line the run stopped at. */
  line: number | undefined;
  /** Settings accepted without emulation (from defaults.sh). */
  notes: string[];
  /** Everything logged (with `verbose`, every event). */
  output: string[];
}

/** Options that change nothing for a synack run (they tune packetdrill's own machinery or the tun device). */
const NO_EFFECT = new Set(['speed', 'gateway_ip', 'netmask_ip', 'debug', 'code_command', 'code_format', 'code_sockopt', 'send_omit_free', 'verbose', 'v', 'define', 'D']);
/** Options for packetdrill modes the runner does not have. */
const UNSUPPORTED = new Set(['wire_client', 'wire_server', 'wire_server_ip', 'wire_server_at', 'wire_server_port', 'wire_client_dev', 'wire_server_dev', 'so_filename', 'so_flags', 'init_scripts', 'non_fatal', 'is_anyip', 'mss']);

function applyOption(cfg: RunnerConfig, name: string, value: string | undefined, line: number): { dryRun?: boolean } {
  const need = (): string => {
    if (value === undefined || value === '') throw syntaxError(line, `option --${name} needs a value`);
    return value;
  };
  const int = (min: number, max: number): number => {
    const v = need();
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw syntaxError(line, `bad --${name}: ${v}`);
    return n;
  };
  if (NO_EFFECT.has(name)) return {};
  if (UNSUPPORTED.has(name)) throw unsupported(line, `option --${name}`);
  switch (name) {
    case 'tolerance_usecs': cfg.toleranceUsecs = int(0, 1e9); break;
    case 'tolerance_percent': {
      const n = Number(need());
      if (!Number.isFinite(n) || n < 0) throw syntaxError(line, `bad --tolerance_percent: ${value}`);
      cfg.tolerancePercent = n;
      break;
    }
    case 'ip_version': {
      const v = need();
      if (v === 'ipv4') cfg.ipVersion = 4;
      else if (v === 'ipv6') cfg.ipVersion = 6;
      else if (v === 'ipv4-mapped-ipv6') throw unsupported(line, '--ip_version=ipv4-mapped-ipv6 (IPv4-mapped IPv6 sockets)');
      else throw syntaxError(line, `bad --ip_version: ${v}`);
      break;
    }
    case 'mtu': cfg.mtu = int(68, 65535); break;
    case 'local_ip': cfg.localIp = need(); break;
    case 'remote_ip': cfg.remoteIp = need().replace(/\/\d+$/, ''); break;
    case 'bind_port': cfg.bindPort = int(1, 65535); break;
    case 'connect_port': cfg.connectPort = int(1, 65535); break;
    case 'tcp_ts_tick_usecs': cfg.tsTickUsecs = int(0, 1e9); break;
    case 'tcp_ts_ecr_scaled': cfg.tsEcrScaled = true; break;
    case 'strict_segments': cfg.strictSegments = true; break;
    case 'profile': {
      const v = need();
      if (v !== 'linux' && v !== 'synack') throw syntaxError(line, `bad --profile: ${v} (linux or synack)`);
      cfg.profile = v;
      break;
    }
    case 'seed': cfg.seed = int(0, 0xffffffff); break;
    case 'dry_run': return { dryRun: true };
    default: throw syntaxError(line, `unrecognized option --${name}`);
  }
  return {};
}

/** Parses and runs one script. Never throws for anything the script or the stack does. */
export function runPacketdrill(text: string, options: PacketdrillOptions = {}): PacketdrillResult {
  const path = options.path ?? 'script';
  const output: string[] = [];
  const log = (s: string): void => {
    output.push(s);
    options.log?.(s);
  };
  let runner: Runner | undefined;
  try {
    const script = parseScript(text, new Map(Object.entries(options.defines ?? {})));
    const cfg = defaultRunnerConfig();
    let dryRun = false;
    for (const o of script.options) dryRun = applyOption(cfg, o.name, o.value, o.line).dryRun === true || dryRun;
    for (const [k, v] of Object.entries(options.options ?? {})) dryRun = applyOption(cfg, k, v, 0).dryRun === true || dryRun;
    if (dryRun) return { status: 'pass', exitCode: 0, message: undefined, line: undefined, notes: [], output };
    runner = new Runner(script, cfg, { verbose: options.verbose === true, log });
    runner.run();
    return { status: 'pass', exitCode: 0, message: undefined, line: undefined, notes: runner.notes, output };
  } catch (e) {
    if (!(e instanceof ScriptError)) throw e;
    const where = e.line > 0 ? `${path}:${e.line}` : path;
    const message = `${where}: ${e.message}`;
    log(message);
    return { status: e.kind, exitCode: exitCodeOf(e.kind), message, line: e.line > 0 ? e.line : undefined, notes: runner?.notes ?? [], output };
  }
}
