// Stack-wide TCP settings, named after the Linux sysctls they emulate (net.ipv4.tcp_*), with
// Linux's defaults. Per-socket options (TCP_NODELAY, SO_KEEPALIVE, ...) live on the socket.
import { type Duration, millis, seconds } from '../time/instant.js';

/** Stack-wide TCP configuration. */
export interface TcpConfig {
  /** Maximum segment lifetime; TIME-WAIT lasts 2*MSL (RFC 9293 §3.4.2). Linux's TIME-WAIT is a fixed 60 s, so MSL defaults to 30 s. */
  msl: Duration;
  /** How long an orphaned connection may stay in FIN-WAIT-2 (tcp_fin_timeout, 60 s). */
  finTimeout: Duration;
  /** SYN retransmissions before connect() fails with ETIMEDOUT (tcp_syn_retries, 6). */
  synRetries: number;
  /** SYN-ACK retransmissions before a half-open child is dropped (tcp_synack_retries, 5). */
  synackRetries: number;
  /** Data retransmissions before the connection is aborted (tcp_retries2, 15). */
  retries2: number;
  /** RTO before the first RTT sample (RFC 6298 §2.1: 1 s). */
  initialRto: Duration;
  /** Lower bound on the RTO. Deviation: RFC 6298 §2.4 says 1 s; Linux uses 200 ms (TCP_RTO_MIN). */
  minRto: Duration;
  /** Upper bound on the RTO (TCP_RTO_MAX, 120 s). */
  maxRto: Duration;
  /** Delayed-ACK timeout (Linux: TCP_DELACK_MIN 40 ms, growing toward TCP_DELACK_MAX 200 ms). */
  delayedAck: Duration;
  /** Default send buffer (tcp_wmem default, 16 KiB). */
  sndBuf: number;
  /** Default receive buffer (tcp_rmem default, 128 KiB). */
  rcvBuf: number;
  /** Largest receive buffer (tcp_rmem max, 6 MiB): it fixes the window scale we announce (Linux announces 7). */
  rcvBufMax: number;
  /** Initial congestion window in segments (RFC 6928; Linux TCP_INIT_CWND 10). */
  initialCwnd: number;
  /** Ephemeral port range (ip_local_port_range). */
  portRange: { low: number; high: number };
  /** Reset instead of silently dropping when the accept queue overflows (tcp_abort_on_overflow, off). */
  abortOnOverflow: boolean;
  /** Upper bound for listen() backlogs (net.core.somaxconn, 4096). */
  somaxconn: number;
  /** RFC 5961 challenge ACKs per second per connection (Linux: tcp_challenge_ack_limit, here per connection). */
  challengeAckLimit: number;
  /** Apply RFC 5961 blind-attack defences (on, as Linux). Turn off only to demonstrate the attack. */
  rfc5961: boolean;
  /** Ignore RST in TIME-WAIT (RFC 1337). Deviation: Linux's tcp_rfc1337 defaults to 0; the RFC's advice is on here. */
  rfc1337: boolean;
  /** Announce and accept window scaling (tcp_window_scaling, on). */
  windowScaling: boolean;
  /** Announce and accept timestamps (tcp_timestamps, on). */
  timestamps: boolean;
  /** Announce and accept SACK (tcp_sack, on). */
  sack: boolean;
  /** Keepalive defaults (tcp_keepalive_time / _intvl / _probes). */
  keepaliveIdle: Duration;
  keepaliveInterval: Duration;
  keepaliveCount: number;
  /** Verify and fill TCP checksums (off only on links known clean, like Linux loopback). */
  checksums: boolean;
}

/** Linux's defaults where they show on the wire or in behaviour. */
export function defaultTcpConfig(): TcpConfig {
  return {
    msl: seconds(30),
    finTimeout: seconds(60),
    synRetries: 6,
    synackRetries: 5,
    retries2: 15,
    initialRto: seconds(1),
    minRto: millis(200),
    maxRto: seconds(120),
    delayedAck: millis(40),
    sndBuf: 16 * 1024,
    rcvBuf: 128 * 1024,
    rcvBufMax: 6 * 1024 * 1024,
    initialCwnd: 10,
    portRange: { low: 32768, high: 60999 },
    abortOnOverflow: false,
    somaxconn: 4096,
    challengeAckLimit: 10,
    rfc5961: true,
    rfc1337: true,
    windowScaling: true,
    timestamps: true,
    sack: true,
    keepaliveIdle: seconds(7200),
    keepaliveInterval: seconds(75),
    keepaliveCount: 9,
    checksums: true,
  };
}
