// Transcripts of connection establishment (RFC 9293 §3.5, §3.10.7.2-§3.10.7.4): active, passive
// and simultaneous open, SYN and SYN-ACK retransmission with their limits, the lost third ACK,
// and a connection whose sequence numbers wrap.
import { describe, expect, test } from 'vitest';
import { Harness, LOCAL, REMOTE } from '../util/tcp-harness.js';
import { Ready } from '../../src/api/socket.js';
import {
  CLIENT_PORT, Conn, PEER_ISS, SERVER_PORT, bytes, drain, established, listening, out, synReceived, synSent,
} from './fixtures.js';

describe('active open (RFC 9293 §3.10.1, §3.10.7.3)', () => {
  test('CLOSED -> SYN-SENT: connect() sends one SYN with MSS 1460, SACK-permitted, timestamps and window scale 7, laid out in Linux order (RFC 9293 §3.10.1, §3.7.1; RFC 7323 §2.2, §3.2; RFC 2018 §2)', () => {
    const h = new Harness();
    const frames: Uint8Array[] = [];
    h.ip.onSend = (_s, frame) => frames.push(frame.slice());
    const s = h.sockets.socket();
    expect(s.connect(REMOTE, SERVER_PORT)).toBe('EINPROGRESS');
    expect(h.takeSent()).toEqual([]); // user calls transmit at the next poll
    h.flush();
    const sent = h.takeSent();
    expect(sent.length).toBe(1);
    const syn = sent[0]!.seg;
    expect(s.state).toBe('SYN-SENT');
    expect(syn.flags).toBe(0x02);
    expect(syn.ack).toBe(0);
    expect(syn.payload.length).toBe(0);
    expect(syn.dstPort).toBe(SERVER_PORT);
    expect(syn.options.mss).toBe(1460);
    expect(syn.options.sackPermitted).toBe(true);
    expect(syn.options.wscale).toBe(7);
    expect(syn.options.timestamp?.tsecr).toBe(0);
    // Linux's tcp_options_write order: MSS, SACK-permitted folded into the timestamps word, NOP + window scale.
    const tsval = syn.options.timestamp!.tsval;
    const opts = Array.from(frames[0]!.subarray(20, 40));
    expect(opts).toEqual([
      2, 4, 0x05, 0xb4, // MSS 1460
      4, 2, 8, 10, // SACK-permitted, timestamps kind 8 length 10
      (tsval >>> 24) & 0xff, (tsval >>> 16) & 0xff, (tsval >>> 8) & 0xff, tsval & 0xff, // TSval
      0, 0, 0, 0, // TSecr = 0 in a SYN
      1, 3, 3, 7, // NOP, window scale 7
    ]);
    expect(h.tcp.counters.ActiveOpens).toBe(1);
  });

  test('SYN-SENT -> ESTABLISHED: a SYN-ACK acknowledging our SYN is answered <SEQ=ISS+1><ACK=IRS+1><CTL=ACK> and the socket becomes writable (RFC 9293 §3.10.7.3)', () => {
    const c = synSent();
    expect(c.s.readiness() & Ready.WRITABLE).toBe(0);
    expect(c.send({ flags: 'SYN+ACK', seq: c.p(0), ack: c.u(1) })).toEqual([out('ACK', c.u(1), c.p(1))]);
    expect(c.state).toBe('ESTABLISHED');
    expect(c.s.readiness() & Ready.WRITABLE).toBe(Ready.WRITABLE);
    expect(c.s.connect(REMOTE, SERVER_PORT)).toBe('EISCONN');
    expect(c.h.tcp.counters.CurrEstab).toBe(1);
  });

  test('SYN-SENT: the options of the SYN-ACK are taken: MSS, window scale, SACK and timestamps (RFC 9293 §3.7.1; RFC 7323 §2.2, §3.2, §4.3; RFC 2018 §2)', () => {
    const c = synSent();
    const reply = c.h.peerSends({
      flags: 'SYN+ACK', seq: c.p(0), ack: c.u(1), srcPort: c.remotePort, dstPort: c.localPort,
      options: { mss: 1000, wscale: 2, sackPermitted: true, timestamp: { tsval: 5000, tsecr: c.ourSyn!.options.timestamp!.tsval } },
    });
    void reply;
    const sent = c.h.takeSent();
    expect(sent.map((x) => x.seg.flags)).toEqual([0x10]);
    expect(sent[0]!.seg.options.timestamp?.tsecr).toBe(5000);
    expect(sent[0]!.seg.options.mss).toBeUndefined(); // RFC 9293 §3.7.1 (MUST-65): MSS only in SYNs
    const tcb = c.tcb!;
    expect(tcb.peerMss).toBe(1000);
    expect(tcb.mss).toBe(1000 - 12); // timestamps take 12 bytes of every segment (MUST-16)
    expect(tcb.sndWscale).toBe(2);
    expect(tcb.rcvWscale).toBe(7);
    expect(tcb.sackOk).toBe(true);
    expect(tcb.tsOk).toBe(true);
  });

  test('SYN-SENT: a SYN-ACK without an MSS option means a send MSS of 536 (RFC 9293 §3.7.1, MUST-15)', () => {
    const c = established();
    expect(c.tcb!.mss).toBe(536);
    expect(c.tcb!.tsOk).toBe(false);
    expect(c.tcb!.wsOk).toBe(false);
  });

  test('SYN-SENT: the SYN is retransmitted after 1, 2, 4, 8, 16 and 32 s and connect fails with ETIMEDOUT at 127 s (RFC 9293 §3.8.1; RFC 6298 §5.5; Linux tcp_syn_retries = 6)', () => {
    const c = synSent();
    const syn = out('SYN', c.u(0));
    expect(c.advanceTimed(126_999)).toEqual([
      `1000ms ${syn}`, `3000ms ${syn}`, `7000ms ${syn}`, `15000ms ${syn}`, `31000ms ${syn}`, `63000ms ${syn}`,
    ]);
    expect(c.state).toBe('SYN-SENT');
    expect(c.advance(1)).toEqual([]); // no RST: nothing was ever synchronized
    expect(c.state).toBe('CLOSED');
    expect(c.s.readiness() & Ready.ERROR).toBe(Ready.ERROR);
    expect(c.s.recv(new Uint8Array(10))).toBe('ETIMEDOUT');
    expect(c.h.tcp.counters.TCPSynRetrans).toBe(6);
    expect(c.h.tcp.counters.AttemptFails).toBe(1);
  });

  test('SYN-SENT: TCP_SYNCNT limits the SYN retransmissions of one socket (RFC 9293 §3.8.3 MUST-21; Linux TCP_SYNCNT)', () => {
    const c = synSent({ setup: (s) => expect(s.setOption('synCount', 2)).toBeUndefined() });
    const syn = out('SYN', c.u(0));
    expect(c.advanceTimed(6_999)).toEqual([`1000ms ${syn}`, `3000ms ${syn}`]);
    expect(c.state).toBe('SYN-SENT');
    expect(c.advance(1)).toEqual([]);
    expect(c.state).toBe('CLOSED');
    expect(c.s.takeError()).toBe('ETIMEDOUT');
  });

  test('SYN-SENT: config synRetries applies to every socket without TCP_SYNCNT (Linux tcp_syn_retries)', () => {
    const c = synSent({ cfg: { synRetries: 1 } });
    expect(c.advanceTimed(2_999)).toEqual([`1000ms ${out('SYN', c.u(0))}`]);
    expect(c.advance(1)).toEqual([]);
    expect(c.s.takeError()).toBe('ETIMEDOUT');
  });

  test('SYN-SENT: an ACK for our SYN after a retransmission completes the handshake, and the retransmission timer stops (RFC 9293 §3.10.7.3; RFC 6298 §5.2)', () => {
    const c = synSent();
    expect(c.advance(1000)).toEqual([out('SYN', c.u(0))]);
    expect(c.send({ flags: 'SYN+ACK', seq: c.p(0), ack: c.u(1) })).toEqual([out('ACK', c.u(1), c.p(1))]);
    expect(c.state).toBe('ESTABLISHED');
    expect(c.advance(200_000)).toEqual([]);
  });
});

