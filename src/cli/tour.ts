// The tour of TCP (what `npm start` runs): the seeds' story as a series of scenarios run in the
// simulator, each with a short explanation and its sequence diagram. Chapters whose mechanism
// has not landed yet are listed as "not yet implemented", never faked.
//
// Switching a pending chapter on: write its scenario in src/sim/scenarios/ (a function
// `(opts?: ScenarioOptions) => ScenarioResult` that runs real Stacks, like the others), add it
// to the catalogue in src/sim/scenarios/index.ts, and set the chapter's `run` below (and drop
// its `needs`). The tour, `--json`, `synack demo` and the pcap test pick it up from there.
import type { ScenarioOptions, ScenarioResult } from '../sim/scenarios/index.js';
import { findScenario } from '../sim/scenarios/index.js';
import type { DiagramOptions, DiagramStyle } from '../trace/diagram.js';
import { formatTcpInfo } from '../trace/stats.js';

/** One chapter of the tour. */
export interface Chapter {
  /** Stable id (`--only`, `--json`); the catalogue id when the chapter runs a scenario. */
  id: string;
  title: string;
  /** One paragraph: what happens and what to look for in the diagram. */
  text: string;
  /** Runs the scenario; undefined while the mechanism is not implemented. */
  run: ((opts?: ScenarioOptions) => ScenarioResult) | undefined;
  /** For a chapter whose mechanism is missing: what it waits for. */
  needs?: string;
}

/** The catalogue scenario `id` as a chapter's runner (throws at load time if the id is wrong). */
function scenario(id: string): (opts?: ScenarioOptions) => ScenarioResult {
  const e = findScenario(id);
  if (e === undefined) throw new Error(`tour: no scenario '${id}' in the catalogue`);
  return e.run;
}

