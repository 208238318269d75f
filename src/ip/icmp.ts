// ICMPv4 and ICMPv6 for a host: answering echo requests, sending echo requests (ping), handing
// received errors to the transport named in the quoted header (and learning path MTUs from
// them), and originating our own errors under a rate limit. NDP messages are passed to ndp.ts.
// Read first: RFC 1122 §3.2.2 (ICMPv4 for hosts: when errors MUST NOT be sent), RFC 792,
// RFC 4443 §2.4 (ICMPv6 processing rules) and §3-4, RFC 1191 §4 and RFC 8201 §4 (PMTU).
import type { IpAddr } from '../wire/ip-addr.js';
import { emitIcmpv4, ICMPV4_HEADER_LEN, icmpv4Length, type Icmpv4Repr, parseIcmpv4 } from '../wire/icmpv4.js';
import { emitIcmpv6, ICMPV6_HEADER_LEN, icmpv6Length, type Icmpv6Repr, parseIcmpv6 } from '../wire/icmpv6.js';
import { IPV4_HEADER_LEN, IpProtocol, parseIpv4Quoted } from '../wire/ipv4.js';
import { IPV6_HEADER_LEN, parseIpv6Quoted } from '../wire/ipv6.js';
import type { Instant } from '../time/instant.js';
import { assertNever } from '../util/result.js';
import { type Interface, LOOPBACK_IFINDEX } from './interface.js';
import type { IpLayer, TransmitError } from './ip.js';
import { countDrop } from './counters.js';
import { dropKeys } from './drop-keys.js';
import { type IcmpRateLimitConfig, IcmpRateLimiter } from './ratelimit.js';
import type { IcmpErrorKind } from './transport.js';
import type { Route } from './route.js';

/** An echo reply that arrived (the answer to `ping`). `data` borrows the frame. */
export interface EchoReply {
  family: 4 | 6;
  /** Who answered. */
  from: IpAddr;
  identifier: number;
  sequence: number;
  data: Uint8Array;
  /** TTL / Hop Limit of the reply. */
  ttl: number;
}

/**
 * Most of the offending datagram an ICMPv4 error quotes: RFC 1812 §4.3.2.3 says "as much of the
 * original datagram as possible without the length of the ICMP datagram exceeding 576 bytes"
 * (RFC 1122 §3.2.2 requires at least the header and 8 data octets); Linux does the same.
 */
const MAX_QUOTE4 = 576 - IPV4_HEADER_LEN - ICMPV4_HEADER_LEN;
/** RFC 4443 §2.4(c): "as much of invoking packet as possible without the ICMPv6 packet exceeding the minimum IPv6 MTU". */
const MAX_QUOTE6 = 1280 - IPV6_HEADER_LEN - ICMPV6_HEADER_LEN;

const ICMP4_KEYS = dropKeys('icmpv4');
const ICMP6_KEYS = dropKeys('icmpv6');

/** The ICMPv4 error types we send. */
export type Icmpv4ErrorType = 'destination-unreachable' | 'time-exceeded' | 'parameter-problem';
/** The ICMPv6 error types we send. */
export type Icmpv6ErrorType = 'destination-unreachable' | 'packet-too-big' | 'time-exceeded' | 'parameter-problem';

/** ICMP for one stack, both families. */
export class Icmp {
  /** Called for every echo reply that arrives. */
  onEchoReply: ((reply: EchoReply, now: Instant) => void) | undefined;
  private readonly limiter: IcmpRateLimiter;

  constructor(private readonly ip: IpLayer, rate?: IcmpRateLimitConfig) {
    this.limiter = new IcmpRateLimiter(rate);
  }

  /** Sends an echo request (ping) to `dst`; the answer comes to `onEchoReply`. */
  ping(dst: IpAddr, identifier: number, sequence: number, data: Uint8Array, now: Instant, srcHint?: IpAddr): TransmitError | undefined {
    const route = this.ip.route(dst, srcHint);
    if (route === undefined) {
      (dst.family === 4 ? this.ip.counters.ip : this.ip.counters.ip6).OutNoRoutes++;
      return 'ENETUNREACH';
    }
    const c = dst.family === 4 ? this.ip.counters.icmp : this.ip.counters.icmp6;
    c.OutMsgs++;
    c.OutEchos++;
    if (dst.family === 4) return this.send4(route, { type: 'echo-request', id: identifier, seq: sequence, data }, now);
    return this.send6(route, { type: 'echo-request', id: identifier, seq: sequence, data }, now);
  }

