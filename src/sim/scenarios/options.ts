// TCP options negotiated in the handshake: the maximum segment size. Read RFC 9293 §3.7.1 (MSS
// and the effective send MSS), RFC 6691 (what the MSS counts) and RFC 7323 §3 (the timestamps
// option that every later segment carries).
import type { ScenarioOptions, ScenarioResult } from './common.js';
import { Reader, connectPair, filler, framesWhere, hasData, isSyn, isSynAck, newScenario, readUntil } from './common.js';

/**
 * MSS negotiation (RFC 9293 §3.7.1): the client's interface has a 1500-byte MTU, the server's a
 * 9000-byte one (jumbo frames). Each announces in its SYN the largest segment it can receive,
 * MTU - 40: 1460 and 8960. Each sends at most min(peer's MSS, own MTU - 40), less the 12 bytes
 * of timestamps every segment carries: so the server, which could send 8948-byte segments on its
 * own link, keeps to 1448 for this client; both directions carry 1448-byte segments.
 */
export function mssNegotiation(opts: ScenarioOptions = {}): ScenarioResult {
  const s = newScenario({ seed: 51 }, opts, { mtu: 9000, clientMtu: 1500, serverMtu: 9000 });
  const { client, server } = connectPair(s);
  // No Nagle: every segment leaves at once, so the sizes are the MSS's doing alone.
  client.setOption('noDelay', true);
  server.setOption('noDelay', true);
  const size = 4000;
  s.note(s.client.name, `send(${size})`);
  client.send(filler(size));
  const atServer = new Reader(server);
  readUntil(s, atServer, size, 'the upload');
  s.note(s.server.name, `send(${size})`);
  server.send(filler(size));
  const atClient = new Reader(client);
  readUntil(s, atClient, size, 'the download');
  s.advance(100);
  const syn = framesWhere(s, s.client.name, isSyn)[0]?.seg;
  const synAck = framesWhere(s, s.server.name, isSynAck)[0]?.seg;
  const largest = (host: string): number => Math.max(0, ...framesWhere(s, host, hasData).map((f) => f.seg.payload.length));
  return {
    scenario: s,
    facts: {
      clientMtu: 1500,
      serverMtu: 9000,
      clientAnnounces: syn?.options.mss ?? 0,
      serverAnnounces: synAck?.options.mss ?? 0,
      clientSendMss: client.connection?.mss ?? 0,
      serverSendMss: server.connection?.mss ?? 0,
      largestClientSegment: largest(s.client.name),
      largestServerSegment: largest(s.server.name),
    },
  };
}
