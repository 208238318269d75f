// ARP for IPv4 over Ethernet: requests for the neighbour cache, replies for our addresses, and
// learning from what we hear. Read first: RFC 826 ("Packet Reception"), RFC 1122 §2.3.2,
// RFC 5227 §2.1.1 (probes with sender 0.0.0.0).
import { emitArp, parseArp, ARP_LEN } from '../wire/arp.js';
import { EtherType, ETHERNET_HEADER_LEN, MacAddr } from '../wire/ethernet.js';
import type { IpAddr } from '../wire/ip-addr.js';
import { setU16 } from '../wire/net-order.js';
import type { Instant } from '../time/instant.js';
import type { Interface } from './interface.js';
import type { IpLayer } from './ip.js';
import { selectSource } from './route.js';
import { countDrop } from './counters.js';
import { dropKeys } from './drop-keys.js';

const ARP_KEYS = dropKeys('arp');

/** ARP request/reply handling for one stack. */
export class Arp {
  constructor(private readonly ip: IpLayer) {}

  /** Sends a request for `target`: broadcast, or unicast to `unicast` when re-confirming a known neighbour. */
  solicit(ifc: Interface, target: IpAddr, unicast: MacAddr | undefined, now: Instant): void {
    const mac = ifc.mac;
    const src = selectSource(target, ifc.ipv4);
    if (mac === undefined || src === undefined) return; // nothing to ask with: the entry fails after its tries
    const frame = new Uint8Array(ETHERNET_HEADER_LEN + ARP_LEN);
    (unicast ?? MacAddr.BROADCAST).write(frame, 0);
    mac.write(frame, 6);
    setU16(frame, 12, EtherType.ARP);
    emitArp({ operation: 'request', senderMac: mac, senderIp: src, targetMac: MacAddr.ZERO, targetIp: target }, frame.subarray(ETHERNET_HEADER_LEN));
    this.ip.counters.arp.OutRequests++;
    this.ip.sendFrame(ifc, frame, now);
  }

  /** An ARP packet arrived on `ifc` (the Ethernet payload). */
  input(ifc: Interface, payload: Uint8Array, now: Instant): void {
    const counters = this.ip.counters;
    const mac = ifc.mac;
    if (mac === undefined) return;
    const r = parseArp(payload);
    if (!r.ok) {
      countDrop(counters, ARP_KEYS[r.error]);
      return;
    }
    const a = r.value;
    if (a.operation === 'request') counters.arp.InRequests++;
    else counters.arp.InReplies++;
    if (a.senderMac.equals(mac)) {
      countDrop(counters, 'arp:own-frame');
      return;
    }
    if (a.senderMac.isMulticast || a.senderIp.isMulticastOrBroadcast) {
      countDrop(counters, 'arp:bad-sender');
      return;
    }
    if (ifc.hasAddress(a.senderIp)) {
      // Someone else claims our address (RFC 5227 §2.4); we keep ours and do not learn it.
      countDrop(counters, 'arp:address-conflict');
      return;
    }
    // Deviation: we answer only for addresses of the receiving interface, like Linux with
    // arp_ignore=1 (its default, 0, answers for any local address).
    const forUs = ifc.hasAddress(a.targetIp);
    // RFC 826: "If the pair <protocol type, sender protocol address> is already in my
    // translation table, update the sender hardware address field ... Am I the target protocol
    // address? ... If Merge_flag is false, add the triplet". A probe (sender 0.0.0.0, RFC 5227)
    // teaches nothing.
    if (!a.senderIp.isUnspecified) {
      this.ip.neighbors.learn(ifc.ifindex, a.senderIp, a.senderMac, {
        create: forUs,
        solicited: a.operation === 'reply' && forUs,
        override: true,
      }, now);
    }
    if (a.operation !== 'request' || !forUs) return;
    // RFC 826: "Swap hardware and protocol fields, putting the local hardware and protocol
    // addresses in the sender fields. Set the ar$op field to ares_op$REPLY. Send the packet to
    // the (new) target hardware address on the same hardware on which the request was received."
    const frame = new Uint8Array(ETHERNET_HEADER_LEN + ARP_LEN);
    a.senderMac.write(frame, 0);
    mac.write(frame, 6);
    setU16(frame, 12, EtherType.ARP);
    emitArp({ operation: 'reply', senderMac: mac, senderIp: a.targetIp, targetMac: a.senderMac, targetIp: a.senderIp }, frame.subarray(ETHERNET_HEADER_LEN));
    counters.arp.OutReplies++;
    this.ip.sendFrame(ifc, frame, now);
  }
}
