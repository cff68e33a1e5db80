/**
 * GET /metrics on the operations port after real traffic: the text is well-formed
 * Prometheus exposition (our own strict parser, and promtool when installed), the series
 * the dashboards rely on exist before traffic reaches them, the request counter counts
 * exactly, and the process metrics are the process's or the front end's, never the
 * operations thread's own.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { ALL_NO_BID_REASONS } from '../../src/decisioning/no-bid-reasons';
import { ALL_ERROR_CODES } from '../../src/errors';
import { oneByOne, simpleBanner } from '../helpers/requests';
import { parseExposition, samplesWith } from '../helpers/prom-text';
import { postBid, postMany, sampleValue, scrape, startTestBidder, type TestBidder } from '../helpers/test-bidder';

t.setTimeout(60_000);

const STAGES = ['receive', 'queue', 'score', 'respond', 'total'];

let b: TestBidder;
let text = '';
t.before(async () => {
  // The inline lane off, so every request crosses to a worker and the pool's series move.
  b = await startTestBidder({ testHooks: false, pool: { inlineMaxBatch: 0 } });
  // Bids, no-bids and errors, so every kind of series has moved.
  const bodies: string[] = [];
  for (let i = 0; i < 20; i++) bodies.push(simpleBanner(`m-${i}`), oneByOne(`m-nb-${i}`));
  bodies.push('{"id":', JSON.stringify({ id: 'x', imp: [] }));
  await postMany(b.port, bodies, 8);
  text = await scrape(b.opsPort);
});
t.teardown(() => b?.close());

t.test('the strict parser rejects malformed exposition', async (t) => {
  const bad: [string, string][] = [
    ['# TYPE a counter\na{x="1} 1\n', 'unterminated label'],
    ['# TYPE a counter\na{1x="1"} 1\n', 'bad label name'],
    ['# TYPE a counter\na one\n', 'bad value'],
    ['b 1\n', 'sample without family'],
    ['# TYPE a counter\na 1\na 2\n', 'duplicate series'],
    ['# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', 'not cumulative'],
    ['# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', 'no +Inf'],
    ['# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n', '+Inf != count'],
    ['# TYPE a counter\na -1\n', 'negative counter'],
    ['# TYPE a counter\n# TYPE b gauge\nb 1\na 1\n', 'family not grouped'],
  ];
  for (const [body, why] of bad) t.not(parseExposition(body).errors.length, 0, `rejects: ${why}`);
  const good = '# HELP a A.\n# TYPE a counter\na{x="q\\"z",y="2"} 3\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1.5\nh_count 2\n';
  t.same(parseExposition(good).errors, [], 'accepts a well-formed text');
});

t.test('/metrics is well-formed exposition', async (t) => {
  const exp = parseExposition(text);
  t.same(exp.errors, [], 'no format errors');
  for (const f of exp.families.values()) {
    if (!f.name.startsWith('bidder_')) continue;
    t.ok(f.help !== undefined && f.help.length > 0, `${f.name} has HELP`);
    t.not(f.type, 'untyped', `${f.name} has a TYPE`);
    t.match(f.name, /^bidder_[a-z0-9_]+$/, `${f.name} follows bidder_<subsystem>_<name>_<unit>`);
    if (f.type === 'counter') t.match(f.name, /_total$/, `${f.name}: counters end in _total`);
  }
});

t.test('required series exist (label values created before traffic)', async (t) => {
  const exp = parseExposition(text);
  const type = (name: string) => exp.families.get(name)?.type;
  t.equal(type('bidder_requests_total'), 'counter');
  t.equal(samplesWith(exp, 'bidder_requests_total', { outcome: 'bid', reason: 'none' }).length, 1, 'outcome=bid');
  for (const reason of ALL_NO_BID_REASONS) {
    t.equal(samplesWith(exp, 'bidder_requests_total', { outcome: 'no_bid', reason }).length, 1, `no_bid reason=${reason}`);
  }
  for (const code of ALL_ERROR_CODES) {
    t.equal(samplesWith(exp, 'bidder_requests_total', { outcome: 'error', reason: code }).length, 1, `error reason=${code}`);
  }
  t.equal(type('bidder_bids_total'), 'counter');
  t.equal(type('bidder_bid_price_usd'), 'histogram');
  t.equal(type('bidder_request_stage_duration_seconds'), 'histogram');
  for (const stage of STAGES) {
    const count = samplesWith(exp, 'bidder_request_stage_duration_seconds_count', { stage });
    t.equal(count.length, 1, `stage=${stage} present`);
    t.ok((count[0]?.value ?? 0) > 0, `stage=${stage} observed after traffic`);
  }
  t.equal(type('bidder_pool_queue_depth_requests'), 'gauge');
  t.equal(type('bidder_pool_worker_busy_seconds_total'), 'counter');
  const busy = samplesWith(exp, 'bidder_pool_worker_busy_seconds_total');
  t.ok(busy.length >= 2, 'a busy series per worker slot');
  t.ok(busy.reduce((a, s) => a + s.value, 0) > 0, 'workers recorded busy time');
  t.equal(type('bidder_scored_requests_total'), 'counter');
  t.equal(sampleValue(text, 'bidder_scored_requests_total', { lane: 'pool' }), 42, 'every request scored by a worker');
  t.equal(sampleValue(text, 'bidder_scored_requests_total', { lane: 'inline' }), 0, 'none inline with the lane off');
  const info = samplesWith(exp, 'bidder_model_info');
  t.equal(info.length, 4, 'one bidder_model_info series per loaded name@version');
  const active = info.filter((s) => s.value === 1);
  t.equal(active.length, 1, 'exactly one is 1: the active model');
  t.equal(active[0]?.labels.name, 'ctr-logreg', 'model name label');
  t.match(active[0]?.labels.version ?? '', /^\d+\.\d+\.\d+$/, 'model version label');
  t.ok(info.every((s) => s.value === 0 || s === active[0]), 'the others are 0');

  const bids = samplesWith(exp, 'bidder_bids_total')[0]?.value ?? 0;
  const priceCount = samplesWith(exp, 'bidder_bid_price_usd_count')[0]?.value ?? -1;
  t.ok(bids >= 20, `bids counted (${bids})`);
  t.equal(priceCount, bids, 'one price observation per bid');
  t.equal(samplesWith(exp, 'bidder_requests_total', { outcome: 'error', reason: 'BAD_JSON' })[0]?.value, 1, 'BAD_JSON counted');
  t.equal(samplesWith(exp, 'bidder_requests_total', { outcome: 'error', reason: 'EMPTY_IMP' })[0]?.value, 1, 'EMPTY_IMP counted');
  t.equal(samplesWith(exp, 'bidder_requests_total', { outcome: 'no_bid', reason: 'no_candidates' })[0]?.value, 20, 'no_candidates counted');
});

t.test("process metrics are the process's or the front end's, never the operations thread's", async (t) => {
  const exp = parseExposition(text);
  const present = (name: string) => exp.families.has(name);
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_open_fds', 'nodejs_version_info']) {
    t.ok(present(name), `${name}: process-wide, kept`);
  }
  // Per-isolate: read in the operations thread they would describe that thread.
  for (const name of ['nodejs_gc_duration_seconds', 'nodejs_heap_space_size_used_bytes', 'nodejs_active_handles', 'nodejs_active_requests']) {
    t.notOk(present(name), `${name}: per-isolate, left out`);
  }
  // The front end's own loop and heap, published by it into shared memory.
  t.ok((sampleValue(text, 'nodejs_heap_size_used_bytes') ?? 0) > 1e6, 'front-end heap in use');
  t.ok((sampleValue(text, 'nodejs_eventloop_lag_p99_seconds') ?? -1) >= 0, 'front-end event-loop delay');
  const busy = sampleValue(text, 'bidder_frontend_loop_busy_seconds_total') ?? 0;
  t.equal(exp.families.get('bidder_frontend_loop_busy_seconds_total')?.type, 'counter');
  t.ok(busy > 0, `front-end loop busy time (${busy} s)`);
  await new Promise((r) => setTimeout(r, 110));
  await postMany(b.port, [simpleBanner('busy-1'), simpleBanner('busy-2')], 2);
  const later = sampleValue(await scrape(b.opsPort), 'bidder_frontend_loop_busy_seconds_total') ?? 0;
  t.ok(later > busy, 'and it grows as the front end works');
});

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const promtoolMissing = promtool.error ? `promtool not on PATH (${promtool.error.message})` : false;
/** The text of only the families whose names start with `prefix` (HELP, TYPE and samples). */
function familiesWithPrefix(all: string, prefix: string): string {
  const keep: string[] = [];
  let current = '';
  for (const line of all.split('\n')) {
    const m = /^# (?:HELP|TYPE) (\S+)/.exec(line);
    if (m) current = m[1];
    else if (line !== '' && !line.startsWith('#')) current = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0] ?? current;
    if (line !== '' && (current.startsWith(prefix) || (m === null && line.startsWith(prefix)))) keep.push(line);
  }
  return keep.join('\n') + '\n';
}

