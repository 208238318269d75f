// The scenario catalogue: every story the tour tells and `synack demo` runs, by id. Each entry
// runs real Stacks over the simulated link in virtual time, deterministically from its seed;
// the options let a caller add impairments, change the seed or capture the frames.
import type { ScenarioOptions, ScenarioResult } from './common.js';
import { contrastOptions } from './common.js';
import { handshake } from './basic.js';
import { fastRetransmit, lostSyn, lostSynAck, lostThirdAckClientData, lostThirdAckIdle, lostThirdAckServerFirst } from './loss.js';
import { abortLinger0, finVersusRst, fourWayClose, halfClose, simultaneousClose, timeWait } from './close.js';
import { acceptQueueOverflow, rstClosedPort, simultaneousOpen } from './open.js';
import { spoofedRst } from './attack.js';
import { keepaliveDeadPeer, zeroWindow } from './timers.js';
import { mssNegotiation } from './options.js';
import { deferAccept, fastOpen, portExhaustion, synFloodStory } from './defences.js';
import { slowStart } from './congestion.js';

export type { ScenarioOptions, ScenarioResult } from './common.js';
export { ScenarioStalled } from './common.js';

/**
 * TIME-WAIT port exhaustion at a size that can be drawn: 3 ephemeral ports and a 10 s TIME-WAIT
 * cap the client at 0.3 connections per second; the contrasting run turns on tcp_tw_reuse.
 */
function timeWaitExhaustion(opts: ScenarioOptions = {}): ScenarioResult {
  const small = { ports: 3, mslSeconds: 5, runSeconds: 11 };
  const view = { collapse: 6 };
  const capped = portExhaustion({ ...opts, ...small, twReuse: 0 });
  const reused = portExhaustion({ ...contrastOptions(opts), ...small, twReuse: 1 });
  return { ...capped, view, contrast: { ...reused, view } };
}

/** One scenario of the catalogue. */
export interface CatalogueEntry {
  /** The name `synack demo` takes. */
  readonly id: string;
  /** What it shows, in a few words. */
  readonly title: string;
  /** Runs it. */
  readonly run: (opts?: ScenarioOptions) => ScenarioResult;
}

/** Every scenario, in the order of the story. */
export const SCENARIOS: readonly CatalogueEntry[] = [
  { id: 'handshake', title: 'the three-way handshake and one request', run: handshake },
  { id: 'lost-syn', title: 'a lost SYN, retransmitted after 1 s', run: lostSyn },
  { id: 'lost-syn-ack', title: 'a lost SYN-ACK: both sides retransmit', run: lostSynAck },
  { id: 'lost-ack-idle', title: 'a lost third ACK, nobody sending: the SYN-ACK is retransmitted', run: lostThirdAckIdle },
  { id: 'lost-ack-client-data', title: 'a lost third ACK, the client sending at once: its data completes the handshake', run: lostThirdAckClientData },
  { id: 'lost-ack-server-first', title: 'a lost third ACK, the server speaking first: SYN-ACK retransmissions until an ACK arrives', run: lostThirdAckServerFirst },
  { id: 'four-way-close', title: 'the four-way close', run: fourWayClose },
  { id: 'half-close', title: 'half-close: data keeps flowing in CLOSE-WAIT', run: halfClose },
  { id: 'simultaneous-open', title: 'simultaneous open', run: simultaneousOpen },
  { id: 'simultaneous-close', title: 'simultaneous close through CLOSING', run: simultaneousClose },
  { id: 'time-wait', title: 'TIME-WAIT and 2*MSL', run: timeWait },
  { id: 'time-wait-exhaustion', title: 'TIME-WAIT port exhaustion, then tcp_tw_reuse', run: timeWaitExhaustion },
  { id: 'fin-vs-rst', title: 'FIN versus RST: the same close done both ways', run: finVersusRst },
  { id: 'abort-linger0', title: 'abort with SO_LINGER {on, 0}: RST, queued data discarded', run: abortLinger0 },
  { id: 'rst-closed-port', title: 'a SYN to a closed port: RST and ECONNREFUSED', run: rstClosedPort },
  { id: 'spoofed-rst', title: 'the blind RST attack without and with RFC 5961', run: spoofedRst },
  { id: 'syn-flood', title: 'a SYN flood without and with SYN cookies', run: synFloodStory },
  { id: 'accept-queue-overflow', title: 'accept-queue overflow', run: acceptQueueOverflow },
  { id: 'fast-open', title: 'TCP Fast Open saves a round trip', run: fastOpen },
  { id: 'defer-accept', title: 'TCP_DEFER_ACCEPT: accept() only when data arrives', run: deferAccept },
  { id: 'keepalive', title: 'keep-alive finding a dead peer', run: keepaliveDeadPeer },
  { id: 'mss', title: 'MSS negotiation between a 1500 and a 9000 MTU', run: mssNegotiation },
  { id: 'zero-window', title: 'zero window and persist probes', run: zeroWindow },
  { id: 'fast-retransmit', title: 'fast retransmit on the third duplicate ACK', run: fastRetransmit },
  { id: 'slow-start', title: 'slow start, a loss and congestion avoidance, with a cwnd plot', run: slowStart },
];

/** The scenario with this id. */
export function findScenario(id: string): CatalogueEntry | undefined {
  return SCENARIOS.find((e) => e.id === id);
}
