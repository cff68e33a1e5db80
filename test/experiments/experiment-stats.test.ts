/**
 * The experiment report's statistics: the incomplete gamma function and the chi-squared
 * p-value against published values (scipy.stats.chi2.sf), the sample-ratio check, and lifts
 * with delta-method intervals against the formulas worked by hand.
 */
import t from 'tap';
import fc from 'fast-check';
import {
  chiSquaredPValue, kZ95, logGamma, meanLift, proportionLift, regularizedGammaP, regularizedGammaQ, sampleRatioTest,
} from '../../src/experiments/experiment-stats';

const close = (t: Tap.Test, got: number, want: number, relTol: number, msg: string): void => {
  t.ok(Math.abs(got - want) <= relTol * Math.abs(want), `${msg}: ${got} vs ${want}`);
};

t.test('ln Gamma and the regularized incomplete gamma function', async (t) => {
  close(t, logGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-13, 'ln Gamma(1/2)');
  close(t, logGamma(10), Math.log(362880), 1e-13, 'ln Gamma(10) = ln 9!');
  close(t, logGamma(0.1), Math.log(9.513507698668732), 1e-12, 'ln Gamma(0.1) (reflection)');
  close(t, regularizedGammaP(1, 2), 1 - Math.exp(-2), 1e-13, 'P(1, x) = 1 - e^-x');
  close(t, regularizedGammaP(3, 2), 1 - 5 * Math.exp(-2), 1e-12, 'P(3, 2) = 1 - e^-2 (1 + 2 + 2)');
  close(t, regularizedGammaQ(3, 20), Math.exp(-20) * (1 + 20 + 200), 1e-12, 'Q(3, 20), the continued fraction');
  t.equal(regularizedGammaP(2, 0), 0);
  t.equal(regularizedGammaQ(2, 0), 1);
  t.ok(Number.isNaN(regularizedGammaP(0, 1)) && Number.isNaN(regularizedGammaQ(1, -1)), 'outside the domain: NaN');
  fc.assert(fc.property(fc.double({ min: 0.05, max: 200, noNaN: true }), fc.double({ min: 0, max: 400, noNaN: true }), (a, x) => {
    const p = regularizedGammaP(a, x);
    const q = regularizedGammaQ(a, x);
    return p >= -1e-12 && p <= 1 + 1e-12 && Math.abs(p + q - 1) < 1e-9;
  }), { numRuns: 500 });
});

t.test('the chi-squared p-value against known values', async (t) => {
  close(t, chiSquaredPValue(3.841, 1), 0.050013683763956804, 1e-9, 'chi2 3.841, df 1: p ~ 0.05');
  close(t, chiSquaredPValue(10.828, 1), 0.0009997657195830916, 1e-9, 'chi2 10.828, df 1: p ~ 0.001');
  close(t, chiSquaredPValue(3.841458820694124, 1), 0.05, 1e-10, 'the 95% quantile');
  close(t, chiSquaredPValue(5.991464547107979, 2), 0.05, 1e-10, 'df 2 is exp(-chi2/2)');
  close(t, chiSquaredPValue(18.307, 10), 0.05000058909139812, 1e-9, 'df 10');
  close(t, chiSquaredPValue(20.515, 5), 0.0010000024510678572, 1e-9, 'df 5');
  close(t, chiSquaredPValue(0.5, 3), 0.9188914116546758, 1e-10, 'df 3, small chi2 (the series)');
  close(t, chiSquaredPValue(100, 50), 3.454931382984871e-5, 1e-8, 'df 50');
  close(t, chiSquaredPValue(36, 1), 1.9731752900754024e-9, 1e-8, 'far in the tail: erfc(sqrt(18))');
  t.equal(chiSquaredPValue(0, 1), 1);
  t.ok(Number.isNaN(chiSquaredPValue(1, 0)));
});

