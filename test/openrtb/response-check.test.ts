import t from 'tap';
import { checkResponseForRequest } from '../../src/openrtb/response-check';
import type { BidRequest } from '../../src/openrtb/types';

const req: BidRequest = {
  id: 'r1',
  cur: ['USD', 'EUR'],
  badv: ['Ford.com'],
  bcat: ['IAB25', 'IAB7-39'],
  bseat: ['bad-seat'],
  imp: [
    { id: '1', banner: { format: [{ w: 300, h: 250 }, { w: 728, h: 90 }], battr: [3] }, bidfloor: 1 },
    { id: '2', video: { mimes: ['video/mp4'] }, pmp: { private_auction: 1, deals: [{ id: 'd1', bidfloor: 5, wadomain: ['ok.com'] }] } },
    { id: '3', banner: { w: 320, h: 50 }, native: { request: '{}' }, bidfloor: 100, bidfloorcur: 'EUR' },
  ],
};

const good = () => ({
  id: 'r1',
  cur: 'USD',
  seatbid: [{ seat: 's', bid: [
    { id: 'a', impid: '1', price: 1.5, w: 300, h: 250, mtype: 1, adomain: ['ok.com'], cat: ['IAB3'] },
    { id: 'b', impid: '2', price: 6, dealid: 'd1', mtype: 2, adomain: ['ok.com'] },
    { id: 'c', impid: '3', price: 2, mtype: 4 },
  ] }],
} as any);

t.same(checkResponseForRequest(req, good()), [], 'conformant response has no problems');

function fires(t: any, name: string, mutate: (r: any) => void, pattern: RegExp) {
  const r = good();
  mutate(r);
  const p = checkResponseForRequest(req, r);
  t.ok(p.some((s) => pattern.test(s)), name + ' -> ' + JSON.stringify(p));
}

t.test('each rule fires', (t) => {
  fires(t, 'not an object', (r) => { for (const k of Object.keys(r)) delete r[k]; r.id = 5; }, /^id:/);
  fires(t, 'id mismatch', (r) => (r.id = 'other'), /^id: "other" does not echo/);
  fires(t, 'cur not allowed', (r) => (r.cur = 'GBP'), /^cur: GBP/);
  fires(t, 'empty bid array', (r) => (r.seatbid[0].bid = []), /seatbid\[0\]\.bid: must be a non-empty/);
  fires(t, 'bid id', (r) => delete r.seatbid[0].bid[0].id, /bid\[0\]\.id/);
  fires(t, 'unknown impid', (r) => (r.seatbid[0].bid[0].impid = '9'), /impid: "9" names no imp/);
  fires(t, 'price zero', (r) => (r.seatbid[0].bid[0].price = 0), /price: must be a finite number > 0/);
  fires(t, 'price string', (r) => (r.seatbid[0].bid[0].price = '2'), /price: must be/);
  fires(t, 'below imp floor', (r) => (r.seatbid[0].bid[0].price = 0.5), /below the imp bidfloor 1/);
  fires(t, 'below deal floor', (r) => (r.seatbid[0].bid[1].price = 4), /below the deal bidfloor 5/);
  fires(t, 'badv, case-insensitive', (r) => (r.seatbid[0].bid[0].adomain = ['FORD.com']), /blocked by badv/);
  fires(t, 'bcat exact', (r) => (r.seatbid[0].bid[0].cat = ['IAB7-39']), /blocked by bcat/);
  fires(t, 'bcat tier-1 parent', (r) => (r.seatbid[0].bid[0].cat = ['IAB25-3']), /"IAB25-3" is blocked by bcat/);
  fires(t, 'unknown dealid', (r) => (r.seatbid[0].bid[1].dealid = 'd9'), /dealid: "d9" is not a deal/);
  fires(t, 'private auction without deal', (r) => delete r.seatbid[0].bid[1].dealid, /private auction/);
  fires(t, 'deal wadomain', (r) => (r.seatbid[0].bid[1].adomain = ['else.com']), /not in the deal wadomain/);
  fires(t, 'mtype without media', (r) => (r.seatbid[0].bid[0].mtype = 2), /mtype: 2 but imp "1"/);
  fires(t, 'mtype out of range', (r) => (r.seatbid[0].bid[0].mtype = 7), /mtype: must be 1, 2, 3 or 4/);
  fires(t, 'banner size not allowed', (r) => (r.seatbid[0].bid[0].w = 320), /320x250 is not an allowed size/);
  fires(t, 'banner size missing with several sizes', (r) => { delete r.seatbid[0].bid[0].w; delete r.seatbid[0].bid[0].h; }, /w\/h: required/);
  fires(t, 'battr', (r) => (r.seatbid[0].bid[0].attr = [3]), /attr: 3 is blocked by battr/);
  fires(t, 'bseat', (r) => (r.seatbid[0].seat = 'bad-seat'), /is in bseat/);
  t.end();
});

