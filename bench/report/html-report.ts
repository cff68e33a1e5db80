/**
 * The benchmark suite's results (bench/lib/results.ts) as one self-contained HTML page:
 * header, goals, the bidder against its twin (throughput and CPU per request per scenario
 * side by side, the p99-vs-offered-rate curves of both on one chart), peer ratios, and per
 * scenario the closed-loop table, the HDR latency percentile curves at the reference
 * rate, the throughput-latency curve of the open-loop sweep and its table. Inline CSS and
 * SVG only: no scripts, fonts or network.
 *
 *   node dist/bench/report/html-report.js [results.json] [out.html]
 *        (defaults: bench/results/latest.json -> bench/results/latest.html)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isSaturated, kSaturated, round2, twinPoints } from '../lib/analysis';
import { kIssue9, p99GoalRates } from '../lib/goals';
import type { ClosedLoopResult, GoalResult, OpenLoopResult, PeerRatios, ScenarioResult, SuiteResults } from '../lib/results';
import { SERVER_DESCRIPTIONS, TWIN } from '../lib/servers';
import {
  CHART_CSS,
  escapeHtml,
  formatNumber,
  groupDigits,
  hdrPercentileAxis,
  hdrPoints,
  linearAxis,
  logAxis,
  renderBarChart,
  renderChart,
  type Point,
  type Series,
} from './svg-chart';

export const BIDDER = 'bidder';
/** An open-loop run is saturated when it achieved less than this share of the offered rate (bench/lib/analysis.ts). */
export const kSaturatedShare = kSaturated;
export { isSaturated };
/** The percentile chart switches to a log y axis when max / min exceeds this. */
const kLogRangeRatio = 100;

const ROOT = resolve(__dirname, '../../..');
const DEFAULT_IN = resolve(ROOT, 'bench/results/latest.json');
const DEFAULT_OUT = resolve(ROOT, 'bench/results/latest.html');

const kBidderColour = '#d1242f';
const kKnownColours: Record<string, string> = { ceiling: '#6e7781', inline: '#0969da', fastify: '#8250df', [TWIN]: '#1a7f37' };
const kPalette = ['#bf8700', '#e16f24', '#1b7c83', '#bf3989', '#953800', '#3e4b9e', '#57606a'];
/** Peers drawn dashed: reference points rather than competitors. */
const kDashed = new Set(['ceiling']);

interface Style {
  colour: string;
  strong: boolean;
  dashed: boolean;
}

const h = escapeHtml;

// ---- formatting ----------------------------------------------------------------------

const num = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);
const dash = '—';

function ms(us: number | null | undefined): string {
  if (!num(us)) return dash;
  const v = us / 1000;
  const digits = v < 1 ? 3 : v < 10 ? 2 : v < 100 ? 1 : 0;
  return groupDigits(v.toFixed(digits));
}

function int(v: number | null | undefined): string {
  return num(v) ? formatNumber(Math.round(v)) : dash;
}

function fixed(v: number | null | undefined, digits: number): string {
  return num(v) ? groupDigits(v.toFixed(digits)) : dash;
}

function percent(v: number | null | undefined): string {
  return num(v) ? `${(100 * v).toFixed(1)}%` : dash;
}

function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function duration(from: string, to: string): string {
  const s = (new Date(to).getTime() - new Date(from).getTime()) / 1000;
  if (!Number.isFinite(s) || s < 0) return '';
  return s < 120 ? `${Math.round(s)} s` : `${(s / 60).toFixed(1)} min`;
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

// ---- colours and ordering ------------------------------------------------------------

/** One style per server name for the whole report: bidder red and thick, known peers fixed, others from a palette. */
function serverStyles(results: SuiteResults): Map<string, Style> {
  const names = new Set<string>();
  for (const s of results.scenarios) {
    for (const r of s.closed) names.add(r.server);
    for (const r of s.open) names.add(r.server);
  }
  for (const r of results.ratios) names.add(r.peer);
  const styles = new Map<string, Style>();
  styles.set(BIDDER, { colour: kBidderColour, strong: true, dashed: false });
  let next = 0;
  for (const name of [...names].sort()) {
    if (styles.has(name)) continue;
    const colour = kKnownColours[name] ?? kPalette[next++ % kPalette.length];
    styles.set(name, { colour, strong: false, dashed: kDashed.has(name) });
  }
  return styles;
}

/** Server names in first-seen order, bidder first. */
function serverOrder(names: string[]): string[] {
  const seen = [...new Set(names)];
  return seen.includes(BIDDER) ? [BIDDER, ...seen.filter((n) => n !== BIDDER)] : seen;
}

function byServer<T extends { server: string }>(rows: T[]): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const name of serverOrder(rows.map((r) => r.server))) map.set(name, []);
  for (const r of rows) map.get(r.server)!.push(r);
  return map;
}

