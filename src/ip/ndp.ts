// IPv6 Neighbor Discovery, address resolution only: Neighbor Solicitations for the neighbour
// cache, Neighbor Advertisements for our addresses, learning from both. Read first: RFC 4861
// §7.1 (validation), §7.2.2-7.2.5 (sending and receiving NS/NA), §4.3-4.4 (formats).
// Deviation: no Duplicate Address Detection (RFC 4862 §5.4): addresses are usable at once, as
// with optimistic DAD (RFC 4429); no router discovery, redirects or SLAAC either.
import { emitIcmpv6, icmpv6Length, type Icmpv6Repr, NDP_HOP_LIMIT, type NdpNeighborAdvertisement, type NdpNeighborSolicitation } from '../wire/icmpv6.js';
import { EtherType, ETHERNET_HEADER_LEN, MacAddr } from '../wire/ethernet.js';
import { emitIpv6, IPV6_HEADER_LEN } from '../wire/ipv6.js';
import { IpProtocol } from '../wire/ipv4.js';
import type { IpAddr } from '../wire/ip-addr.js';
import { setU16 } from '../wire/net-order.js';
import type { Instant } from '../time/instant.js';
import { ALL_NODES, type Interface, solicitedNode } from './interface.js';
import type { IpLayer } from './ip.js';
import { selectSource } from './route.js';
import { countDrop } from './counters.js';

/** Neighbor Solicitation / Advertisement handling for one stack. */
export class Ndp {
  constructor(private readonly ip: IpLayer) {}

  /**
   * Sends a Neighbor Solicitation for `target`: to its solicited-node group, or unicast to
   * `unicast` when probing a STALE entry (RFC 4861 §7.2.2), always with our link-layer address.
   */
  solicit(ifc: Interface, target: IpAddr, unicast: MacAddr | undefined, now: Instant): void {
    const mac = ifc.mac;
    // RFC 4861 §7.2.2: the source is one of "the addresses assigned to the interface".
    const src = selectSource(target, ifc.ipv6);
    if (mac === undefined || src === undefined) return;
    const dst = unicast === undefined ? solicitedNode(target) : target;
    const c = this.ip.counters.icmp6;
    c.OutMsgs++;
    c.OutNeighborSolicits++;
    this.send(ifc, src, dst, unicast ?? MacAddr.ipv6Multicast(dst), { type: 'neighbor-solicitation', target, sourceLinkAddr: mac }, now);
  }

  /** A Neighbor Solicitation arrived (already checksum- and format-validated by the parser). */
  inputSolicitation(ifc: Interface, src: IpAddr, _dst: IpAddr, hopLimit: number, m: NdpNeighborSolicitation, now: Instant): void {
    const counters = this.ip.counters;
    const mac = ifc.mac;
    if (mac === undefined) return;
    // RFC 4861 §7.1.1: "The IP Hop Limit field has a value of 255, i.e., the packet could not
    // possibly have been forwarded by a router."
    if (hopLimit !== NDP_HOP_LIMIT) {
      countDrop(counters, 'ndp:bad-hop-limit');
      return;
    }
    // RFC 4861 §7.2.3: "If the Target Address is not a valid 'individual' address of the
    // receiving interface ... the solicitation is silently discarded."
    if (!ifc.hasAddress(m.target)) {
      countDrop(counters, 'ndp:not-our-target');
      return;
    }
    // §7.2.3: "If the Source Address is not the unspecified address and, on link layers that
    // have addresses, the solicitation includes a Source Link-Layer Address option, then the
    // recipient SHOULD create or update the Neighbor Cache entry".
    if (!src.isUnspecified && m.sourceLinkAddr !== undefined) {
      this.ip.neighbors.learn(ifc.ifindex, src, m.sourceLinkAddr, { create: true, solicited: false, override: true }, now);
    }
    // §7.2.4: "If the source of the solicitation is the unspecified address, the node MUST set
    // the Solicited flag to zero and multicast the advertisement to the all-nodes address.
    // Otherwise, the node MUST set the Solicited flag to one and unicast the advertisement to
    // the Source Address of the solicitation." The Override flag is set: the target is not an
    // anycast address. The Target Link-Layer Address option is always included.
    const dad = src.isUnspecified;
    const dst = dad ? ALL_NODES : src;
    const dstMac = dad ? MacAddr.ipv6Multicast(ALL_NODES) : m.sourceLinkAddr ?? this.ip.neighbors.lookup(ifc.ifindex, src, now)?.mac;
    const c = counters.icmp6;
    c.OutMsgs++;
    c.OutNeighborAdvertisements++;
    this.send(ifc, m.target, dst, dstMac, {
      type: 'neighbor-advertisement', router: false, solicited: !dad, override: true, target: m.target, targetLinkAddr: mac,
    }, now);
  }

  /** A Neighbor Advertisement arrived. */
  inputAdvertisement(ifc: Interface, _src: IpAddr, _dst: IpAddr, hopLimit: number, m: NdpNeighborAdvertisement, now: Instant): void {
    const counters = this.ip.counters;
    if (ifc.mac === undefined) return;
    if (hopLimit !== NDP_HOP_LIMIT) {
      countDrop(counters, 'ndp:bad-hop-limit');
      return;
    }
    if (ifc.hasAddress(m.target)) {
      // Another node advertises our address: a duplicate (RFC 4862 §5.4.4); keep ours.
      countDrop(counters, 'ndp:address-conflict');
      return;
    }
    // RFC 4861 §7.2.5: S and O decide how the entry changes; an NA for an address with no entry
    // is discarded by the cache.
    this.ip.neighbors.learn(ifc.ifindex, m.target, m.targetLinkAddr, { create: false, solicited: m.solicited, override: m.override }, now);
  }

  /** Builds an NDP packet with Hop Limit 255 and sends it: to `dstMac` when known, else through neighbour resolution. */
  private send(ifc: Interface, src: IpAddr, dst: IpAddr, dstMac: MacAddr | undefined, repr: Icmpv6Repr, now: Instant): void {
    const len = icmpv6Length(repr);
    const frame = new Uint8Array(ETHERNET_HEADER_LEN + IPV6_HEADER_LEN + len);
    emitIcmpv6(repr, frame.subarray(ETHERNET_HEADER_LEN + IPV6_HEADER_LEN), src, dst);
    emitIpv6({ src, dst, nextHeader: IpProtocol.ICMPv6, hopLimit: NDP_HOP_LIMIT, dscp: 0, ecn: 0, flowLabel: 0, payloadLen: len }, frame.subarray(ETHERNET_HEADER_LEN));
    this.ip.counters.ip6.OutRequests++;
    if (dstMac === undefined) {
      this.ip.output(ifc, dst, frame, 6, now);
      return;
    }
    dstMac.write(frame, 0);
    ifc.mac!.write(frame, 6);
    setU16(frame, 12, EtherType.IPv6);
    this.ip.sendFrame(ifc, frame, now);
  }
}
