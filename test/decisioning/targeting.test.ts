/** Each targeting dimension, each blocking rule, deals and creative fit, through the index. */
import t from 'tap';
import type { BidRequest, Imp } from '../../src/openrtb/types';
import { CampaignIndex } from '../../src/decisioning/campaign-index';
import type { Campaign, Candidate, DecisionConfig, Targeting } from '../../src/decisioning/campaign-types';
import { bannerCreative, bannerImp, campaign, ctxOf, request } from './fixtures/builders';

function ids(camps: Campaign[], req: BidRequest, cfg: DecisionConfig = {}, imp: Imp = req.imp[0]): string[] {
  const index = new CampaignIndex(camps);
  const out: Candidate[] = [];
  const n = index.candidatesFor(req, imp, ctxOf(req, cfg), out);
  return out.slice(0, n).map((c) => c.campaign.id + (c.dealId ? `@${c.dealId}` : ''));
}

function targeted(targeting: Targeting): Campaign {
  return campaign({ id: 'T', targeting });
}

function matches(targeting: Targeting, req: BidRequest): boolean {
  return ids([targeted(targeting)], req).length === 1;
}

t.test('countries: alpha-3, case-insensitive on the request, device geo then user geo', async (t) => {
  const tg = { countries: ['USA', 'CAN'] };
  t.ok(matches(tg, request({ device: { geo: { country: 'usa' } } })));
  t.ok(matches(tg, request({ user: { geo: { country: 'CAN' } } })));
  t.notOk(matches(tg, request({ device: { geo: { country: 'GBR' } } })));
  t.notOk(matches(tg, request()), 'no geo: a geo-targeted campaign sits out');
  t.ok(matches({}, request()), 'untargeted campaign bids without geo');
});

t.test('regions, device types, os', async (t) => {
  t.ok(matches({ regions: ['CA'] }, request({ device: { geo: { region: 'ca' } } })));
  t.notOk(matches({ regions: ['CA'] }, request({ device: { geo: { region: 'NY' } } })));
  t.ok(matches({ deviceTypes: [4, 5] }, request({ device: { devicetype: 5 } })));
  t.notOk(matches({ deviceTypes: [4, 5] }, request({ device: { devicetype: 2 } })));
  t.notOk(matches({ deviceTypes: [4] }, request()));
  t.ok(matches({ os: ['iOS'] }, request({ device: { os: 'IOS' } })));
  t.notOk(matches({ os: ['iOS'] }, request({ device: { os: 'Android' } })));
});

t.test('site domains: allow and deny cover subdomains; page host when domain is absent', async (t) => {
  t.ok(matches({ siteDomains: { allow: ['example.org'] } }, request()), 'news.example.org is under example.org');
  t.notOk(matches({ siteDomains: { allow: ['example.org'] } }, request({ site: { domain: 'example.net' } })));
  t.ok(matches({ siteDomains: { allow: ['shop.io'] } }, request({ site: { page: 'https://www.shop.io:8443/p?q=1' } })));
  t.notOk(matches({ siteDomains: { deny: ['example.org'] } }, request()));
  t.ok(matches({ siteDomains: { deny: ['other.org'] } }, request()));
  t.notOk(matches({ siteDomains: { allow: ['example.org'] } }, request({ site: undefined, app: { bundle: 'com.a' } })), 'a site allow list keeps the campaign off apps');
});

t.test('app bundles: allow and deny, case-insensitive; allow lists of both kinds combine', async (t) => {
  const app = request({ site: undefined, app: { bundle: 'Com.Game.Fun' } });
  t.ok(matches({ appBundles: { allow: ['com.game.fun'] } }, app));
  t.notOk(matches({ appBundles: { deny: ['COM.GAME.FUN'] } }, app));
  t.notOk(matches({ appBundles: { allow: ['com.other'] } }, app));
  const both = { appBundles: { allow: ['com.game.fun'] }, siteDomains: { allow: ['example.org'] } };
  t.ok(matches(both, app));
  t.ok(matches(both, request()));
});

t.test('publisher ids, content categories (with IAB parents), user segments', async (t) => {
  t.ok(matches({ publisherIds: ['pub1'] }, request()));
  t.notOk(matches({ publisherIds: ['pub2'] }, request()));
  t.ok(matches({ publisherIds: ['7'] }, request({ site: undefined, app: { publisher: { id: '7' } } })));
  t.ok(matches({ contentCategories: ['IAB3'] }, request({ site: { cat: ['IAB3-1'] } })), 'parent covers child');
  t.notOk(matches({ contentCategories: ['IAB3-1'] }, request({ site: { cat: ['IAB3'] } })), 'child does not cover parent');
  t.ok(matches({ contentCategories: ['IAB9'] }, request({ site: { sectioncat: ['IAB9-1'] } })));
  t.ok(matches({ contentCategories: ['IAB9'] }, request({ site: { pagecat: ['IAB9'] } })));
  t.ok(matches({ contentCategories: ['IAB9'] }, request({ site: { content: { cat: ['IAB9'] } } })));
  t.notOk(matches({ contentCategories: ['IAB9'] }, request()));
  const seg = request({ user: { data: [{ segment: [{ id: 'a' }] }, { segment: [{ id: 's7' }] }] } });
  t.ok(matches({ userSegments: ['s7'] }, seg));
  t.notOk(matches({ userSegments: ['s8'] }, seg));
  t.notOk(matches({ userSegments: ['s7'] }, request()));
});

