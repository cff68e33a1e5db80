/**
 * First-price bid shading, judged by the simulator's truth (bench/simulator/):
 * - at equal spend (one binding daily budget, a control run and a shading run on the same
 *   traffic), the shading arm buys at least 10% more value, i.e. keeps a surplus of at
 *   least 10% of what it spends, where bidding the value keeps none;
 * - after a warm-up in which the win-rate models learn, the shading arm's surplus per
 *   request is what the truth predicts for the optimal shaded bid, within 15%.
 */
import t from 'tap';
import { runSimulation } from '../../bench/simulator/simulator';
import { predict } from '../../bench/simulator/predict';
import type { SimCampaign } from '../../bench/simulator/types';

/** One flat CPM campaign: its value per impression is known exactly (4 CPM). */
const cpmOnly: SimCampaign[] = [{ id: 'sim-cpm-4', goal: { type: 'CPM', cpmUsd: 4 }, maxCpmUsd: 4 }];
const oneArm = (arm: object) => ({ experiments: [{ id: 'eq', salt: 'x', unit: 'user' as const, arms: [arm] }] }) as never;

t.test('at equal spend the shading arm buys at least 10% more value than bidding the value', async (t) => {
  const budgets = { 'sim-cpm-4': { dailyUsd: 2, pacing: 'asap' as const } };
  const common = { seed: 23, users: 2_000, requests: 6_000, campaigns: cpmOnly, auctionType: 1 as const, minToWinShare: 0.5, budgets };
  const control = (await runSimulation({ ...common, experiments: oneArm({ id: 'A', weight: 1 }) })).experiments.eq.A;
  const shaded = (await runSimulation({ ...common, experiments: oneArm({ id: 'B', weight: 1, strategy: { shading: { maxShade: 0.5 } } }) })).experiments.eq.B;
  t.ok(Math.abs(control.spendUsd - 2) < 0.01 && Math.abs(shaded.spendUsd - 2) < 0.01, `both spend the budget (${control.spendUsd.toFixed(4)}, ${shaded.spendUsd.toFixed(4)} USD)`);
  t.ok(Math.abs(control.surplusUsd) < 1e-9, 'bidding the value keeps no surplus');
  const gain = (shaded.valueUsd - control.valueUsd) / control.spendUsd;
  t.ok(gain >= 0.1, `value bought for the same spend: ${shaded.valueUsd.toFixed(3)} vs ${control.valueUsd.toFixed(3)} USD (+${(gain * 100).toFixed(1)}%)`);
  t.ok(shaded.surplusUsd >= 0.1 * shaded.spendUsd, `surplus ${shaded.surplusUsd.toFixed(3)} USD on ${shaded.spendUsd.toFixed(3)} spent`);
});

t.test('after warm-up, the shading arm gets the surplus the truth predicts for the optimal bid', async (t) => {
  const experiments = { experiments: [{ id: 'shade', salt: 'sim-shade', unit: 'user', arms: [{ id: 'A', weight: 50 }, { id: 'B', weight: 50, strategy: { shading: { maxShade: 0.5 } } }] }] } as never;
  const r = await runSimulation({ seed: 23, users: 2_000, requests: 6_000, warmupRequests: 3_000, experiments, campaigns: cpmOnly, auctionType: 1, minToWinShare: 0.5 });
  const { A: a, B: b } = r.experiments.shade;
  const optimum = predict(r.options.segments, cpmOnly, 1, { kind: 'optimal', maxShade: 0.5 }).perRequest.surplusUsd;
  const observed = b.surplusUsd / b.requests;
  t.ok(Math.abs(observed / optimum - 1) < 0.15, `surplus per request ${observed.toFixed(6)} USD; the truth's optimum ${optimum.toFixed(6)}`);
  t.ok(Math.abs(a.surplusUsd) < 1e-9, 'the control keeps none');
  t.ok(b.valuePerDollar >= 1.1 * a.valuePerDollar, `value per dollar ${b.valuePerDollar.toFixed(3)} vs ${a.valuePerDollar.toFixed(3)}`);
  t.ok(b.bidToValue >= 0.5 - 1e-9 && b.bidToValue < 1, `bids within maxShade (bid/value ${b.bidToValue.toFixed(3)})`);
});
