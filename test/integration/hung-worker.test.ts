/**
 * A worker that never answers its batch (x-test-delay-ms far past the hard timeout): its
 * requests get 204 tmax_exceeded by the hard timeout, the worker is terminated once the
 * batch has been out kMinStuckMs and replaced, the pool returns to its size, the receive
 * slab to empty (the stuck batch's regions are freed only when its thread has exited), and
 * the bidder keeps bidding.
 */
import t from 'tap';
import { postBid, sampleValue, scrape, startTestBidder, type TapTest, type TestBidder } from '../helpers/test-bidder';
import { simpleBanner } from '../helpers/requests';

t.setTimeout(120_000);

const kHardTimeoutMs = 400;
/** Far past the hard timeout: without the abort the answer would wait for this. */
const kStuckMs = '20000';
/** The answer must come by the hard timeout; the slack is for the sweep and a loaded machine, far under kStuckMs. */
const kSlackMs = 1_500;

async function waitForMetrics(b: TestBidder, pred: (text: string) => boolean, ms: number): Promise<string> {
  const until = Date.now() + ms;
  let text = await scrape(b.opsPort);
  while (!pred(text) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    text = await scrape(b.opsPort);
  }
  return text;
}

const timedOutCount = (text: string): number => sampleValue(text, 'bidder_requests_total', { outcome: 'no_bid', reason: 'tmax_exceeded' }) ?? NaN;

function recovered(threads: number) {
  return (text: string): boolean =>
    sampleValue(text, 'bidder_pool_threads') === threads &&
    sampleValue(text, 'bidder_receive_slab_segments_in_use') === 0 &&
    sampleValue(text, 'bidder_requests_in_flight') === 0;
}

async function checkRecovered(t: TapTest, b: TestBidder, threads: number): Promise<void> {
  const text = await waitForMetrics(b, recovered(threads), 15_000);
  t.equal(sampleValue(text, 'bidder_pool_threads'), threads, `pool back to ${threads} threads`);
  t.equal(sampleValue(text, 'bidder_receive_slab_segments_in_use'), 0, 'no slab segment held: the stuck batch\'s regions were freed');
  t.equal(sampleValue(text, 'bidder_requests_in_flight'), 0, 'nothing in flight');
}

/** Posts through the pool (a 1 ms delay keeps the request off the inline lane) until it bids. */
async function bidsThroughPool(b: TestBidder, id: string, ms: number): Promise<number[]> {
  const statuses: number[] = [];
  const until = Date.now() + ms;
  do {
    const r = await postBid(b.port, simpleBanner(`${id}-${statuses.length}`), { 'x-test-delay-ms': '1' });
    statuses.push(r.status);
    if (r.status === 200) break;
    await new Promise((res) => setTimeout(res, 100));
  } while (Date.now() < until);
  return statuses;
}

t.test('two threads: a stuck worker\'s request is answered by the hard timeout; the worker is terminated and replaced', async (t) => {
  const b = await startTestBidder({ testHooks: true, pool: { threads: 2 }, server: { hardTimeoutMs: kHardTimeoutMs } });
  t.teardown(() => b.close());
  const before = timedOutCount(await scrape(b.opsPort));

  const started = Date.now();
  const r = await postBid(b.port, simpleBanner('stuck'), { 'x-test-delay-ms': kStuckMs });
  const took = Date.now() - started;
  t.equal(r.status, 204, '204');
  t.equal(r.body, '', 'no body');
  t.ok(took >= kHardTimeoutMs - 10, `not before the hard timeout (${took} ms)`);
  t.ok(took < kHardTimeoutMs + kSlackMs, `answered by the hard timeout (${took} ms), not after the ${kStuckMs} ms stall`);
  const text = await waitForMetrics(b, (m) => timedOutCount(m) === before + 1, 2_000);
  t.equal(timedOutCount(text), before + 1, 'counted once under tmax_exceeded');

  const next = await postBid(b.port, simpleBanner('next'), { 'x-test-delay-ms': '1' });
  t.equal(next.status, 200, 'the next request bids (on the other worker)');
  await checkRecovered(t, b, 2);
  t.same(await bidsThroughPool(b, 'after', 15_000), [200], 'and bids again through the pool');
});

t.test('two batches on one worker (maxBatchesPerWorker 2): both answered by the hard timeout, each region freed once', async (t) => {
  const b = await startTestBidder({
    testHooks: true,
    pool: { threads: 1, maxBatchesPerWorker: 2 },
    server: { hardTimeoutMs: kHardTimeoutMs },
  });
  t.teardown(() => b.close());
  const before = timedOutCount(await scrape(b.opsPort));

  const started = Date.now();
  const first = postBid(b.port, simpleBanner('stuck-1'), { 'x-test-delay-ms': kStuckMs });
  // A turn later, so that it leaves in its own batch and waits behind the first in the worker.
  await new Promise((r) => setTimeout(r, 30));
  const second = postBid(b.port, simpleBanner('stuck-2'), { 'x-test-delay-ms': kStuckMs });
  const [r1, r2] = await Promise.all([first, second]);
  const took = Date.now() - started;
  t.same([r1.status, r2.status], [204, 204], 'both 204');
  t.ok(took < kHardTimeoutMs + 30 + kSlackMs, `both answered by the hard timeout (${took} ms)`);
  const text = await waitForMetrics(b, (m) => timedOutCount(m) === before + 2, 2_000);
  t.equal(timedOutCount(text), before + 2, 'both counted under tmax_exceeded');

  await checkRecovered(t, b, 1);
  const statuses = await bidsThroughPool(b, 'after', 20_000);
  t.equal(statuses[statuses.length - 1], 200, `bids again once the replacement is warm (${statuses.join(',')})`);
  t.ok(recovered(1)(await waitForMetrics(b, recovered(1), 5_000)), 'and nothing is held afterwards');
});
