// Network interfaces: index, name, the Port they send through, link-layer address, MTU, and the
// IPv4/IPv6 addresses with prefix lengths; plus the loopback interface. Read first: RFC 4291
// §2.5.1 and Appendix A (interface identifiers from a MAC), §2.7.1 (solicited-node multicast),
// RFC 2464 §7 (IPv6 multicast over Ethernet), RFC 1122 §3.2.1.3 (which addresses are ours).
import type { Medium, Port } from '../link/link.js';
import { IpAddr } from '../wire/ip-addr.js';
import { ETHERNET_HEADER_LEN, MacAddr } from '../wire/ethernet.js';
import { type Result, ok, err } from '../util/result.js';
import type { Rng } from '../util/rng.js';

/** The ifindex of the loopback interface, which every stack has (as on Linux). */
export const LOOPBACK_IFINDEX = 1;
/** The loopback MTU, as Linux's `lo` (64 KiB). */
export const LOOPBACK_MTU = 65536;

/** An address assigned to an interface, with the length of its on-link prefix. */
export interface IfAddr {
  readonly addr: IpAddr;
  readonly prefixLen: number;
}

/** How an interface is configured by the Stack. */
export interface InterfaceConfig {
  ifindex: number;
  name: string;
  port: Port | undefined;
  medium: Medium;
  mtu: number;
  mac: MacAddr | undefined;
  ipv4: readonly IfAddr[];
  ipv6: readonly IfAddr[];
  checksumOffload: boolean;
}

/** A network interface: what the IP layer needs to send and to decide whether a packet is ours. */
export class Interface {
  /** Interface index, 1 for loopback, then 2, 3, ... in order of addition. */
  readonly ifindex: number;
  /** A name such as `lo` or `eth0`. */
  readonly name: string;
  /** Where frames go; undefined for loopback, which delivers to itself. */
  readonly port: Port | undefined;
  /** 'ethernet' (frames carry a 14-byte Ethernet II header) or 'ip' (bare packets, like TUN). */
  readonly medium: Medium;
  /** The IP MTU (largest IP packet), from the Port. */
  readonly mtu: number;
  /** Our link-layer address on Ethernet; undefined otherwise. */
  readonly mac: MacAddr | undefined;
  /** IPv4 addresses with prefix lengths. */
  readonly ipv4: IfAddr[];
  /** IPv6 addresses with prefix lengths (the link-local one first on Ethernet). */
  readonly ipv6: IfAddr[];
  /** IPv6 multicast groups joined: all-nodes (ff02::1) and the solicited-node group of each address. */
  readonly groups6: IpAddr[] = [];
  /** Skip computing/verifying L4 checksums (only for in-process links known clean, as Linux loopback does). */
  readonly checksumOffload: boolean;
  /** Bytes of link header in front of the IP header: 14 on Ethernet, 0 otherwise. */
  readonly linkHeaderLength: number;

  constructor(c: InterfaceConfig) {
    this.ifindex = c.ifindex;
    this.name = c.name;
    this.port = c.port;
    this.medium = c.medium;
    this.mtu = c.mtu;
    this.mac = c.mac;
    this.ipv4 = [...c.ipv4];
    this.ipv6 = [...c.ipv6];
    this.checksumOffload = c.checksumOffload;
    this.linkHeaderLength = c.medium === 'ethernet' ? ETHERNET_HEADER_LEN : 0;
    this.refreshGroups();
  }

  /** True for the loopback interface. */
  get isLoopback(): boolean {
    return this.port === undefined;
  }

  /** Adds an address (and joins its solicited-node group for IPv6). */
  addAddress(a: IfAddr): void {
    const list = a.addr.family === 4 ? this.ipv4 : this.ipv6;
    if (list.some((x) => x.addr.equals(a.addr))) return;
    list.push(a);
    this.refreshGroups();
  }

  /** Whether `addr` is one of this interface's unicast addresses. */
  hasAddress(addr: IpAddr): boolean {
    const list = addr.family === 4 ? this.ipv4 : this.ipv6;
    for (const a of list) if (a.addr.equals(addr)) return true;
    return false;
  }

  /** Our address equal to the bytes at `off` (without allocating), or undefined. */
  matchAddress(bytes: Uint8Array, off: number, family: 4 | 6): IpAddr | undefined {
    const list = family === 4 ? this.ipv4 : this.ipv6;
    // Indexed loops here and below: these run for every packet, and a for-of that V8 did not
    // inline allocated an iterator each time (seen in the bulk benchmark's heap profile).
    for (let i = 0; i < list.length; i++) {
      const a = list[i]!.addr;
      if (a.equalsBytes(bytes, off)) return a;
    }
    return undefined;
  }

  /** Whether the IPv4 address is the limited broadcast or the directed broadcast of one of our prefixes (RFC 1122 §3.2.1.3). */
  isBroadcast4(u32: number): boolean {
    if (u32 === 0xffffffff) return true;
    const list = this.ipv4;
    for (let i = 0; i < list.length; i++) {
      const a = list[i]!;
      if (a.prefixLen >= 31) continue; // RFC 3021: /31 and /32 have no broadcast address
      const host = 0xffffffff >>> a.prefixLen;
      if (((u32 & ~host) >>> 0) === ((a.addr.v4 & ~host) >>> 0) && (u32 & host) >>> 0 === host) return true;
    }
    return false;
  }

