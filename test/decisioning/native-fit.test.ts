import t from 'tap';
import { readFileSync } from 'node:fs';
import { CampaignIndex } from '../../src/decisioning/campaign-index';
import type { Candidate, Creative, NativeCreative } from '../../src/decisioning/campaign-types';
import { parseCampaigns } from '../../src/decisioning/campaign-loader';
import { defaultCampaigns } from '../../src/decisioning/default-campaigns';
import { nativeAdm } from '../../src/decisioning/native-adm';
import { nativeFactsOf, nativeFits } from '../../src/decisioning/native-fit';
import { prepareRequest } from '../../src/decisioning/request-context';
import { readNativeRequest } from '../../src/openrtb/native-request';
import { checkNativeAdm } from '../../src/openrtb/response-check';
import type { BidRequest, Imp } from '../../src/openrtb/types';
import { corpusRequestFiles } from '../helpers/corpus';
import { campaign, ctxOf, request } from './fixtures/builders';

const full: NativeCreative = {
  title: 'Hotels up to 40% off',
  body: 'Compare thousands of hotels.',
  imageUrl: 'https://cdn/main.jpg',
  imageW: 1200,
  imageH: 627,
  iconUrl: 'https://cdn/icon.png',
  iconW: 80,
  iconH: 80,
  sponsoredBy: 'Wanderly',
  cta: 'Book',
  clickUrl: 'https://wanderly.travel/',
  impressionTrackers: ['https://t/imp?a=1'],
};

type Asset = Record<string, unknown>;

function nreq(assets: Asset[] | undefined, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ ver: '1.2', ...(assets ? { assets } : {}), ...extra });
}

function fits(n: NativeCreative, raw: string): boolean {
  return nativeFits(readNativeRequest(raw, undefined), nativeFactsOf(n));
}

function adm(n: NativeCreative, raw: string): Record<string, any> {
  return JSON.parse(nativeAdm({ id: '1', native: { request: raw } }, n));
}

const required = (body: Asset, id = 1): Asset => ({ id, required: 1, ...body });

t.test('title len: at most len code points; never truncated', async (t) => {
  const len = [...full.title].length;
  t.ok(fits(full, nreq([required({ title: { len } })])), 'exactly len');
  t.notOk(fits(full, nreq([required({ title: { len: len - 1 } })])), 'one over');
  t.ok(fits(full, nreq([required({ title: {} })])), 'no len: no limit');
  const emoji: NativeCreative = { ...full, title: '🏨🏨🏨' };
  t.ok(fits(emoji, nreq([required({ title: { len: 3 } })])), 'an emoji is one character, not two UTF-16 units');
  // An optional title that is too long is left out, not cut.
  const a = adm(full, nreq([{ id: 1, title: { len: 5 } }, required({ img: { type: 3 } }, 2)]));
  t.same(a.assets, [{ id: 2, img: { url: 'https://cdn/main.jpg', w: 1200, h: 627 } }]);
  t.equal(adm(full, nreq([required({ title: { len } })])).assets[0].title.text, full.title, 'full text');
});

t.test('main image: exact w/h, or at least wmin/hmin; an unknown size meets no constraint', async (t) => {
  const img = (c: Asset) => nreq([required({ img: { type: 3, ...c } })]);
  t.ok(fits(full, img({ w: 1200, h: 627 })));
  t.notOk(fits(full, img({ w: 1200, h: 628 })), 'w/h alone are exact');
  t.notOk(fits(full, img({ w: 600, h: 314 })), 'a smaller exact size is not met by a larger image');
  t.ok(fits(full, img({ wmin: 492, hmin: 328 })));
  t.ok(fits(full, img({ wmin: 1200, hmin: 627 })), 'minimum is inclusive');
  t.notOk(fits(full, img({ wmin: 1201 })));
  t.ok(fits(full, img({ w: 180, h: 120, wmin: 100, hmin: 100 })), 'with a minimum, w/h are a preference');
  t.ok(fits(full, img({ w: 1200, h: 627, wmin: 0, hmin: 0 })), 'wmin 0 is no minimum: w/h exact');
  t.ok(fits(full, nreq([required({ img: {} })])), 'no type: the main image');
  const unsized: NativeCreative = { ...full, imageW: undefined, imageH: undefined };
  t.ok(fits(unsized, img({})), 'no constraint: any image');
  t.notOk(fits(unsized, img({ wmin: 100, hmin: 100 })), 'unknown size, required size constraint');
  t.notOk(fits(unsized, img({ w: 1200, h: 627 })));
  t.notOk(fits(full, nreq([required({ img: { type: 500 } })])), 'an exchange-specific image type we cannot fill');
});

