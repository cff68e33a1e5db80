import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CAT_WIDTH, NUM_WIDTH, featureSpecDigest } from '../../src/features/feature-spec';
import { ModelErrorCode } from '../../src/models/model-errors';
import { kMetaFeatureSpecDigest } from '../../src/models/onnx-fields';
import { inspectOnnx } from '../../src/models/onnx-inspect';
import { MODELS_DIR } from './fixtures/models-dir';

for (const name of ['ctr-logreg@1.0.0', 'ctr-mlp@1.0.0', 'ctr-mlp@1.1.0', 'ctr-dnn@1.0.0']) {
  t.test(`${name}: inputs, outputs, opset, metadata`, async (t) => {
    const r = inspectOnnx(readFileSync(join(MODELS_DIR, `${name}.onnx`)));
    if (!r.ok) return t.fail(r.error.message);
    t.same(r.info.inputs, [
      { name: 'cat', type: 'int32', shape: ['N', CAT_WIDTH] },
      { name: 'num', type: 'float32', shape: ['N', NUM_WIDTH] },
    ]);
    t.same(r.info.outputs, [{ name: 'ctr', type: 'float32', shape: ['N', 1] }]);
    t.equal(r.info.irVersion, 8);
    t.same(r.info.opsets, [{ domain: '', version: 17 }]);
    t.equal(r.info.metadata[kMetaFeatureSpecDigest], featureSpecDigest());
  });
}

t.test('garbage and truncated files -> MODEL_ONNX_INVALID', async (t) => {
  const bytes = readFileSync(join(MODELS_DIR, 'ctr-logreg@1.0.0.onnx'));
  const cases: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['text', new TextEncoder().encode('hello, not a model')],
    ['truncated', bytes.subarray(0, bytes.length - 100)],
    ['all 0xff', new Uint8Array(64).fill(0xff)],
  ];
  for (const [label, b] of cases) {
    const r = inspectOnnx(b);
    t.equal(r.ok ? 'ok' : r.error.code, ModelErrorCode.OnnxInvalid, label);
  }
});
