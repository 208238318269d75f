// Real libraries over synack: Node's own node:http server and client, and undici's fetch, with
// every TCP segment carried by two synack stacks on a simulated link (client 10.0.0.1, server
// 10.0.0.2), in virtual time. The http server gets its connections through
// `server.emit('connection', socket)`; the client through `createConnection` (http) and a custom
// `connect` (undici's Agent).
import * as http from 'node:http';
import { describe, expect, test } from 'vitest';
import { Agent, fetch } from 'undici';
import { Scenario } from '../src/sim/scenario.js';
import { millis } from '../src/time/instant.js';
import { createNet, type SynackNet } from '../src/api/net.js';
import { runSimulation } from '../src/api/host.js';

interface World {
  sc: Scenario;
  clientNet: SynackNet;
  serverNet: SynackNet;
  /** How many TCP connections the http server was handed. */
  connections: () => number;
  close: () => void;
}

/** An http.Server fed by a synack TCP server on 10.0.0.2:80. */
function world(handler: http.RequestListener, seed = 11): World {
  const sc = new Scenario({ seed, delay: millis(2) });
  const serverNet = createNet(sc.server.stack);
  const clientNet = createNet(sc.client.stack);
  const httpServer = http.createServer(handler);
  let n = 0;
  // As http.Server configures its own net.Server: half-open allowed (http ends the response
  // itself), Nagle off.
  const tcp = serverNet.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    n++;
    httpServer.emit('connection', socket);
  });
  tcp.listen(80, '10.0.0.2');
  return {
    sc, clientNet, serverNet,
    connections: () => n,
    close: () => {
      tcp.close();
      httpServer.close();
      httpServer.closeAllConnections();
    },
  };
}

/** Runs the simulation until `p` settles; fails if virtual time runs out first. */
async function run<T>(sc: Scenario, p: Promise<T>, maxMs = 600_000): Promise<T> {
  let done = false;
  const watched = p.finally(() => {
    done = true;
  });
  watched.catch(() => undefined);
  const r = await runSimulation(sc.sim, { until: () => done, maxDuration: millis(maxMs) });
  if (!done) throw new Error(`simulation stopped (${r.reason}) before the requests finished`);
  return watched;
}

/** One request through node:http's client; resolves with status, headers and body. */
function request(opts: http.RequestOptions, body?: (req: http.ClientRequest) => void): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; localPort: number | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.request(opts, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), localPort: req.socket?.localPort }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) body(req);
    else req.end();
  });
}

describe('node:http over synack', () => {
  test('GET with a keep-alive agent: two requests share one TCP connection', async () => {
    const w = world((req, res) => {
      const text = `hello ${req.url}`;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    // The agent makes its connections through synack instead of the kernel.
    agent.createConnection = ((o: { host?: string; port?: number }) => w.clientNet.createConnection({ host: o.host ?? '10.0.0.2', port: o.port ?? 80 })) as typeof agent.createConnection;
    const program = (async () => {
      const a = await request({ host: '10.0.0.2', port: 80, path: '/one', agent });
      const b = await request({ host: '10.0.0.2', port: 80, path: '/two', agent });
      agent.destroy();
      return [a, b];
    })();
    const [a, b] = await run(w.sc, program);
    expect(a!.status).toBe(200);
    expect(a!.body.toString()).toBe('hello /one');
    expect(b!.body.toString()).toBe('hello /two');
    expect(a!.headers['connection']).toBe('keep-alive');
    expect(a!.localPort).toBe(b!.localPort);
    expect(w.connections()).toBe(1);
    w.close();
  });

  test('chunked request and response bodies (Transfer-Encoding: chunked both ways)', async () => {
    const w = world((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        res.writeHead(200, { 'x-request-te': String(req.headers['transfer-encoding']) });
        const body = Buffer.concat(parts).toString();
        // No content-length: node:http sends the response chunked.
        for (const word of body.split(' ')) res.write(`${word.toUpperCase()};`);
        res.end();
      });
    });
    const program = request(
      { host: '10.0.0.2', port: 80, method: 'POST', path: '/upper', createConnection: () => w.clientNet.createConnection({ host: '10.0.0.2', port: 80 }) },
      (req) => {
        req.write('streaming ');
        req.write('a body ');
        req.end('in chunks');
      },
    );
    const r = await run(w.sc, program);
    expect(r.status).toBe(200);
    expect(r.headers['transfer-encoding']).toBe('chunked');
    expect(r.headers['x-request-te']).toBe('chunked');
    expect(r.body.toString()).toBe('STREAMING;A;BODY;IN;CHUNKS;');
    w.close();
  });

  test('a 2 MB upload and a 2 MB download, byte for byte', async () => {
    const size = 2 * 1024 * 1024;
    const pattern = (i: number): number => (i * 7 + 3) & 0xff;
    const w = world((req, res) => {
      let got = 0;
      let ok = true;
      req.on('data', (d: Buffer) => {
        for (let i = 0; i < d.length; i++) if (d[i] !== pattern(got + i)) ok = false;
        got += d.length;
      });
      req.on('end', () => {
        const out = Buffer.alloc(size);
        for (let i = 0; i < size; i++) out[i] = pattern(i);
        res.writeHead(200, { 'x-upload-ok': String(ok && got === size) });
        res.end(out);
      });
    });
    const program = request(
      { host: '10.0.0.2', port: 80, method: 'PUT', path: '/blob', createConnection: () => w.clientNet.createConnection({ host: '10.0.0.2', port: 80 }) },
      (req) => {
        const body = Buffer.alloc(size);
        for (let i = 0; i < size; i++) body[i] = pattern(i);
        req.end(body);
      },
    );
    const r = await run(w.sc, program);
    expect(r.headers['x-upload-ok']).toBe('true');
    expect(r.body.length).toBe(size);
    let same = true;
    for (let i = 0; i < size; i++) if (r.body[i] !== pattern(i)) same = false;
    expect(same).toBe(true);
    w.close();
  });

  test('the server resets a connection: the client request fails with ECONNRESET', async () => {
    const w = world((req) => {
      req.socket.resetAndDestroy();
    });
    const program = request({ host: '10.0.0.2', port: 80, path: '/', createConnection: () => w.clientNet.createConnection({ host: '10.0.0.2', port: 80 }) });
    await expect(run(w.sc, program)).rejects.toMatchObject({ code: 'ECONNRESET' });
    w.close();
  });
});

