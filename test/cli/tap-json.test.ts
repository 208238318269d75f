// `synack tap`'s output (issue 9): the events it prints, as text and as JSON lines (`--json`),
// and its option checks. The command itself needs a TAP device (root); test/http-tap.test.ts and
// test/interop drive that path. Here: the formatter and the argument checks only.
import { describe, expect, test } from 'vitest';
import { formatTapEvent, tapSettings, type TapCliOptions, type TapEvent } from '../../src/cli/tap.js';
import { SocketLayer } from '../../src/api/socket.js';
import { SimRng } from '../../src/sim/rng.js';
import { Stack } from '../../src/stack.js';
import { socketTable } from '../../src/trace/stats.js';

const listening: TapEvent = {
  type: 'listening', device: 'synack0', medium: 'ethernet', mtu: 1500, mac: '02:00:00:00:00:01',
  addresses: ['10.77.0.2', 'fd77::2'], port: 8080, url: 'http://10.77.0.2:8080/',
};
const stopped: TapEvent = { type: 'stopped', served: 3, tcp: { inSegs: 20, outSegs: 18, retransSegs: 1 }, frames: { rx: 25, tx: 22 } };

describe('synack tap output', () => {
  test('--json: one JSON object per line that round-trips, with its type first', () => {
    for (const ev of [listening, stopped, { type: 'sockets', table: [] } satisfies TapEvent]) {
      const line = formatTapEvent(ev, true);
      expect(line).not.toContain('\n');
      expect(line.startsWith(`{"type":"${ev.type}"`)).toBe(true);
      expect(JSON.parse(line)).toEqual(ev);
    }
  });

  test('a socket table from a live stack, as JSON rows and as ss -tan text', () => {
    const stack = new Stack({ rng: new SimRng(1), name: 'tap-test' });
    const l = new SocketLayer(stack.tcp).socket(4);
    expect(l.bind('0.0.0.0', 8080) ?? l.listen()).toBeUndefined();
    const ev: TapEvent = { type: 'sockets', table: socketTable(stack.tcp) };
    const parsed = JSON.parse(formatTapEvent(ev, true)) as { type: string; table: { state: string; local: string }[] };
    expect(parsed.table).toEqual([expect.objectContaining({ state: 'LISTEN', local: '0.0.0.0:8080' })]);
    const text = formatTapEvent(ev, false);
    expect(text).toMatch(/^State +Recv-Q +Send-Q +Local Address:Port +Peer Address:Port\n/);
    expect(text).toMatch(/LISTEN +0 +\d+ +0\.0\.0\.0:8080 +0\.0\.0\.0:\*/);
  });

  test('without --json: the status lines as before', () => {
    expect(formatTapEvent(listening, false)).toBe(
      'synack on synack0 (ethernet, MTU 1500, MAC 02:00:00:00:00:01): 10.77.0.2, fd77::2\nHTTP/1.0 on port 8080: curl http://10.77.0.2:8080/   (Ctrl-C to stop)');
    expect(formatTapEvent({ ...listening, mac: null, medium: 'ip' }, false)).toMatch(/^synack on synack0 \(ip, MTU 1500\): /);
    expect(formatTapEvent(stopped, false)).toBe('\nserved 3 requests; TCP segments in 20, out 18, retransmitted 1; frames in 25, out 22');
  });
});

describe('synack tap options', () => {
  const base: TapCliOptions = { name: 'synack0', mode: 'tap', ipv4: ['10.77.0.2/24'], http: '8080' };

  test('defaults: text, no socket tables', () => {
    expect(tapSettings(base)).toEqual({ port: 8080, mode: 'tap', json: false, statsMs: undefined });
  });

  test('--json and --stats', () => {
    expect(tapSettings({ ...base, json: true, stats: '2.5', mode: 'tun', http: '80' })).toEqual({ port: 80, mode: 'tun', json: true, statsMs: 2500 });
  });

  test('bad values name the option', () => {
    expect(() => tapSettings({ ...base, http: '0' })).toThrow(/--http/);
    expect(() => tapSettings({ ...base, http: '65536' })).toThrow(/--http/);
    expect(() => tapSettings({ ...base, mode: 'veth' })).toThrow(/--mode/);
    expect(() => tapSettings({ ...base, stats: 'soon' })).toThrow(/--stats/);
    expect(() => tapSettings({ ...base, stats: '0' })).toThrow(/--stats/);
  });
});
