/**
 * Stable codes for model loading failures. Loading happens at start (and on reload): the
 * caller collects these, prints them all and refuses to serve with the model. Match on
 * `code`; messages are for people and may change.
 */
export const ModelErrorCode = {
  /** manifest.json is not valid JSON or breaks the manifest schema. */
  ManifestInvalid: 'MODEL_MANIFEST_INVALID',
  /** The manifest, a model file, or a named model entry does not exist. */
  NotFound: 'MODEL_NOT_FOUND',
  /** The model file's sha256 differs from the manifest's. */
  Sha256Mismatch: 'MODEL_SHA256_MISMATCH',
  /** Graph inputs differ from the manifest or from what the feature encoder produces. */
  InputMismatch: 'MODEL_INPUT_MISMATCH',
  /** Graph outputs differ from the manifest or from what the scorer reads. */
  OutputMismatch: 'MODEL_OUTPUT_MISMATCH',
  /** The model was built for a different feature spec than this code encodes. */
  FeatureSpecMismatch: 'MODEL_FEATURE_SPEC_MISMATCH',
  /** The file is not a readable ONNX ModelProto. */
  OnnxInvalid: 'MODEL_ONNX_INVALID',
} as const;

export type ModelErrorCode = (typeof ModelErrorCode)[keyof typeof ModelErrorCode];

export interface ModelError {
  code: ModelErrorCode;
  message: string;
  /** Where: a manifest path like `models[1].sha256`, or a file path. */
  at?: string;
}

export function modelError(code: ModelErrorCode, message: string, at?: string): ModelError {
  return at === undefined ? { code, message } : { code, message, at };
}
