/**
 * How long a storm of operations calls holds the bidding loop. Starts the bidder in this
 * process (this thread is its front end), fills its latency histograms with real bids,
 * then measures this thread's event loop twice: idle (the noise floor), and while a client
 * in another thread sends `--calls` GET /debug/latency (text form, the costly one) and
 * `--scrapes` GET /metrics to the operations port, `--concurrency` at a time. The stall is
 * the longest gap between ticks of a 1 ms interval on this thread, less the interval; on
 * a busy machine that includes time the OS gave the thread's core to others, so the
 * idle window is the floor to compare with. What the bidding thread itself spent on the
 * storm is timed directly too: every refresh it served (OpsListener.onRefresh: gauges and
 * the latency snapshot copy), longest and total. For scale, one text render of full
 * histograms on this thread: what every call cost the loop when the bidding server
 * rendered it itself.
 *
 *   npx tsc -p . && node dist/bench/ops-stall.js [--calls 200] [--scrapes 50] [--concurrency 8]
 *                                                [--reference <commit>]
 *
 * --reference builds that commit (bench/gate/reference.ts) and measures it first, in the
 * same run: a build without the operations listener takes the calls on its bidding port.
 * Prints a table and writes bench/results/ops-stall-<time>.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { OpsListener } from '../src/ops/ops-listener';
import type { defaultConfig } from '../src/config/config';
import { STAGES } from '../src/metrics/definitions';
import { allocateLatencySnapshot, LatencyReport, StageLatency } from '../src/metrics/latency';
import { buildReference } from './gate/reference';
import { RESULTS_DIR, timestamp } from './lib/write-results';
import { CORPUS_DIR, REPO_ROOT } from './scenarios';

const kTickMs = 1;

interface Window {
  durationMs: number;
  /** Longest gap between 1 ms ticks, less the interval. */
  maxStallMs: number;
  /** Ticks whose gap exceeded the interval by more than 1 ms. */
  stallsOver1Ms: number;
  /** monitorEventLoopDelay (1 ms resolution) over the window. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

/** Runs `during` while sampling this thread's loop; resolves with the window's figures. */
async function probe<T>(during: () => Promise<T>): Promise<{ window: Window; result: T }> {
  const delay = monitorEventLoopDelay({ resolution: kTickMs });
  let last = performance.now();
  let maxGap = 0;
  let over = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const gap = now - last - kTickMs;
    last = now;
    if (gap > maxGap) maxGap = gap;
    if (gap > 1) over++;
  }, kTickMs);
  delay.enable();
  const started = performance.now();
  const result = await during();
  const durationMs = performance.now() - started;
  delay.disable();
  clearInterval(timer);
  const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
  return {
    window: {
      durationMs: Math.round(durationMs),
      maxStallMs: Math.round(maxGap * 100) / 100,
      stallsOver1Ms: over,
      loopDelayP99Ms: ms(delay.percentile(99)),
      loopDelayMaxMs: ms(delay.max),
    },
    result,
  };
}

/** The storm's client, in its own thread so its work never runs on the loop measured. */
const kClient = `
const { workerData, parentPort } = require('node:worker_threads');
// A scraper is another machine's work: at the lowest priority it takes no core from the threads measured.
try { require('node:os').setPriority(19); } catch {}
const { port, paths, concurrency } = workerData;
let next = 0, ok = 0, bytes = 0;
const lane = async () => {
  while (next < paths.length) {
    const path = paths[next++];
    const r = await fetch('http://127.0.0.1:' + port + path);
    const body = await r.text();
    if (r.status === 200) ok++;
    bytes += body.length;
  }
};
Promise.all(Array.from({ length: concurrency }, lane)).then(() => parentPort.postMessage({ ok, bytes }));
`;

