/**
 * The simulator end to end against the real bidder, with no experiment: every request is
 * answered, every notice taken, the truth's books agree with the bidder's own counters,
 * the wins follow the known competition, bidding a value in first price keeps no surplus,
 * second price keeps what the truth predicts, and a total budget holds.
 */
import t from 'tap';
import { predict } from '../../bench/simulator/predict';
import { runSimulation } from '../../bench/simulator/simulator';
import type { ArmSummary, SimCampaign, SimulationResult } from '../../bench/simulator/types';
import { defaultSegments } from '../../bench/simulator/world';
import type { TapTest } from '../helpers/test-bidder';

t.setTimeout(120_000);

/** Every request answered 200 or 204, every notice 204, the click 204 or (until it exists) 404. */
function checkTraffic(t: TapTest, r: SimulationResult, requests: number): void {
  t.equal(r.truncated, false, 'every request sent within the time bound');
  t.equal(r.requests.sent, requests);
  t.equal(r.requests.answered, requests, `every request answered (${JSON.stringify(r.requests.status)})`);
  t.equal(r.requests.badTokens, 0, 'every bid carried readable notice URLs');
  for (const kind of ['win', 'bill', 'loss'] as const) {
    t.same(Object.keys(r.notices[kind]).filter((s) => s !== '204'), [], `${kind} notices all answered 204 (${JSON.stringify(r.notices[kind])})`);
  }
  t.same(Object.keys(r.notices.click).filter((s) => s !== '204' && s !== '404'), [], `click notices 204, or 404 until the endpoint lands (${JSON.stringify(r.notices.click)})`);
  t.equal(r.notices.refused, 0, 'every notice URL was on the loopback interface');
}

/** The truth's books against the bidder's /metrics. */
function checkBooks(t: TapTest, r: SimulationResult): void {
  const all = Object.values(r.arms).reduce((s, a) => ({ wins: s.wins + a.wins, losses: s.losses + a.losses, spendMicros: s.spendMicros + a.spendMicros }), { wins: 0, losses: 0, spendMicros: 0 });
  t.ok(r.bidder.settled, 'the bidder counted every notice it took');
  t.equal(r.bidder.wins, all.wins, 'bidder_wins_total = the simulator\'s wins');
  const clicks = r.notices.click['204'] ?? 0;
  t.equal(r.bidder.bills, all.wins, `bidder_bills_total ${r.bidder.bills} = the simulator's ${all.wins} bills, one per win (clicks taken: ${clicks})`);
  t.equal(r.bidder.losses, all.losses, 'bidder_losses_total = the simulator\'s losses');
  // Each bill is rounded up to the micro-USD by the bidder as by the books: within a micro a bill.
  t.ok(Math.abs(r.bidder.spendMicros - all.spendMicros) <= r.bidder.bills, `bidder_spend_micros_total ${r.bidder.spendMicros} = the simulator's ${all.spendMicros}, within rounding`);
}

/** Observed wins against Σ P(win) at the prices bid: a z-score under 4.5. */
function checkWins(t: TapTest, a: ArmSummary, what: string): void {
  const z = (a.wins - a.expectedWins) / Math.sqrt(Math.max(1, a.winsVariance));
  t.ok(Math.abs(z) < 4.5, `${what}: ${a.wins} wins, ${a.expectedWins.toFixed(1)} expected from the known competition (z = ${z.toFixed(2)})`);
}

t.test('first price, the default world: answered, taken, counted alike; a budget holds', async (t) => {
  const requests = 1_500;
  const budgetUsd = 0.04;
  const r = await runSimulation({ seed: 11, users: 400, requests, concurrency: 8, minToWinShare: 0.5, budgets: { 'sim-cpc-b': { totalUsd: budgetUsd, pacing: 'asap' } } });
  checkTraffic(t, r, requests);
  checkBooks(t, r);
  t.same(Object.keys(r.arms), [''], 'no experiment: every token\'s arm is \'\'');
  const arm = r.arms[''];
  t.equal(arm.requests, requests);
  t.ok(arm.bids > requests / 2 && arm.wins > 100 && arm.losses > 100, `${arm.bids} bids, ${arm.wins} wins, ${arm.losses} losses`);
  checkWins(t, arm, 'all bids');
  const cpm = r.campaigns['sim-cpm-c'];
  t.ok(cpm !== undefined && cpm.wins > 0, 'the CPM campaign won impressions');
  t.ok(Math.abs(cpm.bidToValue - 1) < 1e-9, 'a CPM campaign bids its value');
  t.ok(Math.abs(cpm.surplusUsd) < 1e-9, `bidding one's value in first price keeps no surplus (${cpm.surplusUsd})`);
  t.same(Object.keys(r.segments).length, defaultSegments().length, 'every segment met');
  // A total budget: reservations hold each bid's price until its notice, so spend stops at it, never past.
  const b = r.campaigns['sim-cpc-b'];
  t.ok(b.spendUsd > budgetUsd * 0.75, `sim-cpc-b spent ${b.spendUsd.toFixed(4)} of its ${budgetUsd} USD budget`);
  t.ok(b.spendUsd <= budgetUsd + 1e-9, `and no more (${b.spendUsd.toFixed(6)} USD)`);
});

t.test('second price, CPM campaigns: the surplus the truth predicts', async (t) => {
  const requests = 1_500;
  const campaigns: SimCampaign[] = [{ id: 'sim-cpm-3', goal: { type: 'CPM', cpmUsd: 3 }, maxCpmUsd: 3 }];
  const r = await runSimulation({ seed: 12, users: 400, requests, campaigns, auctionType: 2, minToWinShare: 1 });
  checkTraffic(t, r, requests);
  checkBooks(t, r);
  const arm = r.arms[''];
  t.equal(arm.bids, requests, 'every request over the floor gets the CPM bid');
  checkWins(t, arm, 'second price');
  const predicted = predict(r.options.segments, campaigns, 2, { kind: 'truthful' }).perRequest;
  // The bidder bids the value exactly, so what the books expect from its bids is the ideal bidder's.
  const expectedPerRequest = arm.expectedSurplusUsd / requests;
  t.ok(Math.abs(expectedPerRequest - predicted.surplusUsd) < 0.1 * predicted.surplusUsd,
    `expected surplus per request at the bids made ${expectedPerRequest.toFixed(6)} vs predicted ${predicted.surplusUsd.toFixed(6)} (the segment mix drawn)`);
  // Each win's surplus lies in [0, 3/1000]: its spread is at most that times √wins.
  const sd = (3 / 1000) * Math.sqrt(Math.max(1, arm.expectedWins));
  t.ok(Math.abs(arm.surplusUsd - arm.expectedSurplusUsd) < 4 * sd, `surplus ${arm.surplusUsd.toFixed(4)} vs expected ${arm.expectedSurplusUsd.toFixed(4)} USD`);
  t.ok(arm.surplusUsd > 0, 'second price leaves a surplus');
});
