/**
 * Main-thread model loading: read a model file once, verify it against its manifest entry
 * and against this code's tensor contract and feature spec, then place the bytes in a
 * SharedArrayBuffer that every scoring worker receives (one copy in memory, not one per
 * worker, until each worker hands its private copy to onnxruntime).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FEATURE_SPEC, featureSpecDigest } from '../features/feature-spec';
import { findModel, loadManifest, type ManifestEntry } from './manifest';
import { ModelErrorCode, modelError, type ModelError } from './model-errors';
import { MODEL_INPUTS, MODEL_OUTPUTS, describeSpecs, sameTensorSpecs } from './model-io';
import { kMetaFeatureSpecDigest } from './onnx-fields';
import { inspectOnnx } from './onnx-inspect';

export type SharedModelResult =
  | { ok: true; shared: SharedArrayBuffer; byteLength: number; entry: ManifestEntry }
  | { ok: false; error: ModelError; errors: ModelError[] };

function fail(errors: ModelError[]): SharedModelResult {
  return { ok: false, error: errors[0]!, errors };
}

/** Errors from checking `bytes` against `entry`; empty when the model is acceptable. */
export function verifyModelBytes(entry: ManifestEntry, bytes: Uint8Array, at: string): ModelError[] {
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== entry.sha256) {
    return [modelError(ModelErrorCode.Sha256Mismatch, `sha256 ${sha} but manifest says ${entry.sha256}`, at)];
  }
  const inspected = inspectOnnx(bytes);
  if (!inspected.ok) return [{ ...inspected.error, at }];
  const { info } = inspected;
  const errors: ModelError[] = [];
  if (!sameTensorSpecs(info.inputs, entry.inputs) || !sameTensorSpecs(info.inputs, MODEL_INPUTS)) {
    errors.push(
      modelError(
        ModelErrorCode.InputMismatch,
        `graph inputs ${describeSpecs(info.inputs)}; manifest ${describeSpecs(entry.inputs)}; encoder ${describeSpecs(MODEL_INPUTS)}`,
        at,
      ),
    );
  }
  if (!sameTensorSpecs(info.outputs, entry.outputs) || !sameTensorSpecs(info.outputs, MODEL_OUTPUTS)) {
    errors.push(
      modelError(
        ModelErrorCode.OutputMismatch,
        `graph outputs ${describeSpecs(info.outputs)}; manifest ${describeSpecs(entry.outputs)}; scorer ${describeSpecs(MODEL_OUTPUTS)}`,
        at,
      ),
    );
  }
  const digest = info.metadata[kMetaFeatureSpecDigest];
  if (digest !== featureSpecDigest() || entry.featureSpec.digest !== featureSpecDigest()) {
    errors.push(
      modelError(
        ModelErrorCode.FeatureSpecMismatch,
        `model metadata digest ${digest ?? '(none)'}, manifest ${entry.featureSpec.digest}, code ${featureSpecDigest()} (spec ${FEATURE_SPEC.version})`,
        at,
      ),
    );
  }
  return errors;
}

export function readModelShared(entry: ManifestEntry, dir: string): SharedModelResult {
  const path = join(dir, entry.file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    return fail([modelError(ModelErrorCode.NotFound, `cannot read model file: ${(e as Error).message}`, path)]);
  }
  const errors = verifyModelBytes(entry, bytes, path);
  if (errors.length > 0) return fail(errors);
  const shared = new SharedArrayBuffer(bytes.length);
  new Uint8Array(shared).set(bytes);
  return { ok: true, shared, byteLength: bytes.length, entry };
}

/** loadManifest + findModel + readModelShared: what the main thread calls at start. */
export function loadModelShared(dir: string, name: string): SharedModelResult {
  const m = loadManifest(dir);
  if (!m.ok) return fail(m.errors);
  const found = findModel(m.manifest, name);
  if (!found.ok) return fail([found.error]);
  return readModelShared(found.entry, dir);
}

export interface SharedModel {
  entry: ManifestEntry;
  shared: SharedArrayBuffer;
  byteLength: number;
}

export type SharedModelsResult =
  | { ok: true; models: SharedModel[]; active: SharedModel }
  | { ok: false; error: ModelError; errors: ModelError[] };

/**
 * Every model of the manifest, each read once and verified, and the one named `active`
 * that scores bids. Workers hold sessions for all of them, so switching or splitting
 * traffic between models needs no reload; one bad model refuses the whole start.
 */
export function loadAllModelsShared(dir: string, active: string): SharedModelsResult {
  const m = loadManifest(dir);
  if (!m.ok) return { ok: false, error: m.errors[0]!, errors: m.errors };
  const found = findModel(m.manifest, active);
  if (!found.ok) return { ok: false, error: found.error, errors: [found.error] };
  const models: SharedModel[] = [];
  const errors: ModelError[] = [];
  for (const entry of m.manifest.models) {
    const r = readModelShared(entry, dir);
    if (r.ok) models.push({ entry, shared: r.shared, byteLength: r.byteLength });
    else errors.push(...r.errors);
  }
  if (errors.length > 0) return { ok: false, error: errors[0]!, errors };
  const activeEntry = found.entry;
  return { ok: true, models, active: models.find((x) => x.entry === activeEntry)! };
}
