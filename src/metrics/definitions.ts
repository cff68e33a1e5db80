/**
 * Every metric the bidder exports, defined once and shared by the front end and the
 * workers so both build the identical shared-memory layout. Label values are all
 * created here, before traffic arrives.
 */
import { ALL_NO_BID_REASONS } from '../decisioning/no-bid-reasons';
import { NOTICE_ANOMALIES, NOTICE_RESULTS } from '../notices/notice-request';
import { CONSENT_FORMATS, PRIVACY_OUTCOMES, PRIVACY_SIGNALS } from '../privacy/privacy-bits';
import { type CounterDef, type HistogramDef, MetricsLayout } from './shared-metrics';
import { kMaxModelSlots } from '../models/model-protocol';
import { kMaxArmSlots } from '../experiments/experiment-table';

/** Stages of a request, in the order it passes them. */
export const STAGES = ['receive', 'queue', 'score', 'respond', 'total'] as const;
export type Stage = (typeof STAGES)[number];

export const M = {
  requests: 'bidder_requests_total',
  bids: 'bidder_bids_total',
  bidPrice: 'bidder_bid_price_usd',
  stageDuration: 'bidder_request_stage_duration_seconds',
  batchSize: 'bidder_pool_batch_requests',
  workerBusy: 'bidder_pool_worker_busy_seconds_total',
  modelRun: 'bidder_model_inference_duration_seconds',
  modelRows: 'bidder_model_rows_total',
  scored: 'bidder_scored_requests_total',
  testRequests: 'bidder_test_requests_total',
  candidatesDropped: 'bidder_candidates_dropped_total',
  privacyRequests: 'bidder_privacy_requests_total',
  privacyMalformed: 'bidder_privacy_malformed_total',
  privacyDeferred: 'bidder_privacy_deferred_total',
  batches: 'bidder_batches_total',
  batchCost: 'bidder_batch_cost_seconds_total',
  notices: 'bidder_notices_total',
  noticesCounted: 'bidder_notices_counted_total',
  noticeAnomalies: 'bidder_notice_anomalies_total',
  noticeDelay: 'bidder_notice_delay_seconds',
  moneyNoBids: 'bidder_money_filtered_total',
  events: 'bidder_events_total',
  trackers: 'bidder_advertiser_trackers_total',
  fleet: 'bidder_fleet_operations_total',
  modelRuns: 'bidder_model_runs_total',
  modelScoredRows: 'bidder_model_scored_rows_total',
  modelRunSeconds: 'bidder_model_run_seconds_total',
  modelErrors: 'bidder_model_errors_total',
  shadowRows: 'bidder_shadow_rows_total',
  shadowActiveCtr: 'bidder_shadow_active_ctr_total',
  shadowCtr: 'bidder_shadow_ctr_total',
  shadowAbsDiff: 'bidder_shadow_abs_diff_total',
  shadowDropped: 'bidder_shadow_batches_skipped_total',
  armRequests: 'bidder_experiment_requests_total',
  armBids: 'bidder_experiment_bids_total',
  armWins: 'bidder_experiment_wins_total',
  armBills: 'bidder_experiment_bills_total',
  armSpend: 'bidder_experiment_spend_micros_total',
  armClicks: 'bidder_experiment_clicks_total',
  shading: 'bidder_shading_bids_total',
  shadingSaved: 'bidder_shading_saved_micros_total',
} as const;

/** Catalog slots with per-model series: the registry's bound. */
export const kModelMetricSlots = kMaxModelSlots;
/** Experiment-arm slots with per-arm series: the experiments' bound. */
export const kArmMetricSlots = kMaxArmSlots;
/**
 * What shading did with a first-price bid: shaded (priced below its value), at_value (the
 * optimum was the value, or the floor held it there), no_model (the segment and the
 * global model have too few observations yet), not_first_price (at = 2, or a deal).
 */
export const SHADING_RESULTS = ['shaded', 'at_value', 'no_model', 'not_first_price'] as const;

