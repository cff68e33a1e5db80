import t from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CAT_WIDTH, NUM_WIDTH } from '../../src/features/feature-spec';
import { loadManifest, type ManifestEntry } from '../../src/models/manifest';
import { loadAllModelsShared, loadModelShared, readModelShared } from '../../src/models/model-bytes';
import { ModelErrorCode } from '../../src/models/model-errors';
import { TensorDataType, kMetaFeatureSpecDigest } from '../../src/models/onnx-fields';
import { encodeModel } from '../../native-models/onnx-builder';
import { MODELS_DIR, copyModels, readManifestJson, writeManifestJson } from './fixtures/models-dir';

function entry(dir: string, name: string): ManifestEntry {
  const m = loadManifest(dir);
  if (!m.ok) throw new Error(JSON.stringify(m.errors));
  return m.manifest.models.find((e) => e.name === name)!;
}

t.test('verified bytes land in a SharedArrayBuffer unchanged', async (t) => {
  for (const name of ['ctr-logreg@1.0.0', 'ctr-mlp@1.0.0', 'ctr-mlp@1.1.0', 'ctr-dnn@1.0.0']) {
    const r = loadModelShared(MODELS_DIR, name);
    if (!r.ok) return t.fail(JSON.stringify(r.errors));
    t.ok(r.shared instanceof SharedArrayBuffer);
    const file = readFileSync(join(MODELS_DIR, `${name}.onnx`));
    t.equal(r.byteLength, file.length);
    t.ok(Buffer.from(new Uint8Array(r.shared, 0, r.byteLength)).equals(file), `${name} bytes identical`);
  }
});

t.test('a tampered file is refused with MODEL_SHA256_MISMATCH', async (t) => {
  const dir = copyModels();
  const path = join(dir, 'ctr-logreg@1.0.0.onnx');
  const bytes = readFileSync(path);
  bytes[bytes.length - 1] ^= 1;
  writeFileSync(path, bytes);
  const r = readModelShared(entry(dir, 'ctr-logreg'), dir);
  t.equal(r.ok ? 'ok' : r.error.code, ModelErrorCode.Sha256Mismatch);
});

t.test('a missing file is MODEL_NOT_FOUND, as is an unknown model name', async (t) => {
  const dir = copyModels();
  rmSync(join(dir, 'ctr-mlp@1.0.0.onnx'));
  const r = readModelShared(entry(dir, 'ctr-mlp'), dir);
  t.equal(r.ok ? 'ok' : r.error.code, ModelErrorCode.NotFound);
  const n = loadModelShared(MODELS_DIR, 'ctr-gbdt');
  t.equal(n.ok ? 'ok' : n.error.code, ModelErrorCode.NotFound);
});

/** A model with no nodes: readable protobuf with chosen I/O and metadata (never run). */
function tinyModel(catWidth: number, digest: string): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opset: 17,
    producerName: 'test',
    producerVersion: '0',
    modelVersion: 1,
    docString: '',
    metadata: { [kMetaFeatureSpecDigest]: digest },
    graph: {
      name: 'tiny',
      nodes: [],
      initializers: [],
      inputs: [
        { name: 'cat', elemType: TensorDataType.INT32, dims: ['N', catWidth] },
        { name: 'num', elemType: TensorDataType.FLOAT, dims: ['N', NUM_WIDTH] },
      ],
      outputs: [{ name: 'ctr', elemType: TensorDataType.FLOAT, dims: ['N', 1] }],
    },
  });
}

function installModel(dir: string, bytes: Uint8Array): ManifestEntry {
  writeFileSync(join(dir, 'ctr-logreg@1.0.0.onnx'), bytes);
  const m = readManifestJson(dir);
  m.models[0]!.sha256 = createHash('sha256').update(bytes).digest('hex');
  writeManifestJson(dir, m);
  return entry(dir, 'ctr-logreg');
}

t.test('graph inputs that differ from manifest and encoder -> MODEL_INPUT_MISMATCH', async (t) => {
  const dir = copyModels();
  const good = entry(dir, 'ctr-logreg');
  const e = installModel(dir, tinyModel(CAT_WIDTH - 1, good.featureSpec.digest));
  const r = readModelShared(e, dir);
  t.same(r.ok ? [] : r.errors.map((x) => x.code), [ModelErrorCode.InputMismatch]);
});

t.test('a model whose embedded spec digest differs -> MODEL_FEATURE_SPEC_MISMATCH', async (t) => {
  const dir = copyModels();
  const e = installModel(dir, tinyModel(CAT_WIDTH, 'f'.repeat(64)));
  const r = readModelShared(e, dir);
  t.same(r.ok ? [] : r.errors.map((x) => x.code), [ModelErrorCode.FeatureSpecMismatch]);
});

t.test('not an ONNX file (sha matching) -> MODEL_ONNX_INVALID', async (t) => {
  const dir = copyModels();
  const e = installModel(dir, new TextEncoder().encode('definitely not protobuf'));
  const r = readModelShared(e, dir);
  t.equal(r.ok ? 'ok' : r.error.code, ModelErrorCode.OnnxInvalid);
});

t.test('every model of the manifest is loaded once; the active one is picked; one bad model refuses them all', async (t) => {
  const all = loadAllModelsShared(MODELS_DIR, 'ctr-mlp');
  if (!all.ok) return t.fail(JSON.stringify(all.errors));
  t.same(all.models.map((m) => `${m.entry.name}@${m.entry.version}`).sort(), ['ctr-dnn@1.0.0', 'ctr-logreg@1.0.0', 'ctr-mlp@1.0.0', 'ctr-mlp@1.1.0']);
  t.equal(`${all.active.entry.name}@${all.active.entry.version}`, 'ctr-mlp@1.1.0', 'a bare name is its newest version');
  t.ok(all.models.every((m) => m.shared instanceof SharedArrayBuffer && m.byteLength > 0));

  const missing = loadAllModelsShared(MODELS_DIR, 'ctr-gbdt');
  t.equal(missing.ok, false);
  if (!missing.ok) t.equal(missing.error.code, ModelErrorCode.NotFound);

  // The inactive model is corrupted: the start is still refused, naming that file.
  const dir = copyModels();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'ctr-logreg@1.0.0.onnx');
  const bytes = readFileSync(file);
  bytes[bytes.length - 10] ^= 0xff;
  writeFileSync(file, bytes);
  const bad = loadAllModelsShared(dir, 'ctr-mlp');
  t.equal(bad.ok, false);
  if (!bad.ok) {
    t.equal(bad.error.code, ModelErrorCode.Sha256Mismatch);
    t.match(bad.error.at ?? '', /ctr-logreg@1\.0\.0\.onnx$/);
  }
});
