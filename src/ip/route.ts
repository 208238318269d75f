// The routing table: longest-prefix match for IPv4 and IPv6, connected routes for interface
// prefixes, static and default routes, local delivery through loopback, and source address
// selection. Read first: RFC 1122 §3.3.1 (routing outbound datagrams), §3.3.4.2 (multihoming:
// the weak host model Linux uses), RFC 6724 §5 (source address selection; simplified here).
import { IpAddr } from '../wire/ip-addr.js';
import { type IfAddr, type Interface, LOOPBACK_IFINDEX, commonPrefixLength, networkOf } from './interface.js';

/**
 * Where and how to send a datagram: the answer of `route()`. Transports may cache it as long as
 * `generation` equals the table's current generation.
 */
export interface Route {
  /** Address family of the destination. */
  readonly family: 4 | 6;
  /** The final destination. */
  readonly dst: IpAddr;
  /** The outgoing interface (LOOPBACK_IFINDEX for our own addresses). */
  readonly ifindex: number;
  /** The chosen source address. */
  readonly src: IpAddr;
  /** The neighbour to hand the packet to: `dst` when on-link, else the gateway. */
  readonly nextHop: IpAddr;
  /** The largest IP packet for this path: the interface MTU, lowered by any learned path MTU. */
  readonly mtu: number;
  /** Bytes of link header in front of the IP header on this interface (14 on Ethernet, 0 otherwise). */
  readonly linkHeaderLength: number;
  /** Skip L4 checksums on this path (the interface opted into checksum offload). */
  readonly checksumOffload: boolean;
  /** The table generation this answer was computed at. */
  readonly generation: number;
}

/** A Route whose fields can be written: the reused answer of IpLayer.routeTransient. */
export type MutableRoute = { -readonly [K in keyof Route]: Route[K] };

/** One entry of the table. */
export interface RouteEntry {
  /** The network (host bits cleared). */
  readonly prefix: IpAddr;
  readonly prefixLen: number;
  /** Undefined for on-link (connected) routes. */
  readonly gateway: IpAddr | undefined;
  readonly ifindex: number;
  /** Lower wins among entries of the same prefix length. */
  readonly metric: number;
  /** 'connected' entries come and go with interface addresses. */
  readonly kind: 'connected' | 'static';
}

/** The interfaces the table routes over, by ifindex. */
export type InterfaceMap = ReadonlyMap<number, Interface>;

/** Longest-prefix-match routing for both families, with source selection and local delivery. */
export class RoutingTable {
  /** Bumped on every change (routes, addresses, path MTU); a cached Route is valid while it matches. */
  generation = 1;
  // Sorted by prefix length descending, then metric ascending: the first match is the longest.
  // A linear scan: hosts have tens of routes, where a trie buys nothing.
  private readonly v4: RouteEntry[] = [];
  private readonly v6: RouteEntry[] = [];

  constructor(private readonly interfaces: InterfaceMap) {}

  /** Marks every cached Route stale (called on address and path-MTU changes too). */
  bump(): void {
    this.generation++;
  }

  /** Adds an entry; an entry with the same prefix, length, gateway and interface is replaced. */
  add(e: Omit<RouteEntry, 'prefix'> & { prefix: IpAddr }): RouteEntry {
    const entry: RouteEntry = { ...e, prefix: networkOf(e.prefix, e.prefixLen) };
    const list = entry.prefix.family === 4 ? this.v4 : this.v6;
    const same = list.findIndex((x) => sameEntry(x, entry));
    if (same >= 0) list.splice(same, 1);
    let i = 0;
    while (i < list.length && (list[i]!.prefixLen > entry.prefixLen || (list[i]!.prefixLen === entry.prefixLen && list[i]!.metric <= entry.metric))) i++;
    list.splice(i, 0, entry);
    this.bump();
    return entry;
  }

