// Backquoted shell lines in scripts are never run. The ones that set Linux sysctls (`sysctl -q
// net.ipv4.tcp_x=V`, `set_sysctls.py k=v ...`, `echo V > /proc/sys/...`, and the test suite's
// `defaults.sh`) are mapped onto synack's TcpConfig where synack has the setting (SYN cookies,
// Fast Open and its key, TIME-WAIT reuse and limits included), or accepted when the value is what
// synack always does (tcp_reordering=3: its duplicate-ACK threshold is 3). A value that selects a
// mechanism synack does not have (CUBIC, RACK...) makes the script "unsupported" (exit 2), so no
// script passes by silently ignoring a setting.
// defaults.sh, the Linux suite's environment boilerplate, is the one exception: its settings of
// that kind are reported as notes ("not emulated") and the run continues, since nearly every
// upstream script sources it whatever it tests; a script that depends on one of them fails on
// the packets. Anything else in backquotes is unsupported.
import type { TcpConfig } from '../tcp/config.js';
import { seconds } from '../time/instant.js';

/** What a command does to the stack's configuration. */
export interface CommandEffect {
  /** Settings to apply (sysctl names mapped to TcpConfig fields). */
  readonly patch: Partial<TcpConfig>;
  /** Settings accepted without emulation (defaults.sh only), one line each. */
  readonly notes: readonly string[];
  /** `ip tcp_metrics flush`: forget per-destination state (synack's: the Fast Open cookie cache, as Linux keeps cookies in tcp_metrics). */
  readonly flushMetrics: boolean;
}

/** Why a command cannot be honoured; the runner reports it as unsupported at the command's line. */
export class UnsupportedCommand extends Error {}

type Rule =
  /** synack has the setting: the value maps onto TcpConfig (or a string explaining why not). */
  | { readonly kind: 'map'; readonly apply: (v: string) => Partial<TcpConfig> | string }
  /** synack has no knob, but always behaves like one of these values. */
  | { readonly kind: 'fixed'; readonly values: readonly string[]; readonly synack: string }
  /** The setting cannot change what a single synack stack does in these scripts. */
  | { readonly kind: 'no-effect'; readonly why: string };

const bool = (field: 'timestamps' | 'sack' | 'windowScaling' | 'abortOnOverflow' | 'rfc1337') => (v: string): Partial<TcpConfig> | string =>
  v === '0' ? { [field]: false } : v === '1' ? { [field]: true } : `value ${v} is not 0 or 1`;
const count = (field: 'synRetries' | 'synackRetries' | 'retries2' | 'keepaliveCount' | 'challengeAckLimit' | 'somaxconn', max: number) => (v: string): Partial<TcpConfig> | string => {
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 && n <= max ? { [field]: n } : `value ${v} out of range`;
};
const secondsOf = (field: 'finTimeout' | 'keepaliveIdle' | 'keepaliveInterval') => (v: string): Partial<TcpConfig> | string => {
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? { [field]: seconds(n) } : `value ${v} is not a positive number of seconds`;
};
/** A value in 0..max, in decimal or 0x hex, as Linux's proc_dointvec reads it (kstrtoul base 0). */
const intOf = (v: string, max: number): number | undefined => {
  const n = /^0x[0-9a-f]+$/i.test(v) ? Number.parseInt(v.slice(2), 16) : /^\d+$/.test(v) ? Number(v) : NaN;
  return Number.isSafeInteger(n) && n >= 0 && n <= max ? n : undefined;
};
/** `0|1|2` settings (tcp_syncookies, tcp_tw_reuse). */
const mode = (field: 'syncookies' | 'twReuse') => (v: string): Partial<TcpConfig> | string =>
  v === '0' || v === '1' || v === '2' ? { [field]: Number(v) as 0 | 1 | 2 } : `value ${v} is not 0, 1 or 2`;
/**
 * tcp_fastopen_key as Linux's proc_tcp_fastopen_key and sscanf_key read it: four 32-bit hex words
 * `%x-%x-%x-%x`, each stored little-endian, 16 bytes in all (the bytes TCP_FASTOPEN_KEY takes).
 * A backup key after a comma is accepted by Linux for checking cookies only; synack has one key.
 */
