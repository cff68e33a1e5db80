/**
 * The shipped Prometheus files (deploy/prometheus/): promtool accepts the configuration and
 * the rules and their unit tests pass; the scrape config keeps exactly the bidder's
 * operations port; every required alert exists, is documented (severity, summary,
 * description, a runbook section that exists) and is unit-tested both firing and not
 * firing; every recording rule has a value test; and every metric the rules read is one a
 * live bidder exports.
 */
import t from 'tap';
import type { TapTest as Tap } from '../helpers/test-bidder';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { liveMetricFamilies } from '../helpers/live-metrics';
import { metricNamesIn, unknownNames } from '../helpers/promql-names';

t.setTimeout(120_000);

const REPO_ROOT = resolve(__dirname, '../..');
const PROM_DIR = join(REPO_ROOT, 'deploy/prometheus');
const CONFIG = join(PROM_DIR, 'prometheus.yml');
const RULES_DIR = join(PROM_DIR, 'rules');
const TESTS_DIR = join(PROM_DIR, 'tests');
const RUNBOOKS = join(REPO_ROOT, 'docs/runbooks.md');

/** The alerts the bidder's operators rely on; more may exist, none of these may go. */
const REQUIRED_ALERTS = [
  'BidderDown',
  'BidderNotReady',
  'BidderLatencyP99OverBudget',
  'BidderServerErrors',
  'BidderRequestErrors',
  'BidderNoBidRatioJump',
  'BidderShedding',
  'BidderPacingOffTarget',
  'BidderForgedNoticesSpike',
  'BidderEventLogDrops',
  'BidderRedisUnreachable',
];
const SEVERITIES = new Set(['page', 'ticket']);

interface Rule {
  record?: string;
  alert?: string;
  expr: string | number;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; interval?: string; rules: Rule[] }[];
}
interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts?: { exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }[] | null;
}
interface UnitTestFile {
  rule_files: string[];
  tests: { alert_rule_test?: AlertTest[]; promql_expr_test?: { expr: string }[] }[];
}

const yamlFiles = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
    .sort()
    .map((f) => join(dir, f));

const ruleFiles = yamlFiles(RULES_DIR);
const testFiles = yamlFiles(TESTS_DIR);
const rulesByFile = new Map(ruleFiles.map((f) => [f, parse(readFileSync(f, 'utf8')) as RuleFile]));
const allRules = [...rulesByFile.values()].flatMap((rf) => rf.groups.flatMap((g) => g.rules));
const alerts = allRules.filter((r): r is Rule & { alert: string } => typeof r.alert === 'string');
const records = allRules.filter((r): r is Rule & { record: string } => typeof r.record === 'string');
const recordedNames = new Set(records.map((r) => r.record));

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const promtoolMissing = promtool.error ? `promtool not on PATH (${promtool.error.message}); install Prometheus's promtool to check the rules` : false;

function runPromtool(args: string[], cwd = REPO_ROOT): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/** Asserts promtool exited 0; its whole output is the message only when it did not. */
function promtoolPassed(t: Tap, r: { status: number | null; output: string }, what: string): void {
  t.equal(r.status, 0, r.status === 0 ? what : `${what} failed (exit ${r.status}):\n${r.output}`);
}

/** Go duration as Prometheus writes it (1h30m, 5m, 15s) in seconds. */
function durationSeconds(d: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };
  const parts = [...d.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== d) throw new Error(`not a duration: ${d}`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]], 0);
}

/** GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to '-'. */
function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

