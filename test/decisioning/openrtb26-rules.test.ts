/**
 * OpenRTB 2.6 rules of the pure decisioning code: imp.secure (3.2.4), request seats (3.2.1
 * wseat/bseat), deal terms (3.2.12 wseat, wadomain, at, bidfloor), each through the index
 * as the engine uses it.
 */
import t from 'tap';
import { CampaignIndex } from '../../src/decisioning/campaign-index';
import type { Campaign, Candidate, Creative, DecisionConfig } from '../../src/decisioning/campaign-types';
import { isSecureCreative } from '../../src/decisioning/creative-security';
import { advertiserListed } from '../../src/decisioning/deal-terms';
import { prepareRequest } from '../../src/decisioning/request-context';
import { requestAllowsSeat, seatListed } from '../../src/decisioning/seat-rules';
import { noBidReasonFor } from '../../src/decisioning/bid-builder';
import type { BidRequest, Deal } from '../../src/openrtb/types';
import { bannerCreative, bannerImp, campaign, ctxOf, request } from './fixtures/builders';

function candidates(camps: Campaign[], req: BidRequest, cfg: DecisionConfig = {}): Candidate[] {
  const out: Candidate[] = [];
  const n = new CampaignIndex(camps).candidatesFor(req, req.imp[0], ctxOf(req, cfg), out);
  return out.slice(0, n);
}
const ids = (camps: Campaign[], req: BidRequest, cfg: DecisionConfig = {}) =>
  candidates(camps, req, cfg).map((c) => c.creative.id + (c.dealId ? `@${c.dealId}` : ''));

const https = bannerCreative(300, 250, { id: 'https', banner: { w: 300, h: 250, adm: '<img src="https://cdn.x/a.png">' } });
const plain = bannerCreative(300, 250, { id: 'http', banner: { w: 300, h: 250, adm: '<img src="HTTP://cdn.x/a.png">' } });

t.test('isSecureCreative: any http:// in markup or URLs, case-insensitive; // inherits the page scheme', async (t) => {
  const banner = (adm: string, extra: Partial<Creative> = {}): Creative => ({ id: 'b', banner: { w: 1, h: 1, adm }, ...extra });
  t.equal(isSecureCreative(banner('<img src="https://a/x.png">')), true);
  t.equal(isSecureCreative(banner('<img src="//a/x.png">')), true, 'protocol-relative');
  t.equal(isSecureCreative(banner('<a href="Http://a/">x</a>')), false);
  t.equal(isSecureCreative(banner('<img src="https://a/x.png">', { nurl: 'http://win/' })), false, 'nurl');
  t.equal(isSecureCreative(banner('<img src="https://a/x.png">', { burl: 'http://bill/' })), false, 'burl');
  t.equal(isSecureCreative(banner('<img src="https://a/x.png">', { lurl: 'http://loss/' })), false, 'lurl');
  t.equal(isSecureCreative(banner('<img src="https://a/x.png">', { lurl: 'https://loss/' })), true);
  const video = (v: object): Creative => ({ id: 'v', video: { durationSec: 15, mimes: ['video/mp4'], protocols: [2], ...v } });
  t.equal(isSecureCreative(video({ vastUrl: 'http://ads/vast.xml' })), false, 'vastUrl');
  t.equal(isSecureCreative(video({ vastXml: '<VAST><MediaFile>http://cdn/a.mp4</MediaFile></VAST>' })), false, 'inline VAST');
  t.equal(isSecureCreative(video({ vastUrl: 'https://ads/vast.xml' })), true);
  t.equal(isSecureCreative({ id: 'a', audio: { vastXml: '<VAST>http://cdn/a.mp3</VAST>', durationSec: 30, mimes: ['audio/mpeg'] } }), false, 'audio VAST');
  const native = (n: object): Creative => ({ id: 'n', native: { title: 'T', imageUrl: 'https://i/1.jpg', clickUrl: 'https://c/', ...n } });
  t.equal(isSecureCreative(native({})), true);
  for (const k of ['imageUrl', 'iconUrl', 'clickUrl']) t.equal(isSecureCreative(native({ [k]: 'http://x/' })), false, k);
  t.equal(isSecureCreative(native({ impressionTrackers: ['https://t/1', 'http://t/2'] })), false, 'impressionTrackers');
});

t.test('isSecureCreative: XML namespaces and DOCTYPE identifiers are names, not fetched URLs', async (t) => {
  const video = (vastXml: string): Creative => ({ id: 'v', video: { vastXml, durationSec: 15, mimes: ['video/mp4'], protocols: [7], w: 640, h: 360 } });
  const vast4 = (media: string): string =>
    `<VAST version="4.0" xmlns="http://www.iab.com/VAST" xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'><Ad><InLine><MediaFile>${media}</MediaFile></InLine></Ad></VAST>`;
  t.equal(isSecureCreative(video(vast4('https://cdn/a.mp4'))), true, 'VAST 4 with its namespaces and https media');
  t.equal(isSecureCreative(video(vast4('http://cdn/a.mp4'))), false, 'an http media file still makes it insecure');
  const banner = (adm: string): Creative => ({ id: 'b', banner: { w: 300, h: 250, adm } });
  t.equal(isSecureCreative(banner('<svg xmlns="http://www.w3.org/2000/svg"><image href="https://cdn/x.png"/></svg>')), true, 'SVG namespace');
  t.equal(
    isSecureCreative(banner('<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd"><html><img src="https://cdn/x.png"></html>')),
    true,
    'DOCTYPE identifiers',
  );
  t.equal(isSecureCreative(banner('<svg xmlns="http://www.w3.org/2000/svg"><image href="http://cdn/x.png"/></svg>')), false, 'an http image beside the namespace');
});

