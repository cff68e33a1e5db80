/**
 * The experiment report (experiment-report.ts) as one self-contained HTML page: no script,
 * no external asset, styles inline. Per experiment its sample-ratio verdict (a red banner on
 * a mismatch), a table of the arms' figures, and a table of each arm's lifts over the
 * control, every lift drawn as an inline SVG bar: its 95% interval on an axis centred on 0,
 * one scale per metric (column) of an experiment, a tick at the estimate (green: the
 * interval is above 0, red: below, grey: it holds 0).
 *
 * Every text that comes from the log (experiment, arm and currency ids: config and
 * exchanges write them) goes through logText: control characters made visible, then
 * escapeHtml.
 */
import type { ArmLifts, ArmReport, ExperimentReport, ReportCounts } from './experiment-report';
import type { Lift } from './experiment-stats';
import { formatLift, formatPercent, printable, srmVerdict } from './experiment-report-text';

const kEscapes: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text and attribute values, escaped for HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => kEscapes[c]);
}

/** Text from the log, for HTML. */
function logText(s: string): string {
  return escapeHtml(printable(s));
}

const kBarWidth = 180;
const kBarHeight = 18;

/** The half-width of a metric's axis: its largest bound over the arms, rounded up to a step of 5%, at least 5%. */
function axisHalfWidth(e: ExperimentReport, metric: keyof ArmLifts): number {
  let m = 0.05;
  for (const a of e.arms) {
    const l = a.lift?.[metric] ?? null;
    if (l !== null && Number.isFinite(l.low) && Number.isFinite(l.high)) m = Math.max(m, Math.abs(l.low), Math.abs(l.high));
  }
  return Math.ceil(m / 0.05 - 1e-9) * 0.05;
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

/** The lift's interval as an inline SVG bar on [-half, +half]. */
export function liftBar(l: Lift, half: number): string {
  const x = (v: number): number => round1(kBarWidth / 2 + (Math.max(-half, Math.min(half, v)) / half) * (kBarWidth / 2 - 2));
  const colour = l.significant ? (l.lift > 0 ? '#2e7d32' : '#c62828') : '#9e9e9e';
  const lo = x(l.low);
  const hi = x(l.high);
  const mid = x(l.lift);
  return `<svg class="bar" width="${kBarWidth}" height="${kBarHeight}" viewBox="0 0 ${kBarWidth} ${kBarHeight}" role="img">` +
    `<title>${escapeHtml(formatLift(l))} (axis ±${(half * 100).toFixed(0)}%)</title>` +
    `<line x1="${kBarWidth / 2}" y1="0" x2="${kBarWidth / 2}" y2="${kBarHeight}" stroke="#444" stroke-width="1"/>` +
    `<rect x="${lo}" y="5" width="${Math.max(1, round1(hi - lo))}" height="${kBarHeight - 10}" fill="${colour}" fill-opacity="0.45"/>` +
    `<line x1="${mid}" y1="2" x2="${mid}" y2="${kBarHeight - 2}" stroke="${colour}" stroke-width="2"/></svg>`;
}

function cell(s: string, cls = ''): string {
  return cls === '' ? `<td>${s}</td>` : `<td class="${cls}">${s}</td>`;
}

function num(x: number | null, digits: number): string {
  return x === null ? '–' : x.toFixed(digits);
}

function armRow(e: ExperimentReport, a: ArmReport): string {
  const cells = [
    cell(logText(a.armId) + (a.control ? ' <span class="tag">control</span>' : ''), 'id'),
    cell(a.weight > 0 ? String(a.weight) : '–'), cell(String(a.requests)), cell(String(a.bids)), cell(formatPercent(a.bidRate)),
    cell(String(a.wins)), cell(formatPercent(a.winRate)), cell(String(a.bills)), cell(num(a.spendUsd, 4)), cell(num(a.ecpmUsd, 4)),
    cell(num(a.spendPerRequestUsd, 6)),
  ];
  if (e.hasClicks) cells.push(cell(String(a.clicks)), cell(formatPercent(a.ctr)));
  cells.push(cell(a.surplus.length === 0 ? '–' : a.surplus.map((s) => `${s.amount.toFixed(4)} ${logText(s.currency)}`).join('<br>')));
  return `<tr>${cells.join('')}</tr>`;
}

function liftCell(l: Lift | null, half: number): string {
  if (l === null) return cell('n/a', 'lift');
  return cell(`${liftBar(l, half)}<div class="ci">${escapeHtml(formatLift(l))}</div>`, 'lift');
}

function experimentSection(e: ExperimentReport): string {
  const out: string[] = [];
  out.push(`<section><h2>Experiment <code>${logText(e.experimentId)}</code></h2>`);
  const control = e.controlArmId === null
    ? 'No control arm: no lifts.'
    : `Control: <code>${logText(e.controlArmId)}</code> (${e.controlSource === 'option' ? 'chosen with --control' : 'flagged by the exposure records'}).`;
  out.push(`<p>${control}</p>`);
  const srmClass = e.srm === null ? 'srm unknown' : e.srm.mismatch ? 'srm mismatch' : 'srm ok';
  out.push(`<p class="${srmClass}">${escapeHtml(srmVerdict(e.srm))}</p>`);
  const head = ['arm', 'weight', 'requests', 'bids', 'bid rate', 'wins', 'win rate', 'bills', 'spend USD', 'eCPM USD', 'spend/request USD'];
  if (e.hasClicks) head.push('clicks', 'CTR');
  head.push('surplus');
  out.push(`<table class="figures"><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>`);
  for (const a of e.arms) out.push(armRow(e, a));
  out.push('</tbody></table>');
  const treated = e.arms.filter((a) => a.lift !== null);
  if (treated.length > 0) {
    const metrics: [keyof ArmLifts, string][] = [['bidRate', 'bid rate'], ['winRate', 'win rate'], ...(e.hasClicks ? [['ctr', 'CTR'] as [keyof ArmLifts, string]] : []), ['spendPerRequest', 'spend per request']];
    const halves = metrics.map(([k]) => axisHalfWidth(e, k));
    out.push('<h3>Lift over control, 95% confidence interval</h3>');
    out.push(`<table class="lifts"><thead><tr><th>arm</th>${metrics.map(([, h], i) => `<th>${h}<br><span class="axis">axis ±${(halves[i] * 100).toFixed(0)}%</span></th>`).join('')}</tr></thead><tbody>`);
    for (const a of treated) {
      out.push(`<tr>${cell(logText(a.armId), 'id')}${metrics.map(([k], i) => liftCell(a.lift![k], halves[i])).join('')}</tr>`);
    }
    out.push('</tbody></table>');
  }
  out.push('</section>');
  return out.join('\n');
}

const kStyle = `body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right;vertical-align:middle}
th{background:#f4f4f4}
td.id{text-align:left;font-family:monospace}
td.lift{text-align:center}
.ci{font-family:monospace;font-size:12px}
.axis{font-weight:normal;font-size:11px;color:#666}
.tag{font-size:11px;background:#e3f2fd;border-radius:3px;padding:0 4px}
.srm{padding:6px 10px;border-radius:4px}
.srm.ok{background:#e8f5e9}
.srm.mismatch{background:#c62828;color:#fff;font-weight:bold}
.srm.unknown{background:#f4f4f4}
footer{color:#666;font-size:12px}`;

export interface HtmlReportMeta {
  /** The events folder read. */
  dir: string;
  /** When the report was made (ISO 8601). */
  generatedAt: string;
  counts: ReportCounts;
}

/** The whole page. */
export function renderHtmlReport(experiments: readonly ExperimentReport[], meta: HtmlReportMeta): string {
  const body = experiments.length === 0 ? '<p>No experiment records.</p>' : experiments.map(experimentSection).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Experiment report</title>
<style>${kStyle}</style></head>
<body><h1>Experiment report</h1>
<p>Events: <code>${logText(meta.dir)}</code>, ${meta.counts.records} records (${meta.counts.testRecords} test records left out). Made ${escapeHtml(meta.generatedAt)}.</p>
${body}
<footer><p>Lifts are relative (treatment / control − 1); intervals by the delta method on the log of the ratio.
Bid rate: requests with a bid / requests; win rate: wins / bids; CTR: clicks / wins; spend per request: a request without a bill counts 0.
Surplus: the sum of (unshaded value − clearing price) / 1000 per billed impression, in the bid currency; the value is the model's estimate.
A sample-ratio mismatch (p &lt; 0.001) means the split does not follow the weights.</p></footer>
</body></html>
`;
}
