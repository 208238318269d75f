// The differential suite: every case in cases.ts runs against node:net over 127.0.0.1 (the real
// kernel) and against createNet over two simulated stacks; the normalised recordings must be
// identical. The simulated side runs twice, on a 1 ms link and on a 10 ms link with another seed:
// the order of events must not depend on either. Finally, a simulated run is reproducible frame
// for frame.
import { describe, expect, test } from 'vitest';
import { millis } from '../../src/time/instant.js';
import type { Scenario } from '../../src/sim/scenario.js';
import { cases } from './cases.js';
import { type NetCase, type Recording, runOnNode } from './harness.js';
import { runOnSynack } from './sim.js';

const fromNode = new Map<NetCase, Promise<Recording>>();
/** Node's recording of a case, taken once and shared by both simulated runs. */
function expected(c: NetCase): Promise<Recording> {
  let p = fromNode.get(c);
  if (p === undefined) fromNode.set(c, (p = runOnNode(c)));
  return p;
}

describe('net differential: node:net over 127.0.0.1 vs createNet over a 1 ms link', () => {
  test('there are at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });
  for (const c of cases) {
    test(c.name, async () => {
      const want = await expected(c);
      expect(await runOnSynack(c)).toEqual(want);
    });
  }
});

describe('net differential: the same cases over a 10 ms link with another seed', () => {
  for (const c of cases) {
    test(c.name, async () => {
      const want = await expected(c);
      expect(await runOnSynack(c, { seed: 99, delay: millis(10) })).toEqual(want);
    });
  }
});

test('a simulated run is reproducible: the same seed gives the same frames at the same instants', async () => {
  const wire = async (c: NetCase): Promise<string[]> => {
    let sc: Scenario | undefined;
    await runOnSynack(c, { seed: 5, onScenario: (s) => (sc = s) });
    return sc!.wire.map((w) => `${w.sentAt} ${w.from} ${Buffer.from(w.frame).toString('hex')}`);
  };
  for (const c of cases.slice(0, 8)) {
    const a = await wire(c);
    expect(a.length).toBeGreaterThan(0);
    expect(await wire(c)).toEqual(a);
  }
});
