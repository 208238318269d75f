// The classic exchanges of the seeds, as runnable scenarios: each builds a Scenario, drives the
// sockets through one story, and returns what happened, so tests can assert it and the tour can
// draw it.
import { Scenario, type TwoHostOptions } from '../scenario.js';
import type { TcpSocket } from '../../api/socket.js';

/** What a scenario run produced. */
export interface ScenarioResult {
  scenario: Scenario;
  /** Facts worth printing under the diagram (and asserting in tests). */
  facts: Record<string, string | number | boolean>;
}

/** Opens a listener on the server and connects the client; runs until the server has accepted. */
export function connectPair(s: Scenario, port = 80): { client: TcpSocket; server: TcpSocket; listener: TcpSocket } {
  const listener = s.server.sockets.socket();
  listener.bind('0.0.0.0', port);
  listener.listen();
  s.states.push({ at: s.now, host: s.server.name, state: 'LISTEN' });
  const client = s.client.sockets.socket();
  client.connect(s.server.addr, port);
  let server: TcpSocket | undefined;
  s.runUntil(() => {
    const a = listener.accept();
    if (typeof a !== 'string') server = a;
    return server !== undefined && client.state === 'ESTABLISHED';
  }, 300_000);
  if (server === undefined) throw new Error(`connectPair: no connection (client ${client.state})`);
  return { client, server, listener };
}

/** The three-way handshake, a short exchange, and a four-way close started by the client. */
export function handshake(opts: TwoHostOptions = {}): ScenarioResult {
  const s = new Scenario({ seed: 1, ...opts });
  const { client, server } = connectPair(s);
  client.send(new TextEncoder().encode('GET / HTTP/1.0\r\n\r\n'));
  const buf = new Uint8Array(1024);
  let request = 0;
  s.runUntil(() => {
    const n = server.recv(buf);
    if (typeof n === 'number' && n > 0) request += n;
    return request === 18;
  });
  server.send(new TextEncoder().encode('HTTP/1.0 200 OK\r\n\r\nhello'));
  let response = 0;
  s.runUntil(() => {
    const n = client.recv(buf);
    if (typeof n === 'number' && n > 0) response += n;
    return response === 24;
  });
  client.close();
  s.runUntil(() => server.recv(buf) === 0);
  server.close();
  s.runUntil(() => client.state === 'TIME-WAIT');
  return { scenario: s, facts: { requestBytes: request, responseBytes: response, clientState: client.state, serverState: server.state } };
}
