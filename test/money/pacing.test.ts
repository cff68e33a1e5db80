/**
 * Even pacing on a simulated clock: a day of 1,440 one-minute steps runs in milliseconds.
 * Traffic that under-delivers at the start rate, traffic that would spend the budget by
 * mid-morning, and traffic with a day-night shape all end the day within 5% of the budget,
 * and never above it (spend is checked before each win, as the ledger's reservations do).
 */
import t from 'tap';
import fc from 'fast-check';
import { mulberry32 } from '../../native-models/prng';
import { PacingController } from '../../src/money/pacing';

interface Day {
  spent: number;
  /** Spend by the end of each hour. */
  hourly: number[];
  maxRate: number;
}

/**
 * One day: `volume(fraction)` eligible requests per minute; each one the campaign takes part
 * in (probability = the throttle) wins with `winRate` and costs `costMicros`.
 */
function simulate(budget: number, volume: (f: number) => number, winRate: number, costMicros: number, seed = 1, startRate = 0.1, mode: 'even' | 'asap' = 'even'): Day {
  const pacing = new PacingController({ dailyBudgetMicros: budget, startRate, mode });
  const random = mulberry32(seed); // deterministic: every run of a scenario is the same day
  const steps = 1440;
  let spent = 0;
  let ppm = pacing.step(0, 0);
  let maxRate = 0;
  const hourly: number[] = [];
  for (let i = 0; i < steps; i++) {
    const f = i / steps;
    const n = Math.round(volume(f));
    for (let k = 0; k < n; k++) {
      if (random() * 1e6 >= ppm) continue;
      if (random() >= winRate) continue;
      if (spent + costMicros > budget) continue; // the reservation refuses what the budget cannot cover
      spent += costMicros;
    }
    ppm = pacing.step((i + 1) / steps, spent);
    maxRate = Math.max(maxRate, ppm / 1e6);
    if ((i + 1) % 60 === 0) hourly.push(spent);
  }
  return { spent, hourly, maxRate };
}

const budget = 50_000_000; // $50 a day
const cost = 2_000; // a $2 CPM impression

t.test('under-delivering at the start rate: the controller raises participation and reaches the budget', async (t) => {
  // Full participation would spend 1.7x the budget; the start rate of 0.1 spends 17%.
  const perMinute = (1.7 * budget) / cost / 0.2 / 1440;
  const day = simulate(budget, () => perMinute, 0.2, cost);
  t.ok(Math.abs(day.spent - budget) <= 0.05 * budget, `spent ${day.spent} of ${budget}`);
  t.ok(day.spent <= budget);
  t.ok(day.maxRate > 0.4, `participation rose to ${day.maxRate.toFixed(2)}`);
});

t.test('over-delivering: traffic that would spend the budget by 10:00 is throttled over the whole day', async (t) => {
  const perMinute = (5 * budget) / cost / 0.2 / 1440;
  const day = simulate(budget, () => perMinute, 0.2, cost, 2, 1);
  t.ok(Math.abs(day.spent - budget) <= 0.05 * budget, `spent ${day.spent} of ${budget}`);
  t.ok(day.spent <= budget);
  // Even: by noon about half is spent, not all of it.
  const noon = day.hourly[11];
  t.ok(noon > 0.4 * budget && noon < 0.6 * budget, `spent ${noon} by noon`);
});

t.test('a day-night traffic shape still ends within 5%, never above the budget', async (t) => {
  const mean = (3 * budget) / cost / 0.2 / 1440;
  const shape = (f: number) => mean * (1 + 0.8 * Math.sin(2 * Math.PI * (f - 0.375)));
  const day = simulate(budget, shape, 0.2, cost, 3);
  t.ok(Math.abs(day.spent - budget) <= 0.05 * budget, `spent ${day.spent} of ${budget}`);
  t.ok(day.spent <= budget);
});

t.test('for any traffic able to spend the budget, the day ends within 5% and never above', async (t) => {
  fc.assert(fc.property(fc.double({ min: 1.3, max: 8, noNaN: true }), fc.double({ min: 0.01, max: 1, noNaN: true }), fc.integer({ min: 1, max: 1e6 }),
    (capacity, startRate, seed) => {
      const perMinute = (capacity * budget) / cost / 0.2 / 1440;
      const day = simulate(budget, () => perMinute, 0.2, cost, seed, startRate);
      return day.spent <= budget && Math.abs(day.spent - budget) <= 0.05 * budget;
    }), { numRuns: 25 });
});

t.test('traffic too thin for the budget: participation goes to 1 and spends all it can', async (t) => {
  const perMinute = (0.5 * budget) / cost / 0.2 / 1440;
  const day = simulate(budget, () => perMinute, 0.2, cost, 4);
  t.equal(day.maxRate, 1);
  t.ok(day.spent > 0.45 * budget && day.spent < 0.55 * budget, `spent ${day.spent}: all the traffic gave`);
});

t.test('the budget spent: participation 0', async (t) => {
  const p = new PacingController({ dailyBudgetMicros: 100 });
  p.step(0, 0);
  t.equal(p.step(0.5, 100), 0);
});

t.test('asap: full participation, spends as fast as traffic allows, stops at the budget', async (t) => {
  const perMinute = (5 * budget) / cost / 0.2 / 1440; // would spend the budget by about 04:48
  const day = simulate(budget, () => perMinute, 0.2, cost, 5, 0.1, 'asap');
  t.equal(day.maxRate, 1);
  t.ok(day.hourly[3] > 0.7 * budget && day.hourly[3] < 0.9 * budget, `spent ${day.hourly[3]} by 04:00`);
  t.equal(day.hourly[5], budget, 'all of it by 06:00');
  t.equal(day.spent, budget, 'and never more');
  const p = new PacingController({ dailyBudgetMicros: 1_000, mode: 'asap' });
  t.equal(p.step(0, 0), 1_000_000);
  t.equal(p.step(0.9, 999), 1_000_000);
  t.equal(p.step(0.95, 1_000), 0, 'spent: 0');
});

t.test('even: the rate stays within [minRate, maxRate]; a spent budget stops it for the day', async (t) => {
  const p = new PacingController({ dailyBudgetMicros: 1_000_000, startRate: 0.5, minRate: 0.05, maxRate: 0.5 });
  p.step(0, 0);
  t.equal(p.step(0.1, 0), 500_000, 'behind, but capped at maxRate');
  t.equal(p.step(0.2, 900_000), 250_000, 'far ahead: at most halved in one step');
  let ppm = 0;
  for (let i = 3; i < 20; i++) ppm = p.step(i / 100, 900_000 + i);
  t.equal(ppm, 500_000, 'nothing spent lately: opens up again, to maxRate');
  for (let i = 0; i < 30; i++) ppm = p.step(0.2 + i / 100, 999_000 + i * 30); // ahead of the pace
  t.ok(ppm >= 50_000, 'never below minRate while budget is left');
  t.equal(p.step(0.6, 1_000_000), 0, 'the budget spent: 0');
  t.equal(p.step(0.7, 1_000_000), 0, 'and it stays 0');
  t.ok(p.step(0.01, 0) > 0, 'a new day (the fraction went back) opens it again');
  t.throws(() => new PacingController({ dailyBudgetMicros: 1, minRate: 0 }));
});
