// Sequence diagrams of real executions, as text: one column per host, one row per frame in time
// order with an arrow in its direction of travel (an X where it was lost), flags in the seeds'
// notation (SYN, SYN+ACK, ACK, FIN, RST, data length), relative seq/ack by default, SYN options
// on a line under the SYN's arrow, and each side's TCP state printed where it changes. Virtual
// timestamps on the left. `buildDiagram` makes the row model that both this text renderer and the
// SVG renderer (svg.ts) draw, so the two always show the same thing.
//
// Notation: PSH is left out of flag names (it changes nothing a reader of the diagram can see;
// the pcap keeps it). A segment that repeats sequence space already sent on its flow is marked
// "(retransmission)", as Wireshark's TCP analysis does. When more than one connection runs
// between the hosts, rows carry a tag (#1, #2, ...) per connection.
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
  /** When it reached the receiving host (undefined: lost, or still in flight). */
  arrivedAt?: Instant | undefined;
  /** Recording order across frames, states and notes (orders the events of one instant). */
  order?: number | undefined;
}

/** A TCP state change of one host. */
export interface StateRecord {
  at: Instant;
  host: string;
  state: string;
  /** The connection, as `connKey(local, remote)`; absent for listeners. */
  conn?: string | undefined;
  /** Recording order (see WireRecord.order). */
  order?: number | undefined;
}

/** Something an application did (a user call), drawn beside its host's column. */
export interface NoteRecord {
  at: Instant;
  host: string;
  text: string;
  /** Recording order (see WireRecord.order). */
  order?: number | undefined;
}

/** An order-independent key for a connection from its two endpoints (`10.0.0.1:40000`). */
export function connKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** Colouring hooks (identity by default: plain text). */
export interface DiagramStyle {
  time(s: string): string;
  arrow(s: string): string;
  lost(s: string): string;
  state(s: string): string;
  host(s: string): string;
  note(s: string): string;
}

/** Rendering options. */
export interface DiagramOptions {
  /** Column order; hosts not listed are appended in order of appearance. */
  hosts?: string[] | undefined;
  /** Absolute sequence numbers instead of relative ones. */
  absolute?: boolean | undefined;
  /** Show ARP/NDP and other non-TCP frames (default: only TCP, UDP and ICMP). */
  showAll?: boolean | undefined;
  /** Minimum distance between neighbouring host columns. */
  minGap?: number | undefined;
  /** Application notes to draw (Scenario passes its own). */
  notes?: readonly NoteRecord[] | undefined;
  /** Show the (scaled) window on every TCP row (or on every row sent by the listed hosts), not only on SYNs and zero windows. */
  windows?: boolean | readonly string[] | undefined;
  /**
   * Elide runs of more than this many consecutive look-alike frames (same sender, receiver and
   * flags), keeping the first two and the last: "⋮ 1021 more RST". Off by default.
   */
  collapse?: number | undefined;
  /** Draw only what happened up to this instant (the first round trips of a long bulk transfer); off by default. */
  until?: number | undefined;
  /** Draw a break line where nothing happens for at least this many microseconds (default 500 ms). */
  pause?: number | undefined;
  style?: Partial<DiagramStyle> | undefined;
}

/** One row of a diagram. Host fields are column indices into `DiagramModel.hosts`. */
export type DiagramRow =
  | {
    kind: 'frame';
    at: Instant;
    arrivedAt: Instant | undefined;
    from: number;
    to: number;
    /** "SYN seq=0 win=64240", "ACK seq=1 ack=1 len=18 (retransmission)". */
    label: string;
    /** SYN options, drawn under the arrow: "<mss 1460,sackOK,TS,wscale 7>"; '' otherwise. */
    detail: string;
    lost: string | undefined;
    /** Connection tag ("#2") when several connections are drawn; '' otherwise. */
    tag: string;
    retransmission: boolean;
    /** Flags and payload length, for look-alike tests. */
    flags: number;
    len: number;
  }
  | { kind: 'state'; at: Instant; host: number; state: string; tag: string }
  | { kind: 'note'; at: Instant; host: number; text: string }
  | { kind: 'elided'; at: Instant; until: Instant; from: number; to: number; count: number; label: string };

