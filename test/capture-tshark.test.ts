// Captures checked by an independent dissector: frames written by hand (with checksums from
// src/wire/checksum.ts), recorded through capture() around a trivial port pair, written as pcap
// and pcapng, then read by tshark with checksum validation on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { writeCaptureFile } from '../src/link/capture-file.js';
import { type CaptureSink, PcapngWriter, PcapWriter, capture } from '../src/link/capture.js';
import type { Medium, Port } from '../src/link/link.js';
import type { Instant } from '../src/time/instant.js';
import { internetChecksum, pseudoHeaderSum } from '../src/wire/checksum.js';
import { IpAddr } from '../src/wire/ip-addr.js';
import { skipWithoutTshark, tsharkCheck, tsharkFields } from './util/tshark.js';

const at = (us: number): Instant => us as Instant;
const A = IpAddr.from('10.0.0.1');
const B = IpAddr.from('10.0.0.2');
const MAC_A = 0x01;
const MAC_B = 0x02;

// ---- Frames by hand -------------------------------------------------------------------------

/** An IPv4 header (RFC 791 §3.1) with a correct header checksum, followed by `payload`. */
function ipv4(src: IpAddr, dst: IpAddr, protocol: number, payload: Uint8Array, id = 1): Uint8Array {
  const p = new Uint8Array(20 + payload.length);
  const dv = new DataView(p.buffer);
  p[0] = 0x45; // version 4, IHL 5
  dv.setUint16(2, p.length); // total length
  dv.setUint16(4, id); // identification
  dv.setUint16(6, 0x4000); // DF, fragment offset 0
  p[8] = 64; // TTL
  p[9] = protocol;
  dv.setUint32(12, src.v4);
  dv.setUint32(16, dst.v4);
  dv.setUint16(10, internetChecksum(p.subarray(0, 20)));
  p.set(payload, 20);
  return p;
}

/** A TCP segment (RFC 9293 §3.1) with options and a correct checksum over the IPv4 pseudo-header. */
function tcp(src: IpAddr, dst: IpAddr, seg: { sport: number; dport: number; seq: number; ack: number; flags: number; options?: number[]; data?: Uint8Array }): Uint8Array {
  const options = seg.options ?? [];
  const data = seg.data ?? new Uint8Array(0);
  const hlen = 20 + options.length;
  const t = new Uint8Array(hlen + data.length);
  const dv = new DataView(t.buffer);
  dv.setUint16(0, seg.sport);
  dv.setUint16(2, seg.dport);
  dv.setUint32(4, seg.seq);
  dv.setUint32(8, seg.ack);
  t[12] = (hlen / 4) << 4; // data offset
  t[13] = seg.flags;
  dv.setUint16(14, 64240); // window
  t.set(options, 20);
  t.set(data, hlen);
  dv.setUint16(16, internetChecksum(t, pseudoHeaderSum(src, dst, 6, t.length)));
  return t;
}

/** A UDP datagram (RFC 768) with a correct checksum (0 is sent as 0xffff). */
function udp(src: IpAddr, dst: IpAddr, sport: number, dport: number, data: Uint8Array): Uint8Array {
  const u = new Uint8Array(8 + data.length);
  const dv = new DataView(u.buffer);
  dv.setUint16(0, sport);
  dv.setUint16(2, dport);
  dv.setUint16(4, u.length);
  u.set(data, 8);
  dv.setUint16(6, internetChecksum(u, pseudoHeaderSum(src, dst, 17, u.length)) || 0xffff);
  return u;
}

/** An ICMP echo request (type 8) or reply (type 0), RFC 792. */
function icmpEcho(type: 0 | 8, id: number, seq: number, data: Uint8Array): Uint8Array {
  const m = new Uint8Array(8 + data.length);
  const dv = new DataView(m.buffer);
  m[0] = type;
  dv.setUint16(4, id);
  dv.setUint16(6, seq);
  m.set(data, 8);
  dv.setUint16(2, internetChecksum(m));
  return m;
}

/** An Ethernet II frame from 02:00:00:00:00:<src> to 02:00:00:00:00:<dst> carrying IPv4. */
function eth(dst: number, src: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + payload.length);
  f.set([0x02, 0, 0, 0, 0, dst, 0x02, 0, 0, 0, 0, src, 0x08, 0x00]);
  f.set(payload, 14);
  return f;
}

