// Packets between the script and the stack: inbound TCP segments and ICMP errors built as whole
// IPv4/IPv6 datagrams (IP headers by src/wire's emitters; the TCP header written here so the
// options keep exactly the order and bytes the script wrote, which a TcpRepr cannot express),
// outbound datagrams parsed back with their raw option list, and packetdrill-style text for both
// (`S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 7>`). Read first: RFC 9293 §3.1 (header,
// checksum), RFC 792 and RFC 4443 §3.1-3.2 (the errors we inject).
import { IpAddr } from '../wire/ip-addr.js';
import { emitIpv4, parseIpv4, IPV4_HEADER_LEN } from '../wire/ipv4.js';
import { emitIpv6, parseIpv6, IPV6_HEADER_LEN } from '../wire/ipv6.js';
import { emitIcmpv4 } from '../wire/icmpv4.js';
import { emitIcmpv6 } from '../wire/icmpv6.js';
import { finish, onesSum, pseudoHeaderSum } from '../wire/checksum.js';
import { getU16, getU32, setU16, setU32 } from '../wire/net-order.js';
import { TcpFlag } from '../wire/tcp.js';
import type { TcpOptionSpec } from './ast.js';

/** One option as it sits on the wire: kind, and the bytes after kind and length (none for NOP/EOL). */
export interface RawOption {
  readonly kind: number;
  /** The option's total length on the wire (1 for NOP and EOL). */
  readonly length: number;
  readonly data: Uint8Array;
}

/** A TCP segment as values, in whichever sequence space (live or script) the caller says. */
export interface TcpFields {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** TcpFlag bits. */
  flags: number;
  window: number;
  urg: number;
  /** Options in wire order. */
  options: RawOption[];
  payloadLen: number;
}

/** A datagram the stack sent, parsed. */
export interface LivePacket {
  readonly at: number;
  readonly family: 4 | 6;
  readonly src: IpAddr;
  readonly dst: IpAddr;
  readonly protocol: number;
  /** TCP fields (live sequence space), when the datagram is TCP. */
  readonly tcp: TcpFields | undefined;
  /** The TCP header length in bytes. */
  readonly tcpHeaderLen: number;
  /** What is wrong with the datagram's checksums, if anything. */
  readonly checksumError: string | undefined;
}

const KIND = { EOL: 0, NOP: 1, MSS: 2, WSCALE: 3, SACK_OK: 4, SACK: 5, TS: 8, FO: 34, EXP: 254 } as const;
const TFO_MAGIC = 0xf989;

/** Encodes script options in the order written. `mapSack`/`mapEcr` turn script values into live ones. */
export function encodeOptions(options: readonly TcpOptionSpec[]): RawOption[] {
  return options.map((o): RawOption => {
    switch (o.kind) {
      case 'nop':
        return { kind: KIND.NOP, length: 1, data: new Uint8Array(0) };
      case 'eol':
        return { kind: KIND.EOL, length: 1, data: new Uint8Array(0) };
      case 'mss': {
        const d = new Uint8Array(2);
        setU16(d, 0, o.value);
        return { kind: KIND.MSS, length: 4, data: d };
      }
      case 'wscale':
        return { kind: KIND.WSCALE, length: 3, data: Uint8Array.of(o.value) };
      case 'sackOK':
        return { kind: KIND.SACK_OK, length: 2, data: new Uint8Array(0) };
      case 'sack': {
        const d = new Uint8Array(8 * o.blocks.length);
        o.blocks.forEach(([l, r], i) => {
          setU32(d, 8 * i, l);
          setU32(d, 8 * i + 4, r);
        });
        return { kind: KIND.SACK, length: 2 + d.length, data: d };
      }
      case 'ts': {
        const d = new Uint8Array(8);
        setU32(d, 0, o.val);
        setU32(d, 4, o.ecr);
        return { kind: KIND.TS, length: 10, data: d };
      }
      case 'fo': {
        if (!o.experimental) return { kind: KIND.FO, length: 2 + o.cookie.length, data: o.cookie.slice() };
        const d = new Uint8Array(2 + o.cookie.length);
        setU16(d, 0, TFO_MAGIC);
        d.set(o.cookie, 2);
        return { kind: KIND.EXP, length: 2 + d.length, data: d };
      }
    }
  });
}

