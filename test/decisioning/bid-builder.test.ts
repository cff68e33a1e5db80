import fc from 'fast-check';
import t from 'tap';
import type { Bid, BidRequest, Imp } from '../../src/openrtb/types';
import { bidJson, bidResponseJson, jsonString, nativeAdm, noBidReasonFor, pickBest } from '../../src/decisioning/bid-builder';
import type { RequestContext } from '../../src/decisioning/request-context';
import type { Candidate, Creative } from '../../src/decisioning/campaign-types';
import { bannerCreative, campaign, ctxOf, request } from './fixtures/builders';

const urls = {
  nurl: 'https://win.example/w?p=${AUCTION_PRICE}&id=${AUCTION_ID}',
  burl: 'https://bill.example/b?p=${AUCTION_PRICE}',
  lurl: 'https://loss.example/l?r=${AUCTION_LOSS}',
};

/** The bid as the exchange reads it: bidJson's output parsed back. */
function buildBid(_req: BidRequest, imp: Imp, c: Candidate, priceUsd: number, ctx: RequestContext, bidId: string): Bid {
  return JSON.parse(bidJson(imp, c, priceUsd, ctx, bidId)) as Bid;
}

function cand(creative: Creative, extra: Partial<Candidate> = {}): Candidate {
  return { campaign: campaign({ id: 'camp', advertiserDomain: 'brand.com', iabCategories: ['IAB2'], creatives: [creative] }), creative, ...extra };
}

t.test('banner bid: markup, size, mtype, ids; the creative\'s own trackers stay out of the bid', async (t) => {
  const cr = bannerCreative(728, 90, { id: 'cr1', attr: [1], ...urls });
  const req = request();
  const bid = buildBid(req, req.imp[0], cand(cr), 3.21, ctxOf(req), 'bid-1');
  // The advertiser's nurl/burl/lurl are fired by the bidder on our own notices (docs/campaigns.md).
  t.same(bid, {
    id: 'bid-1', impid: '1', price: 3.21, adomain: ['brand.com'], cid: 'camp', crid: 'cr1', cat: ['IAB2'],
    adm: '<div>728x90</div>', w: 728, h: 90, mtype: 1, attr: [1],
  });
});

t.test('the notice URLs given for the bid are its nurl/burl/lurl', async (t) => {
  const cr = bannerCreative(300, 250, { id: 'cr2', ...urls });
  const req = request();
  const notices = ',"nurl":"https://bid.example/notice/win?t=T&p=${AUCTION_PRICE}","burl":"https://bid.example/notice/bill?t=T","lurl":"https://bid.example/notice/loss?t=T"';
  const bid = JSON.parse(bidJson(req.imp[0], cand(cr), 1.5, ctxOf(req), 'bid-2', notices));
  t.equal(bid.nurl, 'https://bid.example/notice/win?t=T&p=${AUCTION_PRICE}', 'macros verbatim');
  t.equal(bid.burl, 'https://bid.example/notice/bill?t=T');
  t.equal(bid.lurl, 'https://bid.example/notice/loss?t=T');
});

t.test('the price is written verbatim: priceCandidate already converted, rounded and floor-checked it', async (t) => {
  const req = request({ cur: ['EUR'] });
  const bid = buildBid(req, req.imp[0], cand(bannerCreative()), 0.500014, ctxOf(req, { fxRates: { EUR: 0.91234 } }), 'b');
  t.equal(bid.price, 0.500014, 'not converted again (that could undo the floor check)');
});

t.test('deal bids carry dealid', async (t) => {
  const req = request();
  const bid = buildBid(req, req.imp[0], cand(bannerCreative(), { dealId: 'D-1', dealFloor: 2, dealFloorRate: 1 }), 3, ctxOf(req), 'b');
  t.equal(bid.dealid, 'D-1');
});

t.test('video: inline VAST, or a wrapper around vastUrl; size from creative or imp', async (t) => {
  const imp: Imp = { id: 'v1', video: { w: 640, h: 360 } };
  const req = request({ imp: [imp] });
  const inline: Creative = { id: 'v', video: { vastXml: '<VAST version="3.0"/>', durationSec: 15, mimes: ['video/mp4'], protocols: [2] } };
  const b1 = buildBid(req, imp, cand(inline), 5, ctxOf(req), 'b');
  t.equal(b1.adm, '<VAST version="3.0"/>');
  t.equal(b1.mtype, 2);
  t.equal(b1.dur, 15);
  t.same([b1.w, b1.h], [640, 360]);
  const wrapped: Creative = { id: 'w', video: { vastUrl: 'https://ads.example/vast.xml?p=${AUCTION_PRICE}', durationSec: 30, mimes: ['video/mp4'], protocols: [2], w: 1280, h: 720 } };
  const b2 = buildBid(req, imp, cand(wrapped), 5, ctxOf(req), 'b');
  t.match(b2.adm, /<Wrapper>.*<VASTAdTagURI><!\[CDATA\[https:\/\/ads\.example\/vast\.xml\?p=\$\{AUCTION_PRICE\}\]\]><\/VASTAdTagURI>/);
  t.same([b2.w, b2.h], [1280, 720]);
});

