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
 *
 * One difference, on purpose: the lane never decodes a consent string (30-130 us each, on
 * the thread every connection shares). Its engine runs in consent mode 'defer': a string
 * in neither its own cache nor the workers' shared table makes it answer the request with
 * kStatusDeferred, and the dispatcher gives that request to the pool, whose worker
 * decodes the string and publishes the decision for the lane's next sighting.
 */
import { ReplyWriter } from '../codec/reply-batch';
import { kTaskCount } from '../codec/request-batch';
import { kMainSlot, type HistogramHandle, type SlotWriter } from '../metrics/shared-metrics';
import { M } from '../metrics/definitions';
import { monoNowMs } from '../util/clock';
import type { BidEngine } from '../engine/bid-engine';
import { buildWarmEngine, type EngineSetup } from '../engine/engine-setup';
import type { ConsentMode } from '../privacy/consent-resolver';

/** The inline lane never decodes consent strings on the front-end thread. */
export const kInlineConsentMode: ConsentMode = 'defer';

/** The lane with its warmed engine: the active model only, consent mode kInlineConsentMode. */
export async function buildInlineLane(setup: Omit<EngineSetup, 'allModels' | 'consentMode'>, maxBatch: number): Promise<InlineLane> {
  const engine = await buildWarmEngine({ ...setup, allModels: false, consentMode: kInlineConsentMode });
  return new InlineLane(engine, maxBatch, setup.metrics);
}

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
