// node:http and fetch over synack against the Linux kernel: synack on a TAP device inside a
// network namespace the test creates (test/interop's Env: 10.77.0.2 / fd77::2 for synack,
// 10.77.0.1 / fd77::1 for the kernel), in real time under the RealtimeDriver. curl in the
// namespace fetches from a node:http server whose connections are synack sockets; synack's
// undici fetch talks to a node:http server the namespace's kernel TCP serves. Needs root,
// /dev/net/tun and the TAP addon (skips with a one-line reason otherwise, as test/interop does).
import * as http from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { Agent, fetch } from 'undici';
import { createNet, type SynackNet } from '../src/api/net.js';
import { ADDR, Envs } from './interop/host.js';
import { have, interopSkipReason } from './interop/netns.js';

const SKIP = interopSkipReason() ?? (have('curl') ? undefined : 'needs curl (apt-get install curl)');
const bracket = (a: string): string => (a.includes(':') ? `[${a}]` : a);

/** The kernel side's HTTP server: node:http on the kernel's TCP, counting its connections. */
const KERNEL_SERVER = `
const http = require('node:http');
let conns = 0;
const srv = http.createServer((req, res) => {
  const parts = [];
  req.on('data', (d) => parts.push(d));
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: req.method, url: req.url, body: Buffer.concat(parts).toString(), conns }));
  });
});
srv.on('connection', () => conns++);
srv.listen(8000, process.argv[1]);
`;

describe.skipIf(SKIP !== undefined)(`http and fetch over synack against the kernel (TAP)${SKIP !== undefined ? ` (skipped: ${SKIP})` : ''}`, () => {
  const envs = new Envs();
  afterEach(() => envs.teardown());

  for (const family of [4, 6] as const) {
    const S = ADDR[family].synack;
    const K = ADDR[family].kernel;

    test(`IPv${family}: curl fetches two URLs over one keep-alive connection from node:http on synack, chunked`, async () => {
      const env = await envs.start();
      const net: SynackNet = createNet(env.synack.host.stack, { driver: env.synack.host.driver });
      const app = http.createServer((req, res) => {
        res.write(`path ${req.url}\n`);
        res.end('served by node:http over synack\n');
      });
      let conns = 0;
      const tcp = net.createServer({ allowHalfOpen: true, noDelay: true }, (s) => {
        conns++;
        app.emit('connection', s);
      });
      await new Promise<void>((resolve) => tcp.listen(8080, S, resolve));
      try {
        const r = await env.ns.exec('curl', '-sS', '--http1.1', '-D', '-', '--max-time', '20', `http://${bracket(S)}:8080/a`, `http://${bracket(S)}:8080/b`);
        expect(r.stdout).toMatch(/HTTP\/1\.1 200 OK/);
        expect(r.stdout.match(/transfer-encoding: chunked/gi)).toHaveLength(2);
        expect(r.stdout).toContain('path /a\nserved by node:http over synack\n');
        expect(r.stdout).toContain('path /b\nserved by node:http over synack\n');
        expect(conns).toBe(1);
      } finally {
        tcp.close();
        app.closeAllConnections();
        app.close();
      }
    });

    test(`IPv${family}: undici fetch on synack, GET and POST to node:http on the kernel, one connection`, async () => {
      const env = await envs.start();
      env.ns.spawn(process.execPath, '-e', KERNEL_SERVER, K);
      await env.ns.listening(8000);
      const net = createNet(env.synack.host.stack, { driver: env.synack.host.driver });
      const dispatcher = new Agent({
        connections: 1,
        connect: (o, cb) => {
          const host = o.hostname.startsWith('[') ? o.hostname.slice(1, -1) : o.hostname;
          const s = net.connect({ host, port: Number(o.port) });
          const onError = (e: Error): void => cb(e, null);
          s.once('error', onError);
          s.once('connect', () => {
            s.off('error', onError);
            cb(null, s);
          });
        },
      });
      try {
        const a = await (await fetch(`http://${bracket(K)}:8000/first?x=1`, { dispatcher })).json();
        const b = await (await fetch(`http://${bracket(K)}:8000/second`, { method: 'POST', body: 'synack says hi', dispatcher })).json();
        expect(a).toEqual({ method: 'GET', url: '/first?x=1', body: '', conns: 1 });
        expect(b).toEqual({ method: 'POST', url: '/second', body: 'synack says hi', conns: 1 });
      } finally {
        await dispatcher.close();
      }
    });
  }
});
