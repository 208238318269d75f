// Small statistics and measurement helpers for the benchmark cases: medians with spread,
// percentiles, repeated measurements, memory after a forced GC, CPU time.
import type { Figure, Target } from './types.js';

/** The median of `xs` (the mean of the middle two for even counts); NaN for none. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The p-th percentile (0-100) of sorted `xs`, nearest rank. */
export function percentileSorted(xs: Float64Array | readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const i = Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1));
  return xs[i]!;
}

/** A figure from repetitions: the median, with min and max as the spread. */
export function fromRuns(base: Omit<Figure, 'value' | 'min' | 'max' | 'reps'>, runs: readonly number[]): Figure {
  return { ...base, value: median(runs), min: Math.min(...runs), max: Math.max(...runs), reps: runs.length };
}

/** `>=` or `<=` a value. */
export const atLeast = (value: number): Target => ({ cmp: '>=', value });
export const atMost = (value: number): Target => ({ cmp: '<=', value });

/** Whether `value` meets `t`. */
export function meets(value: number, t: Target): boolean {
  return t.cmp === '>=' ? value >= t.value : value <= t.value;
}

/** Seconds of wall clock since `t0` (a `performance.now()` reading). */
export const secondsSince = (t0: number): number => (performance.now() - t0) / 1000;

/** Heap and array-buffer bytes in use after full garbage collections (needs `node --expose-gc`). */
export interface Memory {
  heap: number;
  arrayBuffers: number;
  /** heap + arrayBuffers: what the figures count. */
  total: number;
}

/** Whether `global.gc` is there (the runner starts every case with `--expose-gc`). */
export function canCollect(): boolean {
  return typeof (globalThis as { gc?: unknown }).gc === 'function';
}

/** Collects garbage (several full GCs, so weak maps and finalizers settle) and reads memory. */
export function memoryNow(): Memory {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('memory figures need global.gc: run the case with node --expose-gc (the bench runner does)');
  for (let i = 0; i < 4; i++) gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, arrayBuffers: m.arrayBuffers, total: m.heapUsed + m.arrayBuffers };
}

/** CPU time (user + system) in microseconds since `from` (a `process.cpuUsage()` reading). */
export function cpuMicros(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return d.user + d.system;
}

/** `n` formatted with thousands separators. */
export const grouped = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Bytes as KiB/MiB/GiB text. */
export function bytesText(n: number): string {
  if (n >= 2 ** 30 && n % 2 ** 30 === 0) return `${n / 2 ** 30} GiB`;
  if (n >= 2 ** 20) return `${+(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${+(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

/** Parses `1G`, `256M`, `64k`, `1000000` (binary units) into bytes; NaN when it is not one. */
export function parseBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]i?b?)?$/i.exec(text.trim());
  if (m === null) return NaN;
  const mult = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 }[(m[2] ?? '').charAt(0).toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * mult);
}

/** Parses `100k`, `1M`, `20000` (decimal units) into a count; NaN when it is not one. */
export function parseCount(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([km])?$/i.exec(text.trim());
  if (m === null) return NaN;
  const mult = m[2] === undefined ? 1 : m[2].toLowerCase() === 'k' ? 1e3 : 1e6;
  return Math.round(Number(m[1]) * mult);
}

/** A count as `100k` / `1M` text. */
export function countText(n: number): string {
  if (n >= 1e6 && n % 1e6 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 1e3 === 0) return `${n / 1e3}k`;
  return grouped(n);
}
