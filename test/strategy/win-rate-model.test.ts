/**
 * The win-rate learner (src/strategy/win-rate-model.ts) against simulated markets: the
 * highest competing bid of each auction is log-normal (median m, sigma s), so the true
 * win rate of a bid b is Phi((ln b - ln m) / s). We bid at prices spread log-uniformly
 * over [0.4, 6] CPM, win when our bid beats the competing one, and on some losses learn
 * the competing bid as AUCTION_MIN_TO_WIN. Checks: the learned curve is close to the
 * truth, shading with it earns nearly what shading with the truth earns, segments learn
 * their own markets, thin segments lean on the global model, the model follows a market
 * that moves, eviction, bad input and options.
 */
import t from 'tap';
import { mulberry32 } from '../../native-models/prng';
import { expectedSurplus, shadePrice } from '../../src/strategy/bid-shader';
import { WinRateLearner, type WinRateLearnerOptions } from '../../src/strategy/win-rate-model';
import { allocateWinRateTable, kFromGlobal, kFromSegment, WinRateTable } from '../../src/strategy/win-rate-table';

/** Standard normal CDF (Abramowitz and Stegun 7.1.26: error under 1.5e-7). */
function phi(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const k = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * k - 1.453152027) * k + 1.421413741) * k - 0.284496736) * k + 0.254829592) * k * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

interface Market {
  median: number;
  sigma: number;
}

const trueWinRate = (m: Market, b: number): number => phi(Math.log(b / m.median) / m.sigma);

class Auctions {
  private readonly random: () => number;
  constructor(seed: number) {
    this.random = mulberry32(seed);
  }
  private gauss(): number {
    return Math.sqrt(-2 * Math.log(1 - this.random())) * Math.cos(2 * Math.PI * this.random());
  }
  /** `n` auctions in `segment`; min-to-win comes with a `minToWinShare` of the losses. */
  feed(learner: WinRateLearner, segment: number, market: Market, n: number, minToWinShare: number): void {
    for (let i = 0; i < n; i++) {
      const bid = 0.4 * Math.exp(this.random() * Math.log(15));
      const competing = market.median * Math.exp(market.sigma * this.gauss());
      const won = bid > competing;
      const minToWin = !won && this.random() < minToWinShare ? competing : -1;
      learner.observe(segment, bid, won, minToWin);
    }
  }
}

const kPrices = [0.8, 1.5, 2.5];
const market15: Market = { median: 1.5, sigma: 0.5 };

function worstError(learner: WinRateLearner, segment: number, market: Market, prices = kPrices): number {
  let worst = 0;
  for (const b of prices) worst = Math.max(worst, Math.abs(learner.probability(segment, b) - trueWinRate(market, b)));
  return worst;
}

const learnerOf = (options: Partial<WinRateLearnerOptions> = {}, table: WinRateTable | null = null): WinRateLearner =>
  new WinRateLearner(table, { maxSegments: 64, ...options });

t.test('the learned win rate is within 0.05 of the truth, with or without min-to-win', async (t) => {
  for (const [label, share] of [['win/loss only', 0], ['min-to-win on 30% of losses', 0.3], ['min-to-win on every loss', 1]] as const) {
    const learner = learnerOf();
    new Auctions(1).feed(learner, 7, market15, 20_000, share);
    const err = worstError(learner, 7, market15);
    t.ok(err < 0.05, `${label}: worst error ${err.toFixed(3)} at ${kPrices.join(', ')} CPM`);
  }
});

t.test('the counterfactual reading of min-to-win overstates the win rate; the density reading does not', async (t) => {
  const density = learnerOf({ minToWin: 'density' });
  const counterfactual = learnerOf({ minToWin: 'counterfactual' });
  new Auctions(2).feed(density, 7, market15, 20_000, 0.3);
  new Auctions(2).feed(counterfactual, 7, market15, 20_000, 0.3);
  const truth = trueWinRate(market15, 1.5);
  const over = counterfactual.probability(7, 1.5) - truth;
  t.ok(over > 0.05, `counterfactual: P(win | 1.5) is ${over.toFixed(3)} above the truth (0.5)`);
  t.ok(Math.abs(density.probability(7, 1.5) - truth) < 0.02, `density: ${(density.probability(7, 1.5) - truth).toFixed(3)} off`);
});

