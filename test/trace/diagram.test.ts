// The text sequence-diagram renderer (src/trace/diagram.ts) over real runs: columns, arrows,
// lost frames, states, notes, relative and absolute numbering, retransmission marks, connection
// tags, elided runs, pauses, and colour that never moves a character.
import { describe, expect, test } from 'vitest';
import { Scenario } from '../../src/sim/scenario.js';
import { buildDiagram, connKey, renderDiagram, timeFormatter } from '../../src/trace/diagram.js';
import { handshake } from '../../src/sim/scenarios/basic.js';
import { lostSyn } from '../../src/sim/scenarios/loss.js';
import { acceptQueueOverflow } from '../../src/sim/scenarios/open.js';
import { spoofedRst } from '../../src/sim/scenarios/attack.js';
import { framesWhere, isSyn } from '../../src/sim/scenarios/common.js';

// eslint-disable-next-line no-control-regex
const strip = (s: string): string => s.replace(/\u001b\[[0-9;]*m/g, '');

describe('text diagram', () => {
  const hs = handshake();
  const text = hs.scenario.diagram();
  const lines = text.split('\n');

  test('a header with one column per host, then rows in time order with virtual timestamps on the left', () => {
    expect(lines[0]).toMatch(/^\s+client\s+server$/);
    const times = lines.slice(1).map((l) => /^\s*(\d+\.\d+)\s/.exec(l)?.[1]).filter((t): t is string => t !== undefined).map(Number);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times[0]).toBe(0);
  });

  test('arrows point the way the segment travelled, with flags, relative seq/ack and lengths; SYN options on the next line', () => {
    const syn = lines.findIndex((l) => l.includes('SYN seq=0'));
    expect(lines[syn]).toMatch(/│─+ SYN seq=0 win=64240 ─+▶│/);
    expect(lines[syn + 1]).toContain('<mss 1460,sackOK,TS,wscale 7>');
    expect(text).toMatch(/│◀─+ SYN\+ACK seq=0 ack=1 win=65160 ─+│/);
    expect(text).toMatch(/│─+ ACK seq=1 ack=1 len=18 ─+▶│/);
    expect(text).not.toContain('PSH');
  });

  test('each side\'s state is printed on its own column where it changes', () => {
    const col = (name: string): number => lines[0]!.indexOf(name) + Math.floor(name.length / 2);
    const synSent = lines.find((l) => l.includes('SYN-SENT'))!;
    expect(Math.abs(synSent.indexOf('SYN-SENT') + 4 - col('client'))).toBeLessThanOrEqual(1);
    const synRcvd = lines.find((l) => l.includes('SYN-RECEIVED'))!;
    expect(Math.abs(synRcvd.indexOf('SYN-RECEIVED') + 6 - col('server'))).toBeLessThanOrEqual(1);
  });

  test('absolute numbering shows the real ISNs', () => {
    const iss = framesWhere(hs.scenario, 'client', isSyn)[0]!.seg.seq;
    expect(hs.scenario.diagram({ absolute: true })).toContain(`SYN seq=${iss >>> 0} `);
    expect(text).not.toContain(String(iss >>> 0));
  });

  test('a lost frame ends in an X short of its target; its retransmission is marked; a long pause is a break line', () => {
    const d = lostSyn().scenario.diagram();
    expect(d).toMatch(/│─+ SYN seq=0 win=64240 ─+X {3}│/);
    expect(d).toMatch(/SYN seq=0 win=64240 \(retransmission\) ─+▶│/);
    expect(d).toMatch(/^\s+⋮\s+┊\s+┊$/m);
  });

  test('styles wrap whole segments and never move a character', () => {
    const wrap = (tag: string) => (s: string) => `\u001b[${tag}m${s}\u001b[0m`;
    const styled = hs.scenario.diagram({ style: { time: wrap('2'), arrow: wrap('36'), lost: wrap('31'), state: wrap('33'), host: wrap('1'), note: wrap('35') } });
    expect(styled).not.toBe(text);
    expect(strip(styled)).toBe(text);
  });

  test('application notes sit beside their host\'s column', () => {
    expect(text).toMatch(/│ send\(18 bytes\) +│/);
    expect(text).toMatch(/│ +send\(24 bytes\) │/);
  });
});

describe('several connections, attackers and long runs', () => {
  test('connections get tags (#1, #2 ...) on frames and states when there is more than one', () => {
    const d = acceptQueueOverflow().scenario.diagram();
    expect(d).toContain('#1 SYN seq=0');
    expect(d).toContain('#3 SYN-SENT');
    expect(d).toContain('#3 SYN seq=0 win=64240 (retransmission)');
  });

  test('a third party gets its own column; runs of look-alike frames are elided to two, a count, and the last', () => {
    const r = spoofedRst();
    const d = r.scenario.diagram(r.view);
    expect(d.split('\n')[0]).toMatch(/client\s+server\s+attacker/);
    const elided = [...d.matchAll(/⋮ (\d+) more RST/g)].map((m) => Number(m[1]));
    expect(elided.reduce((a, b) => a + b, 0) + 6).toBe(1024);
    expect(d.split('\n').length).toBeLessThan(60);
  });

  test('connKey is order-independent; the row model carries arrival times and losses', () => {
    expect(connKey('10.0.0.1:1', '10.0.0.2:80')).toBe(connKey('10.0.0.2:80', '10.0.0.1:1'));
    const s = lostSyn().scenario;
    const m = buildDiagram(s.wire, s.states, { hosts: ['client', 'server'] });
    const frames = m.rows.filter((r) => r.kind === 'frame');
    expect(frames[0]).toMatchObject({ from: 0, to: 1, lost: 'filter', arrivedAt: undefined });
    expect(frames[1]).toMatchObject({ retransmission: true });
    expect(frames[1]!.kind === 'frame' && frames[1]!.arrivedAt! - frames[1]!.at).toBe(10_000);
  });

  test('times print with 3 decimals when all are whole milliseconds, else 6', () => {
    expect(timeFormatter([0, 1000, 20_000])(20_000)).toBe('0.020');
    expect(timeFormatter([0, 1010])(1010)).toBe('0.001010');
  });

  test('an empty scenario draws just the header', () => {
    const s = new Scenario({ seed: 1 });
    expect(renderDiagram(s.wire, s.states, { hosts: ['client', 'server'] }).split('\n')).toHaveLength(1);
  });
});
