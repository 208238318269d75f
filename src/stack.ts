// The Stack: one host. It owns the interfaces (and loopback), the IP layer, UDP and the
// counters, takes frames in through `ingress`, and runs timers through `poll`/`pollAt`. Other
// transports (TCP) plug in with `registerTransport` and take part in polling through
// `addPollable`. Sans-IO: time, randomness and frames are handed in; nothing here imports Node,
// so the same Stack runs in browsers. Read first: docs ARCHITECTURE ("The one rule"), RFC 1122
// §1.1.2 (the layers of a host) and §3.3.4 (multihoming).
import { IpAddr } from './wire/ip-addr.js';
import { MacAddr } from './wire/ethernet.js';
import { type Instant, earliest } from './time/instant.js';
import type { Rng } from './util/rng.js';
import type { Pollable, Port } from './link/link.js';
import { type IfAddr, Interface, LOOPBACK_IFINDEX, LOOPBACK_MTU, linkLocalFromMac, parseCidr, randomLocalMac } from './ip/interface.js';
import { IpLayer } from './ip/ip.js';
import { type IpCounters, newIpCounters } from './ip/counters.js';
import type { NeighborConfig } from './ip/neighbor.js';
import type { IcmpRateLimitConfig } from './ip/ratelimit.js';
import type { TransportHandler } from './ip/transport.js';
import { UdpLayer } from './ip/udp.js';
import { TcpLayer } from './tcp/tcp.js';
import type { TcpConfig } from './tcp/config.js';
import type { Tracer } from './trace/events.js';

/** Options for a Stack. */
export interface StackOptions {
  /** All randomness the stack uses (MACs, IP IDs, ephemeral ports, ISNs in TCP): seeded in simulation, a CSPRNG in real drivers. */
  rng: Rng;
  /** A label for traces and errors. */
  name?: string;
  /** Neighbour-cache tunables (ARP/NDP). */
  neighbor?: Partial<NeighborConfig>;
  /** Bytes for fragments awaiting reassembly (default 4 MiB). */
  reassemblyMemory?: number;
  /** ICMP error rate limit (default: Linux's). */
  icmpRateLimit?: IcmpRateLimitConfig;
  /** UDP ephemeral port range, inclusive (default 32768-60999). */
  ephemeralPorts?: readonly [number, number];
  /** UDP receive buffer per socket in bytes (default 212992). */
  udpReceiveBuffer?: number;
  /** Skip L4 checksums on loopback, as Linux does (default true). */
  loopbackChecksumOffload?: boolean;
  /** TCP settings (Linux sysctl names and defaults; see TcpConfig). */
  tcp?: Partial<TcpConfig>;
  /** Receives structured trace events (state changes, drops, retransmissions). */
  tracer?: Tracer;
  /** The driver's clock, read when the application calls in between polls (stamps user calls with the right time). */
  clock?: () => Instant;
}

/** How to attach an interface. */
export interface InterfaceOptions {
  /** The link end this interface sends through; its `onFrame` is set to feed `ingress`. */
  port: Port;
  /** The MAC (Ethernet only): text `02:00:00:00:00:01` or a MacAddr; default a random locally administered one. */
  mac?: string | MacAddr;
  /** IPv4 addresses as `a.b.c.d/len`. */
  ipv4?: string | readonly string[];
  /** IPv6 addresses as `addr/len` (an fe80::/64 link-local address from the MAC is added on Ethernet). */
  ipv6?: string | readonly string[];
  /** Default `eth0`, `eth1`, ... (or `ip0`, ... for medium 'ip'). */
  name?: string;
  /** Skip verifying/computing L4 checksums: only for in-process links known clean (default false). */
  checksumOffload?: boolean;
  /** Add the fe80::/64 EUI-64 link-local address on Ethernet (default true; RFC 4291 §2.1 requires one per interface). */
  linkLocal?: boolean;
}

/** One host: interfaces, IP, ICMP, ARP/NDP, UDP, and hooks for TCP. */
export class Stack implements Pollable {
  /** A label for traces and errors. */
  readonly name: string;
  /** The randomness given at construction, for transports that plug in. */
  readonly rng: Rng;
  /** Stack-wide counters (netstat -s names) and drops by reason. */
  readonly counters: IpCounters;
  /** The IP layer: route(), l4Offset(), allocFrame(), transmit() for transports. */
  readonly ip: IpLayer;
  /** UDP sockets. */
  readonly udp: UdpLayer;
  /** TCP: connections, listeners and the user calls the socket API is built on. */
  readonly tcp: TcpLayer;
  private pollables: Pollable[] = [];
  private ethCount = 0;
  private ipCount = 0;

