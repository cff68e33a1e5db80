/**
 * Entry point of a scoring worker (piscina). Before it takes work it builds its
 * onnxruntime sessions from the shared model bytes, indexes the campaigns, and warms both
 * the sessions and the whole bid path (engine-setup.ts); then it counts itself ready in
 * the control block.
 * piscina awaits the exported promise, so no task reaches a cold worker.
 */
import { threadId, workerData } from 'node:worker_threads';
import { ReplyWriter } from '../codec/reply-batch';
import { kTaskCount } from '../codec/request-batch';
import { ALL_ERROR_CODES } from '../errors';
import { buildMetricsLayout, M, OutcomeTable } from '../metrics/definitions';
import { claimSlot, kMaxSlots, SlotWriter } from '../metrics/shared-metrics';
import { kControlWorkersReady, type WorkerInit } from './worker-init';
import { transferable } from './worker-transfer';
import { monoNowMs } from '../util/clock';
import { buildWarmEngine } from '../engine/engine-setup';

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

  const engine = await buildWarmEngine({
    init: data,
    outcomes,
    metrics,
    idPrefix: `${threadId.toString(36)}${Date.now().toString(36)}-`,
    allModels: true,
  });
  const writer = new ReplyWriter();

  Atomics.add(new Int32Array(data.control), kControlWorkersReady, 1);

  const batchSize = metrics.histogram(M.batchSize);
  const scored = layout.offset(M.scored, ['pool']);
  const scoreBatch = async (task: ArrayBuffer): Promise<ArrayBuffer> => {
    const started = monoNowMs();
    const words = new Float64Array(task);
    metrics.observe(batchSize, words[kTaskCount]);
    metrics.inc(scored, words[kTaskCount]);
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
