/**
 * Entry point of a scoring worker (piscina). Before it takes work it builds its
 * onnxruntime sessions from the shared model bytes, indexes the campaigns, and warms both
 * the sessions and the whole bid path (src/engine/engine-setup.ts); then it counts itself
 * ready in the control block. piscina awaits the exported promise, so no task reaches a
 * cold worker. Tasks run through the same task runner as the acceptors' inline lanes.
 */
import { threadId, workerData } from 'node:worker_threads';
import { buildWarmEngine } from '../engine/engine-setup';
import { TaskRunner } from '../engine/task-runner';
import { bindTeardownGate } from '../engine/teardown-gate';
import { ALL_ERROR_CODES } from '../errors';
import { buildMetricsLayout, M, OutcomeTable } from '../metrics/definitions';
import { claimSlot, kMaxSlots, SlotWriter } from '../metrics/shared-metrics';
import { kControlWorkersReady, type WorkerInit } from './worker-init';
import { transferable } from './worker-transfer';

/**
 * A lifecycle task (pool-wake.ts): hold this worker awake until it has applied the
 * registry's catalog and experiments versions, so their messages are let in.
 */
export interface LifecycleTask {
  lifecycle: { catalog: number; experiments: number; timeoutMs: number };
}

async function init(): Promise<(task: ArrayBuffer | LifecycleTask) => Promise<ArrayBuffer | boolean>> {
  const data = workerData as WorkerInit;
  // A worker that exits (process.exit, a fatal error) holds the other threads' runs back
  // until it is gone: see teardown-gate.ts. A terminated one is covered by its terminator.
  const gate = bindTeardownGate(data.control);
  process.on('exit', () => gate.closeForTeardown());
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

  const { engine, control } = await buildWarmEngine({
    init: data,
    outcomes,
    metrics,
    idPrefix: `${threadId.toString(36)}${Date.now().toString(36)}-`,
  });
  const runner = new TaskRunner(engine, metrics, slot, 'pool', layout.offset(M.workerBusy, [String(slot)]));

  Atomics.add(new Int32Array(data.control), kControlWorkersReady, 1);
  return (task: ArrayBuffer | LifecycleTask): Promise<ArrayBuffer | boolean> => {
    if (task instanceof ArrayBuffer) return runner.run(task).then(transferable);
    const l = task.lifecycle;
    return control === null ? Promise.resolve(true) : control.catchUp(l.catalog, l.experiments, l.timeoutMs);
  };
}

export default init();
