// `synack packetdrill --json` (issue 9): one JSON array on stdout, one entry per script with
// runPacketdrill's status, exit code, message and line, and the command's exit code unchanged
// (0 all pass, 1 any fail, else 2 any unsupported). Spawns the real CLI through tsx.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import type { PacketdrillJsonEntry } from '../../src/cli/packetdrill.js';

const DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = join(DIR, '..', '..');

const cli = (args: string[]): ReturnType<typeof spawnSync> =>
  spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'packetdrill', '--json', ...args], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' },
  });

test('synack packetdrill --json prints one array of results and keeps the exit code', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'synack-pd-json-'));
  try {
    const pass = join(tmp, 'pass.pkt');
    copyFileSync(join(DIR, 'close-passive.pkt'), pass);
    const unsup = join(tmp, 'unsupported.pkt');
    writeFileSync(unsup, '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 setsockopt(3, SOL_SOCKET, SO_REUSEPORT, [1], 4) = 0\n');

    const both = cli([pass, unsup]);
    expect(both.status, String(both.stderr)).toBe(2);
    const entries = JSON.parse(String(both.stdout)) as PacketdrillJsonEntry[];
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ file: pass, status: 'pass', exitCode: 0, message: null, line: null });
    expect(entries[1]).toMatchObject({ file: unsup, status: 'unsupported', exitCode: 2, line: 2 });
    expect(entries[1]!.message).toContain('unsupported.pkt:2: unsupported');
    // Nothing but the JSON on stdout (no pass/fail lines), and the message is not repeated on stderr.
    expect(String(both.stdout).trim().startsWith('[')).toBe(true);
    expect(String(both.stderr)).not.toContain('unsupported.pkt:2');

    const ok = cli([pass]);
    expect(ok.status, String(ok.stderr)).toBe(0);
    expect((JSON.parse(String(ok.stdout)) as PacketdrillJsonEntry[]).map((e) => e.status)).toEqual(['pass']);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}, 60_000);
