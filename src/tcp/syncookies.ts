// SYN cookies: answering a SYN without keeping any state, so that a flood of spoofed SYNs cannot
// fill the listener's SYN queue (the defence Linux implements in net/ipv4/syncookies.c and
// net/ipv6/syncookies.c). The ISN of the SYN-ACK is the state: a keyed MAC of the 4-tuple and
// the client's ISN, a coarse time counter, and the index of the client's MSS in a small table.
// When timestamps are in use, window scale and SACK-permitted ride in the low six bits of our
// TSval and come back in the TSecr of the final ACK (Linux's cookie_init_timestamp); without
// timestamps those options are lost. The final ACK alone rebuilds the connection.
//
// Read first: RFC 4987 §3.6 (SYN cookies, and their cost: "the encoding of only a limited set of
// MSS values ... and the lack of other TCP options"), RFC 9293 §3.10.7.2, RFC 7323 §2.2 and §3.2,
// then Linux's secure_tcp_syn_cookie(), check_tcp_syn_cookie(), cookie_v4_check() and
// tcp_conn_request().
import type { Instant } from '../time/instant.js';
import type { IpAddr } from '../wire/ip-addr.js';
import { TcpFlag, type TcpRepr, emitTcpHeader, tcpHeaderLength, resetTcpOptions } from '../wire/tcp.js';
import { type Seq, seq, seqAdd } from './seq.js';
import type { IsnGenerator } from './isn.js';
import type { Listener } from './listener.js';
import type { Tcb } from './tcb.js';
import type { TcpLayer } from './tcp.js';
import { IPPROTO_TCP, tsClock } from './output.js';

/** The cookie counter ticks every 60 s (Linux TCP_SYNCOOKIE_PERIOD). */
export const SYNCOOKIE_PERIOD_US = 60_000_000;
/** A cookie is accepted while its counter is this close to the current one (Linux MAX_SYNCOOKIE_AGE): 1 to 2 minutes. */
export const MAX_SYNCOOKIE_AGE = 2;
/** How long after the last cookie was sent ACKs to a listener are checked as cookies (Linux TCP_SYNCOOKIE_VALID). */
export const SYNCOOKIE_VALID_US = MAX_SYNCOOKIE_AGE * SYNCOOKIE_PERIOD_US;

/** Linux's IPv4 MSS table (net/ipv4/syncookies.c msstab): the values most clients announce. */
export const MSSTAB_V4: readonly number[] = [536, 1300, 1440, 1460];
/**
 * Linux's IPv6 MSS table (net/ipv6/syncookies.c msstab): IPV6_MIN_MTU - 60, 1480 - 60, 1500 - 60
 * and 9000 - 60.
 */
export const MSSTAB_V6: readonly number[] = [1220, 1420, 1440, 8940];

const COOKIE_BITS = 24;
const COOKIE_MASK = (1 << COOKIE_BITS) - 1;
// Low bits of TSval (Linux's TS_OPT_*): | 31 .. 6: timestamp | 5: ECN | 4: SACK | 3..0: wscale |.
const TS_BITS = 6;
const TS_OPT_WSCALE_MASK = 0xf;
const TS_OPT_SACK = 0x10;
/** Domain-separation word for the cookie MACs (ASCII "SYNC"), so no other MAC use can collide with them. */
const MAC_DOMAIN = 0x53594e43;

// Scratch words for the MAC: domain, c, local (4), remote (4), ports, count.
const WORDS = new Uint32Array(12);

/** The cookie counter at `now` (Linux's tcp_cookie_time). */
export function cookieCounter(now: Instant): number {
  return Math.floor(now / SYNCOOKIE_PERIOD_US) >>> 0;
}

/** Puts the 4-tuple into the MAC's words, in the client's view as Linux hashes it: its address and port first. */
function cookieTuple(local: IpAddr, localPort: number, remote: IpAddr, remotePort: number): void {
  WORDS[0] = MAC_DOMAIN;
  WORDS[2] = remote.w0;
  WORDS[3] = remote.w1;
  WORDS[4] = remote.w2;
  WORDS[5] = remote.w3;
  WORDS[6] = local.w0;
  WORDS[7] = local.w1;
  WORDS[8] = local.w2;
  WORDS[9] = local.w3;
  WORDS[10] = ((remotePort << 16) | localPort) >>> 0;
}

/**
 * Linux's cookie_hash(saddr, daddr, sport, dport, count, c), keyed by the stack's MAC key, for
 * the 4-tuple `cookieTuple` put in place (the two hashes of a cookie share it).
 */
function cookieHash(isn: IsnGenerator, count: number, c: number): number {
  WORDS[1] = c;
  WORDS[11] = count;
  return isn.mac(WORDS);
}

/** The index into the MSS table for a client's MSS: the largest entry not above it (Linux's loop in __cookie_v4_init_sequence). */
export function mssIndex(table: readonly number[], mss: number): number {
  let i = table.length - 1;
  for (; i > 0; i--) if (mss >= table[i]!) break;
  return i;
}

