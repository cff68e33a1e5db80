/**
 * The A/B experiment report: per experiment and arm, figures from decoded event records
 * (src/codec/event-records.ts), and each arm's lift over the control (experiment-stats.ts).
 *
 * Which arm a record belongs to: its `arm` field, comma-separated `experimentId:armId`
 * pairs (split at the first ':', so an experiment id holds none), one record counting for
 * every pair. A notice (win, bill, click) carries the arms of its bid, so most figures need
 * no join; a notice without arms takes its bid's (matched by bid id), and a bid without arms
 * takes the first arms one of its notices carries. Test records (OpenRTB test = 1) are left
 * out. Per arm:
 * - requests: the sum of its exposure records' counts (every instance writes one now and
 *   then, per arm it assigned requests to); bidding requests: distinct request ids among its
 *   bids; bid rate = bidding requests / requests (a request with two bids is one).
 * - bids, wins, bills, clicks: the records of those kinds; win rate = wins / bids; CTR =
 *   clicks / wins, only for an experiment with a click record (else the bidder was not
 *   counting clicks, and 0 would be a lie).
 * - spend: the sum of bills' cost (micro-USD, shown in USD); eCPM = spend / bills x 1000;
 *   spend per request = spend / requests, each request's bills summed into one value and a
 *   request without a bill counting 0 (the mean's variance needs the per-request sums).
 * - surplus: over billed bids whose value (the bid's unshaded value_micros) and clearing
 *   price are known, the sum of (value - clearing) / 1000 per impression, in the bid's
 *   currency. An approximation: the value is the model's estimate, not what the impression
 *   proved to be worth, and the clearing price is what the exchange reported (fees, and a
 *   second price the exchange does not report, are not in it).
 * Control: the arm the exposure records flag as control (several: the first by arm id),
 * unless the caller names one. The sample-ratio check covers the arms with exposure
 * records, against the weights they report (the last non-zero one seen per arm). It counts
 * requests: in an experiment bucketed by user where users return, a user's requests all
 * fall in one arm, so the counts vary more than a chi-squared over independent requests
 * assumes: with k requests per user the statistic is inflated about k-fold (more when
 * users differ), so the check flags too readily. A flag there calls for a look at the
 * users, not a verdict; per-request experiments and one-request-per-user windows are
 * tested as the statistic assumes.
 */
import type { DecodedEvent } from '../codec/event-records';
import { meanLift, proportionLift, sampleRatioTest, type Lift, type MeanStats, type SrmResult } from './experiment-stats';

export interface ArmPair {
  experimentId: string;
  armId: string;
}

/** `e1:A,e2:B` -> pairs; '' -> none. Pairs without an experiment or arm id are dropped (see `malformed`). */
export function parseArmList(arm: string): { pairs: ArmPair[]; malformed: number } {
  const pairs: ArmPair[] = [];
  let malformed = 0;
  if (arm === '') return { pairs, malformed };
  for (const part of arm.split(',')) {
    const colon = part.indexOf(':');
    if (colon <= 0 || colon === part.length - 1) {
      malformed++;
      continue;
    }
    pairs.push({ experimentId: part.slice(0, colon), armId: part.slice(colon + 1) });
  }
  return { pairs, malformed };
}

/** Surplus in one currency. */
export interface SurplusFigure {
  currency: string;
  /** Currency units (not micro-units). */
  amount: number;
  /** The billed impressions it sums over (those whose value and clearing price are known). */
  impressions: number;
}

/** Each non-control arm's relative lift over the control; null where it cannot be estimated. */
export interface ArmLifts {
  bidRate: Lift | null;
  winRate: Lift | null;
  ctr: Lift | null;
  spendPerRequest: Lift | null;
}

export interface ArmReport {
  armId: string;
  control: boolean;
  /** The configured weight its exposure records report; 0 unknown. */
  weight: number;
  requests: number;
  /** Distinct requests with at least one bid. */
  biddingRequests: number;
  bids: number;
  wins: number;
  bills: number;
  clicks: number;
  /** biddingRequests / requests; null without requests. */
  bidRate: number | null;
  /** wins / bids; null without bids. */
  winRate: number | null;
  /** clicks / wins; null without wins or when the experiment has no click record. */
  ctr: number | null;
  spendUsd: number;
  /** spendUsd / requests; null without requests. */
  spendPerRequestUsd: number | null;
  /** spendUsd / bills x 1000; null without bills. */
  ecpmUsd: number | null;
  surplus: SurplusFigure[];
  /** null for the control, and when the experiment has none. */
  lift: ArmLifts | null;
}

export interface ExperimentReport {
  experimentId: string;
  controlArmId: string | null;
  /** Where the control came from: the exposure records' flag, the caller's option, or none found. */
  controlSource: 'flag' | 'option' | 'none';
  /** Any click record: CTR is reported. */
  hasClicks: boolean;
  /** The sample-ratio check; null where it cannot be made (fewer than two arms with exposures, a weight unknown). */
  srm: SrmResult | null;
  /** The control first, then by arm id. */
  arms: ArmReport[];
}

