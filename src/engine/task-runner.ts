/**
 * Runs one task (a batch of request descriptors, bodies in the receive slab) through a
 * bid engine and returns the BatchReply. The one task runner of every thread that
 * scores: pool workers (src/pool/score.worker.ts) and each acceptor's inline lane
 * (src/pool/inline-lane.ts), so a batch is metered and answered the same way wherever
 * the placement put it.
 *
 * The engine holds single-batch state, so tasks run one after another: a worker given a
 * second task while the first awaits (pool.maxBatchesPerWorker > 1) starts it when the
 * first is done, which still saves the round trip of waiting for the front end to send it.
 */
import { ReplyWriter } from '../codec/reply-batch';
import { kTaskCount } from '../codec/request-batch';
import { M } from '../metrics/definitions';
import type { HistogramHandle, SlotWriter } from '../metrics/shared-metrics';
import { monoNowMs } from '../util/clock';
import type { BidEngine } from './bid-engine';

export type Placement = 'inline' | 'pool';

/** What the last task cost: the placement's cost model learns from it. */
export interface TaskCost {
  requests: number;
  rows: number;
  modelMs: number;
  totalMs: number;
}

export class TaskRunner {
  private readonly writer = new ReplyWriter();
  private readonly batchSize: HistogramHandle;
  private readonly scored: number;
  /** Seconds spent scoring, for the worker busy counter (pool workers only). */
  private readonly busy: number;
  private tail: Promise<unknown> = Promise.resolve();
  readonly last: TaskCost = { requests: 0, rows: 0, modelMs: 0, totalMs: 0 };

  constructor(
    private readonly engine: BidEngine,
    private readonly metrics: SlotWriter,
    /** The metrics slot the reply names (the dispatcher reads nothing else from it). */
    private readonly slot: number,
    placement: Placement,
    busyOffset = -1,
  ) {
    this.batchSize = metrics.histogram(M.batchSize);
    this.scored = metrics.layout.offset(M.scored, [placement]);
    this.busy = busyOffset;
  }

  /** Scores one task; the reply is a BatchReply. Calls are chained (see above). */
  run(task: ArrayBuffer): Promise<ArrayBuffer> {
    const run = this.tail.then(() => this.runNow(task));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async runNow(task: ArrayBuffer): Promise<ArrayBuffer> {
    const started = monoNowMs();
    const words = new Float64Array(task);
    const count = words[kTaskCount];
    this.metrics.observe(this.batchSize, count);
    this.metrics.inc(this.scored, count);
    this.writer.begin();
    await this.engine.processBatch(words, this.writer);
    const finished = monoNowMs();
    if (this.busy >= 0) this.metrics.inc(this.busy, (finished - started) / 1000);
    const last = this.last;
    last.requests = count;
    last.rows = this.engine.lastRows;
    last.modelMs = this.engine.lastModelMs;
    last.totalMs = finished - started;
    return this.writer.finish(this.slot, started, finished);
  }
}
