// The reference every synack figure is compared with in the same run: Node's own `net` over the
// kernel's loopback (127.0.0.1), client and server in this one process, doing the same work.
// The kernel's TCP does the protocol work on the other core as softirq and syscalls; the JS
// side pays for libuv callbacks, Buffers and streams.
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { percentileSorted } from './stats.js';

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // A fresh port for every measurement: the kernel's TIME-WAIT entries from the previous one
    // hold 4-tuples toward the old port, so ephemeral ports are never exhausted.
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

const closeServer = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

/** Moves `bytes` from a client to a server over 127.0.0.1; resolves to Gbit/s of payload. */
export async function nodeBulk(bytes: number): Promise<number> {
  const chunk = new Uint8Array(256 * 1024);
  let got = 0;
  let t0 = 0;
  let finish: (secs: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => { finish = resolve; });
  const server = createServer((sock) => {
    sock.on('data', (d: Uint8Array) => {
      got += d.length;
      if (got >= bytes) {
        finish((performance.now() - t0) / 1000);
        sock.destroy();
      }
    });
    sock.on('error', () => undefined);
  });
  const port = await listen(server);
  const client = connect(port, '127.0.0.1', () => {
    t0 = performance.now();
    let sent = 0;
    const pump = (): void => {
      while (sent < bytes) {
        const n = Math.min(chunk.length, bytes - sent);
        sent += n;
        if (!client.write(chunk.subarray(0, n))) {
          client.once('drain', pump);
          return;
        }
      }
      client.end();
    };
    pump();
  });
  client.on('error', () => undefined); // the server destroys its end once it has everything
  const secs = await done;
  client.destroy();
  await closeServer(server);
  return (bytes * 8) / secs / 1e9;
}

/** 1-byte ping-pong on one connection: round trips per second and per-trip latency (µs). */
export async function nodePingPong(trips: number): Promise<{ perSecond: number; p50: number; p99: number }> {
  const server = createServer((sock) => {
    sock.setNoDelay(true);
    sock.on('data', (d: Uint8Array) => sock.write(d));
    sock.on('error', () => undefined);
  });
  const port = await listen(server);
  const lat = new Float64Array(trips);
  const one = new Uint8Array(1);
  const secs = await new Promise<number>((resolve, reject) => {
    const client = connect(port, '127.0.0.1');
    client.setNoDelay(true);
    client.on('error', reject);
    let n = 0;
    let t = 0;
    let t0 = 0;
    client.on('connect', () => {
      t0 = t = performance.now();
      client.write(one);
    });
    client.on('data', () => {
      const now = performance.now();
      lat[n++] = (now - t) * 1000;
      if (n >= trips) {
        client.destroy();
        resolve((now - t0) / 1000);
        return;
      }
      t = performance.now();
      client.write(one);
    });
  });
  await closeServer(server);
  lat.sort();
  return { perSecond: trips / secs, p50: percentileSorted(lat, 50), p99: percentileSorted(lat, 99) };
}

/**
 * `count` connections, `concurrency` at a time: connect, send 1 byte, the server echoes it, the
 * client closes first (so TIME-WAIT is the client's), the server closes on end. Resolves to
 * completed connections per second.
 */
export async function nodeConnectionRate(count: number, concurrency: number): Promise<number> {
  const server = createServer((sock) => {
    sock.setNoDelay(true);
    sock.on('data', (d: Uint8Array) => sock.write(d));
    sock.on('error', () => undefined);
    // allowHalfOpen is false: the client's FIN ends this side too.
  });
  const port = await listen(server);
  const one = new Uint8Array(1);
  const secs = await new Promise<number>((resolve, reject) => {
    let started = 0;
    let finished = 0;
    const t0 = performance.now();
    const start = (): void => {
      started++;
      const c: Socket = connect(port, '127.0.0.1');
      c.setNoDelay(true);
      c.on('connect', () => c.write(one));
      c.on('data', () => c.end());
      c.on('error', reject);
      c.on('close', () => {
        finished++;
        if (finished === count) resolve((performance.now() - t0) / 1000);
        else if (started < count) start();
      });
    };
    for (let i = 0; i < Math.min(concurrency, count); i++) start();
  });
  await closeServer(server);
  return count / secs;
}
