/**
 * The model lifecycle against the real bidder (pool, inline lane, operations thread):
 * admin authentication, the registry's listing, nine hot swaps of the active model under
 * open-loop load (no request fails, each swap on every thread well within 1 s), a reload
 * that adds a version beside the others and one that is refused whole, the shadow model
 * scored off the critical path, and a canary promoted through its ramp and one rolled
 * back on its latency bound.
 */
import t from 'tap';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO_ROOT, postBid, postMany, scrape, sampleValue, send, startTestBidder, type TestBidder } from '../helpers/test-bidder';
import { simpleBanner } from '../helpers/requests';
import { runLoadInChild } from '../../bench/load/load-child';
import { writeRequestSet } from '../../bench/load/request-set';
import { kMacAlreadyVerified, verifyNoticeToken } from '../../src/notices/notice-token';
import { readEventFolder } from '../../src/events/event-file';

const token = 'lifecycle-test-token-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'lifecycle-'));
const modelsDir = join(dir, 'models');
const tokenFile = join(dir, 'admin-token');
writeFileSync(tokenFile, `${token}\n`);
// A models folder of our own: the reload tests add versions to it.
require('node:fs').mkdirSync(modelsDir);
for (const f of readdirSync(resolve(REPO_ROOT, 'native-models'))) {
  if (f.endsWith('.onnx') || f === 'manifest.json') copyFileSync(resolve(REPO_ROOT, 'native-models', f), join(modelsDir, f));
}

let b: TestBidder;
const auth = { authorization: `Bearer ${token}` };

function admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  return send(b.opsPort, method, path, body === undefined ? undefined : JSON.stringify(body), auth).then((r) => ({
    status: r.status,
    json: r.body === '' ? {} : (JSON.parse(r.body) as Record<string, unknown>),
  }));
}

/** The model a bid was priced by, as its notice token says. */
function modelOfBid(body: string): string {
  const nurl = (JSON.parse(body) as { seatbid: { bid: { nurl: string }[] }[] }).seatbid[0].bid[0].nurl;
  const tok = new URL(nurl).searchParams.get('t')!;
  const v = verifyNoticeToken(tok, kMacAlreadyVerified);
  return v.ok ? v.claims.modelVersion : '';
}

t.before(async () => {
  b = await startTestBidder({ admin: { tokenFile }, model: { dir: modelsDir, canaryStepSec: 1 } });
});
t.teardown(async () => {
  await b?.close();
});

t.test('admin calls need the bearer token: none and a wrong one are 401', async (t) => {
  const none = await send(b.opsPort, 'GET', '/admin/models');
  t.equal(none.status, 401);
  t.match(String(none.headers['www-authenticate']), /^Bearer/);
  const wrong = await send(b.opsPort, 'GET', '/admin/models', undefined, { authorization: `Bearer ${token.slice(0, -1)}x` });
  t.equal(wrong.status, 401);
  t.equal(JSON.parse(wrong.body).code, 'ADMIN_UNAUTHORIZED');
  const right = await admin('GET', '/admin/models');
  t.equal(right.status, 200);
});

t.test('the registry lists every name@version with its state; bidder_model_info is 1 for the active one only', async (t) => {
  const { json } = await admin('GET', '/admin/models');
  const models = json.models as { model: string; state: string }[];
  t.same(models.map((m) => m.model).sort(), ['ctr-dnn@1.0.0', 'ctr-logreg@1.0.0', 'ctr-mlp@1.0.0', 'ctr-mlp@1.1.0']);
  t.same(models.filter((m) => m.state === 'active').map((m) => m.model), ['ctr-logreg@1.0.0']);
  const text = await scrape(b.opsPort);
  t.equal(sampleValue(text, 'bidder_model_info', { name: 'ctr-logreg', version: '1.0.0' }), 1);
  t.equal(sampleValue(text, 'bidder_model_info', { name: 'ctr-mlp', version: '1.1.0' }), 0);
  t.equal(sampleValue(text, 'bidder_model_info', { name: 'ctr-dnn', version: '1.0.0' }), 0);
});