/** What both renderers draw. */
export interface DiagramModel {
  hosts: string[];
  rows: DiagramRow[];
}

const PLAIN: DiagramStyle = { time: (s) => s, arrow: (s) => s, lost: (s) => s, state: (s) => s, host: (s) => s, note: (s) => s };

/** Formats TCP options of a SYN row: `<mss 1460,sackOK,TS,wscale 7>`. */
export function formatSynOptions(seg: TcpRepr): string {
  const o = seg.options;
  const parts: string[] = [];
  if (o.mss !== undefined) parts.push(`mss ${o.mss}`);
  if (o.sackPermitted) parts.push('sackOK');
  if (o.timestamp !== undefined) parts.push('TS');
  if (o.wscale !== undefined) parts.push(`wscale ${o.wscale}`);
  if (o.fastOpen !== undefined) parts.push(o.fastOpen.length === 0 ? 'FO' : `FO ${o.fastOpen.length}B`);
  return parts.length > 0 ? `<${parts.join(',')}>` : '';
}

/** Per-flow memory: relative sequence base, how far the flow has sent, its window scale. */
interface Flow {
  base: number | undefined;
  /** Highest sequence end sent so far, relative to base (for retransmission marks). */
  high: number;
  /** SYN-bearing flag combinations already sent (a repeat is a retransmission). */
  syns: Set<number>;
  /** Window scale offered in this flow's SYN (undefined: none). */
  wscale: number | undefined;
  sawSyn: boolean;
}

/** Flag names without PSH (see the file comment). */
function flagNames(flags: number): string {
  const f = flags & ~TcpFlag.PSH;
  return f === 0 ? 'none' : flagsToString(f);
}

