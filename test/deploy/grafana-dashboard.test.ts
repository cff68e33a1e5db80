/**
 * The shipped Grafana dashboard (deploy/grafana/rtb-bidder.json): well-formed and laid out
 * without overlaps, every query on the ${datasource} variable and filtered by $job and
 * $pod, the seven rows there, exactly what build-dashboard.mjs writes (nobody edited the
 * JSON by hand), valid PromQL (promtool, when installed), and reading only metrics a live
 * bidder exports. Each check is a function that returns its findings, run once on the
 * shipped dashboard (no findings) and once on a copy broken on purpose (the finding named),
 * so none of them can pass by finding nothing to look at.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveMetricFamilies } from '../helpers/live-metrics';
import { metricNamesIn, unknownNames } from '../helpers/promql-names';
import { REPO_ROOT } from '../helpers/test-bidder';

t.setTimeout(120_000);

const DIR = join(REPO_ROOT, 'deploy/grafana');
const JSON_PATH = join(DIR, 'rtb-bidder.json');
const BUILD_SCRIPT = join(DIR, 'build-dashboard.mjs');
const DATASOURCE = '${datasource}';
const GRID_WIDTH = 24;

const REQUIRED_ROWS = ['Traffic and outcomes', 'Latency by stage', 'Pool and placement', 'Models and arms', 'Spend and pacing', 'Notices', 'Redis / fleet'];

/**
 * What the dashboard promises to show: removing the last panel on one of these is a
 * decision to make here, not an accident of an edit.
 */
const REQUIRED_FAMILIES = [
  'up', 'bidder_requests_total', 'bidder_test_requests_total', 'bidder_requests_in_flight', 'bidder_ready',
  'bidder_request_stage_duration_seconds_bucket', 'bidder_model_inference_duration_seconds_bucket',
  'nodejs_eventloop_lag_p99_seconds', 'bidder_frontend_loop_busy_seconds_total',
  'bidder_pool_threads', 'bidder_pool_queue_depth_requests', 'bidder_pool_queued_tasks', 'bidder_pool_inflight_batches',
  'bidder_pool_worker_busy_seconds_total', 'bidder_batches_total', 'bidder_scored_requests_total', 'bidder_pool_batch_requests_bucket',
  'bidder_batch_cost_seconds_total', 'bidder_receive_slab_segments_in_use', 'bidder_receiving_bytes',
  'process_cpu_seconds_total', 'process_resident_memory_bytes',
  'bidder_model_info', 'bidder_model_state', 'bidder_model_canary_traffic_ratio', 'bidder_model_runs_total',
  'bidder_model_errors_total', 'bidder_model_run_seconds_total', 'bidder_shadow_mean_ctr', 'bidder_shadow_calibration_gap',
  'bidder_experiment_requests_total', 'bidder_experiment_bids_total', 'bidder_experiment_wins_total',
  'bidder_experiment_spend_micros_total', 'bidder_experiment_clicks_total', 'bidder_shading_bids_total', 'bidder_shading_saved_micros_total',
  'bidder_spend_micros_total', 'bidder_spend_today_micros', 'bidder_budget_available_micros', 'bidder_budget_reserved_micros',
  'bidder_pacing_participation_ratio', 'bidder_pacing_spend_micros', 'bidder_pacing_target_spend_micros',
  'bidder_money_filtered_total', 'bidder_bid_price_usd_bucket',
  'bidder_notices_total', 'bidder_notice_delay_seconds_bucket', 'bidder_notice_anomalies_total', 'bidder_advertiser_trackers_total',
  'bidder_events_total', 'bidder_fleet_up', 'bidder_fleet_operations_total',
];

/** Grafana's own variables; every other $name in a query must be a template variable. */
const BUILTIN_VARIABLES = new Set(['__rate_interval', '__interval', '__range', '__range_s', '__interval_ms']);

interface GridPos { x: number; y: number; w: number; h: number }
interface Target { refId?: string; expr?: string; datasource?: { type?: string; uid?: string } }
interface Panel {
  id: number;
  type: string;
  title?: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  gridPos: GridPos;
  targets?: Target[];
  panels?: Panel[];
  fieldConfig?: { defaults?: { unit?: string } };
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query?: string };
  datasource?: { uid?: string };
  current?: { value?: string | string[] };
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}
interface Annotation { name: string; expr?: string; builtIn?: number; datasource?: { uid?: string } }
interface Dashboard {
  schemaVersion: number;
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
  annotations: { list: Annotation[] };
}

