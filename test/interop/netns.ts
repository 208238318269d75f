// Network namespaces for the interop suite: each test makes its own (`ip netns add synack-<random>`),
// runs the kernel side's commands in it with `ip netns exec`, and deletes it (and every process it
// started there) afterwards, even on failure. No traffic ever leaves a namespace: the addresses
// used (10.77.x.x, fd77::/48) exist only inside them. Also the one-line reason the suite skips.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { tapUnavailable } from '../../src/link/tap.js';

const run = promisify(execFile);

/** Whether `cmd` is an executable on PATH (or an absolute path). */
export function have(cmd: string): boolean {
  const paths = cmd.includes('/') ? [cmd] : [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/sbin'].map((d) => join(d, cmd));
  return paths.some((p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Why the interop suite cannot run here (one line), or undefined. Needs root (CAP_NET_ADMIN and
 * CAP_SYS_ADMIN for namespaces), /dev/net/tun, iproute2, python3 and the built TAP addon.
 */
export function interopSkipReason(): string | undefined {
  if (process.platform !== 'linux') return `interop needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'interop needs root (network namespaces and TAP devices; CI runs as root)';
  if (!existsSync('/dev/net/tun')) return 'interop needs /dev/net/tun';
  if (!have('ip')) return 'interop needs `ip` (apt-get install iproute2)';
  if (!have('python3')) return 'interop needs python3 for the kernel-side peer';
  const addon = tapUnavailable();
  // Under CI (root, /dev/net/tun present) a missing addon is a build failure, not a reason to
  // skip: .ci/run's `npm ci` builds it, and a suite that silently stops running is worse than none.
  if (addon !== undefined && process.env['CI'] === 'true') throw new Error(`${addon}; CI must build it (npm ci runs native/build.mjs)`);
  return addon;
}

/** The result of a command run to completion. */
export interface Done {
  stdout: string;
  stderr: string;
}

/** A process started in a namespace: its output lines as they come, and its exit. */
export class Proc {
  /** Lines of stdout so far. */
  readonly lines: string[] = [];
  /** All of stderr so far. */
  stderr = '';
  /** Exit code (null: killed by a signal) once exited. */
  exitCode: number | null | undefined = undefined;
  private readonly waiters = new Set<() => void>();
  private partial = '';

  constructor(readonly child: ChildProcess, readonly what: string) {
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (s: string) => {
      const parts = (this.partial + s).split('\n');
      this.partial = parts.pop() ?? '';
      this.lines.push(...parts);
      this.wake();
    });
    child.stderr?.on('data', (s: string) => {
      this.stderr += s;
    });
    child.on('exit', (code) => {
      if (this.partial !== '') this.lines.push(this.partial);
      this.partial = '';
      this.exitCode = code;
      this.wake();
    });
    child.on('error', (e) => {
      this.stderr += `\n${e.message}`;
      this.exitCode ??= -1;
      this.wake();
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves with the first output line `match` accepts; rejects on exit or after `timeoutMs`. */
  waitLine(match: (line: string) => boolean, timeoutMs = 20_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const l = this.lines.find(match);
        if (l !== undefined) return finish(() => resolve(l));
        if (this.exitCode !== undefined) return finish(() => reject(new Error(`${this.what} exited (${String(this.exitCode)}) before the expected output; stdout: ${this.lines.join(' | ')}; stderr: ${this.stderr.trim()}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`${this.what}: no expected output within ${timeoutMs} ms; stdout: ${this.lines.join(' | ')}; stderr: ${this.stderr.trim()}`))), timeoutMs);
      const finish = (f: () => void): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        f();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Resolves with the JSON event named `event` the peer printed (see peer.py). */
  async event(event: string, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    const line = await this.waitLine((l) => l.startsWith('{') && (JSON.parse(l) as { event?: string }).event === event, timeoutMs);
    return JSON.parse(line) as Record<string, unknown>;
  }

  /** Resolves when the process has exited (rejects after `timeoutMs`). */
  exited(timeoutMs = 20_000): Promise<number | null> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.exitCode === undefined) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(this.exitCode);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.what} did not exit within ${timeoutMs} ms; stderr: ${this.stderr.trim()}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Kills the process (SIGKILL) if it is still running. */
  kill(): void {
    if (this.exitCode === undefined && this.child.pid !== undefined) this.child.kill('SIGKILL');
  }
}

