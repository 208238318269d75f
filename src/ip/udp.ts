// UDP: sockets bound to (address, port), demux of arriving datagrams, sending with the payload
// written once into the final frame, ICMP port unreachable for closed ports, and ICMP errors
// reported to the socket. Read first: RFC 768, RFC 1122 §4.1.3 (checksums on by default,
// ICMP handling), RFC 8200 §8.1 (the checksum is mandatory over IPv6), RFC 6056 §3.3.1
// (ephemeral port randomisation), RFC 8085 (guidelines for UDP users).
import { IpAddr } from '../wire/ip-addr.js';
import { emitUdp, parseUdp, UDP_HEADER_LEN } from '../wire/udp.js';
import { IpProtocol } from '../wire/ipv4.js';
import { setU16 } from '../wire/net-order.js';
import type { Instant } from '../time/instant.js';
import { randomInt, type Rng } from '../util/rng.js';
import { type Result, ok, err } from '../util/result.js';
import type { IpLayer } from './ip.js';
import { NetError } from './errors.js';
import { countDrop } from './counters.js';
import { dropKeys } from './drop-keys.js';
import { type IcmpError, icmpErrno, type PacketInfo, type TransportHandler } from './transport.js';

/** Linux's `ip_local_port_range` default: the ephemeral ports (RFC 6056 §2.1 suggests 1024-65535; Linux narrows it). */
export const EPHEMERAL_PORTS: readonly [number, number] = [32768, 60999];
/** Receive queue limit per socket in bytes of datagram data: Linux's `rmem_default` (212992). */
export const UDP_RCVBUF = 212992;
/** Largest UDP payload over IPv4: 65535 - 20 (IP) - 8 (UDP). */
const MAX_PAYLOAD4 = 65507;
/** Largest UDP payload over IPv6 without jumbograms: 65535 - 8. */
const MAX_PAYLOAD6 = 65527;

const UDP_KEYS = dropKeys('udp');

/** Options of the UDP layer. */
export interface UdpOptions {
  /** Randomness for ephemeral ports. */
  rng: Rng;
  /** Inclusive range of ephemeral ports; default 32768-60999. */
  ephemeralPorts?: readonly [number, number];
  /** Default receive-queue limit per socket, in bytes. */
  receiveBufferBytes?: number;
}

/** A received datagram. `data` borrows the frame it arrived in (ownership passed to the stack), so it is not copied. */
export interface Datagram {
  data: Uint8Array;
  /** Sender address and port. */
  from: IpAddr;
  port: number;
  /** The address it was sent to (ours, or a broadcast/multicast address). */
  to: IpAddr;
  /** The interface it arrived on. */
  ifindex: number;
}

/** A UDP socket bound to a local address (possibly the unspecified address) and port. */
export class UdpSocket {
  /** Called when a datagram is queued (once per datagram). */
  onReadable: (() => void) | undefined;
  /**
   * Called for ICMP errors about datagrams this socket sent and for neighbour-resolution
   * failures (EHOSTUNREACH). Deviation: Linux reports these only on connected sockets or with
   * IP_RECVERR; we have no error queue, so every socket hears them here.
   */
  onError: ((e: NetError) => void) | undefined;
  /** Receive-queue limit in bytes; datagrams beyond it are dropped (counted as RcvbufErrors). */
  receiveBufferBytes: number;
  private queue: (Datagram | undefined)[] = [];
  private head = 0;
  private bytes = 0;
  private open = true;

  constructor(private readonly layer: UdpLayer, readonly localAddress: IpAddr, readonly localPort: number, receiveBufferBytes: number) {
    this.receiveBufferBytes = receiveBufferBytes;
  }

  /** 4 or 6. */
  get family(): 4 | 6 {
    return this.localAddress.family;
  }
  /** Datagrams waiting to be read. */
  get pending(): number {
    return this.queue.length - this.head;
  }
  /** Bytes of data waiting to be read. */
  get pendingBytes(): number {
    return this.bytes;
  }
  /** False after close(). */
  get isOpen(): boolean {
    return this.open;
  }

  /** The oldest queued datagram, removed from the queue; undefined when none. */
  recv(): Datagram | undefined {
    if (this.head >= this.queue.length) return undefined;
    const d = this.queue[this.head]!;
    this.queue[this.head] = undefined; // let the frame go
    this.head++;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.bytes -= d.data.length;
    return d;
  }