const fastOpenKey = (v: string): Partial<TcpConfig> | string => {
  if (v.includes(',')) return `a backup key ("${v}"): synack keeps one Fast Open key`;
  const words = v.split('-');
  if (words.length !== 4 || !words.every((w) => /^[0-9a-f]{1,8}$/i.test(w))) return `value "${v}" is not four hex words a-b-c-d`;
  const key = new Uint8Array(16);
  words.forEach((w, i) => {
    const n = Number.parseInt(w, 16);
    for (let b = 0; b < 4; b++) key[4 * i + b] = (n >>> (8 * b)) & 0xff;
  });
  return { fastOpenKey: key };
};
const triple = (v: string): number[] | undefined => {
  const parts = v.trim().split(/\s+/).map(Number);
  return parts.length === 3 && parts.every((n) => Number.isInteger(n) && n > 0) ? parts : undefined;
};

/** Every sysctl the runner knows, by its dotted name. */
const RULES: Readonly<Record<string, Rule>> = {
  'net.ipv4.tcp_timestamps': { kind: 'map', apply: (v) => (v === '2' ? 'timestamps without per-connection offsets (tcp_timestamps=2) are not implemented' : bool('timestamps')(v)) },
  'net.ipv4.tcp_sack': { kind: 'map', apply: bool('sack') },
  'net.ipv4.tcp_window_scaling': { kind: 'map', apply: bool('windowScaling') },
  'net.ipv4.tcp_syn_retries': { kind: 'map', apply: count('synRetries', 127) },
  'net.ipv4.tcp_synack_retries': { kind: 'map', apply: count('synackRetries', 255) },
  'net.ipv4.tcp_retries2': { kind: 'map', apply: count('retries2', 255) },
  'net.ipv4.tcp_fin_timeout': { kind: 'map', apply: secondsOf('finTimeout') },
  'net.ipv4.tcp_keepalive_time': { kind: 'map', apply: secondsOf('keepaliveIdle') },
  'net.ipv4.tcp_keepalive_intvl': { kind: 'map', apply: secondsOf('keepaliveInterval') },
  'net.ipv4.tcp_keepalive_probes': { kind: 'map', apply: count('keepaliveCount', 127) },
  'net.ipv4.tcp_abort_on_overflow': { kind: 'map', apply: bool('abortOnOverflow') },
  'net.ipv4.tcp_rfc1337': { kind: 'map', apply: bool('rfc1337') },
  // Deviation (documented in docs/packetdrill.md): Linux's limit is per host; synack's is per connection.
  'net.ipv4.tcp_challenge_ack_limit': { kind: 'map', apply: count('challengeAckLimit', 0x7fffffff) },
  'net.core.somaxconn': { kind: 'map', apply: count('somaxconn', 0x7fffffff) },
  'net.ipv4.tcp_rmem': {
    kind: 'map',
    apply: (v) => {
      const t = triple(v);
      return t === undefined ? `value "${v}" is not "min default max"` : { rcvBuf: t[1]!, rcvBufMax: t[2]! };
    },
  },
  'net.ipv4.tcp_wmem': {
    kind: 'map',
    apply: (v) => {
      const t = triple(v);
      return t === undefined ? `value "${v}" is not "min default max"` : { sndBuf: t[1]!, sndBufMax: t[2]! };
    },
  },
  'net.ipv4.ip_local_port_range': {
    kind: 'map',
    apply: (v) => {
      const p = v.trim().split(/\s+/).map(Number);
      return p.length === 2 && p.every((n) => Number.isInteger(n) && n > 0 && n <= 65535) && p[0]! <= p[1]!
        ? { portRange: { low: p[0]!, high: p[1]! } } : `value "${v}" is not "low high"`;
    },
  },
  'net.ipv4.tcp_dsack': { kind: 'fixed', values: ['1'], synack: 'always reports duplicates with D-SACK blocks (RFC 2883)' },
  'net.ipv4.tcp_fack': { kind: 'fixed', values: ['0'], synack: 'has no FACK' },
  'net.ipv4.tcp_reordering': { kind: 'fixed', values: ['3'], synack: 'uses a duplicate-ACK threshold of 3' },
  'net.ipv4.tcp_ecn': { kind: 'fixed', values: ['0'], synack: 'does not negotiate ECN' },
  'net.ipv4.tcp_frto': { kind: 'fixed', values: ['0'], synack: 'has no F-RTO (RFC 5682)' },
  // TcpConfig.congestion exists but is not wired into input/output yet (see config.ts): every
  // connection runs NewReno, so only reno is honest to accept.
  'net.ipv4.tcp_congestion_control': { kind: 'fixed', values: ['reno'], synack: 'runs NewReno (RFC 5681/6582) on every connection for now' },
  'net.ipv4.tcp_slow_start_after_idle': { kind: 'fixed', values: ['0'], synack: 'keeps cwnd across idle periods' },
  'net.ipv4.tcp_early_retrans': { kind: 'fixed', values: ['0'], synack: 'has no early retransmit or TLP' },
  'net.ipv4.tcp_recovery': { kind: 'fixed', values: ['0'], synack: 'has no RACK (RFC 8985)' },
  'net.ipv4.tcp_syncookies': { kind: 'map', apply: mode('syncookies') },
  // Linux's bit mask (fastopen.ts TFO_*); bits Linux does not define (defaults.sh's 0x70000) are
  // ignored, as Linux ignores them.
  'net.ipv4.tcp_fastopen': { kind: 'map', apply: (v) => { const n = intOf(v, 0x7fffffff); return n === undefined ? `value ${v} is not a bit mask` : { fastOpen: n }; } },
  'net.ipv4.tcp_fastopen_key': { kind: 'map', apply: fastOpenKey },
  'net.ipv4.tcp_tw_reuse': { kind: 'map', apply: mode('twReuse') },
  'net.ipv4.tcp_max_tw_buckets': { kind: 'map', apply: (v) => { const n = intOf(v, 0x7fffffff); return n === undefined ? `value ${v} is not a count` : { maxTwBuckets: n }; } },
  'net.ipv4.tcp_moderate_rcvbuf': { kind: 'map', apply: (v) => (v === '0' ? { moderateRcvBuf: false } : v === '1' ? { moderateRcvBuf: true } : `value ${v} is not 0 or 1`) },
  'net.core.rmem_max': { kind: 'map', apply: (v) => (/^\d+$/.test(v) ? { rmemMax: Number(v) } : `value ${v} is not a byte count`) },
  'net.core.wmem_max': { kind: 'map', apply: (v) => (/^\d+$/.test(v) ? { wmemMax: Number(v) } : `value ${v} is not a byte count`) },
  'net.ipv4.tcp_autocorking': { kind: 'fixed', values: ['0'], synack: 'does not autocork' },
  'net.ipv4.tcp_mtu_probing': { kind: 'fixed', values: ['0'], synack: 'does not probe the path MTU (RFC 4821)' },
  'net.ipv4.tcp_thin_linear_timeouts': { kind: 'fixed', values: ['0'], synack: 'backs off every RTO exponentially' },
  'net.ipv4.tcp_no_metrics_save': { kind: 'fixed', values: ['1'], synack: 'keeps no per-destination metrics' },
  'net.ipv4.tcp_workaround_signed_windows': { kind: 'fixed', values: ['0'], synack: 'uses the full 16-bit window' },
  'net.ipv4.tcp_invalid_ratelimit': { kind: 'fixed', values: ['0'], synack: 'does not rate-limit ACKs to out-of-window segments' },
  'net.ipv4.tcp_notsent_lowat': { kind: 'fixed', values: ['4294967295', '-1'], synack: 'has no TCP_NOTSENT_LOWAT' },
  'net.ipv4.tcp_tso_win_divisor': { kind: 'no-effect', why: 'synack does no TSO' },
  'net.ipv4.tcp_min_tso_segs': { kind: 'no-effect', why: 'synack does no TSO' },
  'net.ipv4.tcp_pacing_ss_ratio': { kind: 'no-effect', why: 'pacing is off (no fq qdisc, no BBR)' },
  'net.ipv4.tcp_pacing_ca_ratio': { kind: 'no-effect', why: 'pacing is off (no fq qdisc, no BBR)' },
  'net.ipv4.tcp_limit_output_bytes': { kind: 'no-effect', why: 'the fake link never backs up' },
  'net.mptcp.enabled': { kind: 'no-effect', why: 'scripts here open no MPTCP sockets' },
};

