/**
 * The simulator's books: what each experiment arm (and each campaign) really got, kept
 * from the truth the bidder never sees.
 *
 * The value of a won impression is the campaign's: for a CPM campaign its cpmUsd, for a
 * CPC campaign cpcUsd × the segment's TRUE ctr × 1000; either capped by maxCpmUsd. Then
 *
 *   value acquired = Σ value / 1000,   surplus = Σ (value − paid) / 1000   over wins (USD).
 *
 * In a first-price auction a bidder that bids its value pays its value on every win, so
 * its surplus is 0 however much it wins: surplus alone cannot rank two arms there. Arms
 * are compared at equal spend by value acquired per dollar: at equal spend S, surplus =
 * value − S, so a surplus gain is exactly a value gain. A CPC bidder whose model over- or
 * under-predicts the CTR bids above or below the true value, so its surplus can be
 * negative, or positive without any shading.
 *
 * Requests are attributed to an arm by the token of their bid (claims.arm); a no-bid has no
 * token, so it goes to the arm its user was seen in (experiments bucket by user), or to
 * '?' when that user never got a bid. Without experiments every request is arm ''.
 */
import { expectedOutcome } from './predict';
import type { ArmFigures, ArmSummary, AuctionType, Segment, SimulationResult } from './types';

export { trueValueCpm } from './predict';

/** The arm of requests whose user was never seen in a bid. */
export const kUnattributed = '?';

/** What the bidder charges for one billed impression: the clearing CPM (in 1e-4 units) / 1000, rounded up to the micro-USD. */
export function billMicros(paid4: number): number {
  return Math.ceil(paid4 / 10);
}

export function emptyFigures(): ArmFigures {
  return {
    requests: 0, bids: 0, wins: 0, losses: 0, clicks: 0, bidCpmSum: 0, valueCpmSum: 0, spendUsd: 0, spendMicros: 0, valueUsd: 0, surplusUsd: 0,
    expectedWins: 0, winsVariance: 0, expectedSpendUsd: 0, expectedSurplusUsd: 0,
  };
}

export function summarize(f: ArmFigures): ArmSummary {
  const div = (a: number, b: number): number => (b > 0 ? a / b : 0);
  return {
    ...f,
    bidRate: div(f.bids, f.requests),
    winRate: div(f.wins, f.bids),
    avgBidCpmUsd: div(f.bidCpmSum, f.bids),
    bidToValue: div(f.bidCpmSum, f.valueCpmSum),
    cpmUsd: div(f.spendUsd * 1000, f.wins),
    valuePerDollar: div(f.valueUsd, f.spendUsd),
    surplusPerRequestUsd: div(f.surplusUsd, f.requests),
    ctr: div(f.clicks, f.wins),
  };
}

function add(into: ArmFigures, from: ArmFigures): void {
  for (const k of Object.keys(into) as (keyof ArmFigures)[]) into[k] += from[k];
}

/** Everything the books need to know about one bid. */
export interface BidEntry {
  user: number;
  arm: string;
  campaignId: string;
  /** The bid price, CPM USD. */
  price: number;
  /** Its true value, CPM USD. */
  value: number;
  segment: Segment;
}

export class TruthLedger {
  private readonly arms = new Map<string, ArmFigures>();
  private readonly campaigns = new Map<string, ArmFigures>();
  private readonly segments = new Map<string, ArmFigures>();
  /** The arm each user was last seen in (by the tokens of their bids). */
  private readonly userArm = new Map<number, string>();
  /** Requests that got no bid, by user: attributed at the end. */
  private readonly noBidUsers: number[] = [];

  constructor(private readonly at: AuctionType, private readonly experimentsOn: boolean) {}

  private figures(map: Map<string, ArmFigures>, key: string): ArmFigures {
    let f = map.get(key);
    if (f === undefined) map.set(key, (f = emptyFigures()));
    return f;
  }

  /** The books one bid's events go into: its arm's, its campaign's, its segment's. */
  private books(arm: string, campaignId: string, segmentId: string): ArmFigures[] {
    return [this.figures(this.arms, arm), this.figures(this.campaigns, campaignId), this.figures(this.segments, segmentId)];
  }

  /** A request answered without a bid (or not answered at all). */
  noBid(user: number, segmentId: string): void {
    this.noBidUsers.push(user);
    this.figures(this.segments, segmentId).requests++;
  }

  bid(e: BidEntry): void {
    this.userArm.set(e.user, e.arm);
    const o = expectedOutcome(e.price, e.value, e.segment, this.at);
    for (const f of this.books(e.arm, e.campaignId, e.segment.id)) {
      f.requests++;
      f.bids++;
      f.bidCpmSum += e.price;
      f.valueCpmSum += e.value;
      f.expectedWins += o.winProb;
      f.winsVariance += o.winProb * (1 - o.winProb);
      f.expectedSpendUsd += o.paid / 1000;
      f.expectedSurplusUsd += o.surplus / 1000;
    }
  }

  /** A win billed at `paid4` (ten-thousandths of a CPM) for an impression worth `value` (CPM). */
  win(arm: string, campaignId: string, segmentId: string, paid4: number, value: number): void {
    const paid = paid4 / 10_000;
    for (const f of this.books(arm, campaignId, segmentId)) {
      f.wins++;
      f.spendUsd += paid / 1000;
      f.spendMicros += billMicros(paid4);
      f.valueUsd += value / 1000;
      f.surplusUsd += (value - paid) / 1000;
    }
  }

  loss(arm: string, campaignId: string, segmentId: string): void {
    for (const f of this.books(arm, campaignId, segmentId)) f.losses++;
  }

  click(arm: string, campaignId: string, segmentId: string): void {
    for (const f of this.books(arm, campaignId, segmentId)) f.clicks++;
  }

  /** The books closed: no-bid requests attributed, per experiment figures derived from the arm claims. */
  finish(): Pick<SimulationResult, 'arms' | 'experiments' | 'campaigns' | 'segments'> {
    for (const user of this.noBidUsers) {
      const arm = this.experimentsOn ? (this.userArm.get(user) ?? kUnattributed) : '';
      this.figures(this.arms, arm).requests++;
    }
    this.noBidUsers.length = 0;
    const byExperiment = new Map<string, Map<string, ArmFigures>>();
    for (const [claim, f] of this.arms) {
      if (claim === '' || claim === kUnattributed) continue;
      for (const pair of claim.split(',')) {
        const colon = pair.indexOf(':');
        const exp = colon < 0 ? pair : pair.slice(0, colon);
        const arm = colon < 0 ? '' : pair.slice(colon + 1);
        let m = byExperiment.get(exp);
        if (m === undefined) byExperiment.set(exp, (m = new Map()));
        add(this.figures(m, arm), f);
      }
    }
    const byKey = ([a]: [string, unknown], [b]: [string, unknown]): number => (a < b ? -1 : a > b ? 1 : 0);
    const out = (m: Map<string, ArmFigures>): Record<string, ArmSummary> => Object.fromEntries([...m].sort(byKey).map(([k, f]) => [k, summarize(f)]));
    return {
      arms: out(this.arms),
      experiments: Object.fromEntries([...byExperiment].sort(byKey).map(([k, m]) => [k, out(m)])),
      campaigns: out(this.campaigns),
      segments: out(this.segments),
    };
  }
}
