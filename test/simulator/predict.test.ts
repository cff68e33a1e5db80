/**
 * The predictions from truth: the normal functions, the expected outcome of a bid against
 * a log-normal competition (checked against sampling), and the best shaded bid.
 */
import t from 'tap';
import { mulberry32 } from '../../native-models/prng';
import { competingQuantile, expectedOutcome, normalCdf, normalQuantile, optimalBid, predict, trueValueCpm } from '../../bench/simulator/predict';
import { defaultCampaigns, defaultSegments } from '../../bench/simulator/world';

const seg = { floor: 0.5, competition: { median: 1.2, sigma: 0.5 } };

t.test('normal CDF and quantile', async (t) => {
  t.ok(Math.abs(normalCdf(0) - 0.5) < 1e-7);
  t.ok(Math.abs(normalCdf(1.959964) - 0.975) < 1e-6);
  t.ok(Math.abs(normalCdf(-1) - 0.158655254) < 1e-6);
  for (const p of [1e-6, 0.001, 0.02, 0.3, 0.5, 0.77, 0.99, 0.999999]) t.ok(Math.abs(normalCdf(normalQuantile(p)) - p) < 2e-7 + p * 1e-6, `Φ(Φ⁻¹(${p}))`);
});

t.test('bidding the value in first price: surplus 0, whatever it wins', async (t) => {
  const o = expectedOutcome(1.5, 1.5, seg, 1);
  t.ok(o.winProb > 0.5);
  t.equal(o.surplus, 0);
  t.equal(o.paid, 1.5 * o.winProb);
  t.same(expectedOutcome(0.4, 1.5, seg, 1), { winProb: 0, paid: 0, value: 0, surplus: 0 }, 'under the floor: no win');
});

t.test('the best shaded bid: (v − b*)·Φ((ln b* − μ)/σ), found on the grid', async (t) => {
  const best = optimalBid(1.5, seg, 1);
  t.ok(best.bid > seg.floor && best.bid < 1.5, `b* = ${best.bid.toFixed(4)}`);
  const mu = Math.log(seg.competition.median);
  t.ok(Math.abs(best.outcome.surplus - (1.5 - best.bid) * normalCdf((Math.log(best.bid) - mu) / 0.5)) < 1e-12);
  const better = [];
  for (let b = 0.5; b <= 1.5; b += 0.001) if (expectedOutcome(b, 1.5, seg, 1).surplus > best.outcome.surplus + 1e-12) better.push(b);
  t.same(better, [], 'no bid on a finer grid does better');
  const capped = optimalBid(1.5, seg, 1, 0.1);
  t.ok(capped.bid >= 1.35 - 1e-12, 'maxShade bounds the shading');
  t.equal(optimalBid(1.5, seg, 2).bid, 1.5, 'second price: bid the value');
  t.equal(optimalBid(0.4, seg, 1).bid, 0, 'a value under the floor bids nothing');
});

t.test('expected outcomes agree with sampling the competition', async (t) => {
  const rand = mulberry32(11);
  const n = 200_000;
  const cs = Array.from({ length: n }, () => competingQuantile(Math.max(rand(), 1e-12), seg.competition));
  for (const [at, bid] of [[1, 1.1], [2, 1.5], [2, 0.7]] as const) {
    let wins = 0;
    let paid = 0;
    for (const c of cs) {
      if (bid > c) {
        wins++;
        paid += at === 1 ? bid : Math.max(c, seg.floor);
      }
    }
    const e = expectedOutcome(bid, 1.5, seg, at);
    t.ok(Math.abs(wins / n - e.winProb) < 0.005, `at ${at}, bid ${bid}: win ${wins / n} vs ${e.winProb}`);
    t.ok(Math.abs(paid / n - e.paid) < 0.01, `at ${at}, bid ${bid}: paid ${paid / n} vs ${e.paid}`);
  }
});

t.test('true values and the ideal bidder over the default world', async (t) => {
  t.equal(trueValueCpm({ id: 'c', goal: { type: 'CPC', cpcUsd: 2 }, maxCpmUsd: 100 }, { ctr: 0.003 }), 6);
  t.equal(trueValueCpm({ id: 'c', goal: { type: 'CPC', cpcUsd: 2 }, maxCpmUsd: 5 }, { ctr: 0.003 }), 5, 'capped by maxCpmUsd');
  t.equal(trueValueCpm({ id: 'c', goal: { type: 'CPM', cpmUsd: 1.25 }, maxCpmUsd: 5 }, { ctr: 0.003 }), 1.25);
  const truthful = predict(defaultSegments(), defaultCampaigns(), 1, { kind: 'truthful' }).perRequest;
  const optimal = predict(defaultSegments(), defaultCampaigns(), 1, { kind: 'optimal' }).perRequest;
  const second = predict(defaultSegments(), defaultCampaigns(), 2, { kind: 'truthful' }).perRequest;
  t.equal(truthful.surplusUsd, 0, 'truthful in first price: no surplus');
  t.ok(Math.abs(truthful.valueUsd - truthful.spendUsd) < 1e-15);
  t.ok(optimal.surplusUsd > 0 && optimal.winRate < truthful.winRate, 'shading wins less and keeps a surplus');
  t.ok(optimal.valueUsd / optimal.spendUsd > 1, 'more value per dollar');
  t.ok(second.surplusUsd > optimal.surplusUsd, 'second price leaves the bidder more than the best first-price shading');
});