// MSS 1460, SACK permitted, timestamps, NOP, window scale 7: the SYN options Linux sends.
const SYN_OPTIONS = [2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7];
const SYNACK_OPTIONS = [2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 2, 0, 0, 0, 1, 1, 3, 3, 7];
const ACK_OPTIONS = [1, 1, 8, 10, 0, 0, 0, 3, 0, 0, 0, 2];
const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Frames of a small conversation from A's point of view: [sent by A?, frame]. */
function conversation(): Array<[boolean, Uint8Array]> {
  const c = { sport: 40000, dport: 80 };
  const s = { sport: 80, dport: 40000 };
  return [
    [true, eth(MAC_B, MAC_A, ipv4(A, B, 6, tcp(A, B, { ...c, seq: 1000, ack: 0, flags: SYN, options: SYN_OPTIONS })))],
    [false, eth(MAC_A, MAC_B, ipv4(B, A, 6, tcp(B, A, { ...s, seq: 5000, ack: 1001, flags: SYN | ACK, options: SYNACK_OPTIONS })))],
    [true, eth(MAC_B, MAC_A, ipv4(A, B, 6, tcp(A, B, { ...c, seq: 1001, ack: 5001, flags: ACK, options: ACK_OPTIONS }), 2))],
    [true, eth(MAC_B, MAC_A, ipv4(A, B, 6, tcp(A, B, { ...c, seq: 1001, ack: 5001, flags: PSH | ACK, options: ACK_OPTIONS, data: text('GET / HTTP/1.0\r\n\r\n') }), 3))],
    [true, eth(MAC_B, MAC_A, ipv4(A, B, 17, udp(A, B, 40001, 50000, text('hello')), 4))],
    [true, eth(MAC_B, MAC_A, ipv4(A, B, 1, icmpEcho(8, 7, 1, text('ping')), 5))],
    [false, eth(MAC_A, MAC_B, ipv4(B, A, 1, icmpEcho(0, 7, 1, text('ping')), 6))],
  ];
}

/** Two ports wired back to back: what one sends, the other's `onFrame` receives at once. */
function portPair(medium: Medium): [Port, Port] {
  const a: Port = { medium, mtu: 1500, onFrame: undefined, send: (f, now) => b.onFrame?.(f, now) };
  const b: Port = { medium, mtu: 1500, onFrame: undefined, send: (f, now) => a.onFrame?.(f, now) };
  return [a, b];
}

/** Plays `frames` over a captured port pair; returns how many frames each side received. */
function play(sink: CaptureSink, medium: Medium, frames: Array<[boolean, Uint8Array]>, name: string, t0: number): [number, number] {
  const [inner, peer] = portPair(medium);
  const port = capture(inner, sink, { name });
  let toA = 0;
  let toB = 0;
  port.onFrame = () => toA++;
  peer.onFrame = () => toB++;
  frames.forEach(([fromA, frame], i) => (fromA ? port : peer).send(frame, at(t0 + i * 1_000)));
  return [toA, toB];
}

