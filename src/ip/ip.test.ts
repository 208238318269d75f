// Tests for the IP layer's receive path as it reads datagrams in place (docs/performance.md item
// 2): one shared IpAddr per recent source, payloads handed over in place or as views, the datagram
// for ICMP quoting made only when asked for, and frames given back to a recycling link.
import { describe, expect, test } from 'vitest';
import { Stack } from '../stack.js';
import { SimRng } from '../sim/rng.js';
import { Simulation } from '../sim/driver.js';
import { PointToPoint } from '../link/memory.js';
import { IpAddr } from '../wire/ip-addr.js';
import { millis } from '../time/instant.js';
import type { PacketInfo, TransportHandler } from './transport.js';

const B4 = IpAddr.from('10.0.0.2');

function pair(recycleFrames = true) {
  const rng = new SimRng(3);
  const sim = new Simulation();
  const link = new PointToPoint({ delay: millis(1), recycleFrames });
  const a = new Stack({ rng: rng.fork('a'), name: 'a' });
  const b = new Stack({ rng: rng.fork('b'), name: 'b' });
  a.addInterface({ port: link.a, ipv4: '10.0.0.1/24', mac: '02:00:00:00:00:0a', linkLocal: false });
  const bIf = b.addInterface({ port: link.b, ipv4: '10.0.0.2/24', mac: '02:00:00:00:00:0b', linkLocal: false });
  sim.add(link, 'link').add(a, 'a').add(b, 'b');
  return { sim, a, b, link, bIf };
}

/** Sends `n` 4-byte datagrams of protocol 253 from a to b, tagged 0..n-1. */
function send(p: ReturnType<typeof pair>, n: number): void {
  for (let i = 0; i < n; i++) {
    const route = p.a.ip.route(B4)!;
    const frame = p.a.ip.allocFrame(route, 4);
    frame.set([i, 9, 9, 9], p.a.ip.l4Offset(route));
    p.a.ip.transmit(route, frame, 253, 4, p.sim.now);
  }
  p.sim.run({ maxDuration: millis(100) });
}

describe('IPv4 input in place', () => {
  test('datagrams from one source share one IpAddr; destinations are the interface\'s own object', () => {
    const p = pair();
    const seen: { src: IpAddr; dst: IpAddr }[] = [];
    p.b.registerTransport(253, { input: (pkt) => seen.push({ src: pkt.src, dst: pkt.dst }) });
    send(p, 3);
    expect(seen.length).toBe(3);
    expect(seen[0]!.src.toString()).toBe('10.0.0.1');
    expect(seen[1]!.src).toBe(seen[0]!.src);
    expect(seen[2]!.src).toBe(seen[0]!.src);
    expect(seen[0]!.dst).toBe(p.b.interface(p.bIf)!.ipv4[0]!.addr);
  });

  test('an inputAt handler gets the frame in place; with a recycling link it is told the frame is reused, and it is', () => {
    for (const recycle of [true, false]) {
      const p = pair(recycle);
      const got: { tag: number; reused: boolean; packetLen: number }[] = [];
      const handler: TransportHandler = {
        input: () => {
          throw new Error('inputAt is preferred');
        },
        inputAt: (pkt: Readonly<PacketInfo>, buf, off, len) => {
          expect(len).toBe(4);
          got.push({ tag: buf[off]!, reused: pkt.frameReused, packetLen: pkt.packet.length });
        },
      };
      p.b.registerTransport(253, handler);
      send(p, 2);
      expect(got).toEqual([{ tag: 0, reused: recycle, packetLen: 24 }, { tag: 1, reused: recycle, packetLen: 24 }]);
      if (recycle) expect(p.link.pool!.pooledBytes).toBeGreaterThan(0); // the two frames went back
    }
  });

  test('an input handler (no inputAt) gets a view it may keep: its frame is never reused', () => {
    const p = pair();
    const kept: Uint8Array[] = [];
    p.b.registerTransport(253, { input: (pkt, payload) => {
      expect(pkt.frameReused).toBe(false);
      kept.push(payload);
    } });
    send(p, 3);
    send(p, 3); // new frames: the first three must not have been handed out again
    expect(kept.map((k) => [...k])).toEqual([0, 1, 2, 0, 1, 2].map((i) => [i, 9, 9, 9]));
    expect(p.link.pool!.reused).toBe(0);
  });
});
