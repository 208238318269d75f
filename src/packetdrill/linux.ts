// Stack profiles for the packetdrill runner. "linux" is what scripts written against Linux
// expect on the wire; synack's own defaults (src/tcp/config.ts) already are Linux's where they
// show on the wire, so the profile only undoes synack's one deliberate difference in defaults.
// docs/packetdrill.md lists each value, where it comes from in Linux, and the differences that
// remain.
import { type TcpConfig, defaultTcpConfig } from '../tcp/config.js';
import { millis, seconds } from '../time/instant.js';

/** The profiles a run can use. */
export type ProfileName = 'linux' | 'synack';

/**
 * Linux's defaults where they show on the wire, as a TcpConfig:
 * - MSS 1460 on a 1500-byte MTU (from the route; the runner's link has `--mtu`, default 1500);
 * - window scale 7 and first windows 64240 (SYN) / 65160 (SYN-ACK with timestamps): tcp_rmem
 *   "4096 131072 6291456" (tcp_select_initial_window);
 * - initial cwnd 10 (TCP_INIT_CWND), initial RTO 1 s (TCP_TIMEOUT_INIT), RTO min 200 ms
 *   (TCP_RTO_MIN), max 120 s (TCP_RTO_MAX), delayed ACK 40 ms (TCP_DELACK_MIN);
 * - tcp_syn_retries 6, tcp_synack_retries 5, tcp_retries2 15, tcp_fin_timeout 60 s, TIME-WAIT 60 s;
 * - keepalive 7200 s / 75 s / 9 probes;
 * - SYN options in Linux's order (mss, sackOK+TS, nop+wscale), which src/wire/tcp-options.ts emits;
 * - tcp_rfc1337 = 0: an RST in TIME-WAIT ends it (synack's own default ignores it, RFC 1337).
 */
export function profileConfig(name: ProfileName): TcpConfig {
  const c = defaultTcpConfig();
  switch (name) {
    case 'synack':
      return c;
    case 'linux':
      return {
        ...c,
        msl: seconds(30),
        finTimeout: seconds(60),
        synRetries: 6,
        synackRetries: 5,
        retries2: 15,
        initialRto: seconds(1),
        minRto: millis(200),
        maxRto: seconds(120),
        delayedAck: millis(40),
        rcvBuf: 128 * 1024,
        rcvBufMax: 6 * 1024 * 1024,
        initialCwnd: 10,
        rfc1337: false,
        windowScaling: true,
        timestamps: true,
        sack: true,
        keepaliveIdle: seconds(7200),
        keepaliveInterval: seconds(75),
        keepaliveCount: 9,
      };
  }
}
