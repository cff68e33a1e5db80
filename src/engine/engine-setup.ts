/**
 * The engine factory: the one place a BidEngine is made (createEngine), and the warmed
 * engine every scoring thread builds from what it is given (WorkerInit): campaigns
 * indexed, an onnxruntime session per model built from the shared model bytes and
 * warmed, and the whole bid path warmed on sample requests so the first real requests
 * are not the slow ones. Used by every pool worker, every acceptor's inline lane, and the
 * benchmark's peers. The warm-up also measures what a batch costs on this thread
 * (WarmCosts): the placement's first estimates, before live batches refine them.
 */
import { readBatchReply, ReplyWriter } from '../codec/reply-batch';
import { CampaignIndex } from '../decisioning/campaign-index';
import { parseCampaigns } from '../decisioning/campaign-loader';
import { M, type OutcomeTable } from '../metrics/definitions';
import { SlotWriter } from '../metrics/shared-metrics';
import type { WorkerInit } from '../pool/worker-init';
import { ConsentResolver, kDefaultConsentCacheEntries, type ConsentMode } from '../privacy/consent-resolver';
import { ConsentTable } from '../privacy/consent-table';
import { BidEngine, type BidEventSink, type EngineOptions } from './bid-engine';
import { monoNowMs } from '../util/clock';
import { createScorer, type Scorer } from './onnx-scorer';
import { EngineControl, FixedModels, type ModelSource } from './engine-control';
import { emptyExperiments } from '../experiments/experiment-table';
import { kMaxModelSlots } from '../models/model-protocol';
import { WARM_REQUESTS } from './warm-requests';
import { NoticeUrls } from '../notices/notice-urls';
import { MoneyGate } from '../money/money-gate';
import { BudgetLedger } from '../money/budget-ledger';
import { FrequencyCaps } from '../money/frequency-caps';
import { noticeKeyOf } from '../money/money-shared';
import { BidEvents } from '../money/bid-events';
import { threadId } from 'node:worker_threads';

/** Rounds of the sample requests run through the engine before it serves. */
const kWarmRounds = 200;

export interface EngineSetup {
  init: Pick<WorkerInit, 'models' | 'catalogVersion' | 'activeModel' | 'campaignsJson' | 'bidding' | 'maxBodyBytes' | 'maxModelRows' | 'testHooks' | 'receiveSlab'>
    // Optional so tools can build an engine alone: no privacy section means no vendor id
    // (GDPR never consents), no table means this engine's caches are its own, no money
    // means bids without notice URLs or budgets.
    & Partial<Pick<WorkerInit, 'privacy' | 'consentTable' | 'money' | 'modelControl' | 'modelChannel' | 'experiments' | 'winRates'>>;
  outcomes: OutcomeTable;
  metrics: SlotWriter;
  idPrefix: string;
  /**
   * 'decode' (a pool worker, and the default): decode consent strings and publish them to
   * the shared table. 'defer' (the inline lane, src/pool/inline-lane.ts): never decode on
   * this thread; hand a request with an unknown string back for the pool.
   */
  consentMode?: ConsentMode;
}

/**
 * What scoring costs on the thread that warmed, in milliseconds: the model's fixed cost
 * per session.run and its cost per row, the rest of the bid path per request, and the
 * rows a request brings. The warm requests are a mix (banner, video, native, a deal, an
 * invalid one), not live traffic: live batches correct all four (placement.ts).
 */
export interface WarmCosts {
  modelBatchMs: number;
  modelRowMs: number;
  requestMs: number;
  rowsPerRequest: number;
}

/** What an engine is made of, apart from the thread's own metrics and id prefix. */
export interface EngineParts {
  index: CampaignIndex;
  /** One scorer (tools, peers), or a thread's models and experiments (engine-control.ts). */
  scorer: Scorer | ModelSource;
  outcomes: OutcomeTable;
  metrics: SlotWriter;
  slab: SharedArrayBuffer;
  bidding: WorkerInit['bidding'];
  maxBodyBytes: number;
  testHooks: boolean;
  idPrefix: string;
  consent?: ConsentResolver;
  notices?: NoticeUrls;
  money?: MoneyGate;
  events?: BidEventSink;
  winRates?: SharedArrayBuffer;
}

/** The one engine factory. */
export function createEngine(p: EngineParts): BidEngine {
  const options: EngineOptions = {
    decision: { fxRates: p.bidding.fxRates, seatId: p.bidding.seatId },
    seatId: p.bidding.seatId,
    tmaxMarginMs: p.bidding.tmaxMarginMs,
    maxBodyBytes: p.maxBodyBytes,
    testHooks: p.testHooks,
    idPrefix: p.idPrefix,
    maxCandidatesPerImp: p.bidding.maxCandidatesPerImp,
    maxCandidatesPerRequest: p.bidding.maxCandidatesPerRequest,
    consent: p.consent,
    notices: p.notices,
    money: p.money,
    events: p.events,
    winRates: p.winRates,
  };
  return new BidEngine(p.index, p.scorer, p.outcomes, p.metrics, p.slab, options);
}

/** Rows of the model-cost probe's second run (its first has one row). */
const kProbeRows = 64;
const kProbeRuns = 20;

export interface WarmEngine {
  engine: BidEngine;
  costs: WarmCosts;
  /** The thread's side of the model lifecycle; null for tools (one fixed model). */
  control: EngineControl | null;
}

