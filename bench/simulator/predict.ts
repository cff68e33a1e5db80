/**
 * What the known truth predicts, with no bidder in the loop: the win probability, the
 * expected price paid and the expected surplus of a bid against a segment's log-normal
 * competition, the best shaded first-price bid, and the per-request figures of a whole
 * world under a bid strategy. Tests compare what a run observed with these.
 *
 * With c the highest competing bid, ln c ~ N(μ, σ²), μ = ln median, and F(x) = P(c < x) =
 * Φ((ln x − μ)/σ):
 *
 * - first price, bid b ≥ floor: win iff c < b, pay b. E[surplus] = (v − b)·F(b). Bidding
 *   one's value (b = v) gives exactly 0; the best shaded bid b* maximises (v − b)·F(b)
 *   over b in [floor, v] (a grid: the function is smooth and single-peaked there).
 * - second price: win iff c < b, pay max(c, floor). E[paid·1{win}] = floor·F(min(floor, b))
 *   + e^{μ+σ²/2}·[Φ((ln b − μ − σ²)/σ) − Φ((ln floor − μ − σ²)/σ)] for b > floor; bidding
 *   the value is optimal and earns E[(v − max(c, floor))⁺].
 */
import type { AuctionType, Competition, Segment, SimCampaign } from './types';

/**
 * A campaign's true value of one impression in `seg`, CPM USD: cpmUsd for a CPM goal,
 * cpcUsd × the segment's true ctr × 1000 for a CPC goal; either capped by maxCpmUsd.
 */
export function trueValueCpm(c: SimCampaign, seg: Pick<Segment, 'ctr'>): number {
  const v = c.goal.type === 'CPM' ? c.goal.cpmUsd : c.goal.cpcUsd * seg.ctr * 1000;
  return Math.min(v, c.maxCpmUsd);
}