/**
 * The cookie ISN for a SYN (Linux's secure_tcp_syn_cookie):
 * H(4-tuple, 0) + client ISN + (count << 24) + ((H(4-tuple, count) + mssIndex) mod 2^24).
 */
export function makeCookie(isn: IsnGenerator, local: IpAddr, localPort: number, remote: IpAddr, remotePort: number, clientIsn: Seq, mssIdx: number, now: Instant): Seq {
  const count = cookieCounter(now);
  cookieTuple(local, localPort, remote, remotePort);
  const h0 = cookieHash(isn, 0, 0);
  const h1 = cookieHash(isn, count, 1);
  return seq(h0 + clientIsn + ((count << COOKIE_BITS) >>> 0) + ((h1 + mssIdx) & COOKIE_MASK));
}

/**
 * Checks the cookie an ACK returns (SEG.ACK - 1, for client ISN SEG.SEQ - 1) as Linux's
 * check_tcp_syn_cookie does; returns the MSS table index, or -1 when the MAC does not match or
 * the counter is older than MAX_SYNCOOKIE_AGE periods.
 */
export function checkCookie(isn: IsnGenerator, table: readonly number[], local: IpAddr, localPort: number, remote: IpAddr, remotePort: number, clientIsn: Seq, cookie: Seq, now: Instant): number {
  const count = cookieCounter(now);
  cookieTuple(local, localPort, remote, remotePort);
  const h0 = cookieHash(isn, 0, 0);
  const c = (cookie - h0 - clientIsn) >>> 0;
  const diff = (count - (c >>> COOKIE_BITS)) & (0xffffffff >>> COOKIE_BITS);
  if (diff >= MAX_SYNCOOKIE_AGE) return -1;
  const h1 = cookieHash(isn, (count - diff) >>> 0, 1);
  const idx = (c - h1) & COOKIE_MASK;
  return idx < table.length ? idx : -1;
}

/**
 * Our TSval in a cookie SYN-ACK (Linux's cookie_init_timestamp): the timestamp clock with its low
 * six bits replaced by the client's window scale (0xf: none) and SACK-permitted, stepped back by
 * 64 ms if that would put it ahead of the clock, so later TSvals never go backwards. ECN (bit 5)
 * stays clear: this stack does not negotiate ECN.
 */
export function cookieTsval(now: Instant, tsOffset: number, wscale: number | undefined, sack: boolean): number {
  const clock = tsClock(now);
  const options = (wscale === undefined ? TS_OPT_WSCALE_MASK : wscale & TS_OPT_WSCALE_MASK) | (sack ? TS_OPT_SACK : 0);
  let ts = ((clock >>> TS_BITS) << TS_BITS) >>> 0;
  ts = (ts | options) >>> 0;
  if (((ts - clock) | 0) > 0) ts = (ts - (1 << TS_BITS)) >>> 0;
  return (ts + tsOffset) >>> 0;
}

/** The options a cookie ACK's TSecr carries back (Linux's cookie_timestamp_decode). */
export function decodeCookieTs(tsecr: number, tsOffset: number): { wscale: number | undefined; sack: boolean } {
  const options = (tsecr - tsOffset) & ((1 << TS_BITS) - 1);
  const ws = options & TS_OPT_WSCALE_MASK;
  return { wscale: ws === TS_OPT_WSCALE_MASK ? undefined : ws, sack: (options & TS_OPT_SACK) !== 0 };
}

/** The MSS table for an address family. */
export function mssTable(family: 4 | 6): readonly number[] {
  return family === 4 ? MSSTAB_V4 : MSSTAB_V6;
}

/**
 * The first window of a SYN-ACK, as output.ts's `emit` chooses it (Linux's
 * tcp_select_initial_window): a whole number of segments of the MSS we announce, less the
 * timestamp option when it is in use, at most 65535.
 */
export function synAckWindow(rcvBuf: number, advMss: number, tsOk: boolean): number {
  const unit = advMss - (tsOk ? 12 : 0);
  let w = Math.min(rcvBuf, 0xffff);
  if (w > unit) w -= w % unit;
  return w;
}

/**
 * Answers a SYN with a cookie SYN-ACK and keeps nothing (Linux's tcp_conn_request with
 * want_cookie). Like Linux (tcp_clear_options when the SYN has no timestamps), window scale and
 * SACK-permitted are offered only when timestamps can carry them back.
 */