/** The SACK blocks of an option list, as [left, right] pairs. */
export function sackBlocksOf(o: RawOption): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i + 8 <= o.data.length; i += 8) out.push([getU32(o.data, i), getU32(o.data, i + 4)]);
  return out;
}

/** A copy of `o` with each SACK edge passed through `f` (sequence-space mapping). */
export function mapSackOption(o: RawOption, f: (n: number) => number): RawOption {
  const d = o.data.slice();
  for (let i = 0; i + 4 <= d.length; i += 4) setU32(d, i, f(getU32(d, i)) >>> 0);
  return { kind: o.kind, length: o.length, data: d };
}

/** TS val and ecr of a timestamps option. */
export function timestampOf(o: RawOption): { val: number; ecr: number } {
  return { val: getU32(o.data, 0), ecr: getU32(o.data, 4) };
}

/** A timestamps option with new values. */
export function withTimestamp(val: number, ecr: number): RawOption {
  const d = new Uint8Array(8);
  setU32(d, 0, val >>> 0);
  setU32(d, 4, ecr >>> 0);
  return { kind: KIND.TS, length: 10, data: d };
}

/** Option kind numbers this module names. */
export const OptionKind = KIND;

function optionBytes(options: readonly RawOption[]): number {
  let n = 0;
  for (const o of options) n += o.length;
  return n;
}

/** Addresses and IP details for building a datagram. */
export interface IpEnds {
  readonly src: IpAddr;
  readonly dst: IpAddr;
}

/** Builds an IPv4 or IPv6 datagram carrying the TCP segment `f` (payload zeros), checksums filled. */
export function buildTcpDatagram(ends: IpEnds, f: TcpFields): Uint8Array {
  const family = ends.src.family;
  const ipLen = family === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
  const optLen = optionBytes(f.options);
  const hlen = 20 + optLen;
  const l4Len = hlen + f.payloadLen;
  const frame = new Uint8Array(ipLen + l4Len);
  const tcp = frame.subarray(ipLen);
  setU16(tcp, 0, f.srcPort);
  setU16(tcp, 2, f.dstPort);
  setU32(tcp, 4, f.seq >>> 0);
  setU32(tcp, 8, f.ack >>> 0);
  tcp[12] = (hlen >>> 2) << 4;
  tcp[13] = f.flags & 0xff;
  setU16(tcp, 14, f.window);
  setU16(tcp, 18, f.urg);
  let off = 20;
  for (const o of f.options) {
    tcp[off] = o.kind;
    if (o.length > 1) {
      tcp[off + 1] = o.length;
      tcp.set(o.data, off + 2);
    }
    off += o.length;
  }
  setU16(tcp, 16, finish(onesSum(tcp, pseudoHeaderSum(ends.src, ends.dst, 6, l4Len))));
  writeIpHeader(frame, ends, 6, l4Len);
  return frame;
}

function writeIpHeader(frame: Uint8Array, ends: IpEnds, protocol: number, payloadLen: number): void {
  if (ends.src.family === 4) {
    emitIpv4({
      src: ends.src, dst: ends.dst, protocol, ttl: 64, dscp: 0, ecn: 0, identification: 0,
      dontFragment: true, moreFragments: false, fragmentOffset: 0, payloadLen,
    }, frame);
  } else {
    emitIpv6({ src: ends.src, dst: ends.dst, nextHeader: protocol, hopLimit: 64, dscp: 0, ecn: 0, flowLabel: 0, payloadLen }, frame);
  }
}

/**
 * An ICMP error from the peer quoting one of our segments, as packetdrill builds it
 * (icmp_packet.c): the quoted IP header of our datagram (total length counting a 20-byte TCP
 * header and `payloadLen`), the first 8 bytes of the TCP header (ports and sequence number), then
 * `payloadLen` zero bytes.
 */