t.test('icon: type 1 (and 2, logo) need the creative icon, sized by iconW/iconH', async (t) => {
  const icon = (c: Asset, type = 1) => nreq([required({ title: {} }), required({ img: { type, ...c } }, 2)]);
  t.ok(fits(full, icon({ w: 80, h: 80 })));
  t.ok(fits(full, icon({ wmin: 50, hmin: 50 }, 2)), 'logo served by the icon');
  t.notOk(fits(full, icon({ w: 50, h: 50 })));
  const noIcon: NativeCreative = { ...full, iconUrl: undefined, iconW: undefined, iconH: undefined };
  t.notOk(fits(noIcon, icon({})), 'the main image does not stand in for an icon');
  const unsizedIcon: NativeCreative = { ...full, iconW: undefined, iconH: undefined };
  t.ok(fits(unsizedIcon, icon({})));
  t.notOk(fits(unsizedIcon, icon({ w: 80, h: 80 })), 'unknown icon size');
  t.same(adm(full, icon({ w: 80, h: 80 })).assets[1], { id: 2, img: { url: 'https://cdn/icon.png', w: 80, h: 80 } });
});

t.test('data: sponsored, desc, cta within len; other types and video cannot be filled', async (t) => {
  const data = (type: number, len?: number) => nreq([required({ title: {} }), required({ data: { type, ...(len ? { len } : {}) } }, 2)]);
  t.ok(fits(full, data(1)));
  t.ok(fits(full, data(2, 28)), 'desc of exactly len');
  t.notOk(fits(full, data(2, 27)));
  t.ok(fits(full, data(12)));
  t.notOk(fits(full, data(6)), 'price');
  t.notOk(fits({ ...full, cta: undefined }, data(12)), 'no cta copy');
  t.notOk(fits({ ...full, sponsoredBy: undefined }, data(1)), 'no sponsor');
  t.notOk(fits({ ...full, body: undefined }, data(2)), 'no description');
  t.notOk(fits(full, nreq([required({ title: {} }), required({ video: {} }, 2)])), 'required video');
});

t.test('optional misses are left out; required ones, missing ids and empty answers do not bid', async (t) => {
  const raw = nreq([required({ title: {} }, 0), { id: 1, data: { type: 6 } }, { id: 2, video: {} }, { id: 3, img: { type: 3, w: 1 } }]);
  t.ok(fits(full, raw));
  t.same(adm(full, raw).assets, [{ id: 0, title: { text: full.title } }], 'asset id 0 is an id');
  t.notOk(fits(full, nreq([{ required: 1, title: {} }])), 'a required asset without id cannot be echoed');
  t.ok(fits(full, nreq([{ required: 0, title: {} }, { id: 2, img: {} }])), 'an optional one without id is skipped');
  t.notOk(fits(full, nreq([{ id: 1, data: { type: 6 } }, { id: 2, video: {} }])), 'nothing to answer is no ad');
});

t.test('unreadable or asset-less requests: default ids title 1, image 2, desc 3, sponsor 4', async (t) => {
  for (const raw of ['test-native', '{}', nreq(undefined)]) {
    t.ok(fits(full, raw), raw);
    const a = adm(full, raw);
    t.equal(a.ver, '1.2');
    t.same(a.assets.map((x: { id: number }) => x.id), [1, 2, 3, 4]);
  }
});

t.test('eventtrackers: pixels as event 1 method 1 when asked; imptrackers otherwise', async (t) => {
  const assets = [required({ title: {} })];
  const asked = nreq(assets, { eventtrackers: [{ event: 1, methods: [1, 2] }] });
  const a = adm(full, asked);
  t.same(a.eventtrackers, [{ event: 1, method: 1, url: 'https://t/imp?a=1' }]);
  t.equal(a.imptrackers, undefined, 'no legacy field beside eventtrackers');
  const legacy = adm(full, nreq(assets));
  t.same(legacy.imptrackers, ['https://t/imp?a=1']);
  t.equal(legacy.eventtrackers, undefined);
  const jsOnly = nreq(assets, { eventtrackers: [{ event: 1, methods: [2] }] });
  t.notOk(fits(full, jsOnly), 'pixels the exchange cannot fire: no bid');
  const untracked: NativeCreative = { ...full, impressionTrackers: undefined };
  t.ok(fits(untracked, jsOnly), 'a creative without trackers is unaffected');
  t.equal(adm(untracked, jsOnly).eventtrackers, undefined);
  t.same(adm(full, nreq(undefined, { eventtrackers: [{ event: 1, methods: [1] }] })).eventtrackers, [{ event: 1, method: 1, url: 'https://t/imp?a=1' }], 'default layout too');
});

t.test('legacy wrapper: a wrapped 1.0 request gets {"native":{"ver":"1.0",...}}', async (t) => {
  const raw = JSON.stringify({ native: { ver: '1.0', assets: [required({ title: { len: 90 } })] } });
  const a = adm(full, raw);
  t.same(Object.keys(a), ['native']);
  t.equal(a.native.ver, '1.0');
  t.same(a.native.assets, [{ id: 1, title: { text: full.title } }]);
  t.same(a.native.link, { url: 'https://wanderly.travel/' });
});

