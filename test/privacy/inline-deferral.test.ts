/**
 * End to end on the real bidder (one worker, the inline lane on): a request whose consent
 * string no thread has decoded is taken by the inline lane, deferred (the front-end thread
 * never decodes), answered by the pool; the next request with that string is answered by
 * the lane itself from the shared consent table. Workers run dist/: `npx tsc -p .` first.
 */
import t from 'tap';
import { resolve } from 'node:path';
import { postBid, sampleValue, scrape, startTestBidder, type TestBidder } from '../helpers/test-bidder';
import { OTHER_VENDOR, OUR_VENDOR, tcString } from './fixtures/consent-strings';

t.setTimeout(90_000);

let b: TestBidder;
t.before(async () => {
  b = await startTestBidder({
    testHooks: false,
    // One worker; light traffic on an idle bidder is placed inline (the first test checks it).
    pool: { threads: 1 },
    privacy: { vendorId: OUR_VENDOR },
    bidding: { campaignsFile: resolve(__dirname, '../fixtures/campaigns/privacy-segments-cpm.json') },
  });
});
t.teardown(() => b?.close());

function request(id: string, regs: Record<string, unknown>, consent?: string): string {
  return JSON.stringify({
    id,
    imp: [{ id: '1', banner: { w: 300, h: 250 } }],
    site: { domain: 'news.example.com' },
    user: { id: 'u-1', data: [{ id: 'dmp', segment: [{ id: 'fx-seg-sports' }] }], ...(consent ? { consent } : {}) },
    regs,
  });
}

async function counters(): Promise<{ inline: number; pool: number; deferred: number; consent: number }> {
  const text = await scrape(b.opsPort);
  return {
    inline: sampleValue(text, 'bidder_scored_requests_total', { lane: 'inline' }) ?? NaN,
    pool: sampleValue(text, 'bidder_scored_requests_total', { lane: 'pool' }) ?? NaN,
    deferred: sampleValue(text, 'bidder_privacy_deferred_total') ?? NaN,
    consent: sampleValue(text, 'bidder_privacy_requests_total', { signal: 'gdpr_consent', outcome: 'bid' }) ?? NaN,
  };
}

function cidOf(body: string): string {
  return (JSON.parse(body) as { seatbid: { bid: { cid: string }[] }[] }).seatbid[0].bid[0].cid;
}

t.test('the lane defers an unknown consent string, the pool answers it, the lane answers it next time', async (t) => {
  const before = await counters();
  t.equal(before.deferred, 0, 'the series exists before traffic');

  const plain = await postBid(b.port, request('p', { us_privacy: '1YNN' }));
  t.equal(plain.status, 200);
  const afterPlain = await counters();
  t.equal(afterPlain.inline - before.inline, 1, 'precondition: light traffic is scored inline');

  const consented = request('c1', { gdpr: 1 }, tcString());
  const first = await postBid(b.port, consented);
  t.equal(first.status, 200);
  t.equal(cidOf(first.body), 'fx-priv-segment', 'consent: the segment campaign wins');
  const afterFirst = await counters();
  t.equal(afterFirst.deferred - afterPlain.deferred, 1, 'the lane deferred it');
  t.equal(afterFirst.pool - afterPlain.pool, 1, 'the pool answered it');
  t.equal(afterFirst.consent - afterPlain.consent, 1, 'counted once, by the thread that answered');

  const second = await postBid(b.port, consented.replace('"c1"', '"c2"'));
  t.equal(second.status, 200);
  t.equal(cidOf(second.body), 'fx-priv-segment');
  const afterSecond = await counters();
  t.equal(afterSecond.deferred, afterFirst.deferred, 'no second deferral: the worker published the decision');
  t.equal(afterSecond.pool, afterFirst.pool, 'the lane answered it itself');
  t.equal(afterSecond.inline - afterFirst.inline, 1);

  const refused = await postBid(b.port, request('n1', { gdpr: 1 }, tcString({ vendors: [OTHER_VENDOR] })));
  t.equal(refused.status, 200, 'no consent still bids');
  t.equal(cidOf(refused.body), 'fx-priv-contextual', 'contextually');
  const text = await scrape(b.opsPort);
  t.equal(sampleValue(text, 'bidder_privacy_requests_total', { signal: 'gdpr_no_consent', outcome: 'bid' }), 1);
  t.equal(sampleValue(text, 'bidder_privacy_requests_total', { signal: 'coppa', outcome: 'no_bid' }), 0, 'every label exists before traffic');
});
