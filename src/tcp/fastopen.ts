// TCP Fast Open (RFC 7413): data in the SYN, delivered before the handshake completes, for
// clients that hold a cookie the server gave them earlier. Client side: ask for a cookie with an
// empty option (kind 34), cache it per server address (as Linux's tcp_metrics does), send data in
// the next SYN, and fall back to the ordinary handshake (retransmitting the data) when the server
// does not acknowledge it. Server side: issue cookies (a keyed MAC of the addresses, 8 bytes as
// Linux), accept the data of a SYN with a valid cookie and put the child straight into the accept
// queue, bounded by the listener's TCP_FASTOPEN queue length. The wire format (and the
// experimental kind 254 / 0xF989 form) is in src/wire/tcp-options.ts.
//
// Read first: RFC 7413 §3 (protocol overview), §4.1 (cookies), §4.2 (the exchange, fallback),
// §5 (security: the pending-request limit), then Linux's net/ipv4/tcp_fastopen.c
// (tcp_try_fastopen, tcp_fastopen_queue_check, tcp_fastopen_cookie_check) and
// tcp_rcv_fastopen_synack() in tcp_input.c.
import type { Instant } from '../time/instant.js';
import type { IpAddr } from '../wire/ip-addr.js';
import { TFO_COOKIE_MIN, TFO_COOKIE_MAX } from '../wire/tcp-options.js';
import type { TcpRepr } from '../wire/tcp.js';
import { seqDiff, seqGt } from './seq.js';
import { siphash24, type Sip64 } from './siphash.js';
import type { IsnGenerator } from './isn.js';
import type { Listener } from './listener.js';
import type { Tcb } from './tcb.js';
import type { TcpLayer } from './tcp.js';

/** tcp_fastopen bit: clients may use Fast Open (Linux TFO_CLIENT_ENABLE; the default). */
export const TFO_CLIENT_ENABLE = 0x1;
/** tcp_fastopen bit: listeners with a TCP_FASTOPEN queue accept Fast Open (TFO_SERVER_ENABLE). */
export const TFO_SERVER_ENABLE = 0x2;
/** tcp_fastopen bit: clients send data in the SYN without a cookie (TFO_CLIENT_NO_COOKIE). */
export const TFO_CLIENT_NO_COOKIE = 0x4;
/** tcp_fastopen bit: servers accept SYN data without a cookie (TFO_SERVER_COOKIE_NOT_REQD). */
export const TFO_SERVER_COOKIE_NOT_REQD = 0x200;
/** tcp_fastopen bit: every listener does Fast Open with a queue as long as its backlog (TFO_SERVER_WO_SOCKOPT1). */
export const TFO_SERVER_WO_SOCKOPT = 0x400;

/** The cookies this server issues are 8 bytes, as Linux's TCP_FASTOPEN_COOKIE_SIZE. */
export const TFO_COOKIE_SIZE = 8;
/** The option space a SYN may need besides the data (Linux MAX_TCP_OPTION_SPACE): SYN data is MSS - 40. */
export const MAX_TCP_OPTION_SPACE = 40;

/** Fast Open state of one connection (Tcb.fastOpen). */
export interface FastOpenState {
  /**
   * The option for our SYN or SYN-ACK: the client's cookie or an empty cookie request, or the
   * cookie a server gives the client; undefined: no option.
   */
  option: Uint8Array | undefined;
  /** Send the option in its experimental form (kind 254, ExID 0xF989), as the peer did. */
  experimental: boolean;
  /** Client: data may go in the SYN (a cookie is cached, or tcp_fastopen has TFO_CLIENT_NO_COOKIE). */
  dataAllowed: boolean;
  /** Client: bytes of data the SYN carried. */
  synData: number;
  /** Client: TCP_FASTOPEN_CONNECT with a cookie in hand: the SYN waits for the first write. */
  deferConnect: boolean;
  /** Server: a child created from a SYN with a valid cookie (RFC 7413 §4.2.2), already in the accept queue. */
  passive: boolean;
  /** Server: the listener whose pending Fast Open count this child holds until its handshake completes. */
  pendingOn: Listener | undefined;
}

/** A fresh state with nothing in it. */
export function newFastOpenState(): FastOpenState {
  return { option: undefined, experimental: false, dataAllowed: false, synData: 0, deferConnect: false, passive: false, pendingOn: undefined };
}

// ---------------------------------------------------------------------------------------------
// Cookies (RFC 7413 §4.1.2: "The server is in charge of cookie generation and authentication.
// The cookie SHOULD be a message authentication code tag with a length between 4 and 16 bytes",
// computed over the client's IP address; Linux uses SipHash over both addresses.)

