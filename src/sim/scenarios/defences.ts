// The server defences and TIME-WAIT economics as runnable stories (issue 6): a SYN flood against
// a listener with SYN cookies off and on, a handshake answered with a SYN cookie, TCP Fast Open
// saving a round trip on the second request, and the port-exhaustion arithmetic of TIME-WAIT
// (N ephemeral ports / 2*MSL caps the connection rate; tcp_tw_reuse runs past it; the side that
// closes first holds TIME-WAIT). Each returns its figures as facts and printable lines; the
// two-host stories also return their Scenario for a diagram.
//
// Read first: RFC 4987 (SYN flooding and its mitigations), RFC 7413 §3 and §6, RFC 9293 §3.6
// (TIME-WAIT), RFC 6191, RFC 6056 §2.3 (ephemeral port exhaustion).
import { Simulation } from '../driver.js';
import { SimRng } from '../rng.js';
import { Switch } from '../../link/memory.js';
import type { Pollable, Port } from '../../link/link.js';
import { Stack } from '../../stack.js';
import { SocketLayer, type TcpSocket } from '../../api/socket.js';
import type { Listener } from '../../tcp/listener.js';
import type { TcpConfig } from '../../tcp/config.js';
import { MacAddr, EtherType, emitEthernet, parseEthernet, ETHERNET_HEADER_LEN } from '../../wire/ethernet.js';
import { IPV4_HEADER_LEN, IpProtocol, emitIpv4 } from '../../wire/ipv4.js';
import { ARP_LEN, emitArp, parseArp } from '../../wire/arp.js';
import { IpAddr } from '../../wire/ip-addr.js';
import { TcpFlag, emitTcp, tcpHeaderLength, type TcpRepr } from '../../wire/tcp.js';
import { emptyTcpOptions } from '../../wire/tcp-options.js';
import { type Seq } from '../../tcp/seq.js';
import { type Duration, type Instant, millis, seconds } from '../../time/instant.js';
import type { Rng } from '../../util/rng.js';
import type { ScenarioOptions, ScenarioResult } from './common.js';
import { Reader, contrastOptions, framesWhere, isSynAck, listen, newScenario, text, waitFor } from './common.js';

/** Figures a story prints: facts for tests, and lines for people. */
export interface DefenceReport {
  facts: Record<string, string | number | boolean>;
  lines: string[];
}

// ---------------------------------------------------------------------------------------------
// The SYN flood

/** How to run the SYN flood. */
export interface SynFloodOptions {
  seed?: number;
  /** Spoofed SYNs per second (default 200). */
  rate?: number;
  /** How long the flood lasts, in seconds (default 20). */
  floodSeconds?: number;
  /** Legitimate connections attempted during the flood (default 100). */
  clients?: number;
  /** Client hosts they come from (default 4). */
  clientHosts?: number;
  /** The listener's backlog (default 128: the SYN queue holds 128 half-open connections). */
  backlog?: number;
  /** SYN retries of the legitimate clients (TCP_SYNCNT, default 3: they give up after 15 s). */
  clientSynRetries?: number;
}

/** The figures of one flood run. */
export interface SynFloodRun {
  syncookies: 0 | 1 | 2;
  clients: number;
  /** Clients whose connection was established. */
  connected: number;
  /** Clients that got the whole response. */
  served: number;
  /** Clients whose connect() failed, by error. */
  failures: Record<string, number>;
  /** Spoofed SYNs sent. */
  spoofedSyns: number;
  /** Segments the server sent toward spoofed addresses (SYN-ACKs and their retransmissions). */
  backscatter: number;
  /** The most half-open connections in the SYN queue at any time. */
  synQueueMax: number;
  /** The most connections (TCBs) the server held at any time. */
  tcbMax: number;
  /** Server counters (nstat names). */
  counters: Record<string, number>;
}