/** defaults.sh of google/packetdrill's gtests/net/common, as settings. */
const DEFAULTS_SH: readonly (readonly [string, string])[] = [
  ['net.ipv4.tcp_rmem', `4096 540000 ${15 * 1024 * 1024}`],
  ['net.ipv4.tcp_wmem', `4096 ${256 * 1024} 4194304`],
  ['net.ipv4.tcp_timestamps', '1'],
  ['net.ipv4.tcp_syn_retries', '5'],
  ['net.ipv4.tcp_synack_retries', '5'],
  ['net.ipv4.tcp_frto', '2'],
  ['net.ipv4.tcp_sack', '1'],
  ['net.ipv4.tcp_dsack', '1'],
  ['net.ipv4.tcp_fack', '0'],
  ['net.ipv4.tcp_reordering', '3'],
  ['net.ipv4.tcp_congestion_control', 'cubic'],
  ['net.ipv4.tcp_slow_start_after_idle', '0'],
  ['net.ipv4.tcp_early_retrans', '4'],
  ['net.ipv4.tcp_recovery', '1'],
  ['net.ipv4.tcp_tso_win_divisor', '3'],
  ['net.ipv4.tcp_ecn', '0'],
  ['net.ipv4.tcp_pacing_ss_ratio', '200'],
  ['net.ipv4.tcp_pacing_ca_ratio', '120'],
  ['net.ipv4.tcp_notsent_lowat', '4294967295'],
  ['net.ipv4.tcp_fastopen', '0x70403'],
  ['net.ipv4.tcp_fastopen_key', 'a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4'],
  ['net.ipv4.tcp_syncookies', '1'],
  ['net.mptcp.enabled', '1'],
];

