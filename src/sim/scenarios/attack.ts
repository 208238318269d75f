// The blind (off-path) reset attack and the RFC 5961 defence. Read RFC 5961 §2 (the attack: a
// RST only has to land in the receive window, so a window of W bytes needs about 2^32 / W
// guesses) and §3.2 (the defence: only an exact RCV.NXT match resets; any other in-window RST
// gets a challenge ACK), and RFC 4953 for the background.
import type { ScenarioOptions, ScenarioResult } from './common.js';
import { Reader, connectPair, contrastOptions, framesWhere, isRst, newScenario, readUntil, secs, stateAt, text, waitFor } from './common.js';
import type { Scenario } from '../scenario.js';
import { SimRng } from '../rng.js';
import { MacAddr, emitEthernet, EtherType } from '../../wire/ethernet.js';
import { emitIpv4 } from '../../wire/ipv4.js';
import { TcpFlag, emitTcp } from '../../wire/tcp.js';
import type { Seq } from '../../tcp/seq.js';
import { seqDiff } from '../../tcp/seq.js';
import { micros } from '../../time/instant.js';

/** The attacker's guess spacing: it assumes the victim offers at least a 4 MiB window. */
export const GUESS_STEP = 1 << 22;
/** Guesses needed to cover the whole sequence space at that spacing. */
export const GUESSES = 2 ** 32 / GUESS_STEP;

/** A forged RST from the client's address and port to the server, built as an attacker would. */
function forgedRst(s: Scenario, clientPort: number, seq: number, id: number): Uint8Array {
  const frame = new Uint8Array(14 + 20 + 20);
  const serverMac = s.server.stack.interface(s.server.ifindex)?.mac;
  if (serverMac === undefined) throw new Error('spoofedRst needs an Ethernet link');
  const attackerMac = MacAddr.parse('02:00:00:00:00:66');
  if (!attackerMac.ok) throw new Error(attackerMac.error);
  emitEthernet({ dst: serverMac, src: attackerMac.value, ethertype: EtherType.IPv4 }, frame);
  const ip = frame.subarray(14);
  emitIpv4({
    src: s.client.addr, dst: s.server.addr, protocol: 6, ttl: 64, dscp: 0, ecn: 0, identification: id & 0xffff,
    dontFragment: true, moreFragments: false, fragmentOffset: 0, payloadLen: 20,
  }, ip);
  emitTcp({
    srcPort: clientPort, dstPort: 80, seq: (seq >>> 0) as Seq, ack: 0 as Seq, flags: TcpFlag.RST, window: 0, urgent: 0,
    options: {}, payload: new Uint8Array(0),
  }, ip.subarray(20), { src: s.client.addr, dst: s.server.addr });
  return frame;
}

/**
 * One run of the attack against the server's connection: after a request and a response, an
 * off-path attacker that knows the 4-tuple (addresses, the client's port, port 80) but not the
 * sequence numbers injects forged RSTs, one every 10 µs, spaced 4 MiB apart across the whole
 * sequence space. The server offers a 4 MiB window, so exactly one guess lands in it. Then the
 * client sends another request.
 */
function attackRun(rfc5961: boolean, o: ScenarioOptions): ScenarioResult {
  // The victim's receive buffer is large, as on any fast path: its window is 4 MiB.
  const s = newScenario({ seed: 31 }, o, { serverTcp: { rfc5961, rcvBuf: 4 * 1024 * 1024 } });
  const { client, server } = connectPair(s);
  const atServer = new Reader(server);
  client.send(text('GET /1 HTTP/1.1\r\n\r\n'));
  readUntil(s, atServer, 19, 'the first request');
  server.send(text('HTTP/1.1 200 OK\r\n\r\n'));
  const atClient = new Reader(client);
  readUntil(s, atClient, 19, 'the first response');
  s.advance(100);
  const victim = server.connection;
  if (victim === undefined) throw new Error('spoofedRst: no server connection');
  const rcvNxt = victim.rcvNxt;
  const window = seqDiff(victim.rcvAdv, victim.rcvNxt);
  const rng = new SimRng(0x5eed + (o.seed ?? 0)).fork('attacker');
  const offset = rng.nextU32();
  const clientPort = client.localPort ?? 0;
  s.note('attacker', `${GUESSES} forged RSTs, 4 MiB apart`);
  const challenges = s.server.stack.tcp.counters;
  const challengesBefore = challenges.TCPChallengeACK;
  let inWindow = 0;
  let hitAt: number | undefined;
  let killedBy: number | undefined;
  for (let k = 0; k < GUESSES; k++) {
    const seq = (offset + k * GUESS_STEP) >>> 0;
    const d = seqDiff(seq as Seq, rcvNxt);
    if (d >= 0 && d < window) {
      inWindow++;
      hitAt ??= k + 1;
    }
    s.inject('attacker', s.server, forgedRst(s, clientPort, seq, k));
    if (killedBy === undefined && victim.state === 'CLOSED') {
      killedBy = k + 1;
      s.note(s.server.name, `guess ${k + 1} is in the window: reset`);
    }
    if (challenges.TCPChallengeACK > challengesBefore && hitAt === k + 1) {
      s.note(s.server.name, `guess ${k + 1} is in the window: challenge ACK`);
    }
    s.sim.advance(micros(10));
  }
  s.advance(50);
  s.note(s.client.name, 'send(19 bytes)');
  client.send(text('GET /2 HTTP/1.1\r\n\r\n'));
  waitFor(s, () => {
    atServer.drain();
    atClient.drain();
    return atServer.bytes >= 38 || atClient.error !== undefined || client.state === 'CLOSED';
  }, 'the second request', 10_000);
  const clientError = client.takeError() ?? atClient.error;
  if (clientError !== undefined) s.note(s.client.name, `recv: ${clientError}`);
  s.advance(50);
  const c = s.server.stack.tcp.counters;
  return {
    scenario: s,
    caption: rfc5961 ? 'with RFC 5961 (Linux\'s default)' : 'without RFC 5961 (TcpConfig.rfc5961 = false)',
    facts: {
      guesses: GUESSES,
      victimWindow: window,
      guessesInWindow: inWindow,
      inWindowGuessNumber: hitAt ?? 0,
      outcome: killedBy !== undefined ? `reset by guess ${killedBy}` : 'connection survived',
      challengeAcks: c.TCPChallengeACK,
      secondRequestDelivered: atServer.bytes >= 38,
      clientError: clientError ?? 'none',
      serverResetsClient: framesWhere(s, s.server.name, isRst).length,
      serverClosedAt: secs(stateAt(s, s.server.name, 'CLOSED')),
    },
    view: { collapse: 3 },
  };
}

/**
 * The spoofed-RST attack twice: without RFC 5961 one in-window guess kills the connection and
 * the client's next request meets a RST (ECONNRESET); with RFC 5961 the same guess only draws a
 * challenge ACK (which goes to the real client, who ignores it) and the connection survives.
 */
export function spoofedRst(opts: ScenarioOptions = {}): ScenarioResult {
  const without = attackRun(false, opts);
  const withDefence = attackRun(true, contrastOptions(opts));
  return { ...without, contrast: withDefence };
}