const SERVER_MAC = MacAddr.from('02:00:00:00:01:01');
const GATEWAY_MAC = MacAddr.from('02:00:00:00:01:fe');
const SERVER_IP = IpAddr.from('10.0.0.1');
const GATEWAY_IP = IpAddr.from('10.0.0.254');
const SERVER_PORT = 80;
const REQUEST = 'GET / HTTP/1.0\r\n\r\n';
const RESPONSE = 'HTTP/1.0 200 OK\r\n\r\n';

/**
 * The attacker: a station on the switch that is also the server's default gateway, so SYN-ACKs
 * to spoofed addresses come back to it and vanish. It answers ARP for the gateway address and
 * sends SYNs from random addresses of 198.18.0.0/15 (RFC 2544's benchmarking range), random
 * ports and sequence numbers, with an MSS option like a real SYN, at a fixed rate.
 */
class SynFlooder implements Pollable {
  private readonly port: Port;
  private next: Instant;
  private readonly interval: number;
  sent = 0;
  backscatter = 0;

  constructor(sw: Switch, rate: number, start: Instant, private readonly stop: Instant, private readonly rng: Rng) {
    this.port = sw.port();
    this.port.onFrame = (f, now) => this.onFrame(f, now);
    this.interval = 1e6 / rate;
    this.next = start;
  }

  pollAt(): Instant | undefined {
    return this.next < this.stop ? this.next : undefined;
  }

  poll(now: Instant): void {
    while (this.next <= now && this.next < this.stop) {
      this.send(now);
      this.next = (this.next + this.interval) as Instant;
    }
  }

  private send(now: Instant): void {
    const o = emptyTcpOptions();
    o.mss = 1460;
    const r: TcpRepr = {
      srcPort: 1024 + (this.rng.nextU32() % 64512), dstPort: SERVER_PORT, seq: (this.rng.nextU32() >>> 0) as Seq, ack: 0 as Seq,
      flags: TcpFlag.SYN, window: 64240, urgent: 0, options: o, payload: new Uint8Array(0),
    };
    const src = IpAddr.v4((0xc6120000 | (this.rng.nextU32() & 0x1ffff)) >>> 0);
    const tcpLen = tcpHeaderLength(o);
    const frame = new Uint8Array(ETHERNET_HEADER_LEN + IPV4_HEADER_LEN + tcpLen);
    emitEthernet({ dst: SERVER_MAC, src: GATEWAY_MAC, ethertype: EtherType.IPv4 }, frame);
    emitIpv4({
      src, dst: SERVER_IP, protocol: IpProtocol.TCP, ttl: 64, dscp: 0, ecn: 0, identification: this.sent & 0xffff,
      dontFragment: true, moreFragments: false, fragmentOffset: 0, payloadLen: tcpLen,
    }, frame.subarray(ETHERNET_HEADER_LEN));
    emitTcp(r, frame.subarray(ETHERNET_HEADER_LEN + IPV4_HEADER_LEN), { src, dst: SERVER_IP });
    this.sent++;
    this.port.send(frame, now);
  }

  private onFrame(f: Uint8Array, now: Instant): void {
    const eth = parseEthernet(f);
    if (!eth.ok) return;
    if (eth.value.ethertype === EtherType.ARP) {
      const arp = parseArp(eth.value.payload);
      if (!arp.ok || arp.value.operation !== 'request' || !arp.value.targetIp.equals(GATEWAY_IP)) return;
      const reply = new Uint8Array(ETHERNET_HEADER_LEN + ARP_LEN);
      emitEthernet({ dst: arp.value.senderMac, src: GATEWAY_MAC, ethertype: EtherType.ARP }, reply);
      emitArp({ operation: 'reply', senderMac: GATEWAY_MAC, senderIp: GATEWAY_IP, targetMac: arp.value.senderMac, targetIp: arp.value.senderIp },
        reply.subarray(ETHERNET_HEADER_LEN));
      this.port.send(reply, now);
      return;
    }
    if (eth.value.ethertype === EtherType.IPv4 && eth.value.dst.equals(GATEWAY_MAC)) this.backscatter++;
  }
}

