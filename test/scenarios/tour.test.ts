// The tour (src/cli/tour.ts) and `synack demo` (src/cli/demo.ts): chapters in issue 9's order,
// pending ones listed as not implemented (never faked), every implemented one runnable from the
// catalogue; demo options parsed with errors a person can act on; and the command line itself,
// run as `npm start` runs it: plain text off a TTY, JSON on request, exit code 2 on misuse.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { CHAPTERS, renderResult, wrap } from '../../src/cli/tour.js';
import { UsageError, parseDelay, parseLoss, parseSeed, runDemo, secondPath } from '../../src/cli/demo.js';
import { SCENARIOS, findScenario } from '../../src/sim/scenarios/index.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'synack-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tour chapters', () => {
  test('in the order issue 9 tells the story', () => {
    expect(CHAPTERS.map((c) => c.id)).toEqual([
      'handshake', 'lost-syn', 'lost-syn-ack', 'lost-ack-idle', 'lost-ack-client-data', 'lost-ack-server-first',
      'four-way-close', 'half-close', 'simultaneous-open', 'simultaneous-close', 'time-wait', 'time-wait-exhaustion',
      'fin-vs-rst', 'rst-closed-port', 'spoofed-rst', 'syn-flood', 'accept-queue-overflow', 'fast-open', 'defer-accept',
      'keepalive', 'mss', 'zero-window', 'fast-retransmit', 'slow-start',
    ]);
  });

  test('a chapter either runs a catalogue scenario or says what it waits for; none is both', () => {
    for (const ch of CHAPTERS) {
      expect(ch.text.length, ch.id).toBeGreaterThan(100);
      if (ch.run === undefined) expect(ch.needs, ch.id).toBeDefined();
      else {
        expect(ch.needs, ch.id).toBeUndefined();
        expect(findScenario(ch.id)?.run, ch.id).toBe(ch.run);
      }
    }
    expect(CHAPTERS.filter((c) => c.run === undefined).map((c) => c.id)).toEqual([]);
  });

  test('every catalogue scenario but abort-linger0 (folded into FIN versus RST) is a chapter', () => {
    const chapters = new Set(CHAPTERS.map((c) => c.id));
    expect(SCENARIOS.filter((e) => !chapters.has(e.id)).map((e) => e.id)).toEqual(['abort-linger0']);
  });

  test('a story with a contrasting run draws both; side by side only when the terminal is wide enough', () => {
    const r = findScenario('fin-vs-rst')!.run();
    const narrow = renderResult(r);
    expect(narrow).toContain('close(): FIN');
    expect(narrow).toContain('close() with SO_LINGER {on, 0}: RST');
    expect(narrow.indexOf('close(): FIN')).toBeLessThan(narrow.indexOf('SO_LINGER {on, 0}: RST'));
    const wide = renderResult(r, { columns: 240 });
    expect(wide.split('\n').length).toBeLessThan(narrow.split('\n').length);
    expect(wide.split('\n').find((l) => l.includes('close(): FIN'))).toContain('SO_LINGER {on, 0}: RST');
  });

  test('wrap keeps lines within the width', () => {
    const w = wrap(CHAPTERS[0]!.text, 60, '  ');
    for (const l of w.split('\n')) expect(l.length).toBeLessThanOrEqual(60);
  });
});

describe('synack demo', () => {
  test('parses loss, delay and seed, and names what is wrong', () => {
    expect(parseLoss('5%')).toBe(0.05);
    expect(parseLoss('0.2')).toBe(0.2);
    expect(() => parseLoss('150%')).toThrow(UsageError);
    expect(() => parseLoss('lots')).toThrow(/--loss: expected a rate like 5% or 0.05, got 'lots'/);
    expect(parseDelay('20ms')).toBe(20_000);
    expect(parseDelay('1s')).toBe(1_000_000);
    expect(parseDelay('250us')).toBe(250);
    expect(parseDelay('15')).toBe(15_000);
    expect(() => parseDelay('soon')).toThrow(/--delay/);
    expect(parseSeed('42')).toBe(42);
    expect(() => parseSeed('4.2')).toThrow(/--seed/);
    expect(secondPath('/tmp/x.pcap')).toBe('/tmp/x-2.pcap');
    expect(secondPath('out')).toBe('out-2');
  });

  test('an unknown scenario is a usage error listing the ids', () => {
    expect(() => runDemo('nope', {}, {})).toThrow(UsageError);
    expect(() => runDemo('nope', {}, {})).toThrow(/lost-syn-ack/);
  });

  test('runs a scenario with a longer delay and another seed, and writes its pcap and SVG', () => {
    const pcap = join(dir, 'hs.pcap');
    const svg = join(dir, 'hs.svg');
    const out = runDemo('handshake', { delay: '50ms', seed: '7', pcap, svg }, {});
    expect(out).toMatch(/^\s+0\.100\s+ESTABLISHED/m); // one 2 x 50 ms round trip
    expect(out).toContain('ss -tan on server');
    expect(out).toContain(`wrote ${pcap}`);
    expect(readFileSync(pcap).readUInt32LE(0)).toBe(0xa1b2c3d4);
    expect(readFileSync(svg, 'utf8')).toContain('<svg');
  });

  test('with random loss the story still completes, and --json carries facts, the diagram and the socket tables', () => {
    const out = JSON.parse(runDemo('half-close', { loss: '10%', seed: '3', json: true }, {})) as Record<string, unknown>;
    expect(out['id']).toBe('half-close');
    expect(out['facts']).toMatchObject({ responseBytesReceivedInFinWait2: 3000 });
    expect(typeof out['diagram']).toBe('string');
    expect(Object.keys(out['sockets'] as object)).toEqual(['client', 'server']);
  });

  test('a two-run story writes both pcaps', () => {
    const pcap = join(dir, 'attack.pcap');
    runDemo('spoofed-rst', { pcap }, {});
    expect(existsSync(pcap)).toBe(true);
    expect(existsSync(join(dir, 'attack-2.pcap'))).toBe(true);
  });
});

describe('the command line', () => {
  const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 << 20 });

  test('`synack tour` (npm start) runs every chapter, plain off a TTY', async () => {
    const { stdout } = await cli('tour');
    expect(stdout.includes('\u001b[')).toBe(false);
    for (const [i, ch] of CHAPTERS.entries()) expect(stdout).toContain(`${i + 1}. ${ch.title}`);
    expect(stdout.match(/not yet implemented/g)).toBeNull();
  });

  test('`synack tour --json --only` gives machine-readable chapters', async () => {
    const { stdout } = await cli('tour', '--json', '--only', 'handshake,slow-start');
    const out = JSON.parse(stdout) as { id: string; implemented: boolean; facts?: object; needs?: string }[];
    expect(out.map((c) => [c.id, c.implemented])).toEqual([['handshake', true], ['slow-start', true]]);
    expect(out[0]!.facts).toMatchObject({ requestBytes: 18 });
    expect(out[1]!.facts).toMatchObject({ TCPTimeouts: 0 });
  });

  test('misuse exits with 2', async () => {
    await expect(cli('demo', 'no-such-story')).rejects.toMatchObject({ code: 2 });
    await expect(cli('demo', 'handshake', '--loss', 'x')).rejects.toMatchObject({ code: 2 });
    await expect(cli('tour', '--bogus')).rejects.toMatchObject({ code: 2 });
  });
});