t.test('audio: VAST markup, mtype 3', async (t) => {
  const req = request({ imp: [{ id: 'a', audio: {} }] });
  const b = buildBid(req, req.imp[0], cand({ id: 'a', audio: { vastXml: '<VAST/>', durationSec: 30, mimes: ['audio/mpeg'] } }), 1, ctxOf(req), 'b');
  t.same([b.adm, b.mtype, b.dur, b.w], ['<VAST/>', 3, 30, undefined]);
});

const nativeCr: Creative = {
  id: 'n',
  native: { title: 'Say "hi"', body: 'Body', imageUrl: 'https://i/1.jpg', imageW: 1200, imageH: 627, iconUrl: 'https://i/icon.png', sponsoredBy: 'Brand', cta: 'Go', clickUrl: 'https://brand.com/?a=1', impressionTrackers: ['https://t/imp'] },
};

t.test('native: asset ids echo the request; 1.2 root shape, 1.0 wrapper for a wrapped 1.0 request', async (t) => {
  const assets = [{ id: 7, required: 1, title: { len: 90 } }, { id: 3, img: { type: 3, w: 1200, h: 627 } }, { id: 4, img: { type: 1 } }, { id: 9, data: { type: 2 } }, { id: 10, data: { type: 12 } }, { id: 11, data: { type: 6 } }, { id: 12, video: {} }];
  const answer = {
    assets: [
      { id: 7, title: { text: 'Say "hi"' } },
      { id: 3, img: { url: 'https://i/1.jpg', w: 1200, h: 627 } },
      { id: 4, img: { url: 'https://i/icon.png' } },
      { id: 9, data: { value: 'Body' } },
      { id: 10, data: { value: 'Go' } },
    ],
    link: { url: 'https://brand.com/?a=1' },
    imptrackers: ['https://t/imp'],
  };
  const root = JSON.parse(nativeAdm({ id: '1', native: { request: JSON.stringify({ ver: '1.2', assets }) } }, nativeCr.native!));
  t.same(root, { ver: '1.2', ...answer }, 'Native 1.2 5.1: the response object is the root');
  const wrapped = JSON.parse(nativeAdm({ id: '2', native: { request: JSON.stringify({ native: { ver: '1.0', assets } }) } }, nativeCr.native!));
  t.same(wrapped, { native: { ver: '1.0', ...answer } }, 'a wrapped 1.0 request gets the 1.0 wrapper');
});

t.test('native: unparseable request falls back to default asset ids; bid has mtype 4', async (t) => {
  for (const raw of ['test-native', '{json string}', '']) {
    const imp: Imp = { id: '1', native: { request: raw } };
    const req = request({ imp: [imp] });
    const bid = buildBid(req, imp, cand(nativeCr), 1, ctxOf(req), 'b');
    t.equal(bid.mtype, 4);
    const adm = JSON.parse(bid.adm!);
    t.equal(adm.ver, '1.2');
    t.same(adm.assets.map((a: { id: number }) => a.id), [1, 2, 3, 4]);
    t.equal(adm.assets[0].title.text, 'Say "hi"');
  }
});

t.test('app-install campaigns name their bundle', async (t) => {
  const cr = bannerCreative();
  const c = campaign({ appBundle: 'com.shop.app', creatives: [cr] });
  const req = request();
  t.equal(buildBid(req, req.imp[0], { campaign: c, creative: cr }, 1, ctxOf(req), 'b').bundle, 'com.shop.app');
});

t.test('noBidReasonFor and pickBest', async (t) => {
  t.equal(noBidReasonFor(0, 0), 'no_candidates');
  t.equal(noBidReasonFor(3, 0), 'below_floor');
  t.equal(noBidReasonFor(3, 1), null);
  t.equal(pickBest([0, 2, 5, 5, 1], 5), 2, 'highest, first on ties');
  t.equal(pickBest([0, 0], 2), -1);
  t.equal(pickBest([1, 9], 1), 0, 'only the first count entries');
});

t.test('response JSON: one seat, the context currency, the bids verbatim', async (t) => {
  const req = request();
  const b1 = bidJson(req.imp[0], cand(bannerCreative(300, 250, { id: 'x"1' })), 1.5, ctxOf(req), 'bid-1');
  const res = JSON.parse(bidResponseJson('req "1"', 'bidid-9', 'EUR', 'seat-a', [b1]));
  t.same(res, { id: 'req "1"', seatbid: [{ bid: [JSON.parse(b1)], seat: 'seat-a' }], bidid: 'bidid-9', cur: 'EUR' });
  t.equal(res.seatbid[0].bid[0].crid, 'x"1', 'creative-fixed strings are escaped');
});

t.test('jsonString is JSON.stringify for every string (the fast path only skips the call)', async (t) => {
  for (const s of ['', 'r1', 'a"b', 'a\\b', '\u0000', '\u001f', '\u007f', 'é', '\u2028', '\ud800', 'x\udc00', '🎯', ' ~']) {
    // The message names the code units: a raw U+2028 would break the TAP line.
    t.equal(jsonString(s), JSON.stringify(s), [...s].map((c) => c.codePointAt(0)!.toString(16)).join(' '));
  }
  fc.assert(fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme-ascii' })), (s) => jsonString(s) === JSON.stringify(s)), { numRuns: 5000, seed: 3 });
});
