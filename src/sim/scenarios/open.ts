// Opening connections beyond the plain handshake: simultaneous open, a SYN to a port nobody
// listens on, and a listener whose accept queue overflows. Read RFC 9293 §3.5 (Figure 8),
// §3.10.7.1 and §3.10.7.3, and Linux's tcp_conn_request / tcp_check_req for the listen queues.
import type { TcpSocket } from '../../api/socket.js';
import type { Instant } from '../../time/instant.js';
import type { ScenarioOptions, ScenarioResult } from './common.js';
import { ScenarioStalled, acceptNext, contrastOptions, framesWhere, isSynAck, listen, newScenario, secs, stateAt, waitFor } from './common.js';
import { statesOf } from './close.js';

/**
 * Simultaneous open (RFC 9293 §3.5, Figure 8): both applications bind a port and connect to
 * each other's at the same instant. Each SYN arrives at a socket in SYN-SENT, which moves to
 * SYN-RECEIVED and answers SYN+ACK; each SYN-ACK then completes the other side: four segments,
 * no listener, and both reach ESTABLISHED.
 */
export function simultaneousOpen(opts: ScenarioOptions = {}): ScenarioResult {
  const s = newScenario({ seed: 21 }, opts);
  const a = s.client.sockets.socket();
  const b = s.server.sockets.socket();
  const e = a.bind(s.client.addr, 5000) ?? b.bind(s.server.addr, 6000);
  if (e !== undefined) throw new ScenarioStalled(s, `bind: ${e}`);
  s.note(s.client.name, 'bind(5000); connect(:6000)');
  s.note(s.server.name, 'bind(6000); connect(:5000)');
  a.connect(s.server.addr, 6000);
  b.connect(s.client.addr, 5000);
  waitFor(s, () => a.state === 'ESTABLISHED' && b.state === 'ESTABLISHED', 'both ESTABLISHED', 10_000);
  s.advance(20);
  return {
    scenario: s,
    facts: {
      clientStates: statesOf(s, s.client.name),
      serverStates: statesOf(s, s.server.name),
      segments: s.wire.length,
      synAcks: framesWhere(s, s.client.name, isSynAck).length + framesWhere(s, s.server.name, isSynAck).length,
    },
  };
}

/**
 * A SYN to a closed port (RFC 9293 §3.10.7.1): no connection and no listener, so the server's
 * TCP answers with a reset, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, and the client's
 * connect() fails with ECONNREFUSED (§3.10.7.3: an acceptable RST in SYN-SENT).
 */
export function rstClosedPort(opts: ScenarioOptions = {}): ScenarioResult {
  const s = newScenario({ seed: 22 }, opts);
  const client = s.client.sockets.socket();
  s.note(s.client.name, 'connect(:81)');
  client.connect(s.server.addr, 81);
  waitFor(s, () => client.state === 'CLOSED', 'the refusal', 10_000);
  const error = client.takeError() ?? 'none';
  s.note(s.client.name, `connect: ${error}`);
  s.advance(20);
  return {
    scenario: s,
    facts: {
      error,
      serverOutRsts: s.server.stack.tcp.counters.OutRsts,
      clientAttemptFails: s.client.stack.tcp.counters.AttemptFails,
      refusedAfter: secs(stateAt(s, s.client.name, 'CLOSED')),
    },
  };
}

/**
 * A listener whose application does not accept() for a while. The accept queue holds
 * backlog + 1 established connections, as Linux's sk_acceptq_is_full (`>` backlog); the SYN
 * queue holds `backlog` half-open ones. What happens to the next client depends on when the
 * queue fills. With backlog 1 and three clients arriving 100 ms apart, the first two complete and
 * wait in the queue; the third's SYN finds it full and is dropped (ListenOverflows), so that
 * client retransmits its SYN (1 s, then 2 s later) until the application has accepted. With
 * backlog 2 and four clients in two pairs, the second pair's SYNs are both admitted while there
 * is still room; the first of them to complete fills the queue, so the other's ACK is dropped
 * (ListenOverflows): that client believes it is connected while the server keeps retransmitting
 * its SYN-ACK (Linux with tcp_abort_on_overflow = 0) until there is room.
 */
export function acceptQueueOverflow(opts: ScenarioOptions = {}): ScenarioResult {
  const run = (backlog: number, arrivalsMs: readonly number[], o: ScenarioOptions): ScenarioResult => {
    const s = newScenario({ seed: 23 }, o);
    const listener = listen(s, 80, backlog);
    const start = s.now;
    arrivalsMs.forEach((at, i) => {
      s.sim.run({ maxTime: (start + at * 1000) as Instant });
      s.note(s.client.name, `connect() #${i + 1}`);
      const c = s.client.sockets.socket();
      c.connect(s.server.addr, 80);
    });
    const acceptAt = 2_500;
    s.advance(acceptAt - (s.now - start) / 1000);
    const counters = s.server.stack.tcp.counters;
    const overflowsBeforeAccept = counters.ListenOverflows;
    s.note(s.server.name, 'accept() them all');
    const accepted: TcpSocket[] = [];
    for (let i = 0; i < arrivalsMs.length; i++) accepted.push(acceptNext(s, listener, `connection ${i + 1} accepted`, 30_000));
    s.advance(200);
    const established = s.states.filter((r) => r.host === s.server.name && r.state === 'ESTABLISHED').map((r) => r.at);
    return {
      scenario: s,
      caption: `backlog ${backlog}, ${arrivalsMs.length} clients`,
      facts: {
        backlog,
        clients: arrivalsMs.length,
        accepted: accepted.length,
        ListenOverflows: counters.ListenOverflows,
        overflowsBeforeAccept,
        ListenDrops: counters.ListenDrops,
        clientSynRetrans: s.client.stack.tcp.counters.TCPSynRetrans,
        serverSynAckRetrans: framesWhere(s, s.server.name, isSynAck).length - arrivalsMs.length,
        lastEstablishedAt: secs(Math.max(...established)),
      },
    };
  };
  const first = run(1, [0, 100, 200], opts);
  const second = run(2, [0, 0, 100, 100], contrastOptions(opts));
  return { ...first, contrast: second };
}