export interface ReportOptions {
  /** Only this experiment. */
  experimentId?: string;
  /** The control arm's id, overriding the exposure records' flag (for each experiment that has such an arm). */
  controlArmId?: string;
}

export interface ReportCounts {
  /** Records given to add(). */
  records: number;
  /** Of those, OpenRTB test traffic, left out. */
  testRecords: number;
  /** Arm pairs that are not `experimentId:armId`, left out. */
  malformedArms: number;
}

interface BidInfo {
  pairs: ArmPair[];
  requestId: string;
  valueMicros: number;
  currency: string;
}

interface NoticeInfo {
  kind: 'win' | 'bill' | 'click';
  bidId: string;
  pairs: ArmPair[];
  requestId: string;
  costMicros: number;
  clearingMicros: number;
  valueMicros: number;
  currency: string;
}

interface ArmAcc {
  requests: number;
  weight: number;
  control: boolean;
  exposed: boolean;
  bids: number;
  biddingRequests: Set<string>;
  wins: number;
  bills: number;
  clicks: number;
  spendMicros: number;
  spendByRequest: Map<string, number>;
  surplus: Map<string, { micros: number; impressions: number }>;
}

const kNoPairs: ArmPair[] = [];

/**
 * Collects records (add), then reports (report). Bids and notices are kept until report()
 * so that a notice read before its bid (files of several instances) still joins.
 */
export class ExperimentReportBuilder {
  private readonly parsed = new Map<string, ArmPair[]>();
  /** Every bid, and the bids by id for the join (a repeated id: the last). */
  private readonly bidList: BidInfo[] = [];
  private readonly bids = new Map<string, BidInfo>();
  private readonly notices: NoticeInfo[] = [];
  private readonly exposures: { pair: ArmPair; count: number; weight: number; control: boolean }[] = [];
  private readonly c: ReportCounts = { records: 0, testRecords: 0, malformedArms: 0 };

  get counts(): ReportCounts {
    return { ...this.c };
  }

  add(r: DecodedEvent): void {
    this.c.records++;
    if (r.test) {
      this.c.testRecords++;
      return;
    }
    const pairs = this.pairsOf(r.arm);
    switch (r.kind) {
      case 'exposure':
        for (const pair of pairs) this.exposures.push({ pair, count: r.count, weight: r.weight, control: r.control });
        return;
      case 'bid': {
        const info: BidInfo = { pairs, requestId: r.requestId, valueMicros: r.valueMicros, currency: r.currency };
        this.bidList.push(info);
        if (r.bidId !== '') this.bids.set(r.bidId, info);
        return;
      }
      case 'win':
      case 'bill':
      case 'click':
        this.notices.push({
          kind: r.kind, bidId: r.bidId, pairs, requestId: r.requestId, costMicros: r.costMicros, clearingMicros: r.clearingMicros,
          valueMicros: r.valueMicros, currency: r.currency,
        });
        return;
      default: // loss, shadow: no figure of this report
    }
  }

  report(options: ReportOptions = {}): ExperimentReport[] {
    const experiments = new Map<string, Map<string, ArmAcc>>();
    const accOf = (p: ArmPair): ArmAcc => {
      let arms = experiments.get(p.experimentId);
      if (arms === undefined) experiments.set(p.experimentId, (arms = new Map()));
      let a = arms.get(p.armId);
      if (a === undefined) {
        a = {
          requests: 0, weight: 0, control: false, exposed: false, bids: 0, biddingRequests: new Set(), wins: 0, bills: 0, clicks: 0,
          spendMicros: 0, spendByRequest: new Map(), surplus: new Map(),
        };
        arms.set(p.armId, a);
      }
      return a;
    };
    const wanted = (p: ArmPair): boolean => options.experimentId === undefined || p.experimentId === options.experimentId;

    for (const e of this.exposures) {
      if (!wanted(e.pair)) continue;
      const a = accOf(e.pair);
      a.exposed = true;
      a.requests += e.count;
      if (e.weight > 0) a.weight = e.weight;
      if (e.control) a.control = true;
    }
    // Join: a bid without arms takes its first notice's; a notice without arms takes its bid's.
    for (const n of this.notices) {
      const bid = this.bids.get(n.bidId);
      if (bid === undefined) continue;
      if (bid.pairs.length === 0 && n.pairs.length > 0) bid.pairs = n.pairs;
      else if (n.pairs.length === 0) n.pairs = bid.pairs;
    }
    for (const b of this.bidList) {
      for (const p of b.pairs) {
        if (!wanted(p)) continue;
        const a = accOf(p);
        a.bids++;
        a.biddingRequests.add(b.requestId);
      }
    }
    for (const n of this.notices) {
      for (const p of n.pairs) {
        if (!wanted(p)) continue;
        const a = accOf(p);
        if (n.kind === 'win') a.wins++;
        else if (n.kind === 'click') a.clicks++;
        else {
          a.bills++;
          a.spendMicros += n.costMicros;
          a.spendByRequest.set(n.requestId, (a.spendByRequest.get(n.requestId) ?? 0) + n.costMicros);
          const bid = this.bids.get(n.bidId);
          const value = n.valueMicros >= 0 ? n.valueMicros : bid?.valueMicros ?? -1;
          if (value >= 0 && n.clearingMicros >= 0) {
            const currency = n.currency !== '' ? n.currency : bid?.currency ?? '';
            const s = a.surplus.get(currency) ?? { micros: 0, impressions: 0 };
            s.micros += (value - n.clearingMicros) / 1000;
            s.impressions++;
            a.surplus.set(currency, s);
          }
        }
      }
    }

    const out: ExperimentReport[] = [];
    for (const [experimentId, arms] of [...experiments].sort((x, y) => compare(x[0], y[0]))) {
      out.push(experimentReport(experimentId, arms, options.controlArmId));
    }
    return out;
  }

