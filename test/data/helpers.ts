// Helpers for the data-transfer transcript tests (test/data/*.test.ts): connections built with
// the TCP transcript fixtures (test/tcp/fixtures.ts: one TcpLayer and a scripted peer), plus
// what data tests need to read off the wire: windows, options, SACK blocks, timestamps.
import { expect } from 'vitest';
import { emitTcp, flagsToString, tcpHeaderLength, type TcpOptions, type TcpRepr } from '../../src/wire/tcp.js';
import { IpAddr } from '../../src/wire/ip-addr.js';
import { TcpLayer } from '../../src/tcp/tcp.js';
import type { TcpConfig } from '../../src/tcp/config.js';
import { SocketLayer, type TcpSocket } from '../../src/api/socket.js';
import { type Instant, millis } from '../../src/time/instant.js';
import { seqDiff, type Seq } from '../../src/tcp/seq.js';
import { FakeIp, LOCAL, REMOTE, type Seg, testRng, flagBits, summarize } from '../util/tcp-harness.js';
import { type Conn, PEER_ISS, established } from '../tcp/fixtures.js';

export { bytes, drain, out, established, synSent, synReceived, PEER_ISS } from '../tcp/fixtures.js';
export type { Conn } from '../tcp/fixtures.js';

/** The peer's options in a SYN with everything on: MSS 1460, SACK-permitted, timestamps, window scale `ws`. */
export function fullSyn(tsval = 1000, ws = 7, mss = 1460): TcpOptions {
  return { mss, sackPermitted: true, timestamp: { tsval, tsecr: 0 }, wscale: ws };
}

/** The last segment we sent (throws if none). */
export function last(c: Conn): TcpRepr {
  const s = c.h.ip.sent.at(-1);
  if (s === undefined) throw new Error('nothing sent');
  return s.seg;
}

/** SACK blocks of a segment as [left, right) offsets from the peer's ISS. */
export function sackOf(c: Conn, seg: TcpRepr): [number, number][] {
  return (seg.options.sack ?? []).map((b) => [seqDiff(b.left, c.irs as Seq), seqDiff(b.right, c.irs as Seq)]);
}

/** The peer sends `seg`; returns the full segments we sent in reply (with windows and options). */
export function sendFull(c: Conn, seg: Seg): TcpRepr[] {
  const n = c.h.ip.sent.length;
  c.send(seg);
  return c.h.ip.sent.slice(n).map((s) => s.seg);
}

/** `FLAGS seq=.. ack=.. len=.. win=..` with the raw window field. */
export function withWin(r: TcpRepr): string {
  return `${summarize(r)} win=${r.window}`;
}

/** An ESTABLISHED client connection where the peer's SYN-ACK carried `opts` (timestamps with TSval `tsval`). */
export function establishedWith(opts: TcpOptions, cfg: Partial<TcpConfig> = {}, setup?: (s: TcpSocket) => void): Conn {
  return established({ cfg, peerSynOptions: opts, ...(setup !== undefined ? { setup } : {}) });
}

/** A two-address IPv6 TCP layer with a scripted peer, for the IPv6 MSS rules. */
export class Harness6 {
  readonly local = IpAddr.from('fd00::1');
  readonly remote = IpAddr.from('fd00::2');
  readonly ip = new FakeIp([this.local]);
  readonly tcp: TcpLayer;
  readonly sockets: SocketLayer;
  now = 0 as Instant;

  constructor(cfg: Partial<TcpConfig> = {}) {
    this.ip.pendingDst = this.remote;
    this.tcp = new TcpLayer(this.ip, testRng(3), { initialRto: millis(1000), ...cfg }, 'us6');
    this.sockets = new SocketLayer(this.tcp);
    this.tcp.poll(this.now);
  }

  /** Connects, answers with a SYN-ACK carrying `opts`, and returns our SYN and the connection's socket. */
  connect(opts: TcpOptions): { syn: TcpRepr; sock: TcpSocket } {
    const sock = this.sockets.socket(6);
    expect(sock.connect(this.remote, 80)).toBe('EINPROGRESS');
    this.tcp.poll(this.now);
    const syn = this.ip.sent.at(-1)!.seg;
    expect(flagsToString(syn.flags)).toBe('SYN');
    const bytes = synAck(syn, opts, this.remote, this.local);
    this.tcp.input({ src: this.remote, dst: this.local }, bytes, this.now);
    expect(sock.state).toBe('ESTABLISHED');
    return { syn, sock };
  }
}

function synAck(syn: TcpRepr, options: TcpOptions, src: IpAddr, dst: IpAddr): Uint8Array {
  const r: TcpRepr = {
    srcPort: syn.dstPort, dstPort: syn.srcPort, seq: PEER_ISS as Seq, ack: ((syn.seq + 1) >>> 0) as Seq,
    flags: flagBits('SYN+ACK'), window: 65535, urgent: 0, options, payload: new Uint8Array(0),
  };
  const b = new Uint8Array(tcpHeaderLength(options));
  emitTcp(r, b, { src, dst });
  return b;
}

/** The peer sends a segment with the URG flag and urgent pointer `urgent` (the harness's `send` always writes 0). */
export function sendUrgent(c: Conn, seq: number, ack: number, data: Uint8Array, urgent: number): string[] {
  const r: TcpRepr = {
    srcPort: c.remotePort, dstPort: c.localPort, seq: seq as Seq, ack: ack as Seq,
    flags: flagBits('URG+PSH+ACK'), window: 65535, urgent, options: {}, payload: data,
  };
  const b = new Uint8Array(tcpHeaderLength(r.options) + data.length);
  emitTcp(r, b, { src: REMOTE, dst: LOCAL });
  c.h.tcp.input({ src: REMOTE, dst: LOCAL }, b, c.h.now);
  return c.h.takeSummary();
}
