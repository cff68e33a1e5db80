/**
 * A scorer that answers every row with the same CTR, without a model: the engine's own
 * cost, with onnxruntime taken out. Shared by the pipeline and engine-batch cases.
 */
import { CAT_WIDTH, NUM_WIDTH } from '../../src/features/feature-encoder';
import type { Scorer } from '../../src/engine/onnx-scorer';
import { kMaxModelRows } from './fixtures';

export const STUB_CTR = 0.02;

export class StubScorer implements Scorer {
  readonly maxRows = kMaxModelRows;
  readonly cat = new Int32Array(kMaxModelRows * CAT_WIDTH);
  readonly num = new Float32Array(kMaxModelRows * NUM_WIDTH);
  private readonly out = new Float32Array(kMaxModelRows).fill(STUB_CTR);
  score(_cat: Int32Array, _num: Float32Array, rows: number): Promise<Float32Array> {
    return Promise.resolve(this.out.subarray(0, rows));
  }
  async warm(): Promise<void> {}
  async release(): Promise<void> {}
}