/** The chapters, in the order issue 9 tells the story. */
export const CHAPTERS: readonly Chapter[] = [
  {
    id: 'handshake',
    title: 'The three-way handshake',
    text:
      'The client sends SYN with a random initial sequence number and its options: the largest segment it can ' +
      'take (MSS), SACK permitted, timestamps and a window scale. The server answers SYN+ACK with its own ' +
      'sequence number and options, acknowledging the client\'s SYN (ack=1: a SYN takes one sequence number). ' +
      'The client\'s ACK completes the handshake; each side is ESTABLISHED when it has seen its own SYN ' +
      'acknowledged. Sequence numbers are shown relative to each side\'s initial one, as Wireshark does. Then ' +
      'one request and one response, each acknowledged.',
    run: scenario('handshake'),
  },
  {
    id: 'lost-syn',
    title: 'A lost SYN',
    text:
      'The first SYN never arrives, so nothing comes back. The client\'s retransmission timer starts at the ' +
      'initial RTO of RFC 6298, one second, and when it fires the SYN goes again (and the timer doubles, ' +
      'should that one be lost too: 1 s, 2 s, 4 s ...). The connection opens one second late.',
    run: scenario('lost-syn'),
  },
  {
    id: 'lost-syn-ack',
    title: 'A lost SYN-ACK',
    text:
      'This time the server\'s answer is lost, and both sides have a timer running. The client\'s fires first ' +
      '(it started earlier) and its SYN goes again; the server, still in SYN-RECEIVED, takes a repeated SYN as ' +
      'the sign that its SYN-ACK was lost and sends it again at once, as Linux does, restarting its own timer.',
    run: scenario('lost-syn-ack'),
  },
  {
    id: 'lost-ack-idle',
    title: 'A lost third ACK, with nothing to send',
    text:
      'The handshake\'s last ACK is lost. The client does not know: it is ESTABLISHED. The server stays in ' +
      'SYN-RECEIVED until its SYN-ACK timer fires after one second and the SYN-ACK goes again; the client ' +
      'answers the duplicate with an ACK, which completes the server\'s side.',
    run: scenario('lost-ack-idle'),
  },
  {
    id: 'lost-ack-client-data',
    title: 'A lost third ACK, and the client speaks first',
    text:
      'The same loss, but the client sends its request at once, as an HTTP client does. Every segment after ' +
      'the SYN carries the ACK bit, so the request\'s own ACK completes the server\'s handshake and its data ' +
      'is accepted: the lost ACK costs nothing.',
    run: scenario('lost-ack-client-data'),
  },
  {
    id: 'lost-ack-server-first',
    title: 'A lost third ACK, and the server speaks first',
    text:
      'Here the server has something to say first (an SMTP or SSH banner) and the client waits. Until the ' +
      'handshake completes the server application cannot even accept() the connection, so it cannot send. ' +
      'The server keeps retransmitting its SYN-ACK, 1 s and then 2 s later, each answered by an ACK from the ' +
      'client; two of those are lost too, and the banner leaves three seconds late.',
    run: scenario('lost-ack-server-first'),
  },
  {
    id: 'four-way-close',
    title: 'The four-way close',
    text:
      'Each direction closes on its own. The client closes first: FIN (FIN-WAIT-1). The server acknowledges ' +
      'it (the client waits in FIN-WAIT-2, the server is in CLOSE-WAIT) and its application reads end-of-file. ' +
      'When it closes too, its FIN (LAST-ACK) is acknowledged, the server\'s side is gone, and the client, ' +
      'which closed first, holds the connection in TIME-WAIT.',
    run: scenario('four-way-close'),
  },
  {
    id: 'half-close',
    title: 'Half-close: data keeps flowing after a FIN',
    text:
      'A FIN says "no more data from me", not "goodbye". The client sends its request and shuts down only its ' +
      'sending side (shutdown(SHUT_WR)), the way a client tells a sorting server that the input is complete. ' +
      'The server, in CLOSE-WAIT, keeps sending its answer in several writes, and the client, in FIN-WAIT-2, ' +
      'keeps receiving it until the server closes too.',
    run: scenario('half-close'),
  },
  {
    id: 'simultaneous-open',
    title: 'Simultaneous open',
    text:
      'Two applications bind a port each and connect to each other at the same instant: no listener at all. ' +
      'Each SYN reaches a socket in SYN-SENT, which moves to SYN-RECEIVED and answers SYN+ACK; each SYN+ACK ' +
      'then completes the other side, and both are ESTABLISHED (each also acknowledges the other\'s SYN+ACK, as ' +
      'Linux does).',
    run: scenario('simultaneous-open'),
  },
  {
    id: 'simultaneous-close',
    title: 'Simultaneous close',
    text:
      'Both applications close at the same instant and the two FINs cross. Each side receives a FIN while in ' +
      'FIN-WAIT-1 that does not acknowledge its own FIN, so both go to CLOSING; when the ACKs arrive both end ' +
      'in TIME-WAIT.',
    run: scenario('simultaneous-close'),
  },
  {
    id: 'time-wait',
    title: 'TIME-WAIT and 2*MSL',
    text:
      'Why TIME-WAIT exists: the client\'s last ACK is lost, so the server retransmits its FIN. The client is ' +
      'still there, in TIME-WAIT, to acknowledge it (without TIME-WAIT the FIN would meet a RST), and the ' +
      'retransmitted FIN restarts its timer. TIME-WAIT lasts 2*MSL, 60 s as on Linux: in virtual time the ' +
      'minute passes in microseconds, and the connection is deleted 60 s after the last FIN.',
    run: scenario('time-wait'),
  },
  {
    id: 'time-wait-exhaustion',
    title: 'TIME-WAIT port exhaustion, then tcp_tw_reuse',
    text:
      'A client that opens and closes connections to one server as fast as it can runs out of ephemeral ' +
      'ports: each connection it closed first keeps its port in TIME-WAIT for 2*MSL, capping the rate at ' +
      'ports / (2*MSL). Here the client has only 3 ports and 2*MSL is shortened to 10 s, so after three ' +
      'connections connect() fails with EADDRNOTAVAIL until the first TIME-WAIT expires: 0.3 connections per ' +
      'second. With tcp_tw_reuse the client takes over TIME-WAIT 4-tuples more than a second old, because ' +
      'timestamps (PAWS) keep old segments of the previous incarnation from being mistaken for new ones.',
    run: scenario('time-wait-exhaustion'),
  },
  {
    id: 'fin-vs-rst',
    title: 'FIN versus RST',
    text:
      'The same application does the same thing twice: it writes 3000 bytes and closes at once. With a plain ' +
      'close() TCP delivers the data, then the FIN; the server reads everything, then end-of-file, and the ' +
      'client keeps TIME-WAIT. With SO_LINGER {on, 0} the close is an abort: one RST, the queued data never ' +
      'leaves, the server\'s read fails with ECONNRESET, and nothing is left in TIME-WAIT.',
    run: scenario('fin-vs-rst'),
  },
  {
    id: 'rst-closed-port',
    title: 'RST from a closed port',
    text:
      'Nothing listens on port 81. The server\'s TCP has no connection and no listener for the SYN, so it ' +
      'answers with a reset that acknowledges the SYN (RST+ACK, seq 0), and the client\'s connect() fails with ' +
      'ECONNREFUSED.',
    run: scenario('rst-closed-port'),
  },
  {
    id: 'spoofed-rst',
    title: 'The blind RST attack, without and with RFC 5961',
    text:
      'An off-path attacker knows the 4-tuple (addresses and ports) but cannot see the sequence numbers. Under ' +
      'the original rules a RST only has to land anywhere in the receive window, so with a 4 MiB window 1024 ' +
      'forged RSTs spaced 4 MiB apart cover the whole 32-bit space, and one of them is bound to hit. Without ' +
      'RFC 5961 that one kills the connection, and the client\'s next request meets a RST. With RFC 5961 a RST ' +
      'resets only if it matches RCV.NXT exactly; the in-window guess just draws a challenge ACK (which goes to ' +
      'the real client, who ignores it) and the connection survives.',
    run: scenario('spoofed-rst'),
  },
  {
    id: 'syn-flood',
    title: 'SYN flood, without and with SYN cookies',
    text:
      'A flood of SYNs from forged addresses fills the listener\'s SYN queue, and real clients are turned away. ' +
      'SYN cookies encode the connection in the SYN-ACK\'s sequence number, so the server keeps no state until ' +
      'the final ACK proves the client is real.',
    run: scenario('syn-flood'),
  },
  {
    id: 'accept-queue-overflow',
    title: 'Accept-queue overflow',
    text:
      'The server application is busy and does not call accept() for 2.5 s. Its accept queue holds backlog+1 ' +
      'connections, as on Linux. With backlog 1, two clients complete and wait; the third\'s SYN finds the ' +
      'queue full and is dropped (ListenOverflows), so it retransmits its SYN until the application has made ' +
      'room. With backlog 2 and clients arriving in pairs, the fourth client\'s SYN was admitted while there ' +
      'was room, but its ACK arrives after the queue filled: the ACK is dropped, the client believes it is ' +
      'connected, and the server keeps retransmitting its SYN-ACK until there is room.',
    run: scenario('accept-queue-overflow'),
  },
  {
    id: 'fast-open',
    title: 'TCP Fast Open saves a round trip',
    text:
      'With a cookie from an earlier connection, the client puts its request in the SYN and the server hands ' +
      'it to the application before the handshake completes: the response comes one round trip sooner.',
    run: scenario('fast-open'),
  },
  {
    id: 'defer-accept',
    title: 'TCP_DEFER_ACCEPT',
    text:
      'A listener with TCP_DEFER_ACCEPT is not woken when the handshake completes, only when the first data ' +
      'arrives, so a server never accepts connections that have nothing to say.',
    run: scenario('defer-accept'),
  },
  {
    id: 'keepalive',
    title: 'Keep-alive finds a dead peer',
    text:
      'The client turns on SO_KEEPALIVE with small settings (10 s idle, probes every 2 s, 3 of them; Linux ' +
      'defaults to 2 hours, 75 s and 9). Then the server\'s cable is pulled. After 10 s of silence the client ' +
      'sends a probe, an ACK for old data that any live peer must answer; after three unanswered probes and ' +
      'another interval it gives up: ETIMEDOUT, 16 s after the peer was last heard.',
    run: scenario('keepalive'),
  },
  {
    id: 'mss',
    title: 'MSS negotiation',
    text:
      'The client sits on a 1500-byte MTU, the server on jumbo frames (9000). Each SYN announces the largest ' +
      'segment its sender can receive (MTU - 40): 1460 and 8960. Each side then sends at most the smaller of ' +
      'the peer\'s MSS and its own, minus the 12 bytes of timestamps every segment carries: the server, which ' +
      'could send 8948-byte segments on its own link, keeps to 1448 for this client.',
    run: scenario('mss'),
  },
  {
    id: 'zero-window',
    title: 'Zero window and persist probes',
    text:
      'The server\'s application stops reading. Its 8 KiB receive buffer fills, the window it advertises ' +
      'shrinks to 0 and the client must stop. So that a lost window update cannot deadlock the connection, ' +
      'the client\'s persist timer sends window probes (one byte below what was acknowledged, so the server ' +
      'must answer), backing off: 200 ms, 400 ms, 800 ms ... When the application reads again the server ' +
      'announces the open window and the transfer resumes.',
    run: scenario('zero-window'),
  },
  {
    id: 'fast-retransmit',
    title: 'Fast retransmit',
    text:
      'One segment of a burst is lost. Every later segment arrives out of order, and the receiver answers each ' +
      'at once with a duplicate ACK that still asks for the missing bytes (its SACK blocks say what did ' +
      'arrive). On the third duplicate ACK the sender retransmits the missing segment without waiting for the ' +
      'retransmission timer (200 ms here), and one round trip later everything is acknowledged.',
    run: scenario('fast-retransmit'),
  },
  {
    id: 'slow-start',
    title: 'Slow start and congestion avoidance',
    text:
      'The client sends as fast as it may through a 10 Mbit/s bottleneck with a short queue. The congestion ' +
      'window starts at 10 segments (RFC 6928) and doubles every round trip in slow start, until the queue ' +
      'overflows and segments are lost. SACK shows the holes, the sender retransmits them and Proportional Rate ' +
      'Reduction brings cwnd down to ssthresh, half of what was in flight; from there congestion avoidance adds ' +
      'one segment per round trip (NewReno here, for the classic sawtooth; Linux\'s default, CUBIC, grows along ' +
      'a cubic curve instead) until the next loss. The diagram shows the first round trips; the plot below it, ' +
      'drawn from the sender\'s tcp-cwnd trace events, covers the whole transfer.',
    run: scenario('slow-start'),
  },
];