  /**
   * Sends `data` to `addr`:`port`: one frame is allocated and the payload written into it once.
   * Returns the bytes sent or an error (EMSGSIZE, ENETUNREACH, EINVAL). EHOSTUNREACH comes
   * later through `onError`, when neighbour resolution gives up.
   */
  sendTo(data: Uint8Array, addr: IpAddr, port: number, now: Instant): Result<number, NetError> {
    return this.layer.send(this, data, addr, port, now);
  }

  /** Unbinds; queued datagrams are discarded. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.queue = [];
    this.head = 0;
    this.bytes = 0;
    this.layer.unbind(this);
  }

  /** Queues a datagram unless the buffer is full; returns whether it was queued. */
  deliver(d: Datagram): boolean {
    if (this.bytes + d.data.length > this.receiveBufferBytes) return false;
    this.queue.push(d);
    this.bytes += d.data.length;
    this.onReadable?.();
    return true;
  }
}

/** The UDP layer: a TransportHandler for protocol 17 with its socket table. */
export class UdpLayer implements TransportHandler {
  // Key: port * 2 + (family === 6). Each list holds the sockets on that port: specific
  // addresses and at most one wildcard (no SO_REUSEADDR).
  private readonly table = new Map<number, UdpSocket[]>();
  private readonly rng: Rng;
  private readonly ephemeral: readonly [number, number];
  private readonly rcvbuf: number;

