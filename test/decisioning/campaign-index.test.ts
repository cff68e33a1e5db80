import t from 'tap';
import { readFileSync } from 'node:fs';
import type { BidRequest, Format, Imp } from '../../src/openrtb/types';
import { CampaignIndex, scanCandidates } from '../../src/decisioning/campaign-index';
import type { Campaign, Candidate, Creative, DecisionConfig, MediaType } from '../../src/decisioning/campaign-types';
import { parseCampaigns } from '../../src/decisioning/campaign-loader';
import { defaultCampaigns } from '../../src/decisioning/default-campaigns';
import { prepareRequest } from '../../src/decisioning/request-context';
import { bannerCreative, bannerImp, campaign, ctxOf, request } from './fixtures/builders';
import { corpusRequestFiles } from '../helpers/corpus';
import { bannerSizeAllowed, hasRatioFormat } from '../../src/openrtb/banner-sizes';

const CFG: DecisionConfig = { fxRates: { EUR: 0.9, GBP: 0.8 }, seatId: 'seat-a' };

function key(c: Candidate): string {
  return `${c.campaign.id}/${c.creative.id}/${c.dealId ?? ''}/${c.dealFloorUsd ?? ''}`;
}

/** Index and scan over the same request; returns the candidate count. */
function compare(t: Tap.Test, index: CampaignIndex, req: BidRequest, label: string): number {
  const p = prepareRequest(req, CFG);
  if (!p.ok) return 0;
  const a: Candidate[] = [];
  const b: Candidate[] = [];
  let total = 0;
  for (const imp of req.imp) {
    const na = index.candidatesFor(req, imp, p.ctx, a);
    const nb = scanCandidates(index.compiled, imp, p.ctx, b);
    const ka = a.slice(0, na).map(key);
    const kb = b.slice(0, nb).map(key);
    if (ka.join('|') !== kb.join('|')) t.same(ka, kb, `${label} imp ${imp.id}`);
    total += na;
  }
  return total;
}

declare namespace Tap {
  type Test = typeof t;
}

// Deterministic PRNG so a failure reproduces.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const COUNTRIES = ['USA', 'GBR', 'DEU', 'FRA'];
const OSES = ['android', 'iOS', 'Windows'];
const SIZES: [number, number][] = [[300, 250], [728, 90], [320, 50], [300, 600]];
/**
 * Creative sizes: the request sizes plus ones that only a ratio format or an interstitial
 * admits (600x500 is 6:5 like 300x250; 320x480 and 768x1024 are full-screen; 1200x627 is
 * close to, but not, 1.91:1), so ratio and instl requests have creatives on both sides.
 */
const CREATIVE_SIZES: [number, number][] = [...SIZES, [600, 500], [320, 480], [480, 320], [768, 1024], [1200, 627], [160, 600]];
/** Ratio formats, some matching a creative size, some none (191:100 is 1200x628, not 1200x627). */
const RATIOS: [number, number][] = [[6, 5], [1, 2], [2, 3], [3, 2], [32, 5], [3, 4], [191, 100], [16, 9]];
const WMINS = [undefined, 0, 300, 400, 700];
const DOMAINS = ['a.com', 'b.com', 'news.c.com'];
const BUNDLES = ['com.x', 'com.y'];
const CATS = ['IAB1', 'IAB1-2', 'IAB3', 'IAB3-1', 'IAB25-3'];
const DEALS = ['D1', 'D2', 'D3'];

