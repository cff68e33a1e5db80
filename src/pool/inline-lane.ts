/**
 * The inline lane: a bid engine on the acceptor thread itself.
 *
 * Handing a batch to a pool worker costs two cross-thread wake-ups (to the worker and
 * back): tens to hundreds of microseconds each here, and when the cores are shared, a
 * sleeping thread can wait milliseconds for one. So the dispatcher places a batch here
 * whenever it would finish here first (placement.ts): on a machine with no core to spare
 * that is nearly every batch, and the pool is left the batches that a free core finishes
 * sooner. The lane runs the same engine, model and task runner as a worker (src/engine/),
 * so answers and metrics cannot differ; only the way back is shorter: each answer goes
 * straight to the dispatcher as the engine produces it, with no BatchReply between.
 *
 * One difference, on purpose: the lane never decodes a consent string (30-130 us each, on
 * the thread every connection shares). Its engine runs in consent mode 'defer': a string
 * in neither its own cache nor the workers' shared table makes it answer the request with
 * kStatusDeferred, and the dispatcher gives that request to the pool, whose worker
 * decodes the string and publishes the decision for the lane's next sighting.
 */
import { buildWarmEngine, type EngineSetup, type WarmCosts } from '../engine/engine-setup';
import type { ReplySink } from '../engine/bid-engine';
import { TaskRunner, type TaskCost } from '../engine/task-runner';
import type { ConsentMode } from '../privacy/consent-resolver';

/** The inline lane never decodes consent strings on an acceptor thread. */
export const kInlineConsentMode: ConsentMode = 'defer';

/** The lane with its warmed engine: a session for every model of the catalog (a swap needs no load), consent mode kInlineConsentMode. */
export async function buildInlineLane(setup: Omit<EngineSetup, 'consentMode'>, maxBatch: number): Promise<InlineLane> {
  const { engine, costs } = await buildWarmEngine({ ...setup, consentMode: kInlineConsentMode });
  // The lane meters into its acceptor's own slot (the first acceptor's is kMainSlot).
  return new InlineLane(new TaskRunner(engine, setup.metrics, setup.metrics.slot, 'inline'), maxBatch, costs);
}

export class InlineLane {
  constructor(
    private readonly runner: TaskRunner,
    /** The largest batch the lane takes; larger waiting queues are split. */
    readonly maxBatch: number,
    /** What the warm-up measured on this thread: the placement's first estimates. */
    readonly costs: WarmCosts,
  ) {}

  get last(): TaskCost {
    return this.runner.last;
  }

  /** Scores one task on this thread, each answer handed to `out` as the engine has it. */
  runInto(task: Float64Array, out: ReplySink): Promise<void> {
    return this.runner.runInto(task, out);
  }
}