t.test('sample-ratio mismatch: flagged below p = 0.001', async (t) => {
  const bad = sampleRatioTest([5300, 4700], [50, 50])!;
  t.equal(bad.chi2, 36);
  t.equal(bad.df, 1);
  t.ok(bad.pValue < 1e-8);
  t.equal(bad.mismatch, true, '5,300 vs 4,700 at 50/50');
  const ok = sampleRatioTest([5050, 4950], [50, 50])!;
  t.equal(ok.chi2, 1);
  close(t, ok.pValue, 0.31731050786291404, 1e-10, 'p = erfc(sqrt(1/2))');
  t.equal(ok.mismatch, false, '5,050 vs 4,950 at 50/50');
  const weighted = sampleRatioTest([1000, 4000, 5000], [1, 4, 5])!;
  t.same([weighted.chi2, weighted.df, weighted.pValue, weighted.mismatch, weighted.expected], [0, 2, 1, false, [1000, 4000, 5000]], 'weights on any scale');
  const short = sampleRatioTest([900, 4100, 5000], [10, 40, 50])!;
  t.same([short.chi2, short.mismatch], [12.5, false], 'a 10% shortfall in the small arm of 10,000: chi2 12.5, df 2');
  close(t, short.pValue, Math.exp(-6.25), 1e-12, 'p = exp(-chi2/2) = 0.0019: not below 0.001');
  t.equal(sampleRatioTest([850, 4150, 5000], [10, 40, 50])!.mismatch, true, 'a 15% shortfall is (chi2 28.1)');
  t.equal(sampleRatioTest([100], [1]), null, 'one arm');
  t.equal(sampleRatioTest([100, 100], [1, 0]), null, 'a weight unknown');
  t.equal(sampleRatioTest([0, 0], [1, 1]), null, 'no requests');
});

t.test('a proportion\'s lift: delta method on the log of the ratio', async (t) => {
  const l = proportionLift(600, 1000, 500, 1000)!;
  close(t, l.lift, 0.2, 1e-12, '0.6 / 0.5 - 1');
  const se = Math.sqrt(1 / 600 - 1 / 1000 + 1 / 500 - 1 / 1000);
  close(t, l.low, Math.exp(Math.log(1.2) - kZ95 * se) - 1, 1e-12, 'low');
  close(t, l.high, Math.exp(Math.log(1.2) + kZ95 * se) - 1, 1e-12, 'high');
  close(t, l.low, 0.10772278412491354, 1e-9, 'low, worked independently');
  t.equal(l.significant, true);
  const aa = proportionLift(500, 1000, 500, 1000)!;
  t.same([aa.lift, aa.significant], [0, false], 'A/A: no lift, the interval holds 0');
  t.ok(aa.low < 0 && aa.high > 0);
  t.ok(proportionLift(400, 1000, 500, 1000)!.high < 0, 'a drop: the interval lies below 0');
  t.equal(proportionLift(0, 1000, 500, 1000), null, 'no events: no log');
  t.equal(proportionLift(5, 0, 5, 10), null, 'no units');
  t.ok(Number.isFinite(proportionLift(12, 10, 10, 10)!.high), 'x > n (counts from two sources): the variance term is clamped, not NaN');
});

t.test('a mean\'s lift from sums and sums of squares, zeros counted', async (t) => {
  // Treatment: 10 units, 4 of them 3, the rest 0; control: 10 units, 2 of them 5, the rest 0.
  const treat = [3, 3, 3, 3, 0, 0, 0, 0, 0, 0];
  const ctrl = [5, 5, 0, 0, 0, 0, 0, 0, 0, 0];
  const stats = (v: number[]) => ({ n: v.length, sum: v.reduce((s, x) => s + x, 0), sumSquares: v.reduce((s, x) => s + x * x, 0) });
  const l = meanLift(stats(treat), stats(ctrl))!;
  const m1 = 1.2;
  const m0 = 1.0;
  const var1 = treat.reduce((s, x) => s + (x - m1) ** 2, 0) / 9 / 10 / (m1 * m1);
  const var0 = ctrl.reduce((s, x) => s + (x - m0) ** 2, 0) / 9 / 10 / (m0 * m0);
  close(t, l.lift, 0.2, 1e-12, 'lift');
  close(t, l.low, Math.exp(Math.log(1.2) - kZ95 * Math.sqrt(var1 + var0)) - 1, 1e-12, 'low, from the two-pass variance');
  close(t, l.high, Math.exp(Math.log(1.2) + kZ95 * Math.sqrt(var1 + var0)) - 1, 1e-12, 'high');
  t.equal(l.significant, false, 'ten units say little');
  t.equal(meanLift({ n: 1, sum: 5, sumSquares: 25 }, stats(ctrl)), null, 'one unit: no variance');
  t.equal(meanLift(stats(treat), { n: 10, sum: 0, sumSquares: 0 }), null, 'a control mean of 0');
});