  constructor(private readonly ip: IpLayer, options: UdpOptions) {
    this.rng = options.rng;
    const [lo, hi] = options.ephemeralPorts ?? EPHEMERAL_PORTS;
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi > 65535 || lo > hi) {
      throw new RangeError(`ephemeralPorts must be [lo, hi] with 1 <= lo <= hi <= 65535, got [${lo}, ${hi}]`);
    }
    this.ephemeral = [lo, hi];
    this.rcvbuf = options.receiveBufferBytes ?? UDP_RCVBUF;
  }

  /** Number of bound sockets. */
  get size(): number {
    let n = 0;
    for (const l of this.table.values()) n += l.length;
    return n;
  }

  /**
   * Binds a socket to `addr` (ours, or the unspecified address of a family) and `port`; port 0
   * picks a random free ephemeral port (RFC 6056 §3.3.1, Algorithm 1). Throws NetError
   * EADDRINUSE when taken, EADDRNOTAVAIL when `addr` is not ours; RangeError for a bad port.
   */
  bind(addr: IpAddr, port: number): UdpSocket {
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be an integer in 0..65535, got ${port}`);
    if (!addr.isUnspecified && !this.ip.isLocalAddress(addr)) throw new NetError('EADDRNOTAVAIL', 'bind', addr, port);
    const family = addr.family;
    if (port === 0) {
      const [lo, hi] = this.ephemeral;
      const span = hi - lo + 1;
      const start = randomInt(this.rng, 0, span - 1);
      for (let i = 0; i < span; i++) {
        const p = lo + ((start + i) % span);
        if (!this.conflicts(addr, p)) return this.insert(addr, p, family);
      }
      throw new NetError('EADDRINUSE', 'bind', addr, 0);
    }
    if (this.conflicts(addr, port)) throw new NetError('EADDRINUSE', 'bind', addr, port);
    return this.insert(addr, port, family);
  }

  /** Removes a socket from the table (called by `UdpSocket.close`). */
  unbind(s: UdpSocket): void {
    const key = s.localPort * 2 + (s.family === 6 ? 1 : 0);
    const list = this.table.get(key);
    if (list === undefined) return;
    const i = list.indexOf(s);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.table.delete(key);
  }

  /** The socket that receives datagrams for (addr, port): an exact bind first, then the wildcard. */
  lookup(family: 4 | 6, addr: IpAddr, port: number): UdpSocket | undefined {
    const list = this.table.get(port * 2 + (family === 6 ? 1 : 0));
    if (list === undefined) return undefined;
    let wildcard: UdpSocket | undefined;
    for (const s of list) {
      if (s.localAddress.isUnspecified) wildcard = s;
      else if (s.localAddress.equals(addr)) return s;
    }
    return wildcard;
  }

  /** Sends for a socket (see `UdpSocket.sendTo`). */
  send(s: UdpSocket, data: Uint8Array, addr: IpAddr, port: number, now: Instant): Result<number, NetError> {
    const family = s.family;
    const c = family === 4 ? this.ip.counters.udp : this.ip.counters.udp6;
    if (!s.isOpen) return err(new NetError('EINVAL', 'send', addr, port));
    if (addr.family !== family || !Number.isInteger(port) || port < 1 || port > 65535) return err(new NetError('EINVAL', 'send', addr, port));
    if (data.length > (family === 4 ? MAX_PAYLOAD4 : MAX_PAYLOAD6)) {
      c.SndbufErrors++;
      return err(new NetError('EMSGSIZE', 'send', addr, port));
    }
    const route = this.ip.route(addr, s.localAddress.isUnspecified ? undefined : s.localAddress);
    if (route === undefined) {
      (family === 4 ? this.ip.counters.ip : this.ip.counters.ip6).OutNoRoutes++;
      return err(new NetError('ENETUNREACH', 'send', addr, port));
    }
    const l4Length = UDP_HEADER_LEN + data.length;
    const frame = this.ip.allocFrame(route, l4Length);
    const off = this.ip.l4Offset(route);
    frame.set(data, off + UDP_HEADER_LEN);
    const out = frame.subarray(off);
    if (route.checksumOffload && family === 4) {
      // Offload on a clean in-process link: RFC 768's "no checksum" (0) over IPv4. IPv6 always
      // checksums: RFC 8200 §8.1 forbids a zero UDP checksum.
      setU16(out, 0, s.localPort);
      setU16(out, 2, port);
      setU16(out, 4, l4Length);
      setU16(out, 6, 0);
    } else {
      emitUdp({ srcPort: s.localPort, dstPort: port, payloadLen: data.length }, out, route.src, addr);
    }
    const e = this.ip.transmit(route, frame, IpProtocol.UDP, l4Length, now, { dontFragment: false });
    if (e !== undefined) {
      c.SndbufErrors++;
      return err(new NetError(e, 'send', addr, port));
    }
    c.OutDatagrams++;
    return ok(data.length);
  }

  /** A UDP datagram arrived (RFC 768; RFC 1122 §4.1.3.4: a bad checksum is discarded silently). */
  input(pkt: Readonly<PacketInfo>, payload: Uint8Array, now: Instant): void {
    const counters = this.ip.counters;
    const c = pkt.family === 4 ? counters.udp : counters.udp6;
    const r = parseUdp(payload, pkt.src, pkt.dst, !pkt.checksumOffload);
    if (!r.ok) {
      c.InErrors++;
      if (r.error === 'bad-checksum') c.InCsumErrors++;
      countDrop(counters, UDP_KEYS[r.error]);
      return;
    }
    const u = r.value;
    const s = this.lookup(pkt.family, pkt.dst, u.dstPort);
    if (s === undefined) {
      // RFC 1122 §4.1.3.1: "If a datagram arrives addressed to a UDP port for which there is no
      // pending LISTEN call, UDP SHOULD send an ICMP Port Unreachable message."
      c.NoPorts++;
      countDrop(counters, 'udp:no-port');
      this.ip.sendPortUnreachable(pkt, now);
      return;
    }
    if (!s.deliver({ data: u.payload, from: pkt.src, port: u.srcPort, to: pkt.dst, ifindex: pkt.ifindex })) {
      c.RcvbufErrors++;
      c.InErrors++;
      countDrop(counters, 'udp:rcvbuf-full');
      return;
    }
    c.InDatagrams++;
  }

  /** An ICMP error (or local failure) about a datagram we sent: reported to the sending socket (RFC 1122 §4.1.3.3: "UDP MUST pass to the application layer all ICMP error messages"). */
  icmpError(e: IcmpError, _now: Instant): void {
    if (e.quoted.length < 4) return;
    const srcPort = (e.quoted[0]! << 8) | e.quoted[1]!;
    const dstPort = (e.quoted[2]! << 8) | e.quoted[3]!;
    const s = this.lookup(e.family, e.src, srcPort);
    s?.onError?.(new NetError(icmpErrno(e), 'send', e.dst, dstPort));
  }

  private conflicts(addr: IpAddr, port: number): boolean {
    const list = this.table.get(port * 2 + (addr.family === 6 ? 1 : 0));
    if (list === undefined) return false;
    return list.some((s) => s.localAddress.isUnspecified || addr.isUnspecified || s.localAddress.equals(addr));
  }

  private insert(addr: IpAddr, port: number, family: 4 | 6): UdpSocket {
    const s = new UdpSocket(this, addr, port, this.rcvbuf);
    const key = port * 2 + (family === 6 ? 1 : 0);
    const list = this.table.get(key);
    if (list === undefined) this.table.set(key, [s]);
    else list.push(s);
    return s;
  }
}

/** Parses an address for `bind`/`sendTo` convenience: text or an IpAddr. */
export function toAddr(a: IpAddr | string): IpAddr {
  return typeof a === 'string' ? IpAddr.from(a) : a;
}
