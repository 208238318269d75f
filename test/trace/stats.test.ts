// tcp_info-like statistics and the `ss -tan`-like socket table (src/trace/stats.ts) over real
// runs: the counters the TCP layer keeps per connection, and every socket of a stack.
import { describe, expect, test } from 'vitest';
import { handshake } from '../../src/sim/scenarios/basic.js';
import { fourWayClose } from '../../src/sim/scenarios/close.js';
import { acceptQueueOverflow } from '../../src/sim/scenarios/open.js';
import { fastRetransmit } from '../../src/sim/scenarios/loss.js';
import { Reader, connectPair, filler, newScenario, transfer } from '../../src/sim/scenarios/common.js';
import type { Tcb } from '../../src/tcp/tcb.js';
import { formatRate, formatSocketTable, formatTcpInfo, socketTable, ssState, tcpInfo } from '../../src/trace/stats.js';

/** The client's connection of a run. */
function client(r: ReturnType<typeof handshake>): Tcb {
  return [...r.scenario.client.stack.tcp.connections()][0]!;
}

describe('tcp_info', () => {
  test('after a handshake and one exchange: options, RTT, MSS, bytes and segments', () => {
    const r = handshake();
    const i = r.info!;
    expect(i).toMatchObject({
      state: 'ESTABLISHED', timestamps: true, sack: true, sndWscale: 7, rcvWscale: 7,
      mss: 1448, advmss: 1460, cwnd: 10, ssthresh: undefined,
      bytesAcked: 19, bytesReceived: 24, totalRetrans: 0, retransmits: 0, lost: 0, sacked: 0, unacked: 0, recvQ: 0, sendQ: 0,
    });
    expect(i.local).toMatch(/^10\.0\.0\.1:\d+$/);
    expect(i.remote).toBe('10.0.0.2:80');
    expect(i.rtt).toBe(20); // the link's 2 x 10 ms
    expect(i.rto).toBe(client(r).rtt.rto / 1000);
    expect(i.rto).toBeGreaterThanOrEqual(200); // TCP_RTO_MIN
    // SYN, ACK, request, ACK of the response out; SYN-ACK, ACK of the request, response in.
    expect(i.segsOut).toBe(4);
    expect(i.segsIn).toBe(3);
    expect(i.deliveryRate).toBeGreaterThan(0);
  });

  test('a bulk upload: bytes acked, delivery rate within the link\'s reach, nothing outstanding at the end', () => {
    const s = newScenario({ seed: 61 }, {}, { clientImpair: { bandwidth: 10e6 } });
    const { client, server } = connectPair(s);
    transfer(s, client, new Reader(server), filler(200_000));
    s.advance(200);
    const i = tcpInfo(client.connection!, s.now);
    expect(i.bytesAcked).toBe(200_001);
    expect(i.segsOut).toBeGreaterThan(200_000 / 1448);
    expect(i.deliveryRate).toBeGreaterThan(0.3e6); // bytes/s, under a 10 Mbit/s (1.25 MB/s) bottleneck
    expect(i.deliveryRate).toBeLessThanOrEqual(1.25e6 * 1.05);
    expect(tcpInfo(server.connection!, s.now).bytesReceived).toBe(200_000);
  });

  test('a fast retransmission is counted in total_retrans', () => {
    const r = fastRetransmit();
    expect(r.info?.totalRetrans).toBe(1);
    expect(r.scenario.client.stack.tcp.counters.RetransSegs).toBe(1);
  });

  test('formatTcpInfo speaks ss -ti', () => {
    const line = formatTcpInfo(handshake().info!);
    expect(line).toMatch(/^sack ts wscale:7,7 rto:\d+ rtt:20\/[\d.]+ mss:1448 advmss:1460 cwnd:10 bytes_acked:19 bytes_received:24 segs_out:4 segs_in:3 /);
    expect(line).toContain('sacked:0');
    expect(formatRate(125_000)).toBe('1.0Mbps');
    expect(formatRate(100)).toBe('800bps');
  });
});

describe('socket table (ss -tan)', () => {
  test('listeners first with their accept queue and backlog, then connections with their queues', () => {
    const r = acceptQueueOverflow();
    const s = r.scenario;
    const rows = socketTable(s.server.stack.tcp);
    expect(rows[0]).toMatchObject({ state: 'LISTEN', recvQ: 0, sendQ: 1, local: '0.0.0.0:80', peer: '0.0.0.0:*' });
    expect(rows.filter((x) => x.state === 'ESTAB')).toHaveLength(3);
    const client = socketTable(s.client.stack.tcp);
    expect(client.every((x) => x.state === 'ESTAB' && x.peer === '10.0.0.2:80')).toBe(true);
  });

  test('TIME-WAIT entries appear, and the format has ss\'s columns', () => {
    const s = fourWayClose().scenario;
    const rows = socketTable(s.client.stack.tcp);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ state: 'TIME-WAIT', recvQ: 0, sendQ: 0, peer: '10.0.0.2:80' });
    const text = formatSocketTable(socketTable(s.server.stack.tcp));
    expect(text.split('\n')[0]).toMatch(/^State\s+Recv-Q\s+Send-Q\s+Local Address:Port\s+Peer Address:Port$/);
    expect(text).toMatch(/LISTEN\s+0\s+511\s+0\.0\.0\.0:80\s+0\.0\.0\.0:\*/);
  });

  test('unread bytes and unacknowledged bytes show as Recv-Q and Send-Q', () => {
    const s = newScenario({ seed: 62 }, {}, { serverTcp: { rcvBuf: 8192 } });
    const { client } = connectPair(s);
    client.send(filler(12_000));
    s.advance(1000);
    const srv = socketTable(s.server.stack.tcp).find((x) => x.state === 'ESTAB')!;
    const cli = socketTable(s.client.stack.tcp)[0]!;
    expect(srv.recvQ).toBeGreaterThan(0);
    expect(cli.sendQ).toBe(12_000 - srv.recvQ);
    expect(ssState('SYN-RECEIVED')).toBe('SYN-RECV');
    expect(ssState('ESTABLISHED')).toBe('ESTAB');
  });
});
