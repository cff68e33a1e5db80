/**
 * Faults under load: the bidder (dist/src/main.js, a process of its own, 127.0.0.1 only)
 * takes open-loop traffic while one fault at a time hits it, as production would:
 *
 *   worker-crash   pool workers die mid-batch (x-test-crash), one after another
 *   hung-worker    pool workers stop answering (x-test-delay-ms far past the hard timeout)
 *   model-swap     the active model is switched through the admin API, again and again
 *   redis-restart  the fleet's Redis is stopped, then started again on the same port
 *   sigterm        SIGTERM mid-load, as in a rolling update: in-flight answered, listener closed, exit 0
 *   memory         2,000 connections (slow senders holding bodies open beside honest
 *                  traffic): RSS must stay within 2x the RSS of peak load
 *
 * Each fault gets a fresh bidder and reports, for the honest traffic, requests lost, 5xx,
 * other statuses and late answers (after the request's tmax from its due time): all must
 * be 0. A 204 with a reason is the designed answer (worker_failed, tmax_exceeded,
 * draining, budget_exhausted ...) and is reported by reason. Bounded in time (about two
 * minutes), loopback only; writes bench/results/chaos-latest.json; exits 1 when a fault
 * misses its goal.
 *
 *   npm run chaos [-- --rate 600] [--duration 8] [--only worker-crash,sigterm] [--results FILE]
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { idleConnections, slowSenders } from './attack/attackers';
import { runLoadInChild } from './load/load-child';
import type { LoadResult } from './load/open-loop';
import { writeRequestSet, type RequestSetFile } from './load/request-set';
import { rssMb, startServer, type RunningServer } from './lib/proc';
import { startRedis, type RedisServer } from './lib/redis-server';
import { countFailures, faultCounts, noBidReasons, reasonDeltas, type FaultCounts } from './chaos/verdict';
import { REPO_ROOT } from './scenarios';

const kToken = 'chaos-bench-admin-token-0123456789';
/** The exchange's deadline in every request; an answer later than this after its due time is late. */
const kTmaxMs = 100;
/**
 * The front end never parses a body, so it cannot see a request's tmax: what a hung worker
 * holds is answered (204 worker_failed) by the hard timeout, and its worker replaced after
 * half of it. Set, as the README advises for production, to the exchanges' tmax less the
 * margin, so even those answers come in time.
 */
const kHardTimeoutMs = kTmaxMs - 20;
const kDrainTimeoutMs = 5_000;
const kModels = ['ctr-mlp@1.1.0', 'ctr-dnn@1.0.0', 'ctr-logreg@1.0.0'];
const kFaultNames = ['worker-crash', 'hung-worker', 'model-swap', 'redis-restart', 'sigterm', 'memory'] as const;
type FaultName = (typeof kFaultNames)[number];

interface Options {
  rate: number;
  durationS: number;
  connections: number;
  /** When the fault starts, seconds into the measured load. */
  faultAtS: number;
}

interface FaultResult {
  fault: FaultName;
  what: string;
  counts: FaultCounts;
  /** No-bid reasons the bidder counted over the run (all traffic, the fault's own requests included). */
  noBidReasons: Record<string, number>;
  p99Ms: number;
  /** The fault's own figures (exit code, RSS, swaps ...). */
  detail: Record<string, number | string | boolean>;
  failures: string[];
}

