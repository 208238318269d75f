// The simulated side of the differential harness: a case runs against createNet over two stacks
// (client 10.0.0.1 / fd00::1, server 10.0.0.2 / fd00::2) on a simulated link, driven in virtual
// time by runSimulation, which lets Node's nextTick and microtask queues settle between steps.
import { Scenario } from '../../src/sim/scenario.js';
import { createNet } from '../../src/api/net.js';
import { runSimulation } from '../../src/api/host.js';
import { millis, type Duration } from '../../src/time/instant.js';
import { type NetCase, type NetLike, type Recording, Recorder, makeContext, normalise } from './harness.js';

/** Options for the simulated run. */
export interface SimRunOptions {
  seed?: number;
  /** One-way link delay (default 1 ms). */
  delay?: Duration;
  /** Receives the scenario, e.g. to print a diagram on failure. */
  onScenario?: (s: Scenario) => void;
}

/** Runs a case against createNet over two simulated stacks (client 10.0.0.1, server 10.0.0.2). */
export async function runOnSynack(c: NetCase, o: SimRunOptions = {}): Promise<Recording> {
  const rec = new Recorder();
  const sc = new Scenario({ seed: o.seed ?? 7, delay: o.delay ?? millis(1) });
  o.onScenario?.(sc);
  const serverNet = createNet(sc.server.stack);
  const clientNet = createNet(sc.client.stack);
  let finished = false;
  const ctx = makeContext(rec, 'synack', serverNet as unknown as NetLike, clientNet as unknown as NetLike, '10.0.0.2', 'fd00::2', () => {
    finished = true;
  });
  c.run(ctx);
  const r = await runSimulation(sc.sim, { until: () => finished, maxDuration: millis(30 * 60_000) });
  if (!finished) {
    throw new Error(`${c.name}: simulated run stopped (${r.reason} at ${r.now} µs) before the case finished; so far: ${JSON.stringify(Object.fromEntries(rec.channels))}`);
  }
  return normalise(Object.fromEntries(rec.channels), ['10.0.0.1', '10.0.0.2', 'fd00::1', 'fd00::2']);
}
