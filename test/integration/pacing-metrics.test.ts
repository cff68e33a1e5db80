/**
 * Even pacing's own figures reach /metrics (the BidderPacingOffTarget alert and the
 * dashboard's delivery panel read them): for an evenly paced campaign, today's spend it
 * steered on and its target by now; nothing for a campaign paced asap.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO_ROOT, sampleValue, scrape, startTestBidder } from '../helpers/test-bidder';

t.setTimeout(60_000);

t.test('an evenly paced campaign exports its pacing spend and target; an asap one does not', async (t) => {
  const fixture = JSON.parse(readFileSync(resolve(REPO_ROOT, 'test/fixtures/campaigns/money-budgets.json'), 'utf8')) as { campaigns: Record<string, unknown>[] };
  const first = fixture.campaigns[0] as { creatives: { id: string }[] };
  const even = {
    ...first, id: 'mx-even', pacing: 'even', budget: { dailyUsd: 240, timezone: 'UTC' },
    creatives: first.creatives.map((c) => ({ ...c, id: `even-${c.id}` })),
  };
  const file = join(mkdtempSync(join(tmpdir(), 'pacing-metrics-')), 'campaigns.json');
  writeFileSync(file, JSON.stringify({ ...fixture, campaigns: [...fixture.campaigns, even] }));
  const b = await startTestBidder({ bidding: { campaignsFile: file } });
  t.teardown(() => b.close());
  // The money owner publishes on its tick; wait for the first.
  let text = await scrape(b.opsPort);
  for (let i = 0; i < 50 && sampleValue(text, 'bidder_pacing_target_spend_micros', { campaign: 'mx-even' }) === undefined; i++) {
    await new Promise((r) => setTimeout(r, 100));
    text = await scrape(b.opsPort);
  }
  const now = new Date();
  const dayShare = (now.getUTCHours() * 3600 + now.getUTCMinutes() * 60 + now.getUTCSeconds()) / 86_400;
  const target = sampleValue(text, 'bidder_pacing_target_spend_micros', { campaign: 'mx-even' });
  t.ok(target !== undefined && Math.abs(target - 240_000_000 * dayShare) <= 240_000_000 * (120 / 86_400),
    `target ${target} is the daily budget times the share of the UTC day gone (${(dayShare * 100).toFixed(2)}%)`);
  t.equal(sampleValue(text, 'bidder_pacing_spend_micros', { campaign: 'mx-even' }), 0, 'nothing spent yet');
  t.equal(sampleValue(text, 'bidder_pacing_target_spend_micros', { campaign: 'mx-daily' }), undefined, 'asap: no pacing series');
});