  /** Removes entries matching prefix/len (and gateway/ifindex when given); returns how many. */
  remove(prefix: IpAddr, prefixLen: number, gateway?: IpAddr, ifindex?: number): number {
    const net = networkOf(prefix, prefixLen);
    const list = net.family === 4 ? this.v4 : this.v6;
    let n = 0;
    for (let i = list.length - 1; i >= 0; i--) {
      const x = list[i]!;
      if (x.prefixLen !== prefixLen || !x.prefix.equals(net)) continue;
      if (gateway !== undefined && !(x.gateway?.equals(gateway) ?? false)) continue;
      if (ifindex !== undefined && x.ifindex !== ifindex) continue;
      list.splice(i, 1);
      n++;
    }
    if (n > 0) this.bump();
    return n;
  }

  /** Adds the connected (on-link) route for an interface address, as Linux does on `ip addr add`. */
  addConnected(ifindex: number, a: IfAddr): void {
    this.add({ prefix: a.addr, prefixLen: a.prefixLen, gateway: undefined, ifindex, metric: a.addr.family === 4 ? 0 : 256, kind: 'connected' });
  }

  /** All entries, longest prefix first, IPv4 then IPv6. */
  entries(): readonly RouteEntry[] {
    return [...this.v4, ...this.v6];
  }

  /**
   * The longest-prefix match for `dst`. Among equally long matches the lowest metric wins, and
   * with `preferIfindex` an entry on that interface wins (to route link-local destinations out
   * of the interface the source address belongs to).
   */
  lookup(dst: IpAddr, preferIfindex?: number): RouteEntry | undefined {
    const list = dst.family === 4 ? this.v4 : this.v6;
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      if (!dst.inPrefix(e.prefix, e.prefixLen)) continue;
      if (preferIfindex !== undefined && e.ifindex !== preferIfindex) {
        for (let j = i + 1; j < list.length && list[j]!.prefixLen === e.prefixLen; j++) {
          const f = list[j]!;
          if (f.ifindex === preferIfindex && dst.inPrefix(f.prefix, f.prefixLen)) return f;
        }
      }
      return e;
    }
    return undefined;
  }

  /** Which interface owns `addr` as a unicast address, if any. */
  ownerOf(addr: IpAddr): Interface | undefined {
    for (const ifc of this.interfaces.values()) if (ifc.hasAddress(addr)) return ifc;
    return undefined;
  }

  /**
   * Routes `dst`: the interface, source address, next hop and MTU, or undefined when there is no
   * route (the caller reports ENETUNREACH). Our own addresses route through loopback (RFC 1122
   * §3.3.4.2: the weak host model, as Linux's local table). `srcHint`, when it is one of our
   * addresses of the right family, is used as the source. With `into` the answer is written into
   * that object and returned, instead of a new one (IpLayer.routeTransient).
   */
  route(dst: IpAddr, srcHint?: IpAddr, into?: MutableRoute): Route | undefined {
    const hint = srcHint !== undefined && srcHint.family === dst.family && !srcHint.isUnspecified ? srcHint : undefined;
    // 127.0.0.0/8 is all ours (RFC 1122 §3.2.1.3(g)), assigned or not: it belongs to loopback.
    const hintOwner = hint === undefined ? undefined : this.ownerOf(hint) ?? (hint.isLoopback ? this.interfaces.get(LOOPBACK_IFINDEX) : undefined);
    const self = this.ownerOf(dst);
    if (self !== undefined || dst.isLoopback) {
      const lo = this.interfaces.get(LOOPBACK_IFINDEX);
      if (lo === undefined) return undefined;
      // 127.0.0.0/8 is all ours, but only 127.0.0.1 is assigned: use it as the source, as
      // Linux's `local 127.0.0.0/8 ... src 127.0.0.1` does.
      const src = hintOwner !== undefined ? hint! : self !== undefined ? dst : (lo.ipv4.concat(lo.ipv6).find((a) => a.addr.family === dst.family)?.addr ?? dst);
      return this.make(dst, lo, src, dst, into);
    }
    if (dst.family === 4 && dst.v4 === 0xffffffff) {
      // The limited broadcast goes out of the interface of the source (or the first with IPv4).
      const ifc = hintOwner ?? [...this.interfaces.values()].find((i) => !i.isLoopback && i.ipv4.length > 0);
      if (ifc === undefined) return undefined;
      const src = hintOwner !== undefined ? hint! : selectSource(dst, ifc.ipv4);
      return src === undefined ? undefined : this.make(dst, ifc, src, dst, into);
    }
    const e = this.lookup(dst, hintOwner?.ifindex);
    if (e === undefined) return undefined;
    const ifc = this.interfaces.get(e.ifindex);
    if (ifc === undefined) return undefined;
    let src: IpAddr | undefined = hintOwner !== undefined ? hint : selectSource(dst, dst.family === 4 ? ifc.ipv4 : ifc.ipv6);
    // RFC 1122 §3.3.4.2 / Linux inet_select_addr: an interface without an address of the family
    // borrows one from another interface (never a link-local one for a global destination).
    if (src === undefined) {
      for (const other of this.interfaces.values()) {
        if (other.isLoopback) continue;
        src = selectSource(dst, dst.family === 4 ? other.ipv4 : other.ipv6);
        if (src !== undefined) break;
      }
    }
    if (src === undefined) return undefined;
    return this.make(dst, ifc, src, e.gateway ?? dst, into);
  }

  private make(dst: IpAddr, ifc: Interface, src: IpAddr, nextHop: IpAddr, into: MutableRoute | undefined): Route {
    if (into !== undefined) {
      into.family = dst.family;
      into.dst = dst;
      into.ifindex = ifc.ifindex;
      into.src = src;
      into.nextHop = nextHop;
      into.mtu = ifc.mtu;
      into.linkHeaderLength = ifc.linkHeaderLength;
      into.checksumOffload = ifc.checksumOffload;
      into.generation = this.generation;
      return into;
    }
    return {
      family: dst.family,
      dst,
      ifindex: ifc.ifindex,
      src,
      nextHop,
      mtu: ifc.mtu,
      linkHeaderLength: ifc.linkHeaderLength,
      checksumOffload: ifc.checksumOffload,
      generation: this.generation,
    };
  }
}