  constructor(options: StackOptions) {
    this.name = options.name ?? 'stack';
    this.rng = options.rng;
    this.counters = newIpCounters();
    this.ip = new IpLayer({
      rng: options.rng,
      counters: this.counters,
      ...(options.neighbor !== undefined ? { neighbor: options.neighbor } : {}),
      ...(options.reassemblyMemory !== undefined ? { reassemblyMemory: options.reassemblyMemory } : {}),
      ...(options.icmpRateLimit !== undefined ? { icmpRateLimit: options.icmpRateLimit } : {}),
    });
    // The loopback interface (Linux `lo`): 127.0.0.1/8 and ::1/128, no Port, MTU 64 KiB.
    this.ip.addInterface(new Interface({
      ifindex: LOOPBACK_IFINDEX, name: 'lo', port: undefined, medium: 'ip', mtu: LOOPBACK_MTU, mac: undefined,
      ipv4: [{ addr: IpAddr.v4(0x7f000001), prefixLen: 8 }], ipv6: [{ addr: IpAddr.v6(0, 0, 0, 1), prefixLen: 128 }],
      checksumOffload: options.loopbackChecksumOffload ?? true,
    }));
    this.udp = new UdpLayer(this.ip, {
      rng: options.rng,
      ...(options.ephemeralPorts !== undefined ? { ephemeralPorts: options.ephemeralPorts } : {}),
      ...(options.udpReceiveBuffer !== undefined ? { receiveBufferBytes: options.udpReceiveBuffer } : {}),
    });
    this.ip.registerTransport(17, this.udp);
    this.tcp = new TcpLayer(this.ip, options.rng, options.tcp ?? {}, this.name, options.tracer);
    this.tcp.clock = options.clock;
    this.ip.registerTransport(6, this.tcp);
    this.pollables = [this.tcp];
  }

  /** Attaches a Port as a new interface; returns its ifindex. Throws on bad configuration (the message names the value). */
  addInterface(o: InterfaceOptions): number {
    const port = o.port;
    const medium = port.medium;
    const ifindex = Math.max(...this.ip.interfaces.keys()) + 1;
    const name = o.name ?? (medium === 'ethernet' ? `eth${this.ethCount++}` : `ip${this.ipCount++}`);
    if ([...this.ip.interfaces.values()].some((i) => i.name === name)) throw new Error(`${this.name}: interface name ${JSON.stringify(name)} is already in use`);
    let mac: MacAddr | undefined;
    if (medium === 'ethernet') {
      if (o.mac === undefined) mac = randomLocalMac(this.rng);
      else if (typeof o.mac === 'string') {
        const m = MacAddr.parse(o.mac);
        if (!m.ok) throw new TypeError(`${this.name}: ${m.error}`);
        mac = m.value;
      } else mac = o.mac;
      if (mac.isMulticast) throw new TypeError(`${this.name}: interface MAC ${mac.toString()} is a group address`);
    } else if (o.mac !== undefined) {
      throw new TypeError(`${this.name}: a MAC was given for ${name}, but its medium is '${medium}'`);
    }
    const ipv4 = parseAddrs(this.name, o.ipv4, 4);
    const ipv6 = parseAddrs(this.name, o.ipv6, 6);
    if (mac !== undefined && (o.linkLocal ?? true)) ipv6.unshift({ addr: linkLocalFromMac(mac), prefixLen: 64 });
    // RFC 791 §3.2: "Every internet module must be able to forward a datagram of 68 octets";
    // RFC 8200 §5: "every link in the Internet have an MTU of 1280 octets or greater".
    if (port.mtu < 68) throw new RangeError(`${this.name}: ${name} MTU ${port.mtu} is below the IPv4 minimum of 68`);
    if (ipv6.length > 0 && port.mtu < 1280) throw new RangeError(`${this.name}: ${name} MTU ${port.mtu} is below the IPv6 minimum of 1280 (RFC 8200 §5)`);
    const ifc = new Interface({ ifindex, name, port, medium, mtu: port.mtu, mac, ipv4, ipv6, checksumOffload: o.checksumOffload ?? false });
    this.ip.addInterface(ifc);
    port.onFrame = (frame, now) => this.ingress(ifindex, frame, now);
    return ifindex;
  }

