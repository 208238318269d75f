// `synack sim <file>` as a person runs it (spawned through tsx, as test/scenarios/tour.test.ts
// does): exit 0 when the scenario went as written, 1 when a step failed, 2 for a bad file;
// --json's shape; --pcap and --svg files; a TS module scenario.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { readPcap } from '../../src/link/capture.js';
import { progressWanted } from '../../src/cli/progress.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'synack-sim-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI; resolves with stdout, stderr and the exit code (never rejects on a non-zero exit). */
async function cli(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { ...process.env, NO_COLOR: '1', CI: 'true' }, maxBuffer: 64 << 20 });
    return { ...r, code: 0 };
  } catch (e) {
    const x = e as { stdout: string; stderr: string; code: number };
    return { stdout: x.stdout, stderr: x.stderr, code: x.code };
  }
}

describe('synack sim', () => {
  test('an example that goes as written: exit 0, the diagram, tcp_info, events; pcap and svg written', async () => {
    const pcap = join(dir, 'h.pcap');
    const svg = join(dir, 'h.svg');
    const r = await cli('sim', 'examples/half-close.json', '--pcap', pcap, '--svg', svg);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('c: shutdown(SHUT_WR)');
    expect(r.stdout).toMatch(/c on client: 10\.0\.0\.1:\d+ -> 10\.0\.0\.2:7 CLOSED, sent 5000 B, received 5000 B, eof/);
    expect(r.stdout).toContain('rtt:');
    expect(r.stdout).toContain('ok: every step ran');
    const file = readPcap(readFileSync(pcap));
    expect(file.ok).toBe(true);
    if (file.ok) expect(file.value.records.length).toBeGreaterThan(20);
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg/);
  });

  test('--json: outcome, sockets with tcp_info, events, hosts, diagram', async () => {
    const r = await cli('sim', 'examples/http-lossy.json', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(j)).toEqual(['file', 'ok', 'failures', 'stopped', 'end', 'steps', 'sockets', 'events', 'hosts', 'diagram', 'files']);
    expect(j['ok']).toBe(true);
    const sockets = j['sockets'] as { name: string; received: number; info: { bytesReceived: number; totalRetrans: number } | null }[];
    const c1 = sockets.find((s) => s.name === 'c1')!;
    expect(c1.received).toBe(20000);
    expect(c1.info?.bytesReceived).toBe(20000);
    const srv = sockets.find((s) => s.name === 'http#1')!;
    expect(srv.info!.totalRetrans).toBeGreaterThan(0);
    expect((j['events'] as { socket: string; event: string }[]).some((e) => e.socket === 'c1' && e.event === 'eof')).toBe(true);
    expect(typeof j['diagram']).toBe('string');
  });

  test('a TS module scenario runs', async () => {
    const r = await cli('sim', 'examples/slow-reader.ts');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toContain('A slow reader');
  });

  test('a step that fails: exit 1 with the reason', async () => {
    const f = join(dir, 'refused.json');
    writeFileSync(f, JSON.stringify({
      hosts: [{ name: 'client' }, { name: 'server' }],
      links: [{ between: ['client', 'server'] }],
      steps: [{ at: '0s', host: 'client', connect: { to: 'server', port: 81, as: 'c' } }],
    }));
    const r = await cli('sim', f);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAILED (1):');
    expect(r.stdout).toContain('c on client: ECONNREFUSED');
  });

  test('a bad file: exit 2 naming the file, the path and the value', async () => {
    const f = join(dir, 'bad.json');
    writeFileSync(f, JSON.stringify({ hosts: [{ name: 'a' }, { name: 'b' }], links: [{ between: ['a', 'b'], delay: 10 }] }));
    const r = await cli('sim', f);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`synack: ${f}: links[0].delay: expected a duration like "10ms", "1.5s" or "250us", got 10`);
    const missing = await cli('sim', join(dir, 'nope.json'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('ENOENT');
  });
});

test('the progress bar is only for a terminal, never under CI', () => {
  const tty = { isTTY: true } as NodeJS.WriteStream;
  const pipe = { isTTY: false } as NodeJS.WriteStream;
  expect(progressWanted({}, tty)).toBe(true);
  expect(progressWanted({ CI: 'true' }, tty)).toBe(false);
  expect(progressWanted({}, pipe)).toBe(false);
});
