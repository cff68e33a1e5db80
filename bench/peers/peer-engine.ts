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
  const engine = createEngine({
    index: new CampaignIndex(parsed.campaigns),
    scorer,
    outcomes,
    metrics: new SlotWriter(layout, layout.allocate(), 0),
    slab: slab.buffer,
    bidding: config.bidding,
    maxBodyBytes: config.server.maxBodyBytes,
    testHooks: false,
    idPrefix: 'peer-',
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