  private pairsOf(arm: string): ArmPair[] {
    if (arm === '') return kNoPairs;
    let pairs = this.parsed.get(arm);
    if (pairs === undefined) {
      const p = parseArmList(arm);
      pairs = p.pairs;
      if (this.parsed.size < 10_000) this.parsed.set(arm, pairs);
      this.c.malformedArms += p.malformed;
    }
    return pairs;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function ratio(x: number, n: number): number | null {
  return n > 0 ? x / n : null;
}

function spendStats(a: ArmAcc): MeanStats {
  let sumSquares = 0;
  for (const v of a.spendByRequest.values()) sumSquares += v * v;
  return { n: Math.max(a.requests, a.spendByRequest.size), sum: a.spendMicros, sumSquares };
}

function experimentReport(experimentId: string, arms: Map<string, ArmAcc>, controlOption: string | undefined): ExperimentReport {
  const ids = [...arms.keys()].sort(compare);
  let controlArmId: string | null = null;
  let controlSource: ExperimentReport['controlSource'] = 'none';
  if (controlOption !== undefined && arms.has(controlOption)) {
    controlArmId = controlOption;
    controlSource = 'option';
  } else {
    const flagged = ids.find((id) => arms.get(id)!.control);
    if (flagged !== undefined) {
      controlArmId = flagged;
      controlSource = 'flag';
    }
  }
  const hasClicks = ids.some((id) => arms.get(id)!.clicks > 0);
  const exposed = ids.filter((id) => arms.get(id)!.exposed);
  const srm = sampleRatioTest(exposed.map((id) => arms.get(id)!.requests), exposed.map((id) => arms.get(id)!.weight));
  const control = controlArmId === null ? undefined : arms.get(controlArmId)!;
  const controlSpend = control === undefined ? undefined : spendStats(control);
  const order = controlArmId === null ? ids : [controlArmId, ...ids.filter((id) => id !== controlArmId)];
  const reports = order.map((armId): ArmReport => {
    const a = arms.get(armId)!;
    const isControl = armId === controlArmId;
    const spend = spendStats(a);
    let lift: ArmLifts | null = null;
    if (control !== undefined && controlSpend !== undefined && !isControl) {
      lift = {
        bidRate: proportionLift(a.biddingRequests.size, a.requests, control.biddingRequests.size, control.requests),
        winRate: proportionLift(a.wins, a.bids, control.wins, control.bids),
        ctr: hasClicks ? proportionLift(a.clicks, a.wins, control.clicks, control.wins) : null,
        spendPerRequest: meanLift(spend, controlSpend),
      };
    }
    return {
      armId,
      control: isControl,
      weight: a.weight,
      requests: a.requests,
      biddingRequests: a.biddingRequests.size,
      bids: a.bids,
      wins: a.wins,
      bills: a.bills,
      clicks: a.clicks,
      bidRate: ratio(a.biddingRequests.size, a.requests),
      winRate: ratio(a.wins, a.bids),
      ctr: hasClicks ? ratio(a.clicks, a.wins) : null,
      spendUsd: a.spendMicros / 1e6,
      spendPerRequestUsd: a.requests > 0 ? a.spendMicros / spend.n / 1e6 : null,
      ecpmUsd: a.bills > 0 ? a.spendMicros / a.bills / 1000 : null,
      surplus: [...a.surplus].sort((x, y) => compare(x[0], y[0]))
        .map(([currency, s]) => ({ currency, amount: s.micros / 1e6, impressions: s.impressions })),
      lift,
    };
  });
  return { experimentId, controlArmId, controlSource, hasClicks, srm, arms: reports };
}

/** The report of `records` in one call. */
export function buildExperimentReport(records: Iterable<DecodedEvent>, options: ReportOptions = {}): { experiments: ExperimentReport[]; counts: ReportCounts } {
  const b = new ExperimentReportBuilder();
  for (const r of records) b.add(r);
  return { experiments: b.report(options), counts: b.counts };
}
