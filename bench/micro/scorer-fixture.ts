/**
 * A scorer built the way a worker builds it: model bytes loaded and verified as the main
 * thread does (src/models/model-bytes.ts loadModelShared), then createScorer and warm
 * (src/engine/onnx-scorer.ts). Kept apart from fixtures.ts so that only the files that run a
 * model load onnxruntime.
 */
import { join } from 'node:path';
import { loadModelShared } from '../../src/models/model-bytes';
import { createScorer, type Scorer } from '../../src/engine/onnx-scorer';
import { kMaxModelRows } from './fixtures';
import { repoRoot } from './paths';

export async function loadScorer(model: string): Promise<Scorer> {
  const loaded = loadModelShared(join(repoRoot(), 'native-models'), model);
  if (!loaded.ok) throw new Error(`${model}: ${loaded.errors.map((e) => `${e.code} ${e.message}`).join('; ')}`);
  const scorer = await createScorer(loaded.shared, loaded.byteLength, kMaxModelRows);
  await scorer.warm();
  return scorer;
}
