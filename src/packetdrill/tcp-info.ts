// A small tcp_info (Linux's struct tcp_info, getsockopt TCP_INFO) read from a TCB, for the
// `%{ assert tcpi_X == N }%` blocks of packetdrill scripts. Only fields synack can state exactly
// are present; a script asking for another field is reported as unsupported. (A fuller
// tcp_info-like statistics module is planned in src/trace; this one covers what scripts check.)
import type { CaState } from '../tcp/congestion/ca-state.js';
import type { Tcb } from '../tcp/tcb.js';
import type { TcpState } from '../tcp/state.js';
import { seqDiff } from '../tcp/seq.js';

/** Linux's TCP_ESTABLISHED.. TCP_CLOSING numbering (include/net/tcp_states.h). */
const LINUX_STATE: Readonly<Record<TcpState, number>> = {
  'ESTABLISHED': 1, 'SYN-SENT': 2, 'SYN-RECEIVED': 3, 'FIN-WAIT-1': 4, 'FIN-WAIT-2': 5, 'TIME-WAIT': 6,
  'CLOSED': 7, 'CLOSE-WAIT': 8, 'LAST-ACK': 9, 'LISTEN': 10, 'CLOSING': 11,
};

/** TCPI_OPT_* bits of tcpi_options. */
const TCPI_OPT_TIMESTAMPS = 1;
const TCPI_OPT_SACK = 2;
const TCPI_OPT_WSCALE = 4;

/** Linux's enum tcp_ca_state numbers (TCP_CA_Open .. TCP_CA_Loss). */
const CA_STATE: Readonly<Record<CaState, number>> = { open: 0, disorder: 1, cwr: 2, recovery: 3, loss: 4 };

/** Linux's TCP_INFINITE_SSTHRESH. */
const INFINITE_SSTHRESH = 0x7fffffff;

/** The tcp_info fields synack can report, by their Linux names (units as Linux: µs, packets, bytes). */
export type TcpInfo = Readonly<Record<string, number>>;

/** A tcp_info snapshot of one connection; `state` overrides the TCB's (a socket reports CLOSED once its TIME-WAIT ended). */
export function tcpInfo(tcb: Tcb, state: TcpState = tcb.state): TcpInfo {
  const mss = Math.max(1, tcb.mss);
  const caState = CA_STATE[tcb.caState];
  const finIn = state === 'CLOSE-WAIT' || state === 'LAST-ACK' || state === 'CLOSING' || state === 'TIME-WAIT' ? 1 : 0;
  return {
    tcpi_state: LINUX_STATE[state],
    tcpi_ca_state: caState,
    tcpi_retransmits: tcb.retransmits,
    tcpi_probes: tcb.probes + tcb.keepaliveProbes,
    tcpi_backoff: tcb.rtt.backoffCount,
    tcpi_options: (tcb.tsOk ? TCPI_OPT_TIMESTAMPS : 0) | (tcb.sackOk ? TCPI_OPT_SACK : 0) | (tcb.wsOk ? TCPI_OPT_WSCALE : 0),
    tcpi_snd_wscale: tcb.sndWscale,
    tcpi_rcv_wscale: tcb.rcvWscale,
    tcpi_rto: tcb.rtt.rto,
    tcpi_snd_mss: tcb.mss,
    tcpi_rtt: tcb.rtt.srtt ?? 0,
    tcpi_rttvar: tcb.rtt.rttvar,
    tcpi_snd_ssthresh: tcb.ssthresh >= INFINITE_SSTHRESH ? INFINITE_SSTHRESH : Math.floor(tcb.ssthresh / mss),
    tcpi_snd_cwnd: Math.floor(tcb.cwnd / mss),
    // Linux reports the MSS it announced less the timestamp option it will carry.
    tcpi_advmss: tcb.advMss - (tcb.tsOk ? 12 : 0),
    tcpi_reordering: 3,
    tcpi_snd_wnd: tcb.sndWnd,
    tcpi_rcv_wnd: Math.max(0, seqDiff(tcb.rcvAdv, tcb.rcvNxt)),
    tcpi_notsent_bytes: Math.max(0, seqDiff(tcb.sndEnd, tcb.sndNxt)),
    tcpi_bytes_acked: Math.max(0, seqDiff(tcb.sndUna, tcb.iss) - 1 - (tcb.finAcked ? 1 : 0)),
    tcpi_bytes_received: Math.max(0, seqDiff(tcb.rcvNxt, tcb.irs) - 1 - finIn),
  };
}
