// Text sequence diagrams of real executions: one column per host, one row per frame in time
// order with an arrow in its direction of travel (an X where it was lost), flags in the
// seed's notation (SYN, SYN+ACK, ACK, FIN, RST, data length), relative seq/ack by default,
// options on SYN rows, and each side's TCP state printed where it changes.
import type { Instant } from '../time/instant.js';
import type { Medium } from '../link/link.js';
import { TcpFlag, flagsToString, type TcpRepr } from '../wire/tcp.js';
import { decodeFrame } from './decode.js';

/** One frame on the wire between two hosts. */
export interface WireRecord {
  sentAt: Instant;
  from: string;
  to: string;
  frame: Uint8Array;
  medium: Medium;
  /** Why it never arrived (undefined: delivered). */
  lost?: string | undefined;
}

/** A TCP state change of one host. */
export interface StateRecord {
  at: Instant;
  host: string;
  state: string;
}

/** Colouring hooks (identity by default: plain text). */
export interface DiagramStyle {
  time(s: string): string;
  arrow(s: string): string;
  lost(s: string): string;
  state(s: string): string;
  host(s: string): string;
}

/** Rendering options. */
export interface DiagramOptions {
  /** Column order; hosts not listed are appended in order of appearance. */
  hosts?: string[];
  /** Absolute sequence numbers instead of relative ones. */
  absolute?: boolean;
  /** Show ARP/NDP and other non-TCP frames (default: only TCP, UDP and ICMP). */
  showAll?: boolean;
  /** Minimum distance between neighbouring host columns. */
  minGap?: number;
  style?: Partial<DiagramStyle>;
}

const PLAIN: DiagramStyle = { time: (s) => s, arrow: (s) => s, lost: (s) => s, state: (s) => s, host: (s) => s };

/** Formats TCP options of a SYN row: `<mss 1460,sackOK,TS,wscale 7>`. */
export function formatSynOptions(seg: TcpRepr): string {
  const o = seg.options;
  const parts: string[] = [];
  if (o.mss !== undefined) parts.push(`mss ${o.mss}`);
  if (o.sackPermitted) parts.push('sackOK');
  if (o.timestamp !== undefined) parts.push('TS');
  if (o.wscale !== undefined) parts.push(`wscale ${o.wscale}`);
  if (o.fastOpen !== undefined) parts.push(o.fastOpen.length === 0 ? 'FO' : `FO ${o.fastOpen.length}B`);
  return parts.length > 0 ? ` <${parts.join(',')}>` : '';
}

/** Relative sequence numbering per direction, as Wireshark and packetdrill show them. */
class SeqMap {
  private readonly base = new Map<string, number>();
  constructor(private readonly absolute: boolean) {}
  learn(flow: string, seq: number, syn: boolean): void {
    if (syn || !this.base.has(flow)) {
      if (!this.base.has(flow) || syn) this.base.set(flow, seq);
    }
  }
  rel(flow: string, n: number): number {
    if (this.absolute) return n;
    const b = this.base.get(flow);
    return b === undefined ? n : (n - b) >>> 0;
  }
}