/** Domain-separation word for deriving the cookie key from the stack's MAC key (ASCII "TFOK"). */
const KEY_DOMAIN = 0x54464f4b;
const keys = new WeakMap<IsnGenerator, Uint32Array>();
const KEY_WORDS = new Uint32Array(2);
/** The SYN's source and destination addresses as bytes (8 for IPv4, 32 for IPv6), then as SipHash words. */
const ADDR_BYTES = new Uint8Array(32);
const COOKIE_WORDS = new Uint32Array(8);
const OUT: Sip64 = [0, 0];

/** The 128-bit SipHash key for Fast Open cookies: derived from the stack's secret MAC key, so it needs no randomness of its own. */
function cookieKey(isn: IsnGenerator): Uint32Array {
  let k = keys.get(isn);
  if (k === undefined) {
    k = new Uint32Array(4);
    for (let i = 0; i < 4; i++) {
      KEY_WORDS[0] = KEY_DOMAIN;
      KEY_WORDS[1] = i;
      k[i] = isn.mac(KEY_WORDS);
    }
    keys.set(isn, k);
  }
  return k;
}

const configuredKeys = new WeakMap<Uint8Array, Uint32Array>();

/**
 * A configured Fast Open key (TcpConfig.fastOpenKey: the 16 bytes Linux's TCP_FASTOPEN_KEY takes)
 * as SipHash key words: Linux (tcp_fastopen_reset_cipher) reads the bytes as two little-endian
 * 64-bit halves, which is the word layout siphash24 takes.
 */
function configuredKey(key: Uint8Array): Uint32Array {
  let k = configuredKeys.get(key);
  if (k === undefined) {
    if (key.length !== 16) throw new RangeError(`a Fast Open key is 16 bytes, not ${key.length}`);
    k = new Uint32Array(4);
    for (let i = 0; i < 16; i++) k[i >>> 2]! |= key[i]! << ((i & 3) * 8);
    configuredKeys.set(key, k);
  }
  return k;
}

/**
 * The 8-byte cookie for a client, computed as Linux's __tcp_fastopen_cookie_gen_cipher does:
 * SipHash-2-4 of the SYN's source address (the client's) then its destination address (ours),
 * 4 + 4 bytes for IPv4 and 16 + 16 for IPv6 in network order, the 64-bit result stored
 * little-endian. The key is `key` (TcpConfig.fastOpenKey, Linux's net.ipv4.tcp_fastopen_key) when
 * given, so a server issues the very cookies Linux issues with that key (packetdrill scripts
 * write them out); otherwise one derived from the stack's secret MAC key.
 */
export function fastOpenCookie(isn: IsnGenerator, client: IpAddr, server: IpAddr, key?: Uint8Array): Uint8Array {
  const n = client.byteLength;
  client.write(ADDR_BYTES, 0);
  server.write(ADDR_BYTES, n);
  COOKIE_WORDS.fill(0);
  for (let i = 0; i < 2 * n; i++) COOKIE_WORDS[i >>> 2]! |= ADDR_BYTES[i]! << ((i & 3) * 8);
  const h = siphash24(key !== undefined ? configuredKey(key) : cookieKey(isn), COOKIE_WORDS, 2 * n, OUT);
  const c = new Uint8Array(TFO_COOKIE_SIZE);
  for (let i = 0; i < 4; i++) {
    c[i] = (h[0] >>> (8 * i)) & 0xff;
    c[4 + i] = (h[1] >>> (8 * i)) & 0xff;
  }
  return c;
}

/** Whether a cookie is the one this server would issue to `client` (compared in full; a wrong length never matches). */
export function fastOpenCookieValid(isn: IsnGenerator, client: IpAddr, server: IpAddr, cookie: Uint8Array, key?: Uint8Array): boolean {
  if (cookie.length !== TFO_COOKIE_SIZE) return false;
  const good = fastOpenCookie(isn, client, server, key);
  let diff = 0;
  for (let i = 0; i < TFO_COOKIE_SIZE; i++) diff |= good[i]! ^ cookie[i]!;
  return diff === 0;
}

// ---------------------------------------------------------------------------------------------
// The client's cookie cache (RFC 7413 §4.1.3: "The client caches cookies from servers for later
// Fast Open connections. For a multihomed client, the cookies are dependent on the client and
// server IP addresses. Hence, the client should cache at most one (most recently received) cookie
// per client and server IP address pair.")

/** What the client remembers about one server. */
export interface FastOpenCacheEntry {
  /** The cookie, if the server gave one. */
  cookie: Uint8Array | undefined;
  /** The server answered in the experimental option form. */
  experimental: boolean;
  /** The MSS the server announced (bounds the data the next SYN carries). */
  mss: number;
  /** Consecutive handshakes where the SYN with data seemed lost (Linux's tfom->syn_loss). */
  synLoss: number;
  /** When that last happened. */
  lastSynLoss: Instant;
}