/** Applies one `name=value` setting: merges into `patch`, or returns why it cannot be honoured. */
function setting(name: string, value: string, patch: Partial<TcpConfig>): string | undefined {
  // set_sysctls.py takes /proc/sys paths as well as dotted names.
  const key = name.replace(/^\/proc\/sys\//, '').replace(/\//g, '.');
  const rule = RULES[key];
  if (rule === undefined) return `sysctl ${key} is not known to synack`;
  switch (rule.kind) {
    case 'map': {
      const r = rule.apply(value);
      if (typeof r === 'string') return `sysctl ${key}: ${r}`;
      Object.assign(patch, r);
      return undefined;
    }
    case 'fixed':
      return rule.values.includes(value) ? undefined : `sysctl ${key}=${value}: synack ${rule.synack} (accepted: ${rule.values.length > 0 ? rule.values.join(', ') : 'none'})`;
    case 'no-effect':
      return undefined;
  }
}

/** Splits a shell line into words, honouring single and double quotes. */
function shellWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let has = false;
  for (const c of s) {
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === ' ' || c === '\t') {
      if (has || cur !== '') out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
    }
  }
  if (has || cur !== '') out.push(cur);
  return out;
}

/** Splits a command block into simple commands (newlines, `;`, `&&`), dropping redirections to /dev/null and comments. */
function statements(command: string): string[] {
  return command
    .replace(/\\\n/g, ' ') // a backslash-newline continues the line, as in the shell
    .split(/\n|;|&&/)
    .map((s) => s.replace(/\s*[12]?>\s*\/dev\/null(\s+2>&1)?\s*$/, '').replace(/\s*\|\|\s*true\s*$/, '').trim())
    .filter((s) => s !== '' && !s.startsWith('#'));
}

/**
 * The effect of a backquoted command. Throws UnsupportedCommand (with the reason) for anything it
 * cannot honour.
 */
export function commandEffect(command: string): CommandEffect {
  const patch: Partial<TcpConfig> = {};
  const notes: string[] = [];
  let flushMetrics = false;
  for (const stmt of statements(command)) {
    const words = shellWords(stmt);
    const prog = words[0] ?? '';
    if (/(^|\/)defaults\.sh$/.test(prog)) {
      for (const [k, v] of DEFAULTS_SH) {
        const why = setting(k, v, patch);
        if (why !== undefined) notes.push(`defaults.sh: ${why}; not emulated`);
      }
      continue;
    }
    let pairs: string[];
    if (/(^|\/)set_sysctls\.py$/.test(prog)) {
      pairs = words.slice(1);
    } else if (prog === 'sysctl') {
      pairs = words.slice(1).filter((w) => !/^-[qwe]+$/.test(w));
    } else if (prog === 'echo' && /^\/proc\/sys\//.test(words[words.length - 1] ?? '') && words[words.length - 2] === '>') {
      pairs = [`${words[words.length - 1]!.slice('/proc/sys/'.length)}=${words.slice(1, -2).join(' ')}`];
    } else if (prog === 'ip' && words[1] === 'tcp_metrics' && words[2] === 'flush') {
      flushMetrics = true; // the Fast Open cookies; synack keeps no other per-destination metrics
      continue;
    } else {
      throw new UnsupportedCommand(`shell command \`${stmt}\` (only sysctl settings are understood; commands are never run)`);
    }
    if (pairs.length === 0) throw new UnsupportedCommand(`shell command \`${stmt}\` sets nothing`);
    for (const p of pairs) {
      const eq = p.indexOf('=');
      if (eq <= 0) throw new UnsupportedCommand(`sysctl argument '${p}' (reading sysctls is not supported)`);
      const why = setting(p.slice(0, eq), p.slice(eq + 1), patch);
      if (why !== undefined) throw new UnsupportedCommand(why);
    }
  }
  return { patch, notes, flushMetrics };
}