const live = new Set<Netns>();
// If the test process dies without running afterEach, delete what it made (synchronously).
process.once('exit', () => {
  for (const ns of live) ns.destroySync();
});

/** A network namespace the test owns. */
export class Netns {
  private readonly procs: Proc[] = [];
  private constructor(readonly name: string) {}

  /** Creates `synack-<random>` with its loopback up. */
  static async create(): Promise<Netns> {
    const name = `synack-${randomBytes(4).toString('hex')}`;
    await run('ip', ['netns', 'add', name]);
    const ns = new Netns(name);
    live.add(ns);
    await ns.exec('ip', 'link', 'set', 'lo', 'up');
    return ns;
  }

  /** Runs a command inside the namespace to completion; rejects with its stderr when it fails. */
  async exec(...argv: string[]): Promise<Done> {
    try {
      const r = await run('ip', ['netns', 'exec', this.name, ...argv], { maxBuffer: 64 << 20, timeout: 60_000 });
      return { stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const x = e as { stderr?: string; message?: string };
      throw new Error(`[${this.name}] ${argv.join(' ')}: ${(x.stderr ?? '').trim() || x.message || String(e)}`);
    }
  }

  /** Runs a command inside the namespace and returns its exit status and output (never rejects on a non-zero exit). */
  async tryExec(...argv: string[]): Promise<Done & { code: number }> {
    try {
      const r = await run('ip', ['netns', 'exec', this.name, ...argv], { maxBuffer: 64 << 20, timeout: 60_000 });
      return { stdout: r.stdout, stderr: r.stderr, code: 0 };
    } catch (e) {
      const x = e as { stdout?: string; stderr?: string; code?: number | string };
      return { stdout: x.stdout ?? '', stderr: x.stderr ?? String(e), code: typeof x.code === 'number' ? x.code : -1 };
    }
  }

  /** `ip <args>` inside the namespace. */
  ip(...args: string[]): Promise<Done> {
    return this.exec('ip', ...args);
  }

  /** Starts a long-running process inside the namespace; it is killed when the namespace is destroyed. */
  spawn(...argv: string[]): Proc {
    const child = spawn('ip', ['netns', 'exec', this.name, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    const p = new Proc(child, `[${this.name}] ${argv.slice(0, 3).join(' ')}`);
    this.procs.push(p);
    return p;
  }

  /** Polls `check` (an async condition, e.g. a command's output) until it holds or `timeoutMs` passes. */
  async until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
      if (await check()) return;
      if (Date.now() > deadline) throw new Error(`[${this.name}] timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** Waits until a TCP socket listens on `port` inside the namespace (ss -tln). */
  async listening(port: number, timeoutMs = 10_000): Promise<void> {
    await this.until(`a listener on port ${port}`, async () => {
      const { stdout } = await this.exec('ss', '-Htln', `sport = :${port}`);
      return stdout.trim() !== '';
    }, timeoutMs);
  }

  /** The kernel's TCP sockets in this namespace: `ss -Htan` as [state, local, peer] rows. */
  async sockets(): Promise<{ state: string; local: string; peer: string }[]> {
    const { stdout } = await this.exec('ss', '-Htan');
    return stdout.split('\n').filter((l) => l.trim() !== '').map((l) => {
      const f = l.trim().split(/\s+/);
      return { state: f[0] ?? '', local: f[3] ?? '', peer: f[4] ?? '' };
    });
  }

  /** Kills its processes and deletes the namespace (and the devices in it). */
  async destroy(): Promise<void> {
    for (const p of this.procs) p.kill();
    await Promise.all(this.procs.map((p) => p.exited(5_000).catch(() => undefined)));
    if (!live.has(this)) return;
    live.delete(this);
    await run('ip', ['netns', 'del', this.name]).catch(() => undefined);
  }

  /** The synchronous last resort for a dying process. */
  destroySync(): void {
    for (const p of this.procs) p.kill();
    try {
      execFileSync('ip', ['netns', 'del', this.name], { stdio: 'ignore' });
    } catch {
      // nothing more can be done while exiting
    }
    live.delete(this);
  }
}
