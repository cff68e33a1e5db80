import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { featureSpecDigest } from '../../src/features/feature-spec';
import { compareVersions, findModel, loadManifest, validateManifest } from '../../src/models/manifest';
import { ModelErrorCode } from '../../src/models/model-errors';
import { MODELS_DIR, copyModels, readManifestJson, writeManifestJson } from './fixtures/models-dir';

const codes = (r: ReturnType<typeof loadManifest>) => (r.ok ? [] : r.errors.map((e) => e.code));

t.test('the committed manifest loads', async (t) => {
  const r = loadManifest(MODELS_DIR);
  if (!r.ok) return t.fail(JSON.stringify(r.errors));
  t.same(r.manifest.models.map((m) => `${m.name}@${m.version}`), ['ctr-logreg@1.0.0', 'ctr-mlp@1.0.0', 'ctr-mlp@1.1.0', 'ctr-dnn@1.0.0']);
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
  m.models[1]!.version = m.models[0]!.version;
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
  t.equal(byAt['models[1].version'], ModelErrorCode.ManifestInvalid, 'the same name@version twice');
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

t.test('versions of one model sit side by side; a bare name means the newest', async (t) => {
  const r = loadManifest(MODELS_DIR);
  t.ok(r.ok);
  if (!r.ok) return;
  const mlp = findModel(r.manifest, 'ctr-mlp');
  t.equal(mlp.ok && mlp.entry.version, '1.1.0', 'newest ctr-mlp');
  const old = findModel(r.manifest, 'ctr-mlp@1.0.0');
  t.equal(old.ok && old.entry.file, 'ctr-mlp@1.0.0.onnx', 'exact version, in its name@version file');
  const missing = findModel(r.manifest, 'ctr-mlp@9.9.9');
  t.equal(missing.ok ? '' : missing.error.code, ModelErrorCode.NotFound);
  t.ok(compareVersions('1.10.0', '1.9.2') > 0, 'numeric parts compare as numbers');
  t.equal(compareVersions('1.0', '1.0.0'), 0);
  const named = validateManifest({ ...r.manifest, models: [{ ...r.manifest.models[0], name: 'a@b' }] });
  t.same(named.ok ? [] : named.errors.map((e) => e.at), ['models[0].name'], 'a name with @ is refused');
});
