/**
 * No personal features into the model when user data is not allowed
 * (src/features/feature-spec.ts PERSONAL_FEATURES, feature-encoder.ts beginRequest), without
 * touching the model input layout: the spec digest the models are built against is unchanged.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BidRequest } from '../../src/openrtb/types';
import { CAT_WIDTH, FeatureEncoder, NUM_WIDTH } from '../../src/features/feature-encoder';
import { FEATURE_SPEC, featureSpecDigest, numericColumn, PERSONAL_FEATURES, PERSONAL_SOURCES } from '../../src/features/feature-spec';
import { prepareRequest } from '../../src/decisioning/request-context';
import { kPrivacyGdprApplies, kPrivacyLimitedTracking } from '../../src/privacy/privacy-bits';

const NOW = Date.UTC(2025, 5, 1, 14, 30);
const request: BidRequest = {
  id: 'r1',
  imp: [{ id: '1', banner: { w: 300, h: 250 } }],
  site: { domain: 'news.example.com' },
  device: { devicetype: 4, os: 'Android', ifa: '3f2b8c1e-2a51-4b37-9d5e-7c1f0a9e6b42', geo: { country: 'DEU', region: 'BE' } },
  user: { id: 'u1', buyeruid: 'b1' },
};

function encode(personal: boolean): { cat: number[]; num: number[] } {
  const enc = new FeatureEncoder();
  const cat = new Int32Array(CAT_WIDTH);
  const num = new Float32Array(NUM_WIDTH);
  enc.beginRequest(request, NOW, personal);
  enc.beginImp(request.imp[0]!, 0);
  enc.writeRow(FeatureEncoder.candidateKeys({ campaignId: 'c', creativeId: 'cr', advertiserDomain: 'a.com', iabCategory: 'IAB1', mediaType: 'banner', w: 300, h: 250 }), cat, num, 0);
  return { cat: Array.from(cat), num: Array.from(num) };
}

t.test('personal features are written as absent, and nothing else changes', async (t) => {
  const allowed = encode(true);
  const denied = encode(false);
  const hasIfa = numericColumn('has_ifa');
  t.equal(allowed.num[hasIfa], 1, 'the IFA is seen when allowed');
  t.equal(denied.num[hasIfa], 0, 'and not when user data is not allowed');
  const others = (xs: number[]) => xs.filter((_, i) => i !== hasIfa);
  t.same(others(denied.num), others(allowed.num), 'every other numeric feature is identical');
  t.same(denied.cat, allowed.cat, 'country and region (coarse) and every categorical feature stay');
});

t.test('the request context carries the flags the encoder is given', async (t) => {
  const ok = (bits: number) => {
    const p = prepareRequest(request, {}, bits);
    if (!p.ok) throw new Error(p.reason);
    return p.ctx;
  };
  t.match(ok(0), { userDataAllowed: true, ifaAllowed: true });
  t.match(ok(kPrivacyGdprApplies), { userDataAllowed: false, ifaAllowed: false });
  t.match(ok(kPrivacyLimitedTracking), { userDataAllowed: true, ifaAllowed: false });
});

t.test('every feature that reads an identifier or a precise location is personal', async (t) => {
  const names = [...FEATURE_SPEC.categorical, ...FEATURE_SPEC.numeric].map((f) => f.name);
  for (const n of PERSONAL_FEATURES) t.ok(names.includes(n), `${n} is a spec field`);
  for (const f of [...FEATURE_SPEC.categorical, ...FEATURE_SPEC.numeric]) {
    const personalSource = f.source.some((s) => PERSONAL_SOURCES.some((p) => s === p || s.startsWith(`${p}.`)));
    if (personalSource) t.ok(PERSONAL_FEATURES.includes(f.name), `${f.name} reads ${f.source.join(', ')}: it must be in PERSONAL_FEATURES`);
  }
  t.ok(PERSONAL_FEATURES.includes('has_ifa'));
});

t.test('the model input layout is unchanged: the digest pinned by the models still matches', async (t) => {
  const manifest = JSON.parse(readFileSync(resolve(__dirname, '../../native-models/manifest.json'), 'utf8')) as { models: { featureSpec: { digest: string } }[] };
  for (const m of manifest.models) t.equal(m.featureSpec.digest, featureSpecDigest());
});

t.test('segment targeting checks the permission itself, not only the emptied segment set', async (t) => {
  const { compileCampaign, residualMatch } = await import('../../src/decisioning/eligibility');
  const campaign = {
    id: 'c', name: 'c', advertiserDomain: 'a.com', iabCategories: ['IAB1'], goal: { type: 'CPM' as const, cpmUsd: 1 }, maxCpmUsd: 2,
    dealOnly: false, dealIds: [], creatives: [{ id: 'cr', banner: { w: 300, h: 250, adm: '<b>' } }], targeting: { userSegments: ['s1'] },
  };
  const compiled = compileCampaign(campaign, 0);
  const withSegment: BidRequest = { ...request, user: { data: [{ segment: [{ id: 's1' }] }] } };
  const allowed = prepareRequest(withSegment, {}, 0);
  const denied = prepareRequest(withSegment, {}, kPrivacyGdprApplies);
  if (!allowed.ok || !denied.ok) throw new Error('prepareRequest failed');
  t.ok(residualMatch(compiled, allowed.ctx), 'allowed: the segment matches');
  t.equal(denied.ctx.userSegments.size, 0, 'not allowed: the segments are not carried');
  t.notOk(residualMatch(compiled, { ...denied.ctx, userSegments: allowed.ctx.userSegments }), 'and the rule holds even if they were');
});
