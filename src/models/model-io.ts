/**
 * The tensor contract between the feature encoder and every CTR model: what the encoder
 * writes and the scorer reads. Manifests and graphs are checked against this, not just
 * against each other.
 */
import { CAT_WIDTH, NUM_WIDTH } from '../features/feature-spec';

export type Dim = number | string;

export interface TensorSpec {
  name: string;
  type: string;
  shape: Dim[];
}

export const BATCH_DIM = 'N';

export const MODEL_INPUTS: readonly TensorSpec[] = Object.freeze([
  { name: 'cat', type: 'int32', shape: [BATCH_DIM, CAT_WIDTH] },
  { name: 'num', type: 'float32', shape: [BATCH_DIM, NUM_WIDTH] },
]);

export const MODEL_OUTPUTS: readonly TensorSpec[] = Object.freeze([{ name: 'ctr', type: 'float32', shape: [BATCH_DIM, 1] }]);

export function sameTensorSpecs(a: readonly TensorSpec[], b: readonly TensorSpec[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name || x.type !== y.type || x.shape.length !== y.shape.length) return false;
    for (let d = 0; d < x.shape.length; d++) if (x.shape[d] !== y.shape[d]) return false;
  }
  return true;
}

export function describeSpecs(specs: readonly TensorSpec[]): string {
  return specs.map((s) => `${s.name}:${s.type}[${s.shape.join(',')}]`).join(' ');
}