describe('passive open (RFC 9293 §3.10.7.2)', () => {
  test('LISTEN -> SYN-RECEIVED: a SYN without options gets <SEQ=ISS><ACK=SEG.SEQ+1><CTL=SYN,ACK> carrying only MSS (RFC 9293 §3.10.7.2; RFC 7323 §2.2, §3.2; RFC 2018 §2)', () => {
    const c = synReceived();
    const sa = c.ourSyn!;
    expect(sa.ack).toBe(c.p(1));
    expect(sa.options.mss).toBe(1460);
    expect(sa.options.wscale).toBeUndefined();
    expect(sa.options.sackPermitted ?? false).toBe(false);
    expect(sa.options.timestamp).toBeUndefined();
    expect(sa.window).toBe(64240); // Linux's tcp_select_initial_window: 44 * 1460
    expect(c.h.tcp.counters.PassiveOpens).toBe(1);
  });

  test('LISTEN -> SYN-RECEIVED: a SYN with MSS, SACK-permitted, timestamps and window scale gets all four back, TSecr echoing its TSval (RFC 7323 §2.2, §3.2; RFC 2018 §2)', () => {
    const c = synReceived({ peerSynOptions: { mss: 1400, sackPermitted: true, timestamp: { tsval: 777, tsecr: 0 }, wscale: 9 } });
    const o = c.ourSyn!.options;
    expect(o.mss).toBe(1460);
    expect(o.sackPermitted).toBe(true);
    expect(o.wscale).toBe(7);
    expect(o.timestamp?.tsecr).toBe(777);
  });

  test('LISTEN -> SYN-RECEIVED: a SYN with timestamps only gets MSS and timestamps, no window scale or SACK (RFC 7323 §2.2; RFC 2018 §2)', () => {
    const c = synReceived({ peerSynOptions: { timestamp: { tsval: 1, tsecr: 0 } } });
    const o = c.ourSyn!.options;
    expect(o.mss).toBe(1460);
    expect(o.timestamp?.tsecr).toBe(1);
    expect(o.wscale).toBeUndefined();
    expect(o.sackPermitted ?? false).toBe(false);
  });

  test('SYN-RECEIVED -> ESTABLISHED: the ACK of our SYN-ACK puts the child on the accept queue; accept() returns it (RFC 9293 §3.10.7.4 fifth step)', () => {
    const c = synReceived();
    expect(c.listener!.accept()).toBe('EAGAIN');
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1) })).toEqual([]);
    expect(c.state).toBe('ESTABLISHED');
    const child = c.listener!.accept();
    if (typeof child === 'string') throw new Error(child);
    expect(child.state).toBe('ESTABLISHED');
    expect(child.remotePort).toBe(CLIENT_PORT);
    expect(child.localPort).toBe(SERVER_PORT);
  });

  test('SYN-RECEIVED: the SYN-ACK is retransmitted after 1, 2, 4, 8 and 16 s, then the half-open child is dropped silently at 63 s (RFC 9293 §3.8.1; Linux tcp_synack_retries = 5)', () => {
    const c = synReceived();
    const sa = out('SYN+ACK', c.u(0), c.p(1));
    expect(c.advanceTimed(62_999)).toEqual([`1000ms ${sa}`, `3000ms ${sa}`, `7000ms ${sa}`, `15000ms ${sa}`, `31000ms ${sa}`]);
    expect(c.state).toBe('SYN-RECEIVED');
    expect(c.advance(1)).toEqual([]); // no RST
    expect(c.state).toBe('CLOSED');
    expect(c.listener!.state).toBe('LISTEN');
    expect(c.listener!.accept()).toBe('EAGAIN');
  });

  test('SYN-RECEIVED: a retransmitted SYN gets the SYN-ACK again (RFC 9293 §3.10.7.4; Linux tcp_check_req)', () => {
    const c = synReceived();
    expect(c.send({ flags: 'SYN', seq: c.p(0) })).toEqual([out('SYN+ACK', c.u(0), c.p(1))]);
    expect(c.state).toBe('SYN-RECEIVED');
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1) })).toEqual([]);
    expect(c.state).toBe('ESTABLISHED');
  });

  test('SYN-RECEIVED: config synackRetries bounds the SYN-ACK retransmissions (Linux tcp_synack_retries)', () => {
    const c = synReceived({ cfg: { synackRetries: 2 } });
    const sa = out('SYN+ACK', c.u(0), c.p(1));
    expect(c.advanceTimed(6_999)).toEqual([`1000ms ${sa}`, `3000ms ${sa}`]);
    expect(c.state).toBe('SYN-RECEIVED');
    expect(c.advance(1)).toEqual([]);
    expect(c.state).toBe('CLOSED');
  });
});