const text = readFileSync(JSON_PATH, 'utf8');
const dashboard = JSON.parse(text) as Dashboard;
const copy = (): Dashboard => JSON.parse(text) as Dashboard;

/** Every panel, rows' collapsed children included, in file order. */
function allPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}
const contentPanels = (d: Dashboard): Panel[] => allPanels(d).filter((p) => p.type !== 'row');
const label = (p: Panel): string => `panel ${p.id} "${p.title ?? ''}"`;

/** Every PromQL expression the dashboard sends, with where it comes from. */
function panelExprs(d: Dashboard): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const p of contentPanels(d)) for (const tg of p.targets ?? []) out.push({ where: `${label(p)} ${tg.refId ?? '?'}`, expr: tg.expr ?? '' });
  for (const a of d.annotations.list) if (a.expr !== undefined) out.push({ where: `annotation "${a.name}"`, expr: a.expr });
  return out;
}

function variableQuery(v: Variable): string {
  return typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
}

/** The PromQL inside a variable query: label_values(SELECTOR, label), query_result(EXPR). */
function variableExpr(query: string): string | null {
  const labelValues = /^\s*label_values\(\s*(.+?)\s*,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$/.exec(query);
  if (labelValues) return labelValues[1];
  if (/^\s*label_values\(\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$/.test(query)) return null; // a label across all series
  const result = /^\s*query_result\((.+)\)\s*$/.exec(query);
  return result ? result[1] : query;
}

function variableExprs(d: Dashboard): { where: string; expr: string }[] {
  return d.templating.list
    .filter((v) => v.type === 'query')
    .flatMap((v) => {
      const expr = variableExpr(variableQuery(v));
      return expr === null ? [] : [{ where: `variable $${v.name}`, expr }];
    });
}

function structureProblems(d: Dashboard): string[] {
  const problems: string[] = [];
  const seen = new Map<number, Panel>();
  for (const p of allPanels(d)) {
    if (!Number.isInteger(p.id)) problems.push(`${label(p)}: id is not an integer`);
    const first = seen.get(p.id);
    if (first !== undefined) problems.push(`${label(p)}: duplicate id (also ${label(first)})`);
    else seen.set(p.id, p);
    if (typeof p.title !== 'string' || p.title.trim() === '') problems.push(`${label(p)}: no title`);
  }
  for (const p of contentPanels(d)) {
    if (p.type !== 'timeseries' && p.type !== 'stat') problems.push(`${label(p)}: type ${p.type}, not timeseries or stat`);
    if (typeof p.description !== 'string' || p.description.length < 40) problems.push(`${label(p)}: no description saying how to read it`);
    if (p.datasource?.uid !== DATASOURCE) problems.push(`${label(p)}: datasource ${JSON.stringify(p.datasource)}, not ${DATASOURCE}`);
    if (!p.fieldConfig?.defaults?.unit) problems.push(`${label(p)}: no unit`);
    const targets = p.targets ?? [];
    if (targets.length === 0) problems.push(`${label(p)}: no targets`);
    const refIds = new Set<string>();
    for (const tg of targets) {
      if (typeof tg.expr !== 'string' || tg.expr.trim() === '') problems.push(`${label(p)} ${tg.refId}: no expr`);
      if (tg.datasource !== undefined && tg.datasource.uid !== DATASOURCE) problems.push(`${label(p)} ${tg.refId}: target datasource ${tg.datasource.uid}`);
      if (tg.refId === undefined || refIds.has(tg.refId)) problems.push(`${label(p)}: missing or repeated refId ${tg.refId}`);
      else refIds.add(tg.refId);
    }
  }
  for (const a of d.annotations.list) {
    if (a.builtIn !== 1 && a.datasource?.uid !== DATASOURCE) problems.push(`annotation "${a.name}": datasource ${a.datasource?.uid}, not ${DATASOURCE}`);
  }
  return problems;
}

function layoutProblems(d: Dashboard): string[] {
  const problems: string[] = [];
  for (const p of allPanels(d)) {
    const g = p.gridPos;
    if (g === undefined) {
      problems.push(`${label(p)}: no gridPos`);
      continue;
    }
    if (![g.x, g.y, g.w, g.h].every(Number.isInteger) || g.x < 0 || g.y < 0 || g.w < 1 || g.h < 1 || g.x + g.w > GRID_WIDTH) {
      problems.push(`${label(p)}: gridPos ${JSON.stringify(g)} is outside the ${GRID_WIDTH}-column grid`);
    }
  }
  // A collapsed row's children are stored inside it and placed only when it opens: the
  // top level is what Grafana lays out at once.
  const topLevel = d.panels.filter((p) => p.gridPos !== undefined);
  for (let i = 0; i < topLevel.length; i++) {
    for (let j = i + 1; j < topLevel.length; j++) {
      const a = topLevel[i].gridPos;
      const b = topLevel[j].gridPos;
      if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) problems.push(`${label(topLevel[i])} overlaps ${label(topLevel[j])}`);
    }
  }
  return problems;
}

/** The rows in order, each with the panels under it (its own when collapsed, else those that follow). */
function rowsOf(d: Dashboard): { title: string; panels: Panel[] }[] {
  const rows: { title: string; panels: Panel[] }[] = [];
  for (const p of d.panels) {
    if (p.type === 'row') rows.push({ title: p.title ?? '', panels: [...(p.panels ?? [])] });
    else if (rows.length > 0) rows[rows.length - 1].panels.push(p);
  }
  return rows;
}

function rowProblems(d: Dashboard): string[] {
  const problems: string[] = [];
  const rows = rowsOf(d);
  if (d.panels[0]?.type !== 'row') problems.push('the dashboard does not start with a row');
  for (const title of REQUIRED_ROWS) {
    const row = rows.find((r) => r.title === title);
    if (row === undefined) problems.push(`row "${title}" is missing`);
    else if (row.panels.length === 0) problems.push(`row "${title}" has no panels`);
  }
  if (rows[0]?.title !== REQUIRED_ROWS[0]) problems.push(`the first row is "${rows[0]?.title}", not "${REQUIRED_ROWS[0]}" (is it serving and bidding)`);
  return problems;
}

/** Blanks string literals (same length), so positions still match the original text. */
function maskStrings(expr: string): string {
  return expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, (s) => ' '.repeat(s.length));
}

