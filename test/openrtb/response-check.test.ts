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
