// Regression test for a bug the Linux interop suite found (test/interop): with a window scale,
// re-offering the same right edge must not move it past the receive buffer's free space. The
// old code rounded the scaled window up on every ACK, so while the application did not read,
// the edge crept right by up to 2^shift - 1 bytes per ACK until in-window data no longer fit the
// buffer and was dropped. RFC 7323 §2.4 (window retraction under scaling); src/tcp/output.ts selectWindow.
import { describe, expect, test } from 'vitest';
import { Scenario } from '../../src/sim/scenario.js';
import { connectPair } from '../../src/sim/scenarios/common.js';
import { seqDiff } from '../../src/tcp/seq.js';
import { millis } from '../../src/time/instant.js';

describe('receive window edge under window scaling (RFC 7323 §2.4)', () => {
  test('while the application does not read, the advertised edge never passes the free buffer space, and nothing in the window is dropped', () => {
    const s = new Scenario({ seed: 7, delay: millis(1), tcp: { sndBuf: 1 << 20, rcvBuf: 64 * 1024 } });
    const { client, server } = connectPair(s);
    const tcb = server.connection!;
    expect(tcb.rcvWscale).toBe(7);
    const chunk = new Uint8Array(1 << 20).fill(0x5a);
    expect(client.send(chunk)).toBeGreaterThan(0);
    let worst = -Infinity;
    s.runUntil(() => {
      // Bytes the peer may still send (up to the edge we offered) minus the room left for them.
      worst = Math.max(worst, seqDiff(tcb.rcvAdv, tcb.rcvNxt) - tcb.rcvBuf.free);
      return false;
    }, 3_000);
    expect(worst).toBeLessThanOrEqual(0);
    // The buffer filled (up to less than a segment: sender-side SWS avoidance holds a runt),
    // and everything the sender sent was acknowledged: nothing was accepted by the window and
    // then dropped for lack of room.
    expect(tcb.rcvBuf.free).toBeLessThan(tcb.advMss);
    expect(seqDiff(tcb.rcvNxt, tcb.irs) - 1).toBe(tcb.rcvBuf.length);
    const c = client.connection!;
    expect(seqDiff(c.sndNxt, c.sndUna)).toBe(0);
    expect(s.client.stack.tcp.counters.RetransSegs).toBe(0);
  });
});