/** How `renderResult` draws. */
export interface RenderOptions {
  absolute?: boolean;
  style?: Partial<DiagramStyle>;
  /** Dims secondary text (facts); identity for plain output. */
  dim?: (s: string) => string;
  /** Terminal width: a contrasting run is drawn beside the first when both fit. */
  columns?: number;
}

/** The diagram options a result asks for, with the caller's on top. */
export function viewOf(r: ScenarioResult, o: RenderOptions): DiagramOptions {
  return { ...r.view, absolute: o.absolute === true, ...(o.style !== undefined ? { style: o.style } : {}) };
}

/** A result's facts as `key=value` pairs. */
export function formatFacts(facts: ScenarioResult['facts']): string {
  return Object.entries(facts).map(([k, v]) => `${k}=${String(v)}`).join('  ');
}

/** One run as text: caption, diagram, facts and tcp_info. */
function renderRun(r: ScenarioResult, o: RenderOptions): string[] {
  const dim = o.dim ?? ((s: string) => s);
  const lines: string[] = [];
  if (r.caption !== undefined) lines.push(`  ${r.caption}`, '');
  lines.push(...r.scenario.diagram(viewOf(r, o)).split('\n'));
  lines.push('');
  for (const l of wrap(formatFacts(r.facts), 92, '  ').split('\n')) lines.push(dim(l));
  if (r.info !== undefined) {
    lines.push(dim(`  ss -ti  ${r.info.state} ${r.info.local} -> ${r.info.remote}`));
    for (const l of wrap(formatTcpInfo(r.info), 88, '         ').split('\n')) lines.push(dim(l));
  }
  if (r.figure !== undefined) lines.push('', ...r.figure.split('\n'));
  return lines;
}

