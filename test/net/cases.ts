// The differential cases: small client/server programs against a node:net-shaped module. Each is
// written so that, within one channel, the order of events is fixed by causality on a real kernel
// (an action waits for the event that makes it safe). Where a case needs time to pass (a reset
// to arrive, a peer to go idle), it uses socket.setTimeout as its timer: real milliseconds on the
// kernel, virtual ones in the simulation, with generous margins.
import type { Server, Socket } from 'node:net';
import type { CaseContext, NetCase } from './harness.js';

const KB = 1024;

/** A payload of `n` bytes. */
function bytes(n: number, fill = 0x61): Buffer {
  return Buffer.alloc(n, fill);
}

/** Listens on an ephemeral port of ctx.host and calls `then` with the port. */
function listen(ctx: CaseContext, srv: Server, then: (port: number) => void, host: string = ctx.host): void {
  srv.listen(0, host, () => {
    const a = srv.address();
    if (a === null || typeof a === 'string') throw new Error('no address');
    then(a.port);
  });
}

/** A port on which nothing listens: listen on an ephemeral port, then close it. */
function closedPort(ctx: CaseContext, then: (port: number) => void, host: string = ctx.host): void {
  const srv = ctx.serverNet.createServer();
  listen(ctx, srv, (port) => srv.close(() => then(port)), host);
}

