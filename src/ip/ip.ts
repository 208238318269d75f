// The IP layer: frames in (Ethernet demux, IPv4/IPv6 validation, the "is it ours" check,
// reassembly, dispatch to ICMP and transports) and packets out (routing with path MTU, the IP
// and Ethernet headers written into a frame the transport already filled, fragmentation,
// neighbour resolution, loopback). ARP, NDP and ICMP live in arp.ts, ndp.ts and icmp.ts.
// Read first: RFC 1122 §3.2.1 (what a host checks on input) and §3.3 (output, fragments,
// multihoming), RFC 791 §3.2, RFC 8200 §4-5 (extension headers, fragmentation, minimum MTU).
import { IpAddr } from '../wire/ip-addr.js';
import { EtherType, ETHERNET_HEADER_LEN, MacAddr } from '../wire/ethernet.js';
import { emitIpv4, IPV4_HEADER_LEN, IpProtocol, newIpv4Header, parseIpv4, readIpv4, type Ipv4Repr } from '../wire/ipv4.js';
import { emitIpv6, IPV6_HEADER_LEN, parseIpv6, parseIpv6Extensions, type Ipv6Repr, Ipv6ExtHeader } from '../wire/ipv6.js';
import { getU16, getU32, setU16, setU32 } from '../wire/net-order.js';
import type { WireError } from '../wire/error.js';
import { type Instant, earliest } from '../time/instant.js';
import type { Rng } from '../util/rng.js';
import { assertNever } from '../util/result.js';
import { type IfAddr, type Interface, LOOPBACK_IFINDEX, multicastMac4 } from './interface.js';
import { type MutableRoute, type Route, RoutingTable } from './route.js';
import { type NeighborConfig, NeighborCache } from './neighbor.js';
import { Reassembler, REASSEMBLY_MEMORY_LIMIT, type ReassemblyDrop } from './reassembly.js';
import { PmtuCache } from './pmtu.js';
import { type IpCounters, type IpStats, countDrop } from './counters.js';
import { dropKeys } from './drop-keys.js';
import type { IcmpError, PacketInfo, TransportHandler } from './transport.js';
import type { IcmpRateLimitConfig } from './ratelimit.js';
import { Icmp } from './icmp.js';
import { Arp } from './arp.js';
import { Ndp } from './ndp.js';
import { FrameAllocator } from './frames.js';

/** TTL of the datagrams we originate: Linux's `ip_default_ttl` (RFC 1122 §3.2.1.7: the default "SHOULD" be configurable; RFC 1700 suggested 64). */
export const DEFAULT_TTL = 64;
/** Hop Limit of the IPv6 packets we originate: Linux's `hop_limit` default. */
export const DEFAULT_HOP_LIMIT = 64;
/** The IPv4 total length field's limit. */
const MAX_IPV4_PACKET = 65535;
/** The IPv6 Payload Length field's limit (no jumbograms). */
const MAX_IPV6_PAYLOAD = 65535;
/** 224.0.0.1, the all-hosts group every IPv4 multicast host is a member of (RFC 1112 §4). */
const ALL_HOSTS4 = 0xe0000001;
/** Bytes of an IPv6 Fragment header (RFC 8200 §4.5). */
const FRAGMENT_HEADER_LEN = 8;
/** Entries in the cache of IPv4 source addresses (`IpLayer.source4`): a power of two. */
const SOURCE_CACHE_SIZE = 64;

/** Entries in the route cache (IpLayer.route): a power of two. */
const ROUTE_CACHE_SIZE = 256;

/** Whether two optional source hints are the same address. */
function sameHint(a: IpAddr | undefined, b: IpAddr | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.equals(b));
}

/** Why `transmit` could not send: the errno a transport should report. */
export type TransmitError = 'EMSGSIZE' | 'ENETUNREACH';

/** Per-call options of `transmit`. */
export interface TransmitOptions {
  /** The ECN field to send (RFC 3168 §5); default Not-ECT. */
  ecn?: number;
  /** IPv4 DF / "do not fragment locally"; default true for TCP (RFC 1191 §3: PMTU discovery), false otherwise. */
  dontFragment?: boolean;
  /** Override the TTL / Hop Limit (NDP needs 255). */
  ttl?: number;
}

/** Configuration of the IP layer. */
export interface IpLayerOptions {
  rng: Rng;
  counters: IpCounters;
  /** Neighbour-cache tunables. */
  neighbor?: Partial<NeighborConfig>;
  /** Bytes allowed for fragments awaiting reassembly (default 4 MiB, Linux `ipfrag_high_thresh`). */
  reassemblyMemory?: number;
  /** ICMP error rate limit (default: Linux's). */
  icmpRateLimit?: IcmpRateLimitConfig;
}

const DROP_ETH_TRUNCATED = 'eth:truncated';
const DROP_ETH_NOT_FOR_US = 'eth:not-for-us';
const DROP_ETH_BAD_SOURCE = 'eth:bad-source';
const DROP_ETH_TYPE = 'eth:unknown-ethertype';
const DROP_NO_IFACE = 'link:no-interface';
const DROP_IP_VERSION = 'ip:bad-version';
const V4_KEYS = dropKeys('ipv4');
const V6_KEYS = dropKeys('ipv6');
const V6_EXT_KEYS = dropKeys('ipv6-ext');
const FRAG_KEYS: Record<ReassemblyDrop, string> = {
  'duplicate': 'frag:duplicate',
  'overlap': 'frag:overlap',
  'discarded-datagram': 'frag:discarded-datagram',
  'too-big': 'frag:too-big',
  'bad-length': 'frag:bad-length',
  'memory': 'frag:memory',
  'ecn': 'frag:ecn',
};

