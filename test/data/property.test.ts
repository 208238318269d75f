// The data-transfer property (issue 4): for random seeds of the simulated link's impairments
// (loss up to 20%, Gilbert-Elliott burst loss, duplication, reordering, corruption, bandwidth and
// queue limits, MTU 576..9000) and random write sizes and read pacing on both sides, both
// directions deliver exactly the bytes written (SHA-256), both sides reach CLOSED through a
// normal close (one through TIME-WAIT), nothing stalls, the transfer ends within a bound computed
// from the case, and corrupted frames are dropped and counted. See transfer.ts for the engine.
//
//   npx vitest run test/data/property.test.ts                       200 seeds (npm test)
//   SYNACK_SEEDS=5000 npx vitest run test/data/property.test.ts     a soak
//   SYNACK_SEED=1234 npx vitest run test/data/property.test.ts      replay one seed (writes a pcap)
//   SYNACK_SEED_START=10000 SYNACK_SEEDS=1000 ...                   another range
//   SYNACK_SCALE=1 ...                                              smaller streams (faster soaks)
import { writeFileSync } from 'node:fs';
import { describe as group, expect, test } from 'vitest';
import { PcapWriter } from '../../src/link/capture.js';
import { describe, makeCase, runCase } from './transfer.js';

const one = process.env['SYNACK_SEED'];
const count = Number(process.env['SYNACK_SEEDS'] ?? 200);
const start = Number(process.env['SYNACK_SEED_START'] ?? 1);
// Stream sizes are drawn from 1 B to 1.2 MB at the default scale of 8; a soak may use a smaller one.
const scale = Number(process.env['SYNACK_SCALE'] ?? 8);
const seeds = one !== undefined ? [Number(one)] : Array.from({ length: count }, (_, i) => start + i);

group('every byte arrives exactly once, in order, under any network (RFC 9293 §3.4, §3.8, §3.10.7.4)', () => {
  for (const seed of seeds) {
    test(`seed ${seed}`, () => {
      const c = makeCase(seed, scale);
      const o = runCase(c);
      if (o.problems.length > 0 || one !== undefined) {
        const pcap = new PcapWriter();
        runCase(c, { capture: pcap });
        const path = `/tmp/synack-property-${seed}.pcap`;
        writeFileSync(path, pcap.bytes());
        const report = `${describe(o)}\npcap (client end of the wire): ${path}\nreplay: SYNACK_SEED=${seed}${scale !== 8 ? ` SYNACK_SCALE=${scale}` : ''} npx vitest run test/data/property.test.ts`;
        if (o.problems.length > 0) throw new Error(`seed ${seed} failed:\n${report}`);
        console.log(report);
      }
      expect(o.problems).toEqual([]);
      expect(o.client.received).toBe(c.server.bytes);
      expect(o.server.received).toBe(c.client.bytes);
    });
  }
});

group('corrupted frames are dropped and counted, never delivered as data (RFC 9293 §3.1 checksum; RFC 791 §3.1 header checksum)', () => {
  for (const family of [4, 6] as const) {
    for (const medium of ['ethernet', 'ip'] as const) {
      test(`IPv${family} over ${medium}: a fifth of all frames have a bit flipped, anywhere in the frame`, () => {
        const c = makeCase(7, 1);
        const heavy = { loss: 0, burst: undefined, duplicate: 0, reorder: 0, corrupt: 0.2, bandwidth: 0, queueFrames: 0, jitterMs: 0 };
        c.family = family;
        c.medium = medium;
        c.mtu = 1500;
        c.c2s = { ...heavy };
        c.s2c = { ...heavy };
        c.client = { ...c.client, bytes: 200_000, readEveryMs: 0 };
        c.server = { ...c.server, bytes: 100_000, readEveryMs: 0 };
        const o = runCase(c);
        expect(o.problems).toEqual([]);
        expect(o.corruptDelivered).toBeGreaterThan(50);
        expect(o.corruptAccepted).toEqual([]);
      });
    }
  }
});
