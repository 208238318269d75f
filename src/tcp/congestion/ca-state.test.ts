import { describe, expect, test } from 'vitest';
import { CA_STATES, caStateOf, inCwndReduction } from './ca-state.js';

const none = { rtoRecovery: false, fastRecovery: false, cwrReduction: false, outOfOrder: 0, retransOut: 0 };

describe('congestion state (Linux tcp_ca_state)', () => {
  test('open with nothing unusual; disorder with SACKs, duplicate ACKs or outstanding retransmissions', () => {
    expect(caStateOf(none)).toBe('open');
    expect(caStateOf({ ...none, outOfOrder: 1 })).toBe('disorder');
    expect(caStateOf({ ...none, retransOut: 1 })).toBe('disorder');
  });

  test('precedence: loss over recovery over cwr over disorder', () => {
    expect(caStateOf({ ...none, cwrReduction: true, outOfOrder: 3 })).toBe('cwr');
    expect(caStateOf({ ...none, fastRecovery: true, cwrReduction: true })).toBe('recovery');
    expect(caStateOf({ ...none, rtoRecovery: true, fastRecovery: true })).toBe('loss');
  });

  test('cwnd is being reduced (growth paused) in cwr and recovery only', () => {
    expect(CA_STATES.filter(inCwndReduction)).toEqual(['cwr', 'recovery']);
  });
});