/** Fast Open cookies by (our address, server address). */
export class FastOpenCache {
  private readonly entries = new Map<string, FastOpenCacheEntry>();

  private static key(local: IpAddr, server: IpAddr): string {
    return `${local.toString()} ${server.toString()}`;
  }
  /** The entry for a server, if any. */
  get(local: IpAddr, server: IpAddr): FastOpenCacheEntry | undefined {
    return this.entries.get(FastOpenCache.key(local, server));
  }
  /** The entry for a server, created empty if missing. */
  entry(local: IpAddr, server: IpAddr): FastOpenCacheEntry {
    const k = FastOpenCache.key(local, server);
    let e = this.entries.get(k);
    if (e === undefined) {
      e = { cookie: undefined, experimental: false, mss: 0, synLoss: 0, lastSynLoss: 0 as Instant };
      this.entries.set(k, e);
    }
    return e;
  }
  /** Forgets every cookie. */
  clear(): void {
    this.entries.clear();
  }
  /** Number of servers remembered. */
  get size(): number {
    return this.entries.size;
  }
}

/** Seconds a client stops sending SYN data after repeated SYN losses: 60 s << losses, as Linux's tcp_fastopen_cache_get. */
const SYN_LOSS_BACKOFF_US = 60_000_000;

/**
 * Client: decides how a new active connection uses Fast Open (Linux's tcp_fastopen_cookie_check
 * and tcp_fastopen_defer_connect). With a cached cookie the SYN carries it and data; without one
 * it carries a cookie request and no data. `deferIfCookie` (TCP_FASTOPEN_CONNECT) holds the SYN
 * until the first write when a cookie is in hand. After two SYN-data losses in a row the client
 * stops using Fast Open with that server for 60 s << losses, as Linux does.
 */
export function prepareFastOpenClient(tcp: TcpLayer, tcb: Tcb, deferIfCookie: boolean, now: Instant): void {
  const cfg = tcp.config.fastOpen;
  if ((cfg & TFO_CLIENT_ENABLE) === 0) return;
  const e = tcp.fastOpenCache.get(tcb.local, tcb.remote);
  if (e !== undefined && e.synLoss > 1 && now - e.lastSynLoss < SYN_LOSS_BACKOFF_US * 2 ** e.synLoss) {
    tcp.countDrop('fastopen:client-backoff');
    return;
  }
  const fo = newFastOpenState();
  if (e?.cookie !== undefined) {
    fo.option = e.cookie;
    fo.experimental = e.experimental;
    fo.dataAllowed = true;
  } else if ((cfg & TFO_CLIENT_NO_COOKIE) !== 0) {
    fo.dataAllowed = true; // data without any option (Linux: cookie->len = -1)
  } else {
    fo.option = new Uint8Array(0); // RFC 7413 §4.1.1: a cookie request is the option with no cookie
    fo.experimental = e?.experimental ?? false;
  }
  fo.deferConnect = deferIfCookie && fo.dataAllowed;
  tcb.fastOpen = fo;
}

/**
 * Client: how many bytes of the send buffer go into the SYN (Linux's tcp_send_syn_data): what is
 * queued, at most the MSS this server announced last time (or our own) minus 40 bytes of option
 * space.
 */
export function fastOpenSynData(tcp: TcpLayer, tcb: Tcb): number {
  const fo = tcb.fastOpen;
  if (fo === undefined || !fo.dataAllowed) return 0;
  const n = Math.min(tcb.sndBuf.length, fastOpenSynRoom(tcp, tcb));
  fo.synData = n;
  return n;
}

/** Client: the most data a SYN to this server may carry (see fastOpenSynData). */
export function fastOpenSynRoom(tcp: TcpLayer, tcb: Tcb): number {
  const e = tcp.fastOpenCache.get(tcb.local, tcb.remote);
  const mss = e !== undefined && e.mss > 0 ? Math.min(e.mss, tcb.advMss) : tcb.advMss;
  return Math.max(0, mss - MAX_TCP_OPTION_SPACE);
}

/**
 * Client: the SYN-ACK arrived in SYN-SENT (called after SND.UNA took SEG.ACK; Linux's
 * tcp_rcv_fastopen_synack). Caches the server's cookie and MSS; releases SYN data the SYN-ACK
 * acknowledged; otherwise falls back: RFC 7413 §4.2.2, "If the server does not acknowledge the
 * data in the SYN-ACK, the client ... retransmits the data" right after the handshake, as Linux
 * does (tcp_non_congestion_loss_retransmit), and counts TCPFastOpenActiveFail.
 */