/** Visible width of a line (ANSI colour codes take no room). */
function visible(s: string): number {
  // eslint-disable-next-line no-control-regex
  return [...s.replace(/\u001b\[[0-9;]*m/g, '')].length;
}

/** Draws a result and its contrasting run: side by side when `columns` allows, else one after the other. */
export function renderResult(r: ScenarioResult, o: RenderOptions = {}): string {
  const a = renderRun(r, o);
  if (r.contrast === undefined) return a.join('\n');
  const b = renderRun(r.contrast, o);
  const wa = Math.max(...a.map(visible));
  const wb = Math.max(...b.map(visible));
  if (o.columns !== undefined && wa + 4 + wb <= o.columns) {
    const n = Math.max(a.length, b.length);
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const left = a[i] ?? '';
      out.push((left + ' '.repeat(wa + 4 - visible(left)) + (b[i] ?? '')).trimEnd());
    }
    return out.join('\n');
  }
  return [...a, '', ...b].join('\n');
}

/** Wraps a paragraph to `width` columns with an indent. */
export function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (word === '') continue;
    if (line !== '' && indent.length + line.length + word.length + 1 > width) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(indent + line);
  return lines.join('\n');
}

/** A run as JSON: facts, caption, tcp_info, the plain diagram, and its contrast. */
export function resultJson(r: ScenarioResult, absolute = false): Record<string, unknown> {
  return {
    ...(r.caption !== undefined ? { caption: r.caption } : {}),
    facts: r.facts,
    ...(r.info !== undefined ? { tcpInfo: r.info } : {}),
    ...(r.figure !== undefined ? { figure: r.figure } : {}),
    diagram: r.scenario.diagram({ ...r.view, absolute }),
    ...(r.contrast !== undefined ? { contrast: resultJson(r.contrast, absolute) } : {}),
  };
}