t.test('impTypes and sizes', async (t) => {
  const video = { id: 'v', video: { vastXml: '<VAST/>', durationSec: 15, mimes: ['video/mp4'], protocols: [2] } };
  const c = campaign({ id: 'T', creatives: [bannerCreative(), video], targeting: { impTypes: ['video'] } });
  const both = request({ imp: [{ id: '1', banner: { w: 300, h: 250 }, video: { mimes: ['video/mp4'] } }] });
  const index = new CampaignIndex([c]);
  const out: Candidate[] = [];
  t.equal(index.candidatesFor(both, both.imp[0], ctxOf(both), out), 1);
  t.equal(out[0].creative.id, 'v', 'only the video creative');
  t.same(ids([targeted({ impTypes: ['video'] })], request()), [], 'banner-only campaign cannot be restricted to video');
  const sized = campaign({ id: 'S', creatives: [bannerCreative(300, 250), bannerCreative(728, 90)], targeting: { sizes: ['728x90'] } });
  t.same(ids([sized], request()), [], '300x250 creative excluded by sizes');
  t.same(ids([sized], request({ imp: [{ id: '1', banner: {} }] })), ['S'], 'unsized imp: only the 728x90 creative');
});

t.test('bcat blocks by prefix; badv by domain and subdomain; bapp by advertised app', async (t) => {
  const c = campaign({ id: 'C', iabCategories: ['IAB25-3', 'IAB9'], advertiserDomain: 'ads.Shop.com', appBundle: 'com.shop.app' });
  t.same(ids([c], request({ bcat: ['IAB25'] })), [], 'IAB25 blocks IAB25-3');
  t.same(ids([c], request({ bcat: ['iab9'] })), []);
  t.same(ids([c], request({ bcat: ['IAB25-4', 'IAB9-1'] })), ['C'], 'siblings and children do not block');
  t.same(ids([c], request({ badv: ['shop.com'] })), [], 'parent domain blocks subdomain');
  t.same(ids([c], request({ badv: ['ADS.SHOP.COM'] })), []);
  t.same(ids([c], request({ badv: ['com', 'x.ads.shop.com'] })), ['C'], 'bare TLD and deeper domains do not block');
  t.same(ids([c], request({ bapp: ['com.shop.app'] })), []);
  t.same(ids([campaign({ id: 'N' })], request({ bapp: ['com.shop.app'] })), ['N'], 'no advertised app: bapp does not apply');
});

t.test('battr against creative attr, per media', async (t) => {
  const c = campaign({ id: 'A', creatives: [bannerCreative(300, 250, { attr: [3, 6] })] });
  t.same(ids([c], request({ imp: [bannerImp({ banner: { w: 300, h: 250, battr: [6] } })] })), []);
  t.same(ids([c], request({ imp: [bannerImp({ banner: { w: 300, h: 250, battr: [1] } })] })), ['A']);
  const v = campaign({ id: 'V', creatives: [{ id: 'v', attr: [2], video: { vastXml: '<VAST/>', durationSec: 15, mimes: ['video/mp4'], protocols: [2] } }] });
  t.same(ids([v], request({ imp: [{ id: '1', video: { battr: [2] } }] })), []);
  t.same(ids([v], request({ imp: [{ id: '1', video: { battr: [3] } }] })), ['V']);
});

