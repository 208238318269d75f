// A progress bar for long runs, shared by `synack sim` and anything else that runs long
// (`synack bench` can use it for work done in this process). Built on cli-progress; shown only on
// an interactive terminal: never when stderr is not a TTY, never under CI (CI=true), so logs and
// pipes stay clean. It writes to stderr so stdout stays machine-readable (`--json`).
import cliProgress from 'cli-progress';

/** A progress display: `update(done)` as work advances, `stop()` at the end (both harmless when hidden). */
export interface Progress {
  /** Whether a bar is actually drawn. */
  readonly visible: boolean;
  update(done: number, label?: string): void;
  stop(): void;
}

/** Whether a bar should be drawn in this process: stderr is a TTY and CI is not set. */
export function progressWanted(env: NodeJS.ProcessEnv = process.env, stream: NodeJS.WriteStream = process.stderr): boolean {
  const ci = env['CI'];
  return stream.isTTY === true && (ci === undefined || ci === '' || ci === 'false' || ci === '0');
}

/**
 * A bar counting to `total` in the given `unit` ("s" of virtual time, "cases", ...), or a silent
 * stand-in when `progressWanted()` says no (or `force` is false).
 */
export function progressBar(total: number, unit: string, force?: boolean): Progress {
  if (!(force ?? progressWanted())) return { visible: false, update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar({
    format: `  {bar} {value}/{total} ${unit} {label}`,
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: true,
    fps: 10,
  }, cliProgress.Presets.shades_classic);
  bar.start(total, 0, { label: '' });
  let stopped = false;
  return {
    visible: true,
    update: (done, label) => bar.update(Math.min(done, total), { label: label ?? '' }),
    stop: () => {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
