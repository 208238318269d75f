// The sequence diagram as SVG, for docs and the browser: the same row model as the text renderer
// (diagram.ts buildDiagram), drawn with one lifeline per host, arrows slanted by transit time
// (from the send time on the sender's line to the arrival time on the receiver's), lost
// segments ending in an X, state changes as labels on the lifelines, and application calls as
// notes. Time runs down the page on a compressed scale (long idle spells are cut short and
// marked), so a 60 s TIME-WAIT and a 10 ms round trip both stay readable. Pure string building:
// no DOM, runs anywhere.
import type { Instant } from '../time/instant.js';
import { buildDiagram, timeFormatter, type DiagramModel, type DiagramOptions, type DiagramRow, type StateRecord, type WireRecord } from './diagram.js';

/** Options for the SVG renderer. */
export interface SvgOptions extends DiagramOptions {
  /** A title drawn above the diagram. */
  title?: string | undefined;
}

const CHAR = 7.2; // advance of one character of the 12 px monospace font
const ROW = 24; // vertical room per row at one instant
const TOP = 70; // lifelines start below the host boxes
const LEFT = 90; // room for the time column

/** Escapes text for XML character data and attribute values. */
export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Pixels between two instants that hold rows: logarithmic in the gap, capped, so long waits stay short. */
function gapPixels(dtUs: number): number {
  if (dtUs <= 0) return 0;
  return Math.min(90, 8 + 16 * Math.log2(1 + dtUs / 1000));
}

/** Renders recorded frames and states as an SVG document. */
export function renderSvg(wire: readonly WireRecord[], states: readonly StateRecord[], opts: SvgOptions = {}): string {
  return renderModelSvg(buildDiagram(wire, states, opts), opts);
}