export const NOTICE_KINDS = ['win', 'bill', 'loss', 'click'] as const;
/** What the owner did with an accepted notice: counted once, or a repeat counted before. */
export const NOTICE_COUNTED = ['first', 'repeat'] as const;
/** The event log's records: written to the files, or dropped (ring full, disk too slow). */
export const EVENT_RESULTS = ['written', 'dropped_ring', 'dropped_slow_disk'] as const;
export const TRACKER_RESULTS = ['fired', 'failed', 'dropped'] as const;
/** Fleet (Redis) calls by outcome: a lease granted or refused, a call that failed (Redis down). */
export const FLEET_RESULTS = ['lease_granted', 'lease_empty', 'failed'] as const;
const NOTICE_DELAY_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600];

/** Where a batch was scored: a pool worker, or the front end's inline lane. */
export const LANES = ['pool', 'inline'] as const;

/**
 * Why an eligible candidate was not scored (candidate-cap.ts): it could never reach its
 * floor, or it fell outside bidding.maxCandidatesPerImp / maxCandidatesPerRequest.
 */
export const CANDIDATE_DROP_STAGES = ['below_floor', 'imp_cap', 'request_cap'] as const;

const LATENCY_BUCKETS_S = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];
const PRICE_BUCKETS_USD = [0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 50];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/**
 * The outcome of a request as one small integer that crosses the thread boundary:
 * 0 is a bid, then each no-bid reason, then each error code. Its label pair is
 * (outcome, reason) on bidder_requests_total.
 *
 * Test traffic (OpenRTB 2.6 3.2.1 `test` = 1) is answered like live traffic but counted
 * apart, on bidder_test_requests_total with the same label pairs: its outcome is the live
 * one plus `size`, so the integer alone tells the front end which counter to bump.
 */
export class OutcomeTable {
  readonly labels: [outcome: string, reason: string][] = [];
  private readonly index = new Map<string, number>();

  constructor(errorCodes: readonly string[]) {
    this.add('bid', 'none');
    for (const r of ALL_NO_BID_REASONS) this.add('no_bid', r);
    for (const c of errorCodes) this.add('error', c);
  }

  private add(outcome: string, reason: string): void {
    this.index.set(`${outcome}:${reason}`, this.labels.length);
    this.labels.push([outcome, reason]);
  }

  get bid(): number {
    return 0;
  }

  /** How many live outcomes there are; test outcomes are [size, 2 * size). */
  get size(): number {
    return this.labels.length;
  }

  /** The test-traffic twin of a live outcome. */
  test(outcome: number): number {
    return outcome + this.labels.length;
  }

  isTest(outcome: number): boolean {
    return outcome >= this.labels.length;
  }

  /** The (outcome, reason) pair of any outcome, live or test. */
  labelOf(outcome: number): readonly [outcome: string, reason: string] {
    return this.labels[outcome >= this.labels.length ? outcome - this.labels.length : outcome];
  }

  noBid(reason: string): number {
    return this.lookup('no_bid', reason);
  }

  error(code: string): number {
    return this.lookup('error', code);
  }

  private lookup(outcome: string, reason: string): number {
    const i = this.index.get(`${outcome}:${reason}`);
    if (i === undefined) throw new Error(`unknown outcome ${outcome}:${reason}`);
    return i;
  }
}

/** Counters with one series per slot, exported under the slot's current labels (registry.ts). */
function slotCounters(relabel: 'model' | 'arm', slots: number, defs: [name: string, help: string][]): CounterDef[] {
  const series = Array.from({ length: slots }, (_, i) => [String(i)]);
  return defs.map(([name, help]) => ({ name, help, labelNames: [relabel === 'model' ? 'model_slot' : 'arm_slot'], series, relabel }));
}