export const cases: NetCase[] = [
  {
    name: 'graceful close, client ends first',
    run(ctx) {
      const fin = ctx.countdown(3);
      const srv = ctx.watchServer('server', ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.on('close', () => srv.close());
      }));
      srv.on('close', fin);
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.on('connect', () => c.end('hello'));
        c.on('close', fin);
      });
      srv.on('connection', (s) => s.on('close', fin));
    },
  },
  {
    name: 'graceful close, server ends first',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.end('bye');
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.on('close', fin);
      });
    },
  },
  {
    name: 'echo round trip then client end',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.on('data', (d) => s.write(d));
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        let got = 0;
        c.on('connect', () => c.write('0123456789'));
        c.on('data', (d) => {
          got += d.length;
          if (got === 10) c.end();
        });
        c.on('close', fin);
      });
    },
  },
  {
    name: 'allowHalfOpen on the server: it writes after the client ended',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer({ allowHalfOpen: true }, (s) => {
        ctx.watch('server', s);
        s.on('end', () => {
          ctx.state('server', s, 'after end');
          s.write('late reply', () => s.end());
        });
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.on('connect', () => c.end('request'));
        c.on('finish', () => ctx.state('client', c, 'after finish'));
        c.on('close', fin);
      });
    },
  },
  {
    name: 'allowHalfOpen on the client: it writes after the server ended',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.end('server done');
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect({ port, host: ctx.host, allowHalfOpen: true }));
        c.on('end', () => {
          ctx.state('client', c, 'after end');
          c.end('client still talking');
        });
        c.on('close', fin);
      });
    },
  },
  {
    name: 'allowHalfOpen on both sides: each ends only after the other',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer({ allowHalfOpen: true }, (s) => {
        ctx.watch('server', s);
        s.on('end', () => s.end('second'));
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect({ port, host: ctx.host, allowHalfOpen: true }));
        c.on('connect', () => c.end('first'));
        c.on('end', () => ctx.state('client', c, 'after end'));
        c.on('close', fin);
      });
    },
  },
  {
    name: 'ECONNREFUSED over IPv4',
    run(ctx) {
      closedPort(ctx, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        ctx.state('client', c, 'after connect()');
        c.on('close', () => ctx.done());
      });
    },
  },
  {
    name: 'ECONNREFUSED over IPv6',
    run(ctx) {
      closedPort(ctx, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect({ port, host: ctx.host6 }));
        c.on('close', () => ctx.done());
      }, ctx.host6);
    },
  },
  {
    name: 'resetAndDestroy by the client: the server reads ECONNRESET',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.on('connect', () => c.write('x', () => c.resetAndDestroy()));
        c.on('close', fin);
      });
      // The reset must not overtake the byte: the server reads it first.
      srv.on('connection', (s) => s.once('data', () => ctx.log('server', 'got the byte')));
    },
  },
  {
    name: 'resetAndDestroy by the server after reading',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.on('data', () => s.resetAndDestroy());
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.on('connect', () => c.write('ping'));
        c.on('close', fin);
      });
    },
  },
  {
    name: 'resetAndDestroy before connect: ERR_SOCKET_CLOSED',
    run(ctx) {
      const c = ctx.watch('client', new ctx.clientNet.Socket());
      ctx.state('client', c, 'new');
      c.resetAndDestroy();
      ctx.state('client', c, 'after resetAndDestroy');
      c.on('close', () => ctx.done());
    },
  },
  {
    name: 'resetAndDestroy while connecting waits for the connection, then resets',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.resetAndDestroy();
        ctx.state('client', c, 'after resetAndDestroy');
        c.on('close', fin);
      });
    },
  },
  {
    name: 'destroy with an error: error then close(true); the peer sees a FIN',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.on('connect', () => {
          c.destroy(new Error('boom'));
          ctx.state('client', c, 'after destroy');
        });
        c.on('close', fin);
      });
    },
  },
  {
    name: 'destroy without an error after connect',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.on('connect', () => c.destroy());
        c.on('close', fin);
      });
    },
  },
  {
    name: 'destroy before the connection starts: no connection is made',
    run(ctx) {
      const srv = ctx.watchServer('server', ctx.serverNet.createServer());
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.destroy();
        ctx.state('client', c, 'after destroy');
        c.on('close', () => {
          srv.getConnections((e, n) => {
            ctx.log('server', `connections ${String(e)} ${n}`);
            srv.close();
          });
        });
      });
      srv.on('close', () => ctx.done());
    },
  },
  {
    name: 'destroy with an error before connecting',
    run(ctx) {
      const c = ctx.watch('client', new ctx.clientNet.Socket());
      c.destroy(new Error('early'));
      c.on('close', () => ctx.done());
    },
  },
  {
    name: 'write after end: ERR_STREAM_WRITE_AFTER_END',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.on('connect', () => {
          c.end('last');
          const r = c.write('too late', (e) => ctx.log('client', `write callback ${ctx.err(e)}`));
          ctx.log('client', `write returned ${r}`);
        });
        c.on('close', fin);
      });
    },
  },
  {
    name: 'write after the peer ended: EPIPE "ended by the other party"',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.end();
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.on('finish', () => {
          const r = c.write('after FIN', (e) => ctx.log('client', `write callback ${ctx.err(e)}`));
          ctx.log('client', `write returned ${r}`);
        });
        c.on('close', fin);
      });
    },
  },
  {
    name: 'write to a peer that has closed: write EPIPE after its reset',
    run(ctx) {
      const fin = ctx.countdown(2);
      let client: Socket | undefined;
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.end();
        s.on('end', () => ctx.log('server', 'unexpected end'));
        s.on('finish', () => s.destroy());
        s.on('close', () => {
          srv.close();
          fin();
          // The server socket is gone: the next data draws a reset from its host.
          client!.write('first', (e) => {
            ctx.log('client', `first write callback ${ctx.err(e ?? null)}`);
            client!.setTimeout(100);
          });
        });
      });
      listen(ctx, srv, (port) => {
        const c = (client = ctx.watch('client', ctx.clientNet.connect({ port, host: ctx.host, allowHalfOpen: true })));
        c.on('timeout', () => {
          c.setTimeout(0);
          c.write('second', (e) => ctx.log('client', `second write callback ${ctx.err(e)}`));
        });
        c.on('close', fin);
      });
    },
  },
  {
    name: 'end with data',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        let text = '';
        s.setEncoding('utf8');
        s.on('data', (d: string) => (text += d));
        s.on('end', () => ctx.log('server', `text ${JSON.stringify(text)}`));
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.end('final words', () => ctx.log('client', 'end callback'));
        ctx.state('client', c, 'after end()');
        c.on('close', fin);
      });
    },
  },
  {
    name: 'end twice and end callbacks',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.on('connect', () => {
          c.end(() => ctx.log('client', 'first end callback'));
          c.end(() => ctx.log('client', 'second end callback'));
        });
        c.on('close', fin);
      });
    },
  },
  {
    name: 'pause and resume with backpressure',
    timeoutMs: 20_000,
    run(ctx) {
      // Only buffer-size-independent facts are recorded: the writer is told to wait at least
      // once while the reader is paused, and every byte arrives after resume().
      const total = 16 * 1024 * KB;
      const fin = ctx.countdown(2);
      let server: Socket | undefined;
      const srv = ctx.serverNet.createServer({ pauseOnConnect: true }, (s) => {
        server = ctx.watch('server', s);
        ctx.state('server', s, 'paused at connection');
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.clientNet.connect(port, ctx.host);
        const chunk = bytes(64 * KB);
        let sent = 0;
        let blocked = false;
        const pump = (): void => {
          while (sent < total) {
            sent += chunk.length;
            if (!c.write(chunk)) {
              if (!blocked) {
                blocked = true;
                ctx.log('client', `blocked; server bytesRead below total ${server!.bytesRead < total}`);
                server!.resume();
              }
              c.once('drain', pump);
              return;
            }
          }
          ctx.log('client', `all written; was blocked ${blocked}`);
          c.end();
        };
        // Start once both ends exist: the client's 'connect' and the server's 'connection' race.
        let ready = 0;
        const go = (): void => {
          if (++ready === 2) pump();
        };
        c.on('connect', go);
        srv.on('connection', go);
        c.on('finish', () => ctx.state('client', c, 'finish'));
        c.on('close', (h) => {
          ctx.state('client', c, `close ${h}`);
          fin();
        });
        c.resume();
      });
    },
  },
  {
    name: 'client pause stops data until resume',
    run(ctx) {
      const fin = ctx.countdown(2);
      let client: Socket | undefined;
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.write('part one', () => {
          // The client has paused: this second part waits in its buffers until resume().
          s.end('part two');
        });
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = (client = ctx.watch('client', ctx.clientNet.connect(port, ctx.host)));
        c.once('data', () => {
          c.pause();
          ctx.state('client', c, `paused ${c.isPaused()}`);
          c.setTimeout(100);
        });
        c.on('timeout', () => {
          c.setTimeout(0);
          ctx.log('client', `readableLength>0 ${client!.readableLength > 0}`);
          c.resume();
        });
        c.on('close', fin);
      });
    },
  },
  {
    name: 'setTimeout fires and the socket stays open',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.setTimeout(100, () => ctx.log('client', 'timeout callback'));
        ctx.log('client', `timeout property ${String((c as Socket & { timeout?: number }).timeout)}`);
        let n = 0;
        c.on('timeout', () => {
          ctx.state('client', c, 'in timeout');
          // The timer fires once; activity (this write) arms it again.
          if (++n === 1) c.write('still here');
          else c.end();
        });
        c.on('close', fin);
      });
    },
  },
  {
    name: 'setTimeout is reset by activity',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.setTimeout(250);
        s.on('timeout', () => s.end());
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        let n = 0;
        c.setTimeout(100);
        c.on('timeout', () => {
          c.write(`tick${++n}`);
          if (n === 2) c.setTimeout(0);
        });
        c.on('close', fin);
      });
    },
  },
  {
    name: 'setTimeout(0) disables the timer',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.setTimeout(200);
        s.on('timeout', () => s.end());
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        const cb = (): void => ctx.log('client', 'callback must not run');
        c.setTimeout(50, cb);
        c.setTimeout(0, cb);
        ctx.log('client', `timeout listeners ${c.listenerCount('timeout')}`);
        c.on('close', fin);
      });
    },
  },
  {
    name: 'setKeepAlive and setNoDelay before and after connecting',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 2000 }, (s) => {
        ctx.watch('server', s);
        ctx.log('server', `setNoDelay returns socket ${s.setNoDelay(false) === s}`);
        s.on('data', (d) => s.end(d));
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', new ctx.clientNet.Socket());
        ctx.log('client', `before connect ${c.setKeepAlive(true, 5000) === c} ${c.setNoDelay() === c}`);
        c.connect(port, ctx.host, () => {
          ctx.log('client', `after connect ${c.setKeepAlive(false) === c} ${c.setNoDelay(true) === c} ${c.setKeepAlive(true, 1000) === c}`);
          c.write('with nodelay');
        });
        c.on('close', fin);
      });
    },
  },
  {
    name: 'server.close with an open connection waits for it',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.watchServer('server', ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        srv.close((e) => ctx.log('server', `close callback ${String(e)}`));
        ctx.log('server', `listening after close ${srv.listening} address ${String(srv.address())}`);
        s.write('still here', () => s.end());
      }));
      srv.on('close', fin);
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.on('close', fin);
      });
    },
  },
  {
    name: 'server.close when not running: ERR_SERVER_NOT_RUNNING',
    run(ctx) {
      const srv = ctx.watchServer('server', ctx.serverNet.createServer());
      srv.close((e) => {
        ctx.log('server', `close callback ${ctx.err(e)}`);
        ctx.done();
      });
    },
  },
  {
    name: 'maxConnections: the second connection is dropped with a FIN',
    run(ctx) {
      const fin = ctx.countdown(3);
      let first: Socket | undefined;
      let port = 0;
      const srv = ctx.watchServer('server', ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.on('close', () => srv.close());
        // The first is accepted (its server socket counts) before the second is tried.
        s.once('data', () => {
          const b = ctx.watch('second', ctx.clientNet.connect(port, ctx.host));
          b.on('close', () => {
            first!.end();
            fin();
          });
        });
      }));
      srv.maxConnections = 1;
      srv.on('close', fin);
      listen(ctx, srv, (p) => {
        port = p;
        const a = (first = ctx.watch('first', ctx.clientNet.connect(port, ctx.host)));
        a.on('connect', () => a.write('hello'));
        a.on('close', fin);
      });
    },
  },
  {
    name: 'pauseOnConnect: nothing is read until resume',
    run(ctx) {
      const fin = ctx.countdown(2);
      let server: Socket | undefined;
      const srv = ctx.serverNet.createServer({ pauseOnConnect: true }, (s) => {
        server = ctx.watch('server', s);
        ctx.state('server', s, `paused ${s.isPaused()} flowing ${String(s.readableFlowing)}`);
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.on('connect', () => c.end('queued while paused'));
        c.on('finish', () => c.setTimeout(100));
        c.on('timeout', () => {
          c.setTimeout(0);
          ctx.state('server', server!, 'before resume');
          server!.resume();
        });
        c.on('close', fin);
      });
    },
  },
  {
    name: 'listen on a port in use: EADDRINUSE with a host',
    run(ctx) {
      const a = ctx.watchServer('first', ctx.serverNet.createServer());
      listen(ctx, a, (port) => {
        const b = ctx.watchServer('second', ctx.serverNet.createServer());
        b.listen(port, ctx.host);
        b.on('error', () => {
          ctx.log('second', `listening ${b.listening} address ${String(b.address())}`);
          a.close(() => ctx.done());
        });
      });
    },
  },
  {
    name: 'listen on a port in use: EADDRINUSE on the wildcard (dual stack)',
    run(ctx) {
      const a = ctx.watchServer('first', ctx.serverNet.createServer());
      a.listen(0);
      const addr = a.address();
      ctx.log('first', `sync address ${JSON.stringify(addr)?.replace(/"port":\d+/, '"port":N')}`);
      a.on('listening', () => {
        const port = (a.address() as { port: number }).port;
        const b = ctx.watchServer('second', ctx.serverNet.createServer());
        b.listen(port);
        ctx.log('second', `listening at once ${b.listening}`);
        b.on('error', () => a.close(() => ctx.done()));
      });
    },
  },
  {
    name: 'listen on an IPv4 host then the wildcard on the same port: EADDRINUSE',
    run(ctx) {
      const a = ctx.watchServer('first', ctx.serverNet.createServer());
      listen(ctx, a, (port) => {
        const b = ctx.watchServer('second', ctx.serverNet.createServer());
        b.listen({ port });
        b.on('error', () => a.close(() => ctx.done()));
      });
    },
  },
  {
    name: 'port 0 with a host: address() is null until listening',
    run(ctx) {
      const srv = ctx.watchServer('server', ctx.serverNet.createServer());
      srv.listen(0, ctx.host, () => ctx.log('server', 'listen callback'));
      ctx.log('server', `sync listening ${srv.listening} address ${String(srv.address())}`);
      srv.on('listening', () => {
        const a = srv.address() as { port: number };
        ctx.log('server', `port is ephemeral ${a.port >= 1024}`);
        srv.close(() => ctx.done());
      });
    },
  },
  {
    name: 'listen with options and a backlog',
    run(ctx) {
      const srv = ctx.watchServer('server', ctx.serverNet.createServer());
      srv.listen({ port: 0, host: ctx.host, backlog: 5 }, () => {
        const c = ctx.watch('client', ctx.clientNet.connect({ port: (srv.address() as { port: number }).port, host: ctx.host }));
        c.on('connect', () => c.end());
        c.on('close', () => srv.close());
      });
      srv.on('connection', (s) => ctx.watch('server', s));
      srv.on('close', () => ctx.done());
    },
  },
  {
    name: 'listen twice throws ERR_SERVER_ALREADY_LISTEN',
    run(ctx) {
      const srv = ctx.watchServer('server', ctx.serverNet.createServer());
      srv.listen(0, ctx.host);
      try {
        srv.listen(0, ctx.host);
        ctx.log('server', 'no throw');
      } catch (e) {
        ctx.log('server', `threw ${ctx.err(e)}`);
      }
      srv.on('listening', () => srv.close(() => ctx.done()));
    },
  },
  {
    name: 'address(), localAddress and remoteAddress on both ends',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        const a = s.address() as { address: string; port: number; family: string };
        ctx.log('server', `address ${a.address}:${a.port} ${a.family} local ${s.localAddress}:${s.localPort} ${s.localFamily} remote ${s.remoteAddress}:${s.remotePort} ${s.remoteFamily}`);
        s.end();
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.clientNet.connect(port, ctx.host);
        ctx.log('client', `before connect address ${JSON.stringify(c.address())} remote ${String(c.remoteAddress)} local ${String(c.localAddress)}`);
        c.on('connect', () => {
          const a = c.address() as { address: string; port: number; family: string };
          ctx.log('client', `address ${a.address}:${a.port} ${a.family} remote ${c.remoteAddress}:${c.remotePort} ${c.remoteFamily}`);
        });
        c.on('close', () => {
          ctx.log('client', `after close remote ${String(c.remoteAddress)}:${String(c.remotePort)} address ${JSON.stringify(c.address())}`);
          fin();
        });
        c.resume();
      });
    },
  },
  {
    name: 'getConnections counts open connections',
    run(ctx) {
      const fin = ctx.countdown(2);
      const count = (label: string, then?: () => void): void => {
        srv.getConnections((e, n) => {
          ctx.log('server', `${label}: ${String(e)} ${n}`);
          then?.();
        });
      };
      const srv = ctx.serverNet.createServer((s) => {
        count('in connection');
        s.on('end', () => count('at end'));
        s.on('close', () => count('after close', () => srv.close()));
      });
      srv.on('close', fin);
      listen(ctx, srv, (port) => {
        count('before any');
        const c = ctx.clientNet.connect(port, ctx.host);
        c.on('connect', () => c.end());
        c.on('close', fin);
        c.resume();
      });
    },
  },
  {
    name: 'a large write returns false and drains',
    timeoutMs: 10_000,
    run(ctx) {
      const fin = ctx.countdown(2);
      const size = 4 * 1024 * KB;
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.on('end', () => ctx.log('server', `bytesRead ${s.bytesRead}`));
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.on('connect', () => {
          const r = c.write(bytes(size), () => ctx.log('client', 'write callback'));
          ctx.log('client', `write returned ${r} writableLength ${c.writableLength} bufferSize ${c.bufferSize} writableNeedDrain ${c.writableNeedDrain}`);
          c.once('drain', () => c.end());
        });
        c.on('close', fin);
      });
    },
  },
  {
    name: 'small writes below the high-water mark all return true',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.on('connect', () => {
          let trues = 0;
          for (let i = 0; i < 10; i++) if (c.write(bytes(1000))) trues++;
          ctx.log('client', `writes accepted ${trues} writableLength ${c.writableLength}`);
          c.end();
        });
        c.on('close', fin);
      });
    },
  },
  {
    name: 'bytesRead and bytesWritten through an exchange and after destroy',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        let got = 0;
        s.on('data', (d) => {
          got += d.length;
          if (got === 3000) s.end(bytes(777));
        });
        s.on('close', () => {
          ctx.state('server', s, 'after close');
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.write(bytes(1000));
        c.write(bytes(2000));
        ctx.state('client', c, 'queued before connect');
        c.on('close', () => {
          ctx.state('client', c, 'after close');
          fin();
        });
      });
    },
  },
  {
    name: 'destroySoon after a write',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.on('connect', () => {
          c.write('soon');
          c.destroySoon();
          ctx.state('client', c, 'after destroySoon');
        });
        c.on('close', fin);
      });
    },
  },
  {
    name: 'write and end before the connection is up',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        ctx.log('client', `write returned ${c.write('early', () => ctx.log('client', 'early write callback'))}`);
        c.end('and end', () => ctx.log('client', 'end callback'));
        ctx.state('client', c, 'after end while connecting');
        c.on('close', fin);
      });
    },
  },
  {
    name: 'readyState from new Socket to closed',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer({ allowHalfOpen: true }, (s) => {
        ctx.watch('server', s);
        s.on('end', () => {
          ctx.state('server', s, 'peer ended');
          s.end();
          ctx.state('server', s, 'both ended');
        });
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', new ctx.clientNet.Socket({ allowHalfOpen: true }));
        ctx.state('client', c, 'new');
        c.connect(port, ctx.host);
        ctx.state('client', c, 'connecting');
        c.on('connect', () => {
          c.end();
          ctx.state('client', c, 'ended');
        });
        c.on('close', () => {
          ctx.state('client', c, 'closed');
          fin();
        });
        c.resume();
      });
    },
  },
  {
    name: 'connect callback and listeners run in order',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        s.end();
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.clientNet.connect(port, ctx.host, () => ctx.log('client', 'connect callback'));
        c.on('connect', () => ctx.log('client', 'connect listener'));
        c.on('ready', () => ctx.log('client', 'ready listener'));
        c.on('connectionAttempt', () => ctx.log('client', 'connectionAttempt'));
        process.nextTick(() => ctx.log('client', 'next tick after connect()'));
        c.on('end', () => ctx.log('client', 'end'));
        c.on('close', fin);
        c.resume();
      });
    },
  },
  {
    name: 'Socket.connect with options on a new socket, createConnection',
    run(ctx) {
      const fin = ctx.countdown(4);
      let accepted = 0;
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch(`server${++accepted}`, s);
        s.end('hi');
        s.on('close', fin);
      });
      listen(ctx, srv, (port) => {
        const a = ctx.watch('a', new ctx.clientNet.Socket());
        const r = a.connect({ port, host: ctx.host });
        ctx.log('a', `connect returns socket ${r === a}`);
        a.on('close', () => {
          const b = ctx.watch('b', ctx.clientNet.createConnection({ port, host: ctx.host }));
          b.on('close', () => {
            srv.close();
            fin();
          });
        });
        srv.on('close', fin);
      });
    },
  },
  {
    name: 'connecting to a bad port throws ERR_SOCKET_BAD_PORT',
    run(ctx) {
      for (const port of [70000, -1, 1.5]) {
        try {
          ctx.clientNet.connect(port, ctx.host);
          ctx.log('client', `no throw for ${port}`);
        } catch (e) {
          ctx.log('client', `threw ${ctx.err(e)}`);
        }
      }
      try {
        ctx.clientNet.connect({ host: ctx.host } as unknown as { port: number });
      } catch (e) {
        ctx.log('client', `threw ${ctx.err(e)}`);
      }
      ctx.done();
    },
  },
  {
    name: 'isIP, isIPv4 and isIPv6',
    run(ctx) {
      for (const s of ['192.0.2.1', '2001:db8::7', '::', '::ffff:1.2.3.4', '1:2:3:4:5:6:7:8', '1::2::3', '1:2:3:4:5:6:7:8:9', '1.2.3', '256.1.1.1', 'example.com', '', 'fe80::7%eth0', '01.2.3.4', '::ffff:256.1.1.1']) {
        ctx.log('client', `${JSON.stringify(s)} ${ctx.clientNet.isIP(s)} ${ctx.clientNet.isIPv4(s)} ${ctx.clientNet.isIPv6(s)}`);
      }
      ctx.done();
    },
  },
  {
    name: 'three clients one after another',
    run(ctx) {
      let n = 0;
      const srv = ctx.watchServer('server', ctx.serverNet.createServer((s) => {
        s.on('data', (d) => s.end(`echo ${d.toString()}`));
      }));
      const next = (port: number): void => {
        const i = ++n;
        const c = ctx.watch(`client${i}`, ctx.clientNet.connect(port, ctx.host));
        c.on('connect', () => c.write(`hello ${i}`));
        c.on('close', () => (i < 3 ? next(port) : srv.close()));
      };
      listen(ctx, srv, next);
      srv.on('close', () => ctx.done());
    },
  },
  {
    name: 'IPv6 connection: addresses and families',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.watchServer('server', ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.end('v6');
        s.on('close', () => srv.close());
      }));
      srv.on('close', fin);
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect({ port, host: ctx.host6 }));
        c.on('close', fin);
      }, ctx.host6);
    },
  },
  {
    name: 'dual-stack wildcard listener: an IPv4 client appears as ::ffff:a.b.c.d',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.watchServer('server', ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        ctx.log('server', `local ${s.localAddress} ${s.localFamily}`);
        s.end();
        s.on('close', () => srv.close());
      }));
      srv.on('close', fin);
      srv.listen(0, () => {
        const c = ctx.watch('client', ctx.clientNet.connect((srv.address() as { port: number }).port, ctx.host));
        c.on('close', fin);
      });
    },
  },
  {
    name: 'IPv4 wildcard listener 0.0.0.0',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.watchServer('server', ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.end();
        s.on('close', () => srv.close());
      }));
      srv.on('close', fin);
      srv.listen(0, '0.0.0.0', () => {
        const c = ctx.watch('client', ctx.clientNet.connect((srv.address() as { port: number }).port, ctx.host));
        c.on('close', fin);
      });
    },
  },
  {
    name: 'server destroys with unread data: the client reads ECONNRESET',
    run(ctx) {
      const fin = ctx.countdown(2);
      let server: Socket | undefined;
      const srv = ctx.serverNet.createServer({ pauseOnConnect: true }, (s) => {
        server = ctx.watch('server', s);
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.on('connect', () => c.write('unread', () => c.setTimeout(100)));
        c.on('timeout', () => {
          c.setTimeout(0);
          server!.destroy();
        });
        c.on('close', fin);
      });
    },
  },
  {
    name: 'server destroys after reading everything: the client sees a FIN',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.on('data', () => s.destroy());
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.on('connect', () => c.write('read me'));
        c.on('close', fin);
      });
    },
  },
  {
    name: 'reset while the peer is half-closed (allowHalfOpen): write gets EPIPE or reset',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer({ allowHalfOpen: true }, (s) => {
        ctx.watch('server', s);
        s.on('end', () => s.resetAndDestroy());
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect({ port, host: ctx.host, allowHalfOpen: true }));
        c.on('connect', () => c.end());
        c.on('close', fin);
      });
    },
  },
  {
    name: 'setEncoding and string writes in several encodings',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.setEncoding('hex');
        let text = '';
        s.on('data', (d: string) => (text += d));
        s.on('end', () => ctx.log('server', `hex ${text}`));
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.write('héllo', 'utf8');
        c.write('aGk=', 'base64');
        c.write('ff00', 'hex');
        c.end('z', 'latin1');
        c.on('close', fin);
      });
    },
  },
  {
    name: 'connect from a chosen local address and port',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.log('server', `remote port is the chosen one ${s.remotePort === chosen}`);
        s.end();
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      let chosen = 0;
      listen(ctx, srv, (port) => {
        // Find a free local port on the client's host, then connect from it.
        const probe = ctx.clientNet.createServer();
        probe.listen(0, () => {
          chosen = (probe.address() as { port: number }).port;
          probe.close(() => {
            const c = ctx.watch('client', ctx.clientNet.connect({ port, host: ctx.host, localPort: chosen }));
            c.on('connect', () => ctx.log('client', `local port is the chosen one ${c.localPort === chosen}`));
            c.on('close', fin);
            c.resume();
          });
        });
      });
    },
  },
  {
    name: 'connect from a local port held by a listener: bind EADDRINUSE',
    run(ctx) {
      const srv = ctx.serverNet.createServer();
      listen(ctx, srv, (port) => {
        const holder = ctx.clientNet.createServer();
        holder.listen(0, () => {
          const held = (holder.address() as { port: number }).port;
          const c = ctx.watch('client', ctx.clientNet.connect({ port, host: ctx.host, localPort: held }));
          c.on('close', () => {
            ctx.log('client', `error names the held port ${held > 0}`);
            holder.close(() => srv.close(() => ctx.done()));
          });
        });
      });
    },
  },
  {
    name: 'write callbacks, finish and the end callback in order',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.on('connect', () => {
          c.write('a', () => ctx.log('client', 'write a callback'));
          c.write('b', () => ctx.log('client', 'write b callback'));
          c.end(() => ctx.log('client', 'end callback'));
          ctx.log('client', `writableEnded ${c.writableEnded} writableFinished ${c.writableFinished}`);
        });
        c.on('finish', () => ctx.log('client', `in finish writableFinished ${c.writableFinished}`));
        c.on('close', fin);
      });
    },
  },
  {
    name: 'server.close callback and event with no connections',
    run(ctx) {
      const srv = ctx.watchServer('server', ctx.serverNet.createServer());
      listen(ctx, srv, () => {
        srv.close((e) => {
          ctx.log('server', `close callback ${String(e)} listening ${srv.listening}`);
          ctx.done();
        });
        ctx.log('server', `after close() listening ${srv.listening}`);
      });
    },
  },
  {
    name: 'server closed before a pending connection is accepted... client sees its connection reset or refused',
    run(ctx) {
      const srv = ctx.watchServer('server', ctx.serverNet.createServer());
      listen(ctx, srv, (port) => {
        srv.close(() => {
          const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
          c.on('close', () => ctx.done());
        });
      });
    },
  },
  {
    name: 'unref and ref return the socket and server',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.log('server', `socket unref/ref ${s.unref() === s} ${s.ref() === s}`);
        s.end();
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      ctx.log('server', `server unref/ref ${srv.unref() === srv} ${srv.ref() === srv}`);
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.on('close', fin);
      });
    },
  },
  {
    name: 'the peer ends while data is still unread by a paused socket',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.end(bytes(3000));
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.pause();
        c.on('connect', () => c.setTimeout(100));
        c.on('timeout', () => {
          c.setTimeout(0);
          ctx.state('client', c, 'before resume');
          c.resume();
        });
        c.on('close', fin);
      });
    },
  },
  {
    name: 'the readable side: read() in paused mode after readable',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        s.end('readable data');
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.clientNet.connect(port, ctx.host);
        let text = '';
        c.on('readable', () => {
          let chunk: Buffer | null;
          while ((chunk = c.read() as Buffer | null) !== null) text += chunk.toString();
        });
        c.on('end', () => ctx.log('client', `end ${JSON.stringify(text)} ${c.readyState}`));
        c.on('close', (h) => {
          ctx.log('client', `close ${h}`);
          fin();
        });
      });
    },
  },
  {
    name: 'echo server with pipe: 200 KB round trip with backpressure',
    timeoutMs: 10_000,
    run(ctx) {
      const fin = ctx.countdown(2);
      const total = 200 * KB;
      const srv = ctx.serverNet.createServer((s) => {
        // Whether the echo's writes ever return false depends on the send buffer: Linux
        // autotunes it (tcp_wmem, up to 4 MiB on loopback), synack grows it with the congestion
        // window (docs/conformance.md). The client's pump below exercises backpressure either way.
        ctx.watch('server', s, ['drain']);
        s.pipe(s);
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.clientNet.connect(port, ctx.host);
        let got = 0;
        c.on('data', (d) => {
          got += d.length;
          if (got === total) c.end();
        });
        let sent = 0;
        const pump = (): void => {
          while (sent < total) {
            sent += 8 * KB;
            if (!c.write(bytes(8 * KB))) {
              c.once('drain', pump);
              return;
            }
          }
        };
        c.on('connect', pump);
        c.on('end', () => ctx.log('client', `end after ${got} bytes`));
        c.on('close', (h) => {
          ctx.state('client', c, `close ${h}`);
          fin();
        });
      });
    },
  },
  {
    name: 'cork and uncork: several writes leave as one writev',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        let text = '';
        s.setEncoding('utf8');
        s.on('data', (d: string) => (text += d));
        s.on('end', () => ctx.log('server', `text ${JSON.stringify(text)}`));
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.on('connect', () => {
          c.cork();
          c.write('one ', () => ctx.log('client', 'cb one'));
          c.write(Buffer.from('two '), () => ctx.log('client', 'cb two'));
          c.write('three', 'latin1', () => ctx.log('client', 'cb three'));
          ctx.log('client', `corked writableLength ${c.writableLength} bytesWritten ${c.bytesWritten}`);
          process.nextTick(() => {
            c.uncork();
            c.end();
          });
        });
        c.on('close', fin);
      });
    },
  },
  {
    name: 'write after destroy: ERR_STREAM_DESTROYED',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.on('connect', () => {
          c.destroy();
          const r = c.write('x', (e) => ctx.log('client', `write callback ${ctx.err(e)}`));
          ctx.log('client', `write returned ${r}`);
          c.end(() => ctx.log('client', 'end callback'));
        });
        c.on('close', fin);
      });
    },
  },
  {
    name: 'the timeout option of connect',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect({ port, host: ctx.host, timeout: 100 }));
        ctx.log('client', `timeout property ${String((c as Socket & { timeout?: number }).timeout)}`);
        c.on('timeout', () => c.destroy(new Error('idle')));
        c.on('close', fin);
      });
    },
  },
  {
    name: 'server idle timeout destroys the socket',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.setTimeout(150, () => s.destroy());
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.on('connect', () => c.write('hello'));
        c.on('close', fin);
      });
    },
  },
  {
    name: 'a custom lookup resolves a name (autoSelectFamily: all addresses)',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        s.end('named');
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const lookup = (host: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void): void => {
          ctx.log('client', `lookup ${host} ${JSON.stringify(opts)}`);
          if (opts.all === true) cb(null, [{ address: ctx.host, family: 4 }]);
          else cb(null, ctx.host, 4);
        };
        const c = ctx.watch('client', ctx.clientNet.connect({ port, host: 'server.test', lookup: lookup as never }));
        c.on('close', fin);
      });
    },
  },
  {
    name: 'a custom lookup for one family',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        s.end('six');
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const lookup = (host: string, opts: object, cb: (...a: unknown[]) => void): void => {
          ctx.log('client', `lookup ${host} ${JSON.stringify(opts)}`);
          cb(null, ctx.host6, 6);
        };
        const c = ctx.watch('client', ctx.clientNet.connect({ port, host: 'six.test', family: 6, lookup: lookup as never }));
        c.on('close', fin);
      }, ctx.host6);
    },
  },
  {
    name: 'a lookup that fails: the error reaches the socket',
    run(ctx) {
      const lookup = (host: string, _opts: object, cb: (...a: unknown[]) => void): void => {
        const e = new Error(`getaddrinfo ENOTFOUND ${host}`) as Error & { code: string };
        e.code = 'ENOTFOUND';
        cb(e);
      };
      const c = ctx.watch('client', ctx.clientNet.connect({ port: 80, host: 'nowhere.test', lookup: lookup as never }));
      c.on('close', () => ctx.done());
    },
  },
  {
    name: 'several clients at once, each echoed',
    run(ctx) {
      const n = 4;
      const fin = ctx.countdown(n + 1);
      let open = 0;
      const srv = ctx.serverNet.createServer((s) => {
        open++;
        s.on('data', (d) => s.end(d));
        s.on('close', () => {
          if (--open === 0 && closedClients === n) srv.close();
        });
      });
      let closedClients = 0;
      srv.on('close', fin);
      listen(ctx, srv, (port) => {
        for (let i = 1; i <= n; i++) {
          const c = ctx.watch(`client${i}`, ctx.clientNet.connect(port, ctx.host));
          c.on('connect', () => c.write(`client ${i} `.repeat(i)));
          c.on('close', () => {
            closedClients++;
            if (closedClients === n && open === 0) srv.close();
            fin();
          });
        }
      });
    },
  },
  {
    name: 'an empty write calls back and counts nothing',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.on('connect', () => {
          c.write('', () => {
            ctx.state('client', c, 'empty write callback');
            c.end();
          });
        });
        c.on('close', fin);
      });
    },
  },
  {
    name: 'destroy with an error on the server side',
    run(ctx) {
      const fin = ctx.countdown(2);
      const srv = ctx.serverNet.createServer((s) => {
        ctx.watch('server', s);
        s.on('data', () => s.destroy(new Error('server gave up')));
        s.on('close', () => {
          srv.close();
          fin();
        });
      });
      listen(ctx, srv, (port) => {
        const c = ctx.watch('client', ctx.clientNet.connect(port, ctx.host));
        c.on('connect', () => c.write('bad request'));
        c.on('close', fin);
      });
    },
  },
  {
    name: 'listen on the IPv6 wildcard "::" accepts IPv6 and IPv4',
    run(ctx) {
      const fin = ctx.countdown(3);
      let n = 0;
      const srv = ctx.watchServer('server', ctx.serverNet.createServer((s) => {
        const i = ++n;
        ctx.log(`server${i}`, `local ${s.localAddress} ${s.localFamily} remote family ${s.remoteFamily}`);
        s.end();
      }));
      srv.on('close', fin);
      srv.listen(0, '::', () => {
        const port = (srv.address() as { port: number }).port;
        const a = ctx.watch('v6', ctx.clientNet.connect({ port, host: ctx.host6 }));
        a.on('close', () => {
          fin();
          const b = ctx.watch('v4', ctx.clientNet.connect({ port, host: ctx.host }));
          b.on('close', () => {
            srv.close();
            fin();
          });
        });
      });
    },
  },
  {
    name: 'server.address() after close is null; listening again works',
    run(ctx) {
      const srv = ctx.watchServer('server', ctx.serverNet.createServer());
      listen(ctx, srv, () => {
        srv.close(() => {
          ctx.log('server', `address after close ${String(srv.address())}`);
          srv.listen(0, ctx.host, () => {
            ctx.log('server', `listening again ${srv.listening}`);
            srv.close(() => ctx.done());
          });
        });
      });
    },
  },
  {
    name: 'a socket refused once connects again on the same object',
    run(ctx) {
      const srv = ctx.serverNet.createServer((s) => s.end('second try'));
      listen(ctx, srv, (port) => {
        closedPort(ctx, (closed) => {
          const c = ctx.watch('client', new ctx.clientNet.Socket());
          let attempts = 0;
          c.on('close', () => {
            ctx.state('client', c, `after close ${attempts}`);
            if (attempts === 1) c.connect(port, ctx.host);
            else srv.close(() => ctx.done());
          });
          c.on('connectionAttempt', () => attempts++);
          c.connect(closed, ctx.host);
        });
      });
    },
  },
];
