// The spoofed-RST attack with and without RFC 5961 (issue 3, "Done when"): an off-path attacker
// that knows the 4-tuple but not the sequence numbers sprays forged RSTs across the sequence
// space; without RFC 5961 the one in-window guess kills the connection, with it the guess only
// draws a challenge ACK (RFC 5961 §3.2).
import { describe, expect, test } from 'vitest';
import { GUESSES, GUESS_STEP, spoofedRst } from '../../src/sim/scenarios/attack.js';
import { framesWhere } from '../../src/sim/scenarios/common.js';

describe('blind RST attack (RFC 5961 §2, §3.2)', () => {
  const r = spoofedRst();

  test('the attacker sends 2^32 / 4 MiB = 1024 guesses and exactly one lands in the 4 MiB window', () => {
    expect(GUESSES * GUESS_STEP).toBe(2 ** 32);
    for (const run of [r, r.contrast!]) {
      expect(run.facts.guesses).toBe(1024);
      expect(run.facts.victimWindow).toBe(GUESS_STEP);
      expect(run.facts.guessesInWindow).toBe(1);
      expect(run.scenario.wire.filter((w) => w.from === 'attacker')).toHaveLength(1024);
    }
  });

  test('without RFC 5961 the in-window guess resets the connection; the client\'s next request meets a RST and ECONNRESET', () => {
    expect(r.caption).toContain('without');
    expect(r.facts.outcome).toBe(`reset by guess ${r.facts.inWindowGuessNumber}`);
    expect(r.facts).toMatchObject({ challengeAcks: 0, secondRequestDelivered: false, clientError: 'ECONNRESET', serverResetsClient: 1 });
  });

  test('with RFC 5961 the same guess draws one challenge ACK to the real client and the connection survives', () => {
    const c = r.contrast!;
    expect(c.facts).toMatchObject({ outcome: 'connection survived', challengeAcks: 1, secondRequestDelivered: true, clientError: 'none', serverResetsClient: 0 });
    expect(c.facts.inWindowGuessNumber).toBe(r.facts.inWindowGuessNumber);
    // The challenge ACK goes to the client, <SEQ=SND.NXT><ACK=RCV.NXT>, at the in-window guess.
    const attack = c.scenario.wire.filter((w) => w.from === 'attacker');
    const hit = attack[Number(c.facts.inWindowGuessNumber) - 1]!;
    const challenge = framesWhere(c.scenario, 'server', (seg) => seg.payload.length === 0).filter((f) => f.sentAt === hit.sentAt);
    expect(challenge).toHaveLength(1);
    expect(c.scenario.server.stack.tcp.counters.EstabResets).toBe(0);
  });
});
