/**
 * Placement on the real bidder: with the default settings on this machine's cores, the
 * batches are placed by measured cost and the metrics show each decision (batches by
 * placement, the cost estimated against the cost measured). With the lane off every
 * batch is a pool batch, whatever the costs.
 */
import t from 'tap';
import { simpleBanner } from '../helpers/requests';
import { postMany, sampleValue, scrape, startTestBidder } from '../helpers/test-bidder';

t.setTimeout(60_000);

const bodies = (n: number, prefix: string): string[] => Array.from({ length: n }, (_, i) => simpleBanner(`${prefix}-${i}`));

t.test('every light batch is counted once by placement, with its estimated and measured cost', async (t) => {
  const b = await startTestBidder({ testHooks: false });
  t.teardown(() => b.close());
  await postMany(b.port, bodies(60, 'p'), 4);
  const text = await scrape(b.opsPort);
  const inline = sampleValue(text, 'bidder_batches_total', { placement: 'inline' });
  const pool = sampleValue(text, 'bidder_batches_total', { placement: 'pool' });
  t.ok(inline + pool > 0, `batches counted (${inline} inline, ${pool} pool)`);
  const scoredInline = sampleValue(text, 'bidder_scored_requests_total', { lane: 'inline' });
  const scoredPool = sampleValue(text, 'bidder_scored_requests_total', { lane: 'pool' });
  t.equal(scoredInline + scoredPool, 60, 'every request scored once, wherever it was placed');
  t.ok(inline <= scoredInline && pool <= scoredPool, 'no more batches than requests on either side');
  for (const where of ['inline', 'pool']) {
    const batches = where === 'inline' ? inline : pool;
    const estimated = sampleValue(text, 'bidder_batch_cost_seconds_total', { placement: where, kind: 'estimated' });
    const measured = sampleValue(text, 'bidder_batch_cost_seconds_total', { placement: where, kind: 'measured' });
    if (batches === 0) {
      t.equal(estimated + measured, 0, `${where}: no batch, no cost`);
      continue;
    }
    t.ok(estimated > 0, `${where}: estimated cost recorded (${estimated} s)`);
    t.ok(measured > 0, `${where}: measured cost recorded (${measured} s)`);
    // The warm-up's estimate and the live cost agree to within an order of magnitude.
    t.ok(estimated / measured > 0.1 && estimated / measured < 10, `${where}: estimated / measured = ${(estimated / measured).toFixed(2)}`);
  }
});

t.test('with the lane off every batch goes to the pool', async (t) => {
  const b = await startTestBidder({ testHooks: false, pool: { inlineMaxBatch: 0 } });
  t.teardown(() => b.close());
  await postMany(b.port, bodies(20, 'q'), 4);
  const text = await scrape(b.opsPort);
  t.equal(sampleValue(text, 'bidder_batches_total', { placement: 'inline' }), 0);
  t.equal(sampleValue(text, 'bidder_scored_requests_total', { lane: 'pool' }), 20);
});
