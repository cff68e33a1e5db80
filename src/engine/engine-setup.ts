/**
 * Builds a warmed BidEngine from what a scoring thread is given (WorkerInit): campaigns
 * indexed, an onnxruntime session per model built from the shared model bytes and
 * warmed, and the whole bid path warmed on sample requests so the first real requests
 * are not the slow ones. Used by every pool worker and by the front end's inline lane.
 */
import { readBatchReply, ReplyWriter } from '../codec/reply-batch';
import { CampaignIndex } from '../decisioning/campaign-index';
import { parseCampaigns } from '../decisioning/campaign-loader';
import type { OutcomeTable } from '../metrics/definitions';
import { SlotWriter } from '../metrics/shared-metrics';
import type { WorkerInit } from '../pool/worker-init';
import { ConsentResolver, kDefaultConsentCacheEntries, type ConsentMode } from '../privacy/consent-resolver';
import { ConsentTable } from '../privacy/consent-table';
import { BidEngine, type EngineOptions } from './bid-engine';
import { createScorer, type Scorer } from './onnx-scorer';
import { WARM_REQUESTS } from './warm-requests';

/** Rounds of the sample requests run through the engine before it serves. */
const kWarmRounds = 200;

export interface EngineSetup {
  init: Pick<WorkerInit, 'models' | 'activeModel' | 'campaignsJson' | 'bidding' | 'maxBodyBytes' | 'maxModelRows' | 'testHooks' | 'receiveSlab'>
    // Optional so tools can build an engine alone: no privacy section means no vendor id
    // (GDPR never consents), no table means this engine's caches are its own.
    & Partial<Pick<WorkerInit, 'privacy' | 'consentTable'>>;
  outcomes: OutcomeTable;
  metrics: SlotWriter;
  idPrefix: string;
  /** Build sessions for every model (a worker) or only the active one (the inline lane). */
  allModels: boolean;
  /**
   * 'decode' (a pool worker, and the default): decode consent strings and publish them to
   * the shared table. 'defer' (the inline lane, src/pool/inline-lane.ts): never decode on
   * this thread; hand a request with an unknown string back for the pool.
   */
  consentMode?: ConsentMode;
}

export async function buildWarmEngine(s: EngineSetup): Promise<BidEngine> {
  const data = s.init;
  const parsed = parseCampaigns(JSON.parse(data.campaignsJson));
  if (!parsed.ok) throw new Error(`campaigns rejected: ${parsed.errors.join('; ')}`);
  const index = new CampaignIndex(parsed.campaigns);
  // A session for every model, each warmed; the active one scores bids.
  const scorers = new Map<string, Scorer>();
  for (const m of data.models) {
    if (!s.allModels && m.name !== data.activeModel) continue;
    const scorer = await createScorer(m.shared, m.byteLength, data.maxModelRows);
    await scorer.warm();
    scorers.set(m.name, scorer);
  }
  const scorer = scorers.get(data.activeModel);
  if (scorer === undefined) throw new Error(`active model ${data.activeModel} not among the loaded models`);

  const consent = new ConsentResolver({
    vendorId: data.privacy?.vendorId ?? 0,
    cacheEntries: data.privacy?.consentCacheEntries ?? kDefaultConsentCacheEntries,
    mode: s.consentMode ?? 'decode',
    table: data.consentTable === undefined ? null : new ConsentTable(data.consentTable),
  });
  consent.warm();

  const options: EngineOptions = {
    decision: { fxRates: data.bidding.fxRates, seatId: data.bidding.seatId },
    seatId: data.bidding.seatId,
    tmaxMarginMs: data.bidding.tmaxMarginMs,
    maxBodyBytes: data.maxBodyBytes,
    testHooks: data.testHooks,
    idPrefix: s.idPrefix,
    maxCandidatesPerImp: data.bidding.maxCandidatesPerImp,
    maxCandidatesPerRequest: data.bidding.maxCandidatesPerRequest,
    consent,
  };
  const engine = new BidEngine(index, scorer, s.outcomes, s.metrics, data.receiveSlab, options);

  // Warm the JIT on the whole path. Warm-up answers are thrown away; their metrics go to
  // a private scratch buffer.
  const layout = s.metrics.layout;
  const warmEngine = new BidEngine(index, scorer, s.outcomes, new SlotWriter(layout, layout.allocate(), 1), data.receiveSlab, {
    ...options,
    testHooks: false,
    idPrefix: 'warm-',
  });
  const writer = new ReplyWriter();
  for (let round = 0; round < kWarmRounds; round++) {
    for (const text of WARM_REQUESTS) {
      writer.begin();
      await warmEngine.processText(text, writer);
      readBatchReply(writer.finish(1, 0, 0));
    }
  }
  return engine;
}