export function buildMetricsLayout(outcomes: OutcomeTable, maxWorkerSlots: number): MetricsLayout {
  const counters: CounterDef[] = [
    {
      name: M.requests,
      help: 'Bid requests answered, by outcome (bid, no_bid, error) and reason (no-bid reason or error code).',
      labelNames: ['outcome', 'reason'],
      series: outcomes.labels,
    },
    {
      name: M.testRequests,
      help: 'Test bid requests (test = 1) answered, by outcome and reason as bidder_requests_total; counted only here, and their bids are not in bidder_bids_total or the price histogram.',
      labelNames: ['outcome', 'reason'],
      series: outcomes.labels,
    },
    { name: M.bids, help: 'Bids returned to live requests (one per winning impression).', labelNames: [], series: [[]] },
    {
      name: M.workerBusy,
      help: 'Seconds each pool worker spent processing batches.',
      labelNames: ['worker'],
      series: Array.from({ length: maxWorkerSlots }, (_, i) => [String(i + 1)]),
    },
    { name: M.modelRows, help: 'Candidate rows scored by the model.', labelNames: [], series: [[]] },
    {
      name: M.batches,
      help: 'Light batches by placement (src/pool/placement.ts): scored on the acceptor that received them (inline) or in the pool; heavy batches (pool.heavyBodyBytes) count as pool.',
      labelNames: ['placement'],
      series: LANES.map((l) => [l]),
    },
    {
      name: M.batchCost,
      help: 'Compute time of placed batches, as the placement estimated it when it decided and as measured where they ran; estimated / measured per placement shows how well the cost model holds.',
      labelNames: ['placement', 'kind'],
      series: LANES.flatMap((l) => [[l, 'estimated'], [l, 'measured']]),
    },
    {
      name: M.scored,
      help: 'Requests run through the bid engine, by lane: a pool worker, or the front end itself (inline lane, light load).',
      labelNames: ['lane'],
      series: LANES.map((l) => [l]),
    },
    {
      name: M.candidatesDropped,
      help: 'Eligible candidates not scored: below_floor (could never reach the floor), imp_cap and request_cap (bidding.maxCandidatesPerImp, maxCandidatesPerRequest).',
      labelNames: ['stage'],
      series: CANDIDATE_DROP_STAGES.map((s) => [s]),
    },
    {
      name: M.privacyRequests,
      help: 'Bid requests by primary privacy signal (the most restrictive: coppa, gdpr_no_consent, us_privacy_opt_out, gpp_opt_out, lmt, then gdpr_consent, none) and outcome (bid, no_bid, error).',
      labelNames: ['signal', 'outcome'],
      series: PRIVACY_SIGNALS.flatMap((s) => PRIVACY_OUTCOMES.map((o) => [s, o])),
    },
    {
      name: M.privacyMalformed,
      help: 'Bid requests carrying a consent string that did not decode (tcf, gpp, us_privacy); each counts as no consent or an opt-out.',
      labelNames: ['format'],
      series: CONSENT_FORMATS.map((f) => [f]),
    },
    {
      name: M.privacyDeferred,
      help: 'Requests the inline lane handed to the pool because their consent string was not yet decoded (the front-end thread never decodes).',
      labelNames: [],
      series: [[]],
    },
    {
      name: M.notices,
      help: 'Notices received on /notice/{win,bill,loss}, by kind and answer: accepted (204, repeats too), malformed (400), forged (403: the token does not verify), expired (410), busy (503: the money owner is behind).',
      labelNames: ['kind', 'result'],
      series: NOTICE_KINDS.flatMap((k) => NOTICE_RESULTS.map((r) => [k, r])),
    },
    {
      name: M.noticesCounted,
      help: 'Accepted notices as the money owner counted them: first (counted: a win, a bill that spends, a loss that releases) or repeat (an exchange retry, counted before; nothing moves).',
      labelNames: ['kind', 'counted'],
      series: NOTICE_KINDS.flatMap((k) => NOTICE_COUNTED.map((c) => [k, c])),
    },
    {
      name: M.noticeAnomalies,
      help: 'Accepted notices whose figures were not taken as given: a clearing price above the bid (capped at the bid), missing or not a number (a bill then charges the bid price), another currency, another auction id.',
      labelNames: ['anomaly'],
      series: NOTICE_ANOMALIES.map((a) => [a]),
    },
    {
      name: M.moneyNoBids,
      help: 'Candidates the money gate kept out before scoring (paced: even pacing throttled the campaign; budget: nothing left to reserve; capped: frequency cap reached) and bids refused at reservation (reserve_failed).',
      labelNames: ['reason'],
      series: [['paced'], ['budget'], ['capped'], ['reserve_failed']],
    },
    {
      name: M.events,
      help: 'Event-log records (bids, wins, bills, losses): written, or dropped because a ring was full or the disk too slow; the bid path never waits for the log.',
      labelNames: ['result'],
      series: EVENT_RESULTS.map((r) => [r]),
    },
    {
      name: M.trackers,
      help: "Advertiser trackers (a creative's own nurl/burl/lurl) fired by the bidder when our notice was first counted: fired, failed (error, timeout, non-2xx/3xx) or dropped (too many in flight).",
      labelNames: ['result'],
      series: TRACKER_RESULTS.map((r) => [r]),
    },
    {
      name: M.fleet,
      help: 'Fleet state calls to Redis: budget leases granted, leases refused for want of budget, and calls that failed (Redis down or slow).',
      labelNames: ['result'],
      series: FLEET_RESULTS.map((r) => [r]),
    },
    ...slotCounters('model', kModelMetricSlots, [
      [M.modelRuns, 'session.run calls by model (active, canary, or an arm\'s model; the shadow\'s are bidder_shadow_rows_total).'],
      [M.modelScoredRows, 'Candidate rows scored, by model.'],
      [M.modelRunSeconds, 'Seconds spent in session.run, by model: with bidder_model_runs_total, its mean run time (the canary\'s latency bound).'],
      [M.modelErrors, 'session.run calls that failed, by model (their requests were answered 204 worker_failed).'],
      [M.shadowRows, 'Rows the shadow model scored after the answers were written, by shadow model.'],
      [M.shadowActiveCtr, 'Sum of the active model\'s predicted CTR over the rows the shadow also scored, by shadow model.'],
      [M.shadowCtr, 'Sum of the shadow model\'s predicted CTR over the same rows, by shadow model.'],
      [M.shadowAbsDiff, 'Sum of |shadow - active| predicted CTR over the same rows, by shadow model.'],
    ]),
    ...slotCounters('arm', kArmMetricSlots, [
      [M.armRequests, 'Live bid requests assigned to each experiment arm (one per experiment a request is in).'],
      [M.armBids, 'Bids made for requests assigned to each arm.'],
      [M.armWins, 'Win notices first counted, by the arm of their bid.'],
      [M.armBills, 'Billing notices first counted, by the arm of their bid.'],
      [M.armSpend, 'Spend in micro-USD by the arm of the billed bid.'],
      [M.armClicks, 'Click notices first counted, by the arm of their bid.'],
    ]),
    {
      name: M.shadowDropped,
      help: 'Batches sampled for the shadow model that it did not score (the thread had a shadow batch still pending).',
      labelNames: [],
      series: [[]],
    },
    {
      name: M.shading,
      help: 'First-price bid shading, per winning candidate of a shading arm: shaded, at_value, no_model (too few observations yet), not_first_price (at = 2 or a deal: never shaded).',
      labelNames: ['result'],
      series: SHADING_RESULTS.map((r) => [r]),
    },
    { name: M.shadingSaved, help: 'Sum over shaded bids of (value - shaded price), CPM micro-units of the bid currency.', labelNames: [], series: [[]] },
  ];
  const histograms: HistogramDef[] = [
    {
      name: M.noticeDelay,
      help: 'Seconds from a bid to its first counted notice, by kind (win, bill, loss).',
      labelNames: ['kind'],
      series: NOTICE_KINDS.map((k) => [k]),
      buckets: NOTICE_DELAY_BUCKETS_S,
    },
    {
      name: M.stageDuration,
      help: 'Time spent in each stage of a bid request (receive, queue, score, respond, total).',
      labelNames: ['stage'],
      series: STAGES.map((s) => [s]),
      buckets: LATENCY_BUCKETS_S,
    },
    { name: M.bidPrice, help: 'Prices of bids to live requests (CPM, USD).', labelNames: [], series: [[]], buckets: PRICE_BUCKETS_USD },
    { name: M.batchSize, help: 'Requests per batch (pool task or inline-lane run).', labelNames: [], series: [[]], buckets: BATCH_BUCKETS },
    {
      name: M.modelRun,
      help: 'Duration of one batched model run (session.run) in a worker.',
      labelNames: [],
      series: [[]],
      buckets: LATENCY_BUCKETS_S,
    },
  ];
  return new MetricsLayout(counters, histograms);
}