/** The IP layer of one stack. */
export class IpLayer {
  /** Interfaces by ifindex. */
  readonly interfaces = new Map<number, Interface>();
  /** The routing table. */
  readonly routes: RoutingTable;
  /** ARP and NDP's shared cache. */
  readonly neighbors: NeighborCache;
  /** Fragments awaiting reassembly. */
  readonly reassembler: Reassembler;
  /** Learned path MTUs. */
  readonly pmtu = new PmtuCache();
  /** ICMPv4/ICMPv6: echo, errors in and out. */
  readonly icmp: Icmp;
  /** The counters (shared with the Stack). */
  readonly counters: IpCounters;
  /** ARP (RFC 826). */
  readonly arp: Arp;
  /** IPv6 Neighbor Discovery (RFC 4861), address resolution only. */
  readonly ndp: Ndp;

  private readonly transports: (TransportHandler | undefined)[] = new Array<TransportHandler | undefined>(256).fill(undefined);
  private readonly pkt = new ReceivedPacket();
  /** Where frames come from (frames.ts: slabs, never a backing store per frame). */
  private readonly frames = new FrameAllocator();
  /** The IPv4 header of the packet being received, read in place (no object per packet). */
  private readonly h4 = newIpv4Header();
  /**
   * IPv4 source addresses seen lately, direct-mapped by value: a peer's packets share one
   * immutable IpAddr instead of each making its own (`PacketInfo` lets handlers keep it).
   */
  private readonly sources4: (IpAddr | undefined)[] = new Array<IpAddr | undefined>(SOURCE_CACHE_SIZE).fill(undefined);
  private readonly routeCache: (Route | undefined)[] = new Array<Route | undefined>(ROUTE_CACHE_SIZE).fill(undefined);
  private readonly routeCacheHint: (IpAddr | undefined)[] = new Array<IpAddr | undefined>(ROUTE_CACHE_SIZE).fill(undefined);
  /** The one answer `routeTransient` reuses on a cache miss. */
  private readonly transientRoute: MutableRoute = {
    family: 4, dst: IpAddr.any(4), ifindex: 0, src: IpAddr.any(4), nextHop: IpAddr.any(4), mtu: 0, linkHeaderLength: 0, checksumOffload: false, generation: 0,
  };
  private loopQueue: Uint8Array[] = [];
  private loopAt: Instant | undefined;
  private nextId4: number;
  private nextId6: number;
  // Reused header values: transmit allocates nothing but the subarray the emitters need.
  private readonly repr4: Ipv4Repr;
  private readonly repr6: Ipv6Repr;

  constructor(options: IpLayerOptions) {
    this.counters = options.counters;
    this.routes = new RoutingTable(this.interfaces);
    this.reassembler = new Reassembler(options.reassemblyMemory ?? REASSEMBLY_MEMORY_LIMIT);
    this.icmp = new Icmp(this, options.icmpRateLimit);
    this.arp = new Arp(this);
    this.ndp = new Ndp(this);
    this.neighbors = new NeighborCache({
      solicit: (ifindex, target, unicast, now) => {
        const ifc = this.interfaces.get(ifindex);
        if (ifc === undefined) return;
        if (target.family === 4) this.arp.solicit(ifc, target, unicast, now);
        else this.ndp.solicit(ifc, target, unicast, now);
      },
      send: (ifindex, frame, now) => this.interfaces.get(ifindex)?.port?.send(frame, now),
      failed: (ifindex, target, frame, now) => this.resolutionFailed(ifindex, target, frame, now),
      gaveUp: () => {
        this.counters.neigh.res_failed++;
      },
      overflow: () => {
        this.counters.neigh.unresolved_discards++;
        countDrop(this.counters, 'neigh:queue-overflow');
      },
    }, options.neighbor);
    // RFC 6864 §4.1: the ID only needs to be unique per (src, dst, protocol) for fragmented
    // datagrams within a reassembly lifetime; a counter from a random start does that, and
    // the random start avoids revealing how much a host has sent since boot.
    this.nextId4 = options.rng.nextU32() & 0xffff;
    this.nextId6 = options.rng.nextU32();
    const any4 = IpAddr.any(4);
    const any6 = IpAddr.any(6);
    this.repr4 = { src: any4, dst: any4, protocol: 0, ttl: DEFAULT_TTL, dscp: 0, ecn: 0, identification: 0, dontFragment: false, moreFragments: false, fragmentOffset: 0, payloadLen: 0 };
    this.repr6 = { src: any6, dst: any6, nextHeader: 0, hopLimit: DEFAULT_HOP_LIMIT, dscp: 0, ecn: 0, flowLabel: 0, payloadLen: 0 };
  }

  // ---- configuration ----

  /** Adds an interface and the connected routes of its addresses. */
  addInterface(ifc: Interface): void {
    if (this.interfaces.has(ifc.ifindex)) throw new Error(`interface index ${ifc.ifindex} is already in use`);
    this.interfaces.set(ifc.ifindex, ifc);
    if (!ifc.isLoopback) {
      for (const a of [...ifc.ipv4, ...ifc.ipv6]) this.routes.addConnected(ifc.ifindex, a);
      // Linux adds ff00::/8 on every IPv6 interface so multicast has somewhere to go.
      if (ifc.ipv6.length > 0) this.routes.add({ prefix: IpAddr.v6(0xff000000, 0, 0, 0), prefixLen: 8, gateway: undefined, ifindex: ifc.ifindex, metric: 256, kind: 'connected' });
    }
    this.routes.bump();
  }

