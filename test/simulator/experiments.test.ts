/**
 * Experiments end to end, read from the arms the bidder writes into its notice tokens
 * (claims.arm, "experiment:arm" pairs): an A/A split that must show no difference, and a
 * shading arm against a control in first price that must keep a surplus the control
 * cannot (test/simulator/shading-goal.test.ts holds it to the truth's optimum).
 */
import t from 'tap';
import { predict } from '../../bench/simulator/predict';
import { runSimulation } from '../../bench/simulator/simulator';
import { kUnattributed } from '../../bench/simulator/truth';
import type { ArmSummary, ExperimentsFile, SimCampaign, SimulationResult } from '../../bench/simulator/types';

t.setTimeout(180_000);

const aa: ExperimentsFile = { experiments: [{ id: 'aa', salt: 'sim-aa', unit: 'user', arms: [{ id: 'A', weight: 50 }, { id: 'B', weight: 50 }] }] };
const shading: ExperimentsFile = {
  experiments: [{ id: 'shade', salt: 'sim-shade', unit: 'user', arms: [{ id: 'A', weight: 50 }, { id: 'B', weight: 50, strategy: { shading: { maxShade: 0.5 } } }] }],
};
/** One flat CPM campaign: its value is known exactly, so the control's first-price surplus is exactly 0. */
const cpmOnly: SimCampaign[] = [{ id: 'sim-cpm-4', goal: { type: 'CPM', cpmUsd: 4 }, maxCpmUsd: 4 }];

/** The arm claims the bidder wrote, other than none and unattributed. */
function armClaims(r: SimulationResult): string[] {
  return Object.keys(r.arms).filter((k) => k !== '' && k !== kUnattributed);
}

/** |a − b| for two proportions, in standard errors. */
function zDiff(x1: number, n1: number, x2: number, n2: number): number {
  const p = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(Math.max(1e-12, p * (1 - p) * (1 / n1 + 1 / n2)));
  return Math.abs(x1 / n1 - x2 / n2) / se;
}

t.test('experiments through the bidder', async (t) => {
  const requests = 2_000;
  const r = await runSimulation({ seed: 22, users: 800, requests, experiments: aa });
  t.ok(armClaims(r).length > 0, 'the bidder writes experiment arms into its notice tokens');

  t.test('A/A: two identical arms show no difference', async (t) => {
    const arms = r.experiments.aa ?? {};
    t.same(Object.keys(arms).sort(), ['A', 'B'], 'both arms seen in the tokens');
    const [a, b] = [arms.A, arms.B] as [ArmSummary, ArmSummary];
    const unattributed = r.arms[kUnattributed]?.requests ?? 0;
    t.equal(a.requests + b.requests + unattributed + (r.arms['']?.requests ?? 0), requests, 'every request in one arm (or unattributed)');
    const share = a.requests / (a.requests + b.requests);
    t.ok(share > 0.4 && share < 0.6, `arm A has ${(share * 100).toFixed(1)}% of the requests`);
    t.ok(zDiff(a.bids, a.requests, b.bids, b.requests) < 4, `bid rates ${a.bidRate.toFixed(3)} and ${b.bidRate.toFixed(3)}`);
    t.ok(zDiff(a.wins, a.bids, b.wins, b.bids) < 4, `win rates ${a.winRate.toFixed(3)} and ${b.winRate.toFixed(3)}`);
    t.ok(Math.abs(a.bidToValue / b.bidToValue - 1) < 0.1, `bid/value ${a.bidToValue.toFixed(3)} and ${b.bidToValue.toFixed(3)}: the same bidder`);
    t.ok(Math.abs(a.valuePerDollar / b.valuePerDollar - 1) < 0.15, `value per dollar ${a.valuePerDollar.toFixed(3)} and ${b.valuePerDollar.toFixed(3)}`);
  });

  t.test('first-price shading keeps a surplus the control cannot', async (t) => {
    const r = await runSimulation({ seed: 23, users: 800, requests: 3_000, experiments: shading, campaigns: cpmOnly, auctionType: 1, minToWinShare: 0.5 });
    const arms = r.experiments.shade ?? {};
    t.same(Object.keys(arms).sort(), ['A', 'B'], 'both arms seen in the tokens');
    const [a, b] = [arms.A, arms.B] as [ArmSummary, ArmSummary];
    t.ok(a.wins > 50 && b.wins > 50, `wins: A ${a.wins}, B ${b.wins}`);
    t.ok(Math.abs(a.bidToValue - 1) < 1e-9, 'the control bids its value');
    t.ok(Math.abs(a.surplusUsd) < 1e-9, `so it keeps no surplus (${a.surplusUsd})`);
    t.ok(b.bidToValue < 1 && b.bidToValue >= 0.5 - 1e-9, `arm B shades within maxShade 0.5 (bid/value ${b.bidToValue.toFixed(3)})`);
    t.ok(b.surplusUsd > 0, `arm B keeps a surplus (${b.surplusUsd.toFixed(4)} USD)`);
    t.ok(b.valuePerDollar > a.valuePerDollar, `and buys more value per dollar (${b.valuePerDollar.toFixed(3)} vs ${a.valuePerDollar.toFixed(3)})`);
    // No strategy beats the best shaded bid in expectation: B's expected surplus at its own bids is under the optimum.
    const best = predict(r.options.segments, cpmOnly, 1, { kind: 'optimal', maxShade: 0.5 }).perRequest.surplusUsd;
    t.ok(b.expectedSurplusUsd / b.requests <= best * 1.1, `B's expected surplus per request ${(b.expectedSurplusUsd / b.requests).toFixed(6)} ≤ the optimum ${best.toFixed(6)}`);
    const sd = (4 / 1000) * Math.sqrt(Math.max(1, b.expectedWins));
    t.ok(Math.abs(b.surplusUsd - b.expectedSurplusUsd) < 4 * sd, `observed ${b.surplusUsd.toFixed(4)} vs expected ${b.expectedSurplusUsd.toFixed(4)} USD at B's bids`);
  });
});