function randomCampaigns(r: () => number, n: number): Campaign[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const some = <T>(xs: readonly T[]): T[] => {
    const out = xs.filter(() => r() < 0.4);
    return out.length > 0 ? out : [pick(xs)];
  };
  const maybe = (p: number): boolean => r() < p;
  const out: Campaign[] = [];
  for (let i = 0; i < n; i++) {
    const creatives: Creative[] = [];
    const nc = 1 + Math.floor(r() * 3);
    for (let j = 0; j < nc; j++) {
      const kind = pick<MediaType>(['banner', 'banner', 'video', 'native', 'audio']);
      const id = `r${i}-${j}`;
      const attr = maybe(0.2) ? [pick([1, 2, 3])] : undefined;
      if (kind === 'banner') {
        const [w, h] = pick(CREATIVE_SIZES);
        creatives.push({ ...bannerCreative(w, h), id, ...(attr ? { attr } : {}) });
      } else if (kind === 'video') {
        creatives.push({ id, video: { vastXml: '<VAST/>', durationSec: pick([15, 30]), mimes: [pick(['video/mp4', 'video/webm'])], protocols: some([2, 3, 5, 6]) }, ...(attr ? { attr } : {}) });
      } else if (kind === 'native') {
        creatives.push({ id, native: { title: 't', imageUrl: 'https://i', clickUrl: 'https://c' } });
      } else {
        creatives.push({ id, audio: { vastXml: '<VAST/>', durationSec: pick([15, 30]), mimes: ['audio/mpeg'] } });
      }
    }
    const dealOnly = maybe(0.15);
    out.push(campaign({
      id: `rc${i}`,
      advertiserDomain: pick(['adv.com', 'shop.adv.com', 'other.net']),
      iabCategories: some(CATS),
      dealOnly,
      dealIds: dealOnly || maybe(0.2) ? some(DEALS) : [],
      ...(maybe(0.2) ? { appBundle: pick(BUNDLES) } : {}),
      creatives,
      targeting: {
        ...(maybe(0.4) ? { countries: some(COUNTRIES) } : {}),
        ...(maybe(0.2) ? { regions: some(['ca', 'NY']) } : {}),
        ...(maybe(0.3) ? { deviceTypes: some([1, 2, 4, 5]) } : {}),
        ...(maybe(0.3) ? { os: some(OSES) } : {}),
        ...(maybe(0.2) ? { siteDomains: maybe(0.5) ? { allow: some(DOMAINS) } : { deny: some(DOMAINS) } } : {}),
        ...(maybe(0.2) ? { appBundles: maybe(0.5) ? { allow: some(BUNDLES) } : { deny: some(BUNDLES) } } : {}),
        ...(maybe(0.15) ? { publisherIds: some(['p1', 'p2']) } : {}),
        ...(maybe(0.2) ? { contentCategories: some(CATS.slice(0, 4)) } : {}),
        ...(maybe(0.15) ? { userSegments: some(['s1', 's2', 's3']) } : {}),
        ...(maybe(0.1) ? { sizes: some(CREATIVE_SIZES.map(([w, h]) => `${w}x${h}`)) } : {}),
      },
    }));
  }
  return out;
}

function randomRatio(r: () => number, wratio: number, hratio: number): Format {
  const wmin = WMINS[Math.floor(r() * WMINS.length)];
  return wmin === undefined ? { wratio, hratio } : { wratio, hratio, wmin };
}