/** Every series selector must carry job="$job" and pod=~"$pod": a panel that forgets one mixes in other jobs or hides the pod picker. */
function filterProblems(exprs: { where: string; expr: string }[]): string[] {
  const problems: string[] = [];
  for (const { where, expr } of exprs) {
    const masked = maskStrings(expr);
    for (const name of metricNamesIn(expr)) {
      const re = new RegExp(`(?<![A-Za-z0-9_:])${name}(?![A-Za-z0-9_:])`, 'g');
      for (let m = re.exec(masked); m !== null; m = re.exec(masked)) {
        const after = expr.slice(m.index + name.length);
        const matcher = /^\s*\{([^}]*)\}/.exec(after)?.[1];
        if (matcher === undefined) problems.push(`${where}: ${name} has no label matcher`);
        else {
          if (!/(^|,)\s*job\s*=\s*"\$job"/.test(matcher)) problems.push(`${where}: ${name}{${matcher}} is not filtered by job="$job"`);
          if (!/(^|,)\s*pod\s*=~\s*"\$pod"/.test(matcher)) problems.push(`${where}: ${name}{${matcher}} is not filtered by pod=~"$pod"`);
        }
      }
    }
  }
  return problems;
}

/** $names used in queries that are neither template variables nor Grafana's own. */
function undefinedVariables(d: Dashboard, exprs: { where: string; expr: string }[]): string[] {
  const defined = new Set(d.templating.list.map((v) => v.name));
  const problems: string[] = [];
  for (const { where, expr } of exprs) {
    for (const m of expr.matchAll(/\$\{(\w+)[^}]*\}|\$(\w+)/g)) {
      const name = m[1] ?? m[2];
      if (!defined.has(name) && !BUILTIN_VARIABLES.has(name)) problems.push(`${where}: $${name} is not a template variable`);
    }
  }
  return problems;
}

function allExprs(d: Dashboard): { where: string; expr: string }[] {
  return [...panelExprs(d), ...variableExprs(d)];
}

/** A panel to break on purpose: the first content panel whose first query reads `metric`. */
function panelReading(d: Dashboard, metric: string): Panel {
  const p = contentPanels(d).find((x) => (x.targets?.[0]?.expr ?? '').includes(metric));
  if (p === undefined) throw new Error(`no panel reads ${metric}`);
  return p;
}

