/**
 * The inline lane: a bid engine on the front-end thread itself, for light load.
 *
 * Handing a batch to a pool worker costs two cross-thread wake-ups (to the worker and
 * back). On an idle worker each is tens to hundreds of microseconds, and when the cores
 * are shared, a sleeping thread can wait milliseconds for one: under light load that is
 * most of a request's latency and most of its tail. So when the pool holds nothing and
 * only a few requests wait, the dispatcher scores them here, at once, on the thread that
 * already has them; bursts and sustained load go to the pool, where batches grow and the
 * workers' cores add throughput. The lane runs the same engine, model and reply format
 * as a worker (engine-setup.ts, reply-batch.ts), so answers and metrics cannot differ.
 */
import { ReplyWriter } from '../codec/reply-batch';
import { kTaskCount } from '../codec/request-batch';
import { kMainSlot, type HistogramHandle, type SlotWriter } from '../metrics/shared-metrics';
import { M } from '../metrics/definitions';
import { monoNowMs } from '../util/clock';
import type { BidEngine } from '../../workers/bid-engine';

export class InlineLane {
  private running = false;
  private readonly writer = new ReplyWriter();
  private readonly batchSize: HistogramHandle;
  private readonly scored: number;

  constructor(
    private readonly engine: BidEngine,
    /** The largest batch the lane takes; more waiting requests go to the pool. */
    readonly maxBatch: number,
    private readonly metrics: SlotWriter,
  ) {
    this.batchSize = metrics.histogram(M.batchSize);
    this.scored = metrics.layout.offset(M.scored, ['inline']);
  }

  get idle(): boolean {
    return !this.running;
  }

  /** Scores one task on this thread; the reply is a BatchReply, as from a worker. */
  async run(task: ArrayBuffer): Promise<ArrayBuffer> {
    this.running = true;
    try {
      const started = monoNowMs();
      const words = new Float64Array(task);
      this.metrics.observe(this.batchSize, words[kTaskCount]);
      this.metrics.inc(this.scored, words[kTaskCount]);
      this.writer.begin();
      await this.engine.processBatch(words, this.writer);
      return this.writer.finish(kMainSlot, started, monoNowMs());
    } finally {
      this.running = false;
    }
  }
}