/** Fires application events (client start times) as a Pollable, so the simulation wakes for them. */
class AppClock implements Pollable {
  private readonly events: { at: Instant; run: () => void }[] = [];
  /** Adds an event. */
  at(at: Instant, run: () => void): void {
    this.events.push({ at, run });
    this.events.sort((a, b) => a.at - b.at);
  }
  pollAt(): Instant | undefined {
    return this.events[0]?.at;
  }
  poll(now: Instant): void {
    while (this.events.length > 0 && this.events[0]!.at <= now) this.events.shift()!.run();
  }
}

interface Client {
  sock: TcpSocket;
  reader: Reader;
  sent: boolean;
  connected: boolean;
  done: 'served' | 'failed' | undefined;
  error: string | undefined;
}

/** Runs the flood once with one tcp_syncookies setting. */
export function synFloodRun(syncookies: 0 | 1 | 2, o: SynFloodOptions = {}): SynFloodRun {
  const rate = o.rate ?? 200;
  const floodSeconds = o.floodSeconds ?? 20;
  const nClients = o.clients ?? 100;
  const hosts = o.clientHosts ?? 4;
  const backlog = o.backlog ?? 128;
  const synRetries = o.clientSynRetries ?? 3;
  const rng = new SimRng(o.seed ?? 7);
  const sim = new Simulation();
  const sw = new Switch({ delay: millis(1) });
  sim.add(sw, 'switch');
  const server = new Stack({ rng: rng.fork('server'), name: 'server', clock: () => sim.now, tcp: { syncookies } });
  server.addInterface({ port: sw.port(), ipv4: '10.0.0.1/24', mac: SERVER_MAC, linkLocal: false });
  server.addRoute('default', GATEWAY_IP.toString());
  sim.add(server, 'server');
  const clientLayers: SocketLayer[] = [];
  for (let i = 0; i < hosts; i++) {
    const st = new Stack({ rng: rng.fork(`client${i}`), name: `client${i}`, clock: () => sim.now });
    st.addInterface({ port: sw.port(), ipv4: `10.0.0.${11 + i}/24`, mac: `02:00:00:00:02:${(i + 1).toString(16).padStart(2, '0')}`, linkLocal: false });
    sim.add(st, `client${i}`);
    clientLayers.push(new SocketLayer(st.tcp));
  }
  const floodStart = seconds(0.5) as number as Instant;
  const floodEnd = (floodStart + seconds(floodSeconds)) as Instant;
  const flooder = new SynFlooder(sw, rate, floodStart, floodEnd, rng.fork('attacker'));
  sim.add(flooder, 'attacker');
  const app = new AppClock();
  sim.add(app, 'app');

  const listenSock = new SocketLayer(server.tcp).socket();
  listenSock.bind('0.0.0.0', SERVER_PORT);
  listenSock.listen(backlog);
  const listener: Listener = [...server.tcp.allListeners()][0]!;
  const children: { sock: TcpSocket; reader: Reader; answered: boolean }[] = [];

  // Legitimate clients start one second into the flood, spread over the next five seconds, so
  // every attempt (and its SYN retries) falls inside the flood.
  const clients: Client[] = [];
  const spread = Math.min(5, Math.max(0, floodSeconds - 2 - (2 ** (synRetries + 1) - 1)));
  for (let i = 0; i < nClients; i++) {
    const at = (floodStart + seconds(1 + (spread * i) / nClients)) as Instant;
    app.at(at, () => {
      const sock = clientLayers[i % hosts]!.socket();
      sock.setOption('synCount', synRetries);
      sock.setOption('noDelay', true);
      sock.connect(SERVER_IP, SERVER_PORT);
      clients.push({ sock, reader: new Reader(sock), sent: false, connected: false, done: undefined, error: undefined });
    });
  }

  let synQueueMax = 0;
  let tcbMax = 0;
  const step = (): void => {
    // The server: accept everything, answer each request, close.
    for (;;) {
      const a = listenSock.accept();
      if (typeof a === 'string') break;
      a.setOption('noDelay', true);
      children.push({ sock: a, reader: new Reader(a), answered: false });
    }
    for (const c of children) {
      if (c.answered) continue;
      c.reader.drain();
      if (c.reader.bytes >= REQUEST.length) {
        c.sock.send(text(RESPONSE));
        c.sock.close();
        c.answered = true;
      }
    }
    // The clients: send the request once connected, read the response, close.
    for (const c of clients) {
      if (c.done !== undefined) continue;
      const st = c.sock.state;
      if (st === 'ESTABLISHED' && !c.connected) c.connected = true;
      if (c.connected && !c.sent) {
        c.sock.send(text(REQUEST));
        c.sent = true;
      }
      if (st === 'CLOSED' && !c.connected) {
        c.done = 'failed';
        c.error = c.sock.takeError() ?? 'closed';
        continue;
      }
      c.reader.drain();
      if (c.reader.bytes >= RESPONSE.length) {
        c.done = 'served';
        c.sock.close();
      } else if (c.reader.error !== undefined || (c.reader.eof && c.reader.bytes < RESPONSE.length)) {
        c.done = 'failed';
        c.error = c.reader.error ?? 'eof';
      }
    }
    synQueueMax = Math.max(synQueueMax, listener.synQueue.size);
    tcbMax = Math.max(tcbMax, server.tcp.connectionCount - server.tcp.timeWaitCount);
  };
  sim.run({
    until: () => {
      step();
      return sim.now >= floodEnd && clients.length === nClients && clients.every((c) => c.done !== undefined);
    },
    maxTime: (floodEnd + seconds(120)) as Instant,
  });
  step();
  const failures: Record<string, number> = {};
  for (const c of clients) if (c.done !== 'served') failures[c.error ?? 'unfinished'] = (failures[c.error ?? 'unfinished'] ?? 0) + 1;
  const n = server.tcp.counters.nstat();
  const pick = ['TcpPassiveOpens', 'TcpExtListenDrops', 'TcpExtListenOverflows', 'TcpExtSyncookiesSent', 'TcpExtSyncookiesRecv',
    'TcpExtSyncookiesFailed', 'TcpExtTCPReqQFullDrop', 'TcpExtTCPReqQFullDoCookies'];
  const counters: Record<string, number> = {};
  for (const k of pick) counters[k] = n[k] ?? 0;
  return {
    syncookies, clients: nClients, connected: clients.filter((c) => c.connected).length, served: clients.filter((c) => c.done === 'served').length,
    failures, spoofedSyns: flooder.sent, backscatter: flooder.backscatter, synQueueMax, tcbMax, counters,
  };
}

