// State fixtures for TCP transcript tests: one connection of a Harness (one TcpLayer with a
// scripted peer) driven into each RFC 9293 §3.3.2 state through the public calls only (socket
// API and segments on the wire), never by poking TCB fields. Each fixture checks the exact
// segments of the way there, so a fixture that builds is itself a passing transcript.
//
// Conventions: `c.u(n)` is our ISS + n and `c.p(n)` the peer's ISS + n (mod 2^32); `out(...)`
// formats an expected segment the way `summarize` prints one: `FLAGS seq=.. ack=.. len=..`.
import { expect } from 'vitest';
import { Harness, LOCAL, REMOTE, type Seg, flagBits, summarize } from '../util/tcp-harness.js';
import { flagsToString, type TcpOptions, type TcpRepr } from '../../src/wire/tcp.js';
import type { TcpConfig } from '../../src/tcp/config.js';
import type { TcpState } from '../../src/tcp/state.js';
import type { Tcb } from '../../src/tcp/tcb.js';
import type { TcpSocket } from '../../src/api/socket.js';

/** The peer's initial sequence number unless a test picks another. */
export const PEER_ISS = 0x2000_0000;
/** The well-known port of whichever side is the server. */
export const SERVER_PORT = 80;
/** The peer's port when we are the server. */
export const CLIENT_PORT = 40000;

/** An expected segment, formatted as `summarize` prints one (flags in wire order: FIN, SYN, RST, PSH, ACK). */
export function out(flags: string, seq: number, ack?: number, len?: number): string {
  const f = flagBits(flags);
  const a = ack !== undefined ? ` ack=${ack >>> 0}` : '';
  const l = len !== undefined && len > 0 ? ` len=${len}` : '';
  return `${flagsToString(f)} seq=${seq >>> 0}${a}${l}`;
}

/** Options for building a fixture. */
export interface FixtureOptions {
  /** Stack configuration (the harness already sets initialRto to 1 s). */
  cfg?: Partial<TcpConfig>;
  /** The peer's ISS (default PEER_ISS). */
  peerIss?: number;
  /** Options the peer puts in its SYN or SYN-ACK (default none: no timestamps, no scaling). */
  peerSynOptions?: TcpOptions;
  /** The window the peer advertises (default 65535). */
  peerWindow?: number;
  /** Which side we are: the client (active open, default) or the server (passive open). */
  side?: 'client' | 'server';
  /** listen() backlog for server fixtures (default 16). */
  backlog?: number;
  /** Socket options to set before connect() or listen(). */
  setup?: (s: TcpSocket) => void;
  /** Harness seed (ISS and port choice). */
  seed?: number;
}

/** One connection under test, with our and the peer's sequence origins. */
export class Conn {
  /** The socket of the connection (the client socket, or the accepted child). */
  sock: TcpSocket | undefined;
  /** The listening socket for server fixtures. */
  listener: TcpSocket | undefined;
  /** Our SYN or SYN-ACK as sent. */
  ourSyn: TcpRepr | undefined;

  constructor(
    readonly h: Harness,
    readonly localPort: number,
    readonly remotePort: number,
    /** Our ISS. */
    public iss: number,
    /** The peer's ISS. */
    public irs: number,
    readonly peerWindow: number,
  ) {}

  /** Our ISS + n. */
  u(n: number): number {
    return (this.iss + n) | 0;
  }
  /** The peer's ISS + n. */
  p(n: number): number {
    return (this.irs + n) | 0;
  }

  /** The peer sends `seg` on this connection's 4-tuple; returns what we sent in reply. */
  send(seg: Seg): string[] {
    this.h.peerSends({ srcPort: this.remotePort, dstPort: this.localPort, window: this.peerWindow, ...seg });
    return this.h.takeSummary();
  }
  /** Runs queued user calls now; returns what we sent. */
  flush(): string[] {
    this.h.flush();
    return this.h.takeSummary();
  }
  /** Advances virtual time by `ms`; returns what we sent meanwhile. */
  advance(ms: number): string[] {
    this.h.advance(ms);
    return this.h.takeSummary();
  }
  /** Advances virtual time by `ms`; returns what we sent meanwhile with the time (ms) it left. */
  advanceTimed(ms: number): string[] {
    this.h.advance(ms);
    return this.h.takeSent().map((s) => `${s.at / 1000}ms ${summarize(s.seg)}`);
  }

