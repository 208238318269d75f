// Tests for the impairment middleware, in virtual time with fixed seeds: each impairment, its counters and events.
import { describe, expect, test } from 'vitest';
import { impair, type ImpairEvent, type ImpairOptions } from './impair.js';
import { PointToPoint } from './memory.js';
import { Simulation } from '../sim/driver.js';
import { SimRng } from '../sim/rng.js';
import { millis, type Duration, type Instant } from '../time/instant.js';

const t = (n: number): Instant => n as Instant;

/** A frame of `size` bytes whose bytes 14..17 carry `id` (big-endian), the rest zero. */
function frame(id: number, size = 100): Uint8Array {
  const f = new Uint8Array(size);
  new DataView(f.buffer).setUint32(14, id);
  return f;
}
const idOf = (f: Uint8Array): number => new DataView(f.buffer, f.byteOffset, f.byteLength).getUint32(14);

interface Arrival { at: number; id: number; frame: Uint8Array }

/** A link from an impaired `a` to a recording `b`, in a simulation. */
function setup(options: ImpairOptions, seed = 1, linkDelay?: Duration) {
  const link = new PointToPoint(linkDelay === undefined ? {} : { delay: linkDelay });
  const a = impair(link.a, options, new SimRng(seed).fork('impair'));
  const got: Arrival[] = [];
  link.b.onFrame = (f, now) => got.push({ at: now, id: idOf(f), frame: f });
  const sim = new Simulation().add(a, 'impair').add(link, 'link');
  return { link, a, got, sim };
}

/** Sends `n` frames through `a`, one every `gap` microseconds, and runs to completion. */
function sendMany(s: ReturnType<typeof setup>, n: number, gap: number, size = 100): void {
  for (let i = 0; i < n; i++) {
    s.sim.run({ maxTime: t(i * gap) });
    s.a.send(frame(i, size), s.sim.now);
  }
  s.sim.run();
}

const inOrder = (got: Arrival[]): boolean => got.every((g, i) => i === 0 || (got[i - 1] as Arrival).id < g.id);

