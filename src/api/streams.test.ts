// The sockets API (streams.ts) over two simulated stacks, in virtual time through runSimulation.
import { describe, expect, test } from 'vitest';
import { Scenario } from '../sim/scenario.js';
import { millis } from '../time/instant.js';
import { runSimulation } from './host.js';
import { createSockets, type StreamSocket } from './streams.js';

function setup(seed = 5) {
  const sc = new Scenario({ seed, delay: millis(1) });
  return { sc, client: createSockets(sc.client.stack), server: createSockets(sc.server.stack) };
}

/** Runs the simulation until `p` settles (or virtual time runs out), then returns its outcome. */
async function run<T>(sc: Scenario, p: Promise<T>, maxMs = 120_000): Promise<T> {
  let done = false;
  const watched = p.finally(() => {
    done = true;
  });
  watched.catch(() => undefined);
  const r = await runSimulation(sc.sim, { until: () => done, maxDuration: millis(maxMs) });
  if (!done) throw new Error(`simulation stopped (${r.reason}) before the program finished`);
  return watched;
}

async function readAll(s: StreamSocket): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of s.readable as unknown as AsyncIterable<Uint8Array>) parts.push(chunk);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

describe('WinterTC sockets over synack (streams.ts)', () => {
  test('echo: connect, write, close the writer, read to the end; opened and closed resolve', async () => {
    const { sc, client, server } = setup();
    const listener = server.listen({ hostname: '10.0.0.2', port: 7 });
    expect(listener.address).toEqual({ hostname: '10.0.0.2', port: 7 });
    const served = (async () => {
      for await (const s of listener) {
        await s.readable.pipeTo(s.writable);
        await s.closed;
        await listener.close();
      }
    })();
    const program = (async () => {
      const s = client.connect({ hostname: '10.0.0.2', port: 7 });
      const info = await s.opened;
      expect(info.remoteAddress).toBe('10.0.0.2:7');
      expect(info.localAddress).toMatch(/^10\.0\.0\.1:\d+$/);
      const w = s.writable.getWriter();
      await w.write(enc.encode('hello, '));
      await w.write(enc.encode('streams'));
      await w.close();
      const text = dec.decode(await readAll(s));
      await s.closed;
      await served;
      return text;
    })();
    expect(await run(sc, program)).toBe('hello, streams');
    await runSimulation(sc.sim, { maxDuration: millis(1000) });
    expect(s0(sc)).toBe(0);
  });

  test('a refused connection rejects opened and closed with ECONNREFUSED in Node\'s format', async () => {
    const { sc, client } = setup();
    const s = client.connect('10.0.0.2:9');
    const [opened, closed] = await run(sc, Promise.allSettled([s.opened, s.closed]));
    expect(opened.status).toBe('rejected');
    expect(closed.status).toBe('rejected');
    const e = (opened as PromiseRejectedResult).reason as Error & { code: string; syscall: string; address: string; port: number };
    expect(e.message).toBe('connect ECONNREFUSED 10.0.0.2:9');
    expect(e).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect', address: '10.0.0.2', port: 9, errno: -111 });
    await expect(s.readable.getReader().read()).rejects.toThrow('ECONNREFUSED');
  });

  test('byte backpressure: a reader that does not read closes the window and stalls the writer', async () => {
    const { sc, client, server } = setup();
    const listener = server.listen({ port: 80 });
    const total = 1024 * 1024;
    let accepted = 0;
    const writer = (async () => {
      const s = await listener.accept();
      const w = s.writable.getWriter();
      const chunk = new Uint8Array(16 * 1024).fill(7);
      for (let sent = 0; sent < total; sent += chunk.length) {
        await w.write(chunk);
        accepted += chunk.length;
      }
      await w.close();
    })();
    const s = client.connect({ hostname: '10.0.0.2', port: 80 });
    await run(sc, s.opened);
    // Nobody reads for ten virtual seconds: only the two TCP buffers hold data.
    await runSimulation(sc.sim, { maxDuration: millis(10_000) });
    const stalledAt = accepted;
    expect(stalledAt).toBeLessThan(total / 2);
    const cliTcb = [...sc.client.stack.tcp.connections()][0]!;
    expect(cliTcb.rcvBuf.free).toBeLessThan(cliTcb.mss); // the window is (all but) closed
    // Now read: everything arrives, in order.
    const got = await run(sc, readAll(s));
    await run(sc, writer);
    expect(got.length).toBe(total);
    expect(got.every((b) => b === 7)).toBe(true);
    await listener.close();
  });

  test('a BYOB reader reads into the caller\'s buffer', async () => {
    const { sc, client, server } = setup();
    const listener = server.listen({ port: 80 });
    void (async () => {
      const s = await listener.accept();
      const w = s.writable.getWriter();
      await w.write(enc.encode('0123456789'));
      await w.close();
    })();
    const program = (async () => {
      const s = client.connect('10.0.0.2:80');
      const reader = s.readable.getReader({ mode: 'byob' });
      let buf = new Uint8Array(4);
      const seen: string[] = [];
      while (true) {
        const r = await reader.read(buf);
        if (r.done) break;
        seen.push(dec.decode(r.value));
        buf = new Uint8Array(r.value.buffer, 0, 4);
      }
      return seen;
    })();
    const seen = await run(sc, program);
    expect(seen.join('')).toBe('0123456789');
    expect(seen.every((p) => p.length <= 4)).toBe(true);
  });

  test('allowHalfOpen: false closes our side at the peer\'s FIN; true keeps writing after it', async () => {
    for (const allowHalfOpen of [false, true]) {
      const { sc, client, server } = setup();
      const listener = server.listen({ port: 80, allowHalfOpen: true });
      const served = (async () => {
        const s = await listener.accept();
        const w = s.writable.getWriter();
        await w.write(enc.encode('bye'));
        await w.close(); // our FIN; we keep reading
        return dec.decode(await readAll(s));
      })();
      const program = (async () => {
        const s = client.connect('10.0.0.2:80', { allowHalfOpen });
        const w = s.writable.getWriter();
        const got = dec.decode(await readAll(s));
        let late = 'wrote';
        try {
          await w.write(enc.encode('late'));
          await w.close();
        } catch {
          late = 'refused';
        }
        await s.closed;
        return { got, late, serverGot: await served };
      })();
      const r = await run(sc, program);
      expect(r.got).toBe('bye');
      expect(r.late).toBe(allowHalfOpen ? 'wrote' : 'refused');
      expect(r.serverGot).toBe(allowHalfOpen ? 'late' : '');
    }
  });

  test('a reset from the peer errors the readable with ECONNRESET and rejects closed', async () => {
    const { sc, client, server } = setup();
    const listener = server.listen({ port: 80 });
    void (async () => {
      const s = await listener.accept();
      await s.writable.abort(new Error('go away'));
    })();
    const s = client.connect('10.0.0.2:80');
    const [read, closed] = await run(sc, Promise.allSettled([s.readable.getReader().read(), s.closed]));
    expect(read.status).toBe('rejected');
    expect(((read as PromiseRejectedResult).reason as Error).message).toBe('read ECONNRESET');
    expect(closed.status).toBe('rejected');
  });

  test('close() ends both directions and resolves closed; the peer reads EOF', async () => {
    const { sc, client, server } = setup();
    const listener = server.listen({ port: 80 });
    const served = (async () => dec.decode(await readAll(await listener.accept())))();
    const program = (async () => {
      const s = client.connect('10.0.0.2:80');
      await s.opened;
      const w = s.writable.getWriter();
      await w.write(enc.encode('last words'));
      w.releaseLock();
      await s.close();
      return served;
    })();
    expect(await run(sc, program)).toBe('last words');
  });

  test('listen on a port in use throws listen EADDRINUSE; listen on a foreign address throws EADDRNOTAVAIL', () => {
    const { server } = setup();
    server.listen({ port: 80 });
    expect(() => server.listen({ port: 80 })).toThrow('listen EADDRINUSE: address already in use 0.0.0.0:80');
    expect(() => server.listen({ hostname: '192.0.2.9', port: 81 })).toThrow('listen EADDRNOTAVAIL: address not available 192.0.2.9:81');
  });

  test('TLS is refused plainly, and startTls is absent', () => {
    const { client } = setup();
    expect(() => client.connect('10.0.0.2:443', { secureTransport: 'on' })).toThrow(/not supported/);
    expect('startTls' in client.connect('10.0.0.2:80')).toBe(false);
  });
});

/** Connections the server stack still holds in states other than TIME-WAIT and CLOSED (a leak check). */
function s0(sc: Scenario): number {
  return [...sc.server.stack.tcp.connections()].filter((t) => t.state !== 'TIME-WAIT' && t.state !== 'CLOSED').length;
}