t.test('nine swaps under open-loop load: no request fails, each is on every thread within 1 s', async (t) => {
  const bodies = Array.from({ length: 64 }, (_, i) => Buffer.from(simpleBanner(`swap-${i}`, { user: { id: `user-${i}` } })));
  const set = writeRequestSet(dir, 'swap', bodies, false);
  const load = runLoadInChild({ port: b.port, set, rate: 300, durationS: 4, connections: 8 });
  const order = ['ctr-mlp@1.0.0', 'ctr-dnn@1.0.0', 'ctr-mlp@1.1.0', 'ctr-logreg@1.0.0'];
  const swaps: { status: number; ms: number; active: string }[] = [];
  await new Promise((r) => setTimeout(r, 300));
  for (let i = 0; i < 9; i++) {
    const target = order[i % order.length];
    const r = await admin('POST', '/admin/models/activate', { model: target });
    swaps.push({ status: r.status, ms: r.json.switchedInMs as number, active: r.json.active as string });
    t.equal(r.json.active, target, `swap ${i + 1} to ${target}`);
    await new Promise((res) => setTimeout(res, 300));
  }
  const result = await load;
  t.same(swaps.map((s) => s.status), Array(9).fill(200), 'every swap answered 200');
  t.ok(swaps.every((s) => s.ms < 1000), `every swap on every thread within 1 s (slowest ${Math.max(...swaps.map((s) => s.ms)).toFixed(2)} ms)`);
  t.equal(result.errors, 0, 'no connection error');
  t.equal(result.completed, result.sent, `all ${result.sent} requests answered`);
  const statuses = Object.keys(result.status).sort();
  t.same(statuses.filter((s) => s !== '200' && s !== '204'), [], `only 200 and 204 (${JSON.stringify(result.status)})`);
  t.ok((result.status['200'] ?? 0) > result.sent * 0.9, 'nearly all bid');
  const text = await scrape(b.opsPort);
  for (const [name, version] of [['ctr-mlp', '1.0.0'], ['ctr-dnn', '1.0.0'], ['ctr-mlp', '1.1.0']]) {
    t.ok((sampleValue(text, 'bidder_model_runs_total', { model: name, version }) ?? 0) > 0, `${name}@${version} scored while active`);
  }
  // The ninth swap (order[8 % 4]) made ctr-mlp@1.0.0 active.
  t.equal(sampleValue(text, 'bidder_model_info', { name: 'ctr-mlp', version: '1.0.0' }), 1, 'the last swap is what the metrics say');
  const bid = await postBid(b.port, simpleBanner('after-swaps'));
  t.equal(modelOfBid(bid.body), 'ctr-mlp@1.0.0', "a bid's notice token names the model that priced it");
});

t.test('a batch is scored by one model: bids right after a swap all name the new model', async (t) => {
  const r = await admin('POST', '/admin/models/activate', { model: 'ctr-dnn' });
  t.equal(r.status, 200);
  const answers = await postMany(b.port, Array.from({ length: 40 }, (_, i) => simpleBanner(`one-model-${i}`)), 8);
  t.same([...new Set(answers.map((a) => modelOfBid(a.body)))], ['ctr-dnn@1.0.0']);
});

