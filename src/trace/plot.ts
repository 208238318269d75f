// Terminal plots of a time series: a small hand-drawn ASCII chart for the congestion window
// ('tcp-cwnd' trace events, src/trace/events.ts) in the tour's slow-start chapter and for tools.
// No terminal assumptions beyond a fixed-width font; plain text, no colour.

/** One point of a series. */
export interface PlotPoint {
  x: number;
  y: number;
}

/** One line of the chart, drawn with `mark`. */
export interface PlotSeries {
  name: string;
  mark: string;
  /** Points in increasing x; a step function (each value holds until the next point). */
  points: readonly PlotPoint[];
}

/** Chart size and labels. */
export interface PlotOptions {
  /** Columns of the plotting area (default 72). */
  width?: number;
  /** Rows of the plotting area (default 14). */
  height?: number;
  /** Unit of the x axis, printed under it ("ms"). */
  xLabel?: string;
  /** Unit of the y axis, printed above it ("segments"). */
  yLabel?: string;
}

/**
 * Draws step-function series on one chart: each column shows, for each series, the highest value
 * it took in that column's x range (so a sudden fall, like cwnd on a loss, shows as a drop in one
 * column); later series are drawn under earlier ones. Values above the top are clipped.
 */
export function plotSeries(series: readonly PlotSeries[], o: PlotOptions = {}): string {
  const width = Math.max(10, o.width ?? 72);
  const height = Math.max(4, o.height ?? 14);
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return '(no data)';
  const x0 = Math.min(...all.map((p) => p.x));
  const x1 = Math.max(...all.map((p) => p.x));
  const yMax = Math.max(1, ...all.map((p) => p.y));
  const span = x1 > x0 ? x1 - x0 : 1;
  const grid: string[][] = Array.from({ length: height }, () => new Array<string>(width).fill(' '));
  for (let k = series.length - 1; k >= 0; k--) {
    const s = series[k]!;
    let i = 0;
    let current: number | undefined;
    for (let col = 0; col < width; col++) {
      const hi = x0 + ((col + 1) * span) / width;
      let top = current;
      while (i < s.points.length && s.points[i]!.x <= hi) {
        current = s.points[i]!.y;
        top = top === undefined ? current : Math.max(top, current);
        i++;
      }
      if (top === undefined || current === undefined) continue;
      const row = Math.min(height - 1, Math.round((top / yMax) * (height - 1)));
      grid[height - 1 - row]![col] = s.mark;
    }
  }
  const label = (v: number): string => String(Math.round(v)).padStart(5);
  const lines: string[] = [];
  if (o.yLabel !== undefined) lines.push(`${' '.repeat(6)}${o.yLabel}`);
  for (let r = 0; r < height; r++) {
    const value = ((height - 1 - r) / (height - 1)) * yMax;
    const tick = r === 0 || r === height - 1 || r === Math.floor((height - 1) / 2) ? label(value) : ' '.repeat(5);
    lines.push(`${tick} |${grid[r]!.join('').trimEnd()}`);
  }
  lines.push(`${' '.repeat(5)} +${'-'.repeat(width)}`);
  const left = String(Math.round(x0));
  const right = `${Math.round(x1)}${o.xLabel !== undefined ? ` ${o.xLabel}` : ''}`;
  lines.push(`${' '.repeat(7)}${left}${' '.repeat(Math.max(1, width - left.length - right.length))}${right}`);
  lines.push(`${' '.repeat(7)}${series.map((s) => `${s.mark} ${s.name}`).join('   ')}`);
  return lines.join('\n');
}
