/**
 * A bid's notice URLs as an exchange fires them: the macros substituted, the token read
 * back; forged, altered and expired tokens refused with their status; prices capped at the
 * bid and anomalies named; the advertiser's tracker filled from what the notice carried.
 */
import t from 'tap';
import fc from 'fast-check';
import { readNotice, parseCpmMicros } from '../../src/notices/notice-request';
import { NoticeUrls, defaultNoticeBaseUrl } from '../../src/notices/notice-urls';
import { fillTrackerUrl, TrackerFirer, type FetchLike } from '../../src/notices/tracker-firer';

const key = Buffer.alloc(32, 3);
const otherKey = Buffer.alloc(32, 4);
const nowSec = 1_800_000_000;
const urls = new NoticeUrls('https://bid.example.com/', key, 'ctr-logreg@1');
const user = Int32Array.of(-5, 77);

/** The bid's three URLs, as the JSON fragment carries them. */
function bidUrls(priceMicros = 2_500_000, test = false): { nurl: string; burl: string; lurl: string } {
  const json = JSON.parse('{' + urls.fragment('req-1', 'imp-1', 'bid-1', 'camp-1', 'cr-1', priceMicros, 'USD', nowSec, test, user).slice(1) + '}');
  return json;
}

/** What an exchange does: substitute the macros, then GET. */
function fire(url: string, macros: Record<string, string>): { kind: 'win' | 'bill' | 'loss'; query: string } {
  let u = url;
  for (const [k, v] of Object.entries(macros)) u = u.split('${' + k + '}').join(encodeURIComponent(v));
  const parsed = new URL(u);
  const kind = parsed.pathname.split('/').pop() as 'win' | 'bill' | 'loss';
  return { kind, query: parsed.search.slice(1) };
}

t.test('the URLs point at the bidder, one token for all three, with the 4.4 macros left for the exchange', async (t) => {
  const { nurl, burl, lurl } = bidUrls();
  t.match(nurl, /^https:\/\/bid\.example\.com\/notice\/win\?t=[A-Za-z0-9_-]+&p=\$\{AUCTION_PRICE\}&a=\$\{AUCTION_ID\}&c=\$\{AUCTION_CURRENCY\}$/);
  t.match(burl, /^https:\/\/bid\.example\.com\/notice\/bill\?t=/);
  t.match(lurl, /&r=\$\{AUCTION_LOSS\}&m=\$\{AUCTION_MIN_TO_WIN\}$/);
  const token = (u: string) => new URL(u).searchParams.get('t');
  t.equal(token(nurl), token(burl));
  t.equal(token(nurl), token(lurl));
  t.equal(defaultNoticeBaseUrl('0.0.0.0', 8080), 'http://127.0.0.1:8080');
  t.equal(defaultNoticeBaseUrl('::1', 81), 'http://[::1]:81');
});

t.test('a bill at the clearing price reads back the bid it belongs to', async (t) => {
  const { kind, query } = fire(bidUrls().burl, { AUCTION_PRICE: '1.75', AUCTION_ID: 'req-1', AUCTION_CURRENCY: 'USD' });
  const r = readNotice(kind, query, [key], nowSec + 5, 3600);
  t.ok(r.ok);
  if (!r.ok) return;
  t.equal(r.notice.kind, 'bill');
  t.equal(r.notice.clearingMicros, 1_750_000);
  t.same(r.notice.anomalies, []);
  t.match(r.notice.claims, { requestId: 'req-1', impId: 'imp-1', bidId: 'bid-1', campaignId: 'camp-1', creativeId: 'cr-1', priceMicros: 2_500_000, currency: 'USD', test: false, user: { hi: -5, lo: 77 } });
});