t.test('the JSON parses, is formatted for review, and is a schemaVersion 39 dashboard', async (t) => {
  t.equal(text, `${JSON.stringify(dashboard, null, 2)}\n`, '2-space indent, trailing newline');
  t.equal(dashboard.schemaVersion, 39);
  t.equal(dashboard.uid, 'rtb-bidder', 'a stable uid, so links and provisioning survive re-imports');
  t.ok(contentPanels(dashboard).length >= 40, `panels: ${contentPanels(dashboard).length}`);
});

t.test('structure: unique ids, titles, descriptions, units, the ${datasource} variable, targets with expr', async (t) => {
  t.same(structureProblems(dashboard), [], 'no findings');
  const broken = copy();
  const [a, b] = contentPanels(broken);
  b.id = a.id;
  b.datasource = { type: 'prometheus', uid: 'prometheus-prod' };
  delete b.fieldConfig;
  b.targets = [{ refId: 'A', expr: '' }];
  const found = structureProblems(broken).join('\n');
  t.match(found, /duplicate id/, 'a repeated id is found');
  t.match(found, /not \$\{datasource\}/, 'a fixed datasource is found');
  t.match(found, /no unit/, 'a missing unit is found');
  t.match(found, /no expr/, 'an empty query is found');
});

t.test('layout: every panel on the grid, none overlapping', async (t) => {
  t.same(layoutProblems(dashboard), [], 'no findings');
  const broken = copy();
  const [a, b] = contentPanels(broken);
  b.gridPos = { ...a.gridPos, x: a.gridPos.x + 1 };
  t.ok(layoutProblems(broken).includes(`${label(a)} overlaps ${label(b)}`), 'an overlap is found');
  const wide = copy();
  contentPanels(wide)[0].gridPos.w = 30;
  t.match(layoutProblems(wide).join('\n'), /outside the 24-column grid/, 'a panel off the grid is found');
});

t.test('rows: the seven required rows, each with panels, "Traffic and outcomes" first', async (t) => {
  t.same(rowProblems(dashboard), [], 'no findings');
  t.same(rowsOf(dashboard).map((r) => r.title), REQUIRED_ROWS, 'in this order');
  const broken = copy();
  const notices = broken.panels.find((p) => p.type === 'row' && p.title === 'Notices')!;
  notices.title = 'Notice';
  t.match(rowProblems(broken).join('\n'), /row "Notices" is missing/, 'a missing row is found by title');
});

t.test('template variables: datasource, job (default rtb-bidder), pod (multi, all), campaign', async (t) => {
  const v = new Map(dashboard.templating.list.map((x) => [x.name, x]));
  t.equal(v.get('datasource')?.type, 'datasource');
  t.equal((v.get('datasource') as { query?: string } | undefined)?.query, 'prometheus');
  const job = v.get('job');
  t.equal(job?.current?.value, 'rtb-bidder', 'job defaults to rtb-bidder');
  const pod = v.get('pod');
  t.equal(pod && variableQuery(pod), 'label_values(bidder_requests_total{job="$job"}, pod)');
  t.ok(pod?.multi && pod?.includeAll, 'pod: multi-value with All');
  t.equal(pod?.allValue, '.*', 'All means every pod, including ones that appeared after the page loaded');
  const campaign = v.get('campaign');
  t.match(campaign && variableQuery(campaign), /^label_values\(bidder_spend_micros_total(\{[^}]*\})?, campaign\)$/);
  for (const x of dashboard.templating.list.filter((y) => y.type === 'query')) {
    t.equal(x.datasource?.uid, DATASOURCE, `$${x.name} queries \${datasource}`);
    t.not(variableExpr(variableQuery(x)), null, `$${x.name} reads a metric`);
  }
  t.same(variableExpr('label_values(bidder_requests_total{job="$job"}, pod)'), 'bidder_requests_total{job="$job"}', 'the selector of label_values is what is checked');
  t.same(undefinedVariables(dashboard, allExprs(dashboard)), [], 'every $variable in a query is defined');
  t.same(undefinedVariables(dashboard, [{ where: 'x', expr: 'rate(a{job="$jbo"}[$__rate_interval])' }]), ['x: $jbo is not a template variable'], 'a misspelt variable is found');
});