/** Renders a row model as an SVG document. */
export function renderModelSvg(model: DiagramModel, opts: SvgOptions = {}): string {
  const { hosts, rows } = model;
  const fmt = timeFormatter(rows.map((r) => r.at));
  const pause = opts.pause ?? 500_000;
  const labelOf = (r: DiagramRow & { kind: 'frame' }): string => (r.tag === '' ? r.label : `${r.tag} ${r.label}`);
  const longest = Math.max(20, ...rows.map((r) => (r.kind === 'frame' ? Math.max(labelOf(r).length, r.detail.length) : r.kind === 'elided' ? r.label.length : 0)));
  const colGap = Math.max(300, longest * CHAR + 70);
  const colX = hosts.map((_, i) => LEFT + 90 + i * colGap);

  // Bands: one per instant that holds rows, each tall enough for its rows, separated by a gap
  // that grows with the time between them.
  interface Band { at: number; y: number; n: number; cut: boolean; elided: boolean }
  const bands: Band[] = [];
  const place = new Map<DiagramRow, { band: Band; slot: number }>();
  for (const r of rows) {
    const last = bands[bands.length - 1];
    if (last !== undefined && last.at === r.at && r.kind !== 'elided' && !last.elided) {
      place.set(r, { band: last, slot: last.n++ });
      continue;
    }
    const y = last === undefined ? TOP + 20 : last.y + last.n * ROW + gapPixels(r.at - last.at);
    const band: Band = { at: r.at, y, n: 1, cut: last !== undefined && r.at - last.at >= pause, elided: r.kind === 'elided' };
    bands.push(band);
    place.set(r, { band, slot: 0 });
  }
  /** The y of an instant: the top of its band, or interpolated between bands. */
  const yOf = (t: number): number => {
    let prev: Band | undefined;
    for (const b of bands) {
      if (b.at === t) return b.y;
      if (b.at > t) {
        if (prev === undefined) return b.y;
        const end = prev.y + prev.n * ROW;
        const frac = (t - prev.at) / (b.at - prev.at);
        return end + frac * Math.max(0, b.y - end);
      }
      prev = b;
    }
    return prev === undefined ? TOP : prev.y + prev.n * ROW;
  };
  const rowY = (r: DiagramRow): number => {
    const p = place.get(r)!;
    return p.band.y + p.slot * ROW + ROW / 2;
  };
  const last = bands[bands.length - 1];
  const height = Math.ceil((last === undefined ? TOP : last.y + last.n * ROW) + 40);
  const width = Math.ceil(colX[colX.length - 1]! + 150);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="ui-monospace, Menlo, Consolas, monospace" font-size="12">`);
  out.push('<defs><marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#1f6feb"/></marker></defs>');
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  if (opts.title !== undefined) out.push(`<text x="${LEFT}" y="22" font-size="14" font-weight="bold">${xmlEscape(opts.title)}</text>`);
  // Lifelines and host boxes.
  hosts.forEach((h, i) => {
    const x = colX[i]!;
    const w = Math.max(70, h.length * CHAR + 20);
    out.push(`<line x1="${x}" y1="${TOP}" x2="${x}" y2="${height - 20}" stroke="#888" stroke-width="1"/>`);
    out.push(`<rect x="${x - w / 2}" y="${TOP - 30}" width="${w}" height="24" rx="4" fill="#f0f3f6" stroke="#888"/>`);
    out.push(`<text x="${x}" y="${TOP - 14}" text-anchor="middle" font-weight="bold">${xmlEscape(h)}</text>`);
  });
  // Time labels and breaks where nothing happened for a while.
  for (const b of bands) {
    out.push(`<text x="${LEFT - 10}" y="${b.y + ROW / 2 + 4}" text-anchor="end" fill="#666">${xmlEscape(fmt(b.at))}</text>`);
    if (b.cut) {
      const cy = b.y - 8;
      for (const x of colX) out.push(`<path d="M${x - 6},${cy - 3} l12,-4 M${x - 6},${cy + 3} l12,-4" stroke="#888" fill="none"/>`);
      out.push(`<text x="${LEFT - 10}" y="${cy}" text-anchor="end" fill="#999">⋮</text>`);
    }
  }
  // Frames that reach the same host at the same instant arrive a little apart, so their arrows
  // (and labels) do not merge.
  const arrivals = new Map<string, number>();
  for (const r of rows) {
    switch (r.kind) {
      case 'frame': {
        const x1 = colX[r.from]!;
        const x2 = colX[r.to]!;
        const y1 = rowY(r);
        const lost = r.lost !== undefined;
        // Arrival on the receiver's line; a lost frame stops part of the way, at the slope a
        // delivered one would have had, and ends in an X.
        // Arrival at the top of its instant's band, just above the state change it may cause.
        let arrival = y1;
        if (r.arrivedAt !== undefined && r.arrivedAt > r.at) {
          const key = `${r.to}@${r.arrivedAt}`;
          const k = arrivals.get(key) ?? 0;
          arrivals.set(key, k + 1);
          arrival = yOf(r.arrivedAt as Instant) + 2 + 10 * k;
        }
        let y2 = Math.max(arrival, y1);
        let xe = x2;
        if (lost) {
          const slope = Math.min(60, gapPixels(10_000) + ROW / 2);
          xe = x1 + (x2 - x1) * 0.62;
          y2 = y1 + slope * 0.62;
        }
        const colour = lost ? '#d73a49' : '#1f6feb';
        const dash = lost ? ' stroke-dasharray="5 3"' : '';
        const head = lost ? '' : ' marker-end="url(#head)"';
        out.push(`<line x1="${x1}" y1="${y1.toFixed(1)}" x2="${xe.toFixed(1)}" y2="${y2.toFixed(1)}" stroke="${colour}" stroke-width="1.5"${dash}${head}/>`);
        if (lost) out.push(`<path d="M${xe - 5},${y2 - 5} l10,10 M${xe - 5},${y2 + 5} l10,-10" stroke="#d73a49" stroke-width="2"/>`);
        const mx = (x1 + (lost ? xe : x2)) / 2;
        const my = (y1 + y2) / 2;
        const angle = (Math.atan2(y2 - y1, (lost ? xe : x2) - x1) * 180) / Math.PI;
        const upright = angle > 90 || angle < -90 ? angle + 180 : angle;
        const text = labelOf(r) + (lost ? ` (lost: ${r.lost})` : '');
        out.push(`<text x="${mx.toFixed(1)}" y="${(my - 5).toFixed(1)}" text-anchor="middle" fill="${colour}" transform="rotate(${upright.toFixed(2)} ${mx.toFixed(1)} ${my.toFixed(1)})">${xmlEscape(text)}</text>`);
        if (r.detail !== '') {
          out.push(`<text x="${mx.toFixed(1)}" y="${(my + 13).toFixed(1)}" text-anchor="middle" fill="#57606a" font-size="11" transform="rotate(${upright.toFixed(2)} ${mx.toFixed(1)} ${my.toFixed(1)})">${xmlEscape(r.detail)}</text>`);
        }
        break;
      }
      case 'state': {
        const x = colX[r.host]!;
        const ry = rowY(r);
        const text = r.tag === '' ? r.state : `${r.tag} ${r.state}`;
        const w = text.length * CHAR + 14;
        out.push(`<rect x="${(x - w / 2).toFixed(1)}" y="${ry - 9}" width="${w.toFixed(1)}" height="18" rx="9" fill="#fff8c5" stroke="#bf8700"/>`);
        out.push(`<text x="${x}" y="${ry + 4}" text-anchor="middle" fill="#7d4e00" font-weight="bold">${xmlEscape(text)}</text>`);
        break;
      }
      case 'note': {
        const x = colX[r.host]!;
        const ry = rowY(r);
        const right = !(r.host === hosts.length - 1 && hosts.length > 1);
        out.push(`<text x="${right ? x + 10 : x - 10}" y="${ry + 4}" text-anchor="${right ? 'start' : 'end'}" fill="#57606a" font-style="italic">${xmlEscape(r.text)}</text>`);
        break;
      }
      case 'elided': {
        const ry = rowY(r);
        const mx = (colX[r.from]! + colX[r.to]!) / 2;
        out.push(`<text x="${mx}" y="${ry + 4}" text-anchor="middle" fill="#57606a">⋮ ${xmlEscape(r.label)}</text>`);
        break;
      }
    }
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