t.test('floors in another currency are not compared', (t) => {
  // imp 3 has a 100 EUR floor; a USD price of 2 cannot be compared without a rate.
  t.same(checkResponseForRequest(req, good()), []);
  const eur = good();
  eur.cur = 'EUR';
  eur.seatbid[0].bid = [{ id: 'c', impid: '3', price: 2, mtype: 4 }];
  t.match(checkResponseForRequest(req, eur).join('\n'), /below the imp bidfloor 100/);
  t.end();
});

t.test('mixed-media imp: no size check, mtype decides', (t) => {
  const r = good();
  r.seatbid[0].bid = [{ id: 'c', impid: '3', price: 2, mtype: 1, w: 1, h: 1 }];
  t.same(checkResponseForRequest(req, r), []);
  t.end();
});

t.test('banner ratio formats and interstitials: the decisioning size rule', (t) => {
  const rreq: BidRequest = {
    id: 'r',
    imp: [
      { id: 'ratio', banner: { format: [{ wratio: 6, hratio: 5, wmin: 320 }] } },
      { id: 'instl', banner: { w: 0, h: 0 }, instl: 1 },
      { id: 'instl-ratio', banner: { format: [{ wratio: 9, hratio: 16 }] }, instl: 1 },
    ],
  };
  const res = (impid: string, w?: number, h?: number) => ({
    id: 'r', seatbid: [{ bid: [{ id: 'b', impid, price: 1, mtype: 1, ...(w === undefined ? {} : { w, h }) }] }],
  });
  t.same(checkResponseForRequest(rreq, res('ratio', 600, 500)), []);
  t.match(checkResponseForRequest(rreq, res('ratio', 300, 250)).join(), /300x250 is not an allowed size/, 'under wmin');
  t.match(checkResponseForRequest(rreq, res('ratio', 728, 90)).join(), /728x90 is not an allowed size/, 'another ratio');
  t.match(checkResponseForRequest(rreq, res('ratio')).join(), /w\/h: required to tell which of the ratio/, 'a ratio bid names its size');
  t.same(checkResponseForRequest(rreq, res('instl', 320, 480)), []);
  t.match(checkResponseForRequest(rreq, res('instl', 728, 90)).join(), /not an allowed size/);
  t.same(checkResponseForRequest(rreq, res('instl-ratio', 720, 1280)), []);
  t.match(checkResponseForRequest(rreq, res('instl-ratio', 320, 480)).join(), /not an allowed size/, 'the ratio governs the interstitial');
  t.end();
});