function storm(port: number, paths: string[], concurrency: number): Promise<{ ok: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(kClient, { eval: true, workerData: { port, paths, concurrency } });
    w.once('message', (m: { ok: number; bytes: number }) => {
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

async function postBids(port: number, body: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await fetch(`http://127.0.0.1:${port}/openrtb2/bid`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    await r.arrayBuffer();
  }
}

/** Times every refresh the bidding thread serves (a private method, reached for measurement only). */
function timeRefreshes(): { count: number; maxMs: number; totalMs: number } {
  const stats = { count: 0, maxMs: 0, totalMs: 0 };
  const proto = OpsListener.prototype as unknown as Record<string, (...a: unknown[]) => void>;
  const original = proto.onRefresh;
  proto.onRefresh = function (this: unknown, ...args: unknown[]) {
    const t0 = performance.now();
    original.apply(this, args);
    const ms = performance.now() - t0;
    stats.count++;
    stats.totalMs += ms;
    if (ms > stats.maxMs) stats.maxMs = ms;
  };
  return stats;
}

/** One text render of histograms as full as a bidder's after a while, on this thread. */
function renderOnThisThreadMs(): number {
  const l = new StageLatency();
  let seed = 1;
  for (let i = 0; i < 200_000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    l.record(i % STAGES.length, 0.05 + (seed / 2 ** 31) ** 4 * 20);
  }
  const buf = allocateLatencySnapshot();
  l.snapshotInto(buf);
  const r = new LatencyReport();
  r.load(buf);
  const t0 = performance.now();
  r.toText();
  return Math.round((performance.now() - t0) * 10) / 10;
}

interface BuildResult {
  build: string;
  /** Where the calls went: the operations port, or the bidding port of a build without one. */
  port: 'ops' | 'bidding';
  requests: { debugLatency: number; metrics: number; answered200: number; bytes: number };
  idle: Window;
  storm: Window;
  /** Refreshes this build's bidding thread served (null for a build without the operations thread). */
  refreshesServed: { count: number; maxMs: number; totalMs: number } | null;
}

type StartBidder = (config: unknown) => Promise<{ port: number; opsPort?: number; ready: Promise<void>; drain(): Promise<void> }>;

/** Starts the bidder of the build at `root` in this process and measures one storm against it. */
async function measureBuild(root: string, label: string, paths: string[], concurrency: number): Promise<BuildResult> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { startBidder: start } = require(join(root, 'dist/src/bidder.js')) as { startBidder: StartBidder };
  const { defaultConfig: defaults } = require(join(root, 'dist/src/config/config.js')) as { defaultConfig: typeof defaultConfig };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const base = defaults(root);
  const bidder = await start({
    ...base,
    server: { ...base.server, host: '127.0.0.1', port: 0, opsHost: '127.0.0.1', opsPort: 0 },
    pool: { ...base.pool, threads: 1 },
  });
  try {
    await bidder.ready;
    const body = readFileSync(join(CORPUS_DIR, 'spec-examples/bid-request/2.6/simple-banner.json'), 'utf8');
    await postBids(bidder.port, body, 300);
    // Let start-up and the warm-up's garbage settle before the noise floor is taken.
    await new Promise((r) => setTimeout(r, 500));
    const idle = await probe(() => new Promise((r) => setTimeout(r, 2_000)));
    const current = root === REPO_ROOT;
    const refreshes = current ? timeRefreshes() : null;
    const port = bidder.opsPort ?? bidder.port;
    const loaded = await probe(() => storm(port, paths, concurrency));
    const round = (ms: number): number => Math.round(ms * 1000) / 1000;
    return {
      build: label,
      port: bidder.opsPort !== undefined ? 'ops' : 'bidding',
      requests: { debugLatency: paths.filter((p) => p !== '/metrics').length, metrics: paths.filter((p) => p === '/metrics').length, answered200: loaded.result.ok, bytes: loaded.result.bytes },
      idle: idle.window,
      storm: loaded.window,
      refreshesServed: refreshes && { count: refreshes.count, maxMs: round(refreshes.maxMs), totalMs: round(refreshes.totalMs) },
    };
  } finally {
    await bidder.drain();
  }
}

function describe(r: BuildResult, concurrency: number): string {
  const rows = [['idle', r.idle] as const, ['storm', r.storm] as const]
    .map(([n, w]) => `  ${n.padEnd(6)} ${String(w.durationMs).padStart(8)} ms ${w.maxStallMs.toFixed(2).padStart(8)} ms ${String(w.stallsOver1Ms).padStart(10)} ${w.loopDelayP99Ms.toFixed(2).padStart(9)} ms ${w.loopDelayMaxMs.toFixed(2).padStart(8)} ms`)
    .join('\n');
  const served = r.refreshesServed
    ? `\n  refreshes the bidding thread served: ${r.refreshesServed.count}, longest ${r.refreshesServed.maxMs} ms, total ${r.refreshesServed.totalMs} ms`
    : '';
  return (
    `${r.build}: front-end loop, ${r.requests.debugLatency} /debug/latency + ${r.requests.metrics} /metrics on the ${r.port} port (${concurrency} at a time), ${r.requests.answered200} answered 200:\n` +
    `  window   duration   max stall   stalls>1ms   delay p99   delay max\n${rows}${served}\n`
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '200' },
      scrapes: { type: 'string', default: '50' },
      concurrency: { type: 'string', default: '8' },
      reference: { type: 'string' },
    },
  });
  const calls = Number(values.calls);
  const scrapes = Number(values.scrapes);
  const concurrency = Number(values.concurrency);
  // Scrapes spread evenly among the latency calls.
  const paths: string[] = [];
  const every = scrapes > 0 ? Math.ceil((calls + scrapes) / scrapes) : Infinity;
  for (let i = 0; i < calls + scrapes; i++) paths.push(i % every === 0 ? '/metrics' : '/debug/latency');

  const builds: BuildResult[] = [];
  if (values.reference !== undefined) {
    const ref = buildReference(REPO_ROOT, values.reference);
    if (!ref.ok) throw new Error(`reference: ${ref.reason}`);
    try {
      builds.push(await measureBuild(ref.root, `reference ${values.reference}`, paths, concurrency));
    } finally {
      ref.cleanup();
    }
  }
  builds.push(await measureBuild(REPO_ROOT, 'this build', paths, concurrency));
  const results = {
    kind: 'ops-stall',
    startedAt: new Date().toISOString(),
    command: `node dist/bench/ops-stall.js ${process.argv.slice(2).join(' ')}`.trim(),
    builds,
    renderOnFrontEndMs: renderOnThisThreadMs(),
  };
  process.stdout.write(builds.map((b) => describe(b, concurrency)).join('') + `one text render of full histograms on the front end (what each call cost it before): ${results.renderOnFrontEndMs} ms\n`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `ops-stall-${timestamp(results.startedAt)}.json`);
  writeFileSync(file, JSON.stringify(results, null, 1));
  process.stdout.write(`wrote ${file}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`ops-stall: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
