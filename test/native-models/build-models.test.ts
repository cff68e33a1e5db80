import t from 'tap';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { buildAll, defaultOutDir, diffAgainst } from '../../native-models/build-models';
import { loadManifest } from '../../src/models/manifest';
import { loadModelShared } from '../../src/models/model-bytes';

const MODELS_DIR = resolve(__dirname, '..', '..', 'native-models');

t.test('two builds are byte-identical', async (t) => {
  const a = buildAll();
  const b = buildAll();
  t.same([...a.files.keys()], ['ctr-logreg@1.0.0.onnx', 'ctr-mlp@1.0.0.onnx', 'ctr-mlp@1.1.0.onnx', 'ctr-dnn@1.0.0.onnx', 'manifest.json']);
  for (const [name, bytes] of a.files) t.ok(Buffer.from(bytes).equals(Buffer.from(b.files.get(name)!)), name);
});

t.test('the committed files are what the script builds', async (t) => {
  t.equal(defaultOutDir(), MODELS_DIR);
  t.same(diffAgainst(MODELS_DIR, buildAll()), [], 'run `npm run models` after changing the spec or the models');
});

t.test('models are calibrated to plausible CTRs', async (t) => {
  for (const m of buildAll().manifest.models) {
    const c = m.calibration!;
    t.ok(c.meanCtr! > 0.008 && c.meanCtr! < 0.012, `${m.name} mean ${c.meanCtr}`);
    t.ok(c.p05! > 0.0005 && c.p95! < 0.06, `${m.name} p05 ${c.p05} p95 ${c.p95}`);
  }
});

t.test('the script writes a loadable set to --out and --check agrees', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'build-models-'));
  const script = resolve(__dirname, '..', '..', 'native-models', 'build-models.ts');
  const run = (args: string[]) =>
    spawnSync(process.execPath, [...process.execArgv, script, ...args], { encoding: 'utf8', env: process.env });
  const check0 = run(['--out', dir, '--check']);
  t.equal(check0.status, 1, 'check fails on an empty directory');
  const build = run(['--out', dir]);
  t.equal(build.status, 0, build.stderr);
  const check1 = run(['--out', dir, '--check']);
  t.equal(check1.status, 0, check1.stderr);
  t.ok(loadManifest(dir).ok);
  t.ok(loadModelShared(dir, 'ctr-mlp').ok);
  t.ok(readFileSync(join(dir, 'ctr-logreg@1.0.0.onnx')).equals(readFileSync(join(MODELS_DIR, 'ctr-logreg@1.0.0.onnx'))));
});