export function buildIcmpDatagram(ends: IpEnds, type: number, code: number, mtu: number, quotedEnds: IpEnds, quoted: { srcPort: number; dstPort: number; seq: number; payloadLen: number }): Uint8Array {
  const family = ends.src.family;
  const ipLen = family === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
  const q = new Uint8Array(ipLen + 8 + quoted.payloadLen);
  writeIpHeader(q, quotedEnds, 6, 20 + quoted.payloadLen);
  setU16(q, ipLen, quoted.srcPort);
  setU16(q, ipLen + 2, quoted.dstPort);
  setU32(q, ipLen + 4, quoted.seq >>> 0);
  const icmpLen = 8 + q.length;
  const frame = new Uint8Array(ipLen + icmpLen);
  const icmp = frame.subarray(ipLen);
  if (family === 4) {
    if (type === 3) {
      emitIcmpv4({ type: 'destination-unreachable', code, nextHopMtu: mtu < 0 ? 0 : mtu, quoted: q }, icmp);
    } else if (type === 11) {
      emitIcmpv4({ type: 'time-exceeded', code, quoted: q }, icmp);
    } else {
      emitIcmpv4({ type: 'parameter-problem', code, pointer: 0, quoted: q }, icmp);
    }
    writeIpHeader(frame, ends, 1, icmpLen);
  } else {
    if (type === 1) emitIcmpv6({ type: 'destination-unreachable', code, quoted: q }, icmp, ends.src, ends.dst);
    else if (type === 2) emitIcmpv6({ type: 'packet-too-big', mtu: mtu < 0 ? 0 : mtu, quoted: q }, icmp, ends.src, ends.dst);
    else if (type === 3) emitIcmpv6({ type: 'time-exceeded', code, quoted: q }, icmp, ends.src, ends.dst);
    else emitIcmpv6({ type: 'parameter-problem', code, pointer: 0, quoted: q }, icmp, ends.src, ends.dst);
    writeIpHeader(frame, ends, 58, icmpLen);
  }
  return frame;
}

/** Parses a datagram the stack sent (an 'ip'-medium frame); undefined if it is not IP at all. */
export function parseLive(frame: Uint8Array, at: number): LivePacket | undefined {
  const version = frame.length > 0 ? frame[0]! >>> 4 : 0;
  let family: 4 | 6;
  let src: IpAddr;
  let dst: IpAddr;
  let protocol: number;
  let l4: Uint8Array;
  let checksumError: string | undefined;
  if (version === 4) {
    const p = parseIpv4(frame, false);
    if (!p.ok) return undefined;
    const checked = parseIpv4(frame, true);
    if (!checked.ok) checksumError = 'bad outbound IP checksum';
    family = 4;
    ({ src, dst, protocol } = p.value);
    l4 = p.value.payload;
  } else if (version === 6) {
    const p = parseIpv6(frame);
    if (!p.ok) return undefined;
    family = 6;
    ({ src, dst, protocol } = p.value);
    l4 = p.value.payload;
  } else {
    return undefined;
  }
  if (protocol !== 6 || l4.length < 20) return { at, family, src, dst, protocol, tcp: undefined, tcpHeaderLen: 0, checksumError };
  const hlen = (l4[12]! >>> 4) * 4;
  if (hlen < 20 || hlen > l4.length) return { at, family, src, dst, protocol, tcp: undefined, tcpHeaderLen: 0, checksumError: 'bad TCP data offset' };
  if (checksumError === undefined && finish(onesSum(l4, pseudoHeaderSum(src, dst, 6, l4.length))) !== 0) checksumError = 'bad outbound TCP checksum';
  const options: RawOption[] = [];
  let i = 20;
  while (i < hlen) {
    const kind = l4[i]!;
    if (kind === KIND.EOL || kind === KIND.NOP) {
      options.push({ kind, length: 1, data: new Uint8Array(0) });
      i++;
      if (kind === KIND.EOL) break;
      continue;
    }
    const len = i + 1 < hlen ? l4[i + 1]! : 0;
    if (len < 2 || i + len > hlen) {
      checksumError ??= 'malformed outbound TCP options';
      break;
    }
    options.push({ kind, length: len, data: l4.slice(i + 2, i + len) });
    i += len;
  }
  const tcp: TcpFields = {
    srcPort: getU16(l4, 0), dstPort: getU16(l4, 2), seq: getU32(l4, 4), ack: getU32(l4, 8),
    flags: l4[13]!, window: getU16(l4, 14), urg: getU16(l4, 18), options, payloadLen: l4.length - hlen,
  };
  return { at, family, src, dst, protocol, tcp, tcpHeaderLen: hlen, checksumError };
}