/** Builds the row model from recorded frames, state changes and notes. */
export function buildDiagram(wire: readonly WireRecord[], states: readonly StateRecord[], opts: DiagramOptions = {}): DiagramModel {
  const hosts = [...(opts.hosts ?? [])];
  const see = (h: string): number => {
    let i = hosts.indexOf(h);
    if (i < 0) i = hosts.push(h) - 1;
    return i;
  };
  for (const w of wire) { see(w.from); see(w.to); }
  for (const s of states) see(s.host);
  const notes = opts.notes ?? [];
  for (const n of notes) see(n.host);

  // Connection tags, by first appearance, only when several connections are drawn.
  const decoded = wire.map((w) => decodeFrame(w.frame, w.medium));
  const conns: string[] = [];
  for (const d of decoded) {
    if (d.kind !== 'tcp') continue;
    const k = connKey(`${d.src.toString()}:${d.seg.srcPort}`, `${d.dst.toString()}:${d.seg.dstPort}`);
    if (!conns.includes(k)) conns.push(k);
  }
  for (const s of states) if (s.conn !== undefined && !conns.includes(s.conn)) conns.push(s.conn);
  const tagOf = (k: string | undefined): string => (conns.length > 1 && k !== undefined ? `#${conns.indexOf(k) + 1}` : '');

  // Records carry their recording order when a Scenario made them; otherwise states come
  // first, then notes, then frames, each in array order.
  type Sortable = { row: DiagramRow; order: number };
  const items: Sortable[] = [];
  let order = 0;
  const orderOf = (o: number | undefined): number => o ?? 1e15 + order++;
  for (const s of states) items.push({ row: { kind: 'state', at: s.at, host: see(s.host), state: s.state, tag: tagOf(s.conn) }, order: orderOf(s.order) });
  for (const n of notes) items.push({ row: { kind: 'note', at: n.at, host: see(n.host), text: n.text }, order: orderOf(n.order) });

  const flows = new Map<string, Flow>();
  const flowOf = (k: string): Flow => {
    let f = flows.get(k);
    if (f === undefined) {
      f = { base: undefined, high: 0, syns: new Set(), wscale: undefined, sawSyn: false };
      flows.set(k, f);
    }
    return f;
  };
  wire.forEach((w, i) => {
    const d = decoded[i]!;
    let label: string;
    let detail = '';
    let tag = '';
    let retransmission = false;
    let flags = 0;
    let len = 0;
    if (d.kind === 'tcp') {
      const seg = d.seg;
      const src = `${d.src.toString()}:${seg.srcPort}`;
      const dst = `${d.dst.toString()}:${seg.dstPort}`;
      const fwd = flowOf(`${src}>${dst}`);
      const rev = flowOf(`${dst}>${src}`);
      flags = seg.flags;
      len = seg.payload.length;
      const syn = (flags & TcpFlag.SYN) !== 0;
      if (syn) {
        // A SYN with a new ISN on a 4-tuple seen before is a new incarnation (TIME-WAIT reuse,
        // RFC 6191), not a retransmission: number it afresh.
        if (!fwd.sawSyn || seg.seq !== fwd.base) {
          fwd.base = seg.seq;
          fwd.sawSyn = true;
          fwd.high = 0;
          fwd.syns.clear();
        }
        fwd.wscale = seg.options.wscale;
      } else if (fwd.base === undefined) {
        fwd.base = seg.seq;
      }
      const rel = (f: Flow, n: number): number => (opts.absolute === true || f.base === undefined ? n >>> 0 : (n - f.base) >>> 0);
      const segLen = len + (syn ? 1 : 0) + (flags & TcpFlag.FIN ? 1 : 0);
      if (syn) {
        const key = flags & (TcpFlag.SYN | TcpFlag.ACK);
        retransmission = fwd.syns.has(key);
        fwd.syns.add(key);
        fwd.high = Math.max(fwd.high, 1);
      } else if (segLen > 0 && fwd.base !== undefined) {
        const start = (seg.seq - fwd.base) | 0;
        const end = start + segLen;
        retransmission = end <= fwd.high;
        fwd.high = Math.max(fwd.high, end);
      }
      label = `${flagNames(flags)} seq=${rel(fwd, seg.seq)}`;
      if (flags & TcpFlag.ACK) label += ` ack=${rel(rev, seg.ack)}`;
      if (len > 0) label += ` len=${len}`;
      const sack = seg.options.sack;
      if (sack !== undefined && sack.length > 0) label += ` sack=${sack.map((b) => `${rel(rev, b.left)}-${rel(rev, b.right)}`).join(',')}`;
      // The window of a SYN is never scaled (RFC 7323 §2.2); later windows are scaled when both
      // SYNs carried the option.
      const scale = !syn && fwd.wscale !== undefined && rev.wscale !== undefined ? fwd.wscale : 0;
      // A RST's window means nothing (RFC 9293 §3.10.7); ours are always 0.
      const allWindows = opts.windows === true || (Array.isArray(opts.windows) && opts.windows.includes(w.from));
      if (!(flags & TcpFlag.RST) && (syn || seg.window === 0 || allWindows)) label += ` win=${seg.window * 2 ** scale}`;
      if (syn && !retransmission) detail = formatSynOptions(seg);
      if (retransmission) label += ' (retransmission)';
      tag = tagOf(connKey(src, dst));
    } else if (d.kind === 'udp') {
      label = `UDP ${d.srcPort} > ${d.dstPort} len=${d.length}`;
    } else if (d.kind === 'icmp') {
      if (!opts.showAll && d.family === 6 && d.type >= 133 && d.type <= 137) return; // NDP
      label = `ICMPv${d.family === 4 ? '4' : '6'} type=${d.type} code=${d.code}`;
    } else {
      if (!opts.showAll) return;
      label = d.summary;
    }
    items.push({
      row: { kind: 'frame', at: w.sentAt, arrivedAt: w.lost === undefined ? w.arrivedAt : undefined, from: see(w.from), to: see(w.to), label, detail, lost: w.lost, tag, retransmission, flags, len },
      order: orderOf(w.order),
    });
  });
  // Frames, state changes and notes merged by time; at one instant, in the order they happened.
  items.sort((a, b) => a.row.at - b.row.at || a.order - b.order);
  let rows = items.map((x) => x.row);
  const until = opts.until;
  if (until !== undefined) rows = rows.filter((r) => r.at <= until);
  if (opts.collapse !== undefined) rows = collapseRuns(rows, Math.max(3, opts.collapse));
  return { hosts, rows };
}

