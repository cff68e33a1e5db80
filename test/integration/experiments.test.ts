/**
 * Experiments against the real bidder: a 50/50 experiment over 4,000 users read from the
 * metrics is balanced (no sample-ratio mismatch) and sticky (a returning user keeps its
 * arm across requests, threads and a restart), the arm travels in the notice token and the
 * event log, an arm's model override scores its requests, requests with no user id are
 * bucketed per request, a reload through the admin API applies on every thread, and a bad
 * file changes nothing.
 */
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postBid, postMany, scrape, sampleValue, send, startTestBidder, type TestBidder } from '../helpers/test-bidder';
import { SIMPLE_BANNER } from '../helpers/requests';
import { kMacAlreadyVerified, verifyNoticeToken } from '../../src/notices/notice-token';
import { sampleRatioTest } from '../../src/experiments/experiment-stats';
import { bucketOf } from '../../src/experiments/bucketing';
import { readEventFolder } from '../../src/events/event-file';

const token = 'experiments-test-token-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'experiments-'));
const tokenFile = join(dir, 'admin-token');
writeFileSync(tokenFile, token);
const experimentsFile = join(dir, 'experiments.json');
const fifty = {
  experiments: [{
    id: 'e1', salt: 's', unit: 'user',
    arms: [{ id: 'A', weight: 50 }, { id: 'B', weight: 50, model: 'ctr-mlp@1.0.0' }],
  }],
};
writeFileSync(experimentsFile, JSON.stringify(fifty));

let b: TestBidder;

function body(id: string, user: string | null): string {
  const req: Record<string, unknown> = { ...SIMPLE_BANNER, id };
  if (user === null) delete req.user;
  else req.user = { id: user };
  return JSON.stringify(req);
}

/** The arm label and the model of a bid, from its notice token. */
function claimsOf(answer: string): { arm: string; model: string } {
  const nurl = (JSON.parse(answer) as { seatbid: { bid: { nurl: string }[] }[] }).seatbid[0].bid[0].nurl;
  const v = verifyNoticeToken(new URL(nurl).searchParams.get('t')!, kMacAlreadyVerified);
  if (!v.ok) throw new Error(v.code);
  return { arm: v.claims.arm, model: v.claims.modelVersion };
}

function admin(method: string, path: string, payload?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  return send(b.opsPort, method, path, payload === undefined ? undefined : JSON.stringify(payload), { authorization: `Bearer ${token}` })
    .then((r) => ({ status: r.status, json: JSON.parse(r.body) as Record<string, unknown> }));
}

t.before(async () => {
  b = await startTestBidder({ admin: { tokenFile }, experiments: { file: experimentsFile } });
});
t.teardown(async () => {
  await b?.close();
});

const users = Array.from({ length: 4_000 }, (_, i) => `u-${i.toString(36)}-${(i * 7919) % 10007}`);

t.test('a 50/50 experiment over 4,000 users: balanced by the metrics, each bid in its user\'s arm', async (t) => {
  const answers = await postMany(b.port, users.map((u, i) => body(`r-${i}`, u)), 16);
  t.ok(answers.every((a) => a.status === 200), 'every request bid');
  const text = await scrape(b.opsPort);
  const a = sampleValue(text, 'bidder_experiment_requests_total', { experiment: 'e1', arm: 'A' }) ?? 0;
  const bb = sampleValue(text, 'bidder_experiment_requests_total', { experiment: 'e1', arm: 'B' }) ?? 0;
  t.equal(a + bb, 4_000, 'every request assigned once');
  const srm = sampleRatioTest([a, bb], [50, 50])!;
  t.ok(srm.pValue > 0.001, `no sample-ratio mismatch (A ${a}, B ${bb}, p = ${srm.pValue.toFixed(4)})`);
  t.equal(sampleValue(text, 'bidder_experiment_bids_total', { experiment: 'e1', arm: 'A' }), a, 'bids per arm');
  // The documented hash decides: every answer's arm is what bucketOf says for its user.
  let agree = 0;
  answers.forEach((ans, i) => {
    const expected = bucketOf('s', users[i]) < 5_000 ? 'e1:A' : 'e1:B';
    const c = claimsOf(ans.body);
    if (c.arm === expected && c.model === (expected === 'e1:B' ? 'ctr-mlp@1.0.0' : 'ctr-logreg@1.0.0')) agree++;
  });
  t.equal(agree, 4_000, "each bid carries its user's arm, and arm B's model priced it");
});

t.test('a returning user keeps its arm, request after request, whichever thread scores it', async (t) => {
  const user = users[17];
  const expected = bucketOf('s', user) < 5_000 ? 'e1:A' : 'e1:B';
  const answers = await postMany(b.port, Array.from({ length: 50 }, (_, i) => body(`again-${i}`, user)), 8);
  t.same([...new Set(answers.map((a) => claimsOf(a.body).arm))], [expected]);
});

