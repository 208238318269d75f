// Scenario tests for connection establishment (issue 3, "Done when"): the normal handshake, a
// lost SYN, a lost SYN-ACK, the three cases of a lost third ACK, simultaneous open, a SYN to a
// closed port, the accept queue overflowing, and MSS negotiation. Each runs real Stacks over the
// simulated link in virtual time and asserts states, counters, bytes and the retransmission
// instants RFC 6298 and Linux define (initial RTO 1 s, doubling).
import { describe, expect, test } from 'vitest';
import { handshake } from '../../src/sim/scenarios/basic.js';
import { lostSyn, lostSynAck, lostThirdAckClientData, lostThirdAckIdle, lostThirdAckServerFirst } from '../../src/sim/scenarios/loss.js';
import { acceptQueueOverflow, rstClosedPort, simultaneousOpen } from '../../src/sim/scenarios/open.js';
import { mssNegotiation } from '../../src/sim/scenarios/options.js';
import { Reader, acceptNext, filler, framesWhere, isPureAck, isSyn, isSynAck, listen, newScenario, readUntil, stateAt } from '../../src/sim/scenarios/common.js';
import { statesOf } from '../../src/sim/scenarios/close.js';

const S = 1_000_000; // one second of virtual time, in µs

describe('establishment (RFC 9293 §3.5)', () => {
  test('three-way handshake: SYN, SYN-ACK, ACK; both ESTABLISHED; a request and a response each delivered whole', () => {
    const r = handshake();
    const s = r.scenario;
    expect(r.facts).toMatchObject({ requestBytes: 18, responseBytes: 24, clientState: 'ESTABLISHED', serverState: 'ESTABLISHED' });
    const syn = framesWhere(s, 'client', isSyn);
    const synAck = framesWhere(s, 'server', isSynAck);
    expect(syn).toHaveLength(1);
    expect(synAck).toHaveLength(1);
    expect(synAck[0]!.seg.ack).toBe((syn[0]!.seg.seq + 1) | 0);
    expect(statesOf(s, 'client')).toBe('SYN-SENT>ESTABLISHED');
    expect(statesOf(s, 'server')).toBe('LISTEN>SYN-RECEIVED>ESTABLISHED');
    // One RTT (2 x 10 ms) after the SYN the client is ESTABLISHED; the server half an RTT later.
    expect(stateAt(s, 'client', 'ESTABLISHED')).toBe(syn[0]!.sentAt + 20_000);
    expect(stateAt(s, 'server', 'ESTABLISHED')).toBe(syn[0]!.sentAt + 30_000);
    expect(s.client.stack.tcp.counters.RetransSegs + s.server.stack.tcp.counters.RetransSegs).toBe(0);
    expect(r.info?.bytesAcked).toBe(19); // the SYN and 18 bytes
    expect(r.info?.bytesReceived).toBe(24);
  });

  test('the same seed gives the same run, frame for frame; another seed gives other ISNs and ports', () => {
    const a = handshake();
    const b = handshake();
    const c = handshake({ seed: 99 });
    expect(b.scenario.wire.map((w) => [w.sentAt, Array.from(w.frame)])).toEqual(a.scenario.wire.map((w) => [w.sentAt, Array.from(w.frame)]));
    expect(framesWhere(c.scenario, 'client', isSyn)[0]!.seg.seq).not.toBe(framesWhere(a.scenario, 'client', isSyn)[0]!.seg.seq);
  });

  test('lost SYN: the client retransmits it exactly one initial RTO (1 s, RFC 6298 §2.1) later and the connection opens', () => {
    const r = lostSyn();
    const syns = framesWhere(r.scenario, 'client', isSyn);
    expect(syns).toHaveLength(2);
    expect(syns[0]!.lost).toBe('filter');
    expect(syns[1]!.lost).toBeUndefined();
    expect(syns[1]!.sentAt - syns[0]!.sentAt).toBe(1 * S);
    expect(syns[1]!.seg.seq).toBe(syns[0]!.seg.seq); // the same ISN
    expect(r.facts).toMatchObject({ synsSent: 2, TCPSynRetrans: 1, serverState: 'ESTABLISHED', clientEstablishedAt: 1.02 });
  });

  test('lost SYN-ACK: the client\'s SYN is retransmitted after 1 s and the server answers it with its SYN-ACK again at once (Linux tcp_check_req)', () => {
    const r = lostSynAck();
    const s = r.scenario;
    const syns = framesWhere(s, 'client', isSyn);
    const synAcks = framesWhere(s, 'server', isSynAck);
    expect(synAcks[0]!.lost).toBe('filter');
    expect(syns[1]!.sentAt - syns[0]!.sentAt).toBe(1 * S);
    // The server re-sends when the retransmitted SYN arrives, not on its own timer.
    expect(synAcks).toHaveLength(2);
    expect(synAcks[1]!.sentAt).toBe(syns[1]!.arrivedAt);
    expect(r.facts).toMatchObject({ clientSynRetrans: 1, serverRetransSegs: 1, serverState: 'ESTABLISHED' });
  });

  test('lost third ACK, no data: the server retransmits its SYN-ACK after 1 s, the client re-ACKs, the server is ESTABLISHED', () => {
    const r = lostThirdAckIdle();
    const s = r.scenario;
    const synAcks = framesWhere(s, 'server', isSynAck);
    expect(synAcks).toHaveLength(2);
    expect(synAcks[1]!.sentAt - synAcks[0]!.sentAt).toBe(1 * S);
    const acks = framesWhere(s, 'client', isPureAck);
    expect(acks[0]!.lost).toBe('filter');
    expect(acks[1]!.sentAt).toBe(synAcks[1]!.arrivedAt); // the duplicate SYN-ACK is answered at once
    expect(stateAt(s, 'client', 'ESTABLISHED')).toBeLessThan(stateAt(s, 'server', 'ESTABLISHED')!);
    expect(stateAt(s, 'server', 'ESTABLISHED')).toBe(acks[1]!.arrivedAt);
  });

  test('lost third ACK, client sends first: the data segment\'s ACK completes the server\'s handshake; no retransmission', () => {
    const r = lostThirdAckClientData();
    expect(r.facts).toMatchObject({ requestBytes: 18, synAcksSent: 1, serverRetransSegs: 0, serverState: 'ESTABLISHED' });
    const data = framesWhere(r.scenario, 'client', (seg) => seg.payload.length > 0);
    expect(stateAt(r.scenario, 'server', 'ESTABLISHED')).toBe(data[0]!.arrivedAt);
  });

  test('lost third ACK, server sends first: it cannot accept() or send until its SYN-ACK retransmissions (1 s, then 2 s later) draw an ACK through', () => {
    const r = lostThirdAckServerFirst();
    const s = r.scenario;
    const synAcks = framesWhere(s, 'server', isSynAck);
    expect(synAcks).toHaveLength(3);
    expect(synAcks[1]!.sentAt - synAcks[0]!.sentAt).toBe(1 * S);
    expect(synAcks[2]!.sentAt - synAcks[1]!.sentAt).toBe(2 * S); // RFC 6298 §5.5: the timer doubles
    const banner = framesWhere(s, 'server', (seg) => seg.payload.length > 0);
    expect(banner[0]!.sentAt).toBe(stateAt(s, 'server', 'ESTABLISHED'));
    expect(banner[0]!.sentAt).toBeGreaterThan(synAcks[2]!.sentAt);
    expect(r.facts.bannerBytes).toBe(24);
  });

  test('simultaneous open: SYN-SENT -> SYN-RECEIVED -> ESTABLISHED on both sides, no listener (RFC 9293 §3.5 Figure 8)', () => {
    const r = simultaneousOpen();
    expect(r.facts).toMatchObject({ clientStates: 'SYN-SENT>SYN-RECEIVED>ESTABLISHED', serverStates: 'SYN-SENT>SYN-RECEIVED>ESTABLISHED', synAcks: 2 });
    expect(r.scenario.server.stack.tcp.counters.PassiveOpens).toBe(0);
  });

  test('SYN to a closed port: RST+ACK <SEQ=0><ACK=ISS+1> and ECONNREFUSED at the client (RFC 9293 §3.10.7.1)', () => {
    const r = rstClosedPort();
    const s = r.scenario;
    const syn = framesWhere(s, 'client', isSyn)[0]!;
    const rst = framesWhere(s, 'server', (seg) => (seg.flags & 0x04) !== 0);
    expect(rst).toHaveLength(1);
    expect(rst[0]!.seg.flags).toBe(0x14);
    expect(rst[0]!.seg.seq).toBe(0);
    expect(rst[0]!.seg.ack).toBe((syn.seg.seq + 1) | 0);
    expect(r.facts).toMatchObject({ error: 'ECONNREFUSED', serverOutRsts: 1, clientAttemptFails: 1 });
    expect(framesWhere(s, 'client', isSyn)).toHaveLength(1); // no retry after a refusal
  });
});