  /** Adds an address to an interface (and its connected route). */
  addAddress(ifindex: number, a: IfAddr): void {
    const ifc = this.interfaces.get(ifindex);
    if (ifc === undefined) throw new RangeError(`no interface with index ${ifindex}`);
    ifc.addAddress(a);
    if (!ifc.isLoopback) this.routes.addConnected(ifindex, a);
    this.routes.bump();
  }

  /** Plugs a transport in as `protocol` (6 for TCP, 17 for UDP); ICMP (1, 58) is built in. */
  registerTransport(protocol: number, handler: TransportHandler): void {
    if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255) throw new RangeError(`protocol must be an integer in 0..255, got ${protocol}`);
    if (protocol === IpProtocol.ICMP || protocol === IpProtocol.ICMPv6) throw new RangeError(`protocol ${protocol} (ICMP) is handled by the IP layer itself`);
    this.transports[protocol] = handler;
  }

  /** The handler registered for `protocol`. */
  transport(protocol: number): TransportHandler | undefined {
    return this.transports[protocol];
  }

  /** Whether `addr` is one of our unicast addresses (or in 127.0.0.0/8). */
  isLocalAddress(addr: IpAddr): boolean {
    return addr.isLoopback || this.routes.ownerOf(addr) !== undefined;
  }

  // ---- output ----

  /** The current route generation: a cached Route is valid while its `generation` equals this. */
  get generation(): number {
    return this.routes.generation;
  }

  /** Routes `dst` (undefined: no route, report ENETUNREACH), with the path MTU learned for it. */
  route(dst: IpAddr, srcHint?: IpAddr): Route | undefined {
    // A small direct-mapped cache of answers, valid for one routing generation (which bumps on
    // every route and path-MTU change): connections to the same peer share one Route object
    // instead of each looking it up and keeping its own (~100 B per connection, and the lookup
    // was 4-10% of opening connections).
    const slot = (dst.hash() ^ (srcHint === undefined ? 0 : srcHint.hash() * 31)) & (ROUTE_CACHE_SIZE - 1);
    const gen = this.routes.generation;
    const cached = this.routeCache[slot];
    if (cached !== undefined && cached.generation === gen && cached.dst.equals(dst) && sameHint(this.routeCacheHint[slot], srcHint)) return cached;
    const r = this.routes.route(dst, srcHint);
    if (r === undefined) return undefined;
    const pmtu = this.pmtu.get(dst);
    const answer = pmtu !== undefined && pmtu < r.mtu ? { ...r, mtu: pmtu } : r;
    this.routeCache[slot] = answer;
    this.routeCacheHint[slot] = srcHint;
    return answer;
  }

  /**
   * `route` for a reply that keeps no state (a SYN cookie's SYN-ACK, an ACK from a TIME-WAIT
   * record): the same answer, valid only until the next call. A hit in the route cache is
   * returned as `route` would; a miss is written into one reused object and not cached, so a
   * flood from spoofed sources neither makes a Route per packet (30% of the bytes a SYN answered
   * with a cookie allocated) nor evicts the routes of real connections from the cache.
   */
  routeTransient(dst: IpAddr, srcHint?: IpAddr): Route | undefined {
    const slot = (dst.hash() ^ (srcHint === undefined ? 0 : srcHint.hash() * 31)) & (ROUTE_CACHE_SIZE - 1);
    const cached = this.routeCache[slot];
    if (cached !== undefined && cached.generation === this.routes.generation && cached.dst.equals(dst) && sameHint(this.routeCacheHint[slot], srcHint)) return cached;
    const r = this.routes.route(dst, srcHint, this.transientRoute);
    if (r === undefined) return undefined;
    const pmtu = this.pmtu.get(dst);
    if (pmtu !== undefined && pmtu < r.mtu) this.transientRoute.mtu = pmtu;
    return r;
  }

  /** Where the transport header starts in a frame for `route`: link header plus IP header. */
  l4Offset(route: Route): number {
    return route.linkHeaderLength + (route.family === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN);
  }

  /**
   * The whole frame, with room for link, IP and `l4Length` transport bytes: a view carved from
   * a slab (frames.ts) or a frame the link recycles (Port.allocFrame), never sharing a byte with
   * another frame in use. Zero-filled, unless `writesAll` says the caller writes every one of
   * its transport bytes (then it may hold an earlier frame's bytes).
   */
  allocFrame(route: Route, l4Length: number, writesAll = false): Uint8Array {
    const n = this.l4Offset(route) + l4Length;
    // A link that recycles frames (Port.allocFrame: the in-memory PointToPoint) hands out its own.
    // The link and IP headers are always written whole (output, emitIpv4, emitIpv6), so a caller
    // that writes all its transport bytes may take a reused frame without zeroing.
    const port = this.interfaces.get(route.ifindex)?.port;
    return port?.allocFrame !== undefined ? port.allocFrame(n, !writesAll) : this.frames.alloc(n);
  }

  /**
   * Sends a frame from `allocFrame` whose transport bytes (`l4Length` at `l4Offset(route)`) are
   * written: fills in the IP header (IPv4: DF for TCP, ID from a counter, TTL 64; IPv6: Hop
   * Limit 64) and the Ethernet header, then resolves the next hop (or queues) and hands the
   * frame to the Port; our own addresses go through loopback. Returns an errno when it could
   * not send (EMSGSIZE: over the path MTU with DF, or over 64 KiB).
   */
  transmit(route: Route, frame: Uint8Array, protocol: number, l4Length: number, now: Instant, options?: TransmitOptions): TransmitError | undefined {
    const family = route.family;
    const c = family === 4 ? this.counters.ip : this.counters.ip6;
    c.OutRequests++;
    const ifc = this.interfaces.get(route.ifindex);
    if (ifc === undefined) {
      c.OutNoRoutes++;
      return 'ENETUNREACH';
    }
    const hdr = family === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
    const ipLen = hdr + l4Length;
    const df = options?.dontFragment ?? protocol === IpProtocol.TCP;
    const ecn = options?.ecn ?? 0;
    const ttl = options?.ttl ?? (family === 4 ? DEFAULT_TTL : DEFAULT_HOP_LIMIT);
    if ((family === 4 && ipLen > MAX_IPV4_PACKET) || (family === 6 && l4Length > MAX_IPV6_PAYLOAD)) {
      c.OutDiscards++;
      return 'EMSGSIZE';
    }
    if (ipLen > route.mtu) {
      if (df) {
        c.FragFails++;
        c.OutDiscards++;
        return 'EMSGSIZE';
      }
      return this.fragment(route, ifc, frame, protocol, l4Length, ecn, ttl, now);
    }
    const at = ifc.linkHeaderLength;
    if (family === 4) {
      const r = this.repr4;
      r.src = route.src;
      r.dst = route.dst;
      r.protocol = protocol;
      r.ttl = ttl;
      r.ecn = ecn;
      r.identification = this.nextId4;
      this.nextId4 = (this.nextId4 + 1) & 0xffff;
      r.dontFragment = df;
      r.moreFragments = false;
      r.fragmentOffset = 0;
      r.payloadLen = l4Length;
      emitIpv4(r, frame, at);
    } else {
      const r = this.repr6;
      r.src = route.src;
      r.dst = route.dst;
      r.nextHeader = protocol;
      r.hopLimit = ttl;
      r.ecn = ecn;
      r.payloadLen = l4Length;
      emitIpv6(r, frame, at);
    }
    this.output(ifc, route.nextHop, frame, family, now);
    return undefined;
  }

  /**
   * Sends a finished IP packet (link header space in front) to `nextHop` on `ifc`: loopback
   * queues it, 'ip' media send it as is, Ethernet writes the header and resolves the neighbour.
   */
  output(ifc: Interface, nextHop: IpAddr, frame: Uint8Array, family: 4 | 6, now: Instant): void {
    if (ifc.isLoopback) {
      // Delivered on the next poll, never re-entrantly: the sender is mid-call.
      this.loopQueue.push(frame);
      this.loopAt ??= now;
      return;
    }
    const port = ifc.port!;
    if (ifc.medium === 'ip') {
      port.send(frame, now);
      return;
    }
    ifc.mac!.write(frame, 6);
    setU16(frame, 12, family === 4 ? EtherType.IPv4 : EtherType.IPv6);
    const dstMac = this.groupMac(ifc, nextHop);
    if (dstMac !== undefined) {
      dstMac.write(frame, 0);
      port.send(frame, now);
      return;
    }
    this.neighbors.output(ifc.ifindex, nextHop, frame, now);
  }

  /** Sends a complete Ethernet frame (ARP, NDP replies with a known MAC) as is. */
  sendFrame(ifc: Interface, frame: Uint8Array, now: Instant): void {
    ifc.port?.send(frame, now);
  }

  /** The link address for a broadcast/multicast next hop (RFC 1112 §6.4, RFC 2464 §7), or undefined for unicast. */
  private groupMac(ifc: Interface, nextHop: IpAddr): MacAddr | undefined {
    if (nextHop.family === 6) return nextHop.w0 >>> 24 === 0xff ? MacAddr.ipv6Multicast(nextHop) : undefined;
    const v = nextHop.v4;
    if (v >>> 28 === 0xe) return multicastMac4(v);
    return ifc.isBroadcast4(v) ? MacAddr.BROADCAST : undefined;
  }

  /**
   * Fragments the datagram in `frame` (RFC 791 §3.2 "Fragmentation"; RFC 8200 §4.5 for the
   * source fragmentation of IPv6): each fragment carries a multiple of 8 bytes but the last.
   * Fragments are new frames; the data is copied once into them.
   */
  private fragment(route: Route, ifc: Interface, frame: Uint8Array, protocol: number, l4Length: number, ecn: number, ttl: number, now: Instant): TransmitError | undefined {
    const family = route.family;
    const c = family === 4 ? this.counters.ip : this.counters.ip6;
    const link = ifc.linkHeaderLength;
    const data = frame.subarray(link + (family === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN), link + (family === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN) + l4Length);
    const hdr = family === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN + FRAGMENT_HEADER_LEN;
    const chunk = Math.floor((route.mtu - hdr) / 8) * 8;
    if (chunk < 8) {
      c.FragFails++;
      c.OutDiscards++;
      return 'EMSGSIZE';
    }
    const id4 = this.nextId4;
    this.nextId4 = (this.nextId4 + 1) & 0xffff;
    const id6 = this.nextId6;
    this.nextId6 = (this.nextId6 + 1) >>> 0;
    for (let off = 0; off < l4Length; off += chunk) {
      const len = Math.min(chunk, l4Length - off);
      const more = off + len < l4Length;
      const f = new Uint8Array(link + hdr + len);
      f.set(data.subarray(off, off + len), link + hdr);
      const out = link === 0 ? f : f.subarray(link);
      if (family === 4) {
        emitIpv4({ src: route.src, dst: route.dst, protocol, ttl, dscp: 0, ecn, identification: id4, dontFragment: false, moreFragments: more, fragmentOffset: off, payloadLen: len }, out);
      } else {
        emitIpv6({ src: route.src, dst: route.dst, nextHeader: Ipv6ExtHeader.Fragment, hopLimit: ttl, dscp: 0, ecn, flowLabel: 0, payloadLen: FRAGMENT_HEADER_LEN + len }, out);
        out[IPV6_HEADER_LEN] = protocol;
        out[IPV6_HEADER_LEN + 1] = 0;
        setU16(out, IPV6_HEADER_LEN + 2, off | (more ? 1 : 0));
        setU32(out, IPV6_HEADER_LEN + 4, id6);
      }
      c.FragCreates++;
      this.output(ifc, route.nextHop, f, family, now);
    }
    c.FragOKs++;
    return undefined;
  }

  // ---- input ----

  /** A frame arrived on `ifindex`. Never throws on any bytes; every drop is counted by reason. */
  input(ifindex: number, frame: Uint8Array, now: Instant): void {
    const ifc = this.interfaces.get(ifindex);
    if (ifc === undefined) {
      countDrop(this.counters, DROP_NO_IFACE);
      return;
    }
    if (ifc.medium === 'ip') {
      const v = frame.length === 0 ? 0 : frame[0]! >>> 4;
      if (v === 4) this.input4(ifc, frame, 0, now);
      else if (v === 6) this.input6(ifc, frame, now);
      else countDrop(this.counters, DROP_IP_VERSION);
      return;
    }
    // Ethernet II (RFC 894): nothing to validate but the length, so no parser object is built.
    if (frame.length < ETHERNET_HEADER_LEN) {
      countDrop(this.counters, DROP_ETH_TRUNCATED);
      return;
    }
    // Accept our MAC, broadcast and multicast (the IP layer then filters groups); frames for
    // other hosts reach us when a switch floods or a capture is promiscuous.
    if ((frame[0]! & 1) === 0 && !ifc.mac!.equalsBytes(frame, 0)) {
      countDrop(this.counters, DROP_ETH_NOT_FOR_US);
      return;
    }
    if ((frame[6]! & 1) !== 0) {
      countDrop(this.counters, DROP_ETH_BAD_SOURCE); // a group address is never a source (IEEE 802.3 §3.2.3)
      return;
    }
    switch (getU16(frame, 12)) {
      case EtherType.IPv4:
        // Read in place: no view of the Ethernet payload (item 3 of docs/performance.md).
        this.input4(ifc, frame, ETHERNET_HEADER_LEN, now);
        return;
      case EtherType.IPv6:
        this.input6(ifc, frame.subarray(ETHERNET_HEADER_LEN), now);
        return;
      case EtherType.ARP:
        this.arp.input(ifc, frame.subarray(ETHERNET_HEADER_LEN), now);
        return;
      default:
        countDrop(this.counters, DROP_ETH_TYPE);
    }
  }

  /**
   * The IPv4 datagram at `b[off..]` (the frame as received, read in place): its header goes into
   * the reused `h4`, the addresses are compared as bytes, and only a view of the payload is
   * made, by whoever keeps it (no packet object and no address objects per datagram).
   */
  private input4(ifc: Interface, b: Uint8Array, off: number, now: Instant): void {
    const c = this.counters.ip;
    c.InReceives++;
    const h = this.h4;
    const e = readIpv4(b, off, b.length - off, true, h);
    if (e !== undefined) {
      headerError(c, e);
      countDrop(this.counters, V4_KEYS[e]);
      return;
    }
    // RFC 1122 §3.2.1.3: "A host MUST silently discard an incoming datagram containing an IP
    // source address that is invalid by the rules of this section" (broadcast, multicast,
    // and 127/8 arriving from outside).
    const src4 = getU32(b, off + 12);
    if (src4 >>> 28 === 0xe || src4 === 0xffffffff || ifc.isBroadcast4(src4) || (!ifc.isLoopback && src4 >>> 24 === 127)) {
      c.InAddrErrors++;
      countDrop(this.counters, 'ipv4:bad-source');
      return;
    }
    let dst = this.localDst(ifc, b, off + 16, 4);
    let multicast = false;
    if (dst === undefined) {
      const dst4 = getU32(b, off + 16);
      if (ifc.isBroadcast4(dst4) || dst4 === ALL_HOSTS4) {
        multicast = true;
        dst = IpAddr.v4(dst4);
      } else if (ifc.isLoopback && dst4 >>> 24 === 127) {
        dst = IpAddr.v4(dst4);
      } else {
        // RFC 1122 §3.3.1.1: a host does not forward; datagrams for others are discarded.
        c.InAddrErrors++;
        countDrop(this.counters, 'ipv4:not-for-us');
        return;
      }
    }
    const src = this.source4(src4);
    const headerLen = h.headerLen;
    const totalLen = h.totalLen;
    if (h.moreFragments || h.fragmentOffset !== 0) {
      c.ReasmReqds++;
      if (h.moreFragments && ((totalLen - headerLen) & 7) !== 0) {
        // RFC 791 §3.2: every fragment but the last carries a multiple of 8 octets.
        c.ReasmFails++;
        countDrop(this.counters, FRAG_KEYS['bad-length']);
        return;
      }
      // Fragments are kept until the datagram is whole: they get views of their own.
      const packet = b.subarray(off, off + totalLen);
      const out = this.reassembler.add({
        family: 4, src, dst, id: h.identification, protocol: h.protocol, offset: h.fragmentOffset,
        more: h.moreFragments, data: packet.subarray(headerLen), ecn: h.ecn, packet, maxEnd: MAX_IPV4_PACKET - headerLen,
      }, now);
      switch (out.kind) {
        case 'pending':
          return;
        case 'drop':
          if (out.datagramFailed) c.ReasmFails++;
          countDrop(this.counters, FRAG_KEYS[out.reason]);
          return;
        case 'complete':
          c.ReasmOKs++;
          this.deliver(ifc, 4, src, dst, h.protocol, out.ecn, h.ttl, multicast, out.payload, 0, out.payload.length, out.first, 0, out.first.length, now);
          return;
        default:
          assertNever(out, 'reassembly outcome');
      }
    }
    this.deliver(ifc, 4, src, dst, h.protocol, h.ecn, h.ttl, multicast, b, off + headerLen, totalLen - headerLen, b, off, totalLen, now, true);
  }

  /** The IpAddr for an IPv4 source, shared with earlier packets from it when the cache holds one. */
  private source4(v: number): IpAddr {
    const slot = (v ^ (v >>> 8) ^ (v >>> 16) ^ (v >>> 24)) & (SOURCE_CACHE_SIZE - 1);
    const cached = this.sources4[slot];
    if (cached !== undefined && cached.w3 === v) return cached;
    const a = IpAddr.v4(v);
    this.sources4[slot] = a;
    return a;
  }

  private input6(ifc: Interface, b: Uint8Array, now: Instant): void {
    const c = this.counters.ip6;
    c.InReceives++;
    const r = parseIpv6(b);
    if (!r.ok) {
      headerError(c, r.error);
      countDrop(this.counters, V6_KEYS[r.error]);
      return;
    }
    const h = r.value;
    // RFC 4291 §2.7: "Multicast addresses must not be used as source addresses"; ::1 must never
    // arrive from outside (RFC 4291 §2.5.3).
    if (h.src.isMulticastOrBroadcast || (!ifc.isLoopback && h.src.isLoopback)) {
      c.InAddrErrors++;
      countDrop(this.counters, 'ipv6:bad-source');
      return;
    }
    let dst = this.localDst(ifc, b, 24, 6);
    let multicast = false;
    if (dst === undefined) {
      dst = ifc.matchGroup6(b, 24);
      if (dst === undefined) {
        c.InAddrErrors++;
        countDrop(this.counters, 'ipv6:not-for-us');
        return;
      }
      multicast = true;
    }
    let payload = h.payload;
    let protocol = h.protocol;
    let ecn = h.ecn;
    let packet = b.length === IPV6_HEADER_LEN + h.payloadLen ? b : b.subarray(0, IPV6_HEADER_LEN + h.payloadLen);
    const frag = h.fragment;
    if (frag !== undefined) {
      c.ReasmReqds++;
      const fragHeaderAt = h.headerLen - FRAGMENT_HEADER_LEN;
      if (frag.moreFragments && (payload.length & 7) !== 0) {
        // RFC 8200 §4.5: "If the length of a fragment ... is not a multiple of 8 octets and the M
        // flag of that fragment is 1, then that fragment must be discarded and an ICMP Parameter
        // Problem, Code 0, message should be sent to the source of the fragment, pointing to the
        // Payload Length field of the fragment packet."
        c.ReasmFails++;
        countDrop(this.counters, FRAG_KEYS['bad-length']);
        if (!multicast) this.icmp.sendError6(packet, 'parameter-problem', 0, 4, now);
        return;
      }
      const out = this.reassembler.add({
        family: 6, src: h.src, dst: h.dst, id: frag.identification, protocol, offset: frag.offset,
        more: frag.moreFragments, data: payload, ecn, packet, maxEnd: MAX_IPV6_PAYLOAD - (fragHeaderAt - IPV6_HEADER_LEN),
      }, now);
      switch (out.kind) {
        case 'pending':
          return;
        case 'drop':
          if (out.datagramFailed) c.ReasmFails++;
          countDrop(this.counters, FRAG_KEYS[out.reason]);
          // RFC 8200 §4.5: a fragment that would make the packet exceed 65,535 octets "must be
          // discarded and an ICMP Parameter Problem, Code 0, message should be sent ...
          // pointing to the Fragment Offset field of the fragment packet".
          if (out.reason === 'too-big' && !multicast) this.icmp.sendError6(packet, 'parameter-problem', 0, fragHeaderAt + 2, now);
          return;
        case 'complete': {
          c.ReasmOKs++;
          const upper = parseIpv6Extensions(out.protocol, out.payload);
          if (!upper.ok) {
            c.InHdrErrors++;
            countDrop(this.counters, V6_EXT_KEYS[upper.error]);
            return;
          }
          payload = upper.value.payload;
          protocol = upper.value.protocol;
          ecn = out.ecn;
          packet = out.first;
          break;
        }
        default:
          assertNever(out, 'reassembly outcome');
      }
    }
    this.deliver(ifc, 6, h.src, dst, protocol, ecn, h.hopLimit, multicast, payload, 0, payload.length, packet, 0, packet.length, now);
  }

  /**
   * Our unicast address equal to the destination bytes, or undefined. RFC 1122 §3.3.4.2: like
   * Linux we follow the weak host model and accept any of our addresses on any interface, but
   * the loopback addresses only on loopback (RFC 1122 §3.2.1.3(g), RFC 4291 §2.5.3).
   */
  private localDst(ifc: Interface, b: Uint8Array, off: number, family: 4 | 6): IpAddr | undefined {
    const own = ifc.matchAddress(b, off, family);
    if (own !== undefined) return own;
    for (const other of this.interfaces.values()) {
      if (other === ifc || other.isLoopback) continue;
      const a = other.matchAddress(b, off, family);
      if (a !== undefined) return a;
    }
    return undefined;
  }

  /**
   * Hands a datagram to ICMP or its transport. The payload is `buf[off, off + len)` and the
   * datagram as received (what an ICMP error quotes) `pbuf[poff, poff + plen)`: views are made
   * only for the handlers that take one. `wholeFrame`: `buf` is the frame as the interface's
   * port delivered it, which goes back to the port (`Port.release`) after an `inputAt` handler
   * told to keep nothing (`PacketInfo.frameReused`).
   */
  private deliver(ifc: Interface, family: 4 | 6, src: IpAddr, dst: IpAddr, protocol: number, ecn: number, ttl: number, multicast: boolean,
    buf: Uint8Array, off: number, len: number, pbuf: Uint8Array, poff: number, plen: number, now: Instant, wholeFrame = false): void {
    const c = family === 4 ? this.counters.ip : this.counters.ip6;
    if (family === 4 && protocol === IpProtocol.ICMP) {
      c.InDelivers++;
      this.icmp.input4(ifc, src, dst, multicast, ttl, view(buf, off, len), now);
      return;
    }
    if (family === 6 && protocol === IpProtocol.ICMPv6) {
      c.InDelivers++;
      this.icmp.input6(ifc, src, dst, multicast, ttl, view(buf, off, len), now);
      return;
    }
    const h = this.transports[protocol];
    if (h === undefined) {
      if (family === 6 && protocol === Ipv6ExtHeader.NoNextHeader) {
        // RFC 8200 §4.7: nothing follows; the packet is consumed without an error.
        countDrop(this.counters, 'ipv6:no-next-header');
        return;
      }
      // RFC 1122 §3.2.2.1: a host SHOULD send Protocol Unreachable; RFC 8200 §4 has IPv6 send a
      // Parameter Problem (code 1) pointing at the unrecognised Next Header.
      c.InUnknownProtos++;
      countDrop(this.counters, family === 4 ? 'ipv4:unknown-protocol' : 'ipv6:unknown-protocol');
      if (!multicast) {
        const packet = view(pbuf, poff, plen);
        if (family === 4) this.icmp.sendError4(packet, 'destination-unreachable', 2, 0, now);
        else this.icmp.sendError6(packet, 'parameter-problem', 1, lastNextHeaderOffset(packet), now);
      }
      return;
    }
    const pkt = this.pkt;
    pkt.ifindex = ifc.ifindex;
    pkt.src = src;
    pkt.dst = dst;
    pkt.family = family;
    pkt.ecn = ecn;
    pkt.ttl = ttl;
    pkt.multicast = multicast;
    pkt.checksumOffload = ifc.checksumOffload;
    pkt.setPacket(pbuf, poff, plen);
    c.InDelivers++;
    if (h.inputAt === undefined) {
      pkt.frameReused = false;
      h.input(pkt, view(buf, off, len), now);
      return;
    }
    const release = wholeFrame ? ifc.port?.release : undefined;
    pkt.frameReused = release !== undefined;
    h.inputAt(pkt, buf, off, len, now);
    if (release !== undefined) {
      pkt.setPacket(NO_BYTES, 0, 0); // not even the PacketInfo keeps the frame
      release(buf);
    }
  }

  /** Sends ICMP port unreachable for a datagram a transport could not deliver (RFC 1122 §3.2.2.1, RFC 4443 §3.1 code 4). */
  sendPortUnreachable(pkt: Readonly<PacketInfo>, now: Instant): void {
    if (pkt.multicast) return;
    if (pkt.family === 4) this.icmp.sendError4(pkt.packet, 'destination-unreachable', 3, 0, now);
    else this.icmp.sendError6(pkt.packet, 'destination-unreachable', 4, 0, now);
  }

  /** Hands an ICMP error about one of our datagrams to the transport named in it. */
  notifyTransport(protocol: number, err: IcmpError, now: Instant): void {
    this.transports[protocol]?.icmpError?.(err, now);
  }

  /** Neighbour resolution failed for a queued frame: report EHOSTUNREACH to its transport as a local host-unreachable. */
  private resolutionFailed(ifindex: number, target: IpAddr, frame: Uint8Array, now: Instant): void {
    this.counters.neigh.unresolved_discards++;
    countDrop(this.counters, 'neigh:resolution-failed');
    const ifc = this.interfaces.get(ifindex);
    if (ifc === undefined) return;
    const ip = frame.subarray(ifc.linkHeaderLength);
    let protocol: number;
    let err: IcmpError;
    if (target.family === 4) {
      const q = parseIpv4(ip, false);
      if (!q.ok || q.value.fragmentOffset !== 0) return; // only the first fragment names the transport
      protocol = q.value.protocol;
      err = { kind: 'unreachable', code: 1, family: 4, src: q.value.src, dst: q.value.dst, quoted: q.value.payload, from: undefined, local: true };
    } else {
      const q = parseIpv6(ip);
      if (!q.ok || (q.value.fragment !== undefined && q.value.fragment.offset !== 0)) return;
      protocol = q.value.protocol;
      err = { kind: 'unreachable', code: 3, family: 6, src: q.value.src, dst: q.value.dst, quoted: q.value.payload, from: undefined, local: true };
    }
    this.notifyTransport(protocol, err, now);
  }

  /** An upper-layer confirmation that the next hop of `route` is reachable (RFC 4861 §7.3.1; TCP calls it when new data is acknowledged). */
  confirmReachable(route: Route, now: Instant): void {
    this.neighbors.confirm(route.ifindex, route.nextHop, now);
  }

  /** Records a path MTU from ICMP and invalidates cached routes when it lowered the estimate; returns the new PMTU. */
  learnPmtu(dst: IpAddr, reported: number, now: Instant): number | undefined {
    const r = this.routes.route(dst);
    if (r === undefined) return undefined;
    const mtu = this.pmtu.update(dst, reported, r.mtu, now);
    if (mtu !== undefined) this.routes.bump();
    return mtu;
  }

  // ---- time ----

  /** The earliest instant anything in the IP layer is due (loopback delivery, retransmitted solicitations, reassembly and PMTU expiry). */
  pollAt(): Instant | undefined {
    return earliest(earliest(this.loopAt, this.neighbors.pollAt()), earliest(this.reassembler.pollAt(), this.pmtu.pollAt()));
  }

  /** Runs what is due at `now`. Calling it early is harmless. */
  poll(now: Instant): void {
    if (this.loopAt !== undefined && this.loopAt <= now) {
      const q = this.loopQueue;
      this.loopQueue = [];
      this.loopAt = undefined;
      for (const f of q) this.input(LOOPBACK_IFINDEX, f, now);
    }
    this.neighbors.poll(now);
    this.reassembler.poll(now, (t) => {
      const c = t.family === 4 ? this.counters.ip : this.counters.ip6;
      if (!t.discarded) {
        c.ReasmFails++;
        c.ReasmTimeout++;
      }
      countDrop(this.counters, 'frag:timeout');
      // RFC 792 / RFC 1122 §3.3.2 and RFC 8200 §4.5: if the first fragment arrived, send Time
      // Exceeded, code 1 ("fragment reassembly time exceeded").
      if (t.first === undefined || t.discarded) return;
      if (t.family === 4) this.icmp.sendError4(t.first, 'time-exceeded', 1, 0, now);
      else this.icmp.sendError6(t.first, 'time-exceeded', 1, 0, now);
    });
    if (this.pmtu.poll(now) > 0) this.routes.bump();
  }
}

