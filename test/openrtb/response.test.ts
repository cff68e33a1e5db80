import t from 'tap';
import { buildBidResponse, serializeBidResponse } from '../../src/openrtb/response';
import { AUCTION_PRICE, AUCTION_ID, ALL_AUCTION_MACROS } from '../../src/openrtb/macros';
import type { Bid } from '../../src/openrtb/types';

const bids: Bid[] = [
  { id: 'b1', impid: '1', price: 1.25, nurl: 'https://w.example/n?p=' + AUCTION_PRICE + '&a=' + AUCTION_ID, adm: '<a href="x">"quoted"\n\u2028</a>', adomain: ['ford.com'], w: 300, h: 250, mtype: 1 },
  { id: 'b2', impid: '2', price: 0.5, crid: 'c', mtype: 2 },
];

t.test('build and round-trip', (t) => {
  const res = buildBidResponse('req-1', 'bidid-1', bids, 'seat-a');
  t.equal(res.cur, 'USD');
  const back = JSON.parse(serializeBidResponse(res));
  t.same(back, { id: 'req-1', seatbid: [{ bid: bids, seat: 'seat-a' }], bidid: 'bidid-1', cur: 'USD' });
  t.match(back.seatbid[0].bid[0].nurl, '${AUCTION_PRICE}', 'macros stay verbatim');
  t.end();
});

t.test('no seat: key omitted from the wire', (t) => {
  const s = serializeBidResponse(buildBidResponse('r', 'b', bids.slice(0, 1)));
  t.notMatch(s, '"seat"');
  t.equal(JSON.parse(s).seatbid[0].bid.length, 1);
  t.end();
});

t.test('macros', (t) => {
  t.equal(ALL_AUCTION_MACROS.length, 10);
  for (const m of ALL_AUCTION_MACROS) t.match(m, /^\$\{AUCTION_[A-Z_]+\}$/);
  t.end();
});
