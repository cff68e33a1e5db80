import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCampaignFile, parseCampaigns } from '../../src/decisioning/campaign-loader';
import { defaultCampaigns } from '../../src/decisioning/default-campaigns';
import { campaign } from './fixtures/builders';

t.test('accepts a valid file and keeps every field', async (t) => {
  const c = campaign({ appBundle: 'com.x.app', targeting: { countries: ['USA'], siteDomains: { deny: ['bad.com'] }, sizes: ['300x250'] } });
  const r = parseCampaigns({ campaigns: [c] });
  t.ok(r.ok);
  if (r.ok) t.same(r.campaigns[0], c);
});

t.test('lists every error with its path, not just the first', async (t) => {
  const good = campaign();
  const r = parseCampaigns({
    campaigns: [
      good,
      {
        ...campaign(),
        id: good.id,
        maxCpmUsd: -1,
        goal: { type: 'CPA', x: 1 },
        iabCategories: ['sports'],
        creatives: [
          { id: 'a', banner: { w: 0, h: 250, adm: '<b/>' } },
          { id: 'b', banner: { w: 300, h: 250, adm: '' }, video: { durationSec: 15 } },
          { id: 'c', video: { durationSec: 15, mimes: [], protocols: [2], vastXml: '<VAST/>', vastUrl: 'https://x' } },
        ],
        targeting: { countries: ['US'], colour: 'red', sizes: ['300*250'], impTypes: ['popup'], siteDomains: { allow: [], block: ['x.com'] } },
        extra: true,
      },
      'not an object',
    ],
  });
  t.notOk(r.ok);
  if (r.ok) return;
  const want = [
    'campaigns[1].extra: unknown key',
    `campaigns[1].id: duplicate campaign id "${good.id}" (also campaigns[0])`,
    'campaigns[1].iabCategories[0]: must be an IAB category id like "IAB3-1"',
    'campaigns[1].goal.type: must be "CPC" or "CPM"',
    'campaigns[1].maxCpmUsd: must be a positive number',
    'campaigns[1].creatives[0].banner.w: must be a positive integer',
    'campaigns[1].creatives[1]: must have exactly one of banner, video, native, audio (has 2)',
    'campaigns[1].creatives[1].banner.adm: must be a non-empty string',
    'campaigns[1].creatives[1].video: must have exactly one of vastXml, vastUrl',
    'campaigns[1].creatives[1].video.mimes: must be an array',
    'campaigns[1].creatives[2].video: must have exactly one of vastXml, vastUrl',
    'campaigns[1].creatives[2].video.mimes: must not be empty',
    'campaigns[1].targeting.colour: unknown key',
    'campaigns[1].targeting.countries[0]: must be an ISO-3166-1 alpha-3 code like "USA"',
    'campaigns[1].targeting.siteDomains.block: unknown key',
    'campaigns[1].targeting.siteDomains.allow: must not be empty',
    'campaigns[1].targeting.impTypes[0]: must be one of banner, video, native, audio',
    'campaigns[1].targeting.sizes[0]: must be a size like "300x250"',
    'campaigns[2]: must be an object',
  ];
  for (const w of want) t.ok(r.errors.includes(w), w);
  t.equal(r.errors.length, new Set(r.errors).size, 'no error repeated');
});

t.test('rejects duplicate creative ids across campaigns', async (t) => {
  const a = campaign();
  const b = campaign({ creatives: [{ ...a.creatives[0] }] });
  const r = parseCampaigns({ campaigns: [a, b] });
  t.notOk(r.ok);
  if (!r.ok) t.match(r.errors[0], /^campaigns\[1\]\.creatives\[0\]\.id: duplicate creative id/);
});

t.test('rejects a CPM goal above maxCpmUsd and dealOnly without deals', async (t) => {
  const r = parseCampaigns({ campaigns: [campaign({ goal: { type: 'CPM', cpmUsd: 5 }, maxCpmUsd: 2, dealOnly: true, dealIds: [] })] });
  t.notOk(r.ok);
  if (!r.ok) {
    t.ok(r.errors.includes('campaigns[0].goal.cpmUsd: must not exceed maxCpmUsd'));
    t.ok(r.errors.includes('campaigns[0].dealIds: must not be empty when dealOnly is true'));
  }
});

t.test('root shape errors', async (t) => {
  t.same(parseCampaigns([]), { ok: false, errors: ['$: must be an object'] });
  t.same(parseCampaigns({ campaign: [] }), { ok: false, errors: ['campaign: unknown key', 'campaigns: must be an array'] });
});

t.test('loadCampaignFile reports unreadable and non-JSON files as values', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'camp-'));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{ nope');
  const r1 = loadCampaignFile(bad);
  t.notOk(r1.ok);
  if (!r1.ok) t.match(r1.errors[0], /not valid JSON/);
  const r2 = loadCampaignFile(join(dir, 'missing.json'));
  t.notOk(r2.ok);
  if (!r2.ok) t.match(r2.errors[0], /cannot read/);
  const ok = join(dir, 'ok.json');
  writeFileSync(ok, JSON.stringify({ campaigns: [campaign()] }));
  t.ok(loadCampaignFile(ok).ok);
});

t.test('the shipped sample campaigns load and cover what the docs promise', async (t) => {
  const r = defaultCampaigns();
  if (!r.ok) t.fail(r.errors.join('\n'));
  else {
    t.ok(r.campaigns.length >= 50);
    const media = new Set(r.campaigns.flatMap((c) => c.creatives.map((cr) => Object.keys(cr).find((k) => ['banner', 'video', 'native', 'audio'].includes(k)))));
    t.same([...media].sort(), ['audio', 'banner', 'native', 'video']);
    t.ok(r.campaigns.some((c) => c.dealOnly));
    t.ok(r.campaigns.some((c) => c.goal.type === 'CPC') && r.campaigns.some((c) => c.goal.type === 'CPM'));
    for (const c of r.campaigns) t.ok(c.maxCpmUsd >= 0.5 && c.maxCpmUsd <= 20, `${c.id} max CPM in range`);
  }
});
