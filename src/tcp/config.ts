// Stack-wide TCP settings, named after the Linux sysctls they emulate (net.ipv4.tcp_*), with
// Linux's defaults. Per-socket options (TCP_NODELAY, SO_KEEPALIVE, ...) live on the socket.
import { type Duration, millis, seconds } from '../time/instant.js';
import type { CongestionAlgorithm } from './congestion/cc.js';
import type { EcnMode } from './congestion/ecn.js';

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
  /** Shortest delayed-ACK timeout (Linux TCP_DELACK_MIN and TCP_ATO_MIN, 40 ms). */
  delayedAck: Duration;
  /** Longest delayed-ACK timeout (Linux TCP_DELACK_MAX, 200 ms; RFC 9293 §3.8.6.3 MUST-40: under 0.5 s). */
  delayedAckMax: Duration;
  /** Default send buffer (tcp_wmem default, 16 KiB). */
  sndBuf: number;
  /** Default receive buffer (tcp_rmem default, 128 KiB). */
  rcvBuf: number;
  /** Largest receive buffer (tcp_rmem max, 6 MiB): it fixes the window scale we announce (Linux announces 7) and bounds auto-tuning. */
  rcvBufMax: number;
  /** Largest send buffer the stack grows a connection's to (tcp_wmem max, 4 MiB). */
  sndBufMax: number;
  /** Grow receive buffers toward bandwidth x delay (tcp_moderate_rcvbuf, on). */
  moderateRcvBuf: boolean;
  /** Largest SO_RCVBUF / SO_SNDBUF an application may ask for, before doubling (net.core.rmem_max / wmem_max, 212992). */
  rmemMax: number;
  wmemMax: number;
  /** Initial congestion window in segments (RFC 6928; Linux TCP_INIT_CWND 10). */
  initialCwnd: number;
  /**
   * Congestion-control algorithm for new connections (net.ipv4.tcp_congestion_control; a socket
   * may choose its own, TCP_CONGESTION): 'newreno' (RFC 5681/6582) or 'cubic' (RFC 9438).
   * Default 'cubic', as Linux. Each connection's CongestionController (src/tcp/recovery) runs it.
   */
  congestion: CongestionAlgorithm;
  /**
   * ECN (RFC 3168), Linux's net.ipv4.tcp_ecn: 0 off, 1 request and accept, 2 accept when asked
   * (Linux's default): a SYN asks for ECN only with 1; a SYN that asks is answered with 2 too.
   */
  ecn: EcnMode;
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
  /**
   * RACK-TLP (RFC 8985) loss detection and tail loss probes when SACK is negotiated: Linux's
   * tcp_recovery bit 0x1 with tcp_early_retrans 3 (both on by default). Off: RFC 6675 recovery
   * with duplicate-ACK counting and no probes (issue 5's comparison of RTOs with and without it).
   */
  rack: boolean;
  /** Keepalive defaults (tcp_keepalive_time / _intvl / _probes). */
  keepaliveIdle: Duration;
  keepaliveInterval: Duration;
  keepaliveCount: number;
  /** Verify and fill TCP checksums (off only on links known clean, like Linux loopback). */
  checksums: boolean;
  // Server defences and TIME-WAIT economics (src/tcp/syncookies.ts, fastopen.ts, timewait.ts).
  /** SYN cookies (tcp_syncookies): 0 never, 1 when the SYN queue is full (Linux's default), 2 for every SYN. */
  syncookies: 0 | 1 | 2;
  /**
   * TCP Fast Open (tcp_fastopen), Linux's bit mask: 0x1 clients, 0x2 listeners with a TCP_FASTOPEN
   * queue, 0x4 client data without a cookie, 0x200 server data without a cookie, 0x400 every
   * listener. Default 0x1, as Linux.
   */
  fastOpen: number;
  /**
   * The server's Fast Open cookie key (tcp_fastopen_key, or TCP_FASTOPEN_KEY's 16 bytes): cookies
   * are then exactly the ones Linux issues with that key (fastopen.ts fastOpenCookie), which
   * packetdrill scripts write out. Undefined (the default): a key derived from the stack's secret,
   * as Linux picks a random key when none is set.
   */
  fastOpenKey: Uint8Array | undefined;
  /** Outgoing connections may reuse a TIME-WAIT 4-tuple (tcp_tw_reuse): 0 never, 1 always, 2 over loopback only (Linux's default). */
  twReuse: 0 | 1 | 2;
  /** Most TIME-WAIT entries held at once (tcp_max_tw_buckets, 262144); beyond it a closing connection skips TIME-WAIT. */
  maxTwBuckets: number;
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
    delayedAckMax: millis(200),
    sndBuf: 16 * 1024,
    rcvBuf: 128 * 1024,
    rcvBufMax: 6 * 1024 * 1024,
    sndBufMax: 4 * 1024 * 1024,
    moderateRcvBuf: true,
    rmemMax: 212992,
    wmemMax: 212992,
    initialCwnd: 10,
    congestion: 'cubic',
    ecn: 2,
    portRange: { low: 32768, high: 60999 },
    abortOnOverflow: false,
    somaxconn: 4096,
    challengeAckLimit: 10,
    rfc5961: true,
    rfc1337: true,
    windowScaling: true,
    timestamps: true,
    sack: true,
    rack: true,
    keepaliveIdle: seconds(7200),
    keepaliveInterval: seconds(75),
    keepaliveCount: 9,
    checksums: true,
    syncookies: 1,
    fastOpen: 0x1,
    fastOpenKey: undefined,
    twReuse: 2,
    maxTwBuckets: 262144,
  };
}
