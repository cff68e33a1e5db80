/**
 * A small inline-SVG line chart for the benchmark report (bench/report/html-report.ts):
 * linear or log axes with ticks and grid lines, one path per series, optional markers
 * (hollow for flagged points), and a legend to the right of the plot; and a grouped bar
 * chart (one group per category, one bar per series) on the same frame. No dependencies;
 * the SVG is meant to be embedded in HTML5, so it carries no xmlns.
 */

export interface Tick {
  value: number;
  label: string;
  /** A grid line without emphasis (log-scale 2..9 multiples). */
  minor?: boolean;
}

export interface Axis {
  title: string;
  scale: 'linear' | 'log';
  min: number;
  max: number;
  ticks: Tick[];
}

export interface Point {
  x: number;
  y: number;
  /** Drawn as a hollow marker (e.g. a saturated run). */
  hollow?: boolean;
  /** Tooltip text. */
  title?: string;
}

export interface Series {
  /** Server name: kept in data-server and shown in the legend. */
  name: string;
  /** A second, smaller legend line (e.g. the max). */
  detail?: string;
  colour: string;
  strong?: boolean;
  dashed?: boolean;
  markers?: boolean;
  points: Point[];
}

export interface Chart {
  title: string;
  x: Axis;
  y: Axis;
  series: Series[];
  /** When set, the legend explains the hollow marker with this text. */
  hollowLabel?: string;
}

const kWidth = 780;
const kHeight = 380;
const kLeft = 66;
const kRight = 190;
const kTop = 34;
const kBottom = 54;
const kPlotW = kWidth - kLeft - kRight;
const kPlotH = kHeight - kTop - kBottom;
const kLegendChars = 24;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