function swatch(style: Style | undefined): string {
  return style === undefined ? '' : `<span class="swatch" style="background:${style.colour}"></span>`;
}

// ---- tables --------------------------------------------------------------------------

function table(head: string[], rows: string[], cls = ''): string {
  const th = head.map((c) => `<th>${h(c)}</th>`).join('');
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${th}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function goalsTable(goals: GoalResult[]): string {
  if (goals.length === 0) return '<p class="empty">No goals recorded.</p>';
  const met = goals.filter((g) => g.met).length;
  const rows = goals.map(
    (g) =>
      `<tr><td>${g.issue === undefined ? dash : `#${g.issue}`}</td><td>${h(g.goal)}</td><td>${h(g.measured)}</td>` +
      `<td class="${g.met ? 'good' : 'bad'}">${g.met ? '✓' : '✗'}</td></tr>`,
  );
  return `<p>${met} of ${goals.length} goals met.</p>${table(['Issue', 'Goal', 'Measured', 'Met'], rows)}`;
}

/** A bidder/peer ratio cell; good when above 1 (higherIsBetter) or below 1 (otherwise). */
function ratioCell(v: number | null, higherIsBetter: boolean): string {
  if (!num(v)) return `<td class="num">${dash}</td>`;
  const cls = v === 1 ? '' : v > 1 === higherIsBetter ? ' good' : ' bad';
  return `<td class="num${cls}">${fixed(v, 2)}×</td>`;
}

function ratiosTable(ratios: PeerRatios[], styles: Map<string, Style>): string {
  if (ratios.length === 0) return '<p class="empty">No peer ratios recorded.</p>';
  const rows = ratios.map(
    (r) =>
      `<tr><td>${h(r.scenario)}</td><td>${swatch(styles.get(r.peer))}${h(r.peer)}</td>` +
      ratioCell(r.throughput, true) +
      ratioCell(r.cpuPerRequest, false) +
      ratioCell(r.p99, false) +
      ratioCell(r.p999, false) +
      '</tr>',
  );
  return (
    '<p class="note">Each figure is bidder ÷ peer: throughput above 1, CPU per request and tail latency below 1 favour the bidder.</p>' +
    table(['Scenario', 'Peer', 'Throughput', 'CPU / request', 'p99', 'p99.9'], rows)
  );
}

function serverCell(name: string, styles: Map<string, Style>): string {
  return `<td class="server">${swatch(styles.get(name))}${h(name)}</td>`;
}

function rowClass(name: string): string {
  return name === BIDDER ? ' class="bidder"' : '';
}

function closedTable(closed: ClosedLoopResult[], styles: Map<string, Style>): string {
  if (closed.length === 0) return '<p class="empty">No closed-loop runs.</p>';
  const rows: string[] = [];
  for (const [name, runs] of byServer(closed)) {
    for (const r of runs) {
      const l = r.latencyUs;
      rows.push(
        `<tr${rowClass(name)}>${serverCell(name, styles)}<td class="num">${int(r.rps)}</td>` +
          [l.p50, l.p90, l.p99, l.p999, l.max].map((v) => `<td class="num">${ms(v)}</td>`).join('') +
          `<td class="num">${int(r.non2xx)}</td><td class="num">${int(r.errors)}</td>` +
          `<td class="num">${fixed(r.cpuMsPer1000, 1)}</td><td class="num">${fixed(r.rssMb, 0)}</td></tr>`,
      );
    }
  }
  const setups = [...new Set(closed.map((r) => `${r.generator}, ${r.connections} connections, ${fixed(r.durationS, 0)} s`))];
  return (
    `<p class="note">Closed loop (${h(setups.join('; '))}). Latencies in ms.</p>` +
    table(['Server', 'req/s', 'p50', 'p90', 'p99', 'p99.9', 'max', 'non-2xx', 'errors', 'CPU ms/1k req', 'RSS MB'], rows)
  );
}

function sweepTable(open: OpenLoopResult[], styles: Map<string, Style>): string {
  const rows: string[] = [];
  for (const [name, runs] of byServer(open)) {
    for (const r of [...runs].sort((a, b) => a.offeredRate - b.offeredRate)) {
      const sat = isSaturated(r);
      const achieved = sat
        ? `<td class="num bad" title="achieved &lt; ${kSaturatedShare * 100}% of offered">${int(r.achievedRate)} <span class="tag">saturated</span></td>`
        : `<td class="num">${int(r.achievedRate)}</td>`;
      rows.push(
        `<tr${rowClass(name)}>${serverCell(name, styles)}<td class="num">${int(r.offeredRate)}</td>${achieved}` +
          `<td class="num">${ms(r.latencyUs.p50)}</td><td class="num">${ms(r.latencyUs.p99)}</td><td class="num">${ms(r.latencyUs.p999)}</td>` +
          `<td class="num">${int(r.errors)}</td><td class="num">${percent(r.bidShare)}</td></tr>`,
      );
    }
  }
  return table(['Server', 'offered req/s', 'achieved req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'errors', 'bid share'], rows);
}

// ---- charts --------------------------------------------------------------------------

/** The run's HDR curve in ms, or its summary percentiles when the curve is missing. */
function curveMs(r: OpenLoopResult): [number, number][] {
  const l = r.latencyUs;
  const src: [number, number][] =
    Array.isArray(r.curve) && r.curve.length > 0 ? r.curve : [[50, l.p50], [90, l.p90], [99, l.p99], [99.9, l.p999]];
  return src.map(([p, us]) => [p, us / 1000]);
}

function percentileChart(s: ScenarioResult, styles: Map<string, Style>): string {
  const ref = s.referenceRate;
  if (ref === null) return '<p class="empty">No reference rate: no percentile curves.</p>';
  const series: Series[] = [];
  for (const [name, runs] of byServer(s.open.filter((r) => r.offeredRate === ref))) {
    const r = runs[0];
    const style = styles.get(name)!;
    const points = hdrPoints(curveMs(r));
    const sat = isSaturated(r) ? ', saturated' : '';
    series.push({ name, detail: `max ${ms(r.latencyUs.max)} ms${sat}`, ...style, points });
  }
  if (series.length === 0) return `<p class="empty">No runs at the reference rate (${int(ref)} req/s).</p>`;
  const ys = series.flatMap((x) => x.points.map((p) => p.y)).filter((y) => y > 0);
  const lo = ys.length > 0 ? Math.min(...ys) : 0.01;
  const hi = ys.length > 0 ? Math.max(...ys) : 1;
  const title = 'latency (ms)';
  const log = hi / lo > kLogRangeRatio;
  return renderChart({
    title: `Latency by percentile at ${formatNumber(ref)} req/s offered (max in legend)`,
    x: hdrPercentileAxis('percentile'),
    y: log ? logAxis(`${title}, log`, lo, hi) : linearAxis(title, 0, hi),
    series,
  });
}

function throughputChart(s: ScenarioResult, styles: Map<string, Style>): string {
  const rates = new Set(s.open.map((r) => r.offeredRate));
  if (rates.size < 2) return '';
  const series: Series[] = [];
  for (const [name, runs] of byServer(s.open)) {
    const points: Point[] = [...runs]
      .sort((a, b) => a.offeredRate - b.offeredRate)
      .map((r) => ({
        x: r.offeredRate,
        y: r.latencyUs.p99 / 1000,
        hollow: isSaturated(r),
        title: `${name} at ${int(r.offeredRate)} req/s offered: achieved ${int(r.achievedRate)}, p99 ${ms(r.latencyUs.p99)} ms${isSaturated(r) ? ' (saturated)' : ''}`,
      }));
    series.push({ name, ...styles.get(name)!, markers: true, points });
  }
  const ys = series.flatMap((x) => x.points.map((p) => p.y)).filter((y) => num(y) && y > 0);
  const xs = s.open.map((r) => r.offeredRate).filter(num);
  return renderChart({
    title: 'p99 latency against offered rate',
    x: linearAxis('offered rate (req/s)', 0, Math.max(...xs)),
    y: logAxis('p99 latency (ms), log', ys.length > 0 ? Math.min(...ys) : 0.1, ys.length > 0 ? Math.max(...ys) : 1),
    series,
    hollowLabel: `saturated (< ${kSaturatedShare * 100}%)`,
  });
}

// ---- the bidder against its twin (issue 9) --------------------------------------------

interface TwinPair {
  s: ScenarioResult;
  /** The scenario's name, numbered when it repeats (the gate's rounds). */
  label: string;
  bidder: ClosedLoopResult;
  twin: ClosedLoopResult;
}

function twinPairs(results: SuiteResults): TwinPair[] {
  const pairs: TwinPair[] = [];
  const count = new Map<string, number>();
  for (const s of results.scenarios) count.set(s.name, (count.get(s.name) ?? 0) + 1);
  const seen = new Map<string, number>();
  for (const s of results.scenarios) {
    const bidder = s.closed.find((c) => c.server === BIDDER);
    const twin = s.closed.find((c) => c.server === TWIN);
    const n = (seen.get(s.name) ?? 0) + 1;
    seen.set(s.name, n);
    const label = count.get(s.name)! > 1 ? `${s.name} #${n}` : s.name;
    if (bidder && twin) pairs.push({ s, label, bidder, twin });
  }
  return pairs;
}

const times = (x: number): string => `${fixed(x, 2)}×`;

function twinBars(pairs: TwinPair[], styles: Map<string, Style>): string {
  const categories = pairs.map((p) => p.label);
  const series = (pick: (c: ClosedLoopResult) => number) => [
    { name: BIDDER, colour: styles.get(BIDDER)!.colour, values: pairs.map((p) => pick(p.bidder)) },
    { name: TWIN, colour: styles.get(TWIN)!.colour, values: pairs.map((p) => pick(p.twin)) },
  ];
  const ratioNotes = (pick: (c: ClosedLoopResult) => number) => pairs.map((p) => (pick(p.twin) > 0 ? times(round2(pick(p.bidder) / pick(p.twin))) : ''));
  return (
    renderBarChart({ title: 'Throughput, closed loop (bidder ÷ twin above each pair)', yTitle: 'req/s', categories, series: series((c) => c.rps), notes: ratioNotes((c) => c.rps) }) +
    renderBarChart({
      title: 'CPU per request, closed loop (bidder ÷ twin above each pair)',
      yTitle: 'CPU ms per 1,000 requests',
      categories,
      series: series((c) => c.cpuMsPer1000),
      notes: ratioNotes((c) => c.cpuMsPer1000),
      format: (v) => fixed(v, 1),
    })
  );
}

function twinTable(pairs: TwinPair[]): string {
  const rows = pairs.map(
    ({ label, bidder, twin }) =>
      `<tr><td>${h(label)}</td><td class="num">${int(bidder.rps)}</td><td class="num">${int(twin.rps)}</td>${ratioCell(round2(bidder.rps / twin.rps), true)}` +
      `<td class="num">${fixed(bidder.cpuMsPer1000, 1)}</td><td class="num">${fixed(twin.cpuMsPer1000, 1)}</td>` +
      `${ratioCell(twin.cpuMsPer1000 > 0 ? round2(bidder.cpuMsPer1000 / twin.cpuMsPer1000) : null, false)}</tr>`,
  );
  const head = ['Scenario', `${BIDDER} req/s`, `${TWIN} req/s`, 'Throughput', `${BIDDER} CPU ms/1k`, `${TWIN} CPU ms/1k`, 'CPU / request'];
  return table(head, rows);
}

/** p99 against offered rate, the bidder and the twin on one chart, with the goal's 1.25 × twin where issue 9 sets it. */
function twinCurveChart(s: ScenarioResult, label: string, styles: Map<string, Style>): string {
  const points = twinPoints(s);
  if (points.length < 2) return '';
  const line = (name: string, pick: (p: (typeof points)[number]) => OpenLoopResult): Series => ({
    name,
    ...styles.get(name)!,
    markers: true,
    points: points.map((p) => {
      const r = pick(p);
      return {
        x: p.rate,
        y: r.latencyUs.p99 / 1000,
        hollow: isSaturated(r),
        title: `${name} at ${int(p.rate)} req/s offered: achieved ${int(r.achievedRate)}, p99 ${ms(r.latencyUs.p99)} ms${isSaturated(r) ? ' (saturated)' : ''}`,
      };
    }),
  });
  const series = [line(BIDDER, (p) => p.bidder), line(TWIN, (p) => p.twin)];
  if (kIssue9.models[s.name] !== undefined) {
    series.push({
      name: `goal: ${kIssue9.p99VsTwin} × twin`,
      colour: styles.get(TWIN)!.colour,
      dashed: true,
      points: points.map((p) => ({ x: p.rate, y: (kIssue9.p99VsTwin * p.twin.latencyUs.p99) / 1000 })),
    });
  }
  const ys = series.flatMap((x) => x.points.map((p) => p.y)).filter((y) => num(y) && y > 0);
  return renderChart({
    title: `${label}: p99 against offered rate, bidder and twin`,
    x: linearAxis('offered rate (req/s)', 0, Math.max(...points.map((p) => p.rate))),
    y: logAxis('p99 latency (ms), log', ys.length > 0 ? Math.min(...ys) : 0.1, ys.length > 0 ? Math.max(...ys) : 1),
    series,
    hollowLabel: `saturated (< ${kSaturatedShare * 100}%)`,
  });
}

function twinPointsTable(pairs: TwinPair[]): string {
  const rows: string[] = [];
  for (const { s, label } of pairs) {
    const covered = new Set(p99GoalRates(s));
    for (const p of twinPoints(s)) {
      const cell = (r: OpenLoopResult) =>
        `<td class="num${isSaturated(r) ? ' bad' : ''}">${ms(r.latencyUs.p99)}${isSaturated(r) ? ' <span class="tag">saturated</span>' : ''}</td>`;
      const met = p.bidder.latencyUs.p99 <= kIssue9.p99VsTwin * p.twin.latencyUs.p99;
      const goal = covered.has(p.rate) ? `<td class="${met ? 'good' : 'bad'}">${met ? '✓' : '✗'}</td>` : `<td>${dash}</td>`;
      rows.push(`<tr><td>${h(label)}</td><td class="num">${int(p.rate)}</td>${cell(p.bidder)}${cell(p.twin)}${ratioCell(p.p99Ratio, false)}${goal}</tr>`);
    }
  }
  if (rows.length === 0) return '';
  return table(['Scenario', 'offered req/s', `${BIDDER} p99 ms`, `${TWIN} p99 ms`, 'p99', `≤ ${kIssue9.p99VsTwin}× (issue 9)`], rows);
}

function twinSection(results: SuiteResults, styles: Map<string, Style>): string {
  const pairs = twinPairs(results);
  if (pairs.length === 0) return '<h2 id="twin">Bidder against the twin</h2><p class="empty">The twin did not run beside the bidder.</p>';
  const what = results.servers?.[TWIN] ?? SERVER_DESCRIPTIONS[TWIN];
  const curves = pairs.map((p) => twinCurveChart(p.s, p.label, styles)).filter((c) => c !== '');
  return [
    '<h2 id="twin">Bidder against the twin</h2>',
    `<p class="note">${h(what)}. The only difference from the bidder is the thread layout. Each pair was measured in the same run; ` +
      'throughput above 1, CPU per request and p99 below 1 favour the bidder. ' +
      `Issue 9's goals: throughput ≥ ${kIssue9.throughputVsTwin}× with both models, CPU per request ≤ ${kIssue9.cpuVsTwin}× (banner-small), ` +
      `p99 ≤ ${kIssue9.p99VsTwin}× from ${int(kIssue9.p99LadderFrom)} req/s to ${kIssue9.p99LadderTop * 100}% of the twin's capacity (banner-small) and at 2,500 and 5,000 req/s (banner-realistic).</p>`,
    `<div class="charts">${twinBars(pairs, styles)}</div>`,
    twinTable(pairs),
    curves.length > 0 ? `<h3>Open loop</h3><div class="charts">${curves.join('')}</div>` : '',
    twinPointsTable(pairs),
  ].join('\n');
}

function serversList(results: SuiteResults, styles: Map<string, Style>): string {
  const servers = results.servers;
  if (servers === undefined || Object.keys(servers).length === 0) return '';
  const rows = Object.entries(servers).map(([name, what]) => `<dt>${swatch(styles.get(name))}${h(name)}</dt><dd>${h(what)}</dd>`);
  return `<dl class="meta servers">${rows.join('')}</dl>`;
}

// ---- page ----------------------------------------------------------------------------

function scenarioId(s: ScenarioResult, i: number): string {
  return `scenario-${i + 1}${slug(s.name) ? `-${slug(s.name)}` : ''}`;
}

function scenarioSection(s: ScenarioResult, i: number, styles: Map<string, Style>): string {
  const parts = [`<section class="scenario" id="${scenarioId(s, i)}">`, `<h2>${h(s.name)}</h2>`];
  if (s.description) parts.push(`<p class="description">${h(s.description)}</p>`);
  parts.push('<h3>Closed loop</h3>', closedTable(s.closed, styles));
  if (s.open.length > 0) {
    const ref = s.referenceRate === null ? '' : ` Reference rate ${int(s.referenceRate)} req/s.`;
    parts.push(
      '<h3>Open loop</h3>',
      `<p class="note">Fixed offered rates, latency from each request's intended send time.${ref}</p>`,
      `<div class="charts">${percentileChart(s, styles)}${throughputChart(s, styles)}</div>`,
      sweepTable(s.open, styles),
    );
  }
  parts.push('</section>');
  return parts.join('\n');
}

const PAGE_CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #24292f; margin: 24px auto; max-width: 1100px; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 36px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0 16px; }
dl.meta dt { color: #57606a; } dl.meta dd { margin: 0; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; background: #f6f8fa; padding: 1px 4px; border-radius: 3px; word-break: break-all; }
table { border-collapse: collapse; margin: 6px 0 14px; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; }
th { background: #f6f8fa; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.bidder td { font-weight: 600; }
.good { background: #dafbe1; color: #116329; } .bad { background: #ffebe9; color: #a40e26; }
.tag { font-size: 11px; font-weight: 400; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: baseline; }
.note, .description, .empty { color: #57606a; margin: 4px 0; } .empty { font-style: italic; }
nav ul { margin: 4px 0; padding-left: 20px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
${CHART_CSS}`;

export function renderHtmlReport(results: SuiteResults): string {
  const styles = serverStyles(results);
  const m = results.machine;
  const title = results.kind === 'gate' ? 'Benchmark gate' : 'Benchmark suite';
  const took = duration(results.startedAt, results.finishedAt);
  const load = Array.isArray(m.loadAvg) && m.loadAvg.length > 0 ? m.loadAvg.map((v) => fixed(v, 2)).join(' / ') : dash;
  const toc = results.scenarios.map((s, i) => `<li><a href="#${scenarioId(s, i)}">${h(s.name)}</a></li>`).join('');
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${h(title)} ${h(when(results.startedAt))}</title>`,
    `<style>${PAGE_CSS}</style>`,
    '</head>',
    '<body>',
    `<h1>${h(title)}</h1>`,
    '<dl class="meta">',
    `<dt>When</dt><dd>${h(when(results.startedAt))} → ${h(when(results.finishedAt))}${took ? ` (${h(took)})` : ''}</dd>`,
    `<dt>Machine</dt><dd>${int(m.cpus)} CPUs, ${h(m.cpuModel)}; Node ${h(m.node)}; load average at start ${h(load)}</dd>`,
    `<dt>Command</dt><dd><code>${h(results.command)}</code></dd>`,
    '</dl>',
    serversList(results, styles),
    toc ? `<nav><strong>Scenarios</strong><ul>${toc}</ul></nav>` : '',
    '<h2>Goals</h2>',
    goalsTable(results.goals),
    twinSection(results, styles),
    '<h2>Bidder against peers</h2>',
    ratiosTable(results.ratios, styles),
    ...results.scenarios.map((s, i) => scenarioSection(s, i, styles)),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function main(argv: string[]): void {
  const input = argv[0] !== undefined ? resolve(argv[0]) : DEFAULT_IN;
  const output = argv[1] !== undefined ? resolve(argv[1]) : DEFAULT_OUT;
  let results: SuiteResults;
  try {
    results = JSON.parse(readFileSync(input, 'utf8')) as SuiteResults;
  } catch (err) {
    process.stderr.write(`html-report: cannot read ${input}: ${(err as Error).message}\n`);
    process.exit(1);
  }
  mkdirSync(dirname(output), { recursive: true });
  writeFileSync(output, renderHtmlReport(results));
  process.stdout.write(`${output}\n`);
}

if (require.main === module) main(process.argv.slice(2));