  /** Adds an address (`a.b.c.d/len` or `addr/len`) to an interface, with its connected route. */
  addAddress(ifindex: number, cidr: string): void {
    const a = parseCidr(cidr);
    if (!a.ok) throw new TypeError(`${this.name}: ${a.error}`);
    this.ip.addAddress(ifindex, a.value);
  }

  /**
   * Adds a route: `prefix` like `0.0.0.0/0`, `::/0` or `default`/`default6`, via `gateway`
   * (which must be on a connected network when `ifindex` is not given), or on-link out of `ifindex`.
   */
  addRoute(prefix: string, gateway?: string, ifindex?: number): void {
    const text = prefix === 'default' ? '0.0.0.0/0' : prefix === 'default6' ? '::/0' : prefix;
    const p = parseCidr(text);
    if (!p.ok) throw new TypeError(`${this.name}: ${p.error}`);
    const family = p.value.addr.family;
    let gw: IpAddr | undefined;
    if (gateway !== undefined) {
      const g = IpAddr.parse(gateway);
      if (!g.ok) throw new TypeError(`${this.name}: ${g.error}`);
      gw = g.value;
      if (gw.family !== family) throw new TypeError(`${this.name}: gateway ${gateway} is not of the same family as ${prefix}`);
    }
    let out = ifindex;
    if (out !== undefined && !this.ip.interfaces.has(out)) throw new RangeError(`${this.name}: no interface with index ${out}`);
    if (out === undefined) {
      if (gw === undefined) throw new TypeError(`${this.name}: route ${prefix} needs a gateway or an interface`);
      const via = this.ip.routes.lookup(gw);
      if (via === undefined || via.gateway !== undefined) throw new Error(`${this.name}: gateway ${gateway} is not on a connected network (ENETUNREACH)`);
      out = via.ifindex;
    }
    this.ip.routes.add({ prefix: p.value.addr, prefixLen: p.value.prefixLen, gateway: gw, ifindex: out, metric: family === 4 ? 0 : 1024, kind: 'static' });
  }

  /** The interface with this index. */
  interface(ifindex: number): Interface | undefined {
    return this.ip.interfaces.get(ifindex);
  }

  /** A frame arrived on `ifindex` at `now`. Never throws on any bytes. */
  ingress(ifindex: number, frame: Uint8Array, now: Instant): void {
    this.ip.input(ifindex, frame, now);
  }

  /** Plugs a transport in by IP protocol number (TCP: 6). Its pollable part, if any, is added with `addPollable`. */
  registerTransport(protocol: number, handler: TransportHandler): void {
    this.ip.registerTransport(protocol, handler);
  }

  /** Adds something with deadlines (the TCP layer): the stack's pollAt/poll include it, after the IP layer. */
  addPollable(p: Pollable): void {
    if (!this.pollables.includes(p)) this.pollables = [...this.pollables, p];
  }

  /** Removes a pollable added with `addPollable`. */
  removePollable(p: Pollable): void {
    this.pollables = this.pollables.filter((x) => x !== p);
  }

  /** The earliest instant anything in the stack is due; undefined when only input can wake it. */
  pollAt(): Instant | undefined {
    let t = this.ip.pollAt();
    for (const p of this.pollables) t = earliest(t, p.pollAt());
    return t;
  }

  /** Runs everything due at or before `now`: loopback delivery, ARP/NDP retries, reassembly and PMTU expiry, then the pollables. */
  poll(now: Instant): void {
    this.ip.poll(now);
    for (const p of this.pollables) {
      const at = p.pollAt();
      if (at !== undefined && at <= now) p.poll(now);
    }
  }
}

function parseAddrs(who: string, v: string | readonly string[] | undefined, family: 4 | 6): IfAddr[] {
  if (v === undefined) return [];
  const list = typeof v === 'string' ? [v] : v;
  return list.map((text) => {
    const a = parseCidr(text);
    if (!a.ok) throw new TypeError(`${who}: ${a.error}`);
    if (a.value.addr.family !== family) throw new TypeError(`${who}: ${text} is not an IPv${family} address`);
    if (a.value.addr.isMulticastOrBroadcast || a.value.addr.isUnspecified) throw new TypeError(`${who}: ${text} cannot be an interface address`);
    return a.value;
  });
}
