/**
 * The shadow model, off the critical path: a sample of batches (model.shadowSamplePermille
 * of every 1,000, evenly spread) is scored again by the shadow model after the batch's
 * answers are written. The engine copies the rows the active model scored (their feature
 * rows and the active predictions) before it answers; the shadow runs them on a later
 * turn of this thread's loop (setImmediate: after a pool worker's reply is posted, after
 * an inline lane's answers are corked and sent), so no answer waits for it.
 *
 * What it leaves: per shadow model, rows scored and the sums of both predictions and of
 * their absolute difference (metrics: the mean of each and the calibration gap are
 * ratios of these), and for up to kMaxShadowEventsPerBatch rows of each sampled batch a
 * Shadow record in the event log with both predictions beside each other.
 *
 * One sampled batch at a time per thread: a sample that comes while the previous one is
 * still pending is skipped and counted, so a slow shadow can never pile up work.
 */
import { CAT_WIDTH, NUM_WIDTH } from '../features/feature-spec';
import { M } from '../metrics/definitions';
import type { SlotWriter } from '../metrics/shared-metrics';
import type { ModelSettings } from '../models/model-control';
import type { BidEventSink } from './bid-engine';
import type { ModelSource } from './engine-control';

/** Shadow records written to the event log per sampled batch (rows beyond still count in the metrics). */
export const kMaxShadowEventsPerBatch = 64;

export class ShadowScorer {
  private acc = 0;
  private pending = false;
  private slot = -1;
  private activeLabel = '';
  private cat = new Int32Array(0);
  private num = new Float32Array(0);
  private activeCtr = new Float32Array(0);
  private source!: { cat: Int32Array; num: Float32Array };
  /** Rows copied for the pending run. */
  count = 0;
  private readonly ids: { requestId: string; impId: string; campaignId: string; creativeId: string; arm: string; test: boolean }[] = [];
  private readonly offsets: { rows: number; active: number; shadow: number; absDiff: number; skipped: number };

  constructor(private readonly models: ModelSource, private readonly metrics: SlotWriter, private readonly events?: BidEventSink) {
    const layout = metrics.layout;
    this.offsets = {
      rows: layout.offset(M.shadowRows, ['0']), active: layout.offset(M.shadowActiveCtr, ['0']),
      shadow: layout.offset(M.shadowCtr, ['0']), absDiff: layout.offset(M.shadowAbsDiff, ['0']), skipped: layout.offset(M.shadowDropped),
    };
  }

  /** Whether this batch is in the sample (call once per batch that scored rows). */
  sample(s: ModelSettings): boolean {
    if (s.shadow < 0 || s.shadowPermille <= 0 || s.shadow === s.active) return false;
    this.acc += s.shadowPermille;
    if (this.acc < 1000) return false;
    this.acc -= 1000;
    if (this.pending) {
      this.metrics.inc(this.offsets.skipped);
      return false;
    }
    return this.models.scorer(s.shadow) !== undefined;
  }

  /** Starts collecting rows for shadow slot `slot`; null when nothing can be taken now. */
  begin(slot: number, activeLabel: string, batchCat: Int32Array, batchNum: Float32Array): this | null {
    if (this.pending || slot < 0) return null;
    this.slot = slot;
    this.activeLabel = activeLabel;
    this.source = { cat: batchCat, num: batchNum };
    this.count = 0;
    return this;
  }

  /** Copies batch row `row` (scored by the active model as `ctr`). */
  add(row: number, ctr: number, requestId: string, impId: string, campaignId: string, creativeId: string, arm: string, test: boolean): void {
    const n = this.count;
    this.ensure(n + 1);
    this.cat.set(this.source.cat.subarray(row * CAT_WIDTH, (row + 1) * CAT_WIDTH), n * CAT_WIDTH);
    this.num.set(this.source.num.subarray(row * NUM_WIDTH, (row + 1) * NUM_WIDTH), n * NUM_WIDTH);
    this.activeCtr[n] = ctr;
    if (n < kMaxShadowEventsPerBatch) this.ids[n] = { requestId, impId, campaignId, creativeId, arm, test };
    this.count = n + 1;
  }

  /** Runs the shadow after the current turn (the batch's answers go first). */
  schedule(): void {
    if (this.count === 0) return;
    this.pending = true;
    setImmediate(() => {
      this.run().finally(() => {
        this.pending = false;
      });
    });
  }

  private async run(): Promise<void> {
    const scorer = this.models.scorer(this.slot);
    if (scorer === undefined) return;
    const o = this.offsets;
    const label = this.models.label(this.slot);
    let sumActive = 0;
    let sumShadow = 0;
    let sumDiff = 0;
    for (let first = 0; first < this.count; first += scorer.maxRows) {
      const n = Math.min(scorer.maxRows, this.count - first);
      scorer.cat.set(this.cat.subarray(first * CAT_WIDTH, (first + n) * CAT_WIDTH));
      scorer.num.set(this.num.subarray(first * NUM_WIDTH, (first + n) * NUM_WIDTH));
      let ctr: Float32Array;
      try {
        ctr = await scorer.score(scorer.cat, scorer.num, n);
      } catch {
        this.metrics.inc(this.metrics.layout.offset(M.modelErrors, [String(this.slot)]));
        return;
      }
      for (let k = 0; k < n; k++) {
        const a = this.activeCtr[first + k];
        const b = ctr[k];
        sumActive += a;
        sumShadow += b;
        sumDiff += Math.abs(b - a);
        const i = first + k;
        if (i < kMaxShadowEventsPerBatch && this.events?.shadow !== undefined) {
          const id = this.ids[i];
          this.events.shadow(id.requestId, id.impId, id.campaignId, id.creativeId, this.activeLabel, a, label, b, id.arm, id.test);
        }
      }
    }
    const slot = this.slot;
    this.metrics.inc(o.rows + slot, this.count);
    this.metrics.inc(o.active + slot, sumActive);
    this.metrics.inc(o.shadow + slot, sumShadow);
    this.metrics.inc(o.absDiff + slot, sumDiff);
  }

  private ensure(rows: number): void {
    if (this.activeCtr.length >= rows) return;
    const cap = Math.max(256, this.activeCtr.length * 2, rows);
    const cat = new Int32Array(cap * CAT_WIDTH);
    cat.set(this.cat);
    this.cat = cat;
    const num = new Float32Array(cap * NUM_WIDTH);
    num.set(this.num);
    this.num = num;
    const act = new Float32Array(cap);
    act.set(this.activeCtr);
    this.activeCtr = act;
  }
}