  /** The IPv6 multicast group we joined equal to the bytes at `off`, or undefined. */
  matchGroup6(bytes: Uint8Array, off: number): IpAddr | undefined {
    for (const g of this.groups6) if (g.equalsBytes(bytes, off)) return g;
    return undefined;
  }

  private refreshGroups(): void {
    this.groups6.length = 0;
    if (this.ipv6.length === 0) return;
    this.groups6.push(ALL_NODES);
    for (const a of this.ipv6) {
      const g = solicitedNode(a.addr);
      if (!this.groups6.some((x) => x.equals(g))) this.groups6.push(g);
    }
  }
}

/** ff02::1, the link-local all-nodes multicast group (RFC 4291 §2.7.1). */
export const ALL_NODES = IpAddr.v6(0xff020000, 0, 0, 1);

/** The solicited-node multicast address of `addr`: ff02::1:ff00:0/104 plus its low 24 bits (RFC 4291 §2.7.1). */
export function solicitedNode(addr: IpAddr): IpAddr {
  return IpAddr.v6(0xff020000, 0, 1, (0xff000000 | (addr.w3 & 0xffffff)) >>> 0);
}

/** The Ethernet multicast address of an IPv4 group: 01:00:5e and the group's low 23 bits (RFC 1112 §6.4). */
export function multicastMac4(group: number): MacAddr {
  return MacAddr.fromNumber(0x01005e000000 + (group & 0x7fffff));
}

/**
 * The fe80::/64 link-local address whose interface identifier is the modified EUI-64 of `mac`
 * (RFC 4291 Appendix A): ff:fe inserted in the middle and the universal/local bit inverted.
 */
export function linkLocalFromMac(mac: MacAddr): IpAddr {
  const hi = ((((mac.hi >>> 8) ^ 0x02) << 24) | ((mac.hi & 255) << 16) | ((mac.lo >>> 24) << 8) | 0xff) >>> 0;
  const lo = ((0xfe << 24) | (mac.lo & 0xffffff)) >>> 0;
  return IpAddr.v6(0xfe800000, 0, hi, lo);
}

/** A random unicast, locally administered MAC (first octet xxxxxx10, RFC 9542 §2.1). */
export function randomLocalMac(rng: Rng): MacAddr {
  const a = rng.nextU32();
  const b = rng.nextU32();
  const hi = ((((a >>> 8) & 0xfc) | 0x02) << 8) | (a & 255);
  return MacAddr.fromNumber(hi * 0x1_0000_0000 + (b >>> 0));
}

/** Parses `addr/len` (the length defaults to 32 or 128); the address keeps its host bits. */
export function parseCidr(text: string): Result<IfAddr, string> {
  const slash = text.indexOf('/');
  const a = IpAddr.parse(slash < 0 ? text : text.slice(0, slash));
  if (!a.ok) return err(`invalid address/prefix: ${JSON.stringify(text)}`);
  const max = a.value.family === 4 ? 32 : 128;
  if (slash < 0) return ok({ addr: a.value, prefixLen: max });
  const lenText = text.slice(slash + 1);
  const len = Number(lenText);
  if (!/^[0-9]{1,3}$/.test(lenText) || len > max) return err(`invalid prefix length in ${JSON.stringify(text)}: must be 0..${max}`);
  return ok({ addr: a.value, prefixLen: len });
}

/** The network part of `addr` under a prefix length (host bits cleared). */
export function networkOf(addr: IpAddr, prefixLen: number): IpAddr {
  const base = addr.family === 4 ? 96 : 0;
  const w = [addr.w0, addr.w1, addr.w2, addr.w3];
  let bits = base + prefixLen;
  for (let i = 0; i < 4; i++) {
    const take = Math.max(0, Math.min(32, bits));
    const mask = take === 32 ? 0xffffffff : take === 0 ? 0 : ~(0xffffffff >>> take) >>> 0;
    w[i] = (w[i]! & mask) >>> 0;
    bits -= 32;
  }
  return addr.family === 4 ? IpAddr.v4(w[3]!) : IpAddr.v6(w[0]!, w[1]!, w[2]!, w[3]!);
}

/** The number of leading bits `a` and `b` share (0 for different families). */
export function commonPrefixLength(a: IpAddr, b: IpAddr): number {
  if (a.family !== b.family) return 0;
  const aw = a.family === 4 ? [a.w3] : [a.w0, a.w1, a.w2, a.w3];
  const bw = b.family === 4 ? [b.w3] : [b.w0, b.w1, b.w2, b.w3];
  let n = 0;
  for (let i = 0; i < aw.length; i++) {
    const x = (aw[i]! ^ bw[i]!) >>> 0;
    if (x === 0) {
      n += 32;
      continue;
    }
    return n + Math.clz32(x);
  }
  return n;
}