describe('fetch (undici) over synack', () => {
  /**
   * An undici Agent whose connections are synack sockets from `net`. One connection per origin
   * (`connections: 1`), so keep-alive reuse is observable: undici's Pool would open a second
   * connection when a request is dispatched before the first has been marked idle.
   */
  function synackAgent(net: SynackNet): Agent {
    return new Agent({
      connections: 1,
      connect: (opts, cb) => {
        const socket = net.connect({ host: opts.hostname, port: Number(opts.port) || 80 });
        const onError = (e: Error): void => cb(e, null);
        socket.once('error', onError);
        socket.once('connect', () => {
          socket.off('error', onError);
          cb(null, socket);
        });
      },
    });
  }

  test('GET and POST with JSON through one keep-alive connection', async () => {
    const w = world((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        const body = JSON.stringify({ method: req.method, url: req.url, got: Buffer.concat(parts).toString() });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
      });
    });
    const dispatcher = synackAgent(w.clientNet);
    const program = (async () => {
      const a = await fetch('http://10.0.0.2/items?x=1', { dispatcher });
      const aj = await a.json();
      const b = await fetch('http://10.0.0.2/items', { method: 'POST', body: JSON.stringify({ n: 42 }), headers: { 'content-type': 'application/json' }, dispatcher });
      const bj = await b.json();
      await dispatcher.close();
      return { a: { status: a.status, json: aj }, b: { status: b.status, json: bj } };
    })();
    const r = await run(w.sc, program);
    expect(r.a).toEqual({ status: 200, json: { method: 'GET', url: '/items?x=1', got: '' } });
    expect(r.b).toEqual({ status: 200, json: { method: 'POST', url: '/items', got: '{"n":42}' } });
    expect(w.connections()).toBe(1);
    w.close();
  });

  test('a streamed response body is read as it arrives', async () => {
    const w = world((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let i = 0;
      const next = (): void => {
        if (i === 50) {
          res.end();
          return;
        }
        res.write(`line ${i++}\n`, next);
      };
      next();
    });
    const dispatcher = synackAgent(w.clientNet);
    const program = (async () => {
      const res = await fetch('http://10.0.0.2/stream', { dispatcher });
      let text = '';
      const dec = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) text += dec.decode(chunk, { stream: true });
      await dispatcher.close();
      return { te: res.headers.get('transfer-encoding'), text };
    })();
    const r = await run(w.sc, program);
    expect(r.te).toBe('chunked');
    expect(r.text.split('\n').filter(Boolean)).toHaveLength(50);
    expect(r.text.startsWith('line 0\nline 1\n')).toBe(true);
    w.close();
  });

  test('a refused connection rejects fetch with the socket error as its cause', async () => {
    const sc = new Scenario({ seed: 3, delay: millis(2) });
    const dispatcher = synackAgent(createNet(sc.client.stack));
    const p = fetch('http://10.0.0.2:81/', { dispatcher });
    const err = await run(sc, p).then(() => undefined, (e: unknown) => e as Error & { cause?: { code?: string; message?: string } });
    expect(err).toBeInstanceOf(TypeError);
    expect(err!.cause).toMatchObject({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 10.0.0.2:81' });
    await dispatcher.close();
  });
});
