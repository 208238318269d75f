// Prints case results as tables: each figure with its median, unit, spread over repetitions,
// target (met or missed) and reference; then the case's notes, and the top functions of any
// profile (taken where a target was missed, or with --profile).
import pc from 'picocolors';
import type { CaseResult, Figure, ProfileSummary, Target } from './types.js';

/** Colours only on a terminal that wants them. */
const useColour = (): boolean => pc.isColorSupported && process.stdout.isTTY === true;
const paint = (f: (s: string) => string, s: string): string => (useColour() ? f(s) : s);

/** A number with as many digits as are worth reading. */
export function num(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '-';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  const a = Math.abs(v);
  if (a >= 10_000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  if (a === 0) return '0';
  return v.toPrecision(2);
}

const targetText = (t: Target | undefined): string => (t === undefined ? '' : `${t.cmp} ${num(t.value)}`);

function status(f: Figure): string {
  if (f.target === undefined) return '';
  if (f.met === undefined) return paint(pc.yellow, 'n/a');
  return f.met ? paint(pc.green, 'met') : paint(pc.red, 'MISSED');
}

/** Pads to `n` visible characters (colour codes do not count). */
function pad(s: string, n: number, right = false): string {
  // eslint-disable-next-line no-control-regex
  const visible = s.replace(/\x1b\[[0-9;]*m/g, '').length;
  const fill = ' '.repeat(Math.max(0, n - visible));
  return right ? fill + s : s + fill;
}

/** The lines of one profile summary. */
export function profileLines(p: ProfileSummary, indent = '     '): string[] {
  const out = [`${indent}${paint(pc.bold, `profile: ${p.what}`)} (${num(p.totalMs)} ms sampled)${p.cpuFile !== undefined ? ` -> ${p.cpuFile}` : ''}`];
  out.push(`${indent}  self %   self ms  function (top ${p.top.length} by self time)`);
  for (const l of p.top) out.push(`${indent}  ${pad(l.pct.toFixed(1), 6, true)}  ${pad(num(l.selfMs), 8, true)}  ${l.fn}${l.where !== '' ? paint(pc.dim, `  ${l.where}`) : ''}`);
  if (p.allocations.length > 0) {
    const what = p.heapKind === 'retained' ? 'held at the end' : 'allocated during the run';
    out.push(`${indent}  alloc %       MiB  allocation site (${what}, sampled)`);
    for (const a of p.allocations) out.push(`${indent}  ${pad(a.pct.toFixed(1), 7, true)}  ${pad(num(a.mb), 8, true)}  ${a.fn}${a.where !== '' ? paint(pc.dim, `  ${a.where}`) : ''}`);
  }
  return out;
}

/** The lines of one case's table. */
export function caseLines(r: CaseResult): string[] {
  const out: string[] = [];
  out.push(paint(pc.bold, `${r.n}. ${r.title}`) + paint(pc.dim, `  (${r.seconds.toFixed(1)} s)`));
  if (r.skipped !== undefined) out.push(`   skipped: ${r.skipped}`);
  if (r.figures.length > 0) {
    const rows = r.figures.map((f) => [
      f.name,
      f.value === null ? (f.note ?? 'not measured') : num(f.value),
      f.unit,
      f.min !== undefined && f.max !== undefined ? `${num(f.min)}-${num(f.max)}` : '',
      f.reps !== undefined ? String(f.reps) : '',
      targetText(f.target),
      status(f),
      f.reference ?? '',
    ]);
    const head = ['figure', 'median', 'unit', 'spread (min-max)', 'reps', 'target', '', 'reference'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.replace(/\x1b\[[0-9;]*m/g, '').length))); // eslint-disable-line no-control-regex
    const line = (cells: string[]): string => `   ${cells.map((c, i) => (i === 7 ? c : pad(c, widths[i]!, i === 1))).join('  ')}`.trimEnd();
    out.push(paint(pc.dim, line(head)));
    for (const row of rows) out.push(line(row));
  }
  for (const n of r.notes) out.push(paint(pc.dim, `   note: ${n}`));
  if (r.error !== undefined) out.push(paint(pc.red, `   error: ${r.error.split('\n').slice(0, 6).join('\n          ')}`));
  for (const p of r.profiles) out.push(...profileLines(p));
  return out;
}

/** The closing summary: every figure with a target, met or missed. */
export function targetLines(results: readonly CaseResult[]): string[] {
  const out = [paint(pc.bold, 'Targets (goals from issue 10, not assertions)')];
  for (const r of results) {
    for (const f of r.figures) {
      if (f.target === undefined) continue;
      out.push(`   ${pad(status(f), 6)}  ${r.n}. ${f.name.trim()}: ${f.value === null ? (f.note ?? 'not measured') : `${num(f.value)} ${f.unit}`} (target ${targetText(f.target)} ${f.unit})`);
    }
  }
  return out;
}