  /** An ICMPv4 message arrived (RFC 1122 §3.2.2). */
  input4(ifc: Interface, src: IpAddr, dst: IpAddr, multicast: boolean, ttl: number, payload: Uint8Array, now: Instant): void {
    const counters = this.ip.counters;
    const c = counters.icmp;
    c.InMsgs++;
    const r = parseIcmpv4(payload, !ifc.checksumOffload);
    if (!r.ok) {
      if (r.error === 'bad-checksum') c.InCsumErrors++;
      if (r.error !== 'unsupported') c.InErrors++;
      countDrop(counters, ICMP4_KEYS[r.error]);
      return;
    }
    const m = r.value;
    switch (m.type) {
      case 'echo-request': {
        c.InEchos++;
        if (multicast) {
          // Linux's icmp_echo_ignore_broadcasts (default 1): RFC 1122 §3.2.2.6 allows it
          // ("MAY be silently discarded"), and it stops smurf amplification.
          countDrop(counters, 'icmpv4:echo-to-broadcast');
          return;
        }
        // RFC 1122 §3.2.2.6: "the source address of the reply MUST be the specific-destination
        // address" of the request; the data is returned unchanged.
        const route = this.ip.route(src, dst);
        if (route === undefined) {
          counters.ip.OutNoRoutes++;
          return;
        }
        c.OutMsgs++;
        c.OutEchoReps++;
        this.send4(route, { type: 'echo-reply', id: m.id, seq: m.seq, data: m.data }, now);
        return;
      }
      case 'echo-reply':
        c.InEchoReps++;
        this.onEchoReply?.({ family: 4, from: src, identifier: m.id, sequence: m.seq, data: m.data, ttl }, now);
        return;
      case 'destination-unreachable':
        c.InDestUnreachs++;
        // RFC 1191 §4: code 4 carries the next-hop MTU.
        this.errorInput(4, m.code === 4 ? 'frag-needed' : 'unreachable', m.code, m.nextHopMtu, m.quoted, src, now);
        return;
      case 'time-exceeded':
        c.InTimeExcds++;
        this.errorInput(4, 'time-exceeded', m.code, 0, m.quoted, src, now);
        return;
      case 'parameter-problem':
        c.InParmProbs++;
        this.errorInput(4, 'param-problem', m.code, 0, m.quoted, src, now);
        return;
      default:
        assertNever(m, 'ICMPv4 message');
    }
  }

  /** An ICMPv6 message arrived (RFC 4443 §2.4). */
  input6(ifc: Interface, src: IpAddr, dst: IpAddr, multicast: boolean, hopLimit: number, payload: Uint8Array, now: Instant): void {
    const counters = this.ip.counters;
    const c = counters.icmp6;
    c.InMsgs++;
    const r = parseIcmpv6(payload, src, dst, !ifc.checksumOffload);
    if (!r.ok) {
      if (r.error === 'bad-checksum') c.InCsumErrors++;
      if (r.error !== 'unsupported') c.InErrors++;
      countDrop(counters, ICMP6_KEYS[r.error]);
      return;
    }
    const m = r.value;
    switch (m.type) {
      case 'echo-request': {
        c.InEchos++;
        // RFC 4443 §4.2: a reply to a multicast request comes from "a unicast address belonging
        // to the interface on which the Echo Request message was received".
        const route = this.ip.route(src, multicast ? undefined : dst);
        if (route === undefined) {
          counters.ip6.OutNoRoutes++;
          return;
        }
        c.OutMsgs++;
        c.OutEchoReps++;
        this.send6(route, { type: 'echo-reply', id: m.id, seq: m.seq, data: m.data }, now);
        return;
      }
      case 'echo-reply':
        c.InEchoReps++;
        this.onEchoReply?.({ family: 6, from: src, identifier: m.id, sequence: m.seq, data: m.data, ttl: hopLimit }, now);
        return;
      case 'destination-unreachable':
        c.InDestUnreachs++;
        this.errorInput(6, 'unreachable', m.code, 0, m.quoted, src, now);
        return;
      case 'packet-too-big':
        c.InPktTooBigs++;
        this.errorInput(6, 'packet-too-big', 0, m.mtu, m.quoted, src, now);
        return;
      case 'time-exceeded':
        c.InTimeExcds++;
        this.errorInput(6, 'time-exceeded', m.code, 0, m.quoted, src, now);
        return;
      case 'parameter-problem':
        c.InParmProbs++;
        this.errorInput(6, 'param-problem', m.code, 0, m.quoted, src, now);
        return;
      case 'neighbor-solicitation':
        c.InNeighborSolicits++;
        this.ip.ndp.inputSolicitation(ifc, src, dst, hopLimit, m, now);
        return;
      case 'neighbor-advertisement':
        c.InNeighborAdvertisements++;
        this.ip.ndp.inputAdvertisement(ifc, src, dst, hopLimit, m, now);
        return;
      case 'router-advertisement':
        // Deviation: no router discovery or SLAAC (RFC 4861 §6.3.4, RFC 4862): routes and
        // addresses are configured explicitly.
        c.InRouterAdvertisements++;
        countDrop(counters, 'ndp:router-advertisement-ignored');
        return;
      case 'router-solicitation':
        // RFC 4861 §6.2.6: "A host MUST silently discard any received Router Solicitation messages."
        countDrop(counters, 'ndp:router-solicitation-ignored');
        return;
      default:
        assertNever(m, 'ICMPv6 message');
    }
  }

