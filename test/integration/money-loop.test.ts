/**
 * The money loop as an exchange drives it, against the real bidder: each bid's notice URLs
 * point at the bidder; bills are fired, retried and preceded by forged copies until a daily
 * budget runs out; reservations hold budget for bids not yet billed and a loss gives it
 * back; a frequency cap stops a user; test traffic never spends; expired tokens get 410.
 */
import t from 'tap';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { signNoticeToken } from '../../src/notices/notice-token';
import { SIMPLE_BANNER } from '../helpers/requests';
import { postBid, REPO_ROOT, sampleValue, scrape, send, startTestBidder, withTimeout, type TestBidder } from '../helpers/test-bidder';

t.setTimeout(120_000);

const key = Buffer.alloc(32, 0x5a);
const keyDir = mkdtempSync(join(tmpdir(), 'notice-key-'));
const keyFile = join(keyDir, 'notice.key');
writeFileSync(keyFile, key);
const campaignsFile = resolve(REPO_ROOT, 'test/fixtures/campaigns/money-budgets.json');

interface Bid {
  id: string;
  price: number;
  cid: string;
  nurl: string;
  burl: string;
  lurl: string;
}

function request(id: string, domain: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...SIMPLE_BANNER, id, site: { ...SIMPLE_BANNER.site, domain, page: `https://${domain}/` }, ...extra });
}

/** A bid, or the no-bid's reason (read from bidder_requests_total, which counts it). */
async function bid(b: TestBidder, id: string, domain: string, extra: Record<string, unknown> = {}): Promise<Bid | { noBid: string }> {
  const before = await noBidCounts(b);
  const r = await postBid(b.port, request(id, domain, extra));
  if (r.status === 204) {
    const after = await noBidCounts(b);
    const reasons = [...after].filter(([k, n]) => n > (before.get(k) ?? 0)).map(([k]) => k);
    return { noBid: reasons.join(',') };
  }
  if (r.status !== 200) throw new Error(`bid answered ${r.status}: ${r.body}`);
  return JSON.parse(r.body).seatbid[0].bid[0] as Bid;
}

async function noBidCounts(b: TestBidder): Promise<Map<string, number>> {
  const text = await scrape(b.opsPort);
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^bidder_(?:test_)?requests_total\{outcome="no_bid",reason="([a-z_]+)"\} (\d+)/gm)) out.set(m[1], (out.get(m[1]) ?? 0) + Number(m[2]));
  return out;
}

/** What an exchange does with a notice URL: substitute the 4.4 macros, GET it. */
async function fire(b: TestBidder, url: string, macros: Record<string, string>): Promise<number> {
  let u = url;
  for (const [k, v] of Object.entries(macros)) u = u.split('${' + k + '}').join(encodeURIComponent(v));
  const parsed = new URL(u);
  t.equal(parsed.port, String(b.port), 'notice URLs name the bidding listener');
  return (await send(b.port, 'GET', parsed.pathname + parsed.search)).status;
}

