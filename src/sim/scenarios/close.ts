// Ending connections: the four-way close, half-close, simultaneous close through CLOSING,
// TIME-WAIT and its 2*MSL, and the abortive close (RST) next to the orderly one (FIN). Read
// RFC 9293 §3.6 (Figures 12 and 13), §3.10.4, §3.10.5 and §3.10.7.4.
import type { ScenarioOptions, ScenarioResult } from './common.js';
import {
  contrastOptions,
  Reader, connectPair, dropMatching, filler, framesWhere, isFin, isPureAck, isRst, newScenario, readToEnd, secs,
  sendAll, stateAt, text, waitFor,
} from './common.js';

/**
 * The four-way close (RFC 9293 §3.6, Figure 12): the client closes first and sends FIN
 * (FIN-WAIT-1); the server acknowledges it (the client moves to FIN-WAIT-2, the server to
 * CLOSE-WAIT) and its application reads end-of-file; when it closes too, its FIN (LAST-ACK) is
 * acknowledged and the server's side is CLOSED. The side that closed first holds TIME-WAIT.
 */
export function fourWayClose(opts: ScenarioOptions = {}): ScenarioResult {
  const s = newScenario({ seed: 11 }, opts);
  const { client, server } = connectPair(s);
  s.advance(20);
  s.note(s.client.name, 'close()');
  client.close();
  const r = new Reader(server);
  readToEnd(s, r, 'end of file at the server');
  s.note(s.server.name, 'recv() = 0 (EOF)');
  s.advance(50); // the server application finishes up
  s.note(s.server.name, 'close()');
  server.close();
  waitFor(s, () => server.state === 'CLOSED' && client.connection?.state === 'TIME-WAIT', 'server CLOSED, client TIME-WAIT');
  return {
    scenario: s,
    facts: {
      clientStates: statesOf(s, s.client.name),
      serverStates: statesOf(s, s.server.name),
      clientState: client.connection?.state ?? 'CLOSED',
      serverState: server.state,
      TimeWaitEntered: s.client.stack.tcp.counters.TimeWaitEntered,
    },
  };
}

/** The states a host went through, joined by '>'. */
export function statesOf(s: { states: { host: string; state: string }[] }, host: string): string {
  return s.states.filter((r) => r.host === host).map((r) => r.state).join('>');
}

/**
 * Half-close (RFC 9293 §3.6): the client sends its request and shuts down its sending side
 * (shutdown(SHUT_WR)). Its FIN means "no more data from me", not "goodbye": the server, in
 * CLOSE-WAIT, keeps sending its response in several writes and the client, in FIN-WAIT-2, keeps
 * receiving it, until the server closes too.
 */
export function halfClose(opts: ScenarioOptions = {}): ScenarioResult {
  const s = newScenario({ seed: 12 }, opts);
  const { client, server } = connectPair(s);
  const request = 'sort these lines\n';
  s.note(s.client.name, `send(${request.length}); shutdown(WR)`);
  client.send(text(request));
  client.shutdown('write');
  const atServer = new Reader(server);
  readToEnd(s, atServer, 'the request and its FIN');
  s.note(s.server.name, 'recv() = 0 (EOF)');
  const atClient = new Reader(client);
  const chunk = 1000;
  let afterFin = 0;
  for (let i = 0; i < 3; i++) {
    s.advance(30);
    s.note(s.server.name, `send(${chunk})`);
    afterFin += sendAll(s, server, filler(chunk));
    atClient.drain();
  }
  s.advance(30);
  s.note(s.server.name, 'close()');
  server.close();
  readToEnd(s, atClient, 'the response and its FIN');
  waitFor(s, () => server.state === 'CLOSED', 'server CLOSED');
  return {
    scenario: s,
    facts: {
      requestBytes: atServer.bytes,
      responseBytesSentInCloseWait: afterFin,
      responseBytesReceivedInFinWait2: atClient.bytes,
      clientStates: statesOf(s, s.client.name),
      serverStates: statesOf(s, s.server.name),
    },
  };
}

/**
 * Simultaneous close (RFC 9293 §3.6, Figure 13): both applications close at the same instant.
 * Each side's FIN crosses the other's; each receives a FIN while in FIN-WAIT-1 whose ACK does not
 * cover its own FIN, so both go to CLOSING; then each receives the ACK of its FIN and both end in
 * TIME-WAIT.
 */
export function simultaneousClose(opts: ScenarioOptions = {}): ScenarioResult {
  const s = newScenario({ seed: 13 }, opts);
  const { client, server } = connectPair(s);
  s.advance(20);
  s.note(s.client.name, 'close()');
  s.note(s.server.name, 'close()');
  client.close();
  server.close();
  waitFor(s, () => client.connection?.state === 'TIME-WAIT' && server.connection?.state === 'TIME-WAIT', 'both in TIME-WAIT');
  return {
    scenario: s,
    facts: {
      clientStates: statesOf(s, s.client.name),
      serverStates: statesOf(s, s.server.name),
      clientState: client.connection?.state ?? 'CLOSED',
      serverState: server.connection?.state ?? 'CLOSED',
    },
  };
}

/**
 * TIME-WAIT lasts 2*MSL (RFC 9293 §3.4.2; 60 s as Linux). The client closes first; its last ACK
 * is lost, so the server retransmits its FIN. The client, in TIME-WAIT, is still there to answer
 * it, which is why TIME-WAIT exists: without it the retransmitted FIN would draw a RST. The
 * retransmitted FIN restarts the 2*MSL timer (§3.10.7.4); 60 s of virtual time later the client's
 * connection is deleted.
 */