t.test('promtool check config', { skip: promtoolMissing }, async (t) => {
  const direct = runPromtool(['check', 'config', CONFIG]);
  if (direct.status === 0) {
    t.pass('promtool accepts deploy/prometheus/prometheus.yml as it is');
    return;
  }
  // Debian's prometheus package is built without Kubernetes discovery, so its promtool
  // rejects `kubernetes_sd_configs` as an unknown field. Only that failure falls back to
  // checking everything else: the same file with the discovery swapped for a static target,
  // next to the same rules folder (rule_files stays relative).
  if (!/field kubernetes_sd_configs not found/.test(direct.output)) {
    t.fail(`promtool check config failed:\n${direct.output}`);
    return;
  }
  t.comment('this promtool lacks Kubernetes service discovery (a Debian build); checking the config with static_configs in its place');
  const dir = mkdtempSync(join(tmpdir(), 'prom-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = parse(readFileSync(CONFIG, 'utf8'));
  for (const sc of config.scrape_configs) {
    if (sc.kubernetes_sd_configs === undefined) continue;
    delete sc.kubernetes_sd_configs;
    sc.static_configs = [{ targets: ['127.0.0.1:9090'] }];
  }
  writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
  symlinkSync(RULES_DIR, join(dir, 'rules'));
  const swapped = runPromtool(['check', 'config', join(dir, 'prometheus.yml')]);
  promtoolPassed(t, swapped, 'promtool check config (static discovery in place of Kubernetes)');
  t.match(swapped.output, new RegExp(`SUCCESS: ${ruleFiles.length} rule files found`), 'rule_files: rules/*.yml finds every rule file');
});

/** Prometheus's relabelling, for the actions the shipped config uses. */
type RelabelConfig = { source_labels?: string[]; separator?: string; regex?: string; target_label?: string; replacement?: string; action?: string };
function relabel(labels: Record<string, string>, configs: RelabelConfig[]): Record<string, string> | null {
  const out = { ...labels };
  for (const c of configs) {
    const value = (c.source_labels ?? []).map((l) => out[l] ?? '').join(c.separator ?? ';');
    const re = new RegExp(`^(?:${c.regex ?? '(.*)'})$`);
    const m = re.exec(value);
    switch (c.action ?? 'replace') {
      case 'keep':
        if (m === null) return null;
        break;
      case 'drop':
        if (m !== null) return null;
        break;
      case 'replace': {
        if (m === null || c.target_label === undefined) break;
        const v = (c.replacement ?? '$1').replace(/\$\{?(\d+)\}?/g, (_, i: string) => m[Number(i)] ?? '');
        if (v === '') delete out[c.target_label];
        else out[c.target_label] = v;
        break;
      }
      default:
        throw new Error(`relabel action ${c.action} is not simulated here: extend relabel() in this test`);
    }
  }
  return out;
}

t.test('the scrape config keeps exactly the bidder pods\' operations port', async (t) => {
  const config = parse(readFileSync(CONFIG, 'utf8'));
  t.same(config.rule_files, ['rules/*.yml'], 'rule_files: the rules folder beside the config, relative');
  const jobs = config.scrape_configs.filter((sc: { job_name: string }) => sc.job_name === 'rtb-bidder');
  t.equal(jobs.length, 1, 'one scrape job named rtb-bidder (the rules select on it)');
  const job = jobs[0];
  t.equal(job.scrape_interval ?? config.global?.scrape_interval, '15s', 'scraped every 15 s');
  t.equal(job.metrics_path ?? '/metrics', '/metrics', 'at /metrics');
  t.same(job.kubernetes_sd_configs?.map((c: { role: string }) => c.role), ['pod'], 'Kubernetes pod discovery');

  const pod = {
    __address__: '10.1.2.3:9090',
    __meta_kubernetes_namespace: 'rtb',
    __meta_kubernetes_pod_name: 'rtb-bidder-6f7c9-x2x4k',
    __meta_kubernetes_pod_label_app_kubernetes_io_name: 'rtb-bidder',
    __meta_kubernetes_pod_container_port_name: 'ops',
    __meta_kubernetes_pod_container_port_number: '9090',
    __meta_kubernetes_pod_phase: 'Running',
  };
  const kept = relabel(pod, job.relabel_configs);
  t.ok(kept, 'a running bidder pod\'s ops port is scraped');
  t.equal(kept?.__address__, '10.1.2.3:9090', 'at the ops port');
  t.equal(kept?.namespace, 'rtb', 'namespace label');
  t.equal(kept?.pod, 'rtb-bidder-6f7c9-x2x4k', 'pod label');
  const dropped: [string, Record<string, string>][] = [
    ['its bid port (8080, /metrics is a 404 there)', { ...pod, __address__: '10.1.2.3:8080', __meta_kubernetes_pod_container_port_name: 'bid', __meta_kubernetes_pod_container_port_number: '8080' }],
    ['another app\'s ops port', { ...pod, __meta_kubernetes_pod_label_app_kubernetes_io_name: 'rtb-bidder-canary-proxy' }],
    ['a pod without the app label', { ...pod, __meta_kubernetes_pod_label_app_kubernetes_io_name: '' }],
    ['a Pending bidder pod', { ...pod, __meta_kubernetes_pod_phase: 'Pending' }],
    ['a Failed bidder pod', { ...pod, __meta_kubernetes_pod_phase: 'Failed' }],
  ];
  for (const [what, labels] of dropped) t.equal(relabel(labels, job.relabel_configs), null, `not scraped: ${what}`);
});

t.test('promtool check rules', { skip: promtoolMissing }, async (t) => {
  t.ok(ruleFiles.length >= 2, 'recording and alerting rule files');
  for (const f of ruleFiles) {
    promtoolPassed(t, runPromtool(['check', 'rules', f]), `promtool check rules ${f}`);
  }
});

t.test('promtool test rules', { skip: promtoolMissing }, async (t) => {
  t.ok(testFiles.length > 0, 'unit test files exist');
  const r = runPromtool(['test', 'rules', ...testFiles]);
  promtoolPassed(t, r, `promtool test rules (${testFiles.length} files)`);
  t.equal((r.output.match(/SUCCESS/g) ?? []).length, testFiles.length, 'every test file ran and passed');
});

t.test('rule files: group names and recording-rule names', async (t) => {
  const groups = [...rulesByFile.values()].flatMap((rf) => rf.groups.map((g) => g.name));
  t.same(groups.sort(), ['rtb-bidder.alerts', 'rtb-bidder.recording'], 'one group of each, named for the job');
  for (const r of records) {
    // level:metric:operations (https://prometheus.io/docs/practices/rules/)
    t.match(r.record, /^[a-z][a-z_]*:[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$/, `${r.record}: level:metric:operations`);
    t.ok(r.record.split(':')[0].split('_').includes('job'), `${r.record}: aggregated by job`);
  }
  t.equal(new Set(records.map((r) => r.record)).size, records.length, 'no recording rule defined twice');
});

t.test('every alert is documented, paged or ticketed, and debounced', async (t) => {
  const runbooks = readFileSync(RUNBOOKS, 'utf8');
  const anchors = new Set([...runbooks.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => headingAnchor(m[1])));
  const names = alerts.map((a) => a.alert);
  for (const name of REQUIRED_ALERTS) t.ok(names.includes(name), `required alert ${name} exists`);
  t.equal(new Set(names).size, names.length, 'alert names are unique');
  for (const a of alerts) {
    t.ok(SEVERITIES.has(a.labels?.severity ?? ''), `${a.alert}: labels.severity is page or ticket (got ${a.labels?.severity})`);
    t.ok((a.annotations?.summary ?? '').length > 0, `${a.alert}: annotations.summary`);
    t.match(a.annotations?.description ?? '', /\$labels|\$value/, `${a.alert}: annotations.description, templated with $labels or $value`);
    const runbook = a.annotations?.runbook ?? '';
    const m = /^(docs\/runbooks\.md)#([a-z0-9_-]+)$/.exec(runbook);
    t.ok(m, `${a.alert}: annotations.runbook is docs/runbooks.md#<anchor> (got "${runbook}")`);
    if (m) {
      t.ok(existsSync(join(REPO_ROOT, m[1])), `${a.alert}: ${m[1]} exists`);
      t.ok(anchors.has(m[2]), `${a.alert}: docs/runbooks.md has a section #${m[2]}`);
      t.equal(m[2], headingAnchor(a.alert), `${a.alert}: its runbook section is named after it`);
    }
    // One lost scrape (15 s) must never fire or resolve an alert: at least four scrapes.
    t.ok(a.for !== undefined && durationSeconds(a.for) >= 60, `${a.alert}: for: at least 1m (got ${a.for})`);
  }
});

t.test('every alert is unit-tested firing and not firing; every recording rule has a value test', async (t) => {
  const firing = new Map<string, number>();
  const quiet = new Map<string, number>();
  const exprs: string[] = [];
  const loaded = new Set<string>();
  for (const file of testFiles) {
    const doc = parse(readFileSync(file, 'utf8')) as UnitTestFile;
    for (const rf of doc.rule_files ?? []) loaded.add(resolve(TESTS_DIR, rf));
    for (const test of doc.tests ?? []) {
      for (const at of test.alert_rule_test ?? []) {
        const into = (at.exp_alerts ?? []).length > 0 ? firing : quiet;
        into.set(at.alertname, (into.get(at.alertname) ?? 0) + 1);
      }
      for (const pt of test.promql_expr_test ?? []) exprs.push(pt.expr);
    }
  }
  for (const f of ruleFiles) t.ok(loaded.has(f), `${f} is loaded by a unit test file`);
  for (const a of alerts) {
    t.ok((firing.get(a.alert) ?? 0) > 0, `${a.alert}: a test where it fires`);
    t.ok((quiet.get(a.alert) ?? 0) > 0, `${a.alert}: a test where it does not`);
  }
  const known = new Set(alerts.map((a) => a.alert));
  for (const name of new Set([...firing.keys(), ...quiet.keys()])) t.ok(known.has(name), `tested alert ${name} exists (no test of a renamed alert)`);
  const read = new Set(exprs.flatMap((e) => metricNamesIn(e)));
  for (const r of records) t.ok(read.has(r.record), `${r.record}: a promql_expr_test checks its value`);
});

t.test('every metric the rules read is exported by a live bidder', async (t) => {
  const families = await liveMetricFamilies();
  t.ok(families.has('bidder_requests_total'), 'the live scrape lists the bidder\'s families');
  const exprs = allRules.map((r) => String(r.expr));
  t.same(unknownNames(exprs, families, recordedNames), [], 'no rule reads a metric the bidder does not export');
  // The check can fail: one misspelt metric, or one misspelt recorded series, is caught.
  const misspelt = exprs.map((e) => e.replace(/\bbidder_requests_total\b/g, 'bidder_request_total'));
  t.same(unknownNames(misspelt, families, recordedNames), ['bidder_request_total'], 'a misspelt metric is reported');
  const misrecorded = exprs.map((e) => e.replace(/job:bidder_requests:rate5m\b/g, 'job:bidder_request:rate5m'));
  t.same(unknownNames(misrecorded, families, recordedNames), ['job:bidder_request:rate5m'], 'a misspelt recorded series is reported');
});
