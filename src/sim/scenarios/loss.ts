// Losses during the handshake and in data transfer: a lost SYN, a lost SYN-ACK, the three cases
// of a lost third ACK, and fast retransmit of one lost data segment. Read RFC 9293 §3.8.1 and
// §3.10.7.4, RFC 6298 (the 1 s initial RTO and its doubling) and RFC 5681 §3.2.
import type { ScenarioOptions, ScenarioResult } from './common.js';
import {
  Reader, acceptNext, connectPair, dropMatching, filler, framesWhere, hasData, infoOf, isPureAck, isSyn, isSynAck, listen,
  newScenario, readUntil, secs, stateAt, text, waitFor,
} from './common.js';

/**
 * The client's first SYN is lost. Nothing answers, so the client's retransmission timer (the
 * initial RTO of RFC 6298 §2.1, 1 s) fires and the SYN is sent again; the handshake then
 * completes one second late.
 */
export function lostSyn(opts: ScenarioOptions = {}): ScenarioResult {
  const s = newScenario({ seed: 2 }, opts, { clientImpair: dropMatching(isSyn, [1]) });
  const listener = listen(s);
  const client = s.client.sockets.socket();
  client.connect(s.server.addr, 80);
  const server = acceptNext(s, listener, 'the retransmitted SYN completing the handshake', 10_000);
  waitFor(s, () => client.state === 'ESTABLISHED', 'client ESTABLISHED');
  const syns = framesWhere(s, s.client.name, isSyn);
  return {
    scenario: s,
    facts: {
      synsSent: syns.length,
      firstSynAt: secs(syns[0]?.sentAt),
      retransmittedAt: secs(syns[1]?.sentAt),
      clientEstablishedAt: secs(stateAt(s, s.client.name, 'ESTABLISHED')),
      TCPSynRetrans: s.client.stack.tcp.counters.TCPSynRetrans,
      serverState: server.state,
    },
  };
}

/**
 * The server's SYN-ACK is lost. Both sides retransmit: the client's SYN timer fires first (it
 * started earlier) and its SYN reaches the server, still in SYN-RECEIVED, which answers the
 * repeated SYN by sending its SYN-ACK again (as Linux's tcp_check_req does) and restarts its own
 * SYN-ACK timer.
 */
export function lostSynAck(opts: ScenarioOptions = {}): ScenarioResult {
  const s = newScenario({ seed: 3 }, opts, { serverImpair: dropMatching(isSynAck, [1]) });
  const listener = listen(s);
  const client = s.client.sockets.socket();
  client.connect(s.server.addr, 80);
  const server = acceptNext(s, listener, 'the handshake after the lost SYN-ACK', 10_000);
  waitFor(s, () => client.state === 'ESTABLISHED', 'client ESTABLISHED');
  s.advance(50);
  const syns = framesWhere(s, s.client.name, isSyn);
  const synAcks = framesWhere(s, s.server.name, isSynAck);
  return {
    scenario: s,
    facts: {
      synsSent: syns.length,
      synAcksSent: synAcks.length,
      synRetransmittedAt: secs(syns[1]?.sentAt),
      synAckRetransmittedAt: secs(synAcks[1]?.sentAt),
      clientSynRetrans: s.client.stack.tcp.counters.TCPSynRetrans,
      serverRetransSegs: s.server.stack.tcp.counters.RetransSegs,
      serverState: server.state,
    },
  };
}

/**
 * Lost third ACK, first case: nobody has data to send. The client is ESTABLISHED; the server
 * still in SYN-RECEIVED until its SYN-ACK timer (1 s) fires and the SYN-ACK is sent again. The
 * client answers the duplicate SYN-ACK with an ACK, which completes the server's handshake.
 */
export function lostThirdAckIdle(opts: ScenarioOptions = {}): ScenarioResult {
  const s = newScenario({ seed: 4 }, opts, { clientImpair: dropMatching(isPureAck, [1]) });
  const listener = listen(s);
  const client = s.client.sockets.socket();
  client.connect(s.server.addr, 80);
  const server = acceptNext(s, listener, 'the server completing its handshake', 10_000);
  s.advance(50);
  const synAcks = framesWhere(s, s.server.name, isSynAck);
  return {
    scenario: s,
    facts: {
      clientEstablishedAt: secs(stateAt(s, s.client.name, 'ESTABLISHED')),
      synAcksSent: synAcks.length,
      synAckRetransmittedAt: secs(synAcks[1]?.sentAt),
      serverEstablishedAt: secs(stateAt(s, s.server.name, 'ESTABLISHED')),
      serverState: server.state,
    },
  };
}

/**
 * Lost third ACK, second case: the client sends data at once (an HTTP request). Every segment
 * after the SYN carries the ACK bit, so the data segment's ACK completes the server's handshake
 * (RFC 9293 §3.10.7.4, fifth step in SYN-RECEIVED) and its text is accepted: no retransmission.
 */
