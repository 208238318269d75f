// What we put on the wire, judged by an independent dissector: two stacks over a lossy, delayed
// link (seeded) exchange ping and UDP (v4 and v6, fragmented datagrams, a closed port), and
// tshark, with checksum validation on, must find no malformed packet and no bad checksum.
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from '../src/stack.js';
import { SimRng } from '../src/sim/rng.js';
import { Simulation } from '../src/sim/driver.js';
import { PointToPoint } from '../src/link/memory.js';
import { impair } from '../src/link/impair.js';
import { capture, PcapWriter } from '../src/link/capture.js';
import { writeCaptureFile } from '../src/link/capture-file.js';
import { IpAddr } from '../src/wire/ip-addr.js';
import { millis, seconds } from '../src/time/instant.js';
import { skipWithoutTshark, tsharkCheck, tsharkFields } from './util/tshark.js';

const dir = process.env['KEEP_PCAP'] ?? mkdtempSync(join(tmpdir(), 'synack-ip-pcap-'));
afterAll(() => { if (process.env['KEEP_PCAP'] === undefined) rmSync(dir, { recursive: true, force: true }); });

describe('captures pass tshark', () => {
  beforeEach((ctx) => skipWithoutTshark(ctx));

  test('ping and UDP over a lossy link: no malformed packets, no checksum errors', async () => {
    const rng = new SimRng(7);
    const sim = new Simulation();
    const link = new PointToPoint({ delay: millis(5), mtu: 1500 });
    const pcap = new PcapWriter();
    // The capture sits on the wire at a's end: after a's impairment, before b's.
    const portA = impair(capture(link.a, pcap, { name: 'a' }), { loss: 0.05, delay: millis(2), jitter: millis(1) }, rng.fork('impair-a'));
    const portB = impair(link.b, { loss: 0.05, delay: millis(2), jitter: millis(1) }, rng.fork('impair-b'));
    const a = new Stack({ rng: rng.fork('a'), name: 'a' });
    const b = new Stack({ rng: rng.fork('b'), name: 'b' });
    a.addInterface({ port: portA, ipv4: '192.0.2.1/24', ipv6: '2001:db8::1/64' });
    b.addInterface({ port: portB, ipv4: '192.0.2.2/24', ipv6: '2001:db8::2/64' });
    sim.add(link, 'link').add(portA, 'impair-a').add(portB, 'impair-b').add(a, 'a').add(b, 'b');

    const B4 = IpAddr.from('192.0.2.2');
    const B6 = IpAddr.from('2001:db8::2');
    let echoReplies = 0;
    a.ip.icmp.onEchoReply = () => echoReplies++;
    const srvB4 = b.udp.bind(IpAddr.any(4), 7);
    const srvB6 = b.udp.bind(IpAddr.any(6), 7);
    // An echo server: b answers each datagram to its sender.
    for (const s of [srvB4, srvB6]) {
      s.onReadable = () => {
        for (let d = s.recv(); d !== undefined; d = s.recv()) s.sendTo(d.data, d.from, d.port, sim.now);
      };
    }
    const cli4 = a.udp.bind(IpAddr.any(4), 0);
    const cli6 = a.udp.bind(IpAddr.any(6), 0);
    const payload = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 7 + seed) & 255);
    for (let i = 0; i < 20; i++) {
      a.ip.icmp.ping(B4, 0x1234, i, payload(56, i), sim.now);
      a.ip.icmp.ping(B6, 0x1234, i, payload(56, i), sim.now);
      cli4.sendTo(payload(100 + i, i), B4, 7, sim.now);
      cli6.sendTo(payload(100 + i, i), B6, 7, sim.now);
      if (i % 5 === 0) {
        cli4.sendTo(payload(3000, i), B4, 7, sim.now); // fragmented both ways
        cli6.sendTo(payload(3000, i), B6, 7, sim.now);
        cli4.sendTo(payload(10, i), B4, 9, sim.now); // closed port: ICMP port unreachable
        cli6.sendTo(payload(10, i), B6, 9, sim.now);
      }
      sim.advance(millis(100));
    }
    sim.run({ maxDuration: seconds(5) });

    // The exchange mostly worked despite the loss.
    expect(echoReplies).toBeGreaterThan(25);
    expect(cli4.pending + cli6.pending).toBeGreaterThan(25);
    expect(a.counters.ip.ReasmOKs + a.counters.ip6.ReasmOKs).toBeGreaterThan(0);
    expect(b.counters.icmp.OutDestUnreachs + b.counters.icmp6.OutDestUnreachs).toBeGreaterThan(0);

    const file = join(dir, 'ping-udp.pcap');
    await writeCaptureFile(file, pcap);
    const report = await tsharkCheck(file);
    expect(report.packets).toBeGreaterThan(100);
    expect(report.problems).toEqual([]);
    // Lost requests legitimately show as "no response seen" (sequence group); nothing else may warn.
    expect(report.warnings.filter((w) => w.group !== 'sequence')).toEqual([]);
    // tshark saw what we think we sent: ARP, NDP, ICMP errors and fragments.
    const protos = await tsharkFields(file, ['frame.protocols']);
    const all = protos.map((r) => r['frame.protocols']).join('\n');
    for (const p of ['arp', 'icmpv6', 'icmp', 'udp', 'ipv6', 'data']) expect(all).toContain(p);
    const kinds = await tsharkFields(file, ['icmp.type', 'icmp.code', 'icmpv6.type', 'icmpv6.code'], { filter: 'icmp.type == 3 || icmpv6.type == 1 || icmpv6.type == 135 || icmpv6.type == 136' });
    const seen = new Set(kinds.map((k) => `${k['icmp.type']}/${k['icmp.code']}/${k['icmpv6.type']}/${k['icmpv6.code']}`));
    expect(seen).toContain('3/3//');
    expect([...seen].some((s) => s.startsWith('//1/4') || s.includes('/1/4'))).toBe(true);
    expect([...seen].some((s) => s.includes('135'))).toBe(true);
  });
});
