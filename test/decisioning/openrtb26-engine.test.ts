/**
 * OpenRTB 2.6 behaviours of the bid path seen through the real BidEngine (decide step,
 * outcome and metrics), with a stub scorer so no model is needed: test = 1 counted apart,
 * currency_unsupported for floors we cannot convert, seat_blocked, floors in their own
 * currency. Also the front end's sink, which turns a test outcome into its own counter.
 */
import t from 'tap';
import { CampaignIndex } from '../../src/decisioning/campaign-index';
import type { Campaign } from '../../src/decisioning/campaign-types';
import { ALL_ERROR_CODES } from '../../src/errors';
import { CAT_WIDTH, NUM_WIDTH } from '../../src/features/feature-encoder';
import { buildMetricsLayout, M, OutcomeTable } from '../../src/metrics/definitions';
import { SlotReader, SlotWriter } from '../../src/metrics/shared-metrics';
import { createSink } from '../../src/server/http-server';
import { BidEngine } from '../../src/engine/bid-engine';
import type { Scorer } from '../../src/engine/onnx-scorer';
import { bannerCreative, campaign } from './fixtures/builders';

const kRows = 256;
const stubScorer: Scorer = {
  maxRows: kRows,
  cat: new Int32Array(kRows * CAT_WIDTH),
  num: new Float32Array(kRows * NUM_WIDTH),
  score: async (_c, _n, rows) => new Float32Array(rows).fill(0.01),
  warm: async () => {},
};

const outcomes = new OutcomeTable(ALL_ERROR_CODES);
const layout = buildMetricsLayout(outcomes, 4);

function engineWith(campaigns: Campaign[], fxRates: Record<string, number> = { EUR: 0.92 }) {
  const buffer = layout.allocate();
  const metrics = new SlotWriter(layout, buffer, 0);
  const reader = new SlotReader(layout, buffer);
  const engine = new BidEngine(new CampaignIndex(campaigns), stubScorer, outcomes, metrics, new SharedArrayBuffer(1024), {
    decision: { fxRates, seatId: 'us' },
    seatId: 'us',
    tmaxMarginMs: 0,
    maxBodyBytes: 1 << 20,
    testHooks: false,
    idPrefix: 't-',
  });
  const run = async (req: object) => {
    let got: { status: number; outcome: number; body: string | null } | null = null;
    await engine.processText(JSON.stringify(req), { add: (_i, status, outcome, body) => (got = { status, outcome, body }) });
    return got!;
  };
  const priceCount = () => {
    // Histogram words: one per bucket (the last is +Inf), then the sum.
    const at = layout.offset(M.bidPrice);
    let n = 0;
    for (let i = 0; i <= layout.bounds(at).length; i++) n += reader.sum(at + i);
    return n;
  };
  return { run, bids: () => reader.sum(layout.offset(M.bids)), priceCount };
}

const cpm = (id: string, cpmUsd: number, over: Partial<Campaign> = {}) =>
  campaign({ id, goal: { type: 'CPM', cpmUsd }, maxCpmUsd: 10, creatives: [bannerCreative(300, 250, { id: `${id}-cr` })], ...over });
const imp = (over: object = {}) => ({ id: '1', banner: { w: 300, h: 250 }, ...over });
const price = (body: string | null) => JSON.parse(body!).seatbid[0].bid[0].price as number;

t.test('test = 1: the same answer, counted on its own outcome, not in bids or prices', async (t) => {
  const e = engineWith([cpm('A', 2)]);
  const live = await e.run({ id: 'r', imp: [imp()] });
  t.equal(live.outcome, outcomes.bid);
  t.same([e.bids(), e.priceCount()], [1, 1], 'a live bid is counted');
  const test = await e.run({ id: 'r', test: 1, imp: [imp()] });
  t.equal(test.status, 200);
  t.equal(test.outcome, outcomes.test(outcomes.bid), 'the test twin of "bid"');
  t.ok(outcomes.isTest(test.outcome));
  t.same(outcomes.labelOf(test.outcome), ['bid', 'none']);
  const strip = (b: string | null) => JSON.parse(b!.replace(/"(bid)?id":"t-[0-9a-z]+"/g, '"$1id":"x"'));
  t.same(strip(test.body), strip(live.body), 'answered exactly like live traffic (bid ids aside)');
  t.same([e.bids(), e.priceCount()], [1, 1], 'the test bid is in neither bidder_bids_total nor the price histogram');

  const noBid = await e.run({ id: 'r', test: 1, imp: [imp({ bidfloor: 50 })] });
  t.same([noBid.status, outcomes.labelOf(noBid.outcome), outcomes.isTest(noBid.outcome)], [204, ['no_bid', 'below_floor'], true]);
  const bad = await e.run({ id: 'r', test: 1, imp: [{ id: '1', banner: { w: 'x' } }] });
  t.same([bad.status, bad.outcome], [400, outcomes.error('INVALID_TYPE')], 'a rejected request is live: none of its fields is trusted');
  const zero = await e.run({ id: 'r', test: 0, imp: [imp()] });
  t.equal(zero.outcome, outcomes.bid, 'test = 0 is live traffic');
});