describe('simultaneous open (RFC 9293 §3.5 Figure 8, MUST-10)', () => {
  test('SYN-SENT -> SYN-RECEIVED -> ESTABLISHED: a SYN in SYN-SENT is answered <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>; the peer\'s SYN-ACK completes the open (RFC 9293 §3.10.7.3, §3.5 Figure 8; Linux tcp_validate_incoming)', () => {
    const c = synSent();
    expect(c.send({ flags: 'SYN', seq: c.p(0) })).toEqual([out('SYN+ACK', c.u(0), c.p(1))]);
    expect(c.state).toBe('SYN-RECEIVED');
    // Figure 8 line 6: the peer's own SYN-ACK crosses ours; it acknowledges our SYN.
    expect(c.send({ flags: 'SYN+ACK', seq: c.p(0), ack: c.u(1) })).toEqual([out('ACK', c.u(1), c.p(1))]);
    expect(c.state).toBe('ESTABLISHED');
    expect(c.s.readiness() & Ready.WRITABLE).toBe(Ready.WRITABLE);
  });

  test('SYN-RECEIVED (active): a plain ACK of our SYN also completes a simultaneous open (RFC 9293 §3.10.7.4 fifth step)', () => {
    const c = synSent();
    expect(c.send({ flags: 'SYN', seq: c.p(0) })).toEqual([out('SYN+ACK', c.u(0), c.p(1))]);
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1) })).toEqual([]);
    expect(c.state).toBe('ESTABLISHED');
    expect(c.s.send(bytes(3))).toBe(3);
    expect(c.flush()).toEqual([out('PSH+ACK', c.u(1), c.p(1), 3)]);
  });

  test('SYN-RECEIVED (active): the SYN-ACK is retransmitted until the peer acknowledges it (RFC 9293 §3.8.1)', () => {
    const c = synSent();
    expect(c.send({ flags: 'SYN', seq: c.p(0) })).toEqual([out('SYN+ACK', c.u(0), c.p(1))]);
    expect(c.advance(1000)).toEqual([out('SYN+ACK', c.u(0), c.p(1))]);
    expect(c.send({ flags: 'SYN+ACK', seq: c.p(0), ack: c.u(1) })).toEqual([out('ACK', c.u(1), c.p(1))]);
    expect(c.state).toBe('ESTABLISHED');
  });
});