t.test('shading with the learned curve earns nearly what shading with the true curve earns', async (t) => {
  const learner = learnerOf();
  new Auctions(3).feed(learner, 7, market15, 20_000, 0.3);
  const out = new Float64Array(3);
  t.ok(learner.params(7, out));
  const [a, c] = out;
  let learned = 0;
  let best = 0;
  let fixed = 0;
  let atValue = 0;
  let paidShaded = 0;
  let winsShaded = 0;
  let paidValue = 0;
  let winsValue = 0;
  for (const value of [1.2, 1.5, 2, 3, 4]) {
    const surplus = (b: number): number => (value - b) * trueWinRate(market15, b);
    let top = 0;
    for (let i = 1; i <= 20_000; i++) top = Math.max(top, surplus((value * i) / 20_000));
    const b = shadePrice(value, 0, 0.9, a, c);
    learned += surplus(b);
    best += top;
    fixed += surplus(0.8 * value);
    atValue += surplus(value);
    paidShaded += b * trueWinRate(market15, b);
    winsShaded += trueWinRate(market15, b);
    paidValue += value * trueWinRate(market15, value);
    winsValue += trueWinRate(market15, value);
    t.ok(Math.abs(expectedSurplus(value, b, a, c) - (value - b) / (1 + Math.exp(-(a + c * Math.log(b))))) < 1e-12);
  }
  t.ok(learned >= 0.97 * best, `learned curve: ${((100 * learned) / best).toFixed(2)}% of the surplus the true curve earns`);
  t.equal(atValue, 0, 'bidding the value in a first-price auction earns nothing');
  t.ok(learned >= 1.1 * fixed, `and ${((100 * learned) / fixed - 100).toFixed(0)}% more than a fixed 20% shade`);
  const perImpression = paidShaded / winsShaded / (paidValue / winsValue);
  t.comment(`price per won impression, shaded vs unshaded: ${(100 * perImpression).toFixed(0)}%; impressions won: ${((100 * winsShaded) / winsValue).toFixed(0)}%`);
  t.ok(perImpression < 0.9, 'shading pays less per impression');
});

t.test('two segments in different markets learn different curves', async (t) => {
  const cheap: Market = { median: 1.0, sigma: 0.5 };
  const dear: Market = { median: 3.0, sigma: 0.3 };
  const learner = learnerOf();
  const auctions = new Auctions(4);
  for (let round = 0; round < 20; round++) {
    auctions.feed(learner, 101, cheap, 500, 0.3);
    auctions.feed(learner, 202, dear, 500, 0.3);
  }
  t.ok(worstError(learner, 101, cheap, [0.6, 1, 1.8]) < 0.05, 'the cheap segment learns its market');
  t.ok(worstError(learner, 202, dear, [2, 3, 4]) < 0.05, 'the dear segment learns its market');
  const gap = learner.probability(101, 2) - learner.probability(202, 2);
  t.ok(gap > 0.6, `at 2 CPM: ${learner.probability(101, 2).toFixed(2)} against ${learner.probability(202, 2).toFixed(2)}`);
  const global = learner.probability(0, 2);
  t.ok(global < learner.probability(101, 2) && global > learner.probability(202, 2), 'the global model lies between them');
});

t.test('a new segment falls back to the global model; a thin one stays near it', async (t) => {
  const table = new WinRateTable(allocateWinRateTable(128));
  const learner = learnerOf({}, table);
  const auctions = new Auctions(5);
  auctions.feed(learner, 7, market15, 5_000, 0.3);
  const out = new Float64Array(3);
  const global = new Float64Array(3);
  t.notOk(learner.params(99, out), 'an unseen segment is not held');
  learner.params(0, global);
  t.same([...out], [...global], 'and gets the global parameters');
  t.equal(global[2], 5_000, 'the global model saw every observation');

  const far: Market = { median: 4, sigma: 0.4 };
  auctions.feed(learner, 42, far, 5, 0);
  const thinGap = Math.abs(learner.probability(42, 1.5) - learner.probability(0, 1.5));
  t.ok(thinGap < 0.1, `after 5 observations the segment is still near the global model (${thinGap.toFixed(3)} apart at 1.5 CPM)`);

  learner.snapshot();
  t.equal(table.read(99, 100, out), kFromGlobal, 'the table: an unseen segment reads the global model');
  t.equal(table.read(42, 100, out), kFromGlobal, 'the table: a segment under minObservations reads the global model');
  t.equal(table.read(7, 100, out), kFromSegment, 'the table: a learned segment reads its own');
  learner.params(7, global);
  t.same([...out], [...global], 'exactly what the learner holds');

  auctions.feed(learner, 42, far, 3_000, 0.3);
  t.ok(worstError(learner, 42, far, [3, 4, 5.5]) < 0.05, 'with 3,000 observations the segment is its own');
  learner.snapshot();
  t.equal(table.read(42, 100, out), kFromSegment);
  t.equal(table.version, 2);
});

