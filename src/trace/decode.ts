// Decodes captured frames for tools (diagrams, the CLI): Ethernet or raw IP, then IPv4/IPv6 and
// TCP/UDP/ICMP/ARP, into a small summary. Never throws: undecodable frames get a reason.
import { parseEthernet, EtherType } from '../wire/ethernet.js';
import { parseIpv4 } from '../wire/ipv4.js';
import { parseIpv6 } from '../wire/ipv6.js';
import { parseTcp, type TcpRepr } from '../wire/tcp.js';
import { parseUdp } from '../wire/udp.js';
import { parseArp } from '../wire/arp.js';
import type { IpAddr } from '../wire/ip-addr.js';
import type { Medium } from '../link/link.js';

/** A decoded frame. */
export type Decoded =
  | { kind: 'tcp'; src: IpAddr; dst: IpAddr; seg: TcpRepr }
  | { kind: 'udp'; src: IpAddr; dst: IpAddr; srcPort: number; dstPort: number; length: number }
  | { kind: 'icmp'; src: IpAddr; dst: IpAddr; family: 4 | 6; type: number; code: number }
  | { kind: 'arp'; summary: string }
  | { kind: 'other'; summary: string };

/** Decodes one frame; `medium` says whether it starts with an Ethernet header. */
export function decodeFrame(frame: Uint8Array, medium: Medium): Decoded {
  let ipBytes = frame;
  if (medium === 'ethernet') {
    const eth = parseEthernet(frame);
    if (!eth.ok) return { kind: 'other', summary: `bad ethernet (${eth.error})` };
    if (eth.value.ethertype === EtherType.ARP) {
      const arp = parseArp(eth.value.payload);
      if (!arp.ok) return { kind: 'arp', summary: `bad ARP (${arp.error})` };
      const a = arp.value;
      return {
        kind: 'arp',
        summary: a.operation === 'request' ? `ARP who-has ${a.targetIp} tell ${a.senderIp}` : `ARP ${a.senderIp} is-at ${a.senderMac}`,
      };
    }
    if (eth.value.ethertype !== EtherType.IPv4 && eth.value.ethertype !== EtherType.IPv6) {
      return { kind: 'other', summary: `ethertype 0x${eth.value.ethertype.toString(16)}` };
    }
    ipBytes = eth.value.payload;
  }
  const version = (ipBytes[0] ?? 0) >>> 4;
  let src: IpAddr, dst: IpAddr, protocol: number, payload: Uint8Array;
  if (version === 4) {
    const ip = parseIpv4(ipBytes, false);
    if (!ip.ok) return { kind: 'other', summary: `bad IPv4 (${ip.error})` };
    ({ src, dst, protocol, payload } = ip.value);
  } else if (version === 6) {
    const ip = parseIpv6(ipBytes);
    if (!ip.ok) return { kind: 'other', summary: `bad IPv6 (${ip.error})` };
    ({ src, dst, protocol, payload } = ip.value);
  } else {
    return { kind: 'other', summary: `IP version ${version}` };
  }
  if (protocol === 6) {
    const tcp = parseTcp(payload, undefined);
    if (!tcp.ok) return { kind: 'other', summary: `bad TCP (${tcp.error})` };
    return { kind: 'tcp', src, dst, seg: tcp.value };
  }
  if (protocol === 17) {
    const udp = parseUdp(payload, src, dst, false);
    if (!udp.ok) return { kind: 'other', summary: `bad UDP (${udp.error})` };
    return { kind: 'udp', src, dst, srcPort: udp.value.srcPort, dstPort: udp.value.dstPort, length: udp.value.payload.length };
  }
  if (protocol === 1 || protocol === 58) {
    return { kind: 'icmp', src, dst, family: protocol === 1 ? 4 : 6, type: payload[0] ?? 0, code: payload[1] ?? 0 };
  }
  return { kind: 'other', summary: `IP protocol ${protocol}` };
}
