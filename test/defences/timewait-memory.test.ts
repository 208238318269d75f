// What a TIME-WAIT entry costs (Linux: a 168-byte tcp_timewait_sock). Measured with the heap and
// ArrayBuffer figures of process.memoryUsage() around 100,000 records, after full garbage
// collections: the record table (timewait.ts) plus one entry each in a timer wheel, as the
// TcpLayer keeps them; and, end to end, a TcpLayer holding 10,000 connections in TIME-WAIT after
// their TCBs were released.
import { describe, expect, test } from 'vitest';
import v8 from 'node:v8';
import vm from 'node:vm';
import { TimeWaitTable } from '../../src/tcp/timewait.js';
import { TcpLayer } from '../../src/tcp/tcp.js';
import { TimerWheel } from '../../src/time/wheel.js';
import { IpAddr } from '../../src/wire/ip-addr.js';
import type { Seq } from '../../src/tcp/seq.js';
import type { Instant } from '../../src/time/instant.js';
import { Harness } from '../util/tcp-harness.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Bytes in use (JS heap plus ArrayBuffers) after two full collections. */
function used(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

describe('TIME-WAIT memory (Linux inet_timewait_sock: 168 bytes)', () => {
  test('100,000 records with their timer-wheel entries cost at most 200 bytes each', () => {
    const N = 100_000;
    const local = IpAddr.from('10.0.0.1');
    const before = used();
    const table = new TimeWaitTable();
    const wheel = new TimerWheel<number>();
    for (let i = 0; i < N; i++) {
      const remote = IpAddr.v4(0xc6120000 + i);
      const s = table.add({
        id: i, local, localPort: 80, remote, remotePort: 40000 + (i % 20000), hash: TcpLayer.tupleHash(local, 80, remote, 40000 + (i % 20000)),
        sndNxt: (i * 7) as Seq, rcvNxt: (i * 13) as Seq, rcvWnd: 65535, rcvWscale: 7, maxSndWnd: 65535, tsOk: true, tsRecent: i,
        tsRecentAt: (i * 10) as Instant, tsOffset: 12345, deadline: (60e6 + i * 10) as Instant,
      });
      wheel.schedule((60e6 + i * 10) as Instant, s);
    }
    const after = used();
    const perEntry = (after - before) / N;
    console.log(`TIME-WAIT: ${perEntry.toFixed(1)} bytes per entry (${N} records: table ${(table.byteSize / N).toFixed(1)} B/entry in typed arrays, ` +
      `the rest the timer wheel); Linux's tcp_timewait_sock is 168 bytes`);
    expect(table.size).toBe(N);
    // Every record is found again by its 4-tuple.
    for (let i = 0; i < N; i += 997) {
      const remote = IpAddr.v4(0xc6120000 + i);
      const s = table.find(local, 80, remote, 40000 + (i % 20000), TcpLayer.tupleHash(local, 80, remote, 40000 + (i % 20000)));
      expect(table.id(s)).toBe(i);
    }
    expect(perEntry).toBeLessThanOrEqual(200);
    expect(wheel.size).toBe(N);
  });

  test('end to end: a TcpLayer holding 10,000 closed connections in TIME-WAIT keeps a few hundred bytes each, not their TCBs', () => {
    const N = 10_000;
    const h = new Harness({ portRange: { low: 1024, high: 65535 } });
    const before = used();
    for (let i = 0; i < N; i++) {
      const s = h.sockets.socket();
      s.connect(h.ip.pendingDst!, 80);
      h.flush();
      const syn = h.ip.sent.pop()!.seg;
      const u = (n: number) => (syn.seq + n) >>> 0;
      h.peerSends({ flags: 'SYN+ACK', seq: 5000, ack: u(1), srcPort: 80, dstPort: syn.srcPort });
      s.close();
      h.flush();
      h.peerSends({ flags: 'FIN+ACK', seq: 5001, ack: u(2), srcPort: 80, dstPort: syn.srcPort });
      h.ip.sent.length = 0;
    }
    // Timers the connections armed before they closed (the SYN's retransmission, ...) stay in the
    // wheel as stale entries until their instants pass; let them pass (TIME-WAIT lasts 60 s).
    h.advance(5000);
    const after = used();
    const perEntry = (after - before) / N;
    console.log(`TIME-WAIT end to end: ${perEntry.toFixed(1)} bytes per connection left in TIME-WAIT (${N} in one TcpLayer)`);
    expect(h.tcp.timeWaitCount).toBe(N);
    expect([...h.tcp.connections()].length).toBe(0);
    // Beyond the record and its wheel entry: the table's spare capacity (it doubles: 16,384 slots
    // for 10,000 records) and the count of connections on each local port (one Map entry per
    // ephemeral port here). A TCB left behind would cost several kilobytes.
    expect(perEntry).toBeLessThanOrEqual(500);
  });
});
