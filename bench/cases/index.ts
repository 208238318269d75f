// The cases of the benchmark suite, in issue 10's order. Each lives in its own file; the
// runner (bench/suite.ts) runs each in its own child process (bench/child.ts).
import type { BenchCase } from '../types.js';

/** A case's id, number and title, and how to load it. */
export interface CaseEntry {
  id: string;
  n: number;
  title: string;
  /** Run by default (case 9 only with --profile). */
  byDefault: boolean;
  load(): Promise<BenchCase>;
}

export const CASES: readonly CaseEntry[] = [
  { id: 'bulk', n: 1, title: 'Bulk throughput, two stacks in one process', byDefault: true, load: async () => (await import('./bulk.js')).bulkCase },
  { id: 'rr', n: 2, title: 'Request/response: 1-byte ping-pong', byDefault: true, load: async () => (await import('./rr.js')).rrCase },
  { id: 'connrate', n: 3, title: 'Connection rate', byDefault: true, load: async () => (await import('./connrate.js')).connRateCase },
  { id: 'concurrency', n: 4, title: 'Concurrency: idle established connections', byDefault: true, load: async () => (await import('./concurrency.js')).concurrencyCase },
  { id: 'timewait', n: 5, title: 'TIME-WAIT: entries held and expired', byDefault: true, load: async () => (await import('./timewait.js')).timeWaitCase },
  { id: 'synflood', n: 6, title: 'SYN flood with SYN cookies', byDefault: true, load: async () => (await import('./synflood.js')).synFloodCase },
  { id: 'checksum', n: 7, title: 'Checksum', byDefault: true, load: async () => (await import('./checksum.js')).checksumCase },
  { id: 'tap', n: 8, title: 'Over the TAP driver against the kernel', byDefault: true, load: async () => (await import('./tap.js')).tapCase },
  { id: 'profile', n: 9, title: 'CPU profile of case 1', byDefault: false, load: async () => (await import('./profile.js')).profileCase },
];

/** The entry for an id or a case number (`bulk` or `1`). */
export function findCase(key: string): CaseEntry | undefined {
  return CASES.find((c) => c.id === key || String(c.n) === key);
}
