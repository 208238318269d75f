// The defence stories the tour draws (src/sim/scenarios/defences.ts), checked on their facts:
// a handshake answered with a SYN cookie, and TCP_DEFER_ACCEPT with a client that speaks and
// one that does not.
import { describe, expect, test } from 'vitest';
import { deferAccept, synCookieHandshake } from '../../src/sim/scenarios/defences.js';

describe('defence stories between two stacks', () => {
  test('a SYN cookie handshake: nothing is kept for the SYN, and the options come back through the timestamp (RFC 4987 §3.6; Linux cookie_init_timestamp)', () => {
    const r = synCookieHandshake();
    console.log(r.scenario.diagram());
    expect(r.facts.halfOpenHeld).toBe(0);
    expect([r.facts.sndWscale, r.facts.sackOk, r.facts.peerMss]).toEqual([7, true, 1460]);
    expect(r.facts.tsvalLowBits).toBe('0b010111'); // SACK (bit 4) and window scale 7
    expect([r.facts.syncookiesSent, r.facts.syncookiesRecv]).toEqual([1, 1]);
  });

  test('TCP_DEFER_ACCEPT 3 s: the speaking client is accepted when its request arrives, the silent one after the deferral without data (Linux tcp_check_req, syn_ack_recalc)', () => {
    const r = deferAccept();
    console.log(r.scenario.diagram());
    console.log(r.contrast!.scenario.diagram());
    expect(r.facts).toEqual({ clientEstablishedMs: 20, acceptedMs: 510, readableAtAccept: 18, TCPDeferAcceptDrop: 1 });
    expect(r.contrast!.facts).toEqual({ clientEstablishedMs: 20, acceptedMs: 3030, readableAtAccept: 0, TCPDeferAcceptDrop: 1 });
  });
});