/** Waits until the money owner has counted `n` first notices of `kind` (it drains every 20 ms). */
async function counted(b: TestBidder, kind: string, n: number): Promise<void> {
  await withTimeout((async () => {
    for (;;) {
      const s = await b.bidder.money.counters();
      if (s.counters.notices[kind as 'bill'].accepted >= n) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  })(), 10_000, `${n} ${kind} notices counted`);
}

t.test('bills fired, retried and forged until the daily budget runs out', async (t) => {
  const b = await startTestBidder({ bidding: { campaignsFile }, money: { noticeKeyFile: keyFile } });
  t.teardown(() => b.close());
  // 0.02 USD a day at 2.00 CPM (2,000 micro-USD an impression at most): ten bids reserve it all.
  const bids: Bid[] = [];
  for (let i = 0; i < 10; i++) {
    const r = await bid(b, `daily-${i}`, 'daily.example');
    if ('noBid' in r) throw new Error(`bid ${i} got no bid (${r.noBid})`);
    t.equal(r.cid, 'mx-daily');
    bids.push(r);
  }
  const over = await bid(b, 'daily-over', 'daily.example');
  t.same(over, { noBid: 'budget_exhausted' }, 'with every micro reserved, the eleventh bid is not made');

  let forgedAnswers = 0;
  for (const [i, x] of bids.entries()) {
    const macros = { AUCTION_PRICE: '1.5', AUCTION_ID: `daily-${i}`, AUCTION_CURRENCY: 'USD' };
    // A forged copy first: the token with one character changed.
    const token = new URL(x.burl).searchParams.get('t')!;
    const flipped = token.slice(0, 10) + (token[10] === 'A' ? 'B' : 'A') + token.slice(11);
    if ((await fire(b, x.burl.replace(token, flipped), macros)) === 403) forgedAnswers++;
    t.equal(await fire(b, x.burl, macros), 204, 'the bill is taken');
    t.equal(await fire(b, x.burl, macros), 204, 'its retry is answered the same');
  }
  t.equal(forgedAnswers, bids.length, 'every forged copy got 403');
  await counted(b, 'bill', bids.length);
  const stats = await b.bidder.money.counters();
  t.equal(stats.counters.notices.bill.accepted, 10);
  t.equal(stats.counters.notices.bill.repeat, 10, 'each retry counted as a repeat, once');
  t.equal(stats.counters.spendMicros, 10 * 1500, 'spend is the clearing prices, each counted once');

  // Billed at 1.50 the ten impressions spent 15,000 of 20,000: two more 2,000 bids fit, then none.
  const more: (Bid | { noBid: string })[] = [];
  for (let i = 0; i < 3; i++) more.push(await bid(b, `daily-more-${i}`, 'daily.example'));
  t.equal(more.filter((m) => 'price' in m).length, 2, 'the budget left, less what is reserved, covers two more bids');
  t.same(more[2], { noBid: 'budget_exhausted' });

  const metrics = await scrape(b.opsPort);
  t.equal(sampleValue(metrics, 'bidder_notices_total', { kind: 'bill', result: 'forged' }), 10, 'forged notices are counted');
  t.equal(sampleValue(metrics, 'bidder_notices_total', { kind: 'bill', result: 'accepted' }), 20);
  t.equal(sampleValue(metrics, 'bidder_spend_micros_total', { campaign: 'mx-daily' }), 15_000);
  t.equal(sampleValue(metrics, 'bidder_creative_spend_micros_total', { campaign: 'mx-daily', creative: 'mx-daily-b300x250' }), 15_000);
  t.equal(sampleValue(metrics, 'bidder_requests_total', { outcome: 'no_bid', reason: 'budget_exhausted' }), 2);
  t.ok((sampleValue(metrics, 'bidder_money_filtered_total', { reason: 'reserve_failed' }) ?? 0) >= 1, 'refused reservations are counted');
});

t.test('a loss gives the reservation back; a clearing price above the bid is capped; test traffic never spends', async (t) => {
  const b = await startTestBidder({ bidding: { campaignsFile }, money: { noticeKeyFile: keyFile } });
  t.teardown(() => b.close());
  const bids: Bid[] = [];
  for (let i = 0; i < 10; i++) {
    const r = await bid(b, `loss-${i}`, 'daily.example');
    if ('noBid' in r) throw new Error(`bid ${i} got no bid (${r.noBid})`);
    bids.push(r);
  }
  t.same(await bid(b, 'loss-over', 'daily.example'), { noBid: 'budget_exhausted' });
  t.equal(await fire(b, bids[0].lurl, { AUCTION_PRICE: '', AUCTION_ID: 'loss-0', AUCTION_LOSS: '102', AUCTION_MIN_TO_WIN: '2.51' }), 204);
  await counted(b, 'loss', 1);
  const after = await bid(b, 'loss-after', 'daily.example');
  t.ok('price' in after, 'the lost bid\'s reservation is free again');

  t.equal(await fire(b, bids[1].burl, { AUCTION_PRICE: '9.99', AUCTION_ID: 'loss-1', AUCTION_CURRENCY: 'USD' }), 204);
  await counted(b, 'bill', 1);
  const stats = await b.bidder.money.counters();
  t.equal(stats.counters.spendMicros, 2_000, 'charged at the bid price, not above it');
  const metrics = await scrape(b.opsPort);
  t.equal(sampleValue(metrics, 'bidder_notice_anomalies_total', { anomaly: 'price_above_bid' }), 1);

  const testBid = await bid(b, 'test-traffic', 'capped.example', { test: 1 });
  if ('noBid' in testBid) throw new Error('test traffic got no bid');
  t.equal(await fire(b, testBid.burl, { AUCTION_PRICE: '1', AUCTION_ID: 'test-traffic', AUCTION_CURRENCY: 'USD' }), 204);
  await counted(b, 'bill', 2);
  t.equal((await b.bidder.money.counters()).counters.spendMicros, 2_000, 'a test bill spends nothing');
});

t.test('a frequency cap stops a user after two billed impressions; another user still bids', async (t) => {
  const b = await startTestBidder({ bidding: { campaignsFile }, money: { noticeKeyFile: keyFile } });
  t.teardown(() => b.close());
  const user = { user: { id: 'capped-user-1' } };
  for (let i = 0; i < 2; i++) {
    const r = await bid(b, `cap-${i}`, 'capped.example', user);
    if ('noBid' in r) throw new Error(`cap bid ${i}: ${r.noBid}`);
    t.equal(await fire(b, r.burl, { AUCTION_PRICE: '0.5', AUCTION_ID: `cap-${i}`, AUCTION_CURRENCY: 'USD' }), 204);
  }
  await counted(b, 'bill', 2);
  t.same(await bid(b, 'cap-2', 'capped.example', user), { noBid: 'frequency_capped' }, 'the third impression is capped');
  t.equal(sampleValue(await scrape(b.opsPort), 'bidder_money_filtered_total', { reason: 'capped' }), 1, 'the capped candidate is counted');
  t.ok('price' in (await bid(b, 'cap-other', 'capped.example', { user: { id: 'capped-user-2' } })), 'another user is not');
  // Under COPPA the user id may not be used: not capped (and not counted), so it bids contextually.
  t.ok('price' in (await bid(b, 'cap-coppa', 'capped.example', { ...user, regs: { coppa: 1 } })), 'a child is never keyed, so never capped');
});

t.test('expired and malformed notices, and the event log after the drain', async (t) => {
  const eventsDir = mkdtempSync(join(tmpdir(), 'money-events-'));
  const b = await startTestBidder({ bidding: { campaignsFile }, money: { noticeKeyFile: keyFile, noticeMaxAgeSec: 600, eventsDir } });
  const old = signNoticeToken({
    requestId: 'r', impId: '1', bidId: 'x', campaignId: 'mx-daily', creativeId: 'mx-daily-b300x250', priceMicros: 2_000_000,
    currency: 'USD', issuedAtSec: Math.floor(Date.now() / 1000) - 601, modelVersion: 'm', arm: '', test: false, user: null,
  }, key);
  t.equal((await send(b.port, 'GET', `/notice/bill?t=${old}&p=1`)).status, 410, 'older than noticeMaxAgeSec: gone');
  t.equal((await send(b.port, 'GET', '/notice/bill?p=1')).status, 400, 'no token');
  t.equal((await send(b.port, 'GET', '/notice/bill?t=not-a-token&p=1')).status, 400);
  const r = await bid(b, 'events-1', 'daily.example');
  if ('noBid' in r) throw new Error('no bid');
  t.equal(await fire(b, r.nurl, { AUCTION_PRICE: '1.2', AUCTION_ID: 'events-1', AUCTION_CURRENCY: 'USD' }), 204);
  t.equal(await fire(b, r.burl, { AUCTION_PRICE: '1.2', AUCTION_ID: 'events-1', AUCTION_CURRENCY: 'USD' }), 204);
  await counted(b, 'bill', 1);
  await b.close();
  const files = readdirSync(eventsDir);
  t.ok(files.length >= 1, `the event log has files (${files.join(', ')})`);
});
