// The data path's frame ownership (docs/performance.md items 1 and 6): frames a recycling link
// hands out come back only from a receiver that kept nothing of them, received data is kept as
// views only of frames that are not reused, and middleware that keeps frames sees them intact.
// Two real stacks on an in-memory PointToPoint, bulk transfers checked byte for byte.
import { describe, expect, test } from 'vitest';
import { Stack } from '../src/stack.js';
import { SimRng } from '../src/sim/rng.js';
import { Simulation } from '../src/sim/driver.js';
import { PointToPoint } from '../src/link/memory.js';
import type { Port } from '../src/link/link.js';
import { SocketLayer, type TcpSocket } from '../src/api/socket.js';
import { IpAddr } from '../src/wire/ip-addr.js';
import { millis, type Instant } from '../src/time/instant.js';

/** A port in front of `inner` that keeps every frame it passes, both ways, by reference (as a recorder does), with a copy to compare later. */
class Keeper implements Port {
  readonly kept: { frame: Uint8Array; copy: Uint8Array }[] = [];
  onFrame: ((frame: Uint8Array, now: Instant) => void) | undefined = undefined;
  constructor(private readonly inner: Port) {
    inner.onFrame = (frame, now) => {
      this.kept.push({ frame, copy: frame.slice() });
      this.onFrame?.(frame, now);
    };
  }
  get medium(): Port['medium'] {
    return this.inner.medium;
  }
  get mtu(): number {
    return this.inner.mtu;
  }
  send(frame: Uint8Array, now: Instant): void {
    this.kept.push({ frame, copy: frame.slice() });
    this.inner.send(frame, now);
  }
}

interface Setup {
  mtu: number;
  recycle: boolean;
  /** Put a Keeper in front of the client (sender), the server (receiver), or neither. */
  keeper?: 'client' | 'server';
}

/** Sends `total` pseudo-random bytes client -> server; the server reads only once everything is in its buffer when `readLate`. */
function transfer(s: Setup, total: number, readLate = false) {
  const rng = new SimRng(7);
  const sim = new Simulation({ maxRoundsPerInstant: 1_000_000 });
  const link = new PointToPoint({ mtu: s.mtu, delay: millis(1), recycleFrames: s.recycle });
  const client = new Stack({ rng: rng.fork('c'), name: 'client', tcp: { rcvBuf: 8 << 20, rcvBufMax: 8 << 20, sndBuf: 1 << 20 } });
  const server = new Stack({ rng: rng.fork('s'), name: 'server', tcp: { rcvBuf: 8 << 20, rcvBufMax: 8 << 20 } });
  const keeper = s.keeper === 'client' ? new Keeper(link.a) : s.keeper === 'server' ? new Keeper(link.b) : undefined;
  client.addInterface({ port: s.keeper === 'client' ? keeper! : link.a, ipv4: '10.0.0.1/24', mac: '02:00:00:00:00:01', linkLocal: false });
  server.addInterface({ port: s.keeper === 'server' ? keeper! : link.b, ipv4: '10.0.0.2/24', mac: '02:00:00:00:00:02', linkLocal: false });
  sim.add(link, 'link').add(client, 'client').add(server, 'server');
  const l = new SocketLayer(server.tcp).socket();
  expect(l.bind('0.0.0.0', 80) ?? l.listen(8)).toBeUndefined();
  const c = new SocketLayer(client.tcp).socket();
  expect(c.connect(IpAddr.from('10.0.0.2'), 80)).toBe('EINPROGRESS');
  const data = new Uint8Array(total);
  let x = 12345;
  for (let i = 0; i < total; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  const got = new Uint8Array(total);
  let sent = 0;
  let received = 0;
  let peer: TcpSocket | undefined;
  let heldWithoutRing = false;
  const r = sim.run({
    maxDuration: millis(60_000),
    until: () => {
      if (peer === undefined) {
        const a = l.accept();
        if (typeof a !== 'string') peer = a;
      }
      if (c.state === 'ESTABLISHED') {
        while (sent < total) {
          const n = c.send(data.subarray(sent, Math.min(total, sent + 100_000)));
          if (typeof n !== 'number' || n === 0) break;
          sent += n;
        }
      }
      if (peer !== undefined) {
        const tcb = peer.connection!;
        if (readLate && tcb.rcvBuf.length === total) heldWithoutRing = tcb.rcvBuf.allocated === 0;
        if (!readLate || tcb.rcvBuf.length === total) {
          for (;;) {
            const n = peer.recv(got.subarray(received));
            if (typeof n !== 'number' || n === 0) break;
            received += n;
          }
        }
      }
      return received === total;
    },
  });
  expect(r.reason).toBe('until');
  expect(Buffer.compare(got, data)).toBe(0);
  return { link, keeper, heldWithoutRing };
}

describe('frame ownership on the data path', () => {
  test.each([1500, 65535])('over a recycling link (MTU %i) frames are reused and the bytes arrive exact', (mtu) => {
    const { link } = transfer({ mtu, recycle: true }, 3_000_000);
    expect(link.pool!.reused).toBeGreaterThan(link.stats.delivered / 4);
  });

  test.each(['client', 'server'] as const)('a port in front of the %s that keeps frames sees every frame intact, and none is reused', (where) => {
    const { link, keeper } = transfer({ mtu: 1500, recycle: true, keeper: where }, 1_000_000);
    expect(keeper!.kept.length).toBeGreaterThan(500);
    for (const k of keeper!.kept) expect(Buffer.compare(k.frame, k.copy)).toBe(0);
    // Frames through the keeper are either the sender's own or never released by the receiver.
    if (where === 'server') expect(link.pool!.reused).toBe(0);
  });

  test('without recycling, received data is kept as views of the frames: the receive ring is never allocated', () => {
    const { heldWithoutRing } = transfer({ mtu: 1500, recycle: false }, 1_000_000, true);
    expect(heldWithoutRing).toBe(true);
  });
});
