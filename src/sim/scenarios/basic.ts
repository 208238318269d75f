// The classic exchange of the seeds: the three-way handshake, one request and one response. The
// shared helpers (result shape, connectPair, readers) live in common.ts and are re-exported here
// for code that imported them from this file first.
import type { ScenarioOptions, ScenarioResult } from './common.js';
import { Reader, connectPair, infoOf, newScenario, readUntil, text } from './common.js';

export { connectPair, type ScenarioResult } from './common.js';

const REQUEST = 'GET / HTTP/1.0\r\n\r\n';
const RESPONSE = 'HTTP/1.0 200 OK\r\n\r\nhello';

/**
 * The three-way handshake (RFC 9293 §3.5, Figure 7) and one request/response: SYN with the
 * client's options, SYN-ACK with the server's, the ACK, then data each way, each acknowledged.
 */
export function handshake(opts: ScenarioOptions = {}): ScenarioResult {
  const s = newScenario({ seed: 1 }, opts);
  const { client, server } = connectPair(s);
  s.note(s.client.name, `send(${REQUEST.length} bytes)`);
  client.send(text(REQUEST));
  const atServer = new Reader(server, true);
  readUntil(s, atServer, REQUEST.length, 'the request');
  s.note(s.server.name, `send(${RESPONSE.length} bytes)`);
  server.send(text(RESPONSE));
  const atClient = new Reader(client, true);
  readUntil(s, atClient, RESPONSE.length, 'the response');
  s.advance(100); // the last segment's delayed ACK
  const info = infoOf(s, client);
  return {
    scenario: s,
    facts: { requestBytes: atServer.bytes, responseBytes: atClient.bytes, clientState: client.state, serverState: server.state },
    ...(info !== undefined ? { info } : {}),
  };
}
