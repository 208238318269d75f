// CPU and heap profiles of a benchmark workload, taken in-process through node:inspector: V8's
// sampling CPU profiler (self time per function) and its sampling heap profiler (bytes per
// allocation site: everything allocated during the run, or what is still held at its end).
// Profiles are written as .cpuprofile / .heapprofile files (Chrome DevTools, speedscope) and
// summarised as the top functions, with positions mapped back to the TypeScript sources through
// the source maps tsx registers.
import { Session } from 'node:inspector/promises';
import { findSourceMap } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AllocLine, ProfileLine, ProfileSummary, ProfileWorkload } from './types.js';

interface CallFrame { functionName: string; url: string; lineNumber: number; columnNumber: number }
interface CpuNode { id: number; callFrame: CallFrame; hitCount?: number; children?: number[] }
interface CpuProfile { nodes: CpuNode[]; startTime: number; endTime: number; samples?: number[] }
interface HeapNode { callFrame: CallFrame; selfSize: number; children: HeapNode[] }
interface HeapProfile { head: HeapNode }


/** The repository root: positions are printed relative to it (set by `profileWorkload`). */
let ROOT = process.cwd();

/** `file:line` of a call frame in the TypeScript sources when a source map knows it. */
function where(cf: CallFrame): string {
  if (cf.url === '') return '';
  let file = cf.url;
  let line = cf.lineNumber + 1;
  try {
    const map = findSourceMap(cf.url.split('?')[0]!);
    const e = map?.findEntry(cf.lineNumber, cf.columnNumber) as { originalSource?: string; originalLine?: number } | undefined;
    if (e?.originalSource !== undefined && e.originalLine !== undefined) {
      file = e.originalSource;
      line = e.originalLine + 1;
    }
  } catch {
    // No source map: the script position stands.
  }
  if (file.startsWith('file:')) file = fileURLToPath(file.split('?')[0]!);
  if (file.startsWith('/')) file = relative(ROOT, file);
  return `${file}:${line}`;
}

const nameOf = (cf: CallFrame): string => cf.functionName || '(anonymous)';
const frameKey = (cf: CallFrame): string => `${cf.functionName}|${cf.url}|${cf.lineNumber}|${cf.columnNumber}`;

/**
 * A V8 built-in (`subarray`, `set`, `Map.get`: no script) says little alone; it is named with the
 * nearest caller that has a script (`subarray <- emit`), and placed there.
 */
function label(cf: CallFrame, caller: CallFrame | undefined): { key: string; fn: string; where: string } {
  const builtin = cf.url === '' && !cf.functionName.startsWith('(');
  if (builtin && caller !== undefined) {
    return { key: `${frameKey(cf)}<-${frameKey(caller)}`, fn: `${nameOf(cf)} <- ${nameOf(caller)}`, where: where(caller) };
  }
  return { key: frameKey(cf), fn: nameOf(cf), where: where(cf) };
}

/** Self time per function (summed over every call path), largest first. */
export function topSelf(profile: CpuProfile, n: number): { top: ProfileLine[]; totalMs: number } {
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  let hits = 0;
  for (const node of profile.nodes) hits += node.hitCount ?? 0;
  const parent = new Map<number, CpuNode>();
  for (const node of profile.nodes) {
    for (const c of node.children ?? []) parent.set(c, node);
  }
  const scriptCaller = (node: CpuNode): CallFrame | undefined => {
    for (let p = parent.get(node.id); p !== undefined; p = parent.get(p.id)) if (p.callFrame.url !== '') return p.callFrame;
    return undefined;
  };
  const by = new Map<string, ProfileLine & { hits: number }>();
  for (const node of profile.nodes) {
    const h = node.hitCount ?? 0;
    if (h === 0) continue;
    const l = label(node.callFrame, scriptCaller(node));
    const e = by.get(l.key);
    if (e !== undefined) e.hits += h;
    else by.set(l.key, { fn: l.fn, where: l.where, selfMs: 0, pct: 0, hits: h });
  }
  const top = [...by.values()].sort((a, b) => b.hits - a.hits).slice(0, n).map(({ hits: h, ...l }) => ({
    ...l, selfMs: hits > 0 ? (h / hits) * totalMs : 0, pct: hits > 0 ? (100 * h) / hits : 0,
  }));
  return { top, totalMs };
}

/** Bytes per allocation site (function and position), largest first. */
export function topAllocations(profile: HeapProfile, n: number): AllocLine[] {
  const by = new Map<string, AllocLine & { bytes: number }>();
  let total = 0;
  const walk = (node: HeapNode, caller: CallFrame | undefined): void => {
    if (node.selfSize > 0) {
      const l = label(node.callFrame, caller);
      const e = by.get(l.key);
      if (e !== undefined) e.bytes += node.selfSize;
      else by.set(l.key, { fn: l.fn, where: l.where, mb: 0, pct: 0, bytes: node.selfSize });
      total += node.selfSize;
    }
    const next = node.callFrame.url !== '' ? node.callFrame : caller;
    for (const c of node.children) walk(c, next);
  };
  walk(profile.head, undefined);
  return [...by.values()].sort((a, b) => b.bytes - a.bytes).slice(0, n).map(({ bytes, ...l }) => ({
    ...l, mb: bytes / 2 ** 20, pct: total > 0 ? (100 * bytes) / total : 0,
  }));
}

/** Options for `profileWorkload`. */
export interface ProfileOptions {
  /** Path without extension for the .cpuprofile and .heapprofile files; none: not written. */
  file?: string;
  /** How many functions and allocation sites to keep. */
  top: number;
  allocTop: number;
  /** The repository root, for positions relative to it. */
  root: string;
}

/** Runs `w` once under the CPU and heap samplers; returns the summary (and writes the files). */
export async function profileWorkload(w: ProfileWorkload, o: ProfileOptions): Promise<ProfileSummary> {
  const heapKind = w.heap ?? 'allocated';
  ROOT = o.root;
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 250 });
    await session.post('HeapProfiler.enable');
    const all = heapKind === 'allocated';
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 32 * 1024, includeObjectsCollectedByMajorGC: all, includeObjectsCollectedByMinorGC: all,
    });
    await session.post('Profiler.start');
    // What the run returns stays reachable until the heap profile is taken (retained profiles).
    const kept: unknown[] = [await w.run()];
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
    const { profile: heap } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: HeapProfile };
    kept.length = 0;
    const { top, totalMs } = topSelf(profile, o.top);
    const summary: ProfileSummary = { what: w.what, totalMs, heapKind, top, allocations: topAllocations(heap, o.allocTop) };
    if (o.file !== undefined) {
      mkdirSync(dirname(o.file), { recursive: true });
      writeFileSync(`${o.file}.cpuprofile`, JSON.stringify(profile));
      writeFileSync(`${o.file}.heapprofile`, JSON.stringify(heap));
      summary.cpuFile = relative(ROOT, `${o.file}.cpuprofile`);
      summary.heapFile = relative(ROOT, `${o.file}.heapprofile`);
    }
    return summary;
  } finally {
    session.disconnect();
  }
}
