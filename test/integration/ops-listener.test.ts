/**
 * The operations listener: /metrics and /debug/latency answer on server.opsPort, in their
 * own thread, and are 404 on the bidding port; /healthz and /readyz answer on both; the
 * bidding thread renders nothing and copies at most one latency snapshot per interval
 * however many calls arrive; readiness and draining reach the operations port; the
 * listener closes last in a drain; and a process that exits with the listener open exits
 * with its own code instead of aborting.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { Registry } from 'prom-client';
import { ALL_ERROR_CODES } from '../../src/errors';
import { buildMetricsLayout, OutcomeTable, STAGES } from '../../src/metrics/definitions';
import { LatencyReport, StageLatency } from '../../src/metrics/latency';
import { kMaxSlots } from '../../src/metrics/shared-metrics';
import { OpsListener, type OpsListenerOptions } from '../../src/ops/ops-listener';
import { simpleBanner } from '../helpers/requests';
import { canConnect, postMany, REPO_ROOT, sampleValue, scrape, send, startTestBidder, withTimeout, type TestBidder } from '../helpers/test-bidder';

t.setTimeout(90_000);

let b: TestBidder;
t.before(async () => {
  b = await startTestBidder({ testHooks: true });
  await postMany(b.port, Array.from({ length: 20 }, (_, i) => simpleBanner(`ops-${i}`)), 4);
});
t.teardown(() => b?.close());

const OPS_PATHS = ['/metrics', '/debug/latency', '/debug/latency?format=json'];

t.test('/metrics and /debug/latency answer on the operations port and are 404 on the bidding port', async (t) => {
  t.not(b.opsPort, b.port, 'a port of its own');
  for (const path of OPS_PATHS) {
    const bid = await send(b.port, 'GET', path);
    t.equal(bid.status, 404, `${path} on the bidding port: 404`);
    t.equal((JSON.parse(bid.body) as { code: string }).code, 'NOT_FOUND', `${path}: NOT_FOUND`);
    const ops = await send(b.opsPort, 'GET', path);
    t.equal(ops.status, 200, `${path} on the operations port: 200`);
  }
  const metrics = await send(b.opsPort, 'GET', '/metrics');
  t.match(String(metrics.headers['content-type']), /^text\/plain; version=0\.0\.4/, 'exposition content type');
  t.ok((sampleValue(metrics.body, 'bidder_requests_total', { outcome: 'bid', reason: 'none' }) ?? 0) >= 20, 'counts the bids');
  const json = await send(b.opsPort, 'GET', '/debug/latency?format=json');
  t.match(String(json.headers['content-type']), /application\/json/);
  const age = Number(json.headers['x-snapshot-age-ms']);
  t.ok(age >= 0 && age <= 1_000, `x-snapshot-age-ms: ${json.headers['x-snapshot-age-ms']}`);
  const stats = JSON.parse(json.body) as Record<string, { count: number }>;
  t.same(Object.keys(stats), [...STAGES], 'every stage');
  t.ok(stats.total.count >= 20, `total count ${stats.total.count} (${json.body.slice(0, 300)})`);
  const text = await send(b.opsPort, 'GET', '/debug/latency');
  t.match(String(text.headers['content-type']), /text\/plain/);
  t.match(text.body, /## stage=total\n\s+Value\s+Percentile/, 'the HDR distribution');
});

t.test('/healthz and /readyz answer on both ports; nothing else on the operations port', async (t) => {
  for (const port of [b.port, b.opsPort]) {
    const which = port === b.port ? 'bidding' : 'operations';
    const h = await send(port, 'GET', '/healthz');
    t.same([h.status, h.body], [200, 'ok\n'], `/healthz on the ${which} port`);
    const r = await send(port, 'GET', '/readyz');
    t.same([r.status, r.body], [200, 'ready\n'], `/readyz on the ${which} port`);
  }
  const bid = await send(b.opsPort, 'POST', '/openrtb2/bid', simpleBanner('ops-bid'));
  t.equal(bid.status, 404, 'no bidding on the operations port');
  const unknown = await send(b.opsPort, 'GET', '/nope');
  t.equal(unknown.status, 404);
  t.equal((JSON.parse(unknown.body) as { code: string }).code, 'NOT_FOUND');
});

/** Counts calls of `obj[name]` made on this thread until the returned function restores it. */
function spy<T extends object>(obj: T, name: keyof T & string): { calls: () => number; restore: () => void } {
  const original = obj[name] as unknown as (...a: unknown[]) => unknown;
  let calls = 0;
  (obj as Record<string, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
    calls++;
    return original.apply(this, args);
  };
  return { calls: () => calls, restore: () => ((obj as Record<string, unknown>)[name] = original) };
}