interface Ctx {
  o: Options;
  dir: string;
  set: RequestSetFile;
  campaignsWithBudgets: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function scrapeText(opsPort: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${opsPort}/metrics`, { signal: AbortSignal.timeout(5_000) });
  return res.text();
}

function metricValue(text: string, line: RegExp): number | null {
  const m = line.exec(text);
  return m === null ? null : Number(m[1]);
}

async function launch(ctx: Ctx, name: string, env: Record<string, string> = {}): Promise<RunningServer> {
  const tokenFile = join(ctx.dir, 'admin-token');
  writeFileSync(tokenFile, kToken);
  return startServer(REPO_ROOT, {
    name, script: 'dist/src/main.js', args: [], readyPath: '/readyz', opsListener: true, stderr: 'inherit',
    env: {
      BIDDER_TEST_HOOKS: '1',
      BIDDER_ADMIN_TOKEN_FILE: tokenFile,
      BIDDER_EVENTS_DIR: mkdtempSync(join(ctx.dir, 'events-')),
      BIDDER_HARD_TIMEOUT_MS: String(kHardTimeoutMs),
      BIDDER_DRAIN_TIMEOUT_MS: String(kDrainTimeoutMs),
      ...env,
    },
  });
}

/** One request with test headers on a connection of its own; its status, or 0 when it got no answer. */
async function inject(port: number, headers: Record<string, string>, id: string): Promise<number> {
  const body = JSON.stringify({ id, at: 1, tmax: kTmaxMs, cur: ['USD'], imp: [{ id: '1', bidfloor: 0.01, banner: { w: 300, h: 250 } }], site: { id: 's', domain: 'www.foobar.com', publisher: { id: '8953' } } });
  try {
    const res = await fetch(`http://127.0.0.1:${port}/openrtb2/bid`, {
      method: 'POST', headers: { 'content-type': 'application/json', connection: 'close', ...headers }, body, signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

async function admin(opsPort: number, path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${opsPort}${path}`, {
    method: 'POST', headers: { authorization: `Bearer ${kToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/**
 * Warms a fresh bidder, then runs the measured load with `fault` started `faultAtS` into
 * it; the bidder's no-bid reasons are read before and after (unless it exited).
 */
async function underLoad(
  ctx: Ctx, server: RunningServer, fault: (server: RunningServer) => Promise<Record<string, number | string | boolean>>,
  load: { dropWhenBusy?: boolean } = {},
): Promise<{ result: LoadResult; detail: Record<string, number | string | boolean>; reasons: Record<string, number> }> {
  const { o } = ctx;
  await runLoadInChild({ port: server.port, set: ctx.set, rate: o.rate, durationS: 2, connections: o.connections });
  const before = noBidReasons(await scrapeText(server.opsPort));
  const running = runLoadInChild({ port: server.port, set: ctx.set, rate: o.rate, durationS: o.durationS, connections: o.connections, lateMs: kTmaxMs, dropWhenBusy: load.dropWhenBusy });
  await sleep(o.faultAtS * 1000);
  const detail = await fault(server);
  const result = await running;
  let reasons: Record<string, number> = {};
  if (server.child.exitCode === null && server.child.signalCode === null) {
    reasons = reasonDeltas(before, noBidReasons(await scrapeText(server.opsPort)));
  }
  return { result, detail, reasons };
}

function verdictOf(fault: FaultName, what: string, ctx: Ctx, run: { result: LoadResult; detail: Record<string, number | string | boolean>; reasons: Record<string, number> }, extra: string[] = []): FaultResult {
  const counts = faultCounts(run.result, ctx.o.rate);
  return {
    fault, what, counts, noBidReasons: run.reasons, p99Ms: run.result.latencyUs.p99 / 1000, detail: run.detail,
    failures: [...countFailures(counts), ...extra],
  };
}

/**
 * Under light load the front end scores requests itself (the inline lane) and the pool
 * idles; the pool faults turn the lane off so that every honest request goes through the
 * pool and shares batches with the fault's own.
 */
const kPoolOnly = { BIDDER_POOL_INLINE_MAX_BATCH: '0' };

async function workerCrash(ctx: Ctx): Promise<FaultResult> {
  const server = await launch(ctx, 'bidder', kPoolOnly);
  try {
    const run = await underLoad(ctx, server, async (s) => {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        statuses.push(await inject(s.port, { 'x-test-crash': '1' }, `crash-${i}`));
        await sleep(800);
      }
      const text = await scrapeText(s.opsPort);
      return { crashes: 3, injectedAnswers: statuses.join(' '), poolThreadsAfter: metricValue(text, /^bidder_pool_threads (\S+)$/m) ?? -1 };
    });
    const extra = run.detail.injectedAnswers !== '204 204 204' ? [`the crashing requests were answered ${run.detail.injectedAnswers}, not 204`] : [];
    return verdictOf('worker-crash', 'three pool workers die mid-batch, 0.8 s apart (all traffic through the pool)', ctx, run, extra);
  } finally {
    await server.stop();
  }
}

async function hungWorker(ctx: Ctx): Promise<FaultResult> {
  const server = await launch(ctx, 'bidder', kPoolOnly);
  try {
    const run = await underLoad(ctx, server, async (s) => {
      // One worker hangs; the other serves alone until the stuck one is terminated
      // (kMinStuckMs) and its replacement has warmed.
      const started = performance.now();
      const status = await inject(s.port, { 'x-test-delay-ms': '30000' }, 'hang');
      const ms = Math.round(performance.now() - started);
      await sleep(2_000);
      const text = await scrapeText(s.opsPort);
      return { hangs: 1, injectedAnswers: String(status), slowestInjectedMs: ms, poolThreadsAfter: metricValue(text, /^bidder_pool_threads (\S+)$/m) ?? -1 };
    });
    const extra = Number(run.detail.slowestInjectedMs) > kTmaxMs ? [`a hung request was answered after ${run.detail.slowestInjectedMs} ms`] : [];
    if (run.detail.poolThreadsAfter !== 2) extra.push(`the pool has ${run.detail.poolThreadsAfter} threads after the fault, not 2`);
    return verdictOf('hung-worker', `a pool worker stops answering (30 s stall): its requests answered by the ${kHardTimeoutMs} ms hard timeout, the worker replaced (all traffic through the pool)`, ctx, run, extra);
  } finally {
    await server.stop();
  }
}

async function modelSwap(ctx: Ctx): Promise<FaultResult> {
  const server = await launch(ctx, 'bidder');
  try {
    const run = await underLoad(ctx, server, async (s) => {
      let ok = 0;
      let slowestMs = 0;
      const swaps = 20;
      for (let i = 0; i < swaps; i++) {
        const r = await admin(s.opsPort, '/admin/models/activate', { model: kModels[i % kModels.length] });
        if (r.status === 200) ok++;
        slowestMs = Math.max(slowestMs, Number(r.json.switchedInMs ?? Infinity));
        await sleep(150);
      }
      return { swaps, swapsOk: ok, slowestSwitchMs: Math.round(slowestMs * 100) / 100 };
    });
    const extra = run.detail.swapsOk !== run.detail.swaps ? [`${run.detail.swapsOk} of ${run.detail.swaps} swaps answered 200`] : [];
    return verdictOf('model-swap', '20 activations through the admin API, 150 ms apart', ctx, run, extra);
  } finally {
    await server.stop();
  }
}

async function redisRestart(ctx: Ctx): Promise<FaultResult> {
  let redis: RedisServer | null = null;
  try {
    redis = await startRedis();
  } catch (err) {
    log(`redis-restart: ${(err as Error).message}`);
  }
  if (redis === null) throw new Error('redis-server is not installed (Debian: apt-get install redis-server)');
  const r = redis;
  const keyFile = join(ctx.dir, 'notice.key');
  writeFileSync(keyFile, Buffer.alloc(32, 0x5a));
  const server = await launch(ctx, 'bidder', {
    BIDDER_REDIS_URL: r.url, BIDDER_CAMPAIGNS_FILE: ctx.campaignsWithBudgets, BIDDER_NOTICE_KEY_FILE: keyFile, BIDDER_LEASE_SLICE_MICROS: '5000000',
  });
  try {
    const fleetUp = async (s: RunningServer): Promise<number> => metricValue(await scrapeText(s.opsPort), /^bidder_fleet_up (\S+)$/m) ?? -1;
    const run = await underLoad(ctx, server, async (s) => {
      const upBefore = await fleetUp(s);
      await r.stop();
      await sleep(2_500);
      const upWhileDown = await fleetUp(s);
      await r.restart();
      let upAfter = await fleetUp(s);
      const deadline = Date.now() + 5_000;
      while (upAfter !== 1 && Date.now() < deadline) {
        await sleep(100);
        upAfter = await fleetUp(s);
      }
      return { redisDownS: 2.5, fleetUpBefore: upBefore, fleetUpWhileDown: upWhileDown, fleetUpAfter: upAfter };
    });
    const extra: string[] = [];
    if (run.detail.fleetUpBefore !== 1 || run.detail.fleetUpWhileDown !== 0 || run.detail.fleetUpAfter !== 1) {
      extra.push(`bidder_fleet_up went ${run.detail.fleetUpBefore} → ${run.detail.fleetUpWhileDown} → ${run.detail.fleetUpAfter}, not 1 → 0 → 1`);
    }
    return verdictOf('redis-restart', 'the fleet Redis stopped for 2.5 s, then started again on its port (budgets lease from it)', ctx, run, extra);
  } finally {
    await server.stop();
    await r.stop();
  }
}

async function sigterm(ctx: Ctx): Promise<FaultResult> {
  const server = await launch(ctx, 'bidder');
  const exited = new Promise<{ code: number | null; signal: string | null }>((res) => server.child.once('exit', (code, signal) => res({ code, signal })));
  try {
    const run = await underLoad(ctx, server, async (s) => {
      const started = performance.now();
      s.child.kill('SIGTERM');
      const exit = await exited;
      const exitMs = Math.round(performance.now() - started);
      let listenerClosed = false;
      try {
        await fetch(`http://127.0.0.1:${s.port}/healthz`, { signal: AbortSignal.timeout(1_000) });
      } catch {
        listenerClosed = true;
      }
      return { exitCode: exit.code ?? -1, exitSignal: exit.signal ?? '', exitMs, listenerClosed };
    }, { dropWhenBusy: true });
    const extra: string[] = [];
    if (run.detail.exitCode !== 0) extra.push(`exit code ${run.detail.exitCode} (${run.detail.exitSignal || 'no signal'}), not 0`);
    if (Number(run.detail.exitMs) > kDrainTimeoutMs + 1_000) extra.push(`exited ${run.detail.exitMs} ms after SIGTERM, past the ${kDrainTimeoutMs} ms drain`);
    if (run.detail.listenerClosed !== true) extra.push('the bid listener still answered after exit');
    return verdictOf('sigterm', 'SIGTERM mid-load: drain, close the listener, exit 0', ctx, run, extra);
  } finally {
    await server.stop();
  }
}

/** Samples the bidder's RSS every 100 ms while `work` runs; the largest, MiB. */
async function peakRssDuring(pid: number, work: Promise<unknown>): Promise<number> {
  let peak = rssMb(pid);
  let done = false;
  void work.finally(() => (done = true));
  while (!done) {
    peak = Math.max(peak, rssMb(pid));
    await sleep(100);
  }
  return peak;
}

async function memory(ctx: Ctx): Promise<FaultResult> {
  const { o } = ctx;
  const server = await launch(ctx, 'bidder');
  try {
    await runLoadInChild({ port: server.port, set: ctx.set, rate: o.rate, durationS: 2, connections: o.connections });
    // Peak load: the highest rate this machine answers, on many connections, closed loop.
    const peakLoad = runLoadInChild({ port: server.port, set: ctx.set, rate: 0, durationS: 5, connections: 64, closed: true });
    const peakRss = await peakRssDuring(server.pid, peakLoad);
    const peak = await peakLoad;
    const before = noBidReasons(await scrapeText(server.opsPort));
    // 2,000 connections: 1,000 held open and silent, 500 slow senders each declaring the
    // largest body and trickling it (they hold receive memory as long as the bidder lets
    // them, and come back when refused), and the honest traffic on the last 500.
    const attackMs = (o.durationS + 1) * 1000;
    const idle = idleConnections({ port: server.port, connections: 1_000, reopenMs: 500, durationMs: attackMs });
    const slow = slowSenders({ port: server.port, connections: 500, declaredBytes: 256 * 1024 - 1, trickleBytes: 16 * 1024, intervalMs: 250, durationMs: attackMs });
    await sleep(500);
    const honest = runLoadInChild({ port: server.port, set: ctx.set, rate: o.rate, durationS: o.durationS, connections: 500, lateMs: kTmaxMs });
    const pressureRss = await peakRssDuring(server.pid, honest);
    const result = await honest;
    const attack = await slow.done;
    const held = await idle.done;
    const reasons = reasonDeltas(before, noBidReasons(await scrapeText(server.opsPort)));
    const ratio = pressureRss / peakRss;
    const detail = {
      peakLoadRate: peak.achievedRate, peakLoadRssMb: Math.round(peakRss), connections: 2_000,
      pressureRssMb: Math.round(pressureRss), rssRatio: Math.round(ratio * 100) / 100,
      slowSenderAnswers: Object.entries(attack.status).map(([s, n]) => `${s}:${n}`).join(' '), slowSenderConnections: attack.connections,
      idlePeakOpen: held.peakOpen, slowPeakOpen: attack.peakOpen,
    };
    const extra = ratio > 2 ? [`RSS under 2,000 connections ${Math.round(pressureRss)} MiB is ${ratio.toFixed(2)}x the peak-load RSS (bound 2x)`] : [];
    return verdictOf('memory', '2,000 connections: 1,000 idle, 500 slow senders of 256 KiB bodies, honest traffic on 500', ctx, { result, detail, reasons }, extra);
  } finally {
    await server.stop();
  }
}

const kRunners: Record<FaultName, (ctx: Ctx) => Promise<FaultResult>> = {
  'worker-crash': workerCrash,
  'hung-worker': hungWorker,
  'model-swap': modelSwap,
  'redis-restart': redisRestart,
  sigterm,
  memory,
};

function requestBodies(): Buffer[] {
  return Array.from({ length: 2_000 }, (_, i) => Buffer.from(JSON.stringify({
    id: `chaos-${i}`, at: 1, cur: ['USD'], tmax: kTmaxMs,
    imp: [{ id: '1', bidfloor: 0.03, banner: { w: 300, h: 250 } }],
    site: { id: 's', domain: 'www.foobar.com', publisher: { id: '8953' } }, user: { id: `user-${(i * 7919) % 10_000}` },
  })));
}

/** The sample campaigns with a daily budget each, so the fleet leases budget from Redis all along. */
function campaignsWithBudgets(dir: string): string {
  const file = JSON.parse(readFileSync(resolve(REPO_ROOT, 'campaigns/sample-campaigns.json'), 'utf8')) as { campaigns: Record<string, unknown>[] } | Record<string, unknown>[];
  const list = Array.isArray(file) ? file : file.campaigns;
  for (const c of list) {
    c.budget = { dailyUsd: 100_000, timezone: 'UTC' };
    c.pacing = 'asap';
  }
  const out = join(dir, 'campaigns-budgets.json');
  writeFileSync(out, JSON.stringify(file));
  return out;
}

function table(results: FaultResult[]): string {
  const head = ['fault', 'sent', 'answered', 'lost', '5xx', 'late', 'bids', '204s', 'not sent', 'p99 ms', 'designed 204 reasons', 'verdict'];
  const rows = results.map((r) => [
    r.fault, r.counts.sent, r.counts.answered, r.counts.lost, r.counts.fiveXx, r.counts.late, r.counts.bids, r.counts.noBids, r.counts.notSent,
    r.p99Ms.toFixed(1),
    Object.entries(r.noBidReasons).filter(([k]) => !['no_candidates', 'below_floor'].includes(k)).map(([k, v]) => `${k} ${v}`).join(', ') || '-',
    r.failures.length === 0 ? 'ok' : `FAIL: ${r.failures.join('; ')}`,
  ].map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '600' },
      duration: { type: 'string', default: '8' },
      connections: { type: 'string', default: '32' },
      only: { type: 'string', default: kFaultNames.join(',') },
      results: { type: 'string', default: resolve(REPO_ROOT, 'bench/results/chaos-latest.json') },
    },
  });
  const o: Options = { rate: Number(values.rate), durationS: Number(values.duration), connections: Number(values.connections), faultAtS: 2 };
  if (!(o.rate > 0 && o.rate <= 20_000) || !(o.durationS >= 5 && o.durationS <= 60) || !(o.connections >= 1 && o.connections <= 1_000)) {
    throw new Error('--rate must be in (0, 20000], --duration in [5, 60] s, --connections in [1, 1000]');
  }
  const only = values.only.split(',').map((s) => s.trim()).filter(Boolean);
  for (const f of only) if (!(kFaultNames as readonly string[]).includes(f)) throw new Error(`unknown fault "${f}" (known: ${kFaultNames.join(', ')})`);
  const dir = mkdtempSync(join(tmpdir(), 'chaos-'));
  const ctx: Ctx = { o, dir, set: writeRequestSet(dir, 'chaos', requestBodies(), false), campaignsWithBudgets: campaignsWithBudgets(dir) };
  const started = new Date().toISOString();
  const results: FaultResult[] = [];
  for (const name of kFaultNames) {
    if (!only.includes(name)) continue;
    log(`chaos: ${name} ...`);
    try {
      const r = await kRunners[name](ctx);
      results.push(r);
      log(`chaos: ${name}: ${r.failures.length === 0 ? 'ok' : r.failures.join('; ')} ${JSON.stringify(r.detail)}`);
    } catch (err) {
      const failure = `could not run: ${(err as Error).message}`;
      results.push({ fault: name, what: '', counts: faultCounts({ offeredRate: o.rate, durationS: o.durationS, sent: 0, completed: 0, achievedRate: 0, status: {}, errors: 0, latencyUs: { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 }, curve: [] }, 0), noBidReasons: {}, p99Ms: 0, detail: {}, failures: [failure] });
      log(`chaos: ${name}: ${failure}`);
    }
  }
  const report = { kind: 'chaos', startedAt: started, finishedAt: new Date().toISOString(), command: `npm run chaos -- ${process.argv.slice(2).join(' ')}`.trim(), options: o, tmaxMs: kTmaxMs, results };
  mkdirSync(dirname(values.results), { recursive: true });
  writeFileSync(values.results, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`faults under load: ${o.rate} req/s open loop, ${o.durationS} s each, tmax ${kTmaxMs} ms (late: answered after it)\n${table(results)}\n`);
  const failed = results.filter((r) => r.failures.length > 0);
  process.stdout.write(failed.length === 0 ? 'every fault: 0 lost, 0 5xx, 0 late\n' : `${failed.length} fault(s) missed the goal\n`);
  return failed.length === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (err: Error) => {
  process.stderr.write(`chaos: ${err.stack ?? err.message}\n`);
  process.exit(2);
});