/** Flags the way packetdrill prints them: `FSRP.UEW` order (`S.`, `FP.`, `R`, `-` for none). */
export function flagsText(flags: number): string {
  let s = '';
  if (flags & TcpFlag.FIN) s += 'F';
  if (flags & TcpFlag.SYN) s += 'S';
  if (flags & TcpFlag.RST) s += 'R';
  if (flags & TcpFlag.PSH) s += 'P';
  if (flags & TcpFlag.ACK) s += '.';
  if (flags & TcpFlag.URG) s += 'U';
  if (flags & TcpFlag.ECE) s += 'E';
  if (flags & TcpFlag.CWR) s += 'W';
  return s === '' ? '-' : s;
}

/** The TcpFlag bits a script's flag characters stand for. */
export function flagBits(chars: string): number {
  let f = 0;
  for (const c of chars) {
    switch (c) {
      case 'F': f |= TcpFlag.FIN; break;
      case 'S': f |= TcpFlag.SYN; break;
      case 'R': f |= TcpFlag.RST; break;
      case 'P': f |= TcpFlag.PSH; break;
      case '.': f |= TcpFlag.ACK; break;
      case 'U': f |= TcpFlag.URG; break;
      case 'E': f |= TcpFlag.ECE; break;
      case 'W': f |= TcpFlag.CWR; break;
      default: break;
    }
  }
  return f;
}

/** One option as packetdrill prints it. */
export function optionText(o: RawOption): string {
  switch (o.kind) {
    case KIND.EOL: return 'eol';
    case KIND.NOP: return 'nop';
    case KIND.MSS: return o.data.length === 2 ? `mss ${getU16(o.data, 0)}` : `mss(len ${o.length})`;
    case KIND.WSCALE: return o.data.length === 1 ? `wscale ${o.data[0]!}` : `wscale(len ${o.length})`;
    case KIND.SACK_OK: return 'sackOK';
    case KIND.SACK: return `sack ${sackBlocksOf(o).map(([l, r]) => `${l}:${r}`).join(' ')}`;
    case KIND.TS: {
      if (o.data.length !== 8) return `TS(len ${o.length})`;
      const t = timestampOf(o);
      return `TS val ${t.val} ecr ${t.ecr}`;
    }
    case KIND.FO: return o.data.length === 0 ? 'FO' : `FO ${hex(o.data)}`;
    case KIND.EXP:
      if (o.data.length >= 2 && getU16(o.data, 0) === TFO_MAGIC) return o.data.length === 2 ? 'FOEXP' : `FOEXP ${hex(o.data.subarray(2))}`;
      return `kind ${o.kind} len ${o.length}`;
    default: return `kind ${o.kind} len ${o.length}`;
  }
}

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/**
 * A segment as packetdrill's packet_to_string prints it: flags, `start:end(len)`, `ack N` when the
 * ACK bit is set, `win N` (omitted when `showWin` is false), `urg N` when non-zero, and the options
 * (`<...>` when `options` is undefined).
 */
export function tcpText(f: TcpFields, showWin = true, optionsChecked = true): string {
  let s = `${flagsText(f.flags)} ${f.seq >>> 0}:${(f.seq + f.payloadLen) >>> 0}(${f.payloadLen})`;
  if (f.flags & TcpFlag.ACK) s += ` ack ${f.ack >>> 0}`;
  if (showWin) s += ` win ${f.window}`;
  if (f.urg !== 0) s += ` urg ${f.urg}`;
  if (!optionsChecked) s += ' <...>';
  else if (f.options.length > 0) s += ` <${f.options.map(optionText).join(',')}>`;
  return s;
}

/** Seconds with microseconds, as packetdrill prints times (`0.100000`). */
export function secs(us: number): string {
  return (us / 1e6).toFixed(6);
}

/** An IPv6/IPv4 address from text, throwing a message that names it. */
export function addr(text: string): IpAddr {
  const a = IpAddr.parse(text);
  if (!a.ok) throw new TypeError(`bad IP address ${JSON.stringify(text)}`);
  return a.value;
}
