// A module scenario for `synack sim examples/slow-reader.ts`: the default export is a function that
// builds the network through the context and drives one side with the raw socket API
// (src/api/socket.ts). The server reads only 1000 bytes every 100 ms from a 4 KiB receive buffer,
// so the client's 50 KB fill the window: zero-window advertisements, persist probes (RFC 9293
// §3.8.6.1), and window updates as the reader drains.
import type { SimContext } from '../src/sim/script.js';
import type { TcpSocket } from '../src/api/socket.js';

export const description = 'A slow reader: 50 KB into a 4 KiB receive buffer drained 1000 bytes every 100 ms (zero window, persist probes).';

export default function slowReader(ctx: SimContext): void {
  ctx.host({ name: 'client' });
  const server = ctx.host({ name: 'server' });
  ctx.link({ between: ['client', 'server'], delay: '10ms' });
  ctx.until('30s');

  // The server, by hand: a listener with a small receive buffer (its connections inherit it).
  const listener = server.sockets.socket();
  listener.setOption('receiveBuffer', 4096);
  let conn: TcpSocket | undefined;
  let read = 0;
  let eof = false;
  const buf = new Uint8Array(1000);
  ctx.at('0s', () => {
    listener.bind('0.0.0.0', 8080);
    listener.listen();
    ctx.note('server', 'listen(:8080), SO_RCVBUF 4096');
  });
  ctx.every('100ms', () => {
    if (conn === undefined) {
      const c = listener.accept();
      if (typeof c === 'string') return true;
      conn = c;
    }
    const n = conn.recv(buf);
    if (typeof n === 'number' && n > 0) read += n;
    if (n === 0) {
      eof = true;
      ctx.note('server', `read ${read} bytes, close()`);
      conn.close();
      return false;
    }
    return true;
  });

  // The client, as steps.
  ctx.step({ at: '0s', host: 'client', connect: { to: 'server', port: 8080, as: 'c' } });
  ctx.step({ after: 'c.connected', send: { socket: 'c', bytes: 50000 } });
  ctx.step({ after: 'c.sent', close: 'c' });

  ctx.onEnd(() => {
    if (read !== 50000 || !eof) ctx.fail(`the server read ${read} of 50000 bytes${eof ? '' : ' and saw no end of stream'}`);
  });
}