export async function buildWarmEngine(s: EngineSetup): Promise<WarmEngine> {
  const data = s.init;
  const parsed = parseCampaigns(JSON.parse(data.campaignsJson));
  if (!parsed.ok) throw new Error(`campaigns rejected: ${parsed.errors.join('; ')}`);
  const index = new CampaignIndex(parsed.campaigns);
  // A session for every model of the catalog, each warmed. With a control block (the
  // bidder's threads) the registry decides which one scores, batch by batch; without one
  // (tools) the start's active model does.
  let models: ModelSource;
  let control: EngineControl | null = null;
  if (data.modelControl !== undefined && data.modelChannel !== undefined) {
    control = await EngineControl.start({
      models: data.models, catalogVersion: data.catalogVersion, control: data.modelControl, channel: data.modelChannel,
      experiments: data.experiments ?? emptyExperiments(), maxRows: data.maxModelRows, threadSlot: s.metrics.slot,
      log: (m) => process.stderr.write(`bidder: ${m}\n`),
    });
    models = control;
  } else {
    const active = data.models.find((m) => `${m.name}@${m.version}` === data.activeModel || m.name === data.activeModel) ?? data.models[0];
    if (active === undefined) throw new Error(`active model ${data.activeModel} not among the loaded models`);
    const only = await createScorer(active.shared, active.byteLength, data.maxModelRows);
    await only.warm();
    models = new FixedModels(only, `${active.name}@${active.version}`);
  }
  const scorer = models.scorer(models.begin().active) ?? firstScorer(models);
  models.end();

  const consent = new ConsentResolver({
    vendorId: data.privacy?.vendorId ?? 0,
    cacheEntries: data.privacy?.consentCacheEntries ?? kDefaultConsentCacheEntries,
    mode: s.consentMode ?? 'decode',
    table: data.consentTable === undefined ? null : new ConsentTable(data.consentTable),
  });
  consent.warm();

  // Money: every bid signs its notice URLs; budgets, pacing and caps gate the candidates.
  let notices: NoticeUrls | undefined;
  let money: MoneyGate | undefined;
  let events: BidEventSink | undefined;
  let idPrefix = s.idPrefix;
  if (data.money !== undefined) {
    notices = new NoticeUrls(data.money.noticeBaseUrl, noticeKeyOf(data.money), data.activeModel);
    const ledger = new BudgetLedger(data.money.ledger, parsed.campaigns.length, data.money.ledgerShape);
    const layout = s.metrics.layout;
    const metrics = s.metrics;
    money = new MoneyGate(parsed.campaigns, ledger, new FrequencyCaps(data.money.caps), {
      inc: (offset) => metrics.inc(offset),
      offsets: {
        paced: layout.offset(M.moneyNoBids, ['paced']), budget: layout.offset(M.moneyNoBids, ['budget']),
        capped: layout.offset(M.moneyNoBids, ['capped']), reserveFailed: layout.offset(M.moneyNoBids, ['reserve_failed']),
      },
    });
    idPrefix = data.money.bidIdPrefix + idPrefix;
    events = BidEvents.claim(data.money, threadId) ?? undefined;
  }

  const parts: EngineParts = {
    index,
    scorer: models,
    outcomes: s.outcomes,
    metrics: s.metrics,
    slab: data.receiveSlab,
    bidding: data.bidding,
    maxBodyBytes: data.maxBodyBytes,
    testHooks: data.testHooks,
    idPrefix,
    consent,
    notices,
    money,
    events,
    winRates: data.winRates,
  };
  const engine = createEngine(parts);

  // Warm the JIT on the whole path. Warm-up answers are thrown away; their metrics go to
  // a private scratch buffer.
  const layout = s.metrics.layout;
  // No money gate: warm-up bids must not reserve budget (their notice URLs are signed, to warm that too).
  const warmEngine = createEngine({ ...parts, metrics: new SlotWriter(layout, layout.allocate(), 1), testHooks: false, idPrefix: 'warm-', money: undefined, events: undefined });
  const writer = new ReplyWriter();
  let timedMs = 0;
  let timedModelMs = 0;
  let timedRows = 0;
  let timed = 0;
  for (let round = 0; round < kWarmRounds; round++) {
    // The last quarter of the rounds runs on a warm JIT: it is what the estimates come from.
    const measure = round >= (kWarmRounds * 3) / 4;
    for (const text of WARM_REQUESTS) {
      writer.begin();
      const started = monoNowMs();
      await warmEngine.processText(text, writer);
      if (measure) {
        timedMs += monoNowMs() - started;
        timedModelMs += warmEngine.lastModelMs;
        timedRows += warmEngine.lastRows;
        timed++;
      }
      readBatchReply(writer.finish(1, 0, 0));
    }
  }
  const model = await probeModel(scorer);

  const costs: WarmCosts = {
    ...model,
    requestMs: Math.max(0, (timedMs - timedModelMs) / timed),
    rowsPerRequest: timedRows / timed,
  };
  return { engine, costs, control };
}

/** The model's cost per session.run and per row: the median of runs at 1 and at kProbeRows rows. */
async function probeModel(scorer: Scorer): Promise<Pick<WarmCosts, 'modelBatchMs' | 'modelRowMs'>> {
  const rows = Math.min(kProbeRows, scorer.maxRows);
  const timeRuns = async (n: number): Promise<number> => {
    const times: number[] = [];
    for (let i = 0; i < kProbeRuns; i++) {
      const started = monoNowMs();
      await scorer.score(scorer.cat, scorer.num, n);
      times.push(monoNowMs() - started);
    }
    times.sort((a, b) => a - b);
    return times[times.length >> 1];
  };
  const one = await timeRuns(1);
  const many = await timeRuns(rows);
  const modelRowMs = rows > 1 ? Math.max(0, (many - one) / (rows - 1)) : 0;
  return { modelBatchMs: Math.max(0, one - modelRowMs), modelRowMs };
}

function firstScorer(models: ModelSource): Scorer {
  for (let slot = 0; slot < kMaxModelSlots; slot++) {
    const s = models.scorer(slot);
    if (s !== undefined) return s;
  }
  throw new Error('no model loaded');
}