  /** The connection's TCB while it is in the demux table. */
  get tcb(): Tcb | undefined {
    return this.h.tcp.lookup(LOCAL, this.localPort, REMOTE, this.remotePort);
  }
  /**
   * The connection's state; CLOSED once the TCB is gone. A connection in TIME-WAIT leaves the
   * demux table for a small TIME-WAIT record (src/tcp/timewait.ts), which is looked up here.
   */
  get state(): TcpState {
    const t = this.tcb;
    if (t !== undefined) return t.state;
    return this.h.tcp.lookupTimeWait(LOCAL, this.localPort, REMOTE, this.remotePort) !== undefined ? 'TIME-WAIT' : 'CLOSED';
  }
  /** The socket, which the fixture guarantees exists. */
  get s(): TcpSocket {
    if (this.sock === undefined) throw new Error('no socket on this fixture');
    return this.sock;
  }
}

/** Bytes 0, 1, 2, ... of length n (easy to check after reassembly). */
export function bytes(n: number, start = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (start + i) & 0xff;
  return b;
}

/** Reads everything readable now from `s`; returns the bytes and the last non-data result. */
export function drain(s: TcpSocket): { data: number[]; last: number | string } {
  const buf = new Uint8Array(65536);
  const data: number[] = [];
  for (;;) {
    const n = s.recv(buf);
    if (typeof n !== 'number' || n === 0) return { data, last: n };
    for (let i = 0; i < n; i++) data.push(buf[i]!);
  }
}

/** SYN-SENT: connect() called, our SYN sent. */
export function synSent(o: FixtureOptions = {}): Conn {
  const h = new Harness(o.cfg ?? {}, o.seed ?? 1);
  const sock = h.sockets.socket();
  o.setup?.(sock);
  expect(sock.connect(REMOTE, SERVER_PORT)).toBe('EINPROGRESS');
  h.flush();
  const sent = h.takeSent();
  expect(sent.length).toBe(1);
  const syn = sent[0]!.seg;
  expect(flagsToString(syn.flags)).toBe('SYN');
  const c = new Conn(h, syn.srcPort, SERVER_PORT, syn.seq, o.peerIss ?? PEER_ISS, o.peerWindow ?? 65535);
  c.sock = sock;
  c.ourSyn = syn;
  expect(c.state).toBe('SYN-SENT');
  return c;
}

/** A listener on LOCAL:80 (returns the harness and the listening socket). */
export function listening(o: FixtureOptions = {}): { h: Harness; listener: TcpSocket } {
  const h = new Harness(o.cfg ?? {}, o.seed ?? 1);
  const listener = h.sockets.socket();
  o.setup?.(listener);
  expect(listener.bind(LOCAL, SERVER_PORT)).toBeUndefined();
  expect(listener.listen(o.backlog ?? 16)).toBeUndefined();
  return { h, listener };
}

/** SYN-RECEIVED after a passive open: the peer's SYN arrived, our SYN-ACK left. */
export function synReceived(o: FixtureOptions = {}): Conn {
  const { h, listener } = listening(o);
  const irs = o.peerIss ?? PEER_ISS;
  const seg: Seg = { flags: 'SYN', seq: irs, srcPort: CLIENT_PORT, dstPort: SERVER_PORT, window: o.peerWindow ?? 65535 };
  if (o.peerSynOptions !== undefined) seg.options = o.peerSynOptions;
  h.peerSends(seg);
  const sent = h.takeSent();
  expect(sent.length).toBe(1);
  const synAck = sent[0]!.seg;
  expect(flagsToString(synAck.flags)).toBe('SYN+ACK');
  expect(synAck.ack).toBe((irs + 1) | 0);
  const c = new Conn(h, SERVER_PORT, CLIENT_PORT, synAck.seq, irs, o.peerWindow ?? 65535);
  c.listener = listener;
  c.ourSyn = synAck;
  expect(c.state).toBe('SYN-RECEIVED');
  return c;
}

