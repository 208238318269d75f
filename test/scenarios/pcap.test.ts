// Every scenario the tour runs can write a pcap (tcpdump's view at the client host), and tshark,
// an independent dissector, must find no malformed packet and no bad checksum in any of them.
// TCP analysis warnings (retransmissions, resets, zero windows, out-of-order segments) are the
// point of several stories, so warnings are allowed when tshark files them under "sequence"
// analysis, and the stories without loss or reset must have none at all.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { PcapWriter } from '../../src/link/capture.js';
import { CHAPTERS } from '../../src/cli/tour.js';
import { skipWithoutTshark, tsharkCheck, tsharkFields } from '../util/tshark.js';

const dir = mkdtempSync(join(tmpdir(), 'synack-tour-pcap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Stories with nothing lost, reset or held back: tshark should have nothing to remark. */
const CLEAN = new Set(['handshake', 'four-way-close', 'half-close', 'simultaneous-close', 'mss']);

describe.concurrent('tour pcaps pass tshark', () => {
  beforeEach((ctx) => skipWithoutTshark(ctx));

  for (const ch of CHAPTERS) {
    if (ch.run === undefined) continue;
    const run = ch.run;
    test(ch.id, async () => {
      const main = new PcapWriter();
      const second = new PcapWriter();
      const r = run({ capture: main, contrastCapture: second });
      const files = [{ path: join(dir, `${ch.id}.pcap`), pcap: main, frames: r.scenario.wire.filter((w) => w.from === r.scenario.client.name || w.arrivedAt !== undefined && w.to === r.scenario.client.name).length }];
      if (r.contrast !== undefined) files.push({ path: join(dir, `${ch.id}-2.pcap`), pcap: second, frames: -1 });
      for (const f of files) {
        writeFileSync(f.path, f.pcap.bytes());
        const report = await tsharkCheck(f.path);
        expect(report.packets).toBeGreaterThan(0);
        if (f.frames >= 0) expect(report.packets).toBe(f.frames);
        expect(report.problems, `${f.path}: ${JSON.stringify(report.problems)}`).toEqual([]);
        for (const w of report.warnings) expect(w.group, `${f.path} frame ${w.frame}: ${w.message}`).toBe('sequence');
        if (CLEAN.has(ch.id)) expect(report.warnings, f.path).toEqual([]);
      }
    });
  }

  test('the lost SYN is in the client\'s capture and tshark calls the second one a retransmission', async (ctx) => {
    const ch = CHAPTERS.find((c) => c.id === 'lost-syn');
    if (ch?.run === undefined) return ctx.skip('no lost-syn chapter');
    const pcap = new PcapWriter();
    ch.run({ capture: pcap });
    const path = join(dir, 'lost-syn-fields.pcap');
    writeFileSync(path, pcap.bytes());
    const rows = await tsharkFields(path, ['frame.time_relative', 'tcp.flags.str', 'tcp.analysis.retransmission'], { filter: 'tcp.flags.syn == 1 && tcp.flags.ack == 0' });
    expect(rows).toHaveLength(2);
    expect(Number(rows[1]!['frame.time_relative']) - Number(rows[0]!['frame.time_relative'])).toBeCloseTo(1, 6);
    expect(rows[1]!['tcp.analysis.retransmission']).not.toBe('');
  });
});