export function fastOpenSynAckArrived(tcp: TcpLayer, tcb: Tcb, seg: TcpRepr, now: Instant): void {
  const fo = tcb.fastOpen;
  if (fo === undefined) return;
  const got = seg.options.fastOpen;
  const cookie = got !== undefined && got.length >= TFO_COOKIE_MIN && got.length <= TFO_COOKIE_MAX ? got : undefined;
  const e = tcp.fastOpenCache.entry(tcb.local, tcb.remote);
  if (seg.options.mss !== undefined && seg.options.mss > 0) e.mss = seg.options.mss;
  if (cookie !== undefined) {
    e.cookie = cookie;
    e.experimental = seg.options.fastOpenExperimental === true;
  }
  const dataUnacked = fo.synData > 0 && seqGt(tcb.sndNxt, seg.ack);
  // Linux (tcp_rcv_fastopen_synack): the SYN had to be retransmitted and the SYN-ACK neither
  // carries a cookie nor acknowledges the data: presumably a middlebox drops SYNs with data.
  if (tcb.retransmits > 0 && cookie === undefined && dataUnacked) {
    e.synLoss++;
    e.lastSynLoss = now;
  } else {
    e.synLoss = 0;
  }
  const acked = seqDiff(seg.ack, tcb.sndBase);
  if (acked > 0) {
    tcb.sndBuf.consume(Math.min(acked, tcb.sndBuf.length));
    tcb.sndBase = seg.ack;
  }
  if (fo.synData > 0) {
    if (dataUnacked) {
      tcp.counters.TCPFastOpenActiveFail++;
      // Resend from SND.UNA as soon as the connection is established: the data the SYN carried
      // counts as never sent (the server did not take it), so the congestion controller, created
      // after this, sends it as new data.
      tcb.sndNxt = tcb.sndUna;
      tcb.rttSeq = undefined;
    } else {
      tcp.counters.TCPFastOpenActive++;
    }
  }
  fo.option = undefined;
  fo.deferConnect = false;
}

// ---------------------------------------------------------------------------------------------
// Server

/** What the server does with the Fast Open part of a SYN (Linux's tcp_try_fastopen). */
export type FastOpenVerdict =
  | { kind: 'none' } // no Fast Open: the ordinary handshake, no cookie in the SYN-ACK
  | { kind: 'cookie'; cookie: Uint8Array; experimental: boolean } // the ordinary handshake; give the client this cookie
  | { kind: 'accept' }; // a valid cookie (or none needed): create the child now, take the data

/**
 * Server: decides the Fast Open part of a SYN to a listener (RFC 7413 §4.2.2 and Linux's
 * tcp_try_fastopen). Counts TCPFastOpenCookieReqd, TCPFastOpenPassiveFail and
 * TCPFastOpenListenOverflow; the caller counts TCPFastOpenPassive when it creates the child.
 * RFC 7413 §5.1: "the server SHOULD limit the number of pending requests", so beyond the
 * listener's TCP_FASTOPEN queue length Fast Open is off (no cookie either, as Linux).
 */
export function fastOpenServerVerdict(tcp: TcpLayer, l: Listener, local: IpAddr, remote: IpAddr, seg: TcpRepr): FastOpenVerdict {
  const cfg = tcp.config.fastOpen;
  const opt = seg.options.fastOpen;
  const synData = seg.payload.length > 0;
  if (opt !== undefined && opt.length === 0) tcp.counters.TCPFastOpenCookieReqd++;
  if ((cfg & TFO_SERVER_ENABLE) === 0 || (!synData && opt === undefined)) return { kind: 'none' };
  const maxQ = l.fastOpenQueueLen > 0 ? l.fastOpenQueueLen : (cfg & TFO_SERVER_WO_SOCKOPT) !== 0 ? l.backlog : 0;
  if (maxQ === 0) return { kind: 'none' };
  if (l.fastOpenPending >= maxQ) {
    tcp.counters.TCPFastOpenListenOverflow++;
    return { kind: 'none' };
  }
  if ((cfg & TFO_SERVER_COOKIE_NOT_REQD) !== 0) return { kind: 'accept' };
  if (opt === undefined) return { kind: 'none' };
  const experimental = seg.options.fastOpenExperimental === true;
  if (opt.length > 0) {
    if (fastOpenCookieValid(tcp.isnGenerator, remote, local, opt, tcp.config.fastOpenKey)) return { kind: 'accept' };
    tcp.counters.TCPFastOpenPassiveFail++;
  }
  return { kind: 'cookie', cookie: fastOpenCookie(tcp.isnGenerator, remote, local, tcp.config.fastOpenKey), experimental };
}