export function timeWait(opts: ScenarioOptions = {}): ScenarioResult {
  // The client's pure ACKs: handshake, the ACK of the server's FIN (lost), the re-ACK.
  const s = newScenario({ seed: 14 }, opts, { clientImpair: dropMatching(isPureAck, [2]) });
  const { client, server } = connectPair(s);
  s.advance(20);
  s.note(s.client.name, 'close()');
  client.close();
  const r = new Reader(server);
  readToEnd(s, r, 'EOF at the server');
  s.note(s.server.name, 'close()');
  server.close();
  waitFor(s, () => server.state === 'CLOSED', 'the server receiving the ACK of its retransmitted FIN', 10_000);
  const entered = stateAt(s, s.client.name, 'TIME-WAIT');
  // The state trace, not the socket: the TIME-WAIT may live on as a compact record after the
  // connection's TCB has let go of it.
  waitFor(s, () => stateAt(s, s.client.name, 'CLOSED', entered ?? 0) !== undefined, 'TIME-WAIT expiry', 200_000);
  const fins = framesWhere(s, s.server.name, isFin);
  const lastFinArrived = fins[fins.length - 1]?.arrivedAt;
  const closed = stateAt(s, s.client.name, 'CLOSED', entered ?? 0);
  return {
    scenario: s,
    facts: {
      timeWaitEnteredAt: secs(entered),
      serverFinsSent: fins.length,
      retransmittedFinArrivedAt: secs(lastFinArrived),
      timeWaitEndedAt: secs(closed),
      secondsAfterLastFin: closed !== undefined && lastFinArrived !== undefined ? (closed - lastFinArrived) / 1e6 : NaN,
      msl: s.client.stack.tcp.config.msl / 1e6,
    },
    view: { pause: 1_000_000 },
  };
}

/**
 * The abortive close (RFC 9293 §3.10.5): SO_LINGER {on, 0} makes close() send RST instead of
 * FIN. Data still queued is discarded; the peer's next call fails with ECONNRESET; no TIME-WAIT
 * is left behind. Here the client queues 16 KiB (its whole send buffer) to a server whose 8 KiB
 * receive window holds it back, and aborts as soon as the first acknowledgment arrives: only what
 * had already been delivered survives; the rest never leaves.
 */
export function abortLinger0(opts: ScenarioOptions = {}): ScenarioResult {
  const s = newScenario({ seed: 15 }, opts, { serverTcp: { rcvBuf: 8 * 1024 } });
  const { client, server } = connectPair(s);
  client.setOption('linger', 0);
  const size = 16 * 1024;
  s.note(s.client.name, `setsockopt(SO_LINGER {on, 0}); send(${size})`);
  const queued = client.send(filler(size));
  const queuedBytes = typeof queued === 'number' ? queued : 0;
  const tcb = client.connection;
  // bytesAcked counts the SYN too: more than 1 means data has been acknowledged.
  waitFor(s, () => (tcb?.bytesAcked ?? 0) > 1, 'the first acknowledgment of data');
  s.note(s.client.name, 'close()');
  client.close();
  const r = new Reader(server);
  readToEnd(s, r, 'the reset at the server');
  s.advance(50);
  return {
    scenario: s,
    facts: {
      bytesQueued: queuedBytes,
      bytesDiscarded: queuedBytes - r.bytes,
      bytesDelivered: r.bytes,
      serverError: r.error ?? 'none',
      rstsSent: framesWhere(s, s.client.name, isRst).length,
      TCPAbortOnLinger: s.client.stack.tcp.counters.TCPAbortOnLinger,
      clientTimeWait: s.client.stack.tcp.counters.TimeWaitEntered,
    },
    view: { collapse: 4 },
  };
}

/**
 * FIN versus RST: the same application does the same thing (writes 3000 bytes and closes at
 * once) twice. With a plain close() TCP delivers the data, then the FIN; the server reads all of
 * it and then end-of-file, and the client keeps TIME-WAIT. With SO_LINGER {on, 0} the close is
 * an abort: one RST, the queued data never leaves, the server's read fails with ECONNRESET, and
 * nothing is left in TIME-WAIT.
 */
export function finVersusRst(opts: ScenarioOptions = {}): ScenarioResult {
  const run = (linger: boolean, o: ScenarioOptions): ScenarioResult => {
    const s = newScenario({ seed: 16 }, o);
    const { client, server } = connectPair(s);
    if (linger) client.setOption('linger', 0);
    s.advance(20);
    s.note(s.client.name, linger ? 'SO_LINGER {on, 0}; send(3000); close()' : 'send(3000); close()');
    client.send(filler(3000));
    client.close();
    const r = new Reader(server);
    readToEnd(s, r, 'the server reading to the end');
    s.note(s.server.name, r.error !== undefined ? `recv() = ${r.error}` : `recv() = ${r.bytes} bytes, then 0 (EOF)`);
    if (r.error === undefined) server.close();
    s.advance(100);
    return {
      scenario: s,
      caption: linger ? 'close() with SO_LINGER {on, 0}: RST' : 'close(): FIN',
      facts: {
        bytesDelivered: r.bytes,
        serverSaw: r.error ?? 'EOF',
        segmentsSent: framesWhere(s, s.client.name).length,
        clientTimeWait: s.client.stack.tcp.counters.TimeWaitEntered > 0,
      },
    };
  };
  const fin = run(false, opts);
  const rst = run(true, contrastOptions(opts));
  return { ...fin, contrast: rst };
}