/** Renders the diagram as text lines (no trailing newline). */
export function renderDiagram(wire: readonly WireRecord[], states: readonly StateRecord[], opts: DiagramOptions = {}): string {
  const style: DiagramStyle = { ...PLAIN, ...opts.style };
  const hosts = [...(opts.hosts ?? [])];
  const see = (h: string): void => {
    if (!hosts.includes(h)) hosts.push(h);
  };
  for (const w of wire) { see(w.from); see(w.to); }
  for (const s of states) see(s.host);

  // Build rows: frames and state changes merged by time (state changes at the same instant as
  // a frame come first when the host is the sender: it changed state by sending).
  type Row = { at: number; order: number; kind: 'frame'; from: number; to: number; label: string; lost: string | undefined } |
    { at: number; order: number; kind: 'state'; host: number; state: string };
  const rows: Row[] = [];
  const seqs = new SeqMap(opts.absolute === true);
  let order = 0;
  for (const s of states) rows.push({ at: s.at, order: order++, kind: 'state', host: hosts.indexOf(s.host), state: s.state });
  for (const w of wire) {
    const d = decodeFrame(w.frame, w.medium);
    let label: string;
    if (d.kind === 'tcp') {
      const seg = d.seg;
      const fwd = `${d.src}:${seg.srcPort}>${d.dst}:${seg.dstPort}`;
      const rev = `${d.dst}:${seg.dstPort}>${d.src}:${seg.srcPort}`;
      const syn = (seg.flags & TcpFlag.SYN) !== 0;
      seqs.learn(fwd, seg.seq, syn);
      label = flagsToString(seg.flags);
      label += ` seq=${seqs.rel(fwd, seg.seq)}`;
      if (seg.flags & TcpFlag.ACK) label += ` ack=${seqs.rel(rev, seg.ack)}`;
      if (seg.payload.length > 0) label += ` len=${seg.payload.length}`;
      if (syn || seg.window === 0) label += ` win=${seg.window}`;
      if (syn) label += formatSynOptions(seg);
    } else if (d.kind === 'udp') {
      label = `UDP ${d.srcPort} > ${d.dstPort} len=${d.length}`;
    } else if (d.kind === 'icmp') {
      label = `ICMPv${d.family === 4 ? '4' : '6'} type=${d.type} code=${d.code}`;
      if (!opts.showAll && d.family === 6 && d.type >= 133 && d.type <= 137) continue; // NDP
    } else {
      if (!opts.showAll) continue;
      label = d.summary;
    }
    rows.push({ at: w.sentAt, order: order++, kind: 'frame', from: hosts.indexOf(w.from), to: hosts.indexOf(w.to), label, lost: w.lost });
  }
  rows.sort((a, b) => a.at - b.at || a.order - b.order);

  // Column geometry.
  const longest = Math.max(0, ...rows.map((r) => (r.kind === 'frame' ? r.label.length + (r.lost !== undefined ? 4 : 0) : 0)));
  const gap = Math.max(opts.minGap ?? 44, longest + 10);
  const timeWidth = 12;
  const stateWidth = 14;
  const colX = hosts.map((_, i) => timeWidth + stateWidth / 2 + i * gap);
  const width = colX[colX.length - 1]! + stateWidth;
  const fmtTime = (us: number): string => (us / 1e6).toFixed(6).padStart(timeWidth - 2) + '  ';

  const out: string[] = [];
  const blank = (): string[] => {
    const line = new Array<string>(width).fill(' ');
    for (const x of colX) line[x] = '│';
    return line;
  };
  const put = (line: string[], x: number, text: string): void => {
    for (let i = 0; i < text.length && x + i < line.length; i++) if (x + i >= 0) line[x + i] = text[i]!;
  };
  // Header: host names centred on their columns.
  const header = new Array<string>(width).fill(' ');
  hosts.forEach((h, i) => put(header, colX[i]! - Math.floor(h.length / 2), h));
  out.push(style.host(header.join('').trimEnd()));

  // Styling is applied to whole segments after layout, so ANSI codes never break alignment.
  for (const r of rows) {
    const line = blank();
    let text: string;
    if (r.kind === 'state') {
      const x = colX[r.host]!;
      const s = r.state;
      put(line, x - Math.floor(s.length / 2), s);
      text = line.join('').trimEnd();
      const start = x - Math.floor(s.length / 2);
      text = style.time(fmtTime(r.at).slice(0, timeWidth)) + text.slice(timeWidth, start) + style.state(s) + text.slice(start + s.length);
    } else {
      const a = colX[r.from]!;
      const b = colX[r.to]!;
      const right = b > a;
      const lo = Math.min(a, b) + 1;
      const hi = Math.max(a, b) - 1;
      const len = hi - lo + 1;
      const body = new Array<string>(len).fill('─');
      if (right) body[len - 1] = '▶';
      else body[0] = '◀';
      const label = ` ${r.label} `;
      const at = Math.max(1, Math.floor((len - label.length) / 2));
      for (let i = 0; i < label.length && at + i < len - 1; i++) body[at + i] = label[i]!;
      if (r.lost !== undefined) {
        // The arrow stops short of its target and ends in an X.
        const stop = right ? len - 4 : 3;
        body[stop] = 'X';
        if (right) for (let i = stop + 1; i < len; i++) body[i] = ' ';
        else for (let i = 0; i < stop; i++) body[i] = ' ';
      }
      const arrow = body.join('');
      put(line, lo, arrow);
      const full = line.join('').trimEnd();
      text = style.time(fmtTime(r.at).slice(0, timeWidth)) + full.slice(timeWidth, lo) +
        (r.lost !== undefined ? style.lost(arrow) : style.arrow(arrow)) + full.slice(lo + len);
    }
    out.push(text.trimEnd());
  }
  return out.join('\n');
}