export function lostThirdAckClientData(opts: ScenarioOptions = {}): ScenarioResult {
  const s = newScenario({ seed: 5 }, opts, { clientImpair: dropMatching(isPureAck, [1]) });
  const listener = listen(s);
  const client = s.client.sockets.socket();
  const request = 'GET / HTTP/1.0\r\n\r\n';
  // The request is written the moment the connection is up, as an HTTP client does.
  client.onReady = () => {
    if (client.state === 'ESTABLISHED' && client.connection?.sndBuf.length === 0 && sent === 0) {
      sent = client.send(text(request)) as number;
      s.note(s.client.name, `send(${request.length} bytes)`);
    }
  };
  let sent = 0;
  client.connect(s.server.addr, 80);
  const server = acceptNext(s, listener, 'the data segment completing the handshake', 10_000);
  const r = new Reader(server, true);
  readUntil(s, r, request.length, 'the request');
  s.advance(100);
  return {
    scenario: s,
    facts: {
      requestBytes: r.bytes,
      serverEstablishedAt: secs(stateAt(s, s.server.name, 'ESTABLISHED')),
      synAcksSent: framesWhere(s, s.server.name, isSynAck).length,
      serverRetransSegs: s.server.stack.tcp.counters.RetransSegs,
      serverState: server.state,
    },
  };
}

/**
 * Lost third ACK, third case: the server speaks first (an SMTP or SSH banner) and the client
 * waits. The server application cannot accept() or send until the handshake completes, so the
 * server keeps retransmitting its SYN-ACK (1 s, then 2 s later) until one of the client's ACKs
 * gets through. Here the first two ACKs are lost: the banner leaves three seconds late.
 */
export function lostThirdAckServerFirst(opts: ScenarioOptions = {}): ScenarioResult {
  const s = newScenario({ seed: 6 }, opts, { clientImpair: dropMatching(isPureAck, [1, 2]) });
  const listener = listen(s);
  s.note(s.server.name, 'accept() waits');
  const client = s.client.sockets.socket();
  client.connect(s.server.addr, 80);
  const server = acceptNext(s, listener, 'the server completing its handshake', 20_000);
  const banner = '220 mail.example ESMTP\r\n';
  s.note(s.server.name, `accept(); send(${banner.length} bytes)`);
  server.send(text(banner));
  const r = new Reader(client, true);
  readUntil(s, r, banner.length, 'the banner');
  s.advance(100);
  const synAcks = framesWhere(s, s.server.name, isSynAck);
  const bannerAt = framesWhere(s, s.server.name, hasData)[0]?.sentAt;
  return {
    scenario: s,
    facts: {
      synAcksSent: synAcks.length,
      synAckRetransmittedAt: synAcks.slice(1).map((f) => secs(f.sentAt)).join(','),
      serverEstablishedAt: secs(stateAt(s, s.server.name, 'ESTABLISHED')),
      bannerSentAt: secs(bannerAt),
      bannerBytes: r.bytes,
    },
  };
}

/**
 * Fast retransmit (RFC 5681 §3.2): one data segment of a burst is lost. Each later segment
 * arrives out of order and the receiver acknowledges it at once with a duplicate ACK (RFC 5681
 * §4.2) carrying a SACK block; on the third duplicate ACK the sender retransmits the missing
 * segment without waiting for the retransmission timer, and enters fast recovery.
 */
export function fastRetransmit(opts: ScenarioOptions = {}): ScenarioResult {
  const s = newScenario({ seed: 7 }, opts, { clientImpair: dropMatching(hasData, [3]) });
  // Port 5001 (iperf's): the bytes are not HTTP, and a capture on port 80 would have Wireshark
  // try to reassemble them as HTTP and trip over the retransmitted segment.
  const { client, server } = connectPair(s, 5001);
  client.setOption('noDelay', true);
  const size = 8 * 1448;
  s.note(s.client.name, `send(${size} bytes)`);
  client.send(filler(size));
  const r = new Reader(server);
  readUntil(s, r, size, 'all the data');
  s.advance(300);
  const data = framesWhere(s, s.client.name, hasData);
  const lost = data.find((f) => f.lost !== undefined);
  const rtx = data.find((f, i) => i > 0 && lost !== undefined && f.seg.seq === lost.seg.seq && f.lost === undefined);
  const c = s.client.stack.tcp.counters;
  const info = infoOf(s, client);
  // The ACKs asking for the lost segment: the first acknowledges what came before it, the others
  // are duplicates sent as the segments after the hole arrive.
  const asking = framesWhere(s, s.server.name, (seg) => isPureAck(seg) && lost !== undefined && seg.ack === lost.seg.seq);
  return {
    scenario: s,
    facts: {
      bytesDelivered: r.bytes,
      lostSentAt: secs(lost?.sentAt),
      dupAcks: asking.length - 1,
      thirdDupAckArrivedAt: secs(asking[3]?.arrivedAt),
      retransmittedAt: secs(rtx?.sentAt),
      TCPFastRetrans: c.TCPFastRetrans,
      TCPTimeouts: c.TCPTimeouts,
      rtoMs: info?.rto ?? NaN,
    },
    ...(info !== undefined ? { info } : {}),
  };
}
