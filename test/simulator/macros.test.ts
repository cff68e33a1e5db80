/**
 * Macros are filled as an exchange fills them: URL-encoded values, empty for a supported
 * macro without a value, unknown ones left alone; and what the simulator fires is read
 * by the bidder's own notice parser as the price, loss reason and min-to-win it meant.
 */
import t from 'tap';
import { readNotice } from '../../src/notices/notice-request';
import { NoticeUrls } from '../../src/notices/notice-urls';
import { substituteMacros } from '../../bench/simulator/macros';

t.test('values are URL-encoded; null is empty; unknown macros stay', async (t) => {
  const url = 'http://127.0.0.1:9/n?p=${AUCTION_PRICE}&a=${AUCTION_ID}&m=${AUCTION_MIN_TO_WIN}&x=${AUCTION_MBR}&z=${NOT_A_MACRO}';
  t.equal(
    substituteMacros(url, { AUCTION_PRICE: '1.2500', AUCTION_ID: 'a&b=c d/é', AUCTION_MIN_TO_WIN: null }),
    'http://127.0.0.1:9/n?p=1.2500&a=a%26b%3Dc%20d%2F%C3%A9&m=&x=${AUCTION_MBR}&z=${NOT_A_MACRO}',
  );
  t.equal(substituteMacros('/n?p=%24%7BAUCTION_PRICE%7D&q=%24%7bAUCTION_PRICE%7d', { AUCTION_PRICE: '2' }), '/n?p=2&q=2', 'the percent-encoded spelling too');
  t.equal(substituteMacros('/n?p=${AUCTION_PRICE}${AUCTION_PRICE}', { AUCTION_PRICE: '3' }), '/n?p=33', 'every occurrence');
  t.equal(substituteMacros('/n?p=1', {}), '/n?p=1');
});

t.test('the bidder reads what the simulator fires', async (t) => {
  const key = Buffer.alloc(32, 7);
  const urls = new NoticeUrls('http://127.0.0.1:8080', key, 'ctr-logreg@1');
  const frag = urls.fragment('req-1', '1', 'bid-1', 'sim-cpc-a', 'sim-cpc-a-b300x250', 2_500_000, 'USD', 1_700_000_000, false, null);
  const bid = JSON.parse('{' + frag.slice(1) + '}') as { nurl: string; burl: string; lurl: string };
  const query = (u: string) => new URL(u).search.slice(1);
  const now = 1_700_000_001;

  const win = readNotice('bill', query(substituteMacros(bid.burl, { AUCTION_PRICE: '1.2345', AUCTION_ID: 'req-1', AUCTION_CURRENCY: 'USD' })), [key], now, 60);
  t.ok(win.ok);
  if (win.ok) {
    t.equal(win.notice.clearingMicros, 1_234_500);
    t.same(win.notice.anomalies, [], 'no anomaly: price, auction id and currency all as expected');
  }
  const loss = (m: string | null) => readNotice('loss', query(substituteMacros(bid.lurl, { AUCTION_PRICE: null, AUCTION_ID: 'req-1', AUCTION_LOSS: '102', AUCTION_MIN_TO_WIN: m })), [key], now, 60);
  const withM = loss('3.1416');
  t.ok(withM.ok);
  if (withM.ok) {
    t.equal(withM.notice.lossReason, 102);
    t.equal(withM.notice.minToWinMicros, 3_141_600);
    t.same(withM.notice.anomalies, []);
  }
  const without = loss(null);
  t.ok(without.ok);
  if (without.ok) t.equal(without.notice.minToWinMicros, -1, 'a withheld min-to-win reads as not given');
});