t.test('refusals: no token 400, garbage 400, forged or altered 403, another key 403, expired 410', async (t) => {
  const { kind, query } = fire(bidUrls().burl, { AUCTION_PRICE: '1', AUCTION_ID: 'req-1', AUCTION_CURRENCY: 'USD' });
  const noToken = readNotice(kind, 'p=1', [key], nowSec, 3600);
  t.match(noToken, { ok: false, status: 400, code: 'NOTICE_TOKEN_MISSING' });
  t.match(readNotice(kind, 't=%%%', [key], nowSec, 3600), { ok: false, status: 400 });
  t.match(readNotice(kind, query, [otherKey], nowSec, 3600), { ok: false, status: 403, result: 'forged' });
  t.match(readNotice(kind, query, [key], nowSec + 3601, 3600), { ok: false, status: 410, result: 'expired' });
  // Every single-character change of the token is refused (never accepted as another bid).
  const token = new URLSearchParams(query).get('t')!;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  fc.assert(fc.property(fc.nat(token.length - 1), fc.nat(63), (at, c) => {
    const ch = alphabet[c];
    fc.pre(ch !== token[at]);
    const altered = token.slice(0, at) + ch + token.slice(at + 1);
    const r = readNotice(kind, `t=${altered}&p=1`, [key], nowSec, 3600);
    // The last character carries only part of a byte in base64url: a change there may decode the same.
    return !r.ok || Buffer.from(altered, 'base64url').equals(Buffer.from(token, 'base64url'));
  }), { numRuns: 300 });
  // A second t cannot replace the first.
  const twice = readNotice(kind, `${query}&t=AAAA`, [key], nowSec, 3600);
  t.ok(twice.ok);
});

t.test('prices: above the bid is capped and counted; unsubstituted or invalid is an anomaly; loss fields read', async (t) => {
  const { burl, lurl } = bidUrls(2_000_000);
  const above = fire(burl, { AUCTION_PRICE: '3.10', AUCTION_ID: 'req-1', AUCTION_CURRENCY: 'USD' });
  const a = readNotice(above.kind, above.query, [key], nowSec, 3600);
  t.match(a, { ok: true, notice: { clearingMicros: 2_000_000, anomalies: ['price_above_bid'] } });
  const raw = new URL(burl);
  const unsubstituted = readNotice('bill', raw.search.slice(1), [key], nowSec, 3600);
  t.match(unsubstituted, { ok: true, notice: { clearingMicros: -1, anomalies: ['price_missing'] } });
  const cipher = fire(burl, { AUCTION_PRICE: 'WEp8wQAEK4ZAAGBBCKCDwQ==', AUCTION_ID: 'req-1', AUCTION_CURRENCY: 'USD' });
  t.match(readNotice('bill', cipher.query, [key], nowSec, 3600), { ok: true, notice: { clearingMicros: -1, anomalies: ['price_invalid'] } });
  const eur = fire(burl, { AUCTION_PRICE: '1', AUCTION_ID: 'other-auction', AUCTION_CURRENCY: 'EUR' });
  t.match(readNotice('bill', eur.query, [key], nowSec, 3600), { ok: true, notice: { clearingMicros: -1, anomalies: ['currency_mismatch', 'auction_id_mismatch'] } });
  const loss = fire(lurl, { AUCTION_PRICE: '', AUCTION_ID: 'req-1', AUCTION_LOSS: '102', AUCTION_MIN_TO_WIN: '2.51' });
  t.match(readNotice('loss', loss.query, [key], nowSec, 3600), { ok: true, notice: { lossReason: 102, minToWinMicros: 2_510_000, anomalies: [] } });
  t.equal(parseCpmMicros('0.000001'), 1);
  t.equal(parseCpmMicros('-1'), -1);
  t.equal(parseCpmMicros('1e3'), -1);
});

t.test('the advertiser tracker is filled from our notice, and fires are bounded', async (t) => {
  const bill = fire(bidUrls().burl, { AUCTION_PRICE: '1.5', AUCTION_ID: 'req-1', AUCTION_CURRENCY: 'USD' });
  const r = readNotice('bill', bill.query, [key], nowSec, 3600);
  if (!r.ok) throw new Error('not read');
  t.equal(
    fillTrackerUrl('https://adv.example/b?p=${AUCTION_PRICE}&id=${AUCTION_ID}&cr=${AUCTION_AD_ID}&x=${AUCTION_MBR}', r.notice, 'seat-1'),
    'https://adv.example/b?p=1.5&id=req-1&cr=cr-1&x=${AUCTION_MBR}',
  );
  const seen: string[] = [];
  let release: () => void = () => {};
  const gate = new Promise<void>((res) => (release = res));
  const fetchFn: FetchLike = async (url) => {
    seen.push(url);
    await gate;
    return { status: url.includes('fail') ? 500 : 204 };
  };
  const firer = new TrackerFirer('seat-1', fetchFn, 1000, 2);
  const a = firer.fire('https://adv.example/ok', r.notice);
  const b = firer.fire('https://adv.example/fail', r.notice);
  const c = firer.fire('https://adv.example/over', r.notice);
  t.equal(firer.pending, 2);
  release();
  await Promise.all([a, b, c]);
  t.same(firer.counters, { fired: 1, failed: 1, dropped: 1 });
  t.equal(seen.length, 2);
});