t.test('the front end counts a test outcome on bidder_test_requests_total only', async (t) => {
  const buffer = layout.allocate();
  const metrics = new SlotWriter(layout, buffer, 0);
  const reader = new SlotReader(layout, buffer);
  const latency = { record: () => {} } as never;
  const sink = createSink({ metrics, outcomes, latency });
  const res = { cork: (f: () => void) => f(), writeStatus: () => res, writeHeader: () => res, end: () => res, endWithoutBody: () => res };
  const job = () => ({ res, close: () => {}, arrivedAt: 1, receivedAt: 1, offset: 0, length: 0, flags: 0, done: false }) as never;
  const below = outcomes.noBid('below_floor');
  sink.answer(job(), 204, outcomes.test(below), null, 0, 0);
  sink.answer(job(), 204, outcomes.test(below), null, 0, 0);
  sink.answer(job(), 204, below, null, 0, 0);
  t.equal(reader.sum(layout.offset(M.testRequests, ['no_bid', 'below_floor'])), 2);
  t.equal(reader.sum(layout.offset(M.requests, ['no_bid', 'below_floor'])), 1);
  for (const [o, r] of outcomes.labels) t.doesNotThrow(() => layout.offset(M.testRequests, [o, r]), `${o}:${r} pre-created`);
});

t.test('currency_unsupported when an imp was dropped for a floor currency without a rate', async (t) => {
  const deal = cpm('D', 3, { dealOnly: true, dealIds: ['d1'] });
  const e = engineWith([cpm('A', 2), deal]);
  const reason = async (req: object) => {
    const a = await e.run(req);
    return a.status === 204 ? outcomes.labelOf(a.outcome)[1] : `status ${a.status}`;
  };
  t.equal(await reason({ id: 'r', imp: [imp({ bidfloor: 1, bidfloorcur: 'RUB' })] }), 'currency_unsupported', 'imp floor in RUB');
  t.equal(await reason({ id: 'r', imp: [imp({ pmp: { private_auction: 1, deals: [{ id: 'd1', bidfloor: 1, bidfloorcur: 'RUB' }] } })] }), 'currency_unsupported', 'the only deal floor in RUB');
  t.equal(
    await reason({ id: 'r', imp: [imp({ bidfloor: 1, bidfloorcur: 'RUB' }), imp({ id: '2', bidfloor: 50 })] }),
    'currency_unsupported',
    'one imp dropped for currency, the other below floor',
  );
  t.equal(await reason({ id: 'r', imp: [imp({ bidfloor: 50 })] }), 'below_floor', 'still below_floor otherwise');
  t.equal(await reason({ id: 'r', imp: [{ id: '1', video: {} }] }), 'no_candidates', 'still no_candidates otherwise');
  const mixed = await e.run({ id: 'r', imp: [imp({ bidfloor: 1, bidfloorcur: 'RUB' }), imp({ id: '2' })] });
  t.equal(mixed.status, 200, 'a bid on another imp wins over the dropped one');
});

t.test('seat rules: no bid before any candidate work', async (t) => {
  const e = engineWith([cpm('A', 2)]);
  const reason = async (req: object) => outcomes.labelOf((await e.run(req)).outcome)[1];
  t.equal(await reason({ id: 'r', wseat: ['them'], imp: [imp()] }), 'seat_blocked');
  t.equal(await reason({ id: 'r', bseat: ['us'], imp: [imp()] }), 'seat_blocked');
  t.equal(await reason({ id: 'r', wseat: ['them', 'us'], imp: [imp()] }), 'none', 'listed in wseat: bids');
  t.equal(await reason({ id: 'r', bseat: ['them'], imp: [imp()] }), 'none');
});

t.test('floors are met in their own currency on the price sent', async (t) => {
  const e = engineWith([cpm('A', 0.5435)]);
  const a = await e.run({ id: 'r', cur: ['EUR'], imp: [imp({ bidfloor: 0.500014, bidfloorcur: 'EUR' })] });
  t.equal(price(a.body), 0.5001, '0.5435 USD is 0.50002 EUR, sent as 0.5001 (not 0.5, under the floor)');
  const d = engineWith([cpm('D', 2, { dealIds: ['d1'] })]);
  const b = await d.run({ id: 'r', imp: [imp({ bidfloor: 3, pmp: { deals: [{ id: 'd1', bidfloor: 1 }] } })] });
  t.same([price(b.body), JSON.parse(b.body!).seatbid[0].bid[0].dealid], [2, 'd1'], 'deal floor 1 governs the deal bid under an imp floor of 3');
});
