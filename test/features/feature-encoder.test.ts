import t from 'tap';
import type { BidRequest, Imp } from '../../src/openrtb/types';
import {
  CAT_WIDTH,
  FeatureEncoder,
  NUM_WIDTH,
  TOTAL_BUCKETS,
  enumCode,
  type CandidateFeatures,
} from '../../src/features/feature-encoder';
import { FEATURE_SPEC, categoricalColumn, numericColumn } from '../../src/features/feature-spec';

const NOW = Date.UTC(2025, 5, 1, 14, 30); // 14:30 UTC

const request: BidRequest = {
  id: 'r1',
  imp: [{ id: '1', banner: { w: 300, h: 250, pos: 1 }, bidfloor: 0.5, secure: 1 }],
  site: { domain: 'News.Example.com', publisher: { id: 'pub-1' } },
  device: { devicetype: 2, os: 'iOS', connectiontype: 2, ifa: 'abc', geo: { country: 'USA', region: 'CA', utcoffset: -420 } },
  tmax: 120,
};

const candidate: CandidateFeatures = {
  campaignId: 'camp-1',
  creativeId: 'cr-1',
  advertiserDomain: 'brand.com',
  iabCategory: 'IAB1',
  mediaType: 'banner',
  w: 300,
  h: 250,
};

function encode(req: BidRequest, imp: Imp, cands: CandidateFeatures[], floor = 0.5, now = NOW) {
  const enc = new FeatureEncoder();
  const cat = new Int32Array(cands.length * CAT_WIDTH);
  const num = new Float32Array(cands.length * NUM_WIDTH);
  enc.beginRequest(req, now);
  enc.beginImp(imp, floor);
  cands.forEach((c, r) => enc.writeRow(FeatureEncoder.candidateKeys(c), cat, num, r));
  return { cat, num };
}

const col = (name: string) => categoricalColumn(name);

t.test('deterministic across encoder instances', async (t) => {
  const a = encode(request, request.imp[0]!, [candidate]);
  const b = encode(request, request.imp[0]!, [candidate]);
  t.same(Array.from(a.cat), Array.from(b.cat));
  t.same(Array.from(a.num), Array.from(b.num));
});

t.test('every index lies in its own field range, inside [0, B)', async (t) => {
  const sparse: BidRequest = { id: 'x', imp: [{ id: '1' }] };
  const reqs = [request, sparse, { ...request, site: undefined, app: { bundle: 'com.game', publisher: { id: 'p' } } }];
  for (const req of reqs) {
    const cands = Array.from({ length: 50 }, (_, i) => ({ ...candidate, campaignId: `c${i}`, creativeId: `cr${i}`, w: i }));
    const { cat } = encode(req, req.imp[0]!, cands);
    for (let r = 0; r < cands.length; r++) {
      FEATURE_SPEC.categorical.forEach((f, j) => {
        const v = cat[r * CAT_WIDTH + j]!;
        if (v < f.offset || v >= f.offset + f.buckets || v >= TOTAL_BUCKETS) t.fail(`${f.name} index ${v} outside its range`);
      });
    }
  }
  t.pass('all in range');
});

t.test('the same value in different fields lands in different ranges', async (t) => {
  const same = 'x';
  const req: BidRequest = {
    id: 'r',
    imp: [{ id: '1' }],
    site: { domain: same, publisher: { id: same } },
    device: { os: same, geo: { country: same, region: same } },
  };
  const { cat } = encode(req, req.imp[0]!, [{ ...candidate, campaignId: same, creativeId: same, advertiserDomain: same, iabCategory: same }]);
  const values = Array.from(cat);
  t.equal(new Set(values).size, CAT_WIDTH, 'one distinct index per field');
});

t.test('missing fields are handled and distinct from present ones', async (t) => {
  const empty: BidRequest = { id: 'e', imp: [{ id: '1' }] };
  const e = encode(empty, empty.imp[0]!, [candidate], 0);
  const full = encode(request, request.imp[0]!, [candidate]);
  t.not(e.cat[col('country')], full.cat[col('country')]);
  t.equal(e.cat[col('device_type')], categoricalColumnOffset('device_type'), 'missing enum -> bucket 0 of the field');
  t.equal(e.cat[col('is_app')], categoricalColumnOffset('is_app'));
  for (const v of e.num) t.ok(Number.isFinite(v));
  t.equal(e.num[numericColumn('log_floor')], 0);
  t.equal(e.num[numericColumn('tmax')], 0);
  t.equal(e.num[numericColumn('has_ifa')], 0);
});

function categoricalColumnOffset(name: string): number {
  return FEATURE_SPEC.categorical.find((f) => f.name === name)!.offset;
}

t.test('user.geo is the fallback for country; case is folded', async (t) => {
  const a = encode({ id: 'a', imp: [{ id: '1' }], user: { geo: { country: 'usa' } }, device: { os: 'IOS' } }, { id: '1' }, [candidate]);
  const b = encode({ id: 'b', imp: [{ id: '1' }], device: { os: 'ios', geo: { country: 'USA' } } }, { id: '1' }, [candidate]);
  t.equal(a.cat[col('country')], b.cat[col('country')]);
  t.equal(a.cat[col('os')], b.cat[col('os')]);
});

