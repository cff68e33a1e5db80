import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { featureSpecDigest } from '../../src/features/feature-spec';
import { findModel, loadManifest, validateManifest } from '../../src/models/manifest';
import { ModelErrorCode } from '../../src/models/model-errors';
import { MODELS_DIR, copyModels, readManifestJson, writeManifestJson } from './fixtures/models-dir';

const codes = (r: ReturnType<typeof loadManifest>) => (r.ok ? [] : r.errors.map((e) => e.code));

t.test('the committed manifest loads', async (t) => {
  const r = loadManifest(MODELS_DIR);
  if (!r.ok) return t.fail(JSON.stringify(r.errors));
  t.same(r.manifest.models.map((m) => m.name), ['ctr-logreg', 'ctr-mlp', 'ctr-dnn']);
  for (const m of r.manifest.models) t.equal(m.featureSpec.digest, featureSpecDigest());
  t.ok(findModel(r.manifest, 'ctr-mlp').ok);
  const missing = findModel(r.manifest, 'nope');
  t.equal(missing.ok ? '' : missing.error.code, ModelErrorCode.NotFound);
});

t.test('missing directory -> MODEL_NOT_FOUND', async (t) => {
  t.same(codes(loadManifest(join(tmpdir(), 'does-not-exist-' + process.pid))), [ModelErrorCode.NotFound]);
});

t.test('bad JSON -> MODEL_MANIFEST_INVALID', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'manifest-'));
  writeFileSync(join(dir, 'manifest.json'), '{ "models": [');
  t.same(codes(loadManifest(dir)), [ModelErrorCode.ManifestInvalid]);
});

t.test('every problem is listed, each with its code and place', async (t) => {
  const dir = copyModels();
  const m = readManifestJson(dir) as unknown as { models: Record<string, unknown>[] };
  m.models[0]!.sha256 = 'xyz';
  m.models[0]!.file = '../etc/passwd';
  (m.models[0]!.inputs as { shape: unknown[] }[])[0]!.shape = ['N', 17];
  m.models[1]!.featureSpec = { version: '0.9.0', digest: '0'.repeat(64) };
  (m.models[1]!.outputs as { type: string }[])[0]!.type = 'float64';
  m.models[1]!.name = m.models[0]!.name;
  writeManifestJson(dir, m);
  const r = loadManifest(dir);
  t.notOk(r.ok);
  if (r.ok) return;
  const byAt = Object.fromEntries(r.errors.map((e) => [e.at, e.code]));
  t.equal(byAt['models[0].sha256'], ModelErrorCode.ManifestInvalid);
  t.equal(byAt['models[0].file'], ModelErrorCode.ManifestInvalid);
  t.equal(byAt['models[0].inputs'], ModelErrorCode.InputMismatch);
  t.equal(byAt['models[1].featureSpec'], ModelErrorCode.FeatureSpecMismatch);
  t.equal(byAt['models[1].outputs'], ModelErrorCode.OutputMismatch);
  t.equal(byAt['models[1].name'], ModelErrorCode.ManifestInvalid, 'duplicate name');
  t.equal(r.errors.length, 6);
});

t.test('an embedded feature spec that differs from the code is refused', async (t) => {
  const m = readManifestJson(MODELS_DIR) as unknown as { featureSpec: { version: string } };
  m.featureSpec.version = '2.0.0';
  const r = validateManifest(m);
  t.same(r.ok ? [] : r.errors.map((e) => [e.code, e.at]), [[ModelErrorCode.FeatureSpecMismatch, 'featureSpec']]);
});

t.test('structural garbage', async (t) => {
  for (const bad of [null, [], { models: [] }, { models: [42] }, { models: [{}] }]) {
    const r = validateManifest(bad);
    t.notOk(r.ok, JSON.stringify(bad));
    if (!r.ok) t.ok(r.errors.every((e) => e.code === ModelErrorCode.ManifestInvalid));
  }
});
