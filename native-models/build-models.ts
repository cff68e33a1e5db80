/**
 * Regenerates the committed CTR models and their manifest, without Python:
 *   tsc -p . && node dist/native-models/build-models.js [--out DIR] [--check]
 * Output is byte-identical on every run. `--check` rebuilds in memory and exits 1 if any
 * committed file differs (for CI: a feature spec edit without `npm run models` fails).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { FEATURE_SPEC, featureSpecDigest } from '../src/features/feature-spec';
import { MANIFEST_FILE, type Manifest } from '../src/models/manifest';
import { MODEL_INPUTS, MODEL_OUTPUTS } from '../src/models/model-io';
import { buildLogreg, buildMlp, DNN_SHAPE, MLP_SHAPE, MLP_V11_SHAPE, type BuiltModel } from './ctr-models';

export interface BuildOutput {
  /** File name -> bytes, manifest included. */
  files: Map<string, Uint8Array>;
  manifest: Manifest;
}

export function buildAll(): BuildOutput {
  const models: BuiltModel[] = [buildLogreg(), buildMlp(MLP_SHAPE), buildMlp(MLP_V11_SHAPE), buildMlp(DNN_SHAPE)];
  const files = new Map<string, Uint8Array>();
  const manifest: Manifest = {
    models: models.map((m) => {
      // Versioned files (name@version.onnx): a new version sits beside the old one, and a
      // reload (POST /admin/models/reload) loads it without touching the serving one.
      const file = `${m.name}@${m.version}.onnx`;
      files.set(file, m.bytes);
      return {
        name: m.name,
        version: m.version,
        file,
        sha256: createHash('sha256').update(m.bytes).digest('hex'),
        inputs: MODEL_INPUTS.map((t) => ({ ...t, shape: [...t.shape] })),
        outputs: MODEL_OUTPUTS.map((t) => ({ ...t, shape: [...t.shape] })),
        featureSpec: { version: FEATURE_SPEC.version, digest: featureSpecDigest() },
        description: m.description,
        calibration: { ...m.calibration },
      };
    }),
    featureSpec: FEATURE_SPEC,
  };
  files.set(MANIFEST_FILE, new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
  return { files, manifest };
}

/** The repository's native-models/ folder, whether run from source or from dist/. */
export function defaultOutDir(): string {
  let dir = resolve(__dirname);
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + __dirname);
    dir = up;
  }
  return join(dir, 'native-models');
}

/** Names of files under `dir` that are missing or differ from `out`. */
export function diffAgainst(dir: string, out: BuildOutput): string[] {
  const differing: string[] = [];
  for (const [name, bytes] of out.files) {
    const path = join(dir, name);
    if (!existsSync(path) || !Buffer.from(bytes).equals(readFileSync(path))) differing.push(name);
  }
  return differing;
}

function main(argv: readonly string[]): number {
  const outIdx = argv.indexOf('--out');
  const dir = outIdx >= 0 && argv[outIdx + 1] !== undefined ? resolve(argv[outIdx + 1]!) : defaultOutDir();
  const out = buildAll();
  if (argv.includes('--check')) {
    const differing = diffAgainst(dir, out);
    if (differing.length > 0) {
      process.stderr.write(`models out of date in ${dir}: ${differing.join(', ')} (run npm run models)\n`);
      return 1;
    }
    process.stdout.write(`models up to date in ${dir}\n`);
    return 0;
  }
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of out.files) writeFileSync(join(dir, name), bytes);
  for (const m of out.manifest.models) {
    const c = m.calibration!;
    process.stdout.write(
      `${m.file}: sha256 ${m.sha256.slice(0, 16)}.. ctr mean ${c.meanCtr} p05 ${c.p05} p50 ${c.p50} p95 ${c.p95}\n`,
    );
  }
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
