// What a TIME-WAIT entry costs (Linux: a 168-byte tcp_timewait_sock). Measured with the heap and
// ArrayBuffer figures of process.memoryUsage() around 100,000 records, after full garbage
// collections: the record table (timewait.ts), which keeps its records' expiry order itself (the
// stack's timer wheel holds one entry for the whole table); and, end to end, a TcpLayer holding
// 10,000 connections in TIME-WAIT after their TCBs were released.
import { describe, expect, test } from 'vitest';
import v8 from 'node:v8';
import vm from 'node:vm';
import { TimeWaitTable } from '../../src/tcp/timewait.js';
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
  test('100,000 IPv4 records, expiry order included, cost at most 125 bytes each, and give their memory back once expired', () => {
    const N = 100_000;
    const local = IpAddr.from('10.0.0.1');
    const before = used();
    const table = new TimeWaitTable();
    for (let i = 0; i < N; i++) {
      const remote = IpAddr.v4(0xc6120000 + i);
      table.add({
        id: i, local, localPort: 80, remote, remotePort: 40000 + (i % 20000),
        sndNxt: (i * 7) as Seq, rcvNxt: (i * 13) as Seq, rcvWnd: 65535, rcvWscale: 7, maxSndWnd: 65535, tsOk: true, tsRecent: i,
        tsRecentAt: (i * 10) as Instant, tsOffset: 12345, deadline: (60e6 + i * 10) as Instant,
      });
    }
    const after = used();
    const perEntry = (after - before) / N;
    console.log(`TIME-WAIT: ${perEntry.toFixed(1)} bytes per entry (${N} records: table ${(table.byteSize / N).toFixed(1)} B/entry in typed arrays, ` +
      `expiry queue included); Linux's tcp_timewait_sock is 168 bytes`);
    expect(table.size).toBe(N);
    // Every record is found again by its 4-tuple.
    for (let i = 0; i < N; i += 997) {
      const remote = IpAddr.v4(0xc6120000 + i);
      const s = table.find(local, 80, remote, 40000 + (i % 20000));
      expect(table.id(s)).toBe(i);
      expect(table.local(s).equals(local) && table.remote(s).equals(remote)).toBe(true);
    }
    expect(perEntry).toBeLessThanOrEqual(125); // 77 bytes a slot and 4 in the queue, at 70% of the capacity grown to
    expect(table.nextDeadline()).toBe(60e6);
    let expired = 0;
    table.expire((60e6 + N * 10) as Instant, (s) => {
      expect(table.deadline(s)).toBe(60e6 + expired * 10); // in deadline order
      table.remove(s);
      expired++;
    });
    expect(expired).toBe(N);
    expect(table.size).toBe(0);
    expect(table.nextDeadline()).toBeUndefined();
    expect(table.byteSize).toBeLessThan(10_000); // shrunk back to its minimum
    expect(used() - before).toBeLessThan((after - before) / 20); // what is left is noise, not the table
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
    // Beyond the record: the table's spare capacity (it grows by half) and the count of
    // connections on each local port (one Map entry per ephemeral port here). A TCB left behind
    // would cost several kilobytes.
    expect(perEntry).toBeLessThanOrEqual(500);
  });
});
