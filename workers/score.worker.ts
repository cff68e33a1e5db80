/**
 * Entry point of a scoring worker (piscina). Before it takes work it builds its
 * onnxruntime session from the shared model bytes, indexes the campaigns, and warms both
 * the session and the whole bid path; then it counts itself ready in the control block.
 * piscina awaits the exported promise, so no task reaches a cold worker.
 */
import { threadId, workerData } from 'node:worker_threads';
import { readBatchReply, ReplyWriter } from '../src/codec/reply-batch';
import { kTaskCount } from '../src/codec/request-batch';
import { CampaignIndex } from '../src/decisioning/campaign-index';
import { parseCampaigns } from '../src/decisioning/campaign-loader';
import { ALL_ERROR_CODES } from '../src/errors';
import { buildMetricsLayout, M, OutcomeTable } from '../src/metrics/definitions';
import { claimSlot, kMaxSlots, SlotWriter } from '../src/metrics/shared-metrics';
import { kControlWorkersReady, type WorkerInit } from '../src/pool/worker-init';
import { transferable } from '../src/pool/worker-transfer';
import { monoNowMs } from '../src/util/clock';
import { BidEngine, type EngineOptions } from './bid-engine';
import { createScorer, type Scorer } from './onnx-scorer';
import { WARM_REQUESTS } from './warm-requests';

async function init(): Promise<(task: ArrayBuffer) => Promise<ArrayBuffer>> {
  const data = workerData as WorkerInit;
  const outcomes = new OutcomeTable(ALL_ERROR_CODES);
  const layout = buildMetricsLayout(outcomes, kMaxSlots - 1);
  let slot = claimSlot(data.metrics, threadId);
  let metricsBuffer = data.metrics;
  if (slot < 0) {
    // Every slot is held (an implausible number of worker restarts): keep serving, unmetered.
    process.emitWarning('no free metrics slot; this worker records no metrics', { code: 'BIDDER_METRICS_SLOTS' });
    metricsBuffer = layout.allocate();
    slot = 1;
  }
  const metrics = new SlotWriter(layout, metricsBuffer, slot);
  const busy = layout.offset(M.workerBusy, [String(slot)]);

  const parsed = parseCampaigns(JSON.parse(data.campaignsJson));
  if (!parsed.ok) throw new Error(`campaigns rejected in worker: ${parsed.errors.join('; ')}`);
  const index = new CampaignIndex(parsed.campaigns);
  // A session for every model, each warmed; the active one scores bids.
  const scorers = new Map<string, Scorer>();
  for (const m of data.models) {
    const s = await createScorer(m.shared, m.byteLength, data.maxModelRows);
    await s.warm();
    scorers.set(m.name, s);
  }
  const scorer = scorers.get(data.activeModel);
  if (scorer === undefined) throw new Error(`active model ${data.activeModel} not among the loaded models`);

  const options: EngineOptions = {
    decision: { fxRates: data.bidding.fxRates, seatId: data.bidding.seatId },
    seatId: data.bidding.seatId,
    tmaxMarginMs: data.bidding.tmaxMarginMs,
    maxBodyBytes: data.maxBodyBytes,
    testHooks: data.testHooks,
    idPrefix: `${threadId.toString(36)}${Date.now().toString(36)}-`,
  };
  const engine = new BidEngine(index, scorer, outcomes, metrics, data.receiveSlab, options);
  const writer = new ReplyWriter();

  // Warm the JIT on the whole path so the first real requests are not the slow ones.
  // Warm-up answers are thrown away; their metrics go to a private scratch buffer.
  const warmMetrics = new SlotWriter(layout, layout.allocate(), 1);
  const warmEngine = new BidEngine(index, scorer, outcomes, warmMetrics, data.receiveSlab, {
    ...options,
    testHooks: false,
    idPrefix: 'warm-',
  });
  for (let round = 0; round < 200; round++) {
    for (const text of WARM_REQUESTS) {
      writer.begin();
      await warmEngine.processText(text, writer);
      readBatchReply(writer.finish(slot, 0, 0));
    }
  }

  Atomics.add(new Int32Array(data.control), kControlWorkersReady, 1);

  const batchSize = metrics.histogram(M.batchSize);
  const scoreBatch = async (task: ArrayBuffer): Promise<ArrayBuffer> => {
    const started = monoNowMs();
    const words = new Float64Array(task);
    metrics.observe(batchSize, words[kTaskCount]);
    writer.begin();
    await engine.processBatch(words, writer);
    const finished = monoNowMs();
    metrics.inc(busy, (finished - started) / 1000);
    return transferable(writer.finish(slot, started, finished));
  };

  // With pool.maxBatchesPerWorker > 1 piscina hands this worker a second task while the
  // first awaits session.run. The engine and the reply writer are single-batch state, so
  // tasks run one after another; the second one only saves the round trip of waiting for
  // the front end to send it (it is already here when the first finishes).
  let tail: Promise<unknown> = Promise.resolve();
  return (task: ArrayBuffer): Promise<ArrayBuffer> => {
    const run = tail.then(() => scoreBatch(task));
    tail = run.catch(() => undefined);
    return run;
  };
}

export default init();