t.test('promtool check metrics', { skip: promtoolMissing }, async (t) => {
  const check = (input: string) => spawnSync('promtool', ['check', 'metrics'], { input, encoding: 'utf8', timeout: 10_000 });
  // promtool exits 1 for a malformed text and 3 for lint findings; both must be 0.
  const ownText = familiesWithPrefix(text, 'bidder_');
  t.match(ownText, /^bidder_request_stage_duration_seconds_bucket\{/m, 'the bidder_* extract holds the histograms');
  t.notMatch(ownText, /^nodejs_/m, 'and nothing else');
  const own = check(ownText);
  t.equal(own.status, 0, `the bidder_* families pass promtool: ${(own.stdout + own.stderr).slice(0, 1_000)}`);
  const whole = check(text);
  t.equal(whole.status, 0, `the whole /metrics text passes promtool: ${(whole.stdout + whole.stderr).slice(0, 1_000)}`);
});

t.test('N bids add exactly N to outcome="bid"', async (t) => {
  const read = async () => sampleValue(await scrape(b.opsPort), 'bidder_requests_total', { outcome: 'bid', reason: 'none' }) ?? NaN;
  const before = await read();
  const n = 25;
  let bid = 0;
  for (let i = 0; i < n; i++) if ((await postBid(b.port, simpleBanner(`count-${i}`))).status === 200) bid++;
  t.equal(bid, n, 'all bid');
  t.equal(await read(), before + n, `outcome="bid" rose by ${n}`);
  // A no-bid and an error leave the bid counter alone.
  await postBid(b.port, oneByOne('count-nb'));
  await postBid(b.port, '[]');
  t.equal(await read(), before + n, 'unchanged by a no-bid and an error');
});
