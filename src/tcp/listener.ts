// A listening socket (RFC 9293 §3.10.1 passive OPEN) with the two queues Linux keeps: the SYN
// queue of half-open children in SYN-RECEIVED, and the accept queue of children that completed
// the handshake and wait for accept(). Connections themselves live in the stack's demux table.
// Also the listener's defences: when SYN cookies were last sent (syncookies.ts), the
// TCP_DEFER_ACCEPT setting, and the TCP_FASTOPEN queue of pending Fast Open children
// (fastopen.ts). Read first: RFC 9293 §3.10.7.2, RFC 4987 (SYN flooding), RFC 7413 §5.1.
import type { Instant } from '../time/instant.js';
import type { IpAddr } from '../wire/ip-addr.js';
import type { Tcb, SocketOptions } from './tcb.js';

/** A listener bound to an address (possibly unspecified) and port. */
export class Listener {
  /** Half-open children (SYN-RECEIVED), oldest first. */
  readonly synQueue = new Set<Tcb>();
  /** Established children not yet accepted, oldest first (and Fast Open children, still in SYN-RECEIVED). */
  readonly acceptQueue: Tcb[] = [];
  /** Readiness callback for the socket layer (Ready.ACCEPT). */
  onReady: ((l: Listener, events: number) => void) | undefined;
  /** Closed by the user; no new children. */
  closed = false;
  /** When this listener last answered a SYN with a cookie (Linux's tcp_synq_overflow stamp). */
  lastCookieAt: Instant | undefined;
  /**
   * TCP_DEFER_ACCEPT as Linux keeps it (rskq_defer_accept): a number of SYN-ACK timeouts during
   * which a bare ACK does not complete the handshake; 0 is off. See deferAcceptRetransmits().
   */
  deferAccept = 0;
  /** TCP_FASTOPEN: the most Fast Open children that may be pending (not yet past the handshake); 0 is off. */
  fastOpenQueueLen = 0;
  /** Fast Open children whose handshake has not completed (Linux's fastopenq.qlen). */
  fastOpenPending = 0;

  constructor(
    readonly id: number,
    readonly local: IpAddr,
    readonly port: number,
    /** listen(backlog), already capped by somaxconn. */
    public backlog: number,
    /** Options inherited by accepted children (Linux copies the listener's socket options; here they share this object, which setOption replaces rather than changes). */
    public childOpts: SocketOptions,
  ) {}

  /**
   * Linux's sk_acceptq_is_full(): the accept queue holds at most backlog + 1 children
   * (`sk_ack_backlog > sk_max_ack_backlog`).
   */
  get acceptQueueFull(): boolean {
    return this.acceptQueue.length > this.backlog;
  }
  /**
   * Linux's inet_csk_reqsk_queue_is_full(): the SYN queue is full at `backlog` half-open
   * children (the listen() backlog bounds both queues).
   */
  get synQueueFull(): boolean {
    return this.synQueue.size >= Math.max(this.backlog, 1);
  }
}

/**
 * TCP_DEFER_ACCEPT seconds to a count of SYN-ACK timeouts, as Linux's secs_to_retrans(): the
 * smallest n whose retransmission schedule (initial RTO doubling up to the maximum) covers the
 * seconds asked for; 0 stays 0 (off), and at most 255.
 */
export function deferAcceptRetransmits(secs: number, initialRtoSecs: number, maxRtoSecs: number): number {
  if (!(secs > 0)) return 0;
  let timeout = initialRtoSecs;
  let period = timeout;
  let n = 1;
  while (secs > period && n < 255) {
    n++;
    timeout = Math.min(timeout * 2, maxRtoSecs);
    period += timeout;
  }
  return n;
}

/** The seconds getsockopt(TCP_DEFER_ACCEPT) reports for a count (Linux's retrans_to_secs). */
export function deferAcceptSeconds(retrans: number, initialRtoSecs: number, maxRtoSecs: number): number {
  let period = 0;
  if (retrans > 0) {
    let timeout = initialRtoSecs;
    period = timeout;
    while (--retrans > 0) {
      timeout = Math.min(timeout * 2, maxRtoSecs);
      period += timeout;
    }
  }
  return period;
}
