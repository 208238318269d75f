// Debian's tshark as an independent oracle for capture files: it dissects every packet with
// checksum validation on and reports malformed packets, bad checksums and expert infos. Node only,
// test-only. tshark takes ~0.3 s to start, so each check is one invocation over a whole file.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import type { TestContext } from 'vitest';

const run = promisify(execFile);

/** Where tshark is, or a one-line reason it cannot be used (see `skipWithoutTshark`). */
export type TsharkLocation = { readonly path: string; readonly missing?: undefined } | { readonly path?: undefined; readonly missing: string };

/** Looks for tshark on PATH without starting it (so it costs nothing at test collection). */
export function findTshark(): TsharkLocation {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const path = join(dir, 'tshark');
    try {
      accessSync(path, constants.X_OK);
      return { path };
    } catch {
      // not in this directory
    }
  }
  return { missing: 'tshark is not installed (apt-get install tshark; .ci/run installs it)' };
}

/** tshark on this machine, looked up once. */
export const TSHARK: TsharkLocation = findTshark();

/**
 * For `beforeEach`: skips the test with a one-line reason when tshark is missing, except under
 * CI (CI=true), where a missing oracle is an error: `.ci/run` installs it, and a check that
 * silently stops running is worse than none.
 */
export function skipWithoutTshark(ctx: TestContext): void {
  if (TSHARK.missing === undefined) return;
  if (process.env['CI'] === 'true') throw new Error(`${TSHARK.missing}; CI must have it`);
  ctx.skip(TSHARK.missing);
}

/** One finding in a capture, tied to its frame (1-based, as Wireshark numbers them). */
export interface TsharkFinding {
  /** Frame number, from 1. */
  readonly frame: number;
  /** Malformed packet, failed checksum, or another expert info. */
  readonly kind: 'malformed' | 'checksum' | 'expert';
  /** Expert severity ('error' for malformed packets and bad checksums). */
  readonly severity: 'warning' | 'error';
  /** Expert group in lower case ('sequence' for TCP analysis, 'protocol', 'malformed', 'checksum', ...). */
  readonly group: string;
  /** tshark's text, e.g. "Bad checksum [should be 0x9893]" or "ACKed segment that wasn't captured ...". */
  readonly message: string;
}

/** What tshark found in one capture file. */
export interface TsharkReport {
  /** Number of packets tshark read. */
  readonly packets: number;
  /** Malformed packets and failed IP/TCP/UDP/ICMP checksums: always a bug in what we emit. */
  readonly problems: readonly TsharkFinding[];
  /**
   * Other expert infos at Warning level or above. Some are legitimate in loss tests (TCP analysis:
   * "ACKed segment that wasn't captured", "Previous segment(s) not captured"), so tests decide.
   */
  readonly warnings: readonly TsharkFinding[];
}

// Expert severities and groups (Wireshark's epan/proto.h PI_*), numeric as `-T fields` prints them.
const SEVERITY: Record<string, number> = { comment: 0x00100000, chat: 0x00200000, note: 0x00400000, warning: 0x00600000, error: 0x00800000 };
const GROUPS = [
  'checksum', 'sequence', 'response-code', 'request-code', 'undecoded', 'reassemble', 'malformed', 'debug',
  'protocol', 'security', 'comments', 'decryption', 'assumption', 'deprecated', 'receive', 'interface', 'dissector-bug',
];
const WARNING = 0x00600000;
const ERROR = 0x00800000;
const CHECKSUM_BAD = '0'; // PROTO_CHECKSUM_E_BAD

function severityOf(text: string): number {
  const n = Number(text);
  return Number.isInteger(n) && text !== '' ? n : SEVERITY[text.toLowerCase()] ?? 0;
}
function groupOf(text: string): string {
  const n = Number(text);
  if (!Number.isInteger(n) || text === '') return text.toLowerCase();
  return GROUPS[(n >>> 24) - 1] ?? `0x${n.toString(16)}`;
}

/** Protocols whose checksum status we read; each exists in every tshark since 2.x. */
const CHECKSUMMED = ['ip', 'tcp', 'udp', 'icmp', 'icmpv6'] as const;

let prefsProbe: Promise<readonly string[]> | undefined;

/** `-o proto.check_checksum:TRUE` for every such preference this tshark has (ICMP's exists only in some versions). */
function checksumPrefs(tshark: string): Promise<readonly string[]> {
  prefsProbe ??= run(tshark, ['-G', 'defaultprefs'], { maxBuffer: 64 << 20 }).then(({ stdout }) =>
    CHECKSUMMED.filter((p) => stdout.includes(`${p}.check_checksum:`)).flatMap((p) => ['-o', `${p}.check_checksum:TRUE`]),
  );
  return prefsProbe;
}