t.test('requests without a user id are bucketed per request', async (t) => {
  const answers = await postMany(b.port, Array.from({ length: 400 }, (_, i) => body(`anon-${i}`, null)), 8);
  const arms = answers.map((a) => claimsOf(a.body).arm);
  t.same([...new Set(arms)].sort(), ['e1:A', 'e1:B'], 'both arms');
  arms.forEach((arm, i) => {
    if (arm !== (bucketOf('s', `anon-${i}`) < 5_000 ? 'e1:A' : 'e1:B')) t.fail(`request anon-${i} not bucketed by its id`);
  });
});

t.test('notices count wins and spend per arm; the event log carries the arm', async (t) => {
  const ans = await postBid(b.port, body('notice-arm', users[3]));
  const nurl = (JSON.parse(ans.body) as { seatbid: { bid: { nurl: string; burl: string }[] }[] }).seatbid[0].bid[0];
  const arm = claimsOf(ans.body).arm.split(':')[1];
  const fill = (u: string) => new URL(u.replace('${AUCTION_PRICE}', '0.5').replace(/\$\{[A-Z_]+\}/g, ''));
  for (const u of [nurl.nurl, nurl.burl]) {
    const url = fill(u);
    t.equal((await send(b.port, 'GET', url.pathname + url.search)).status, 204);
  }
  let text = '';
  for (let i = 0; i < 50; i++) {
    text = await scrape(b.opsPort);
    if ((sampleValue(text, 'bidder_experiment_spend_micros_total', { experiment: 'e1', arm }) ?? 0) > 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  t.equal(sampleValue(text, 'bidder_experiment_wins_total', { experiment: 'e1', arm }), 1);
  t.equal(sampleValue(text, 'bidder_experiment_spend_micros_total', { experiment: 'e1', arm }), 500, 'a 0.5 CPM impression is 500 micro-USD');
});

t.test('a bad experiments file is refused whole; a good one applies on every thread through admin', async (t) => {
  writeFileSync(experimentsFile, JSON.stringify({ experiments: [{ id: 'e1', salt: 's', arms: [{ id: 'A', weight: -1 }, { id: 'B', weight: 1, model: 'nope' }] }] }));
  const bad = await admin('POST', '/admin/experiments/reload');
  t.equal(bad.status, 422);
  t.equal(bad.json.code, 'EXPERIMENTS_INVALID');
  t.ok((bad.json.errors as string[]).some((e) => /weight/.test(e)), 'names the bad weight');
  const still = await postBid(b.port, body('still', users[5]));
  t.match(claimsOf(still.body).arm, /^e1:[AB]$/, 'the running experiment stays');

  writeFileSync(experimentsFile, JSON.stringify({ experiments: [{ id: 'e2', salt: 'other', arms: [{ id: 'only', weight: 1 }] }] }));
  const good = await admin('POST', '/admin/experiments/reload');
  t.equal(good.status, 200);
  t.equal(good.json.version, 2);
  const answers = await postMany(b.port, Array.from({ length: 40 }, (_, i) => body(`after-reload-${i}`, users[i])), 8);
  t.same([...new Set(answers.map((a) => claimsOf(a.body).arm))], ['e2:only'], 'every thread assigns from the new file');
  const text = await scrape(b.opsPort);
  t.ok((sampleValue(text, 'bidder_experiment_requests_total', { experiment: 'e1', arm: 'A' }) ?? 0) > 0, "the old arms' counters stay exported");
  t.equal(sampleValue(text, 'bidder_experiment_requests_total', { experiment: 'e2', arm: 'only' }), 40);
});

t.test('after a restart, the same user lands in the same arm', async (t) => {
  writeFileSync(experimentsFile, JSON.stringify(fifty));
  const before = users.slice(0, 20).map((u) => (bucketOf('s', u) < 5_000 ? 'e1:A' : 'e1:B'));
  const eventsDir = b.bidder.config.money.eventsDir;
  await b.close();
  b = await startTestBidder({ admin: { tokenFile }, experiments: { file: experimentsFile } });
  const answers = await postMany(b.port, users.slice(0, 20).map((u, i) => body(`restart-${i}`, u)), 4);
  t.same(answers.map((a) => claimsOf(a.body).arm), before);
  // The first bidder's event log: exposures per arm (with weight and control) and bids with their arm.
  const records = readEventFolder(eventsDir, () => undefined);
  const exposures = records.filter((r) => r.kind === 'exposure');
  const exposed = (label: string) => exposures.filter((r) => r.arm === label).reduce((n, r) => n + r.count, 0);
  t.ok(exposed('e1:A') + exposed('e1:B') >= 4_000, 'exposure records count the assigned requests');
  t.ok(exposures.some((r) => r.arm === 'e1:A' && r.control && r.weight === 50), 'A is the control, weight 50');
  t.ok(exposures.some((r) => r.arm === 'e1:B' && !r.control), 'B (a model override) is not');
  t.ok(records.some((r) => r.kind === 'bid' && r.arm === 'e1:B' && r.modelVersion === 'ctr-mlp@1.0.0'), 'bid records carry arm and model');
});