// ---- Tests ----------------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'synack-capture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tshark reads what capture() writes', () => {
  beforeEach(skipWithoutTshark);

  test('classic pcap of TCP, UDP and ICMP over Ethernet: no malformed packet, no bad checksum, no warning', async () => {
    const w = new PcapWriter();
    expect(play(w, 'ethernet', conversation(), 'eth0', 1_000_000)).toEqual([2, 5]);
    const file = join(dir, 'ethernet.pcap');
    await writeCaptureFile(file, w);
    const report = await tsharkCheck(file);
    expect(report).toEqual({ packets: 7, problems: [], warnings: [] });
  });

  test('pcapng with an Ethernet and a raw-IP interface: both dissected, names, directions, comments and TCP options intact', async () => {
    const w = new PcapngWriter();
    play(w, 'ethernet', conversation(), 'eth0', 0);
    // The same IP packets without their Ethernet header, on a TUN-like link.
    const ipOnly = conversation().map(([fromA, f]): [boolean, Uint8Array] => [fromA, f.subarray(14)]);
    play(w, 'ip', ipOnly.slice(4, 5), 'tun0', 50_000);
    w.record(1, ipOnly[4]![1], at(60_000), { direction: 'out', comment: 'lost' });
    const file = join(dir, 'two-interfaces.pcapng');
    await writeCaptureFile(file, w);

    expect(await tsharkCheck(file)).toEqual({ packets: 9, problems: [], warnings: [] });
    const rows = await tsharkFields(file, ['frame.interface_name', 'frame.p2p_dir', 'frame.comment', 'frame.time_epoch', 'tcp.flags.str', 'tcp.options.mss_val', 'tcp.options.sack_perm', 'tcp.options.wscale.shift', 'udp.payload']);
    expect(rows.map((r) => r['frame.interface_name'])).toEqual(['eth0', 'eth0', 'eth0', 'eth0', 'eth0', 'eth0', 'eth0', 'tun0', 'tun0']);
    expect(rows.map((r) => r['frame.p2p_dir'])).toEqual(['0', '1', '0', '0', '0', '0', '1', '0', '0']); // 0 sent, 1 received
    expect(rows.map((r) => r['frame.comment'])).toEqual(['', '', '', '', '', '', '', '', 'lost']);
    expect(rows.map((r) => r['frame.time_epoch'])).toEqual([0, 1, 2, 3, 4, 5, 6, 50, 60].map((ms) => `0.0${String(ms).padStart(2, '0')}000000`));
    expect(rows[0]).toMatchObject({ 'tcp.flags.str': '··········S·', 'tcp.options.mss_val': '1460', 'tcp.options.wscale.shift': '7' });
    expect(rows[0]!['tcp.options.sack_perm']).not.toBe('');
    expect(rows[1]!['tcp.flags.str']).toBe('·······A··S·');
    expect(rows[7]!['udp.payload']).toBe('68656c6c6f'); // "hello", on the raw-IP interface
  });

  test('a deliberately broken capture is caught: bad TCP, IP, UDP and ICMP checksums and a cut packet', async () => {
    const frames = conversation().map(([, f]) => f);
    const flip = (f: Uint8Array, at: number): Uint8Array => {
      const g = f.slice();
      g[at]! ^= 0x01;
      return g;
    };
    const w = new PcapWriter();
    w.addInterface('ethernet');
    const broken = [
      frames[0]!, // 1: good SYN
      flip(frames[3]!, 14 + 20 + 17), // 2: TCP checksum, low byte
      flip(frames[4]!, 14 + 10), // 3: IPv4 header checksum
      flip(frames[4]!, 14 + 20 + 8), // 4: UDP payload, so the UDP checksum fails
      flip(frames[5]!, 14 + 20 + 2), // 5: ICMP checksum
      frames[3]!.subarray(0, 14 + 20 + 10), // 6: IP total length says more than the frame holds
    ];
    broken.forEach((f, i) => w.record(0, f, at(i)));
    const file = join(dir, 'broken.pcap');
    await writeCaptureFile(file, w);
    const report = await tsharkCheck(file);
    expect(report.packets).toBe(6);
    expect(report.problems.map((p) => [p.frame, p.kind, p.message.split(' ')[0]])).toEqual([
      [2, 'checksum', 'tcp'],
      [3, 'checksum', 'ip'],
      [4, 'checksum', 'udp'],
      [5, 'checksum', 'icmp'],
      [6, 'malformed', '[Malformed'],
    ]);
    expect(report.problems[0]!.message).toMatch(/^tcp checksum bad \(Bad checksum \[should be 0x[0-9a-f]{4}\]\)$/);
  });

  test('0xffff where the checksum folds to 0x0000 is accepted (RFC 1624 §3; Linux sends it), while a real error in the same frame is not', async () => {
    // Two data bytes equal to the checksum of the rest make the correct checksum 0x0000; Linux's
    // skb_checksum_help then writes 0xffff, the other form of zero.
    const probe = tcp(A, B, { sport: 40000, dport: 80, seq: 1, ack: 1, flags: 0x18, data: new Uint8Array([7, 7, 0, 0]) });
    const c = (probe[16]! << 8) | probe[17]!;
    const zeroed = tcp(A, B, { sport: 40000, dport: 80, seq: 1, ack: 1, flags: 0x18, data: new Uint8Array([7, 7, c >>> 8, c & 255]) });
    expect((zeroed[16]! << 8) | zeroed[17]!).toBe(0);
    const negativeZero = zeroed.slice();
    negativeZero[16] = 0xff;
    negativeZero[17] = 0xff;
    const wrong = zeroed.slice();
    wrong[17] = 0x01;
    const w = new PcapWriter();
    w.addInterface('ethernet');
    w.record(0, eth(MAC_B, MAC_A, ipv4(A, B, 6, negativeZero)), at(0));
    w.record(0, eth(MAC_B, MAC_A, ipv4(A, B, 6, wrong)), at(1));
    const file = join(dir, 'negative-zero.pcap');
    await writeCaptureFile(file, w);
    const report = await tsharkCheck(file);
    expect(report.problems.map((p) => [p.frame, p.kind])).toEqual([[2, 'checksum']]);
  });
});