function nativeCreative(id: string, n: NativeCreative): Creative {
  return { id, native: n };
}

t.test('in the bid path: creativeFits drops misfits and parses the request once per imp', async (t) => {
  const c = campaign({
    id: 'N',
    goal: { type: 'CPM', cpmUsd: 2 },
    creatives: [
      nativeCreative('ok', full),
      nativeCreative('long-title', { ...full, title: 'A title that is far too long for the slot' }),
      nativeCreative('no-icon', { ...full, iconUrl: undefined, iconW: undefined, iconH: undefined }),
      nativeCreative('small', { ...full, imageW: 300, imageH: 157 }),
    ],
  });
  const parsed = parseCampaigns({ campaigns: [c] });
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  const index = new CampaignIndex(parsed.campaigns);
  const raw = nreq([required({ title: { len: 25 } }), required({ img: { type: 1, wmin: 50, hmin: 50 } }, 2), required({ img: { type: 3, wmin: 600, hmin: 314 } }, 3)]);
  let parses = 0;
  const imp = { id: '1', native: { get request() { parses++; return raw; } } } as unknown as Imp;
  const req = request({ imp: [imp] });
  const out: Candidate[] = [];
  const n = index.candidatesFor(req, imp, ctxOf(req), out);
  t.same(out.slice(0, n).map((x) => x.creative.id), ['ok'], 'title, icon and image size misses do not bid');
  t.same(adm(full, raw).assets.map((x: { id: number }) => x.id), [1, 2, 3]);
  nativeAdm(imp, out[0].creative.native!);
  t.equal(parses, 1, 'one parse for four candidates and the markup');
});

const nativeCorpus = corpusRequestFiles().filter((f) => readFileSync(f, 'utf8').includes('"native"'));

t.test('corpus native requests: every native bid the sample campaigns make answers its request', { skip: nativeCorpus.length === 0 ? 'corpus not present' : false }, async (t) => {
  const loaded = defaultCampaigns();
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  const index = new CampaignIndex(loaded.campaigns);
  const out: Candidate[] = [];
  let imps = 0;
  let answered = 0;
  for (const f of nativeCorpus) {
    const req = JSON.parse(readFileSync(f, 'utf8')) as BidRequest;
    if (!Array.isArray(req.imp)) continue;
    // As validate.ts does: an object native.request is re-encoded to the string it should be.
    for (const imp of req.imp) if (imp.native && typeof imp.native.request === 'object') imp.native.request = JSON.stringify(imp.native.request);
    const p = prepareRequest(req, { fxRates: { EUR: 0.92, GBP: 0.79 } });
    if (!p.ok) continue;
    for (const imp of req.imp) {
      if (!imp.native) continue;
      imps++;
      const n = index.candidatesFor(req, imp, p.ctx, out);
      for (let k = 0; k < n; k++) {
        const cr = out[k].creative;
        if (cr.native === undefined) continue;
        answered++;
        const problems: string[] = [];
        checkNativeAdm(imp, nativeAdm(imp, cr.native), 'adm', problems);
        if (problems.length > 0) t.fail(`${f} imp ${imp.id} ${cr.id}: ${problems.join('; ')}`);
      }
    }
  }
  t.ok(imps >= 50, `${imps} native imps`);
  t.ok(answered > 0, `${answered} native candidates checked`);
});

t.test('campaign loader: iconW/iconH are optional, go together and need iconUrl', async (t) => {
  const file = (native: Record<string, unknown>) => ({
    campaigns: [campaign({ id: 'c', creatives: [{ id: 'n', native: { title: 't', imageUrl: 'https://i', clickUrl: 'https://c', ...native } } as Creative] })],
  });
  const ok = parseCampaigns(file({ iconUrl: 'https://i/icon', iconW: 80, iconH: 80 }));
  t.ok(ok.ok);
  if (ok.ok) t.same([ok.campaigns[0].creatives[0].native!.iconW, ok.campaigns[0].creatives[0].native!.iconH], [80, 80]);
  const errors = (native: Record<string, unknown>) => { const r = parseCampaigns(file(native)); return r.ok ? [] : r.errors; };
  t.same(errors({ iconUrl: 'https://i/icon', iconW: 80 }), ['campaigns[0].creatives[0].native: iconW and iconH go together']);
  t.same(errors({ iconW: 80, iconH: 80 }), ['campaigns[0].creatives[0].native.iconW: needs iconUrl']);
  t.same(errors({ iconUrl: 'https://i/icon', iconW: 0, iconH: 80 }), ['campaigns[0].creatives[0].native.iconW: must be a positive integer']);
});