t.test('hour uses nowMs and the geo utcoffset', async (t) => {
  const { cat, num } = encode(request, request.imp[0]!, [candidate]);
  const local = 7; // 14:30 UTC at -420 minutes
  t.equal(cat[col('hour')], categoricalColumnOffset('hour') + local + 1);
  t.ok(Math.abs(num[numericColumn('hour_sin')]! - Math.sin((2 * Math.PI * local) / 24)) < 1e-6);
  const utc = encode({ ...request, device: { ...request.device, geo: { country: 'USA' } } }, request.imp[0]!, [candidate]);
  t.equal(utc.cat[col('hour')], categoricalColumnOffset('hour') + 14 + 1);
  const beforeEpoch = encode({ id: 'n', imp: [{ id: '1' }], device: { geo: { utcoffset: -600 } } }, { id: '1' }, [candidate], 0, 60_000);
  t.equal(beforeEpoch.cat[col('hour')], categoricalColumnOffset('hour') + 14 + 1, 'negative local time wraps to the previous day');
});

t.test('numeric features', async (t) => {
  const imp: Imp = { id: '1', banner: { w: 320, h: 50 }, instl: 1, secure: 1 };
  const { num } = encode({ ...request, device: { ...request.device, lmt: 1 } }, imp, [candidate], 2);
  t.ok(Math.abs(num[numericColumn('log_floor')]! - Math.log1p(2)) < 1e-6);
  t.ok(Math.abs(num[numericColumn('tmax')]! - 0.12) < 1e-6);
  t.equal(num[numericColumn('is_secure')], 1);
  t.equal(num[numericColumn('interstitial')], 1);
  t.equal(num[numericColumn('has_ifa')], 1);
  t.equal(num[numericColumn('limited_tracking')], 1);
  const zeroIfa = encode({ ...request, device: { ifa: '00000000-0000-0000-0000-000000000000' } }, imp, [candidate]);
  t.equal(zeroIfa.num[numericColumn('has_ifa')], 0);
});

t.test('candidates differ only in candidate and cross columns', async (t) => {
  const other = { ...candidate, campaignId: 'camp-2', creativeId: 'cr-2', w: 728, h: 90 };
  const { cat } = encode(request, request.imp[0]!, [candidate, other]);
  const changing = new Set(['campaign', 'creative', 'campaign_x_site', 'creative_size_x_device_type'].map(col));
  for (let j = 0; j < CAT_WIDTH; j++) {
    if (changing.has(j)) t.not(cat[j], cat[CAT_WIDTH + j], `column ${j} differs`);
    else t.equal(cat[j], cat[CAT_WIDTH + j], `column ${j} shared`);
  }
});

t.test('the site cross changes with the site', async (t) => {
  const a = encode(request, request.imp[0]!, [candidate]);
  const b = encode({ ...request, site: { domain: 'other.com' } }, request.imp[0]!, [candidate]);
  t.not(a.cat[col('campaign_x_site')], b.cat[col('campaign_x_site')]);
  t.equal(a.cat[col('campaign')], b.cat[col('campaign')]);
});

t.test('imp size falls back to format, then video', async (t) => {
  const a = encode(request, { id: '1', banner: { format: [{ w: 300, h: 250 }] } }, [candidate]);
  const b = encode(request, { id: '1', banner: { w: 300, h: 250 } }, [candidate]);
  const c = encode(request, { id: '1', video: { w: 300, h: 250 } }, [candidate]);
  t.equal(a.cat[col('imp_size')], b.cat[col('imp_size')]);
  t.equal(c.cat[col('imp_size')], b.cat[col('imp_size')]);
  t.not(c.cat[col('imp_media')], b.cat[col('imp_media')]);
});

t.test('writeRow writes only its own row', async (t) => {
  const enc = new FeatureEncoder();
  const cat = new Int32Array(3 * CAT_WIDTH).fill(-1);
  const num = new Float32Array(3 * NUM_WIDTH).fill(-1);
  enc.beginRequest(request, NOW);
  enc.beginImp(request.imp[0]!, 1);
  enc.writeRow(FeatureEncoder.candidateKeys(candidate), cat, num, 1);
  t.ok(cat.subarray(0, CAT_WIDTH).every((v) => v === -1));
  t.ok(cat.subarray(2 * CAT_WIDTH).every((v) => v === -1));
  t.ok(cat.subarray(CAT_WIDTH, 2 * CAT_WIDTH).every((v) => v >= 0));
  t.ok(num.subarray(0, NUM_WIDTH).every((v) => v === -1));
  t.ok(num.subarray(2 * NUM_WIDTH).every((v) => v === -1));
});

t.test('enumCode: 0 missing, v+1, last bucket for out-of-range', async (t) => {
  t.equal(enumCode(undefined, 16), 0);
  t.equal(enumCode(0, 16), 1);
  t.equal(enumCode(13, 16), 14);
  t.equal(enumCode(14, 16), 15);
  t.equal(enumCode(-1, 16), 15);
  t.equal(enumCode(1.5, 16), 15);
  t.equal(enumCode('2', 16), 15);
});