  /**
   * An ICMP error about a datagram: learn the path MTU from frag-needed / packet-too-big, then
   * hand it to the transport named in the quoted header (RFC 1122 §3.2.2: "the ICMP message
   * ... MUST be passed to the transport layer"; RFC 4443 §2.4(b)).
   */
  private errorInput(family: 4 | 6, kind: IcmpErrorKind, code: number, mtu: number, quoted: Uint8Array, from: IpAddr, now: Instant): void {
    const counters = this.ip.counters;
    const q = family === 4 ? parseIpv4Quoted(quoted) : parseIpv6Quoted(quoted);
    if (!q.ok) {
      countDrop(counters, family === 4 ? 'icmpv4:bad-quote' : 'icmpv6:bad-quote');
      return;
    }
    const orig = q.value;
    // Only errors about datagrams we sent mean anything (RFC 5927 §4.1 asks for more checks,
    // which the transport makes against its own state).
    if (!this.ip.isLocalAddress(orig.src)) {
      countDrop(counters, family === 4 ? 'icmpv4:quote-not-ours' : 'icmpv6:quote-not-ours');
      return;
    }
    let pmtu: number | undefined;
    if (kind === 'frag-needed' || kind === 'packet-too-big') {
      this.ip.learnPmtu(orig.dst, mtu, now);
      pmtu = this.ip.route(orig.dst)?.mtu;
    }
    const protocol = orig.protocol;
    if (protocol === IpProtocol.ICMP || protocol === IpProtocol.ICMPv6) return; // about our echo: nobody to tell
    // Only a first fragment starts with the transport header that names the socket.
    if ('fragmentOffset' in orig ? orig.fragmentOffset !== 0 : (orig.fragment?.offset ?? 0) !== 0) return;
    const err = { kind, code, family, src: orig.src, dst: orig.dst, quoted: orig.payload, from, local: false };
    this.ip.notifyTransport(protocol, pmtu === undefined ? err : { ...err, mtu: pmtu }, now);
  }

  /**
   * Sends an ICMPv4 error about `offending` (an IP datagram as received), unless RFC 1122
   * §3.2.2 forbids it: "An ICMP error message MUST NOT be sent as the result of receiving: an
   * ICMP error message, or a datagram destined to an IP broadcast or IP multicast address, or
   * ... a non-initial fragment, or a datagram whose source address does not define a single
   * host". Rate limited (§3.2.2 / RFC 1812 §4.3.2.8; Linux's icmp_ratelimit).
   */
  sendError4(offending: Uint8Array, type: Icmpv4ErrorType, code: number, extra: number, now: Instant): void {
    const counters = this.ip.counters;
    const q = parseIpv4Quoted(offending);
    if (!q.ok) return;
    const o = q.value;
    if (o.fragmentOffset !== 0 || o.dst.isMulticastOrBroadcast || o.src.isMulticastOrBroadcast || o.src.isUnspecified) return;
    if (o.protocol === IpProtocol.ICMP && isIcmpv4Error(o.payload[0])) return;
    const route = this.ip.route(o.src, this.ip.isLocalAddress(o.dst) ? o.dst : undefined);
    if (route === undefined) {
      counters.ip.OutNoRoutes++;
      return;
    }
    // Linux icmpv4_xrlim_allow: "No rate limit on loopback".
    if (route.ifindex !== LOOPBACK_IFINDEX && !this.limiter.allow(o.src, now)) {
      counters.icmp.OutRateLimitHost++;
      return;
    }
    const quoted = offending.subarray(0, Math.min(offending.length, MAX_QUOTE4));
    const c = counters.icmp;
    c.OutMsgs++;
    let repr: Icmpv4Repr;
    switch (type) {
      case 'destination-unreachable':
        c.OutDestUnreachs++;
        repr = { type, code, nextHopMtu: extra, quoted };
        break;
      case 'time-exceeded':
        c.OutTimeExcds++;
        repr = { type, code, quoted };
        break;
      case 'parameter-problem':
        c.OutParmProbs++;
        repr = { type, code, pointer: extra, quoted };
        break;
      default:
        assertNever(type, 'ICMPv4 error type');
    }
    this.send4(route, repr, now);
  }