/** ESTABLISHED, as the client (default) or, with `side: 'server'`, as the accepted child. */
export function established(o: FixtureOptions = {}): Conn {
  if (o.side === 'server') {
    const c = synReceived(o);
    expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1) })).toEqual([]);
    const child = c.listener!.accept();
    if (typeof child === 'string') throw new Error(`accept: ${child}`);
    c.sock = child;
    expect(c.state).toBe('ESTABLISHED');
    return c;
  }
  const c = synSent(o);
  const seg: Seg = { flags: 'SYN+ACK', seq: c.p(0), ack: c.u(1) };
  if (o.peerSynOptions !== undefined) seg.options = o.peerSynOptions;
  expect(c.send(seg)).toEqual([out('ACK', c.u(1), c.p(1))]);
  expect(c.state).toBe('ESTABLISHED');
  return c;
}

/** FIN-WAIT-1: shutdown(write) sent our FIN; the peer has not acknowledged it. */
export function finWait1(o: FixtureOptions = {}): Conn {
  const c = established(o);
  expect(c.s.shutdown('write')).toBeUndefined();
  expect(c.flush()).toEqual([out('FIN+ACK', c.u(1), c.p(1))]);
  expect(c.state).toBe('FIN-WAIT-1');
  return c;
}

/** FIN-WAIT-2: our FIN acknowledged, the peer's side still open. */
export function finWait2(o: FixtureOptions = {}): Conn {
  const c = finWait1(o);
  expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(2) })).toEqual([]);
  expect(c.state).toBe('FIN-WAIT-2');
  return c;
}

/** TIME-WAIT after an active close: the peer's FIN arrived in FIN-WAIT-2 and was acknowledged. */
export function timeWait(o: FixtureOptions = {}): Conn {
  const c = finWait2(o);
  expect(c.send({ flags: 'FIN+ACK', seq: c.p(1), ack: c.u(2) })).toEqual([out('ACK', c.u(2), c.p(2))]);
  expect(c.state).toBe('TIME-WAIT');
  return c;
}

/** CLOSE-WAIT: the peer's FIN arrived and was acknowledged; our side still open. */
export function closeWait(o: FixtureOptions = {}): Conn {
  const c = established(o);
  expect(c.send({ flags: 'FIN+ACK', seq: c.p(1), ack: c.u(1) })).toEqual([out('ACK', c.u(1), c.p(2))]);
  expect(c.state).toBe('CLOSE-WAIT');
  return c;
}

/** LAST-ACK: close() in CLOSE-WAIT sent our FIN. */
export function lastAck(o: FixtureOptions = {}): Conn {
  const c = closeWait(o);
  c.s.close();
  expect(c.flush()).toEqual([out('FIN+ACK', c.u(1), c.p(2))]);
  expect(c.state).toBe('LAST-ACK');
  return c;
}

/** CLOSING: both FINs crossed; ours is not yet acknowledged. */
export function closing(o: FixtureOptions = {}): Conn {
  const c = finWait1(o);
  expect(c.send({ flags: 'FIN+ACK', seq: c.p(1), ack: c.u(1) })).toEqual([out('ACK', c.u(2), c.p(2))]);
  expect(c.state).toBe('CLOSING');
  return c;
}

/** One more passively opened, accepted connection on an existing listener, from `clientPort`. */
export function acceptOn(h: Harness, listener: TcpSocket, clientPort: number, peerIss = PEER_ISS): Conn {
  h.peerSends({ flags: 'SYN', seq: peerIss, srcPort: clientPort, dstPort: SERVER_PORT });
  const sent = h.takeSent();
  expect(sent.map((s) => flagsToString(s.seg.flags))).toEqual(['SYN+ACK']);
  const c = new Conn(h, SERVER_PORT, clientPort, sent[0]!.seg.seq, peerIss, 65535);
  c.listener = listener;
  expect(c.send({ flags: 'ACK', seq: c.p(1), ack: c.u(1) })).toEqual([]);
  const child = listener.accept();
  if (typeof child === 'string') throw new Error(`accept: ${child}`);
  c.sock = child;
  return c;
}