t.test('every selector is filtered by job="$job" and pod=~"$pod"', async (t) => {
  t.same(filterProblems(panelExprs(dashboard)), [], 'panels and annotations');
  t.same(filterProblems([{ where: 'x', expr: 'sum(rate(a{job="$job",pod=~"$pod"}[1m])) / sum(rate(b{job="$job"}[1m])) / c' }]), [
    'x: b{job="$job"} is not filtered by pod=~"$pod"',
    'x: c has no label matcher',
  ], 'a selector without the pod filter, and a bare metric, are found');
  const broken = copy();
  const p = panelReading(broken, 'bidder_requests_total');
  p.targets![0].expr = p.targets![0].expr!.replace(/job="\$job",/, '');
  t.match(filterProblems(panelExprs(broken)).join('\n'), /is not filtered by job="\$job"/, 'a dropped job filter in the dashboard is found');
});

t.test('the committed JSON is what build-dashboard.mjs writes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'grafana-dashboard-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'rtb-bidder.json');
  const run = spawnSync(process.execPath, [BUILD_SCRIPT, out], { encoding: 'utf8', timeout: 30_000 });
  t.equal(run.status, 0, `the script runs: ${run.stderr}`);
  const generated = readFileSync(out, 'utf8');
  // Compare parsed first for a readable diff, then bytes for the formatting.
  t.same(JSON.parse(generated), dashboard, 'same dashboard (run: node deploy/grafana/build-dashboard.mjs)');
  t.equal(generated, text, 'byte for byte');
});

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const promtoolMissing = promtool.error ? `promtool not on PATH (${promtool.error.message})` : false;

t.test('every query is valid PromQL (promtool check rules)', { skip: promtoolMissing }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'grafana-promql-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Grafana substitutes its variables before Prometheus sees a query: do the same.
  const substitute = (e: string) =>
    e.replace(/\$__rate_interval|\$\{__rate_interval\}/g, '1m').replace(/\$\{?job\}?/g, 'rtb-bidder').replace(/\$\{?(pod|campaign)\}?/g, '.*');
  const check = (exprs: { where: string; expr: string }[]) => {
    const file = join(dir, `rules-${Math.random().toString(36).slice(2)}.yml`);
    // JSON is YAML: no quoting to get wrong.
    const rules = { groups: [{ name: 'dashboard', rules: exprs.map((e, i) => ({ record: `dashboard:query:${i}`, expr: substitute(e.expr) })) }] };
    writeFileSync(file, JSON.stringify(rules));
    const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8', timeout: 30_000 });
    return { status: r.status, output: (r.stdout + r.stderr).slice(0, 2_000) };
  };
  const exprs = allExprs(dashboard);
  const ok = check(exprs);
  t.equal(ok.status, 0, `${exprs.length} queries parse: ${ok.output}`);
  const bad = check([{ where: 'x', expr: 'sum(rate(bidder_requests_total{job="$job"}[$__rate_interval])' }]);
  t.not(bad.status, 0, 'an unbalanced query is refused');
});

t.test('every metric queried is exported by a live bidder', async (t) => {
  const families = await liveMetricFamilies();
  t.ok(families.has('bidder_requests_total') && families.has('bidder_ready'), `the live families are read (${families.size})`);

  const exprs = allExprs(dashboard);
  const unknown = unknownNames(exprs.map((e) => e.expr), families);
  t.same(unknown, [], `metrics the bidder does not export: ${unknown.join(', ') || 'none'}`);
  for (const { where, expr } of exprs) {
    const names = unknownNames([expr], families);
    if (names.length > 0) t.fail(`${where} reads ${names.join(', ')}`);
  }

  const vars = unknownNames(variableExprs(dashboard).map((e) => e.expr), families);
  t.same(vars, [], `variable queries read only exported metrics: ${vars.join(', ') || 'none'}`);

  const used = new Set(exprs.flatMap((e) => metricNamesIn(e.expr)));
  const missing = REQUIRED_FAMILIES.filter((f) => !used.has(f));
  t.same(missing, [], `families the dashboard must show: ${missing.join(', ') || 'all shown'}`);

  const broken = copy();
  const p = panelReading(broken, 'bidder_requests_total');
  p.targets![0].expr = p.targets![0].expr!.replace('bidder_requests_total', 'bidder_request_total');
  t.same(unknownNames(allExprs(broken).map((e) => e.expr), families), ['bidder_request_total'], 'a misspelt metric is reported by name');
  const badVar = copy();
  const pod = badVar.templating.list.find((v) => v.name === 'pod')!;
  pod.query = 'label_values(bidder_requests_totl{job="$job"}, pod)';
  t.same(unknownNames(variableExprs(badVar).map((e) => e.expr), families), ['bidder_requests_totl'], 'a misspelt metric in a variable query is reported by name');
});
