// The congestion-control interface and the registry of algorithms by name, modelled on Linux's
// `struct tcp_congestion_ops` (include/net/tcp.h) and TCP_CONGESTION / net.ipv4.
// tcp_congestion_control. Read first: RFC 5681 §3 (the roles of cwnd and ssthresh), RFC 5033
// (what a congestion controller must do), then newreno.ts and cubic.ts.
//
// Units: bytes. cwnd, ssthresh and every amount handed to an algorithm are in bytes, as in
// RFC 5681, RFC 3465, RFC 6675 (pipe) and RFC 6937 (PRR), and as the TCB already keeps them
// (output.ts compares SND.UNA + cwnd with the send window). Linux counts whole segments
// (snd_cwnd) with a fractional counter; CUBIC's equations (RFC 9438) are in segments, so
// cubic.ts converts with the SMSS ("cwnd/SMSS", RFC 9438 §4.1) and keeps the fraction itself.
// cwnd and ssthresh are always whole bytes.
//
// Division of labour, as in Linux: an algorithm owns growth (slow start and congestion
// avoidance, `congAvoid`) and the target of a reduction (`ssthreshOnLoss`); the loss-recovery
// machinery (recovery/prr.ts, newreno.ts's NewRenoRecovery, the RTO) owns how cwnd moves during
// a reduction and writes `cwnd` directly, as Linux's tcp_input.c writes tp->snd_cwnd outside the
// ops. Algorithms are sans-IO: time comes in as `now`, nothing is read from the connection.
import type { Duration, Instant } from '../../time/instant.js';
import type { CaState } from './ca-state.js';
import { NewReno } from './newreno.js';
export { INFINITE_SSTHRESH, initialWindow, restartWindow } from './base.js';
import { Cubic } from './cubic.js';

/** Names of the built-in algorithms (the values of TCP_CONGESTION this stack accepts). */
export type CongestionAlgorithm = 'newreno' | 'cubic';

/** Every built-in algorithm, in registry order. */
export const CONGESTION_ALGORITHMS: readonly CongestionAlgorithm[] = ['newreno', 'cubic'];

/** What an algorithm is told about one ACK that acknowledged new data (Linux: cong_avoid(sk, ack, acked)). */
export interface AckSample {
  /** When the ACK arrived. */
  now: Instant;
  /** Bytes newly delivered by this ACK, cumulatively or selectively (RFC 6937 DeliveredData). */
  acked: number;
  /** Bytes in flight before this ACK was processed (Linux's prior_in_flight). */
  inflight: number;
  /**
   * The sender was limited by cwnd rather than by the application or the peer's window (Linux's
   * tcp_is_cwnd_limited). Growth happens only when true: RFC 7661 §4.1 and RFC 9438 §5.8, and the
   * condition RFC 9438 §4.6 attaches to computing ssthresh from cwnd.
   */
  cwndLimited: boolean;
  /** The smoothed RTT (RFC 6298 SRTT) if there is one; CUBIC's target uses it (RFC 9438 §4.2). */
  srtt: Duration | undefined;
}

/** A cwnd event outside ACK processing (Linux's enum tcp_ca_event). */
export type CwndEvent =
  /** The first transmission with nothing in flight, after `idle` without sending (CA_EVENT_TX_START). */
  | { kind: 'tx-start'; idle: Duration }
  /** cwnd was cut back after an idle period (RFC 5681 §4.1; CA_EVENT_CWND_RESTART). */
  | { kind: 'cwnd-restart' }
  /** A CWR or recovery reduction has ended (CA_EVENT_COMPLETE_CWR). */
  | { kind: 'complete-cwr' }
  /** The retransmission timer expired (CA_EVENT_LOSS). */
  | { kind: 'loss' };

/** How a connection's algorithm starts. */
export interface CongestionInit {
  /** The sender's SMSS in bytes (RFC 5681 §2). */
  mss: number;
  /** The initial window in segments (RFC 6928; Linux TCP_INIT_CWND = 10). */
  initialCwnd: number;
  /** When the connection was established. */
  now: Instant;
}

/**
 * One connection's congestion controller: tcp_congestion_ops with its per-connection state
 * (Linux keeps that state in icsk_ca_priv; here it is the object itself).
 */
export interface CongestionControl {
  /** The algorithm's registry name. */
  readonly name: CongestionAlgorithm;
  /** The congestion window in bytes (RFC 5681 §2). Recovery code may write it during a reduction. */
  cwnd: number;
  /** The slow start threshold in bytes (RFC 5681 §2); INFINITE_SSTHRESH until the first reduction. */
  ssthresh: number;
  /** The SMSS in bytes; the owner updates it when the MSS changes (PMTU). */
  mss: number;
  /**
   * The threshold after a congestion signal (loss, ECE): Linux's `.ssthresh`. Returns the new
   * ssthresh without setting it, and records what the algorithm needs to remember about the
   * reduction (CUBIC's W_max, the state to restore on undo). `inflight` is FlightSize in bytes.
   */
  ssthreshOnLoss(inflight: number, now: Instant): number;
  /** Growth on an ACK that delivered new data while not in a reduction: Linux's `.cong_avoid`. */
  congAvoid(s: AckSample): void;
  /** The connection's congestion state changed (Linux's `.set_state`). */
  setState(state: CaState, now: Instant): void;
  /**
   * The cwnd to restore when a reduction proves spurious (Linux's `.undo_cwnd`; RFC 9438 §4.9).
   * `priorCwnd` is the cwnd recorded when the reduction began; algorithm state is restored too.
   */
  undoCwnd(priorCwnd: number): number;
  /** An RTT sample from an ACK (Linux's `.pkts_acked`); `rtt` is undefined when the ACK gave none (Karn). */
  pktsAcked(acked: number, rtt: Duration | undefined, now: Instant): void;
  /** An event outside ACK processing (Linux's `.cwnd_event`). */
  cwndEvent(e: CwndEvent, now: Instant): void;
}

/** Builds one connection's controller. */
export type CongestionFactory = (init: CongestionInit) => CongestionControl;

const registry = new Map<CongestionAlgorithm, CongestionFactory>([
  ['newreno', (init) => new NewReno(init)],
  ['cubic', (init) => new Cubic(init)],
]);

/** True if `name` is a built-in algorithm (for validating TCP_CONGESTION and the stack setting). */
export function isCongestionAlgorithm(name: string): name is CongestionAlgorithm {
  return (CONGESTION_ALGORITHMS as readonly string[]).includes(name);
}

/**
 * A new controller for one connection, by name (tcp_init_congestion_control). Throws a RangeError
 * naming the value and the choices for an unknown name: a user mistake, never untrusted input.
 */
export function createCongestionControl(name: string, init: CongestionInit): CongestionControl {
  if (!isCongestionAlgorithm(name)) {
    throw new RangeError(`unknown congestion control algorithm '${name}' (available: ${CONGESTION_ALGORITHMS.join(', ')})`);
  }
  const factory = registry.get(name);
  if (factory === undefined) throw new RangeError(`congestion control algorithm '${name}' is not registered`);
  return factory(init);
}