function sameEntry(a: RouteEntry, b: RouteEntry): boolean {
  return a.prefixLen === b.prefixLen && a.prefix.equals(b.prefix) && a.ifindex === b.ifindex &&
    (a.gateway === undefined ? b.gateway === undefined : b.gateway !== undefined && a.gateway.equals(b.gateway));
}

/** Scope of an address for RFC 6724 §3.1: 2 link-local, 14 global (IPv4 link-local 169.254/16 counts as link). */
function scopeOf(a: IpAddr): number {
  if (a.family === 4) return a.v4 >>> 16 === 0xa9fe || a.isLoopback ? 2 : 14;
  if (a.w0 >>> 24 === 0xff) return (a.w0 >>> 16) & 0xf;
  if (a.w0 >>> 22 === 0x3fa || a.isLoopback) return 2; // fe80::/10, ::1
  return 14;
}

/**
 * RFC 6724 §5, simplified to the rules that matter for a host with a few addresses per
 * interface: Rule 2 (prefer appropriate scope: the smallest scope not below the destination's)
 * and Rule 8 (longest matching prefix). Candidates are the interface's addresses of the family.
 * Deviation: rules 3-7 (deprecated addresses, home/care-of, labels, temporary addresses) do not
 * apply: we have none of those address kinds.
 */
export function selectSource(dst: IpAddr, candidates: readonly IfAddr[]): IpAddr | undefined {
  const dstScope = scopeOf(dst);
  let best: IpAddr | undefined;
  let bestScope = 0;
  let bestLen = -1;
  for (const c of candidates) {
    const a = c.addr;
    if (a.family !== dst.family) continue;
    if (a.equals(dst)) return a; // Rule 1: prefer the same address
    const s = scopeOf(a);
    const len = commonPrefixLength(a, dst);
    if (best !== undefined) {
      // Rule 2: if Scope(SA) < Scope(SB): prefer SB if Scope(SA) < Scope(D), else SA.
      if (s !== bestScope) {
        const better = s < bestScope ? s >= dstScope : bestScope < dstScope;
        if (!better) continue;
      } else if (len <= bestLen) {
        continue;
      }
    }
    best = a;
    bestScope = s;
    bestLen = len;
  }
  return best;
}

/** The default route prefix of a family (0.0.0.0/0 or ::/0). */
export const defaultPrefix = (family: 4 | 6): IpAddr => IpAddr.any(family);
