// The SYN flood (RFC 4987): real Stacks on a switch, an attacker sending spoofed SYNs from many
// addresses that never answer (and swallowing the SYN-ACKs as their gateway), and legitimate
// clients connecting during the flood. Without SYN cookies the SYN queue stays full and the
// clients time out; with them at least 99% connect and the listener's state stays bounded.
import { describe, expect, test } from 'vitest';
import { synFlood } from '../../src/sim/scenarios/defences.js';

describe('SYN flood (RFC 4987 §2, §3.6; Linux tcp_syncookies)', () => {
  test('tcp_syncookies 0, 1 and 2 under 200 spoofed SYN/s for 20 s with 100 legitimate clients', () => {
    const r = synFlood({ rate: 200, floodSeconds: 20, clients: 100, backlog: 128 });
    console.log(r.lines.join('\n'));
    const [off, full, always] = r.runs;
    // Cookies off: the SYN queue is held by spoofed half-open connections for 63 s each
    // (tcp_synack_retries 5); every legitimate SYN and its retries are dropped.
    expect(off!.connected).toBe(0);
    expect(off!.failures).toEqual({ ETIMEDOUT: 100 });
    expect(off!.synQueueMax).toBe(128);
    expect(off!.counters['TcpExtTCPReqQFullDrop']).toBeGreaterThan(3800);
    // Cookies when the queue is full (Linux's default): everyone connects; the state is the backlog.
    expect(full!.connected).toBeGreaterThanOrEqual(99);
    expect(full!.served).toBeGreaterThanOrEqual(99);
    expect(full!.synQueueMax).toBe(128);
    expect(full!.tcbMax).toBeLessThanOrEqual(128 + 5);
    expect(full!.counters['TcpExtSyncookiesRecv']).toBeGreaterThanOrEqual(99);
    expect(full!.counters['TcpExtSyncookiesSent']).toBeGreaterThan(3800);
    // Cookies for every SYN: nothing is kept for a SYN at all.
    expect(always!.connected).toBeGreaterThanOrEqual(99);
    expect(always!.synQueueMax).toBe(0);
    expect(always!.tcbMax).toBeLessThanOrEqual(5);
    expect(always!.counters['TcpExtSyncookiesFailed']).toBe(0);
  });
});
