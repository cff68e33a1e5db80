/**
 * The statistics of the experiment report (experiment-report.ts), pure functions of counts.
 *
 * Sample-ratio mismatch (SRM): Pearson's chi-squared goodness of fit of the arms' request
 * counts against the counts their weights expect, chi2 = sum (observed - expected)^2 /
 * expected, with k - 1 degrees of freedom for k arms. The p-value is the chi-squared
 * survival function, Q(df/2, chi2/2), the regularized upper incomplete gamma function
 * (series for x < a + 1, Lentz's continued fraction beyond; Numerical Recipes 6.2), with
 * ln Gamma by Lanczos' approximation (g = 7, 9 terms; about 15 digits). A mismatch is flagged
 * below p = 0.001: with this many requests a real split misses its weights by more only
 * one time in a thousand, so the assignment (or the counting) is broken and no lift of that
 * experiment can be trusted.
 *
 * Lifts are relative, treatment / control - 1, with a 95% confidence interval from the
 * delta method on the log of the ratio (the log ratio is close to normal long before the
 * ratio is; the interval is exp(log r +- z se) - 1, so it is not symmetric around the lift):
 * - A proportion p = x / n (bid rate: requests with a bid / requests; win rate: wins /
 *   bids; CTR: clicks / wins): Var(log p) ~ (1 - p) / (n p) = 1/x - 1/n (binomial), and
 *   the two arms are independent, so se = sqrt(1/x1 - 1/n1 + 1/x0 - 1/n0). A term that
 *   comes out negative (x > n: counts from different sources, e.g. the last exposure
 *   interval not yet written) is taken as 0.
 * - A mean m = S / n over n units (spend per request: S the sum of per-request spend, and a
 *   request without a bill counts 0): sample variance s^2 = (SS - S^2 / n) / (n - 1) from the
 *   sum of squares SS, Var(m) = s^2 / n, and Var(log m) ~ Var(m) / m^2.
 * A lift is null where it cannot be estimated: an arm with no events in the numerator (log
 * of 0), no units, or (for means) fewer than two.
 */

/** The two-sided 95% quantile of the standard normal distribution. */
export const kZ95 = 1.959963984540054;
/** p-values below this flag a sample-ratio mismatch. */
export const kSrmThreshold = 0.001;

const kEpsilon = 1e-15;
const kTiny = 1e-300;
const kMaxIterations = 10_000;
const kLanczos = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Gamma(x) for x > 0 (Lanczos). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x); // reflection
  const z = x - 1;
  let a = kLanczos[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += kLanczos[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** P(a, x) by its series; x < a + 1. */
function gammaSeries(a: number, x: number): number {
  let ap = a;
  let del = 1 / a;
  let sum = del;
  for (let i = 0; i < kMaxIterations; i++) {
    ap += 1;
    del *= x / ap;
    sum += del;
    if (Math.abs(del) < Math.abs(sum) * kEpsilon) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
}

/** Q(a, x) by its continued fraction (modified Lentz); x >= a + 1. */
function gammaFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / kTiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < kMaxIterations; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (Math.abs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < kEpsilon) break;
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
}

/** The regularized lower incomplete gamma function P(a, x) = gamma(a, x) / Gamma(a); a > 0, x >= 0. */
export function regularizedGammaP(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) return Number.NaN;
  if (x === 0) return 0;
  if (x === Number.POSITIVE_INFINITY) return 1;
  return x < a + 1 ? gammaSeries(a, x) : 1 - gammaFraction(a, x);
}

/** The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x), computed without cancellation. */
export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) return Number.NaN;
  if (x === 0) return 1;
  if (x === Number.POSITIVE_INFINITY) return 0;
  return x < a + 1 ? 1 - gammaSeries(a, x) : gammaFraction(a, x);
}

/** P(X >= chi2) for X chi-squared with `df` degrees of freedom. */
export function chiSquaredPValue(chi2: number, df: number): number {
  if (!(df > 0)) return Number.NaN;
  if (!(chi2 > 0)) return 1;
  return regularizedGammaQ(df / 2, chi2 / 2);
}

export interface SrmResult {
  chi2: number;
  df: number;
  pValue: number;
  /** pValue < kSrmThreshold. */
  mismatch: boolean;
  /** The counts the weights expect, in the order given. */
  expected: number[];
}

/**
 * Chi-squared goodness of fit of `observed` counts against `weights` (any positive scale).
 * Null when it cannot be computed: fewer than two arms, a weight that is not positive, or
 * no requests at all.
 */
export function sampleRatioTest(observed: readonly number[], weights: readonly number[]): SrmResult | null {
  const k = observed.length;
  if (k < 2 || weights.length !== k || weights.some((w) => !(w > 0))) return null;
  const total = observed.reduce((s, n) => s + n, 0);
  if (!(total > 0)) return null;
  const weightSum = weights.reduce((s, w) => s + w, 0);
  const expected = weights.map((w) => (total * w) / weightSum);
  let chi2 = 0;
  for (let i = 0; i < k; i++) chi2 += (observed[i] - expected[i]) ** 2 / expected[i];
  const pValue = chiSquaredPValue(chi2, k - 1);
  return { chi2, df: k - 1, pValue, mismatch: pValue < kSrmThreshold, expected };
}

/** A relative lift, treatment / control - 1, with its 95% confidence interval. */
export interface Lift {
  /** Relative: 0.05 is +5%. */
  lift: number;
  low: number;
  high: number;
  /** The interval excludes 0. */
  significant: boolean;
}

function fromLog(logRatio: number, variance: number): Lift {
  const se = Math.sqrt(variance);
  const low = Math.exp(logRatio - kZ95 * se) - 1;
  const high = Math.exp(logRatio + kZ95 * se) - 1;
  return { lift: Math.exp(logRatio) - 1, low, high, significant: low > 0 || high < 0 };
}

/** The lift of proportion x1/n1 (treatment) over x0/n0 (control); null where it cannot be estimated. */
export function proportionLift(x1: number, n1: number, x0: number, n0: number): Lift | null {
  if (!(x1 > 0 && n1 > 0 && x0 > 0 && n0 > 0)) return null;
  const variance = Math.max(0, 1 / x1 - 1 / n1) + Math.max(0, 1 / x0 - 1 / n0);
  return fromLog(Math.log(x1 / n1 / (x0 / n0)), variance);
}

/** n units, the sum of their values, and the sum of their squares (units with value 0 count in n only). */
export interface MeanStats {
  n: number;
  sum: number;
  sumSquares: number;
}

/** Var(log mean) by the delta method; null for fewer than two units or a mean of 0. */
function logMeanVariance(s: MeanStats): number | null {
  if (!(s.n >= 2 && s.sum > 0)) return null;
  const mean = s.sum / s.n;
  const sampleVariance = Math.max(0, (s.sumSquares - (s.sum * s.sum) / s.n) / (s.n - 1));
  return sampleVariance / s.n / (mean * mean);
}

/** The lift of treatment's mean over control's; null where it cannot be estimated. */
export function meanLift(treatment: MeanStats, control: MeanStats): Lift | null {
  const v1 = logMeanVariance(treatment);
  const v0 = logMeanVariance(control);
  if (v1 === null || v0 === null) return null;
  return fromLog(Math.log(treatment.sum / treatment.n / (control.sum / control.n)), v1 + v0);
}