/** Φ(x), the standard normal CDF, from erfc below (absolute error under 1e-7). */
export function normalCdf(x: number): number {
  if (x === Infinity) return 1;
  if (x === -Infinity) return 0;
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** erfc(x) (Numerical Recipes' `erfcc`, a Chebyshev fit: relative error under 1.2e-7 everywhere). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

/**
 * Φ⁻¹(p) for p in (0, 1) (P. J. Acklam's rational approximation, |relative error| < 1.2e-9).
 * p ≤ 0 gives −Infinity and p ≥ 1 +Infinity.
 */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pLow = 0.02425;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - pLow) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** The competing bid at quantile u: median·e^{σ·Φ⁻¹(u)}. How the world draws c from one uniform. */
export function competingQuantile(u: number, comp: Competition): number {
  return comp.median * Math.exp(comp.sigma * normalQuantile(u));
}

/** F(x) = P(c < x) under the competition's log-normal. */
export function competingCdf(x: number, comp: Competition): number {
  if (x <= 0) return 0;
  return normalCdf((Math.log(x) - Math.log(comp.median)) / comp.sigma);
}

/** E[c · 1{c < x}] under the log-normal (the partial expectation). */
function partialMean(x: number, comp: Competition): number {
  if (x <= 0) return 0;
  const mu = Math.log(comp.median);
  const s2 = comp.sigma * comp.sigma;
  return Math.exp(mu + s2 / 2) * normalCdf((Math.log(x) - mu - s2) / comp.sigma);
}

/** Expected figures of one bid, per request it is made on (CPM USD; not yet divided by 1000). */
export interface ExpectedOutcome {
  winProb: number;
  /** E[paid · 1{win}]. */
  paid: number;
  /** E[value · 1{win}]. */
  value: number;
  /** E[(value − paid) · 1{win}]. */
  surplus: number;
}

/**
 * The expected outcome of bidding `bid` for an impression worth `value` against a segment's
 * competition and floor. A bid under the floor never wins (the exchange refuses it).
 */
export function expectedOutcome(bid: number, value: number, seg: Pick<Segment, 'competition' | 'floor'>, at: AuctionType): ExpectedOutcome {
  if (!(bid > 0) || bid < seg.floor) return { winProb: 0, paid: 0, value: 0, surplus: 0 };
  const winProb = competingCdf(bid, seg.competition);
  let paid: number;
  if (at === 1) paid = bid * winProb;
  else {
    // c < floor: pay the floor; floor ≤ c < bid: pay c.
    const belowFloor = competingCdf(Math.min(seg.floor, bid), seg.competition);
    paid = seg.floor * belowFloor + Math.max(0, partialMean(bid, seg.competition) - partialMean(seg.floor, seg.competition));
  }
  return { winProb, paid, value: value * winProb, surplus: value * winProb - paid };
}

/** The best bid found on the grid, with its expected outcome. */
export interface OptimalBid {
  bid: number;
  outcome: ExpectedOutcome;
}

/**
 * The bid in [max(floor, (1 − maxShade)·value), value] with the largest expected surplus,
 * on a grid of `steps` points (ties go to the lower bid). In second price that is the value
 * itself; in first price the shaded price b*. A value under the floor bids nothing.
 */
export function optimalBid(value: number, seg: Pick<Segment, 'competition' | 'floor'>, at: AuctionType, maxShade = 1, steps = 2_000): OptimalBid {
  const none: OptimalBid = { bid: 0, outcome: { winProb: 0, paid: 0, value: 0, surplus: 0 } };
  if (!(value > 0) || value < seg.floor) return none;
  if (at === 2) return { bid: value, outcome: expectedOutcome(value, value, seg, at) };
  const lo = Math.max(seg.floor, (1 - Math.min(1, Math.max(0, maxShade))) * value);
  let best: OptimalBid = { bid: value, outcome: expectedOutcome(value, value, seg, at) };
  for (let i = 0; i <= steps; i++) {
    const b = lo + ((value - lo) * i) / steps;
    const o = expectedOutcome(b, value, seg, at);
    if (o.surplus > best.outcome.surplus) best = { bid: b, outcome: o };
  }
  return best;
}

/** How an ideal bidder that knows each impression's true value prices it. */
export type BidStrategy = { kind: 'truthful' } | { kind: 'optimal'; maxShade?: number } | { kind: 'shade'; factor: number };

/** Expected figures per request of one segment, or of the whole mix (USD per request). */
export interface PredictedFigures {
  /** P(a bid is made): the value reaches the floor. */
  bidRate: number;
  winRate: number;
  spendUsd: number;
  valueUsd: number;
  surplusUsd: number;
}

export interface Prediction {
  /** Per request over the traffic mix (segment weights). */
  perRequest: PredictedFigures;
  bySegment: Record<string, PredictedFigures & { campaignId: string | null; value: number; bid: number }>;
}

/** The campaigns that may bid in a segment (targeting by publisher). */
export function campaignsFor(seg: Segment, campaigns: readonly SimCampaign[]): SimCampaign[] {
  return campaigns.filter((c) => c.publisherIds === undefined || c.publisherIds.includes(seg.publisherId));
}

/**
 * The expected per-request figures of an ideal bidder: in each segment it bids for the
 * campaign of the highest true value (what a bidder with a perfect CTR model picks, as
 * the bidder takes the best-priced candidate), priced by `strategy`. Budgets and pacing
 * are not modelled.
 */
export function predict(segments: readonly Segment[], campaigns: readonly SimCampaign[], at: AuctionType, strategy: BidStrategy): Prediction {
  const total = segments.reduce((s, g) => s + g.weight, 0);
  const per: PredictedFigures = { bidRate: 0, winRate: 0, spendUsd: 0, valueUsd: 0, surplusUsd: 0 };
  const bySegment: Prediction['bySegment'] = {};
  for (const seg of segments) {
    let value = 0;
    let campaignId: string | null = null;
    for (const c of campaignsFor(seg, campaigns)) {
      const v = trueValueCpm(c, seg);
      if (v > value) {
        value = v;
        campaignId = c.id;
      }
    }
    let bid = 0;
    if (value >= seg.floor && value > 0) {
      if (strategy.kind === 'truthful') bid = value;
      else if (strategy.kind === 'optimal') bid = optimalBid(value, seg, at, strategy.maxShade ?? 1).bid;
      else bid = Math.max(seg.floor, value * strategy.factor);
    }
    const o = bid > 0 ? expectedOutcome(bid, value, seg, at) : { winProb: 0, paid: 0, value: 0, surplus: 0 };
    const f: PredictedFigures = { bidRate: bid > 0 ? 1 : 0, winRate: o.winProb, spendUsd: o.paid / 1000, valueUsd: o.value / 1000, surplusUsd: o.surplus / 1000 };
    bySegment[seg.id] = { ...f, campaignId, value, bid };
    const w = seg.weight / total;
    per.bidRate += w * f.bidRate;
    per.winRate += w * f.winRate;
    per.spendUsd += w * f.spendUsd;
    per.valueUsd += w * f.valueUsd;
    per.surplusUsd += w * f.surplusUsd;
  }
  return { perRequest: per, bySegment };
}
