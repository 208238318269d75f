// The stack's counters, named as Linux's `netstat -s` / /proc/net/snmp and /proc/net/snmp6 name
// them where a name exists (RFC 4293 IP-MIB, RFC 4022/4113 for the UDP MIB), plus drops by
// reason. Each counter is a plain number field: incrementing one is a property write, never a
// string-keyed lookup built per packet. Read first: RFC 4293 §5 (what each ipSystemStats counts).

/** IP counters (RFC 4293 ipSystemStats, Linux `Ip:` / `Ip6`). */
export interface IpStats {
  /** Datagrams received from interfaces, including those in error. */
  InReceives: number;
  /** Discarded for header errors: bad version, lengths, checksum, extension headers. */
  InHdrErrors: number;
  /** Discarded because the destination was not ours (we do not forward) or the source was invalid. */
  InAddrErrors: number;
  /** Delivered datagrams whose protocol had no handler. */
  InUnknownProtos: number;
  /** Shorter than their headers or length fields say. */
  InTruncatedPkts: number;
  /** Header checksum errors (IPv4 only; also counted in InHdrErrors). */
  InCsumErrors: number;
  /** Delivered to a transport or ICMP. */
  InDelivers: number;
  /** Datagrams handed down by transports and ICMP for sending. */
  OutRequests: number;
  /** Not sent: too big with DF, or no interface. */
  OutDiscards: number;
  /** Not sent: no route. */
  OutNoRoutes: number;
  /** Fragments received that need reassembly. */
  ReasmReqds: number;
  /** Datagrams reassembled. */
  ReasmOKs: number;
  /** Datagrams whose reassembly failed (overlap, memory, timeout, bad lengths). */
  ReasmFails: number;
  /** Datagrams whose reassembly timed out (also counted in ReasmFails). */
  ReasmTimeout: number;
  /** Datagrams fragmented on output. */
  FragOKs: number;
  /** Datagrams that needed fragmenting but could not be (DF set). */
  FragFails: number;
  /** Fragments created on output. */
  FragCreates: number;
}

/** ICMP / ICMPv6 message counters (Linux `Icmp:` / `Icmp6`). */
export interface IcmpStats {
  InMsgs: number;
  InErrors: number;
  InCsumErrors: number;
  InDestUnreachs: number;
  InPktTooBigs: number;
  InTimeExcds: number;
  InParmProbs: number;
  InEchos: number;
  InEchoReps: number;
  InNeighborSolicits: number;
  InNeighborAdvertisements: number;
  InRouterAdvertisements: number;
  OutMsgs: number;
  OutErrors: number;
  /** Errors not sent because of the rate limit (Linux `OutRateLimitHost`). */
  OutRateLimitHost: number;
  OutDestUnreachs: number;
  OutTimeExcds: number;
  OutParmProbs: number;
  OutEchos: number;
  OutEchoReps: number;
  OutNeighborSolicits: number;
  OutNeighborAdvertisements: number;
}

/** UDP counters (Linux `Udp:` / `Udp6`). */
export interface UdpStats {
  InDatagrams: number;
  /** Datagrams to a port nobody is bound to. */
  NoPorts: number;
  /** Datagrams with errors (length, checksum). */
  InErrors: number;
  /** Dropped because a socket's receive queue was full. */
  RcvbufErrors: number;
  InCsumErrors: number;
  OutDatagrams: number;
  /** Not sent: message too big, no route. */
  SndbufErrors: number;
}

/** ARP counters (no netstat names exist; these follow RFC 826's operation names). */
export interface ArpStats {
  InRequests: number;
  InReplies: number;
  OutRequests: number;
  OutReplies: number;
}

/** Neighbour-cache counters, as Linux's /proc/net/stat/arp_cache and ndisc_cache name them. */
export interface NeighStats {
  /** Resolutions that failed after all solicitations. */
  res_failed: number;
  /** Frames dropped while waiting for resolution (queue overflow or failure). */
  unresolved_discards: number;
}

/** Every counter of the IP layer and UDP; the Stack exposes it as `stack.counters`. */
export interface IpCounters {
  ip: IpStats;
  ip6: IpStats;
  icmp: IcmpStats;
  icmp6: IcmpStats;
  udp: UdpStats;
  udp6: UdpStats;
  arp: ArpStats;
  neigh: NeighStats;
  /** Drops by reason, `layer:reason`, e.g. `ipv4:bad-checksum`, `eth:not-for-us`, `frag:overlap`. Other layers (TCP) add their own. */
  drops: Record<string, number>;
}

const ipStats = (): IpStats => ({
  InReceives: 0, InHdrErrors: 0, InAddrErrors: 0, InUnknownProtos: 0, InTruncatedPkts: 0, InCsumErrors: 0, InDelivers: 0,
  OutRequests: 0, OutDiscards: 0, OutNoRoutes: 0, ReasmReqds: 0, ReasmOKs: 0, ReasmFails: 0, ReasmTimeout: 0,
  FragOKs: 0, FragFails: 0, FragCreates: 0,
});
const icmpStats = (): IcmpStats => ({
  InMsgs: 0, InErrors: 0, InCsumErrors: 0, InDestUnreachs: 0, InPktTooBigs: 0, InTimeExcds: 0, InParmProbs: 0, InEchos: 0,
  InEchoReps: 0, InNeighborSolicits: 0, InNeighborAdvertisements: 0, InRouterAdvertisements: 0, OutMsgs: 0, OutErrors: 0,
  OutRateLimitHost: 0, OutDestUnreachs: 0, OutTimeExcds: 0, OutParmProbs: 0, OutEchos: 0, OutEchoReps: 0,
  OutNeighborSolicits: 0, OutNeighborAdvertisements: 0,
});
const udpStats = (): UdpStats => ({ InDatagrams: 0, NoPorts: 0, InErrors: 0, RcvbufErrors: 0, InCsumErrors: 0, OutDatagrams: 0, SndbufErrors: 0 });

/** A fresh set of zeroed counters. */
export function newIpCounters(): IpCounters {
  return {
    ip: ipStats(),
    ip6: ipStats(),
    icmp: icmpStats(),
    icmp6: icmpStats(),
    udp: udpStats(),
    udp6: udpStats(),
    arp: { InRequests: 0, InReplies: 0, OutRequests: 0, OutReplies: 0 },
    neigh: { res_failed: 0, unresolved_discards: 0 },
    drops: {},
  };
}

/** Counts one drop for `reason`. */
export function countDrop(c: IpCounters, reason: string): void {
  c.drops[reason] = (c.drops[reason] ?? 0) + 1;
}