const NO_BYTES = new Uint8Array(0);

/** `buf[off, off + len)`: `buf` itself when that is all of it, else a view. */
function view(buf: Uint8Array, off: number, len: number): Uint8Array {
  return off === 0 && len === buf.length ? buf : buf.subarray(off, off + len);
}

/**
 * The one `PacketInfo` an IpLayer fills for every datagram it delivers. `packet` (the datagram as
 * received, for ICMP errors) is made on first use: most datagrams never need it, and it would be
 * a view per packet.
 */
class ReceivedPacket implements PacketInfo {
  ifindex = 0;
  src: IpAddr = IpAddr.any(4);
  dst: IpAddr = IpAddr.any(4);
  family: 4 | 6 = 4;
  ecn = 0;
  ttl = 0;
  multicast = false;
  checksumOffload = false;
  frameReused = false;
  private buf: Uint8Array = NO_BYTES;
  private off = 0;
  private len = 0;
  private made: Uint8Array | undefined = undefined;

  /** The datagram as received: `buf[off, off + len)`. */
  setPacket(buf: Uint8Array, off: number, len: number): void {
    this.buf = buf;
    this.off = off;
    this.len = len;
    this.made = undefined;
  }

  get packet(): Uint8Array {
    return (this.made ??= view(this.buf, this.off, this.len));
  }
}

function headerError(c: IpStats, e: WireError): void {
  if (e === 'truncated' || e === 'bad-total-length') {
    c.InTruncatedPkts++;
    return;
  }
  if (e === 'bad-checksum') c.InCsumErrors++;
  c.InHdrErrors++;
}

/** Offset of the last Next Header field in a (validated) IPv6 packet: what Parameter Problem code 1 points at. */
export function lastNextHeaderOffset(b: Uint8Array): number {
  let ptr = 6;
  let nh = b[6] ?? 0;
  let off = IPV6_HEADER_LEN;
  for (let n = 0; n < 16 && off + 8 <= b.length; n++) {
    if (nh !== Ipv6ExtHeader.HopByHop && nh !== Ipv6ExtHeader.Routing && nh !== Ipv6ExtHeader.Fragment && nh !== Ipv6ExtHeader.DestinationOptions) break;
    ptr = off;
    const len = nh === Ipv6ExtHeader.Fragment ? 8 : (b[off + 1]! + 1) * 8;
    nh = b[off]!;
    off += len;
  }
  return ptr;
}