t.test('the bidding thread renders nothing: the operations thread does', async (t) => {
  // This process is the bidder's front end; the operations thread loads its own copies of
  // these modules, so a call counted here ran on the bidding thread.
  const spies = [
    spy(hdr.JsHistogram.prototype, 'outputPercentileDistribution'),
    spy(hdr.JsHistogram.prototype, 'getValueAtPercentile'),
    spy(Registry.prototype, 'metrics'),
  ];
  t.teardown(() => spies.forEach((s) => s.restore()));
  for (let i = 0; i < 5; i++) {
    await postMany(b.port, [simpleBanner(`render-${i}`)], 1);
    for (const path of OPS_PATHS) t.equal((await send(b.opsPort, 'GET', path)).status, 200, `${path} answered`);
    await new Promise((r) => setTimeout(r, 110)); // past the snapshot reuse interval
  }
  const json = JSON.parse((await send(b.opsPort, 'GET', '/debug/latency?format=json')).body) as Record<string, { count: number }>;
  t.ok(json.total.count >= 25, `the answers follow the traffic (${json.total.count})`);
  t.same(
    spies.map((s) => s.calls()),
    [0, 0, 0],
    'no percentile distribution, percentile or exposition computed on the bidding thread',
  );
  // Control: the same spies do see rendering done on this thread.
  new LatencyReport().toText();
  t.equal(spies[0].calls(), STAGES.length, 'the spies catch a render made here');
});

t.test('a storm of /debug/latency calls costs the bidding thread one snapshot per 100 ms', async (t) => {
  await new Promise((r) => setTimeout(r, 110)); // so the storm cannot reuse an earlier snapshot
  const snapshots = spy(StageLatency.prototype, 'snapshotInto');
  t.teardown(snapshots.restore);
  const started = Date.now();
  const calls = 100;
  const answers = await Promise.all(Array.from({ length: calls }, () => send(b.opsPort, 'GET', '/debug/latency')));
  const elapsed = Date.now() - started;
  t.ok(
    answers.every((a) => a.status === 200 && a.body.includes('## stage=total')),
    'every call answered with the distribution',
  );
  const bound = Math.floor(elapsed / 100) + 2;
  t.ok(snapshots.calls() >= 1 && snapshots.calls() <= bound, `${snapshots.calls()} snapshots for ${calls} calls in ${elapsed} ms (at most ${bound})`);
});

t.test("the gauges are the front end's, published fresh for a scrape", async (t) => {
  // Held in a worker for 400 ms: the bidding thread counts it in flight meanwhile.
  const held = Promise.all(
    Array.from({ length: 3 }, (_, i) => send(b.port, 'POST', '/openrtb2/bid', simpleBanner(`held-${i}`), { 'x-test-delay-ms': '400' })),
  );
  let inFlight = 0;
  const until = Date.now() + 3_000;
  while (inFlight < 3 && Date.now() < until) {
    inFlight = sampleValue(await scrape(b.opsPort), 'bidder_requests_in_flight') ?? 0;
    await new Promise((r) => setTimeout(r, 20));
  }
  t.equal(inFlight, 3, 'three requests in flight seen on the operations port');
  await held;
  await new Promise((r) => setTimeout(r, 110));
  const text = await scrape(b.opsPort);
  t.equal(sampleValue(text, 'bidder_requests_in_flight'), 0, 'and none once answered');
  t.equal(sampleValue(text, 'bidder_pool_threads'), 2, 'pool threads');
});