t.test('a young segment follows the global model as it moves', async (t) => {
  const learner = learnerOf();
  const auctions = new Auctions(6);
  auctions.feed(learner, 0, market15, 3_000, 0.3);
  auctions.feed(learner, 42, market15, 3, 0); // born near the 1.5 CPM market
  const dear: Market = { median: 3, sigma: 0.5 };
  auctions.feed(learner, 0, dear, 20_000, 0.3); // the market moves; segment 42 sees none of it
  const youngGap = Math.abs(learner.probability(42, 3) - learner.probability(0, 3));
  t.ok(youngGap < 0.1, `the young segment moved with the global model (${youngGap.toFixed(3)} apart at 3 CPM)`);
  t.ok(Math.abs(learner.probability(0, 3) - 0.5) < 0.05, 'which learned the new market');
});

t.test('forgetting: the model follows a market that moves', async (t) => {
  const later: Market = { median: 2.5, sigma: 0.5 };
  const prices = [1.5, 2.5, 4];
  const forgetting = learnerOf({ segmentMemory: 2_000 });
  const remembering = learnerOf({ segmentMemory: 1e9, globalMemory: 1e9 });
  for (const learner of [forgetting, remembering]) {
    const auctions = new Auctions(7);
    auctions.feed(learner, 7, market15, 20_000, 0.3);
    auctions.feed(learner, 7, later, 8_000, 0.3);
  }
  const err = worstError(forgetting, 7, later, prices);
  t.ok(err < 0.05, `memory 2,000: within ${err.toFixed(3)} of the new market after 8,000 observations`);
  const stale = worstError(remembering, 7, later, prices);
  t.ok(stale > 0.1, `without forgetting still ${stale.toFixed(3)} off: forgetting is what follows the market`);
});

t.test('at most maxSegments: the least recently updated is evicted, and leaves the table', async (t) => {
  const table = new WinRateTable(allocateWinRateTable(8));
  const learner = new WinRateLearner(table, { maxSegments: 3 });
  for (const s of [1, 2, 3, 1]) learner.observe(s, 1, true, -1);
  learner.snapshot();
  t.equal(table.size, 3);
  learner.observe(4, 1, false, -1); // 2 is the least recently updated
  t.equal(learner.segmentCount, 3);
  const out = new Float64Array(3);
  t.notOk(learner.params(2, out), 'segment 2 was evicted');
  t.ok(learner.params(1, out) && learner.params(3, out) && learner.params(4, out));
  learner.snapshot();
  t.equal(table.size, 3);
  t.notOk(table.readSegment(2, out), 'and removed from the table');
  t.ok(table.readSegment(4, out));
  for (let s = 10; s < 200; s++) learner.observe(s, 1 + (s % 5), s % 2 === 0, -1);
  learner.snapshot();
  t.equal(table.size, 3, 'churn never grows the table');
  for (const s of [197, 198, 199]) t.ok(table.readSegment(s, out), `the 3 most recent are held (${s})`);
  // Evicted, then back before the snapshot: published, not removed.
  learner.observe(150, 1, true, -1);
  learner.observe(151, 1, true, -1);
  learner.observe(150, 1, true, -1);
  learner.snapshot();
  t.ok(table.readSegment(150, out) && table.readSegment(151, out));
});

t.test('bad observations are refused; an inconsistent min-to-win is ignored', async (t) => {
  const learner = learnerOf();
  const out = new Float64Array(3);
  for (const bid of [0, -1, Number.NaN, Infinity]) t.notOk(learner.observe(7, bid, true, -1), `bid ${bid} refused`);
  learner.params(0, out);
  t.equal(out[2], 0, 'nothing was learned');
  t.equal(learner.segmentCount, 0);

  const plain = learnerOf();
  const odd = learnerOf();
  for (let i = 0; i < 50; i++) {
    const bid = 1 + (i % 7) * 0.3;
    plain.observe(7, bid, false, -1);
    odd.observe(7, bid, false, bid * 0.5); // below the bid: not a real min-to-win
  }
  t.equal(plain.probability(7, 1.5), odd.probability(7, 1.5), 'a min-to-win below the bid counts as a plain loss');
  t.ok(odd.probability(7, 1) > 0 && odd.probability(7, 1) < 0.5, 'losses pull the curve down but keep it a curve');
  plain.params(7, out);
  t.ok(out[1] > 0, 'c stays positive');
});

t.test('options are checked at once, with a code', async (t) => {
  const table = new WinRateTable(allocateWinRateTable(8));
  t.throws(() => new WinRateLearner(table, { maxSegments: 5 }), { code: 'WIN_RATE_BAD_OPTIONS', message: /load one half/ });
  t.throws(
    () => new WinRateLearner(null, { maxSegments: 0, segmentMemory: 1, priorObservations: -1, minToWin: 'maybe' as 'density' }),
    { code: 'WIN_RATE_BAD_OPTIONS', message: /maxSegments.*segmentMemory.*priorObservations.*minToWin/ },
  );
  t.doesNotThrow(() => new WinRateLearner(table, { maxSegments: 4 }));
});
