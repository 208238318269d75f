// Helpers for the congestion tests on the real stack (two Stacks on a Scenario link): a tiny
// parser of the client's IPv4/TCP frames for impair filters and wire checks, and a bulk transfer.
import type { Scenario } from '../../src/sim/scenario.js';
import type { TcpSocket } from '../../src/api/socket.js';
import { internetChecksum } from '../../src/wire/checksum.js';

/** The TCP fields of an Ethernet + IPv4 frame that the tests look at, or undefined for anything else. */
export interface TcpView {
  /** Offset of the IPv4 header in the frame. */
  ip: number;
  /** The IP ECN field (0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE). */
  ecn: number;
  seq: number;
  ack: number;
  flags: number;
  payload: number;
}

/** TCP flag bits (RFC 9293 §3.1, RFC 3168 §6.1). */
export const F = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, ECE: 0x40, CWR: 0x80 } as const;

/** Parses an Ethernet frame carrying IPv4/TCP. */
export function tcpView(frame: Uint8Array): TcpView | undefined {
  if (frame.length < 54 || frame[12] !== 0x08 || frame[13] !== 0x00) return undefined;
  const ip = 14;
  const ihl = (frame[ip]! & 0x0f) * 4;
  if (frame[ip + 9] !== 6) return undefined;
  const total = (frame[ip + 2]! << 8) | frame[ip + 3]!;
  const t = ip + ihl;
  const u32 = (o: number): number => ((frame[o]! << 24) | (frame[o + 1]! << 16) | (frame[o + 2]! << 8) | frame[o + 3]!) >>> 0;
  const doff = (frame[t + 12]! >> 4) * 4;
  return { ip, ecn: frame[ip + 1]! & 3, seq: u32(t + 4), ack: u32(t + 8), flags: frame[t + 13]!, payload: total - ihl - doff };
}

/** Sets the CE codepoint on an IPv4 frame in place and recomputes the header checksum (what an AQM does, RFC 3168 §5). */
export function markCe(frame: Uint8Array, ip: number): void {
  const ihl = (frame[ip]! & 0x0f) * 4;
  frame[ip + 1] = frame[ip + 1]! | 3;
  frame[ip + 10] = 0;
  frame[ip + 11] = 0;
  const sum = internetChecksum(frame.subarray(ip, ip + ihl));
  frame[ip + 10] = sum >> 8;
  frame[ip + 11] = sum & 0xff;
}

/** Writes as much of `total` bytes as the socket takes; returns the bytes written so far. */
export function pump(sock: TcpSocket, written: number, total: number, chunk: Uint8Array): number {
  while (written < total) {
    const n = sock.send(chunk.subarray(0, Math.min(chunk.length, total - written)));
    if (typeof n !== 'number' || n === 0) break;
    written += n;
  }
  return written;
}

/** Reads everything available; returns the bytes read. */
export function drain(sock: TcpSocket, buf: Uint8Array): number {
  let got = 0;
  for (;;) {
    const n = sock.recv(buf);
    if (typeof n !== 'number' || n === 0) return got;
    got += n;
  }
}

/** Sends `total` bytes client -> server and reads them; returns whether all arrived within `maxMs` of virtual time. */
export function bulk(s: Scenario, client: TcpSocket, server: TcpSocket, total: number, maxMs = 120_000): boolean {
  const chunk = new Uint8Array(64 * 1024);
  const buf = new Uint8Array(256 * 1024);
  let written = 0;
  let got = 0;
  return s.runUntil(() => {
    written = pump(client, written, total, chunk);
    got += drain(server, buf);
    return got >= total;
  }, maxMs);
}

/** Jain's fairness index (sum x)^2 / (n * sum x^2): 1 when all equal, 1/n when one takes everything. */
export function jain(xs: readonly number[]): number {
  const sum = xs.reduce((a, b) => a + b, 0);
  const sq = xs.reduce((a, b) => a + b * b, 0);
  return sq === 0 ? 1 : (sum * sum) / (xs.length * sq);
}