t.test('draining reaches the operations port, and its listener closes last', async (t) => {
  const d = await startTestBidder({ testHooks: true, pool: { threads: 1 } });
  t.equal((await send(d.opsPort, 'GET', '/readyz')).status, 200, 'ready before the drain');
  const held = send(d.port, 'POST', '/openrtb2/bid', simpleBanner('drain-held'), { 'x-test-delay-ms': '500' });
  const until = Date.now() + 3_000;
  while ((sampleValue(await scrape(d.opsPort), 'bidder_requests_in_flight') ?? 0) < 1 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const drained = d.close();
  const r = await send(d.opsPort, 'GET', '/readyz');
  t.same([r.status, r.body], [503, 'draining\n'], '/readyz on the operations port: 503 draining');
  t.equal((await send(d.opsPort, 'GET', '/metrics')).status, 200, 'still scraped while the drain answers what is in flight');
  t.equal((await held).status, 200, 'the held request is answered');
  await withTimeout(drained, 15_000, 'drain');
  t.equal(await canConnect(d.opsPort), false, 'the operations port is closed once drained');
});

function listenerOptions(port = 0): OpsListenerOptions {
  const layout = buildMetricsLayout(new OutcomeTable(ALL_ERROR_CODES), kMaxSlots - 1);
  const zero = (): number => 0;
  return {
    host: '127.0.0.1',
    port,
    metrics: layout.allocate(),
    model: { name: 'm', version: '1.0.0' },
    latency: new StageLatency(),
    gauges: {
      requestsInFlight: zero,
      pendingRequests: zero,
      queuedTasks: zero,
      inFlightBatches: zero,
      threads: zero,
      slabSegmentsInUse: zero,
      receivingBytes: zero,
    },
  };
}

t.test('readyz on the operations port: warming, ready, draining', async (t) => {
  const ops = await OpsListener.start(listenerOptions());
  t.teardown(() => ops.close());
  const body = async () => {
    const r = await send(ops.port, 'GET', '/readyz');
    return [r.status, r.body];
  };
  const ready = async () => sampleValue(await scrape(ops.port), 'bidder_ready');
  t.same(await body(), [503, 'warming\n'], 'before the bidder is ready');
  t.equal(await ready(), 0, 'bidder_ready 0 while warming (what the not-ready alert reads)');
  ops.setReady();
  t.same(await body(), [200, 'ready\n']);
  t.equal(await ready(), 1, 'bidder_ready 1 when /readyz is 200');
  ops.setDraining();
  t.same(await body(), [503, 'draining\n']);
  t.equal(await ready(), 0, 'bidder_ready 0 while draining');
  t.equal((await send(ops.port, 'GET', '/healthz')).status, 200, 'healthz stays 200');
});

t.test('a port in use: OPS_LISTEN_FAILED, and no thread left behind', async (t) => {
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => taken.close());
  const port = (taken.address() as AddressInfo).port;
  await t.rejects(OpsListener.start(listenerOptions(port)), { code: 'OPS_LISTEN_FAILED' });
});

/** Runs a script that starts an operations listener in a fresh process, then ends as `ending` says. */
function childWithListener(ending: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const dist = (p: string) => JSON.stringify(resolve(REPO_ROOT, 'dist/src', p));
  const script = `
    const { OpsListener } = require(${dist('ops/ops-listener.js')});
    const { StageLatency } = require(${dist('metrics/latency.js')});
    const { buildMetricsLayout, OutcomeTable } = require(${dist('metrics/definitions.js')});
    const { ALL_ERROR_CODES } = require(${dist('errors.js')});
    const { kMaxSlots } = require(${dist('metrics/shared-metrics.js')});
    const zero = () => 0;
    OpsListener.start({
      host: '127.0.0.1', port: 0, metrics: buildMetricsLayout(new OutcomeTable(ALL_ERROR_CODES), kMaxSlots - 1).allocate(), model: { name: 'm', version: '1' },
      latency: new StageLatency(),
      gauges: { requestsInFlight: zero, pendingRequests: zero, queuedTasks: zero, inFlightBatches: zero, threads: zero, slabSegmentsInUse: zero, receivingBytes: zero },
    }).then(async (ops) => {
      // An open keep-alive connection too, as a scraper holds.
      await fetch('http://127.0.0.1:' + ops.port + '/healthz').then((r) => r.text());
      const keep = setInterval(() => {}, 1000);
      ${ending}
    });
  `;
  return new Promise((r) => {
    const child = spawn(process.execPath, ['-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code, signal) => r({ code, signal, stderr }));
  });
}

t.test('a process that exits with the listener open exits with its own code, not an abort', async (t) => {
  const exited = await withTimeout(childWithListener('process.exit(7);'), 20_000, 'process.exit');
  t.same([exited.code, exited.signal], [7, null], `process.exit(7) keeps its code (stderr: ${exited.stderr.slice(0, 300)})`);
  const thrown = await withTimeout(childWithListener("setTimeout(() => { throw new Error('boom'); }, 0);"), 20_000, 'uncaught');
  t.same([thrown.code, thrown.signal], [1, null], 'an uncaught exception exits 1');
  t.match(thrown.stderr, /boom/);
  t.notMatch(thrown.stderr, /open handles|Assertion failed/, 'no libuv abort');
});