export function sendCookieSynAck(tcp: TcpLayer, l: Listener, local: IpAddr, remote: IpAddr, seg: TcpRepr, now: Instant): void {
  // A route that lives only as long as this call: a flood from spoofed sources makes no Route per SYN.
  const route = tcp.ip.routeTransient !== undefined ? tcp.ip.routeTransient(remote, local) : tcp.ip.route(remote, local);
  if (route === undefined) {
    tcp.countDrop('out:no-route');
    return;
  }
  const cfg = tcp.config;
  const table = mssTable(remote.family);
  // RFC 9293 §3.7.1 (MUST-15): without an MSS option the client's MSS is 536 (IPv4) or 1220 (IPv6).
  const clientMss = seg.options.mss !== undefined && seg.options.mss > 0 ? seg.options.mss : remote.family === 4 ? 536 : 1220;
  const cookie = makeCookie(tcp.isnGenerator, local, seg.dstPort, remote, seg.srcPort, seg.seq, mssIndex(table, clientMss), now);
  const advMss = tcp.advertisedMss(route.mtu, remote.family, l.childOpts.maxSeg);
  const ts = cfg.timestamps ? seg.options.timestamp : undefined;
  const r = tcp.scratchOut;
  const o = r.options;
  resetTcpOptions(o);
  o.mss = advMss;
  if (ts !== undefined) {
    const wscale = cfg.windowScaling && seg.options.wscale !== undefined ? Math.min(seg.options.wscale, 14) : undefined;
    const sack = cfg.sack && seg.options.sackPermitted === true;
    if (wscale !== undefined) o.wscale = tcp.ourWindowScale();
    if (sack) o.sackPermitted = true;
    tcp.scratchTs.tsval = cookieTsval(now, tcp.isnGenerator.tsOffset(local, remote), wscale, sack);
    tcp.scratchTs.tsecr = ts.tsval;
    o.timestamp = tcp.scratchTs;
  }
  r.srcPort = seg.dstPort;
  r.dstPort = seg.srcPort;
  r.seq = cookie;
  r.ack = seqAdd(seg.seq, 1);
  r.flags = TcpFlag.SYN | TcpFlag.ACK;
  r.urgent = 0;
  // RFC 7323 §2.2: the window of a SYN-ACK is never scaled.
  r.window = synAckWindow(cfg.rcvBuf, advMss, ts !== undefined);
  const l4Len = tcpHeaderLength(o);
  const frame = tcp.ip.allocFrame(route, l4Len);
  // Written in place: no view of the segment, no pseudo-header object.
  emitTcpHeader(r, frame, tcp.ip.l4Offset(route), 0, cfg.checksums && route.checksumOffload !== true ? local : undefined, remote);
  tcp.ip.transmit(route, frame, IPPROTO_TCP, l4Len, now);
  tcp.counters.OutSegs++;
  tcp.counters.SyncookiesSent++;
  // Linux's tcp_synq_overflow: remember when cookies were last sent, so ACKs to this listener are
  // checked as cookies for the next SYNCOOKIE_VALID_US.
  l.lastCookieAt = now;
}

/** What checking an ACK to a listener as a cookie found. */
export type CookieOutcome =
  | { kind: 'not-a-cookie' } // no cookies sent recently, or the options it decodes are disabled here
  | { kind: 'failed' } // a cookie was expected but the MAC or the counter is wrong
  | { kind: 'accept-queue-full' } // a valid cookie, but no room to queue the connection
  | { kind: 'child'; tcb: Tcb }; // a valid cookie: the connection, ESTABLISHED and queued

/**
 * An ACK arrived at a listener: if SYN cookies were sent in the last two minutes, check it as a
 * cookie and rebuild the connection from it (Linux's cookie_v4_check and tcp_get_cookie_sock).
 */
export function cookieAck(tcp: TcpLayer, l: Listener, local: IpAddr, remote: IpAddr, seg: TcpRepr, now: Instant): CookieOutcome {
  const cfg = tcp.config;
  if (cfg.syncookies === 0 || l.lastCookieAt === undefined || now - l.lastCookieAt > SYNCOOKIE_VALID_US) return { kind: 'not-a-cookie' };
  const table = mssTable(remote.family);
  const idx = checkCookie(tcp.isnGenerator, table, local, seg.dstPort, remote, seg.srcPort, seqAdd(seg.seq, -1), seqAdd(seg.ack, -1), now);
  if (idx < 0) {
    tcp.counters.SyncookiesFailed++;
    return { kind: 'failed' };
  }
  tcp.counters.SyncookiesRecv++;
  const ts = seg.options.timestamp;
  let wscale: number | undefined;
  let sack = false;
  if (ts !== undefined && ts.tsecr !== 0) {
    // Linux (cookie_timestamp_decode): options this host has turned off make the cookie unusable.
    if (!cfg.timestamps) return { kind: 'not-a-cookie' };
    const d = decodeCookieTs(ts.tsecr, tcp.isnGenerator.tsOffset(local, remote));
    if (d.sack && !cfg.sack) return { kind: 'not-a-cookie' };
    if (d.wscale !== undefined && !cfg.windowScaling) return { kind: 'not-a-cookie' };
    wscale = d.wscale;
    sack = d.sack;
  }
  // Linux (tcp_v4_syn_recv_sock): a full accept queue drops the ACK, counted as an overflow.
  if (l.acceptQueueFull) {
    tcp.counters.ListenOverflows++;
    tcp.counters.ListenDrops++;
    tcp.countDrop('syncookie:accept-queue-full');
    return { kind: 'accept-queue-full' };
  }
  const tcb = tcp.rebuildFromCookie(l, local, remote, seg, table[idx]!, ts !== undefined && cfg.timestamps, wscale, sack, now);
  return { kind: 'child', tcb };
}