t.test('creative fit: banner formats, video duration/mimes/protocols, native, audio', async (t) => {
  const b = campaign({ id: 'B', creatives: [bannerCreative(728, 90)] });
  t.same(ids([b], request({ imp: [{ id: '1', banner: { format: [{ w: 300, h: 250 }, { w: 728, h: 90 }] } }] })), ['B']);
  t.same(ids([b], request({ imp: [{ id: '1', banner: { format: [{ w: 300, h: 250 }] } }] })), []);
  t.same(ids([b], request({ imp: [{ id: '1', banner: { w: 300, h: 250, format: [{ w: 728, h: 90 }] } }] })), ['B'], 'format or w/h');
  t.same(ids([b], request({ imp: [{ id: '1', banner: {} }] })), ['B'], 'no size: any banner');
  const v = campaign({ id: 'V', creatives: [{ id: 'v', video: { vastXml: '<VAST/>', durationSec: 30, mimes: ['video/mp4'], protocols: [2, 3] } }] });
  const vr = (video: Imp['video']): BidRequest => request({ imp: [{ id: '1', video }] });
  t.same(ids([v], vr({ mimes: ['video/mp4'], minduration: 5, maxduration: 30 })), ['V']);
  t.same(ids([v], vr({ maxduration: 15 })), [], 'too long');
  t.same(ids([v], vr({ minduration: 60 })), [], 'too short');
  t.same(ids([v], vr({ mimes: ['video/webm'] })), [], 'mime');
  t.same(ids([v], vr({ protocols: [5, 6] })), [], 'protocols');
  t.same(ids([v], vr({ protocols: [3, 7] })), ['V']);
  t.same(ids([v], vr({ protocol: 7 })), [], 'single protocol field');
  t.same(ids([v], vr({})), ['V'], 'no constraints');
  const n = campaign({ id: 'N', creatives: [{ id: 'n', native: { title: 't', imageUrl: 'https://i', clickUrl: 'https://c' } }] });
  t.same(ids([n], request({ imp: [{ id: '1', native: { request: '{}' } }] })), ['N']);
  t.same(ids([n], request()), [], 'native creative on a banner imp');
  const a = campaign({ id: 'A', creatives: [{ id: 'a', audio: { vastXml: '<VAST/>', durationSec: 30, mimes: ['audio/mpeg'] } }] });
  t.same(ids([a], request({ imp: [{ id: '1', audio: { mimes: ['audio/mpeg'], maxduration: 30 } }] })), ['A']);
  t.same(ids([a], request({ imp: [{ id: '1', audio: { mimes: ['audio/mp4'] } }] })), []);
  t.same(ids([a], request({ imp: [{ id: '1' }] })), [], 'imp without media');
});

t.test('deals, private auctions and wseat', async (t) => {
  const open = campaign({ id: 'O' });
  const dealOnly = campaign({ id: 'D', dealOnly: true, dealIds: ['d1', 'd2'] });
  const both = campaign({ id: 'B', dealIds: ['d2'] });
  const camps = [open, dealOnly, both];
  const withPmp = (pmp: Imp['pmp']): BidRequest => request({ imp: [bannerImp({ pmp })] });
  t.same(ids(camps, request()), ['O', 'B'], 'no pmp: deal-only campaigns sit out');
  t.same(ids(camps, withPmp({ deals: [{ id: 'd1', bidfloor: 2 }] })), ['O', 'D@d1', 'B'], 'open auction with a deal');
  t.same(ids(camps, withPmp({ private_auction: 1, deals: [{ id: 'd1' }] })), ['D@d1'], 'private: only deal bids');
  t.same(ids(camps, withPmp({ private_auction: 1, deals: [{ id: 'd2' }, { id: 'd1' }] })), ['D@d2', 'B@d2'], 'first matching deal in exchange order');
  t.same(ids(camps, withPmp({ private_auction: 1, deals: [{ id: 'zz' }] })), [], 'private auction with deals that are not ours');
  t.same(ids(camps, withPmp({ private_auction: 1 })), [], 'private auction without deals');
  const seat = { seatId: 'us' };
  t.same(ids(camps, withPmp({ private_auction: 1, deals: [{ id: 'd1', wseat: ['them'] }] }), seat), [], 'wseat without our seat');
  t.same(ids(camps, withPmp({ private_auction: 1, deals: [{ id: 'd1', wseat: ['them', 'us'] }] }), seat), ['D@d1']);
  t.same(ids(camps, withPmp({ private_auction: 1, deals: [{ id: 'd1', wseat: ['us'] }] })), [], 'no seat configured: a seat-restricted deal is not ours');
  const index = new CampaignIndex([dealOnly]);
  const req = withPmp({ deals: [{ id: 'd1', bidfloor: 1.8, bidfloorcur: 'EUR' }] });
  const out: Candidate[] = [];
  t.equal(index.candidatesFor(req, req.imp[0], ctxOf(req, { fxRates: { EUR: 0.9 } }), out), 1);
  t.same([out[0].dealFloor, out[0].dealFloorRate], [1.8, 0.9], 'deal floor kept in its own currency, with its rate');
  const rub = withPmp({ deals: [{ id: 'd1', bidfloor: 100, bidfloorcur: 'RUB' }] });
  t.equal(index.candidatesFor(rub, rub.imp[0], ctxOf(rub, { fxRates: { EUR: 0.9 } }), out), 0, 'deal floor in a currency without a rate');
});

t.test('an imp floor in a currency without a rate makes the imp ineligible', async (t) => {
  const c = [campaign({ id: 'C' })];
  t.same(ids(c, request({ imp: [bannerImp({ bidfloor: 1, bidfloorcur: 'RUB' })] })), []);
  t.same(ids(c, request({ imp: [bannerImp({ bidfloor: 1, bidfloorcur: 'EUR' })] }), { fxRates: { EUR: 0.9 } }), ['C']);
});
