import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CampaignIndex } from '../../src/decisioning/campaign-index';
import { REPORT_CONFIG, runCorpus } from '../../src/decisioning/corpus-report';
import { defaultCampaigns } from '../../src/decisioning/default-campaigns';
import { CORPUS_DIR } from '../helpers/corpus';

const dir = join(CORPUS_DIR, 'exchange-requests');

t.test('sample campaigns bid on 35-60% of the corpus at ctr 0.01, for real reasons otherwise', { skip: existsSync(dir) ? false : 'corpus not present' }, async (t) => {
  const loaded = defaultCampaigns();
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  const r = runCorpus(dir, new CampaignIndex(loaded.campaigns), REPORT_CONFIG, 0.01);
  const share = r.withBid / r.requests;
  t.ok(share >= 0.35 && share <= 0.6, `bid share ${(100 * share).toFixed(1)}%`);
  t.ok((r.outcomes.no_candidates ?? 0) > 0);
  t.ok((r.outcomes.below_floor ?? 0) > 0);
  t.ok((r.outcomes.currency_unsupported ?? 0) > 0);
  t.ok(Object.keys(r.winsByCampaign).length >= 10, 'wins spread over many campaigns');
});