t.test('reload adds a new version beside the others; a bad file refuses the whole reload and leaves what serves', async (t) => {
  const manifestPath = join(modelsDir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { models: Record<string, unknown>[] };
  const logreg = manifest.models.find((m) => m.name === 'ctr-logreg')!;
  copyFileSync(join(modelsDir, 'ctr-logreg@1.0.0.onnx'), join(modelsDir, 'ctr-logreg@1.0.1.onnx'));
  manifest.models.push({ ...logreg, version: '1.0.1', file: 'ctr-logreg@1.0.1.onnx' });
  writeFileSync(manifestPath, JSON.stringify(manifest));
  const reload = await admin('POST', '/admin/models/reload');
  t.equal(reload.status, 200);
  t.same(reload.json.loaded, ['ctr-logreg@1.0.1']);
  const again = await admin('POST', '/admin/models/reload');
  t.same(again.json.loaded, [], 'a second reload loads nothing new');

  const act = await admin('POST', '/admin/models/activate', { model: 'ctr-logreg' });
  t.equal(act.json.active, 'ctr-logreg@1.0.1', 'a bare name activates its newest version');
  t.equal(modelOfBid((await postBid(b.port, simpleBanner('new-version'))).body), 'ctr-logreg@1.0.1');

  // A new version whose bytes do not match its sha256: the whole reload is refused.
  copyFileSync(join(modelsDir, 'ctr-mlp@1.0.0.onnx'), join(modelsDir, 'ctr-mlp@2.0.0.onnx'));
  const mlp = manifest.models.find((m) => m.name === 'ctr-mlp')!;
  manifest.models.push({ ...mlp, version: '2.0.0', file: 'ctr-mlp@2.0.0.onnx', sha256: 'f'.repeat(64) });
  manifest.models.push({ ...logreg, version: '1.0.2', file: 'ctr-logreg@1.0.1.onnx' });
  writeFileSync(manifestPath, JSON.stringify(manifest));
  const bad = await admin('POST', '/admin/models/reload');
  t.equal(bad.status, 422);
  t.equal(bad.json.code, 'MODEL_RELOAD_FAILED');
  t.match(String((bad.json.errors as string[])[0]), /MODEL_SHA256_MISMATCH/);
  const after = await admin('GET', '/admin/models');
  t.equal(after.json.active, 'ctr-logreg@1.0.1', 'the serving model is untouched');
  t.equal((after.json.models as unknown[]).length, 5, 'nothing of the refused reload was loaded (not even its good entry)');
  const still = await postBid(b.port, simpleBanner('after-bad-reload'));
  t.equal(still.status, 200);
  t.equal(modelOfBid(still.body), 'ctr-logreg@1.0.1');
  // Restore a loadable manifest for the rest of the suite.
  manifest.models.splice(-2, 2);
  writeFileSync(manifestPath, JSON.stringify(manifest));
});

t.test('activating a model that is not loaded is 404 and changes nothing', async (t) => {
  const r = await admin('POST', '/admin/models/activate', { model: 'ctr-gbdt' });
  t.equal(r.status, 404);
  t.equal(r.json.code, 'MODEL_NOT_FOUND');
  const missing = await admin('POST', '/admin/models/activate', {});
  t.equal(missing.status, 400);
  t.equal((await admin('GET', '/admin/models')).json.active, 'ctr-logreg@1.0.1');
});

t.test('the shadow model scores a sample after the answers: metrics compare it with the active model', async (t) => {
  const r = await admin('POST', '/admin/models/shadow', { model: 'ctr-dnn', samplePermille: 1000 });
  t.equal(r.status, 200);
  const answers = await postMany(b.port, Array.from({ length: 30 }, (_, i) => simpleBanner(`shadow-${i}`)), 4);
  t.ok(answers.every((a) => a.status === 200), 'answers unchanged: the active model still prices');
  t.ok(answers.every((a) => modelOfBid(a.body) === 'ctr-logreg@1.0.1'));
  await new Promise((res) => setTimeout(res, 100));
  const text = await scrape(b.opsPort);
  const rows = sampleValue(text, 'bidder_shadow_rows_total', { model: 'ctr-dnn', version: '1.0.0' }) ?? 0;
  t.ok(rows >= 30, `the shadow scored ${rows} rows`);
  const active = sampleValue(text, 'bidder_shadow_mean_ctr', { model: 'ctr-dnn', version: '1.0.0', role: 'active' }) ?? 0;
  const shadow = sampleValue(text, 'bidder_shadow_mean_ctr', { model: 'ctr-dnn', version: '1.0.0', role: 'shadow' }) ?? 0;
  t.ok(active > 0 && shadow > 0, 'both means are exported');
  const gap = sampleValue(text, 'bidder_shadow_calibration_gap', { model: 'ctr-dnn', version: '1.0.0' });
  t.ok(gap !== undefined && Math.abs(gap - (shadow / active - 1)) < 1e-9, 'the gap is the ratio of the means less one');
  t.equal((await admin('GET', '/admin/models')).json.shadow && ((await admin('GET', '/admin/models')).json.shadow as { model: string }).model, 'ctr-dnn@1.0.0');
  const off = await admin('POST', '/admin/models/shadow', { model: null });
  t.equal(off.status, 200);
});

t.test('a canary crossing its latency bound is rolled back by itself; the active model never changes', async (t) => {
  const start = await admin('POST', '/admin/models/canary', { model: 'ctr-dnn', maxRunUs: 1, minRuns: 1, stepSec: 60 });
  t.equal(start.status, 200);
  t.equal((start.json.canary as { trafficPercent: number }).trafficPercent, 1);
  const text0 = await scrape(b.opsPort);
  t.equal(sampleValue(text0, 'bidder_model_canary_traffic_ratio', { model: 'ctr-dnn', version: '1.0.0' }), 0.01);
  let last: Record<string, unknown> = {};
  for (let i = 0; i < 40 && (last.canary ?? true) !== null; i++) {
    await postMany(b.port, Array.from({ length: 200 }, (_, k) => simpleBanner(`canary-rb-${i}-${k}`)), 16);
    await new Promise((res) => setTimeout(res, 200));
    last = (await admin('GET', '/admin/models')).json;
  }
  t.equal(last.canary, null, 'no canary any more');
  t.match(last.lastCanary, { model: 'ctr-dnn@1.0.0', result: 'rolled_back' });
  t.match(String((last.lastCanary as { detail: string }).detail), /mean run/);
  t.equal(last.active, 'ctr-logreg@1.0.1');
});

t.test('a healthy canary ramps 1% → 5% → 25% → 100% and is promoted', async (t) => {
  const start = await admin('POST', '/admin/models/canary', { model: 'ctr-mlp@1.1.0', minRuns: 1, stepSec: 1 });
  t.equal(start.status, 200);
  const seen = new Set<number>();
  let last: Record<string, unknown> = {};
  for (let i = 0; i < 60 && last.active !== 'ctr-mlp@1.1.0'; i++) {
    await postMany(b.port, Array.from({ length: 60 }, (_, k) => simpleBanner(`canary-up-${i}-${k}`)), 8);
    last = (await admin('GET', '/admin/models')).json;
    const c = last.canary as { trafficPercent: number } | null;
    if (c !== null) seen.add(c.trafficPercent);
    await new Promise((res) => setTimeout(res, 150));
  }
  t.equal(last.active, 'ctr-mlp@1.1.0', 'promoted to active');
  t.match(last.lastCanary, { model: 'ctr-mlp@1.1.0', result: 'promoted' });
  t.ok(seen.has(1) && seen.has(100), `went through its steps (${[...seen].join(', ')}%)`);
});

t.test('the event log holds the shadow predictions beside the active ones', async (t) => {
  await new Promise((res) => setTimeout(res, 100));
  const records = readEventFolder(b.bidder.config.money.eventsDir, () => undefined);
  const shadows = records.filter((r) => r.kind === 'shadow');
  t.ok(shadows.length > 0, `${shadows.length} shadow records`);
  t.equal(shadows[0].shadowModel, 'ctr-dnn@1.0.0');
  t.equal(shadows[0].modelVersion, 'ctr-logreg@1.0.1');
  t.ok(shadows[0].ctr > 0 && shadows[0].shadowCtr > 0);
  const bids = records.filter((r) => r.kind === 'bid');
  t.ok(bids.some((r) => r.modelVersion === 'ctr-dnn@1.0.0') && bids.some((r) => r.modelVersion === 'ctr-logreg@1.0.1'), 'bid records name the model that priced them');
});