describe('accept-queue overflow (Linux tcp_conn_request / tcp_check_req)', () => {
  test('backlog 1: two connections wait in the queue (backlog + 1); the third\'s SYNs are dropped as ListenOverflows and retransmitted at 1 s and 3 s', () => {
    const r = acceptQueueOverflow();
    expect(r.facts).toMatchObject({ backlog: 1, clients: 3, accepted: 3, ListenOverflows: 2, clientSynRetrans: 2, serverSynAckRetrans: 0 });
    const syns = framesWhere(r.scenario, 'client', isSyn);
    const third = syns.filter((f) => f.seg.srcPort === syns[2]!.seg.srcPort);
    expect(third.map((f) => f.sentAt - third[0]!.sentAt)).toEqual([0, 1 * S, 3 * S]);
  });

  test('backlog 2: an admitted child whose ACK finds the queue full stays in SYN-RECEIVED; its SYN-ACK is retransmitted until the application makes room', () => {
    const r = acceptQueueOverflow().contrast!;
    expect(r.facts).toMatchObject({ backlog: 2, clients: 4, accepted: 4, clientSynRetrans: 0 });
    expect(r.facts.ListenOverflows).toBeGreaterThanOrEqual(2);
    expect(r.facts.serverSynAckRetrans).toBe(2);
    const s = r.scenario;
    const synAcks = framesWhere(s, 'server', isSynAck);
    const fourth = synAcks.filter((f) => f.seg.dstPort === synAcks[3]!.seg.dstPort);
    expect(fourth.map((f) => f.sentAt - fourth[0]!.sentAt)).toEqual([0, 1 * S, 3 * S]);
    // The client side of that connection was ESTABLISHED all along.
    expect(s.states.filter((x) => x.host === 'client' && x.state === 'ESTABLISHED')).toHaveLength(4);
  });
});

