// The congestion state of a connection, for behaviour and for observability: Linux's
// `enum tcp_ca_state` (include/net/tcp.h, tcp_set_ca_state) with lower-case names. These, with
// cwnd, ssthresh, flight and SRTT, are what the 'tcp-cwnd' trace event carries
// (src/trace/events.ts). Read first: the comment above tcp_ca_state in Linux's tcp.h,
// RFC 5681 §3.2 (fast recovery), RFC 6675 §5 (loss recovery), RFC 3168 §6.1.2 (reaction to ECE).

/**
 * One of Linux's five congestion states:
 * - 'open': nothing unusual.
 * - 'disorder': duplicate ACKs or SACKs seen, or retransmissions still outstanding, but no
 *   reduction (yet): Open that needs a closer look.
 * - 'cwr': cwnd is being reduced for a congestion notification (ECE) without loss.
 * - 'recovery': fast retransmit / fast recovery (RFC 5681 §3.2, RFC 6582, RFC 6675).
 * - 'loss': after a retransmission timeout (or SACK reneging), until everything outstanding at the
 *   time is acknowledged.
 */
export type CaState = 'open' | 'disorder' | 'cwr' | 'recovery' | 'loss';

/** Every state, from least to most severe (Linux's numeric order). */
export const CA_STATES: readonly CaState[] = ['open', 'disorder', 'cwr', 'recovery', 'loss'];

/** What the state is computed from: facts the recovery machinery knows. */
export interface CaFacts {
  /** An RTO recovery episode is under way (RFC 6675 §5.1 / RFC 6298 §5; RACK-TLP's "RTO recovery"). */
  rtoRecovery: boolean;
  /** A fast-recovery episode is under way (RFC 5681 §3.2, RFC 6582, RFC 6675 §5). */
  fastRecovery: boolean;
  /** A reduction for ECE (RFC 3168 §6.1.2) or a repaired tail loss probe is under way (Linux CWR). */
  cwrReduction: boolean;
  /** Duplicate ACKs counted (without SACK) or segments SACKed or marked lost above SND.UNA. */
  outOfOrder: number;
  /** Retransmitted segments not yet acknowledged. */
  retransOut: number;
}

/**
 * The congestion state from recovery facts, most severe first, as Linux's transitions keep it:
 * Loss over Recovery over CWR over Disorder over Open (tcp_fastretrans_alert, tcp_try_keep_open).
 */
export function caStateOf(f: CaFacts): CaState {
  if (f.rtoRecovery) return 'loss';
  if (f.fastRecovery) return 'recovery';
  if (f.cwrReduction) return 'cwr';
  if (f.outOfOrder > 0 || f.retransOut > 0) return 'disorder';
  return 'open';
}

/** True in the states where cwnd is being reduced and the algorithm's growth is paused (Linux tcp_in_cwnd_reduction). */
export function inCwndReduction(s: CaState): boolean {
  switch (s) {
    case 'cwr':
    case 'recovery':
      return true;
    case 'open':
    case 'disorder':
    case 'loss':
      return false;
  }
}