function requireTshark(): string {
  if (TSHARK.path === undefined) throw new Error(TSHARK.missing);
  return TSHARK.path;
}

// Separates several occurrences of one field; tshark messages never contain it.
const AGGREGATOR = '\u001f';

async function fields(file: string, names: readonly string[], filter?: string): Promise<string[][]> {
  const tshark = requireTshark();
  const args = [
    '-n', '-r', file, ...(await checksumPrefs(tshark)),
    ...(filter === undefined ? [] : ['-Y', filter]),
    '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', `aggregator=${AGGREGATOR}`, '-E', 'quote=n',
    ...names.flatMap((n) => ['-e', n]),
  ];
  // tshark exits non-zero when it cannot read the file; execFile rejects with its stderr then.
  const { stdout } = await run(tshark, args, { maxBuffer: 256 << 20 });
  return stdout.split('\n').filter((line) => line !== '').map((line) => line.split('\t'));
}

/**
 * Dissects `file` with checksum validation on and returns the packet count, the malformed
 * packets and bad checksums, and other expert infos at Warning or above (the display filter
 * `_ws.malformed || _ws.expert.severity >= "Warning" || *.checksum.status == "Bad"`, split by
 * cause). One tshark run (plus a one-time preference probe per process).
 */
export async function tsharkCheck(file: string): Promise<TsharkReport> {
  const names = ['frame.number', '_ws.malformed', '_ws.expert.severity', '_ws.expert.group', '_ws.expert.message', ...CHECKSUMMED.map((p) => `${p}.checksum.status`)];
  const rows = await fields(file, names);
  const problems: TsharkFinding[] = [];
  const warnings: TsharkFinding[] = [];
  for (const row of rows) {
    const [num = '', malformed = '', sev = '', grp = '', msg = '', ...statuses] = row;
    const frame = Number(num);
    const severities = split(sev);
    const groups = split(grp);
    const messages = split(msg);
    if (malformed !== '') {
      // The label ("[Malformed Packet: TCP]") and the errors that explain it.
      const why = messages.filter((_, i) => severityOf(severities[i] ?? '') >= ERROR && groupOf(groups[i] ?? '') !== 'checksum');
      problems.push({ frame, kind: 'malformed', severity: 'error', group: 'malformed', message: [split(malformed)[0] ?? '', ...why].join('; ') });
    }
    const checksumText = messages.filter((_, i) => groupOf(groups[i] ?? '') === 'checksum').join('; ');
    // RFC 1624 §3: 0xFFFF and 0x0000 are the two one's-complement forms of zero, and both verify.
    // Linux writes 0xFFFF (skb_checksum_help's CSUM_MANGLED_0) when the checksum folds to zero,
    // and tshark flags that as "0xffff instead of 0x0000 (see RFC 1624)": not a bad checksum.
    const negativeZero = /0xffff instead of 0x0000/i.test(checksumText);
    statuses.forEach((s, i) => {
      if (!negativeZero && split(s).some((v) => v === CHECKSUM_BAD || v.toLowerCase() === 'bad')) {
        const message = `${CHECKSUMMED[i] ?? '?'} checksum bad${checksumText === '' ? '' : ` (${checksumText})`}`;
        problems.push({ frame, kind: 'checksum', severity: 'error', group: 'checksum', message });
      }
    });
    messages.forEach((message, i) => {
      const severity = severityOf(severities[i] ?? '');
      const group = groupOf(groups[i] ?? '');
      // Checksum and malformed infos are reported above, from the status fields and _ws.malformed.
      if (severity < WARNING || group === 'checksum' || group === 'malformed') return;
      warnings.push({ frame, kind: 'expert', severity: severity >= ERROR ? 'error' : 'warning', group, message });
    });
  }
  return { packets: rows.length, problems, warnings };
}

function split(field: string): string[] {
  return field === '' ? [] : field.split(AGGREGATOR);
}

/** Options for `tsharkFields`. */
export interface TsharkFieldsOptions {
  /** A display filter: only matching packets are returned. */
  readonly filter?: string;
}

/**
 * Extracts `names` (e.g. tcp.flags.str, tcp.options.mss_val, tcp.window_size_scalefactor,
 * tcp.options.sack_perm) for each packet of `file`; a field absent from a packet is '', and
 * several occurrences are joined with ','. Checksum validation is on, as in `tsharkCheck`.
 */
export async function tsharkFields<const F extends string>(file: string, names: readonly F[], options: TsharkFieldsOptions = {}): Promise<Array<Record<F, string>>> {
  const rows = await fields(file, names, options.filter);
  return rows.map((row) => {
    const rec = {} as Record<F, string>;
    names.forEach((n, i) => {
      rec[n] = split(row[i] ?? '').join(',');
    });
    return rec;
  });
}