/**
 * The SYN flood (RFC 4987 §2 and §3.6): an attacker sends spoofed SYNs from many addresses that
 * never answer while legitimate clients connect. Without SYN cookies the SYN queue stays full of
 * half-open connections and the clients time out; with cookies (tcp_syncookies = 1, Linux's
 * default, or 2) they connect, and the server's state stays bounded by the backlog (or empty).
 */
export function synFlood(o: SynFloodOptions = {}): DefenceReport & { runs: SynFloodRun[] } {
  const runs = ([0, 1, 2] as const).map((m) => synFloodRun(m, o));
  const r0 = runs[0]!;
  const lines = [
    `SYN flood: ${o.rate ?? 200} spoofed SYN/s for ${o.floodSeconds ?? 20} s (${r0.spoofedSyns} SYNs from 198.18.0.0/15), ` +
    `listener backlog ${o.backlog ?? 128}, ${r0.clients} legitimate clients (TCP_SYNCNT ${o.clientSynRetries ?? 3})`,
  ];
  const facts: Record<string, string | number | boolean> = { spoofedSyns: r0.spoofedSyns };
  for (const r of runs) {
    const c = r.counters;
    const fails = Object.entries(r.failures).map(([k, v]) => `${v} ${k}`).join(', ');
    lines.push(
      `  tcp_syncookies=${r.syncookies}: ${r.connected}/${r.clients} clients connected, ${r.served} served${fails === '' ? '' : ` (failed: ${fails})`}; ` +
      `SYN queue max ${r.synQueueMax}, TCBs max ${r.tcbMax}; SyncookiesSent ${c['TcpExtSyncookiesSent']}, SyncookiesRecv ${c['TcpExtSyncookiesRecv']}, ` +
      `ListenDrops ${c['TcpExtListenDrops']}; ${r.backscatter} segments back to spoofed addresses`,
    );
    facts[`connected${r.syncookies}`] = r.connected;
    facts[`served${r.syncookies}`] = r.served;
    facts[`synQueueMax${r.syncookies}`] = r.synQueueMax;
    facts[`tcbMax${r.syncookies}`] = r.tcbMax;
    facts[`syncookiesSent${r.syncookies}`] = c['TcpExtSyncookiesSent'] ?? 0;
  }
  return { facts, lines, runs };
}

