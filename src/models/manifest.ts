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
const SAFE_FILE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

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

export function findModel(manifest: Manifest, name: string): { ok: true; entry: ManifestEntry } | { ok: false; error: ModelError } {
  const entry = manifest.models.find((m) => m.name === name);
  if (entry === undefined) {
    const known = manifest.models.map((m) => m.name).join(', ');
    return { ok: false, error: modelError(ModelErrorCode.NotFound, `no model named ${name} in manifest (has: ${known})`) };
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
    if (nonEmptyString(m.name)) {
      if (names.has(m.name)) invalid(`${at}.name`, `duplicate model name ${m.name}`);
      names.add(m.name);
    }
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
