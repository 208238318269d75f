// The shapes the benchmark suite passes around: figures (one measured number with its spread,
// reference and target), case results, profile summaries, and the options every case reads.
// Figures, never pass/fail: a target is a goal printed beside the figure, not an assertion.

/** A goal for a figure: `>=` (more is better) or `<=` (less is better). */
export interface Target {
  cmp: '>=' | '<=';
  value: number;
}

/** One measured number. */
export interface Figure {
  /** A stable key for comparing runs, e.g. `bulk.mtu1500.gbps`. */
  id: string;
  /** What was measured, for people. */
  name: string;
  /** The median over repetitions; null when the figure could not be measured (see `note`). */
  value: number | null;
  unit: string;
  /** Smallest and largest repetition (the spread). */
  min?: number;
  max?: number;
  /** How many repetitions the median is over. */
  reps?: number;
  /** The figure to compare with (peers, Node's net, Linux), in words. */
  reference?: string;
  /** The goal from issue 10. */
  target?: Target;
  /** Whether the median meets the target (set when there is a target and a value). */
  met?: boolean;
  /** Why there is no value, or how to read it. */
  note?: string;
}

/** One function in a CPU profile, by self time. */
export interface ProfileLine {
  /** Function name (or V8's `(garbage collector)`, `(program)`). */
  fn: string;
  /** `file:line` in the TypeScript sources when a source map says so, else the script. */
  where: string;
  selfMs: number;
  /** Share of all samples, in percent. */
  pct: number;
}

/** One allocation site from V8's sampling heap profiler (bytes allocated, collected or not). */
export interface AllocLine {
  fn: string;
  where: string;
  /** Megabytes allocated (or still held, for a retained profile) at this site (sampled estimate). */
  mb: number;
  pct: number;
}

/** What profiling one workload found. */
export interface ProfileSummary {
  /** The workload, e.g. `bulk MTU 1500, 128 MiB`. */
  what: string;
  /** Where the .cpuprofile (open in Chrome DevTools or speedscope) and .heapprofile were written. */
  cpuFile?: string;
  heapFile?: string;
  totalMs: number;
  /** What `allocations` counts (see ProfileWorkload.heap). */
  heapKind: 'allocated' | 'retained';
  top: ProfileLine[];
  allocations: AllocLine[];
}

/** What one case produced. */
export interface CaseResult {
  id: string;
  /** The case number of issue 10 (1-9). */
  n: number;
  title: string;
  figures: Figure[];
  /** Set-up facts a reader needs (link, offload, buffers, concurrency). */
  notes: string[];
  /** Set when the case did not run at all, with the reason. */
  skipped?: string;
  /** Set when the case failed; the figures it measured before failing are kept. */
  error?: string;
  profiles: ProfileSummary[];
  /** Wall-clock seconds the case took, set-up and profiling included. */
  seconds: number;
}

/** Sizes of every workload; `--quick` shrinks them. */
export interface Sizes {
  /** Bytes per bulk transfer (case 1), synack and Node's net alike. */
  bulkBytes: number;
  /** Round trips per repetition (case 2). */
  rrTrips: number;
  /** Connections per repetition (case 3), for synack and for Node's net. */
  connRate: number;
  nodeConnRate: number;
  /** Idle connections held (case 4), one figure set per entry. */
  concurrency: number[];
  /** TIME-WAIT entries held (case 5), one figure set per entry. */
  timeWait: number[];
  /** SYNs per repetition (case 6). */
  synFlood: number;
  /** Bytes summed per checksum repetition (case 7). */
  checksumBytes: number;
}

/** Options of one suite run (bench/suite.ts parses them). */
export interface BenchOptions {
  quick: boolean;
  full: boolean;
  /** Repetitions per figure; undefined: each case's default. */
  reps: number | undefined;
  /** Case ids to run; undefined: the default set. */
  only: string[] | undefined;
  /** Case 9: profile case 1 and write the profiles. */
  profile: boolean;
  /** Profile the workload of a case whose target is missed (default on, off with --quick). */
  profileMissed: boolean;
  /** Where the JSON goes. */
  out: string;
  /** Where profiles go. */
  resultsDir: string;
  /** The repository's root (cases look for src/ files from here: the bundled child lives in .tmp/). */
  root: string;
  sizes: Sizes;
}

/** What a case gets: options, and where to put what it measures. */
export interface CaseContext {
  readonly opts: BenchOptions;
  readonly sizes: Sizes;
  /** The repetitions to use: `--reps` if given, else the case's default (fewer with --quick). */
  reps(fallback: number): number;
  /** Adds a figure; returns it. */
  figure(f: Figure): Figure;
  /** Adds a note (set-up facts). */
  note(text: string): void;
  /** Progress for people (stderr). */
  log(text: string): void;
  /** Adds a profile summary (case 9). */
  addProfile(p: ProfileSummary): void;
}

/** A workload a case can have profiled when its target is missed (or with --profile). */
export interface ProfileWorkload {
  what: string;
  /**
   * Which allocations the heap profile reports: everything allocated during the run, collected
   * or not (where time goes; the default), or what the run's result still holds when the
   * profile stops (where memory goes: the idle-connection and TIME-WAIT cases).
   */
  heap?: 'allocated' | 'retained';
  /** Runs the workload once; a returned value is kept alive until the heap profile is taken. */
  run(): unknown;
}

/** One case of the suite. */
export interface BenchCase {
  id: string;
  n: number;
  title: string;
  run(ctx: CaseContext): void | Promise<void>;
  /** The workload to profile when one of this case's targets is missed. */
  profile?(ctx: CaseContext): ProfileWorkload | ProfileWorkload[];
}

/** Thrown by a case that cannot run here; the message is the reason, printed instead of figures. */
export class SkipCase extends Error {}
