/**
 * manifest.json: which model files exist, their sha256, tensor contract and the feature
 * spec they were built for. Validated as a whole: every problem is reported, not the first.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FEATURE_SPEC, featureSpecDigest, featureSpecDigestOf, type FeatureSpec } from '../features/feature-spec';
import { ModelErrorCode, modelError, type ModelError } from './model-errors';
import { MODEL_INPUTS, MODEL_OUTPUTS, describeSpecs, sameTensorSpecs, type TensorSpec } from './model-io';

export const MANIFEST_FILE = 'manifest.json';

export interface ManifestEntry {
  name: string;
  version: string;
  /** File name relative to the manifest's directory; never a path. */
  file: string;
  sha256: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  featureSpec: { version: string; digest: string };
  description: string;
  calibration?: Record<string, number>;
}

export interface Manifest {
  models: ManifestEntry[];
  /** The full spec the models were built for, for training tools; optional for loading. */
  featureSpec?: FeatureSpec;
}

export type ManifestResult = { ok: true; manifest: Manifest } | { ok: false; errors: ModelError[] };

const SHA256_HEX = /^[0-9a-f]{64}$/;
const SAFE_FILE = /^[A-Za-z0-9][A-Za-z0-9._@-]*$/;

export function loadManifest(dir: string): ManifestResult {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { ok: false, errors: [modelError(ModelErrorCode.NotFound, `cannot read manifest: ${(e as Error).message}`, path)] };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, errors: [modelError(ModelErrorCode.ManifestInvalid, `manifest is not JSON: ${(e as Error).message}`, path)] };
  }
  return validateManifest(json);
}

/**
 * Orders versions: dot-separated numeric parts compare as numbers ("1.10.0" after "1.9.2"),
 * anything else as text. Used to pick the newest version when only a name is given.
 */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    const c = Number.isNaN(nx) || Number.isNaN(ny) ? x.localeCompare(y) : nx - ny;
    if (c !== 0) return c;
  }
  return 0;
}

/** `name@version` splits in two; a bare name has version null (the newest is meant). */
export function parseModelRef(ref: string): { name: string; version: string | null } {
  const at = ref.indexOf('@');
  return at < 0 ? { name: ref, version: null } : { name: ref.slice(0, at), version: ref.slice(at + 1) };
}

/** Picks `ref` ("name" = its newest version, or "name@version") among `entries`. */
export function pickModel<T extends { name: string; version: string }>(entries: readonly T[], ref: string): T | undefined {
  const { name, version } = parseModelRef(ref);
  let best: T | undefined;
  for (const e of entries) {
    if (e.name !== name) continue;
    if (version !== null) {
      if (e.version === version) return e;
      continue;
    }
    if (best === undefined || compareVersions(e.version, best.version) > 0) best = e;
  }
  return best;
}

/** The manifest entry for `ref`: "name" (its newest version) or "name@version". */
export function findModel(manifest: Manifest, ref: string): { ok: true; entry: ManifestEntry } | { ok: false; error: ModelError } {
  const entry = pickModel(manifest.models, ref);
  if (entry === undefined) {
    const known = manifest.models.map((m) => `${m.name}@${m.version}`).join(', ');
    return { ok: false, error: modelError(ModelErrorCode.NotFound, `no model ${ref} in manifest (has: ${known})`) };
  }
  return { ok: true, entry };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

export function validateManifest(json: unknown): ManifestResult {
  const errors: ModelError[] = [];
  const invalid = (at: string, message: string) => errors.push(modelError(ModelErrorCode.ManifestInvalid, message, at));

  if (!isObject(json)) return { ok: false, errors: [modelError(ModelErrorCode.ManifestInvalid, 'manifest must be an object', '$')] };
  if (!Array.isArray(json.models) || json.models.length === 0) {
    invalid('models', 'models must be a non-empty array');
    return { ok: false, errors };
  }

  const codeDigest = featureSpecDigest();
  if (json.featureSpec !== undefined) {
    if (!isObject(json.featureSpec)) invalid('featureSpec', 'featureSpec must be an object');
    else if (featureSpecDigestOf(json.featureSpec as unknown as FeatureSpec) !== codeDigest) {
      errors.push(modelError(ModelErrorCode.FeatureSpecMismatch, 'embedded feature spec differs from the code\'s FEATURE_SPEC', 'featureSpec'));
    }
  }

  const names = new Set<string>();
  json.models.forEach((m: unknown, i: number) => {
    const at = `models[${i}]`;
    if (!isObject(m)) {
      invalid(at, 'model entry must be an object');
      return;
    }
    for (const key of ['name', 'version', 'file', 'description'] as const) {
      if (!nonEmptyString(m[key])) invalid(`${at}.${key}`, `${key} must be a non-empty string`);
    }
    if (nonEmptyString(m.name) && nonEmptyString(m.version)) {
      // Versions of one model sit side by side; the same name@version twice is ambiguous.
      const id = `${m.name}@${m.version}`;
      if (names.has(id)) invalid(`${at}.version`, `duplicate model ${id}`);
      names.add(id);
    }
    if (nonEmptyString(m.name) && m.name.includes('@')) invalid(`${at}.name`, 'name must not contain @ (it separates name and version)');
    if (nonEmptyString(m.file) && (!SAFE_FILE.test(m.file) || m.file.includes('..'))) {
      invalid(`${at}.file`, 'file must be a plain file name in the manifest directory');
    }
    if (typeof m.sha256 !== 'string' || !SHA256_HEX.test(m.sha256)) invalid(`${at}.sha256`, 'sha256 must be 64 lowercase hex digits');

    checkTensors(m.inputs, `${at}.inputs`, MODEL_INPUTS, ModelErrorCode.InputMismatch, errors);
    checkTensors(m.outputs, `${at}.outputs`, MODEL_OUTPUTS, ModelErrorCode.OutputMismatch, errors);

    const fs = m.featureSpec;
    if (!isObject(fs) || !nonEmptyString(fs.version) || !nonEmptyString(fs.digest)) {
      invalid(`${at}.featureSpec`, 'featureSpec must be { version, digest } strings');
    } else if (fs.digest !== codeDigest || fs.version !== FEATURE_SPEC.version) {
      errors.push(
        modelError(
          ModelErrorCode.FeatureSpecMismatch,
          `built for feature spec ${fs.version} (${fs.digest.slice(0, 12)}), code encodes ${FEATURE_SPEC.version} (${codeDigest.slice(0, 12)})`,
          `${at}.featureSpec`,
        ),
      );
    }
    if (m.calibration !== undefined && !isObject(m.calibration)) invalid(`${at}.calibration`, 'calibration must be an object');
  });

  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, manifest: json as unknown as Manifest };
}

function isTensorSpec(v: unknown): v is TensorSpec {
  return (
    isObject(v) &&
    nonEmptyString(v.name) &&
    nonEmptyString(v.type) &&
    Array.isArray(v.shape) &&
    v.shape.every((d) => (typeof d === 'number' && Number.isInteger(d) && d > 0) || nonEmptyString(d))
  );
}

function checkTensors(v: unknown, at: string, expected: readonly TensorSpec[], code: ModelErrorCode, errors: ModelError[]): void {
  if (!Array.isArray(v) || !v.every(isTensorSpec)) {
    errors.push(modelError(ModelErrorCode.ManifestInvalid, 'must be an array of { name, type, shape }', at));
    return;
  }
  if (!sameTensorSpecs(v, expected)) {
    errors.push(modelError(code, `declares ${describeSpecs(v)}, the encoder/scorer contract is ${describeSpecs(expected)}`, at));
  }
}