describe('impair', () => {
  test('with no options it is transparent and synchronous towards the link', () => {
    const s = setup({});
    s.a.send(frame(1), t(0));
    expect(s.a.pollAt()).toBeUndefined();
    expect(s.link.pollAt()).toBe(0);
    s.sim.run();
    expect(s.got.map((g) => [g.at, g.id])).toEqual([[0, 1]]);
    expect(s.a.mtu).toBe(1500);
    expect(s.a.medium).toBe('ethernet');
    // The other direction reaches whoever attached to the impaired port.
    const back: number[] = [];
    s.a.onFrame = (f) => back.push(idOf(f));
    s.link.b.send(frame(2), s.sim.now);
    s.sim.run();
    expect(back).toEqual([2]);
  });

  test('a fixed delay adds exactly to the link delay', () => {
    const s = setup({ delay: millis(20) }, 1, millis(10));
    s.a.send(frame(1), t(1_000));
    s.sim.run();
    expect(s.got.map((g) => g.at)).toEqual([31_000]);
  });

  test('1 Mbit/s serialises a 1250-byte frame in exactly 10 ms and queues the next behind it', () => {
    const s = setup({ bandwidth: 1_000_000 });
    s.a.send(frame(1, 1250), t(0));
    s.a.send(frame(2, 1250), t(0));
    s.sim.run({ maxTime: t(15_000) });
    s.a.send(frame(3, 1250), t(15_000)); // the link is busy until 20 ms
    s.sim.run({ maxTime: t(100_000) });
    s.a.send(frame(4, 1250), t(100_000)); // idle link: starts at once
    s.sim.run();
    expect(s.got.map((g) => [g.at, g.id])).toEqual([[10_000, 1], [20_000, 2], [30_000, 3], [110_000, 4]]);
  });

  test('serialisation at a rate that does not divide evenly stays exact over many frames', () => {
    const s = setup({ bandwidth: 3_000_000, overhead: 24 }); // 1000 + 24 bytes at 3 Mbit/s = 2730.67 us
    for (let i = 0; i < 300; i++) s.a.send(frame(i, 1000), t(0));
    s.sim.run();
    const last = s.got[299]?.at ?? 0;
    expect(last).toBe(Math.ceil((300 * 1024 * 8) / 3)); // no drift from per-frame rounding
    expect(s.got.every((g, i) => i === 0 || g.at > (s.got[i - 1] as Arrival).at)).toBe(true);
  });

  test('a frame-limited queue tail-drops and counts', () => {
    const events: ImpairEvent[] = [];
    const s = setup({ bandwidth: 1_000_000, queueFrames: 2, onEvent: (e) => events.push(e) });
    for (let i = 0; i < 5; i++) s.a.send(frame(i, 1250), t(0));
    s.sim.run({ maxTime: t(10_000) }); // frame 0 done: room for one more
    s.a.send(frame(5, 1250), t(10_000));
    s.a.send(frame(6, 1250), t(10_000));
    s.sim.run();
    expect(s.got.map((g) => g.id)).toEqual([0, 1, 5]);
    expect(s.a.stats.dropped.queue).toBe(4);
    expect(events.filter((e) => e.kind === 'drop' && e.reason === 'queue').length).toBe(4);
  });

  test('a byte-limited queue tail-drops and counts', () => {
    const s = setup({ bandwidth: 1_000_000, queueBytes: 3000 });
    for (let i = 0; i < 4; i++) s.a.send(frame(i, 1250), t(0)); // 1250, 2500 fit; 3750 does not
    s.a.send(frame(9, 400), t(0)); // 2900 fits
    s.sim.run();
    expect(s.got.map((g) => g.id)).toEqual([0, 1, 9]);
    expect(s.a.stats.dropped.queue).toBe(2);
  });

  test('loss 0.5 over 10k frames loses about half (fixed seed)', () => {
    const s = setup({ loss: 0.5 }, 7);
    for (let i = 0; i < 10_000; i++) s.a.send(frame(i), t(0));
    s.sim.run();
    expect(s.got.length).toBeGreaterThan(4_700);
    expect(s.got.length).toBeLessThan(5_300);
    expect(s.a.stats.dropped.loss + s.got.length).toBe(10_000);
    expect(s.a.stats.offered).toBe(10_000);
    expect(s.a.stats.delivered).toBe(s.got.length);
    expect(inOrder(s.got)).toBe(true);
  });

  test('the same seed gives an identical delivery log; another seed does not', () => {
    const all: ImpairOptions = {
      delay: millis(5), jitter: millis(2), bandwidth: 10_000_000, queueFrames: 20, loss: 0.05,
      burst: { toBad: 0.01, toGood: 0.3 }, duplicate: 0.05, reorder: 0.05, corrupt: 0.05,
    };
    const log = (seed: number): string => {
      const s = setup(all, seed);
      sendMany(s, 2000, 300, 600);
      return JSON.stringify(s.got.map((g) => [g.at, g.id, Array.from(g.frame.subarray(0, 40))])) + JSON.stringify(s.a.stats);
    };
    expect(log(11)).toBe(log(11));
    expect(log(11)).not.toBe(log(12));
  });

  test('Gilbert-Elliott loss comes in bursts, independent loss does not', () => {
    const runs = (options: ImpairOptions): { rate: number; meanRun: number } => {
      const s = setup(options, 3);
      for (let i = 0; i < 20_000; i++) s.a.send(frame(i), t(0));
      s.sim.run();
      const delivered = new Set(s.got.map((g) => g.id));
      let lost = 0;
      let bursts = 0;
      for (let i = 0; i < 20_000; i++) {
        if (delivered.has(i)) continue;
        lost++;
        if (i === 0 || delivered.has(i - 1)) bursts++;
      }
      return { rate: lost / 20_000, meanRun: lost / bursts };
    };
    // Stationary loss toBad / (toBad + toGood) = 0.2; mean burst length 1 / toGood = 5.
    const ge = runs({ burst: { toBad: 0.05, toGood: 0.2 } });
    const iid = runs({ loss: 0.2 });
    expect(ge.rate).toBeGreaterThan(0.15);
    expect(ge.rate).toBeLessThan(0.25);
    expect(ge.meanRun).toBeGreaterThan(4);
    expect(ge.meanRun).toBeLessThan(6);
    expect(iid.meanRun).toBeLessThan(1.5); // 1 / (1 - 0.2) = 1.25
  });

  test('lossGood and lossBad apply in each state', () => {
    const s = setup({ burst: { toBad: 0, toGood: 1, lossGood: 0.1, lossBad: 1 } }, 5); // never leaves good
    for (let i = 0; i < 10_000; i++) s.a.send(frame(i), t(0));
    s.sim.run();
    expect(s.a.stats.dropped.burst).toBeGreaterThan(800);
    expect(s.a.stats.dropped.burst).toBeLessThan(1_200);
  });

  test('jitter varies the delay within its bounds and never reorders', () => {
    for (const jitterDistribution of ['uniform', 'normal'] as const) {
      const s = setup({ delay: millis(10), jitter: millis(3), jitterDistribution }, 9);
      sendMany(s, 1000, 1_000);
      const delays = s.got.map((g) => g.at - g.id * 1_000);
      expect(inOrder(s.got)).toBe(true);
      expect(new Set(delays).size).toBeGreaterThan(50);
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(jitterDistribution === 'uniform' ? 7_000 : 0);
      if (jitterDistribution === 'uniform') expect(Math.max(...delays)).toBeLessThanOrEqual(13_000 + 3_000); // clamp may add the previous frame's lateness
      expect(s.got.every((g, i) => i === 0 || g.at >= (s.got[i - 1] as Arrival).at)).toBe(true);
    }
  });

  test('reordering holds frames back so later ones overtake them', () => {
    const s = setup({ delay: millis(10), reorder: 0.1 }, 4);
    sendMany(s, 1000, 1_000);
    expect(s.got.length).toBe(1000);
    expect(inOrder(s.got)).toBe(false);
    let overtaken = 0;
    for (let i = 1; i < s.got.length; i++) if ((s.got[i] as Arrival).id < (s.got[i - 1] as Arrival).id) overtaken++;
    expect(overtaken).toBeGreaterThan(50);
    expect(s.a.stats.reordered).toBeGreaterThan(70);
    expect(s.a.stats.reordered).toBeLessThan(130);
    const late = s.got.filter((g) => g.at - g.id * 1_000 === 20_000).length; // delay + reorderDelay (default = delay)
    expect(late).toBe(s.a.stats.reordered);
  });

  test('duplication delivers distinct copies', () => {
    const events: ImpairEvent[] = [];
    const s = setup({ duplicate: 0.2, onEvent: (e) => events.push(e) }, 2);
    for (let i = 0; i < 5_000; i++) s.a.send(frame(i), t(0));
    s.sim.run();
    const dups = s.a.stats.duplicated;
    expect(dups).toBeGreaterThan(900);
    expect(dups).toBeLessThan(1_100);
    expect(s.got.length).toBe(5_000 + dups);
    expect(s.a.stats.delivered).toBe(5_000 + dups);
    expect(events.filter((e) => e.kind === 'dup').length).toBe(dups);
    let pairs = 0;
    let distinct = 0;
    for (let i = 1; i < s.got.length; i++) {
      const [first, second] = [s.got[i - 1] as Arrival, s.got[i] as Arrival];
      if (first.id !== second.id) continue;
      pairs++;
      if (first.frame !== second.frame && first.frame.every((b, k) => b === second.frame[k])) distinct++;
    }
    expect(pairs).toBe(dups);
    expect(distinct).toBe(dups);
  });

  test('corruption flips exactly one bit', () => {
    const events: ImpairEvent[] = [];
    const s = setup({ corrupt: 1, onEvent: (e) => events.push(e) }, 8);
    for (let i = 0; i < 200; i++) s.a.send(frame(0, 64), t(0)); // all-zero frames apart from the id (0)
    s.sim.run();
    expect(s.a.stats.corrupted).toBe(200);
    const positions = new Set<number>();
    for (const g of s.got) {
      let bits = 0;
      g.frame.forEach((b, i) => {
        if (b !== 0) positions.add(i);
        for (let x = b; x !== 0; x &= x - 1) bits++;
      });
      expect(bits).toBe(1);
    }
    expect(positions.size).toBeGreaterThan(30); // random bytes, not always the same one
    expect(events.every((e) => e.kind === 'corrupt' && /^byte \d+ bit [0-7]$/.test(e.reason))).toBe(true);
  });

  test('the MTU impairment drops larger frames and counts them, without changing the advertised MTU', () => {
    const s = setup({ mtu: 1400 });
    s.a.send(frame(1, 1414), t(0));
    s.a.send(frame(2, 1415), t(0));
    s.sim.run();
    expect(s.got.map((g) => g.id)).toEqual([1]);
    expect(s.a.stats.dropped.mtu).toBe(1);
    expect(s.a.mtu).toBe(1500);
  });

  test('a filter drops chosen frames before any random impairment', () => {
    const seen: number[] = [];
    const s = setup({ loss: 0.5, filter: (f) => { seen.push(idOf(f)); return idOf(f) === 3 ? 'drop' : 'pass'; } }, 1);
    for (let i = 0; i < 100; i++) s.a.send(frame(i), t(0));
    s.sim.run();
    expect(seen.length).toBe(100); // the filter sees every frame, even ones random loss would take
    expect(s.a.stats.dropped.filter).toBe(1);
    expect(s.got.some((g) => g.id === 3)).toBe(false);
  });

  test('events report drops with their reason, time and direction', () => {
    const events: ImpairEvent[] = [];
    const s = setup({ filter: (f) => (idOf(f) === 1 ? 'drop' : 'pass'), onEvent: (e) => events.push(e) });
    s.a.send(frame(1), t(42));
    expect(events).toEqual([{ kind: 'drop', reason: 'filter', frame: expect.any(Uint8Array), at: 42, direction: 'egress' }]);
  });

  test('ingress and both-way impairment', () => {
    const link = new PointToPoint();
    const a = impair(link.a, { direction: 'ingress', delay: millis(7) }, new SimRng(1));
    const sim = new Simulation().add(a).add(link);
    const atA: number[] = [];
    const atB: number[] = [];
    a.onFrame = (_, now) => atA.push(now);
    link.b.onFrame = (_, now) => atB.push(now);
    a.send(frame(1), t(0)); // egress untouched
    link.b.send(frame(2), t(0)); // ingress delayed
    sim.run();
    expect(atB).toEqual([0]);
    expect(atA).toEqual([7_000]);

    const link2 = new PointToPoint();
    const both = impair(link2.a, { direction: 'both', delay: millis(1) }, new SimRng(1));
    const sim2 = new Simulation().add(both).add(link2);
    const log: string[] = [];
    both.onFrame = (_, now) => log.push(`a@${now}`);
    link2.b.onFrame = (_, now) => log.push(`b@${now}`);
    both.send(frame(1), t(0));
    link2.b.send(frame(2), t(0));
    sim2.run();
    expect(log.sort()).toEqual(['a@1000', 'b@1000']);
    expect(both.stats.offered).toBe(2);
  });

  test('frames arriving for nobody are counted as unattached', () => {
    const link = new PointToPoint();
    const a = impair(link.a, { direction: 'ingress', delay: millis(1) }, new SimRng(1));
    const sim = new Simulation().add(a).add(link);
    link.b.send(frame(1), t(0));
    sim.run();
    expect(a.stats.dropped.unattached).toBe(1);
  });

  test('impairers compose: one wrapped around another', () => {
    const link = new PointToPoint();
    const inner = impair(link.a, { delay: millis(3) }, new SimRng(1));
    const outer = impair(inner, { bandwidth: 8_000_000 }, new SimRng(2)); // 1000 bytes: 1 ms
    const sim = new Simulation().add(outer).add(inner).add(link);
    const got: number[] = [];
    link.b.onFrame = (_, now) => got.push(now);
    outer.send(frame(1, 1000), t(0));
    sim.run();
    expect(got).toEqual([4_000]);
  });

  test('rejects bad options with a message naming the value', () => {
    const link = new PointToPoint();
    const r = new SimRng(1);
    expect(() => impair(link.a, { loss: 1.5 }, r)).toThrow(/loss.*1\.5/);
    expect(() => impair(link.a, { delay: -5 as Duration }, r)).toThrow(/delay.*-5/);
    expect(() => impair(link.a, { bandwidth: 0 }, r)).toThrow(/bandwidth.*0/);
    expect(() => impair(link.a, { queueFrames: 10 }, r)).toThrow(/need bandwidth/);
    expect(() => impair(link.a, { burst: { toBad: 2, toGood: 0.1 } }, r)).toThrow(/burst\.toBad/);
    expect(() => impair(link.a, { mtu: 1.5 }, r)).toThrow(/mtu/);
  });
});