/** Replaces runs of more than `limit` look-alike frames with first two, an elision row, and the last. */
function collapseRuns(rows: DiagramRow[], limit: number): DiagramRow[] {
  const out: DiagramRow[] = [];
  const alike = (a: DiagramRow, b: DiagramRow): boolean =>
    a.kind === 'frame' && b.kind === 'frame' && a.from === b.from && a.to === b.to && a.flags === b.flags &&
    (a.len > 0) === (b.len > 0) && (a.lost !== undefined) === (b.lost !== undefined) && a.retransmission === b.retransmission && a.tag === b.tag;
  let i = 0;
  while (i < rows.length) {
    let j = i + 1;
    while (j < rows.length && alike(rows[i]!, rows[j]!)) j++;
    const n = j - i;
    if (n > limit && n - 3 >= 3) {
      const first = rows[i]!;
      const last = rows[j - 1]!;
      out.push(first, rows[i + 1]!);
      if (first.kind === 'frame') {
        out.push({ kind: 'elided', at: rows[i + 2]!.at, until: rows[j - 2]!.at, from: first.from, to: first.to, count: n - 3, label: `${n - 3} more ${flagNames(first.flags)}` });
      }
      out.push(last);
    } else {
      for (let k = i; k < j; k++) out.push(rows[k]!);
    }
    i = j;
  }
  return out;
}

/** Formats virtual time in seconds: 3 decimals when every instant is a whole millisecond, else 6. */
export function timeFormatter(instants: readonly number[]): (us: number) => string {
  const fine = instants.some((t) => t % 1000 !== 0);
  return (us) => (us / 1e6).toFixed(fine ? 6 : 3);
}

type StyleKey = keyof DiagramStyle | 'plain';

/** A line under construction: characters plus a style per character. */
class Line {
  readonly chars: string[];
  readonly styles: StyleKey[];
  constructor(width: number) {
    this.chars = new Array<string>(width).fill(' ');
    this.styles = new Array<StyleKey>(width).fill('plain');
  }
  put(x: number, text: string, style: StyleKey): void {
    for (let i = 0; i < text.length; i++) {
      const p = x + i;
      if (p < 0 || p >= this.chars.length) continue;
      this.chars[p] = text[i]!;
      this.styles[p] = style;
    }
  }
  render(style: DiagramStyle): string {
    let end = this.chars.length;
    while (end > 0 && this.chars[end - 1] === ' ') end--;
    let out = '';
    let i = 0;
    while (i < end) {
      const s = this.styles[i]!;
      let j = i + 1;
      while (j < end && this.styles[j] === s) j++;
      const text = this.chars.slice(i, j).join('');
      out += s === 'plain' ? text : style[s](text);
      i = j;
    }
    return out;
  }
}

/** Renders the diagram as text lines (no trailing newline). */
export function renderDiagram(wire: readonly WireRecord[], states: readonly StateRecord[], opts: DiagramOptions = {}): string {
  return renderModel(buildDiagram(wire, states, opts), opts);
}

