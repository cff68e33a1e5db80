/**
 * Runs one task (a batch of request descriptors, bodies in the receive slab) through a
 * bid engine. The one task runner of every thread that scores: pool workers
 * (src/pool/score.worker.ts) get the answers back as a BatchReply to transfer (run); an
 * acceptor's inline lane (src/pool/inline-lane.ts) has them handed to its dispatcher one
 * by one as the engine produces them (runInto), since they never cross a thread and
 * building, copying and reading a BatchReply was 4-5% of the acceptor's time (profiled,
 * banner-small). Either way a batch is metered the same, wherever the placement put it.
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
import type { BidEngine, ReplySink } from './bid-engine';

export type Placement = 'inline' | 'pool';

/** What the last task cost: the placement's cost model learns from it. */
export interface TaskCost {
  requests: number;
  rows: number;
  modelMs: number;
  totalMs: number;
  /** When the task now running (or the last one) started, ms on the monotonic clock. */
  startedAt: number;
  /** When the last task finished. */
  finishedAt: number;
}

export class TaskRunner {
  private readonly writer = new ReplyWriter();
  private readonly batchSize: HistogramHandle;
  private readonly scored: number;
  /** Seconds spent scoring, for the worker busy counter (pool workers only). */
  private readonly busy: number;
  private tail: Promise<unknown> = Promise.resolve();
  readonly last: TaskCost = { requests: 0, rows: 0, modelMs: 0, totalMs: 0, startedAt: 0, finishedAt: 0 };

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
    return this.chain(async () => {
      this.writer.begin();
      await this.score(new Float64Array(task), this.writer);
      return this.writer.finish(this.slot, this.last.startedAt, this.last.finishedAt);
    });
  }

  /**
   * Scores one task, each answer handed to `out` as soon as the engine has it (during the
   * call; a body given as bytes is valid only then). Chained with run() (see above).
   */
  runInto(words: Float64Array, out: ReplySink): Promise<void> {
    return this.chain(() => this.score(words, out));
  }

  private chain<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async score(words: Float64Array, out: ReplySink): Promise<void> {
    const started = monoNowMs();
    const last = this.last;
    last.startedAt = started;
    const count = words[kTaskCount];
    this.metrics.observe(this.batchSize, count);
    this.metrics.inc(this.scored, count);
    await this.engine.processBatch(words, out);
    const finished = monoNowMs();
    if (this.busy >= 0) this.metrics.inc(this.busy, (finished - started) / 1000);
    last.requests = count;
    last.rows = this.engine.lastRows;
    last.modelMs = this.engine.lastModelMs;
    last.totalMs = finished - started;
    last.finishedAt = finished;
  }
}