t.test('imp.secure = 1 takes only secure creatives; absent or 0 takes both', async (t) => {
  const c = [campaign({ creatives: [https, plain] })];
  t.same(ids(c, request({ imp: [bannerImp({ secure: 1 })] })), ['https']);
  t.same(ids(c, request({ imp: [bannerImp({ secure: 0 })] })), ['https', 'http']);
  t.same(ids(c, request({ imp: [bannerImp()] })), ['https', 'http']);
});

t.test('request seats: wseat must list our seat, bseat must not', async (t) => {
  t.equal(requestAllowsSeat(undefined, undefined, 'us'), true);
  t.equal(requestAllowsSeat([], [], 'us'), true, 'empty lists restrict nothing');
  t.equal(requestAllowsSeat(['a', 'us'], undefined, 'us'), true);
  t.equal(requestAllowsSeat(['a'], undefined, 'us'), false);
  t.equal(requestAllowsSeat(['us'], undefined, null), false, 'no seat configured: on no allow list');
  t.equal(requestAllowsSeat(undefined, ['us'], 'us'), false);
  t.equal(requestAllowsSeat(undefined, ['US'], 'us'), true, 'seat ids are exact');
  t.equal(requestAllowsSeat(undefined, ['us'], null), true);
  t.equal(seatListed(['x'], 'x'), true);
  const blocked = prepareRequest(request({ bseat: ['us'], cur: ['JPY'] }), { seatId: 'us' });
  t.same(blocked, { ok: false, reason: 'seat_blocked' }, 'decided first, before the currency');
  t.equal(prepareRequest(request({ wseat: ['us'] }), { seatId: 'us' }).ok, true);
});

t.test('deal wadomain: the advertiser domain or a parent of it must be listed', async (t) => {
  t.equal(advertiserListed(undefined, ['shop.brand.com', 'brand.com']), true);
  t.equal(advertiserListed([], ['brand.com']), true);
  t.equal(advertiserListed(['Brand.COM'], ['shop.brand.com', 'brand.com']), true, 'parent, any case');
  t.equal(advertiserListed(['shop.brand.com'], ['brand.com']), false, 'a subdomain does not admit its parent');
  t.equal(advertiserListed(['other.com'], ['brand.com']), false);
  const deal = campaign({ advertiserDomain: 'shop.brand.com', dealOnly: true, dealIds: ['d1', 'd2'] });
  const withDeals = (deals: Deal[]) => request({ imp: [bannerImp({ pmp: { private_auction: 1, deals } })] });
  t.same(ids([deal], withDeals([{ id: 'd1', wadomain: ['brand.com'] }])), [`${deal.creatives[0].id}@d1`], 'parent listed');
  t.same(ids([deal], withDeals([{ id: 'd1', wadomain: ['other.com'] }])), [], 'not listed: not our deal');
  const [c] = candidates([deal], withDeals([{ id: 'd1', wadomain: ['other.com'] }, { id: 'd2', wadomain: ['brand.com'] }]));
  t.equal(c.dealId, 'd2', 'the next deal that admits us');
});

t.test('deal terms on the candidate: own floor and currency, fixed price', async (t) => {
  const deal = campaign({ dealOnly: true, dealIds: ['d1'] });
  const one = (d: Deal, cfg: DecisionConfig = {}) => candidates([deal], request({ imp: [bannerImp({ bidfloor: 3, pmp: { deals: [d] } })] }), cfg);
  const [a] = one({ id: 'd1', bidfloor: 1.5, bidfloorcur: 'EUR', at: 3 }, { fxRates: { EUR: 0.9 } });
  t.same([a.dealFloor, a.dealFloorRate, a.fixedPrice], [1.5, 0.9, true]);
  const [b] = one({ id: 'd1' });
  t.same([b.dealFloor, b.fixedPrice], [0, false], 'no deal floor: the imp floor will govern');
  t.same(one({ id: 'd1', at: 3 }), [], 'fixed price without a price: not biddable');
  t.same(one({ id: 'd1', bidfloor: 2, bidfloorcur: 'RUB' }), [], 'deal floor in a currency without a rate');
});

t.test('noBidReasonFor: currency first when an imp was dropped for it', async (t) => {
  t.equal(noBidReasonFor(0, 0, true), 'currency_unsupported');
  t.equal(noBidReasonFor(4, 0, true), 'currency_unsupported');
  t.equal(noBidReasonFor(4, 1, true), null);
  t.equal(noBidReasonFor(0, 0, false), 'no_candidates');
});