function randomRequest(r: () => number, i: number): BidRequest {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const some = <T>(xs: readonly T[]): T[] => xs.filter(() => r() < 0.4);
  const maybe = (p: number): boolean => r() < p;
  const imps: Imp[] = [];
  const nimp = 1 + Math.floor(r() * 2);
  for (let j = 0; j < nimp; j++) {
    const imp: Imp = { id: String(j + 1) };
    if (maybe(0.6)) {
      imp.banner = maybe(0.5) ? { format: some(SIZES).map(([w, h]) => ({ w, h })) } : maybe(0.7) ? { w: pick(SIZES)[0], h: pick(SIZES)[1] } : {};
      // Flexible formats beside or instead of fixed ones (the index must not narrow to one size).
      if (maybe(0.35)) (imp.banner.format ??= []).push(...some(RATIOS).map(([wratio, hratio]) => randomRatio(r, wratio, hratio)));
      if (maybe(0.2)) imp.banner.battr = [pick([1, 2, 3])];
    }
    if (maybe(0.2)) imp.instl = 1;
    if (maybe(0.3)) imp.video = { mimes: some(['video/mp4', 'video/webm']), ...(maybe(0.5) ? { protocols: some([2, 3, 5, 6, 7]) } : {}), ...(maybe(0.5) ? { maxduration: pick([15, 30, 60]) } : {}) };
    if (maybe(0.2)) imp.native = { request: '{}' };
    if (maybe(0.1)) imp.audio = { mimes: ['audio/mpeg'] };
    if (maybe(0.3)) imp.bidfloor = r() * 3;
    if (maybe(0.1)) imp.bidfloorcur = pick(['EUR', 'RUB', 'USD']);
    if (maybe(0.25)) {
      imp.pmp = {
        private_auction: maybe(0.5) ? 1 : 0,
        deals: some(DEALS).map((id) => ({ id, bidfloor: r() * 4, ...(maybe(0.3) ? { wseat: [pick(['seat-a', 'seat-b'])] } : {}), ...(maybe(0.1) ? { bidfloorcur: 'RUB' } : {}) })),
      };
    }
    imps.push(imp);
  }
  const req: BidRequest = { id: `rand-${i}`, imp: imps };
  if (maybe(0.5)) req.site = { domain: pick([...DOMAINS, 'www.a.com', 'z.org']), cat: some(CATS), publisher: { id: pick(['p1', 'p2', 'p3']) } };
  else if (maybe(0.8)) req.app = { bundle: pick([...BUNDLES, 'COM.X', 'com.z']), cat: some(CATS), publisher: { id: pick(['p1', 'p3']) } };
  if (maybe(0.8)) req.device = { devicetype: pick([1, 2, 4, 5, 7]), os: pick([...OSES, 'linux']), geo: maybe(0.7) ? { country: pick([...COUNTRIES, 'usa', 'JPN']), region: pick(['CA', 'ny', 'TX']) } : undefined };
  if (maybe(0.3)) req.user = { data: [{ segment: some(['s1', 's2', 's3', 's4']).map((id) => ({ id })) }] };
  if (maybe(0.2)) req.bcat = some(['IAB1', 'IAB25', 'IAB3-1']);
  if (maybe(0.2)) req.badv = some(['adv.com', 'ADV.COM', 'other.net']);
  if (maybe(0.2)) req.bapp = some(BUNDLES);
  return req;
}

t.test('index returns exactly what a full scan returns: randomized campaigns and requests', async (t) => {
  let total = 0;
  for (let round = 0; round < 5; round++) {
    const r = rng(1000 + round);
    const parsed = parseCampaigns({ campaigns: randomCampaigns(r, 120) });
    if (!parsed.ok) {
      t.fail(parsed.errors.slice(0, 5).join('\n'));
      return;
    }
    const index = new CampaignIndex(parsed.campaigns);
    for (let i = 0; i < 600; i++) total += compare(t, index, randomRequest(r, i), `round ${round} req ${i}`);
  }
  // The comparison must actually exercise matches, not agree on empty lists.
  t.ok(total > 1000, `found ${total} candidates`);
});

/** Whether the candidate's banner size is one the imp lists as a fixed size. */
function fixedSizeListed(imp: Imp, c: Candidate): boolean {
  const b = imp.banner!;
  const cw = c.creative.banner!.w;
  const ch = c.creative.banner!.h;
  if (b.w === cw && b.h === ch) return true;
  return (b.format ?? []).some((f) => f.w === cw && f.h === ch);
}