describe('the lost third ACK (RFC 9293 §3.5, §3.10.7.4)', () => {
  test('no data: the server retransmits its SYN-ACK and the ESTABLISHED client acknowledges it again (RFC 9293 §3.10.7.4; RFC 5961 §4.2)', () => {
    const client = established();
    // The server's retransmitted SYN-ACK: an old SYN in a synchronized state.
    expect(client.send({ flags: 'SYN+ACK', seq: client.p(0), ack: client.u(1) })).toEqual([out('ACK', client.u(1), client.p(1))]);
    expect(client.state).toBe('ESTABLISHED');

    const server = synReceived();
    expect(server.advance(1000)).toEqual([out('SYN+ACK', server.u(0), server.p(1))]);
    expect(server.send({ flags: 'ACK', seq: server.p(1), ack: server.u(1) })).toEqual([]);
    expect(server.state).toBe('ESTABLISHED');
    expect(server.advance(120_000)).toEqual([]);
  });

  test('the client sends data: ACK+data completes the server\'s handshake and the data is delivered and acknowledged (RFC 9293 §3.10.7.4 fifth and seventh steps)', () => {
    const c = synReceived();
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: bytes(10) })).toEqual([out('ACK', c.u(1), c.p(11))]);
    expect(c.state).toBe('ESTABLISHED');
    const child = c.listener!.accept();
    if (typeof child === 'string') throw new Error(child);
    expect(drain(child)).toEqual({ data: Array.from(bytes(10)), last: 'EAGAIN' });
    expect(c.advance(10_000)).toEqual([]);
  });

  test('the server wants to send first: the SYN-ACK is retransmitted until the ACK arrives, then the accepted socket sends (RFC 9293 §3.8.1, §3.10.7.4)', () => {
    const c = synReceived();
    const sa = out('SYN+ACK', c.u(0), c.p(1));
    expect(c.advanceTimed(7_500)).toEqual([`1000ms ${sa}`, `3000ms ${sa}`, `7000ms ${sa}`]);
    expect(c.listener!.accept()).toBe('EAGAIN');
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1) })).toEqual([]);
    const child = c.listener!.accept();
    if (typeof child === 'string') throw new Error(child);
    expect(child.send(bytes(5))).toBe(5);
    expect(c.flush()).toEqual([out('PSH+ACK', c.u(1), c.p(1), 5)]);
  });

  test('two stacks: with the third ACK lost on the wire the server still reaches ESTABLISHED through the SYN-ACK retransmission (RFC 9293 §3.5)', async () => {
    const { Pair } = await import('../util/tcp-harness.js');
    const p = new Pair(10_000);
    let dropped = false;
    p.filter = (s, dir) => {
      if (dir === 'a->b' && !dropped && s.seg.flags === 0x10) {
        dropped = true;
        return false;
      }
      return true;
    };
    const server = p.b.sockets.socket();
    expect(server.bind(REMOTE, SERVER_PORT)).toBeUndefined();
    expect(server.listen(5)).toBeUndefined();
    const client = p.a.sockets.socket();
    expect(client.connect(REMOTE, SERVER_PORT)).toBe('EINPROGRESS');
    p.advance(100);
    expect(client.state).toBe('ESTABLISHED');
    expect(server.accept()).toBe('EAGAIN');
    p.advance(1100);
    const child = server.accept();
    if (typeof child === 'string') throw new Error(child);
    expect(child.state).toBe('ESTABLISHED');
    expect(p.log.map((l) => `${l.at / 1000} ${l.dir} ${l.summary.split(' ')[0]}${l.dropped ? ' (dropped)' : ''}`)).toEqual([
      '0 a->b SYN', '10 b->a SYN+ACK', '20 a->b ACK (dropped)', '1010 b->a SYN+ACK', '1020 a->b ACK',
    ]);
  });
});