t.test('native markup answers the native request', (t) => {
  const nativeReq = (request: unknown): BidRequest => ({ id: 'r', imp: [{ id: '1', native: { request: JSON.stringify(request) } }] });
  const assets = [{ id: 1, required: 1, title: { len: 10 } }, { id: 2, img: { type: 3, wmin: 100, hmin: 100 } }, { id: 3, data: { type: 2, len: 5 } }];
  const nreq = nativeReq({ ver: '1.2', assets, eventtrackers: [{ event: 1, methods: [1] }] });
  const answer = (adm: unknown) => ({ id: 'r', seatbid: [{ bid: [{ id: 'b', impid: '1', price: 1, mtype: 4, adm: typeof adm === 'string' ? adm : JSON.stringify(adm) }] }] });
  const ok = { ver: '1.2', assets: [{ id: 1, title: { text: 'Short' } }, { id: 2, img: { url: 'u', w: 100, h: 120 } }], link: { url: 'c' }, eventtrackers: [{ event: 1, method: 1, url: 't' }] };
  t.same(checkResponseForRequest(nreq, answer(ok)), []);
  const fires = (label: string, mutate: (a: any) => unknown, pattern: RegExp, r: BidRequest = nreq) => {
    const a = JSON.parse(JSON.stringify(ok));
    const out = mutate(a) ?? a;
    t.match(checkResponseForRequest(r, answer(out)).join('\n'), pattern, label);
  };
  fires('not JSON', () => '{"ver"', /not JSON/);
  fires('wrapped answer to a 1.2 request', (a) => ({ native: a }), /the response object is the root/);
  fires('unwrapped answer to a wrapped 1.0 request', () => undefined, /expects the \{"native":\{...\}\} wrapper/, nativeReq({ native: { ver: '1.0', assets } }));
  fires('missing link', (a) => { delete a.link; }, /link\.url: required/);
  fires('unknown asset id', (a) => { a.assets[1].id = 9; }, /9 names no asset/);
  fires('required asset missing', (a) => { a.assets.shift(); }, /required asset 1 is not answered/);
  fires('title over len', (a) => { a.assets[0].title.text = 'Far too long'; }, /longer than len 10/);
  fires('data over len', (a) => { a.assets.push({ id: 3, data: { value: 'Too long' } }); }, /data\.value: longer than len 5/);
  fires('image under wmin', (a) => { a.assets[1].img.w = 99; }, /img\.w: 99 is under the minimum 100/);
  fires('wrong kind for the id', (a) => { a.assets[1] = { id: 2, title: { text: 'x' } }; }, /asset 2 asks for an image/);
  fires('imptrackers when eventtrackers were asked', (a) => { a.imptrackers = ['t']; }, /imptrackers: the request lists eventtrackers/);
  fires('a method the request does not list', (a) => { a.eventtrackers[0].method = 2; }, /event 1 method 2 is not among/);
  fires('eventtrackers the request never asked for', () => undefined, /eventtrackers: the request lists none/, nativeReq({ ver: '1.2', assets }));
  t.end();
});

t.test('a bid through a floored deal answers to the deal floor, not the imp floor', (t) => {
  const dreq: BidRequest = { id: 'r', imp: [{ id: '1', video: {}, bidfloor: 3.5, pmp: { deals: [{ id: 'd', bidfloor: 2.5 }, { id: 'free' }] } }] };
  const res = (price: number, dealid?: string) => ({ id: 'r', seatbid: [{ bid: [{ id: 'b', impid: '1', price, mtype: 2, ...(dealid ? { dealid } : {}) }] }] });
  t.same(checkResponseForRequest(dreq, res(3, 'd')), [], 'above the deal floor, below the imp floor');
  t.match(checkResponseForRequest(dreq, res(2, 'd')).join(), /below the deal bidfloor 2.5/);
  t.match(checkResponseForRequest(dreq, res(3)).join(), /below the imp bidfloor 3.5/, 'open auction');
  t.match(checkResponseForRequest(dreq, res(3, 'free')).join(), /below the imp bidfloor 3.5/, 'a deal without a floor keeps the imp floor');
  t.end();
});

t.test('deal wadomain: a listed parent domain admits its subdomains, as the bidder decides (deal-terms.ts)', async (t) => {
  const sub = good();
  sub.seatbid[0].bid[1].adomain = ['shop.ok.com'];
  t.same(checkResponseForRequest(req, sub), [], 'shop.ok.com under wadomain ["ok.com"]');
  const other = good();
  other.seatbid[0].bid[1].adomain = ['notok.com'];
  t.match(checkResponseForRequest(req, other).join('\n'), /not in the deal wadomain/, 'a different domain that merely ends alike is not admitted');
});
