/**
 * CTR scoring inside a worker thread: the only module that imports onnxruntime-node.
 * The main thread verifies the model (src/models/model-bytes.ts) and shares its bytes;
 * each worker builds a private single-threaded session (parallelism comes from the pool,
 * not from intra-op threads that would fight the other workers for cores).
 */
import { type InferenceSession, Tensor } from 'onnxruntime-node';
import { CAT_WIDTH, NUM_WIDTH, TOTAL_BUCKETS } from '../features/feature-spec';
import { createSyncSession, type SyncSession } from './ort-sync-session';

export interface Scorer {
  readonly maxRows: number;
  /**
   * Input matrices owned by the scorer, sized for maxRows: the encoder writes rows straight
   * into these and scoring them needs no copy. Other private arrays are accepted too.
   */
  readonly cat: Int32Array;
  readonly num: Float32Array;
  /**
   * Click probabilities for rows [0, rows) of `cat` [rows x CAT_WIDTH] and `num`
   * [rows x NUM_WIDTH]. The result is a fresh array owned by the caller. Rejects (a
   * programming error, not a no-bid) when rows is outside [1, maxRows] or the arrays are short.
   */
  score(cat: Int32Array, num: Float32Array, rows: number): Promise<Float32Array>;
  /** Run representative batch sizes so the first real request does not pay for lazy init. */
  warm(): Promise<void>;
  release(): Promise<void>;
}

export const SESSION_OPTIONS: InferenceSession.SessionOptions = Object.freeze({
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});

const WARM_BATCHES = [1, 8, 64] as const;

function isShared(a: ArrayBufferView): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && a.buffer instanceof SharedArrayBuffer;
}

class OnnxScorer implements Scorer {
  readonly cat: Int32Array;
  readonly num: Float32Array;
  /** Feeds over this.cat/this.num, one per batch size, built on first use and reused. */
  private readonly ownFeeds: (Record<string, Tensor> | undefined)[];

  constructor(
    private readonly session: SyncSession,
    readonly maxRows: number,
  ) {
    this.cat = new Int32Array(maxRows * CAT_WIDTH);
    this.num = new Float32Array(maxRows * NUM_WIDTH);
    this.ownFeeds = new Array(maxRows + 1);
  }

  private feedsFor(cat: Int32Array, num: Float32Array, rows: number): Record<string, Tensor> {
    if (cat === this.cat && num === this.num) {
      let feeds = this.ownFeeds[rows];
      if (feeds === undefined) {
        feeds = this.makeFeeds(cat, num, rows);
        this.ownFeeds[rows] = feeds;
      }
      return feeds;
    }
    // onnxruntime refuses SharedArrayBuffer-backed data: stage through the private buffers.
    if (isShared(cat)) {
      this.cat.set(cat.subarray(0, rows * CAT_WIDTH));
      cat = this.cat;
    }
    if (isShared(num)) {
      this.num.set(num.subarray(0, rows * NUM_WIDTH));
      num = this.num;
    }
    return this.makeFeeds(cat, num, rows);
  }

  private makeFeeds(cat: Int32Array, num: Float32Array, rows: number): Record<string, Tensor> {
    return {
      cat: new Tensor('int32', cat.subarray(0, rows * CAT_WIDTH), [rows, CAT_WIDTH]),
      num: new Tensor('float32', num.subarray(0, rows * NUM_WIDTH), [rows, NUM_WIDTH]),
    };
  }

  async score(cat: Int32Array, num: Float32Array, rows: number): Promise<Float32Array> {
    if (!Number.isInteger(rows) || rows < 1 || rows > this.maxRows) {
      throw new RangeError(`rows ${rows} outside [1, ${this.maxRows}]`);
    }
    if (cat.length < rows * CAT_WIDTH || num.length < rows * NUM_WIDTH) {
      throw new RangeError(`input arrays too short for ${rows} rows`);
    }
    // Synchronous on this thread (see ort-sync-session.ts); the promise only keeps the API.
    const out = this.session.run(this.feedsFor(cat, num, rows));
    return out.ctr!.data as Float32Array;
  }

  async warm(): Promise<void> {
    // Spread indices over the whole index space so every table page is touched once.
    for (let i = 0; i < this.cat.length; i++) this.cat[i] = (i * 2654435761) % TOTAL_BUCKETS;
    for (let i = 0; i < this.num.length; i++) this.num[i] = (i % 7) / 7;
    for (const n of WARM_BATCHES) {
      const rows = Math.min(n, this.maxRows);
      await this.score(this.cat, this.num, rows);
      await this.score(this.cat, this.num, rows);
    }
  }

  async release(): Promise<void> {
    this.session.release();
  }
}

/**
 * Build a scorer from model bytes shared by the main thread. The bytes are copied into a
 * private buffer first: onnxruntime does not accept SharedArrayBuffer-backed memory.
 */
export async function createScorer(shared: SharedArrayBuffer, byteLength: number, maxRows: number): Promise<Scorer> {
  if (!Number.isInteger(maxRows) || maxRows < 1) throw new RangeError(`maxRows must be a positive integer, got ${maxRows}`);
  if (byteLength > shared.byteLength) throw new RangeError(`byteLength ${byteLength} exceeds shared buffer ${shared.byteLength}`);
  const bytes = new Uint8Array(byteLength);
  bytes.set(new Uint8Array(shared, 0, byteLength));
  const session = createSyncSession(bytes, SESSION_OPTIONS);
  if (!session.outputNames.includes('ctr') || !session.inputNames.includes('cat') || !session.inputNames.includes('num')) {
    session.release();
    throw new Error(`model has inputs [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}]; the scorer needs cat, num -> ctr`);
  }
  return new OnnxScorer(session, maxRows);
}