/** Thousands separators for a plain decimal string ("12345.60" -> "12,345.60"). */
export function groupDigits(s: string): string {
  if (s.includes('e')) return s;
  const [int, frac] = s.split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

/** A tick label: at most 6 significant digits, no float noise, thousands separated. */
export function formatNumber(v: number): string {
  return groupDigits(String(Number(v.toPrecision(6))));
}

function niceStep(range: number, target: number): number {
  const raw = range / target;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const f = raw / pow;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * pow;
}

/** A linear axis over [min, max] widened to round steps, about six ticks. */
export function linearAxis(title: string, min: number, max: number, format: (v: number) => string = formatNumber): Axis {
  if (!(max > min)) max = min === 0 ? 1 : min + Math.abs(min);
  const step = niceStep(max - min, 6);
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  const ticks: Tick[] = [];
  for (let i = 0; lo + i * step <= hi + step * 1e-9; i++) {
    const v = Number((lo + i * step).toPrecision(12));
    ticks.push({ value: v, label: format(v) });
  }
  return { title, scale: 'linear', min: lo, max: hi, ticks };
}

/** A log axis over whole decades around [min, max] (both > 0); 2 and 5 labelled when few decades. */
export function logAxis(title: string, min: number, max: number, format: (v: number) => string = formatNumber): Axis {
  let lo = Math.floor(Math.log10(min));
  let hi = Math.ceil(Math.log10(max));
  if (hi <= lo) hi = lo + 1;
  const decades = hi - lo;
  const ticks: Tick[] = [];
  for (let d = lo; d <= hi; d++) {
    for (let m = 1; m <= 9; m++) {
      if (d === hi && m > 1) break;
      const v = Number((m * 10 ** d).toPrecision(12));
      if (m === 1) ticks.push({ value: v, label: format(v) });
      else if ((m === 2 || m === 5) && decades <= 3) ticks.push({ value: v, label: format(v), minor: true });
      else if (decades <= 4) ticks.push({ value: v, label: '', minor: true });
    }
  }
  return { title, scale: 'log', min: 10 ** lo, max: 10 ** hi, ticks };
}

function position(axis: Axis, v: number, length: number): number {
  const t =
    axis.scale === 'log'
      ? (Math.log10(v) - Math.log10(axis.min)) / (Math.log10(axis.max) - Math.log10(axis.min))
      : (v - axis.min) / (axis.max - axis.min);
  return Math.min(1, Math.max(0, t)) * length;
}

const px = (x: Axis, v: number) => (kLeft + position(x, v, kPlotW)).toFixed(1);
const py = (y: Axis, v: number) => (kTop + kPlotH - position(y, v, kPlotH)).toFixed(1);

function plottable(axis: Axis, v: number): boolean {
  return Number.isFinite(v) && (axis.scale === 'linear' || v > 0);
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

function renderAxes(c: Chart): string {
  const out: string[] = [];
  const bottom = kTop + kPlotH;
  for (const t of c.x.ticks) {
    const x = px(c.x, t.value);
    out.push(`<line class="${t.minor ? 'grid minor' : 'grid'}" x1="${x}" y1="${kTop}" x2="${x}" y2="${bottom}"/>`);
    if (t.label) {
      out.push(`<line class="tick" x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 5}"/>`);
      out.push(`<text class="tick-label" x="${x}" y="${bottom + 18}" text-anchor="middle">${escapeHtml(t.label)}</text>`);
    }
  }
  for (const t of c.y.ticks) {
    const y = py(c.y, t.value);
    out.push(`<line class="${t.minor ? 'grid minor' : 'grid'}" x1="${kLeft}" y1="${y}" x2="${kLeft + kPlotW}" y2="${y}"/>`);
    if (t.label) {
      out.push(`<line class="tick" x1="${kLeft - 5}" y1="${y}" x2="${kLeft}" y2="${y}"/>`);
      out.push(`<text class="tick-label" x="${kLeft - 8}" y="${y}" dy="0.32em" text-anchor="end">${escapeHtml(t.label)}</text>`);
    }
  }
  out.push(`<rect class="frame" x="${kLeft}" y="${kTop}" width="${kPlotW}" height="${kPlotH}"/>`);
  out.push(`<text class="axis-title" x="${kLeft + kPlotW / 2}" y="${kHeight - 12}" text-anchor="middle">${escapeHtml(c.x.title)}</text>`);
  const ym = kTop + kPlotH / 2;
  out.push(`<text class="axis-title" x="16" y="${ym}" text-anchor="middle" transform="rotate(-90 16 ${ym})">${escapeHtml(c.y.title)}</text>`);
  return out.join('');
}

function marker(x: string, y: string, colour: string, p: Point): string {
  const tip = p.title === undefined ? '' : `<title>${escapeHtml(p.title)}</title>`;
  const fill = p.hollow ? '#fff' : colour;
  const cls = p.hollow ? 'marker hollow' : 'marker';
  return `<circle class="${cls}" cx="${x}" cy="${y}" r="4" fill="${fill}" stroke="${colour}" stroke-width="${p.hollow ? 2 : 1}">${tip}</circle>`;
}

function renderSeries(c: Chart, s: Series): string {
  const pts = s.points.filter((p) => plottable(c.x, p.x) && plottable(c.y, p.y));
  const coords = pts.map((p) => [px(c.x, p.x), py(c.y, p.y)] as const);
  const d = coords.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${x} ${y}`).join('');
  const width = s.strong ? 2.75 : 1.75;
  const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
  const name = escapeHtml(s.name);
  let out = `<g class="series" data-server="${name}">`;
  out += `<path class="line" d="${d}" fill="none" stroke="${s.colour}" stroke-width="${width}" stroke-linejoin="round"${dash}><title>${name}</title></path>`;
  if (s.markers) coords.forEach(([x, y], i) => (out += marker(x, y, s.colour, pts[i])));
  return `${out}</g>`;
}

function renderLegend(c: Chart): string {
  const x = kLeft + kPlotW + 16;
  let y = kTop + 8;
  const out: string[] = ['<g class="legend">'];
  for (const s of c.series) {
    const label = s.name;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(`<g class="legend-item" data-server="${escapeHtml(s.name)}">`);
    out.push(`<line x1="${x}" y1="${y}" x2="${x + 22}" y2="${y}" stroke="${s.colour}" stroke-width="${s.strong ? 3 : 2}"${dash}/>`);
    if (s.markers) out.push(`<circle cx="${x + 11}" cy="${y}" r="3.5" fill="${s.colour}"/>`);
    out.push(`<text x="${x + 30}" y="${y}" dy="0.32em">${escapeHtml(truncate(label, kLegendChars))}<title>${escapeHtml(label)}</title></text>`);
    if (s.detail !== undefined) {
      y += 14;
      out.push(`<text class="note detail" x="${x + 30}" y="${y}" dy="0.32em">${escapeHtml(truncate(s.detail, kLegendChars + 4))}<title>${escapeHtml(s.detail)}</title></text>`);
    }
    out.push('</g>');
    y += 20;
  }
  if (c.hollowLabel !== undefined) {
    y += 4;
    out.push(`<circle cx="${x + 11}" cy="${y}" r="4" fill="#fff" stroke="#444" stroke-width="2"/>`);
    out.push(`<text class="note" x="${x + 30}" y="${y}" dy="0.32em">${escapeHtml(truncate(c.hollowLabel, kLegendChars))}<title>${escapeHtml(c.hollowLabel)}</title></text>`);
  }
  out.push('</g>');
  return out.join('');
}

export function renderChart(c: Chart): string {
  const title = escapeHtml(c.title);
  return (
    `<svg class="chart" viewBox="0 0 ${kWidth} ${kHeight}" width="${kWidth}" height="${kHeight}" role="img" aria-label="${title}">` +
    `<rect class="bg" width="${kWidth}" height="${kHeight}"/>` +
    `<text class="chart-title" x="${kLeft}" y="20">${title}</text>` +
    renderAxes(c) +
    c.series.map((s) => renderSeries(c, s)).join('') +
    renderLegend(c) +
    '</svg>'
  );
}

export interface BarSeries {
  /** Server name: kept in data-server and shown in the legend. */
  name: string;
  colour: string;
  /** One value per category; null draws no bar. */
  values: (number | null)[];
}

export interface BarChart {
  title: string;
  yTitle: string;
  categories: string[];
  series: BarSeries[];
  /** A label above each category's group (e.g. the ratio of its bars); '' for none. */
  notes?: string[];
  /** Tooltip text of each bar's value. */
  format?: (v: number) => string;
}

/** Narrower than a line chart, so that two sit side by side in the report's 1,100 px. */
const kBarWidth = 540;
const kBarLegendW = 96;
const kBarPlotW = kBarWidth - kLeft - kBarLegendW;
/** Room under the plot for category labels set at an angle. */
const kBarBottom = 92;
const kBarPlotH = kHeight - kTop - kBarBottom;
const kCategoryChars = 18;
/** Headroom over the tallest bar for the note above its group. */
const kBarHeadroom = 1.12;

/** A grouped bar chart: categories along x, bars from 0 on a linear y axis. */
export function renderBarChart(c: BarChart): string {
  const format = c.format ?? formatNumber;
  const values = c.series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  const y = linearAxis(c.yTitle, 0, values.length > 0 ? Math.max(...values) * kBarHeadroom : 1);
  const yAt = (v: number) => (kTop + kBarPlotH - position(y, v, kBarPlotH)).toFixed(1);
  const bottom = kTop + kBarPlotH;
  const title = escapeHtml(c.title);
  const out: string[] = [
    `<svg class="chart bars" viewBox="0 0 ${kBarWidth} ${kHeight}" width="${kBarWidth}" height="${kHeight}" role="img" aria-label="${title}">`,
    `<rect class="bg" width="${kBarWidth}" height="${kHeight}"/>`,
    `<text class="chart-title" x="${kLeft}" y="20">${title}</text>`,
  ];
  for (const t of y.ticks) {
    const ty = yAt(t.value);
    out.push(`<line class="grid" x1="${kLeft}" y1="${ty}" x2="${kLeft + kBarPlotW}" y2="${ty}"/>`);
    out.push(`<line class="tick" x1="${kLeft - 5}" y1="${ty}" x2="${kLeft}" y2="${ty}"/>`);
    out.push(`<text class="tick-label" x="${kLeft - 8}" y="${ty}" dy="0.32em" text-anchor="end">${escapeHtml(t.label)}</text>`);
  }
  out.push(`<rect class="frame" x="${kLeft}" y="${kTop}" width="${kBarPlotW}" height="${kBarPlotH}"/>`);
  const ym = kTop + kBarPlotH / 2;
  out.push(`<text class="axis-title" x="16" y="${ym}" text-anchor="middle" transform="rotate(-90 16 ${ym})">${escapeHtml(c.yTitle)}</text>`);
  const groupW = kBarPlotW / Math.max(1, c.categories.length);
  const barW = Math.min(36, (groupW * 0.7) / Math.max(1, c.series.length));
  c.categories.forEach((category, i) => {
    const centre = kLeft + groupW * (i + 0.5);
    const left = centre - (barW * c.series.length) / 2;
    let top = bottom;
    for (const [j, s] of c.series.entries()) {
      const v = s.values[i];
      if (v === null || v === undefined || !Number.isFinite(v)) continue;
      const by = Number(yAt(Math.max(0, v)));
      top = Math.min(top, by);
      out.push(
        `<rect class="bar" data-server="${escapeHtml(s.name)}" data-category="${escapeHtml(category)}" x="${(left + j * barW).toFixed(1)}" y="${by.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(bottom - by).toFixed(1)}" fill="${s.colour}">` +
          `<title>${escapeHtml(`${s.name}, ${category}: ${format(v)}`)}</title></rect>`,
      );
    }
    const note = c.notes?.[i] ?? '';
    if (note !== '') out.push(`<text class="bar-note" x="${centre.toFixed(1)}" y="${(top - 6).toFixed(1)}" text-anchor="middle">${escapeHtml(note)}</text>`);
    const ly = bottom + 14;
    out.push(`<text class="tick-label" x="${centre.toFixed(1)}" y="${ly}" text-anchor="end" transform="rotate(-28 ${centre.toFixed(1)} ${ly})">${escapeHtml(truncate(category, kCategoryChars))}<title>${escapeHtml(category)}</title></text>`);
  });
  const lx = kLeft + kBarPlotW + 16;
  out.push('<g class="legend">');
  c.series.forEach((s, i) => {
    const ly = kTop + 8 + i * 20;
    out.push(`<g class="legend-item" data-server="${escapeHtml(s.name)}"><rect x="${lx}" y="${ly - 6}" width="22" height="12" fill="${s.colour}"/>`);
    out.push(`<text x="${lx + 30}" y="${ly}" dy="0.32em">${escapeHtml(truncate(s.name, kLegendChars))}<title>${escapeHtml(s.name)}</title></text></g>`);
  });
  out.push('</g></svg>');
  return out.join('');
}

/** CSS for the classes above; the page includes it once. */
export const CHART_CSS = `
svg.chart { max-width: 100%; height: auto; font: 12px system-ui, sans-serif; }
svg.chart .bg { fill: #fff; }
svg.chart .grid { stroke: #d0d7de; stroke-width: 1; }
svg.chart .grid.minor { stroke: #eef1f4; }
svg.chart .frame { fill: none; stroke: #57606a; stroke-width: 1; }
svg.chart .tick { stroke: #57606a; }
svg.chart .tick-label { fill: #424a53; font-size: 11px; }
svg.chart .axis-title { fill: #24292f; font-size: 12px; }
svg.chart .chart-title { fill: #24292f; font-size: 13px; font-weight: 600; }
svg.chart .legend text { fill: #24292f; }
svg.chart .legend .note { fill: #57606a; }
svg.chart .legend .detail { font-size: 11px; }
svg.chart .bar-note { fill: #24292f; font-size: 11px; font-weight: 600; }
`;

// HDR percentile axis: x = log10(1 / (1 - p/100)), so 90% -> 1, 99% -> 2, 99.9% -> 3.

export const kHdrMaxPercentile = 99.99;

export function hdrX(percentile: number): number {
  return Math.log10(1 / (1 - percentile / 100));
}

export function hdrPercentileAxis(title: string): Axis {
  const labels = ['0%', '90%', '99%', '99.9%', '99.99%'];
  return { title, scale: 'linear', min: 0, max: hdrX(kHdrMaxPercentile), ticks: labels.map((label, i) => ({ value: i, label })) };
}

/**
 * Curve points [percentile, value] in HDR x coordinates, clipped at kHdrMaxPercentile: the
 * last point is interpolated onto the clip edge; percentile 100 (max) is never plotted.
 */
export function hdrPoints(curve: [number, number][]): Point[] {
  const edge = hdrX(kHdrMaxPercentile);
  const sorted = curve.filter(([p, v]) => Number.isFinite(p) && Number.isFinite(v) && p >= 0).sort((a, b) => a[0] - b[0]);
  const out: Point[] = [];
  for (const [p, v] of sorted) {
    const x = p >= 100 ? Infinity : hdrX(p);
    if (x <= edge + 1e-9) {
      out.push({ x, y: v });
      continue;
    }
    const prev = out[out.length - 1];
    if (prev !== undefined && prev.x < edge && Number.isFinite(x)) {
      out.push({ x: edge, y: prev.y + ((v - prev.y) * (edge - prev.x)) / (x - prev.x) });
    }
    break;
  }
  return out;
}