test('MSS negotiation: 1460 and 8960 announced; both directions send 1448-byte segments (RFC 9293 §3.7.1, timestamps take 12)', () => {
  const r = mssNegotiation();
  expect(r.facts).toMatchObject({
    clientAnnounces: 1460, serverAnnounces: 8960, clientSendMss: 1448, serverSendMss: 1448,
    largestClientSegment: 1448, largestServerSegment: 1448,
  });
});

test('TCP_MAXSEG 1000 is announced as MSS 1000 and, with timestamps, segments carry 988 bytes (Linux __tcp_mtu_to_mss)', () => {
  const s = newScenario({ seed: 8 }, {});
  const listener = listen(s);
  const client = s.client.sockets.socket();
  expect(client.setOption('maxSegment', 1000)).toBeUndefined();
  client.setOption('noDelay', true);
  client.connect(s.server.addr, 80);
  const server = acceptNext(s, listener);
  client.send(filler(3000));
  readUntil(s, new Reader(server), 3000, 'the data');
  expect(framesWhere(s, 'client', isSyn)[0]!.seg.options.mss).toBe(1000);
  const sizes = framesWhere(s, 'client', (seg) => seg.payload.length > 0).map((f) => f.seg.payload.length);
  expect(sizes).toEqual([988, 988, 988, 36]);
  expect(client.getOption('maxSegment')).toBe(988);
});