/** Renders a row model as text. */
export function renderModel(model: DiagramModel, opts: DiagramOptions = {}): string {
  const style: DiagramStyle = { ...PLAIN, ...opts.style };
  const { hosts, rows } = model;
  const fmt = timeFormatter(rows.map((r) => r.at));
  const timeWidth = Math.max(5, ...rows.map((r) => fmt(r.at).length)) + 4;
  const stateText = (r: DiagramRow & { kind: 'state' }): string => (r.tag === '' ? r.state : `${r.tag} ${r.state}`);
  const half = Math.max(4, ...hosts.map((h) => Math.ceil(h.length / 2)), ...rows.map((r) => (r.kind === 'state' ? Math.ceil(stateText(r).length / 2) : 0))) + 1;
  const frameText = (r: DiagramRow & { kind: 'frame' }): string => (r.tag === '' ? r.label : `${r.tag} ${r.label}`);
  const longest = Math.max(0, ...rows.map((r) =>
    r.kind === 'frame' ? Math.max(frameText(r).length + (r.lost !== undefined ? 6 : 0), r.detail.length - 4)
      : r.kind === 'elided' ? r.label.length + 2
        : r.kind === 'note' ? r.text.length + 2 - half : 0));
  const gap = Math.max(opts.minGap ?? 36, longest + 8);
  const colX = hosts.map((_, i) => timeWidth + half + i * gap);
  const width = colX[colX.length - 1]! + half + 1;
  const pause = opts.pause ?? 500_000;

  const blank = (bar = '│'): Line => {
    const line = new Line(width);
    for (const x of colX) line.put(x, bar, 'plain');
    return line;
  };
  const out: string[] = [];
  const header = new Line(width);
  hosts.forEach((h, i) => header.put(colX[i]! - Math.floor(h.length / 2), h, 'host'));
  out.push(header.render(style));

  /** The body of an arrow from column a to column b: label centred, arrowhead at the target. */
  const arrow = (line: Line, a: number, b: number, label: string, lost: boolean, st: StyleKey): void => {
    const right = b > a;
    const lo = Math.min(a, b) + 1;
    const len = Math.max(a, b) - lo;
    const body = new Array<string>(len).fill('─');
    if (right) body[len - 1] = '▶';
    else body[0] = '◀';
    let first = 0;
    let last = len - 1; // the usable span for the label
    if (lost) {
      // The arrow stops short of its target and ends in an X.
      const stop = right ? len - 4 : 3;
      body[stop] = 'X';
      if (right) {
        for (let i = stop + 1; i < len; i++) body[i] = ' ';
        last = stop - 1;
      } else {
        for (let i = 0; i < stop; i++) body[i] = ' ';
        first = stop + 1;
      }
    }
    const text = ` ${label} `;
    const span = last - first + 1;
    const at = first + Math.max(1, Math.floor((span - text.length) / 2));
    for (let i = 0; i < text.length && at + i < last; i++) body[at + i] = text[i]!;
    line.put(lo, body.join(''), st);
  };

  let prev: number | undefined;
  for (const r of rows) {
    if (prev !== undefined && r.at - prev >= pause) {
      const line = blank('┊');
      line.put(0, '⋮'.padStart(timeWidth - 4), 'time');
      out.push(line.render(style));
    }
    prev = r.kind === 'elided' ? r.until : r.at;
    const line = blank();
    line.put(0, fmt(r.at).padStart(timeWidth - 2), 'time');
    switch (r.kind) {
      case 'state': {
        const s = stateText(r);
        line.put(colX[r.host]! - Math.floor(s.length / 2), s, 'state');
        out.push(line.render(style));
        break;
      }
      case 'note': {
        const x = colX[r.host]!;
        // Beside the column, on the side that faces the other hosts.
        if (r.host === hosts.length - 1 && hosts.length > 1) line.put(x - 1 - r.text.length, r.text, 'note');
        else line.put(x + 2, r.text, 'note');
        out.push(line.render(style));
        break;
      }
      case 'frame': {
        arrow(line, colX[r.from]!, colX[r.to]!, frameText(r), r.lost !== undefined, r.lost !== undefined ? 'lost' : 'arrow');
        out.push(line.render(style));
        if (r.detail !== '') {
          const d = blank();
          const lo = Math.min(colX[r.from]!, colX[r.to]!);
          const hi = Math.max(colX[r.from]!, colX[r.to]!);
          d.put(lo + Math.max(1, Math.floor((hi - lo - r.detail.length) / 2)), r.detail, 'note');
          out.push(d.render(style));
        }
        break;
      }
      case 'elided': {
        const lo = Math.min(colX[r.from]!, colX[r.to]!);
        const hi = Math.max(colX[r.from]!, colX[r.to]!);
        const text = `⋮ ${r.label}`;
        line.put(0, ' '.repeat(timeWidth), 'plain');
        line.put(lo + Math.max(1, Math.floor((hi - lo - text.length) / 2)), text, 'note');
        out.push(line.render(style));
        break;
      }
    }
  }
  return out.join('\n');
}
