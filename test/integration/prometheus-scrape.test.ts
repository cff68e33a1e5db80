/**
 * The real Prometheus against a real bidder: it scrapes the operations port, loads the
 * SHIPPED rule files (deploy/prometheus/rules/*.yml), and every rule evaluates without error
 * on the bidder's live series; a recording rule yields a sample. promtool's unit tests use
 * synthetic series; this catches what only real ones show (a label the rules aggregate on
 * that the bidder does not set, a vector-matching clash between real series, a rule file
 * the server refuses).
 */
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { oneByOne, simpleBanner } from '../helpers/requests';
import { freePort, postBid, REPO_ROOT, send, startTestBidder, type TestBidder } from '../helpers/test-bidder';

t.setTimeout(60_000);

const RULES_DIR = join(REPO_ROOT, 'deploy/prometheus/rules');
/** Every wait below is bounded by this; the whole test takes a few seconds when healthy. */
const kWaitMs = 30_000;

const version = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
const prometheusMissing = version.error
  ? `prometheus not on PATH (${version.error.message}); install the Prometheus server to run the scrape test`
  : false;

interface ApiAnswer<T> {
  status: string;
  data: T;
  error?: string;
}
interface TargetsData {
  activeTargets: { labels: Record<string, string>; health: string; lastError: string; scrapeUrl: string }[];
}
interface RulesData {
  groups: {
    name: string;
    lastEvaluation: string;
    rules: { name: string; type: string; health: string; lastError?: string; lastEvaluation: string; state?: string }[];
  }[];
}
interface QueryData {
  resultType: string;
  result: { metric: Record<string, string>; value: [number, string] }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Thrown by a probe to stop waiting at once: no amount of waiting will fix it. */
class Fatal extends Error {}

/**
 * Polls `probe` until it returns a value (not undefined) or `kWaitMs` passes; then fails
 * with `what` and the last thing seen, so a hang reads as a clear failure. A probe that
 * throws is retried (Prometheus still starting), unless it throws Fatal.
 */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, lastSeen: () => string): Promise<T> {
  const deadline = Date.now() + kWaitMs;
  let lastError = '';
  for (;;) {
    try {
      const got = await probe();
      if (got !== undefined) return got;
    } catch (e) {
      if (e instanceof Fatal) throw new Error(`${what}: ${e.message}`);
      lastError = ` (last error: ${(e as Error).message})`;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${kWaitMs / 1000} s${lastError}. Last seen: ${lastSeen()}`);
    await sleep(250);
  }
}

t.test('Prometheus scrapes a live bidder and evaluates every shipped rule without error', { skip: prometheusMissing }, async (t) => {
  const ruleFiles = readdirSync(RULES_DIR)
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((f) => join(RULES_DIR, f));
  const shipped = ruleFiles.flatMap((f) => (parse(readFileSync(f, 'utf8')) as { groups: { name: string; rules: unknown[] }[] }).groups);
  const shippedRuleCount = shipped.reduce((n, g) => n + g.rules.length, 0);

  const dir = mkdtempSync(join(tmpdir(), 'prometheus-scrape-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const webPort = await freePort();
  // The bidder's operations port is chosen up front so Prometheus (slow to start) starts
  // while the bidder warms its models; the target is down until then.
  const opsPort = await freePort();
  const configFile = join(dir, 'prometheus.yml');
  // JSON is YAML: the shipped rule files by absolute path, the bidder as a static target.
  writeFileSync(
    configFile,
    JSON.stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '1s' },
      rule_files: ruleFiles,
      scrape_configs: [{ job_name: 'rtb-bidder', static_configs: [{ targets: [`127.0.0.1:${opsPort}`] }] }],
    }),
  );

  let log = '';
  const prom: ChildProcess = spawn(
    'prometheus',
    [`--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${webPort}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const keepLog = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-4_000);
  };
  prom.stdout?.on('data', keepLog);
  prom.stderr?.on('data', keepLog);
  let exited: string | undefined;
  const exit = new Promise<void>((r) => prom.on('exit', (code, signal) => ((exited = `exit ${code ?? signal}`), r())));
  prom.on('error', (e) => (exited = `failed to start: ${e.message}`));
  t.teardown(async () => {
    if (exited !== undefined) return;
    prom.kill('SIGTERM');
    const killTimer = setTimeout(() => prom.kill('SIGKILL'), 5_000);
    await exit;
    clearTimeout(killTimer);
  });
  const b: TestBidder = await startTestBidder({ server: { opsPort } });
  // Live traffic all along (bids, no-bids, now and then a malformed request), so the
  // counters move between scrapes and the rate rules have something to compute.
  let trafficOn = true;
  const traffic = (async () => {
    for (let i = 0; trafficOn; i++) {
      const body = i % 10 === 9 ? '{"id":' : i % 2 === 0 ? simpleBanner(`prom-${i}`) : oneByOne(`prom-nb-${i}`);
      await postBid(b.port, body).catch(() => undefined);
      await sleep(20);
    }
  })();
  t.teardown(async () => {
    trafficOn = false;
    await traffic;
    await b.close();
  });

  const lastLog = () => (exited !== undefined ? `prometheus ${exited}; ` : '') + `log tail: ${log.slice(-1_500)}`;

  const api = async <T>(path: string): Promise<T> => {
    if (exited !== undefined) throw new Fatal(`prometheus ${exited}; ${lastLog()}`);
    const r = await send(webPort, 'GET', path);
    const body = JSON.parse(r.body) as ApiAnswer<T>;
    if (r.status !== 200 || body.status !== 'success') throw new Error(`${path}: ${r.status} ${body.error ?? r.body.slice(0, 200)}`);
    return body.data;
  };
  // A probe that notes what it saw, for the failure message.
  let seen = '';
  const note = (s: string) => ((seen = s), undefined);

  await waitFor('Prometheus answers /-/ready', async () => ((await send(webPort, 'GET', '/-/ready')).status === 200 ? true : undefined), lastLog);

  const target = await waitFor(
    'the bidder target is scraped (health "up")',
    async () => {
      const { activeTargets } = await api<TargetsData>('/api/v1/targets');
      const bidder = activeTargets.find((tg) => tg.labels.job === 'rtb-bidder');
      if (bidder?.health === 'up') return bidder;
      return note(JSON.stringify(bidder ?? activeTargets));
    },
    () => `${seen}; ${lastLog()}`,
  );
  t.equal(target.scrapeUrl, `http://127.0.0.1:${b.opsPort}/metrics`, 'scraped at the operations port');

  // Two scrapes of moving counters, then one evaluation of the recording group.
  const rate = await waitFor(
    'job:bidder_requests:rate5m holds a live, non-zero request rate',
    async () => {
      const q = await api<QueryData>(`/api/v1/query?query=${encodeURIComponent('job:bidder_requests:rate5m')}`);
      const v = Number(q.result[0]?.value[1]);
      return q.result.length === 1 && v > 0 ? q.result[0] : note(JSON.stringify(q.result));
    },
    () => `${seen}; ${lastLog()}`,
  );
  t.same(rate.metric, { __name__: 'job:bidder_requests:rate5m', job: 'rtb-bidder' }, 'one series for the job');
  t.ok(Number(rate.value[1]) > 0, `live requests per second: ${rate.value[1]}`);

  // Every group evaluated again after that, on real series: every rule must be healthy.
  const since = Date.now();
  const rules = await waitFor(
    'every shipped rule evaluated on the live series with health "ok"',
    async () => {
      const data = await api<RulesData>('/api/v1/rules');
      const broken = data.groups.flatMap((g) => g.rules.filter((r) => r.health === 'err').map((r) => `${g.name}/${r.name}: ${r.lastError}`));
      if (broken.length > 0) throw new Fatal(`a shipped rule fails on live series: ${broken.join('; ')}`);
      const stale = data.groups.filter((g) => Date.parse(g.lastEvaluation) < since).map((g) => g.name);
      const pending = data.groups.flatMap((g) => g.rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}=${r.health}`));
      if (data.groups.length === shipped.length && stale.length === 0 && pending.length === 0) return data;
      return note(`groups ${data.groups.map((g) => g.name).join(',')}; not evaluated since: ${stale.join(',')}; not ok: ${pending.join(',')}`);
    },
    () => `${seen}; ${lastLog()}`,
  );
  t.same(rules.groups.map((g) => g.name).sort(), shipped.map((g) => g.name).sort(), 'every shipped rule group is loaded');
  t.equal(rules.groups.reduce((n, g) => n + g.rules.length, 0), shippedRuleCount, `all ${shippedRuleCount} rules are loaded`);
  for (const g of rules.groups) for (const r of g.rules) t.equal(r.health, 'ok', `${g.name}/${r.name}: evaluated without error`);

  // A healthy, ready, scraped bidder: the availability alerts stay inactive.
  const state = (name: string) => rules.groups.flatMap((g) => g.rules).find((r) => r.name === name)?.state;
  for (const name of ['BidderDown', 'BidderTargetsMissing', 'BidderNotReady']) t.equal(state(name), 'inactive', `${name} is inactive`);

  const ratio = await api<QueryData>(`/api/v1/query?query=${encodeURIComponent('job:bidder_requests_bid_per_requests:ratio_rate5m')}`);
  const bidRatio = Number(ratio.result[0]?.value[1]);
  t.ok(bidRatio > 0 && bidRatio < 1, `the bid ratio is a share of the live requests (${bidRatio})`);
  const ready = await api<QueryData>(`/api/v1/query?query=${encodeURIComponent('bidder_ready{job="rtb-bidder"}')}`);
  t.equal(ready.result[0]?.value[1], '1', 'bidder_ready is scraped and says ready');
});
