// Timers that keep an idle or stalled connection honest: keep-alive finding a dead peer, and the
// persist timer probing a zero window. Read RFC 1122 §4.2.3.6 (keep-alives), RFC 9293 §3.8.6.1
// (zero-window probing, MUST-36) and Linux's tcp_keepalive_timer / tcp_probe_timer.
import type { ScenarioOptions, ScenarioResult } from './common.js';
import {
  Reader, connectPair, dropWhile, filler, framesWhere, hasData, infoOf, isPureAck, newScenario, readUntil, secs,
  text, waitFor,
} from './common.js';

/** The keep-alive settings the scenario uses (seconds), small so the story fits in a tour. */
export const KEEPALIVE = { idle: 10, interval: 2, count: 3 } as const;

/**
 * Keep-alive finding a dead peer. The client enables SO_KEEPALIVE with TCP_KEEPIDLE 10 s,
 * TCP_KEEPINTVL 2 s and TCP_KEEPCNT 3 (Linux's defaults are 7200 s, 75 s and 9). After one
 * exchange the server's cable is pulled: nothing gets through either way. After 10 s of silence
 * the client sends a probe (an ACK with SEG.SEQ = SND.NXT - 1, RFC 1122 §4.2.3.6), then one
 * every 2 s; when the third goes unanswered for another 2 s the connection is dropped with
 * ETIMEDOUT, idle + count x interval = 16 s after the peer was last heard (and a RST is sent,
 * as Linux's tcp_keepalive_timer does, though nobody receives it).
 */
export function keepaliveDeadPeer(opts: ScenarioOptions = {}): ScenarioResult {
  let cut = false;
  const pulled = dropWhile(() => cut);
  const s = newScenario({ seed: 41 }, opts, { clientImpair: pulled, serverImpair: pulled });
  const { client, server } = connectPair(s);
  client.setOption('keepIdle', KEEPALIVE.idle);
  client.setOption('keepInterval', KEEPALIVE.interval);
  client.setOption('keepCount', KEEPALIVE.count);
  client.setOption('keepAlive', true);
  s.note(s.client.name, `SO_KEEPALIVE idle ${KEEPALIVE.idle}s intvl ${KEEPALIVE.interval}s cnt ${KEEPALIVE.count}`);
  client.send(text('ping\n'));
  const r = new Reader(server);
  readUntil(s, r, 5, 'the ping');
  server.send(text('pong\n'));
  const back = new Reader(client);
  readUntil(s, back, 5, 'the pong');
  const tcb = client.connection;
  const lastHeard = tcb?.lastRecvAt ?? s.now;
  s.advance(100);
  s.note(s.server.name, 'cable pulled');
  cut = true;
  waitFor(s, () => client.state === 'CLOSED', 'the keep-alive timeout', 60_000);
  const error = client.takeError() ?? 'none';
  s.note(s.client.name, `error: ${error}`);
  const closedAt = s.states.filter((x) => x.host === s.client.name && x.state === 'CLOSED').pop()?.at;
  const probes = framesWhere(s, s.client.name, isPureAck).filter((f) => f.sentAt > lastHeard + 1_000_000);
  return {
    scenario: s,
    facts: {
      lastHeardAt: secs(lastHeard),
      probesSent: s.client.stack.tcp.counters.TCPKeepAliveProbes,
      probeTimes: probes.map((f) => secs(f.sentAt)).join(','),
      error,
      failedAt: secs(closedAt),
      secondsAfterLastHeard: closedAt === undefined ? NaN : (closedAt - lastHeard) / 1e6,
      expectedSeconds: KEEPALIVE.idle + KEEPALIVE.count * KEEPALIVE.interval,
    },
    view: { pause: 1_000_000 },
  };
}

/**
 * Zero window and persist probes (RFC 9293 §3.8.6.1). The server's application stops reading;
 * its 8 KiB receive buffer fills and it advertises a zero window. The client, with data still
 * queued and nothing in flight, starts the persist timer and sends window probes (Linux's form:
 * SEG.SEQ = SND.UNA - 1, no data), each answered with the still-zero window, at RTO, 2 x RTO,
 * 4 x RTO... (backing off like the RTO). When the application reads again, the server sends a
 * window update and the transfer resumes.
 */
export function zeroWindow(opts: ScenarioOptions = {}): ScenarioResult {
  const s = newScenario({ seed: 42 }, opts, { serverTcp: { rcvBuf: 8 * 1024 } });
  const { client, server } = connectPair(s);
  const size = 16 * 1024; // the client's whole send buffer
  s.note(s.server.name, 'stops reading');
  s.note(s.client.name, `send(${size})`);
  const queued = client.send(filler(size));
  const resumeAt = 3_000_000;
  s.advance((resumeAt - s.now) / 1000);
  const stalled = infoOf(s, client);
  s.note(s.server.name, 'reads again');
  const r = new Reader(server);
  readUntil(s, r, size, 'the rest of the transfer', 20_000);
  s.advance(100);
  const zeroAt = framesWhere(s, s.server.name, (seg) => seg.window === 0)[0]?.sentAt;
  const probes = framesWhere(s, s.client.name, isPureAck).filter((f) => zeroAt !== undefined && f.sentAt > zeroAt && f.sentAt < resumeAt);
  const resumed = framesWhere(s, s.client.name, hasData).find((f) => f.sentAt > resumeAt);
  return {
    scenario: s,
    facts: {
      bytesQueued: typeof queued === 'number' ? queued : 0,
      bytesDelivered: r.bytes,
      zeroWindowAt: secs(zeroAt),
      probes: probes.length,
      probeTimes: probes.map((f) => secs(f.sentAt)).join(','),
      probeIntervalsMs: probes.slice(1).map((f, i) => (f.sentAt - probes[i]!.sentAt) / 1000).join(','),
      readerResumedAt: secs(resumeAt),
      dataResumedAt: secs(resumed?.sentAt),
    },
    view: { windows: [s.server.name], pause: 1_000_000 },
    ...(stalled !== undefined ? { info: stalled } : {}),
  };
}