t.test('index agrees with the scan on ratio formats and interstitials, and both honour them', async (t) => {
  let byRatio = 0;
  let fullScreen = 0;
  for (let round = 0; round < 4; round++) {
    const r = rng(7000 + round);
    const parsed = parseCampaigns({ campaigns: randomCampaigns(r, 120) });
    if (!parsed.ok) {
      t.fail(parsed.errors.slice(0, 5).join('\n'));
      return;
    }
    const index = new CampaignIndex(parsed.campaigns);
    for (let i = 0; i < 600; i++) {
      const req = randomRequest(r, i);
      compare(t, index, req, `ratio round ${round} req ${i}`);
      const p = prepareRequest(req, CFG);
      if (!p.ok) continue;
      for (const imp of req.imp) {
        if (imp.banner === undefined) continue;
        const out: Candidate[] = [];
        const n = index.candidatesFor(req, imp, p.ctx, out);
        for (let k = 0; k < n; k++) {
          const b = out[k].creative.banner;
          if (b === undefined) continue;
          // Every banner candidate obeys the one size rule, whatever admitted it.
          if (!bannerSizeAllowed(imp.banner, imp.instl, b.w, b.h)) t.fail(`req ${i} imp ${imp.id}: ${b.w}x${b.h} not allowed`);
          if (!fixedSizeListed(imp, out[k]) && hasRatioFormat(imp.banner)) byRatio++;
          if (imp.instl === 1 && !fixedSizeListed(imp, out[k]) && !hasRatioFormat(imp.banner)) fullScreen++;
        }
      }
    }
  }
  // Both paths must actually be exercised, not agree on empty lists.
  t.ok(byRatio > 100, `${byRatio} candidates admitted by a ratio format`);
  t.ok(fullScreen > 20, `${fullScreen} full-screen candidates on unsized interstitials`);
});

t.test('one fixed size beside a ratio format: the index keeps ratio-fitting creatives', async (t) => {
  const c = campaign({ id: 'R', creatives: [bannerCreative(300, 250, { id: 'fixed' }), bannerCreative(600, 500, { id: 'ratio' }), bannerCreative(728, 90, { id: 'neither' })] });
  const index = new CampaignIndex([c]);
  const req = request({ imp: [bannerImp({ banner: { format: [{ w: 300, h: 250 }, { wratio: 6, hratio: 5, wmin: 320 }] } })] });
  const out: Candidate[] = [];
  const n = index.candidatesFor(req, req.imp[0], ctxOf(req), out);
  t.same(out.slice(0, n).map((x) => x.creative.id), ['fixed', 'ratio']);
  const scan: Candidate[] = [];
  t.equal(scanCandidates(index.compiled, req.imp[0], ctxOf(req), scan), n, 'same as the full scan');
});

const corpusFiles = corpusRequestFiles;

t.test('index returns exactly what a full scan returns: corpus with sample campaigns', { skip: corpusFiles().length === 0 ? 'corpus not present' : false }, async (t) => {
  const loaded = defaultCampaigns();
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  const index = new CampaignIndex(loaded.campaigns);
  let total = 0;
  let n = 0;
  for (const f of corpusFiles()) {
    const req = JSON.parse(readFileSync(f, 'utf8')) as BidRequest;
    if (typeof req !== 'object' || req === null || !Array.isArray(req.imp)) continue;
    total += compare(t, index, req, f);
    n++;
  }
  t.ok(n >= 480, `${n} requests compared`);
  t.ok(total > 100, `found ${total} candidates`);
});

t.test('reuses the output array and reports the count', async (t) => {
  const c1 = campaign({ creatives: [bannerCreative(300, 250), bannerCreative(728, 90)] });
  const index = new CampaignIndex([c1]);
  const out: Candidate[] = [];
  const req = request({ imp: [bannerImp({ banner: { format: [{ w: 300, h: 250 }, { w: 728, h: 90 }] } })] });
  const ctx = ctxOf(req);
  t.equal(index.candidatesFor(req, req.imp[0], ctx, out), 2);
  const first = out[0];
  const req2 = request();
  t.equal(index.candidatesFor(req2, req2.imp[0], ctxOf(req2), out), 1);
  t.equal(out.length, 2, 'array not grown');
  t.equal(out[0], first, 'open-auction candidates are shared objects, not rebuilt');
});

t.test('an empty index answers nothing', async (t) => {
  const index = new CampaignIndex([]);
  const req = request();
  t.equal(index.candidatesFor(req, req.imp[0], ctxOf(req), []), 0);
});
