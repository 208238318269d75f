// The link contract: how a stack's interface, a simulated wire, middleware (impairment,
// capture) and real devices (TAP) hand frames to each other.
import type { Instant } from '../time/instant.js';

/** What a link carries: Ethernet II frames (L2) or bare IP packets (L3, like TUN). */
export type Medium = 'ethernet' | 'ip';

/**
 * One end of a link. A stack (or middleware) calls `send`; the link calls `onFrame` of the
 * far end when the frame arrives. Ownership of the bytes passes with each call: the receiver
 * may keep them, the sender must not touch them again.
 */
export interface Port {
  readonly medium: Medium;
  /** Largest frame payload this end accepts (the IP MTU, not counting the Ethernet header). */
  readonly mtu: number;
  /** Hands a frame to the link at time `now`. */
  send(frame: Uint8Array, now: Instant): void;
  /** Set by whoever attaches to this end: called when a frame arrives. */
  onFrame: ((frame: Uint8Array, now: Instant) => void) | undefined;
  /**
   * Optional frame recycling, offered by a link that can reuse the frames it carries (the
   * in-memory PointToPoint): a frame of `length` bytes to send through this port, zero-filled
   * unless `zero` is false (then its bytes are unspecified, an earlier frame's, and the caller
   * writes every byte it sends).
   * A port offering it promises that nothing on its side keeps a frame once delivered; a
   * middleware port (capture, impairment, a recorder) that does not forward it breaks the chain,
   * so frames sent through it are the stack's own and never reused.
   */
  allocFrame?: ((length: number, zero?: boolean) => Uint8Array) | undefined;
  /**
   * Optional, with `allocFrame`: the receiver of `frame` (which arrived through this port) is
   * done with it and keeps no view of it, so the link may hand it out again. A port reuses only
   * frames it handed out itself and ignores any other; a middleware port does not forward it.
   */
  release?: ((frame: Uint8Array) => void) | undefined;
}

/** Anything that holds work for later in virtual time: links with frames in flight, stacks. */
export interface Pollable {
  /** The earliest instant at which `poll` has something to do; undefined when idle. */
  pollAt(): Instant | undefined;
  /** Does everything due at or before `now`. Calling it early is harmless. */
  poll(now: Instant): void;
}