  /**
   * Sends an ICMPv6 error about `offending`, unless RFC 4443 §2.4(e) forbids it: not about an
   * ICMPv6 error, not about a packet sent to a multicast address (but for Packet Too Big and
   * Parameter Problem code 2), not to a source that is not a single unicast host. Rate limited
   * (§2.4(f)). `extra` is the MTU for Packet Too Big, the pointer for Parameter Problem.
   */
  sendError6(offending: Uint8Array, type: Icmpv6ErrorType, code: number, extra: number, now: Instant): void {
    const counters = this.ip.counters;
    const q = parseIpv6Quoted(offending);
    if (!q.ok) return;
    const o = q.value;
    const multicastOk = type === 'packet-too-big' || (type === 'parameter-problem' && code === 2);
    if ((o.dst.isMulticastOrBroadcast && !multicastOk) || o.src.isMulticastOrBroadcast || o.src.isUnspecified) return;
    if (o.protocol === IpProtocol.ICMPv6 && o.fragment === undefined && (o.payload[0] ?? 0) < 128) return; // types < 128 are errors (RFC 4443 §2.1)
    const route = this.ip.route(o.src, this.ip.isLocalAddress(o.dst) ? o.dst : undefined);
    if (route === undefined) {
      counters.ip6.OutNoRoutes++;
      return;
    }
    // Linux icmpv6_xrlim_allow: "No rate limit on loopback".
    if (route.ifindex !== LOOPBACK_IFINDEX && !this.limiter.allow(o.src, now)) {
      counters.icmp6.OutRateLimitHost++;
      return;
    }
    const quoted = offending.subarray(0, Math.min(offending.length, MAX_QUOTE6));
    const c = counters.icmp6;
    c.OutMsgs++;
    let repr: Icmpv6Repr;
    switch (type) {
      case 'destination-unreachable':
        c.OutDestUnreachs++;
        repr = { type, code, quoted };
        break;
      case 'packet-too-big':
        repr = { type, mtu: extra, quoted };
        break;
      case 'time-exceeded':
        c.OutTimeExcds++;
        repr = { type, code, quoted };
        break;
      case 'parameter-problem':
        c.OutParmProbs++;
        repr = { type, code, pointer: extra, quoted };
        break;
      default:
        assertNever(type, 'ICMPv6 error type');
    }
    this.send6(route, repr, now);
  }

  private send4(route: Route, repr: Icmpv4Repr, now: Instant): TransmitError | undefined {
    const len = icmpv4Length(repr);
    const frame = this.ip.allocFrame(route, len);
    emitIcmpv4(repr, frame.subarray(this.ip.l4Offset(route)));
    return this.ip.transmit(route, frame, IpProtocol.ICMP, len, now);
  }

  private send6(route: Route, repr: Icmpv6Repr, now: Instant): TransmitError | undefined {
    const len = icmpv6Length(repr);
    const frame = this.ip.allocFrame(route, len);
    emitIcmpv6(repr, frame.subarray(this.ip.l4Offset(route)), route.src, route.dst);
    return this.ip.transmit(route, frame, IpProtocol.ICMPv6, len, now);
  }
}

/** ICMPv4 error types (RFC 792; RFC 1122 §3.2.2): unreachable 3, source quench 4, redirect 5, time exceeded 11, parameter problem 12. */
function isIcmpv4Error(type: number | undefined): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}