describe('sequence numbers that wrap (RFC 9293 §3.4, MUST-1)', () => {
  test('ESTABLISHED -> CLOSE-WAIT -> LAST-ACK -> CLOSED with the peer\'s ISS at 0xFFFFFFF0: data straddling 2^32 is delivered and every ACK wraps (RFC 9293 §3.4)', () => {
    const c = established({ peerIss: 0xfffffff0 });
    expect(c.p(1) >>> 0).toBe(0xfffffff1);
    // 32 bytes from 0xFFFFFFF1 to 0x00000010: the segment straddles the wrap.
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: bytes(32) })).toEqual([out('ACK', c.u(1), 0x11)]);
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(33), ack: c.u(1), data: bytes(10, 32) })).toEqual([out('ACK', c.u(1), 0x1b)]);
    expect(drain(c.s)).toEqual({ data: Array.from(bytes(42)), last: 'EAGAIN' });
    // An old duplicate from before the wrap is acknowledged, not delivered.
    expect(c.send({ flags: 'PSH+ACK', seq: c.p(1), ack: c.u(1), data: bytes(8) })).toEqual([out('ACK', c.u(1), 0x1b)]);
    expect(c.s.send(bytes(7))).toBe(7);
    expect(c.flush()).toEqual([out('PSH+ACK', c.u(1), 0x1b, 7)]);
    expect(c.send({ flags: 'FIN+ACK', seq: c.p(43), ack: c.u(8) })).toEqual([out('ACK', c.u(8), 0x1c)]);
    expect(c.state).toBe('CLOSE-WAIT');
    expect(c.s.recv(new Uint8Array(4))).toBe(0);
    c.s.close();
    expect(c.flush()).toEqual([out('FIN+ACK', c.u(8), 0x1c)]);
    expect(c.send({ flags: 'ACK', seq: c.p(44), ack: c.u(9) })).toEqual([]);
    expect(c.state).toBe('CLOSED');
  });

  test('a server whose peer\'s ISS is 0xFFFFFFFF: RCV.NXT wraps to 0 on the SYN itself (RFC 9293 §3.4)', () => {
    const c = synReceived({ peerIss: 0xffffffff });
    expect(c.ourSyn!.ack).toBe(0);
    expect(c.send({ flags: 'PSH+ACK', seq: 0, ack: c.u(1), data: bytes(4) })).toEqual([out('ACK', c.u(1), 4)]);
    expect(c.state).toBe('ESTABLISHED');
  });
});

void Conn; void PEER_ISS; void LOCAL; void listening;
