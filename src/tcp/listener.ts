// A listening socket (RFC 9293 §3.10.1 passive OPEN) with the two queues Linux keeps: the SYN
// queue of half-open children in SYN-RECEIVED, and the accept queue of children that completed
// the handshake and wait for accept(). Connections themselves live in the stack's demux table.
import type { IpAddr } from '../wire/ip-addr.js';
import type { Tcb, SocketOptions } from './tcb.js';

/** A listener bound to an address (possibly unspecified) and port. */
export class Listener {
  /** Half-open children (SYN-RECEIVED), oldest first. */
  readonly synQueue = new Set<Tcb>();
  /** Established children not yet accepted, oldest first. */
  readonly acceptQueue: Tcb[] = [];
  /** Readiness callback for the socket layer (Ready.ACCEPT). */
  onReady: ((l: Listener, events: number) => void) | undefined;
  /** Closed by the user; no new children. */
  closed = false;

  constructor(
    readonly id: number,
    readonly local: IpAddr,
    readonly port: number,
    /** listen(backlog), already capped by somaxconn. */
    public backlog: number,
    /** Options inherited by accepted children (Linux copies the listener's socket options). */
    readonly childOpts: SocketOptions,
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