/**
 * One handshake answered with a SYN cookie (tcp_syncookies = 2, so every SYN gets one): the
 * SYN-ACK's sequence number is the cookie, the low bits of its TSval carry the client's window
 * scale and SACK-permitted, and the server keeps nothing until the ACK comes back.
 */
export function synCookieHandshake(opts: ScenarioOptions = {}): ScenarioResult {
  const s = newScenario({ seed: 1 }, opts, { serverTcp: { syncookies: 2 } });
  const listener = listen(s);
  const client = s.client.sockets.socket();
  client.connect(s.server.addr, SERVER_PORT);
  const l = [...s.server.stack.tcp.allListeners()][0]!;
  let halfOpen = 0;
  let child: TcpSocket | undefined;
  waitFor(s, () => {
    halfOpen = Math.max(halfOpen, l.synQueue.size);
    const a = listener.accept();
    if (typeof a !== 'string') child = a;
    return child !== undefined && client.state === 'ESTABLISHED';
  }, 'cookie handshake');
  const synAck = framesWhere(s, s.server.name, isSynAck)[0]?.seg;
  // The options sit in the low bits of the server's clock, before its per-peer offset is added.
  const tsval = ((synAck?.options.timestamp?.tsval ?? 0) - s.server.stack.tcp.isnGenerator.tsOffset(s.server.addr, s.client.addr)) >>> 0;
  const c = child!.connection!;
  const n = s.server.stack.tcp.counters;
  return {
    scenario: s,
    caption: 'a handshake answered with a SYN cookie (tcp_syncookies = 2)',
    facts: {
      cookieIsn: synAck?.seq ?? 0, tsvalLowBits: `0b${(tsval & 63).toString(2).padStart(6, '0')}`, halfOpenHeld: halfOpen,
      sndWscale: c.sndWscale, sackOk: c.sackOk, peerMss: c.peerMss, syncookiesSent: n.SyncookiesSent, syncookiesRecv: n.SyncookiesRecv,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// TCP Fast Open

/**
 * TCP Fast Open (RFC 7413): the client's first connection asks for a cookie (the server answers
 * it in the SYN-ACK), the second sends its request in the SYN with the cookie. The time from
 * connect() to the first byte of the response falls from two round trips to one.
 */
export function fastOpen(opts: ScenarioOptions = {}): ScenarioResult {
  const s = newScenario({ seed: 1, delay: millis(10) }, opts, { clientTcp: { fastOpen: 0x1 }, serverTcp: { fastOpen: 0x3 } });
  const listener = s.server.sockets.socket();
  listener.setOption('fastOpen', 16);
  listener.bind('0.0.0.0', SERVER_PORT);
  listener.listen();
  s.markState(s.server.name, 'LISTEN');
  s.note(s.server.name, 'TCP_FASTOPEN 16');
  const request = (label: string): { ttfb: number; synData: number } => {
    const c = s.client.sockets.socket();
    c.setOption('fastOpenConnect', true);
    c.setOption('noDelay', true);
    const start = s.now;
    c.connect(s.server.addr, SERVER_PORT);
    c.send(text(REQUEST));
    s.note(s.client.name, `${label}: connect() + send()`);
    const reader = new Reader(c);
    let child: TcpSocket | undefined;
    let childReader: Reader | undefined;
    let firstByte: Instant | undefined;
    waitFor(s, () => {
      if (child === undefined) {
        const a = listener.accept();
        if (typeof a !== 'string') {
          child = a;
          child.setOption('noDelay', true);
          childReader = new Reader(child);
        }
      }
      if (child !== undefined && childReader !== undefined && childReader.bytes < REQUEST.length) {
        childReader.drain();
        if (childReader.bytes >= REQUEST.length) child.send(text(RESPONSE));
      }
      reader.drain();
      if (reader.bytes > 0 && firstByte === undefined) firstByte = s.now;
      return reader.bytes >= RESPONSE.length;
    }, `${label}: response`);
    const synData = c.connection?.fastOpen?.synData ?? 0;
    c.close();
    child!.close();
    waitFor(s, () => {
      childReader!.drain();
      reader.drain();
      return c.state === 'TIME-WAIT' || c.state === 'CLOSED';
    }, `${label}: close`);
    return { ttfb: firstByte! - start, synData };
  };
  const first = request('first request');
  const second = request('second request');
  const rtt = 2 * (opts.delay ?? millis(10));
  const cs = s.client.stack.tcp.counters;
  const ss = s.server.stack.tcp.counters;
  return {
    scenario: s,
    caption: 'TCP Fast Open: a cookie on the first connection, data in the SYN on the second',
    facts: {
      rttMs: rtt / 1000, firstTtfbMs: first.ttfb / 1000, secondTtfbMs: second.ttfb / 1000,
      firstRtts: first.ttfb / rtt, secondRtts: second.ttfb / rtt, secondSynData: second.synData,
      TCPFastOpenActive: cs.TCPFastOpenActive, TCPFastOpenPassive: ss.TCPFastOpenPassive, TCPFastOpenCookieReqd: ss.TCPFastOpenCookieReqd,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// TIME-WAIT economics

/** How to run the port-exhaustion story. */
export interface PortExhaustionOptions extends ScenarioOptions {
  /** Ephemeral ports the client may use (default 100). */
  ports?: number;
  /** MSL in seconds; TIME-WAIT lasts 2*MSL (default 5: T = 10 s). */
  mslSeconds?: number;
  /** How long the client keeps opening connections, in seconds (default 30). */
  runSeconds?: number;
  /** The client's tcp_tw_reuse (default 2, Linux's: loopback only, so off on this link). */
  twReuse?: 0 | 1 | 2;
  /** Which side closes first, and so holds TIME-WAIT (default the client). */
  closer?: 'client' | 'server';
}

/**
 * Port exhaustion (RFC 6056 §2.3 and the seeds' arithmetic): one client address, one server
 * address and port, N ephemeral ports, and a TIME-WAIT of T = 2*MSL on the side that closes
 * first. When that is the client, each connection holds its port for T after it ends, so at
 * most N/T connections per second can be opened and connect() then fails with EADDRNOTAVAIL.
 * With tcp_tw_reuse the client takes over TIME-WAIT 4-tuples whose timestamps are over a second
 * old and runs past the cap; when the server closes first, the server holds the TIME-WAIT
 * records, the client's ports are free at once, and RFC 6191 lets each new SYN reopen the
 * server's record.
 */
export function portExhaustion(opts: PortExhaustionOptions = {}): ScenarioResult & DefenceReport {
  const ports = opts.ports ?? 100;
  const msl = opts.mslSeconds ?? 5;
  const runFor = opts.runSeconds ?? 30;
  const closer = opts.closer ?? 'client';
  const twReuse = opts.twReuse ?? 2;
  const tcp: Partial<TcpConfig> = { msl: seconds(msl) };
  const s = newScenario({ seed: 3, delay: millis(1) }, opts, {
    tcp,
    clientTcp: { ...tcp, portRange: { low: 40000, high: 40000 + ports - 1 }, twReuse },
    serverTcp: tcp,
  });
  const listener = listen(s, SERVER_PORT, 4096);
  const children: { sock: TcpSocket; reader: Reader }[] = [];
  const serverStep = (): void => {
    for (;;) {
      const a = listener.accept();
      if (typeof a === 'string') break;
      if (closer === 'server') a.close(); // the server closes first
      else children.push({ sock: a, reader: new Reader(a) });
    }
    for (let i = children.length - 1; i >= 0; i--) {
      const c = children[i]!;
      c.reader.drain();
      if (c.reader.eof || c.reader.error !== undefined) {
        c.sock.close();
        children.splice(i, 1);
      }
    }
  };
  const start = s.now;
  const end = start + seconds(runFor);
  let completed = 0;
  let refused = 0;
  let maxClientTw = 0;
  let maxServerTw = 0;
  const sample = (): void => {
    maxClientTw = Math.max(maxClientTw, s.client.stack.tcp.timeWaitCount);
    maxServerTw = Math.max(maxServerTw, s.server.stack.tcp.timeWaitCount);
  };
  while (s.now < end) {
    const c = s.client.sockets.socket();
    const r = c.connect(s.server.addr, SERVER_PORT);
    if (r === 'EADDRNOTAVAIL') {
      refused++;
      s.sim.advance(millis(10), { until: () => { serverStep(); return false; } });
      continue;
    }
    if (r !== 'EINPROGRESS') throw new Error(`port exhaustion: connect() failed with ${r}`);
    waitFor(s, () => { serverStep(); return c.state !== 'SYN-SENT'; }, 'connect');
    if (c.state !== 'ESTABLISHED') throw new Error(`port exhaustion: connection ended in ${c.state}`);
    const rd = new Reader(c);
    if (closer === 'client') {
      c.close();
    } else {
      waitFor(s, () => { serverStep(); rd.drain(); return rd.eof; }, 'server FIN');
      c.close();
    }
    waitFor(s, () => { serverStep(); sample(); return c.state === 'TIME-WAIT' || c.state === 'CLOSED'; }, 'close');
    completed++;
    sample();
  }
  const elapsed = (s.now - start) / 1e6;
  const cap = ports / (2 * msl);
  const rate = completed / elapsed;
  const n = s.client.stack.tcp.counters;
  const holder = maxClientTw >= maxServerTw ? 'client' : 'server';
  const lines = [
    `Port exhaustion: ${ports} ephemeral ports, one server address and port, TIME-WAIT 2*MSL = ${2 * msl} s, ` +
    `tcp_tw_reuse=${twReuse}, the ${closer} closes first`,
    `  cap N/T = ${ports}/${2 * msl} = ${cap.toFixed(1)} connections/s; measured ${rate.toFixed(1)} connections/s ` +
    `(${completed} in ${elapsed.toFixed(1)} s), connect() failed with EADDRNOTAVAIL ${refused} times`,
    `  TIME-WAIT entries at most: client ${maxClientTw}, server ${maxServerTw}: the ${holder} holds TIME-WAIT` +
    (twReuse !== 0 && n.TWRecycled > 0 ? `; ${n.TWRecycled} TIME-WAIT 4-tuples reused (TWRecycled)` : ''),
  ];
  return {
    scenario: s,
    caption: `port exhaustion: the ${closer} closes first, tcp_tw_reuse=${twReuse}`,
    facts: {
      ports, twoMslSeconds: 2 * msl, capPerSecond: cap, measuredPerSecond: Math.round(rate * 10) / 10, completed, eaddrnotavail: refused,
      clientTimeWaitMax: maxClientTw, serverTimeWaitMax: maxServerTw, holder, twRecycled: n.TWRecycled,
    },
    lines,
  };
}

/**
 * The SYN flood for the tour: the figures of `synFlood` (cookies off, on when the queue is full,
 * always) as facts, drawn over the one handshake that explains them (`synCookieHandshake`).
 */
export function synFloodStory(opts: ScenarioOptions = {}): ScenarioResult {
  const flood = synFlood(opts.seed !== undefined ? { seed: opts.seed } : {});
  const cookie = synCookieHandshake(opts);
  const facts: Record<string, string | number | boolean> = { ...flood.facts };
  flood.lines.forEach((l, i) => { facts[`line${i}`] = l.trim(); });
  return { ...cookie, facts: { ...facts, ...cookie.facts } };
}

// ---------------------------------------------------------------------------------------------
// TCP_DEFER_ACCEPT

/**
 * TCP_DEFER_ACCEPT (Linux): the server's listener defers for 3 s. A client that sends its
 * request 0.5 s after connecting is accepted when the request arrives, not at the handshake (its
 * bare ACK was dropped, TCPDeferAcceptDrop); a client that sends nothing is accepted after the
 * deferral, when it acknowledges the SYN-ACK the server sends again at the last moment (the
 * contrasting run).
 */
export function deferAccept(opts: ScenarioOptions = {}): ScenarioResult {
  const run = (speaks: boolean, opts: ScenarioOptions): ScenarioResult => {
    const s = newScenario({ seed: 1, delay: millis(10) }, opts);
    const listener = s.server.sockets.socket();
    listener.setOption('deferAccept', 3);
    listener.bind('0.0.0.0', SERVER_PORT);
    listener.listen();
    s.markState(s.server.name, 'LISTEN');
    s.note(s.server.name, 'TCP_DEFER_ACCEPT 3 s');
    const start = s.now;
    const c = s.client.sockets.socket();
    c.connect(s.server.addr, SERVER_PORT);
    let child: TcpSocket | undefined;
    let acceptedAt: Instant | undefined;
    const tryAccept = (): boolean => {
      if (child === undefined) {
        const a = listener.accept();
        if (typeof a !== 'string') {
          child = a;
          acceptedAt = s.now;
          s.note(s.server.name, `accept() -> ${a.readableLength} bytes readable`);
        }
      }
      return child !== undefined;
    };
    waitFor(s, () => tryAccept() || c.state === 'ESTABLISHED', 'handshake');
    const clientEstablished = s.now;
    if (speaks) {
      s.sim.advance((start + 500_000 - s.now) as Duration, { until: tryAccept });
      c.send(text(REQUEST));
      s.note(s.client.name, 'send(request)');
    }
    waitFor(s, tryAccept, 'deferred accept', 20_000);
    const readable = child!.readableLength;
    const r = new Reader(child!);
    r.drain();
    c.close();
    child!.close();
    s.runUntil(() => { r.drain(); return c.state === 'TIME-WAIT' || c.state === 'CLOSED'; }, 5_000);
    return {
      scenario: s,
      caption: speaks ? 'the client speaks 0.5 s after connecting' : 'the client never speaks',
      facts: {
        clientEstablishedMs: (clientEstablished - start) / 1000, acceptedMs: (acceptedAt! - start) / 1000, readableAtAccept: readable,
        TCPDeferAcceptDrop: s.server.stack.tcp.counters.TCPDeferAcceptDrop,
      },
    };
  };
  return { ...run(true, opts), contrast: run(false, contrastOptions(opts)) };
}
