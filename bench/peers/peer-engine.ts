/**
 * What every inline peer shares: the bidder's own BidEngine (parse, validate, decide, one
 * session.run, serialise) and model, built on the peer's single thread from the same
 * configuration (BIDDER_* variables) as the bidder, and a way to push one batch of
 * bodies through it. Bodies go into a receive slab as in the bidder, because that is
 * where the engine reads them.
 */
import { readFileSync } from 'node:fs';
import { kFlagGzip, writeTask } from '../../src/codec/request-batch';
import { loadConfig, type BidderConfig } from '../../src/config/config';
import { CampaignIndex } from '../../src/decisioning/campaign-index';
import { parseCampaigns } from '../../src/decisioning/campaign-loader';
import { ALL_ERROR_CODES } from '../../src/errors';
import { buildMetricsLayout, OutcomeTable } from '../../src/metrics/definitions';
import { kMaxSlots, SlotWriter } from '../../src/metrics/shared-metrics';
import { loadModelShared } from '../../src/models/model-bytes';
import { ReceiveSlab } from '../../src/pool/receive-slab';
import { monoNowMs } from '../../src/util/clock';
import type { ReplySink } from '../../src/engine/bid-engine';
import { createEngine } from '../../src/engine/engine-setup';
import { createScorer } from '../../src/engine/onnx-scorer';
import { randomBytes } from 'node:crypto';
import type { Campaign } from '../../src/decisioning/campaign-types';
import type { MetricsLayout } from '../../src/metrics/shared-metrics';
import { BidEvents } from '../../src/money/bid-events';
import { BudgetLedger } from '../../src/money/budget-ledger';
import { FrequencyCaps } from '../../src/money/frequency-caps';
import { MoneyEvents } from '../../src/money/money-events';
import { MoneyGate } from '../../src/money/money-gate';
import { MoneyOwner } from '../../src/money/money-owner';
import { allocateMoneyShared } from '../../src/money/money-service';
import { NoticeUrls } from '../../src/notices/notice-urls';
import { loadNoticeKey } from '../../src/notices/notice-key';

/** One request held by a peer while the engine works on it. */
export interface PeerJob {
  arrivedAt: number;
  receivedAt: number;
  offset: number;
  length: number;
  flags: number;
  /** Called once with the engine's answer (body null for 204s and bodiless errors; bytes valid during the call only). */
  reply(status: number, body: string | Uint8Array | null): void;
}

export interface PeerEngine {
  config: BidderConfig;
  slab: ReceiveSlab;
  /**
   * Runs the jobs through the engine as one batch and replies to each; frees their slab
   * regions. Calls are queued: the engine is not reentrant, and session.run yields.
   */
  run(jobs: PeerJob[]): Promise<void>;
}

export function gzipFlag(contentEncoding: string): number {
  const coding = contentEncoding.trim().toLowerCase();
  return coding === 'gzip' || coding === 'x-gzip' ? kFlagGzip : 0;
}

export async function createPeerEngine(): Promise<PeerEngine> {
  const resolved = loadConfig();
  if (!resolved.ok) throw new Error(resolved.errors.join('\n'));
  const config = resolved.config;
  const parsed = parseCampaigns(JSON.parse(readFileSync(config.bidding.campaignsFile, 'utf8')));
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  const model = loadModelShared(config.model.dir, config.model.name);
  if (!model.ok) throw new Error(model.error.message);
  const outcomes = new OutcomeTable(ALL_ERROR_CODES);
  const layout = buildMetricsLayout(outcomes, kMaxSlots - 1);
  const scorer = await createScorer(model.shared, model.byteLength, 4096);
  await scorer.warm();
  const slab = new ReceiveSlab(config.pool.slabSegmentBytes, config.pool.slabSegments);
  const money = startPeerMoney(config, parsed.campaigns, `${config.model.name}@${model.entry.version}`, layout);
  const engine = createEngine({
    index: new CampaignIndex(parsed.campaigns),
    scorer,
    outcomes,
    metrics: new SlotWriter(layout, layout.allocate(), 0),
    slab: slab.buffer,
    bidding: config.bidding,
    maxBodyBytes: config.server.maxBodyBytes,
    testHooks: false,
    idPrefix: `${money.shared.bidIdPrefix}peer-`,
    notices: money.notices,
    money: money.gate,
    events: money.events,
  });
  let jobs: PeerJob[] = [];
  // Bytes when the engine has them (as the bidder's inline lane takes them), else the string.
  const answer = (id: number, status: number, _outcome: number, body: string | Uint8Array | null): void => {
    const job = jobs[id];
    slab.free(job.offset);
    job.reply(status, body);
  };
  const sink: ReplySink = { add: answer, addUtf8: answer };
  let tail: Promise<void> = Promise.resolve();
  const runNow = async (batch: PeerJob[]): Promise<void> => {
    jobs = batch;
    await engine.processBatch(writeTask(batch, monoNowMs()), sink);
  };
  return {
    config,
    slab,
    run(batch) {
      tail = tail.then(() => runNow(batch));
      return tail;
    },
  };
}

/**
 * The bid path's money work, as the bidder's engine does it (signed notice URLs, budgets and
 * reservations, bid records for the event log), on the peer's one thread: what a money owner
 * does on its own thread in the bidder (the day's budgets at start, expiry each second,
 * encoding and writing the bid records) runs here on timers. So the bidder and its twin run
 * the same engine, and their ratios still measure what the threads earn.
 */
function startPeerMoney(config: BidderConfig, campaigns: Campaign[], modelVersion: string, layout: MetricsLayout) {
  const key = loadNoticeKey(config.money.noticeKeyFile === '' ? undefined : config.money.noticeKeyFile, (n) => randomBytes(n));
  if (!key.ok) throw new Error(key.message);
  const shared = allocateMoneyShared(config, campaigns, key.key, config.server.port, 1);
  const ledger = new BudgetLedger(shared.ledger, campaigns.length, shared.ledgerShape);
  const caps = new FrequencyCaps(shared.caps);
  const owner = new MoneyOwner({
    campaigns, ledger, caps, fxRates: config.bidding.fxRates, noticeMaxAgeSec: shared.noticeMaxAgeSec,
    reservationTtlSec: config.money.reservationTtlSec, bidIdPrefix: shared.bidIdPrefix,
  });
  owner.start(Date.now());
  const events = new MoneyEvents({ cfg: config.money, shared, instanceId: shared.instanceId, metrics: new SlotWriter(layout, layout.allocate(), 0), layout, modelVersion });
  setInterval(() => owner.tick(Date.now()), 1_000).unref();
  setInterval(() => events.pump(), 20).unref();
  return {
    shared,
    notices: new NoticeUrls(shared.noticeBaseUrl, key.key, modelVersion),
    gate: new MoneyGate(campaigns, ledger, caps),
    events: BidEvents.claim(shared, 1) ?? undefined,
  };
}

/** The status line uWS writes for each status the engine can answer. */
export function statusLine(status: number): string {
  switch (status) {
    case 200: return '200 OK';
    case 204: return '204 No Content';
    case 400: return '400 Bad Request';
    case 413: return '413 Payload Too Large';
    case 415: return '415 Unsupported Media Type';
    default: return `${status} Error`;
  }
}
