/**
 * The CTR models: graph layout plus deterministic weights. The weights are not trained;
 * they are random but shaped so that outputs look like real click-through rates (mostly
 * 0.1%-5%, mean about 1%) and depend on every feature. A calibration pass over a seeded
 * synthetic sample scales the last layer to a target logit spread and solves the bias for
 * the target mean, so the result does not depend on hand-tuned constants staying right
 * when the feature spec changes.
 */
import {
  CAT_WIDTH,
  FEATURE_SPEC,
  NUM_WIDTH,
  TOTAL_BUCKETS,
  featureSpecDigest,
  numericColumn,
} from '../src/features/feature-spec';
import { TensorDataType, kMetaFeatureSpecDigest, kMetaFeatureSpecVersion } from '../src/models/onnx-fields';
import { MODEL_INPUTS, MODEL_OUTPUTS, type TensorSpec } from '../src/models/model-io';
import { encodeModel, type Model, type ValueInfo } from './onnx-builder';
import { mulberry32, normal } from './prng';

export const IR_VERSION = 8;
export const OPSET = 17;
/** An MLP's shape: embedding width per hashed field and two hidden layers. */
export interface MlpShape {
  name: string;
  graphName: string;
  seed: number;
  /** The manifest version of the model built from this shape (default 1.0.0). */
  version?: string;
  embedDim: number;
  hidden1: number;
  hidden2: number;
}

/** The small MLP: about 11k multiply-adds per row. */
export const MLP_SHAPE: MlpShape = { name: 'ctr-mlp', graphName: 'ctr_mlp', seed: 0x31f00d, embedDim: 8, hidden1: 64, hidden2: 32 };
/**
 * A production-sized ranking MLP: wider embeddings and hidden layers, about 283k
 * multiply-adds per row (25x ctr-mlp), so that scoring, not request handling, is the
 * larger cost, as with the models exchanges' buyers serve.
 */
/**
 * A second version of ctr-mlp (other seeded weights, same layout): the registry's versioned
 * pair, so a hot swap between two versions of one model can be shown and tested.
 */
export const MLP_V11_SHAPE: MlpShape = { ...MLP_SHAPE, seed: 0x31f011, version: '1.1.0' };

export const DNN_SHAPE: MlpShape = { name: 'ctr-dnn', graphName: 'ctr_dnn', seed: 0xd11d00, embedDim: 16, hidden1: 512, hidden2: 256 };

const TARGET_MEAN_CTR = 0.01;
const TARGET_LOGIT_STD = 0.8;
const CALIBRATION_ROWS = 4096;

/** Relative influence of each field; unknown names get the default so spec edits still build. */
const FIELD_SCALE: Readonly<Record<string, number>> = {
  country: 0.6,
  region: 0.4,
  device_type: 0.5,
  os: 0.4,
  site_or_app: 1.0,
  publisher: 0.7,
  hour: 0.3,
  connection_type: 0.3,
  is_app: 0.4,
  imp_media: 0.5,
  imp_size: 0.7,
  position: 0.5,
  campaign: 1.0,
  creative: 0.8,
  advertiser_domain: 0.6,
  iab_category: 0.5,
  campaign_x_site: 0.8,
  creative_size_x_device_type: 0.5,
};
const DEFAULT_FIELD_SCALE = 0.5;

/** Hand-set numeric effects (before calibration scaling): interstitials click more, etc. */
const NUMERIC_WEIGHT: Readonly<Record<string, number>> = {
  log_floor: 0.15,
  tmax: 0.05,
  is_secure: 0.05,
  interstitial: 0.4,
  has_ifa: 0.1,
  limited_tracking: -0.1,
  hour_sin: 0.1,
  hour_cos: -0.05,
};

const ELEM_TYPE: Readonly<Record<string, number>> = { int32: TensorDataType.INT32, float32: TensorDataType.FLOAT };
const toValueInfo = (t: TensorSpec): ValueInfo => ({ name: t.name, elemType: ELEM_TYPE[t.type]!, dims: t.shape });

/** Graph I/O is the encoder/scorer contract itself, so the two cannot diverge. */
export const INPUTS: readonly ValueInfo[] = MODEL_INPUTS.map(toValueInfo);
export const OUTPUTS: readonly ValueInfo[] = MODEL_OUTPUTS.map(toValueInfo);

export interface Calibration {
  rows: number;
  meanCtr: number;
  p05: number;
  p50: number;
  p95: number;
}

export interface BuiltModel {
  name: string;
  version: string;
  description: string;
  bytes: Uint8Array;
  calibration: Calibration;
}

interface Sample {
  cat: Int32Array;
  num: Float64Array;
  rows: number;
}

function fieldScales(): Float64Array {
  const s = new Float64Array(TOTAL_BUCKETS);
  for (const f of FEATURE_SPEC.categorical) s.fill(FIELD_SCALE[f.name] ?? DEFAULT_FIELD_SCALE, f.offset, f.offset + f.buckets);
  return s;
}

/** Synthetic rows: each field uniform over its buckets, numerics over plausible ranges. */
function calibrationSample(seed: number): Sample {
  const rand = mulberry32(seed);
  const rows = CALIBRATION_ROWS;
  const cat = new Int32Array(rows * CAT_WIDTH);
  const num = new Float64Array(rows * NUM_WIDTH);
  const col = (n: string) => numericColumn(n);
  for (let r = 0; r < rows; r++) {
    FEATURE_SPEC.categorical.forEach((f, j) => {
      cat[r * CAT_WIDTH + j] = f.offset + Math.floor(rand() * f.buckets);
    });
    const nb = r * NUM_WIDTH;
    const hour = Math.floor(rand() * 24);
    num[nb + col('log_floor')] = Math.log1p(rand() * 5);
    num[nb + col('tmax')] = 0.1 + rand() * 0.9;
    num[nb + col('is_secure')] = rand() < 0.8 ? 1 : 0;
    num[nb + col('interstitial')] = rand() < 0.1 ? 1 : 0;
    num[nb + col('has_ifa')] = rand() < 0.5 ? 1 : 0;
    num[nb + col('limited_tracking')] = rand() < 0.1 ? 1 : 0;
    num[nb + col('hour_sin')] = Math.sin((2 * Math.PI * hour) / 24);
    num[nb + col('hour_cos')] = Math.cos((2 * Math.PI * hour) / 24);
  }
  return { cat, num, rows };
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/** Scale for raw logits and a bias so that mean sigmoid hits the target; returns final stats. */
function calibrate(raw: Float64Array): { scale: number; bias: number; calibration: Calibration } {
  const n = raw.length;
  let mean = 0;
  for (const z of raw) mean += z;
  mean /= n;
  let variance = 0;
  for (const z of raw) variance += (z - mean) * (z - mean);
  const std = Math.sqrt(variance / n);
  const scale = std > 0 ? TARGET_LOGIT_STD / std : 1;
  // mean sigmoid is monotonic in the bias: bisect.
  let lo = -20;
  let hi = 5;
  for (let it = 0; it < 100; it++) {
    const mid = (lo + hi) / 2;
    let m = 0;
    for (const z of raw) m += sigmoid((z - mean) * scale + mid);
    if (m / n > TARGET_MEAN_CTR) hi = mid;
    else lo = mid;
  }
  const centredBias = (lo + hi) / 2;
  const bias = centredBias - mean * scale;
  const ctr = Array.from(raw, (z) => Math.fround(sigmoid(z * scale + bias))).sort((a, b) => a - b);
  const q = (p: number) => round6(ctr[Math.min(n - 1, Math.floor(p * n))]!);
  return {
    scale,
    bias,
    calibration: { rows: n, meanCtr: round6(ctr.reduce((a, b) => a + b, 0) / n), p05: q(0.05), p50: q(0.5), p95: q(0.95) },
  };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function modelShell(name: string, docString: string, nodes: Model['graph']['nodes'], initializers: Model['graph']['initializers']): Model {
  return {
    irVersion: IR_VERSION,
    opset: OPSET,
    producerName: 'rtb-bidder/native-models',
    producerVersion: '1.0.0',
    modelVersion: 1,
    docString,
    metadata: { [kMetaFeatureSpecDigest]: featureSpecDigest(), [kMetaFeatureSpecVersion]: FEATURE_SPEC.version },
    graph: { name, nodes, initializers, inputs: INPUTS, outputs: OUTPUTS },
  };
}

export function buildLogreg(): BuiltModel {
  const rand = mulberry32(0x10c0e6);
  const scales = fieldScales();
  const wCat = new Float64Array(TOTAL_BUCKETS);
  for (let i = 0; i < TOTAL_BUCKETS; i++) wCat[i] = normal(rand) * scales[i]!;
  const wNum = new Float64Array(NUM_WIDTH);
  FEATURE_SPEC.numeric.forEach((f, j) => (wNum[j] = NUMERIC_WEIGHT[f.name] ?? 0));

  const sample = calibrationSample(0xca11b);
  const raw = new Float64Array(sample.rows);
  for (let r = 0; r < sample.rows; r++) {
    let z = 0;
    for (let j = 0; j < CAT_WIDTH; j++) z += wCat[sample.cat[r * CAT_WIDTH + j]!]!;
    for (let j = 0; j < NUM_WIDTH; j++) z += wNum[j]! * sample.num[r * NUM_WIDTH + j]!;
    raw[r] = z;
  }
  const { scale, bias, calibration } = calibrate(raw);

  const description =
    'Logistic regression over the hashed feature space: sigmoid(sum_f w[cat_f] + num . w_num + b). Untrained, seeded weights calibrated to a plausible CTR distribution.';
  const model = modelShell(
    'ctr_logreg',
    description,
    [
      { opType: 'Gather', name: 'gather_w', inputs: ['w_cat', 'cat'], outputs: ['w_rows'], attrs: { axis: { kind: 'int', value: 0 } } },
      { opType: 'ReduceSum', name: 'sum_fields', inputs: ['w_rows', 'axes_fields'], outputs: ['cat_logit'], attrs: { keepdims: { kind: 'int', value: 0 } } },
      { opType: 'MatMul', name: 'num_matmul', inputs: ['num', 'w_num'], outputs: ['num_logit'] },
      { opType: 'Add', name: 'add_parts', inputs: ['cat_logit', 'num_logit'], outputs: ['logit_nobias'] },
      { opType: 'Add', name: 'add_bias', inputs: ['logit_nobias', 'bias'], outputs: ['logit'] },
      { opType: 'Sigmoid', name: 'sigmoid', inputs: ['logit'], outputs: ['ctr'] },
    ],
    [
      { name: 'w_cat', dims: [TOTAL_BUCKETS, 1], data: Float32Array.from(wCat, (w) => w * scale) },
      { name: 'w_num', dims: [NUM_WIDTH, 1], data: Float32Array.from(wNum, (w) => w * scale) },
      { name: 'bias', dims: [1], data: Float32Array.of(bias) },
      { name: 'axes_fields', dims: [1], data: BigInt64Array.of(1n) },
    ],
  );
  return { name: 'ctr-logreg', version: '1.0.0', description, bytes: encodeModel(model), calibration };
}

function heMatrix(rand: () => number, rows: number, cols: number): Float64Array {
  const m = new Float64Array(rows * cols);
  const s = Math.sqrt(2 / rows);
  for (let i = 0; i < m.length; i++) m[i] = normal(rand) * s;
  return m;
}

export function buildMlp(shape: MlpShape = MLP_SHAPE): BuiltModel {
  const { embedDim: EMBED_DIM, hidden1: HIDDEN1, hidden2: HIDDEN2 } = shape;
  const rand = mulberry32(shape.seed);
  const scales = fieldScales();
  const embed = new Float64Array(TOTAL_BUCKETS * EMBED_DIM);
  for (let i = 0; i < TOTAL_BUCKETS; i++) {
    for (let k = 0; k < EMBED_DIM; k++) embed[i * EMBED_DIM + k] = normal(rand) * scales[i]!;
  }
  const inDim = CAT_WIDTH * EMBED_DIM + NUM_WIDTH;
  const w1 = heMatrix(rand, inDim, HIDDEN1);
  const b1 = Float64Array.from({ length: HIDDEN1 }, () => normal(rand) * 0.05);
  const w2 = heMatrix(rand, HIDDEN1, HIDDEN2);
  const b2 = Float64Array.from({ length: HIDDEN2 }, () => normal(rand) * 0.05);
  const w3 = Float64Array.from({ length: HIDDEN2 }, () => normal(rand) * Math.sqrt(1 / HIDDEN2));

  const sample = calibrationSample(0xca11b);
  const raw = new Float64Array(sample.rows);
  const x = new Float64Array(inDim);
  const h1 = new Float64Array(HIDDEN1);
  const h2 = new Float64Array(HIDDEN2);
  for (let r = 0; r < sample.rows; r++) {
    for (let j = 0; j < CAT_WIDTH; j++) {
      const idx = sample.cat[r * CAT_WIDTH + j]!;
      for (let k = 0; k < EMBED_DIM; k++) x[j * EMBED_DIM + k] = embed[idx * EMBED_DIM + k]!;
    }
    for (let j = 0; j < NUM_WIDTH; j++) x[CAT_WIDTH * EMBED_DIM + j] = sample.num[r * NUM_WIDTH + j]!;
    dense(x, w1, b1, h1, true);
    dense(h1, w2, b2, h2, true);
    let z = 0;
    for (let k = 0; k < HIDDEN2; k++) z += h2[k]! * w3[k]!;
    raw[r] = z;
  }
  const { scale, bias, calibration } = calibrate(raw);

  const description = `MLP: ${EMBED_DIM}-d embeddings per hashed field, concat numerics, Gemm ${HIDDEN1} Relu, Gemm ${HIDDEN2} Relu, Gemm 1, Sigmoid. Untrained, seeded weights calibrated to a plausible CTR distribution.`;
  const f32 = (a: Float64Array) => Float32Array.from(a);
  const model = modelShell(
    shape.graphName,
    description,
    [
      { opType: 'Gather', name: 'embed', inputs: ['embeddings', 'cat'], outputs: ['emb'], attrs: { axis: { kind: 'int', value: 0 } } },
      { opType: 'Flatten', name: 'flatten', inputs: ['emb'], outputs: ['emb_flat'], attrs: { axis: { kind: 'int', value: 1 } } },
      { opType: 'Concat', name: 'concat', inputs: ['emb_flat', 'num'], outputs: ['x'], attrs: { axis: { kind: 'int', value: 1 } } },
      { opType: 'Gemm', name: 'fc1', inputs: ['x', 'w1', 'b1'], outputs: ['fc1_out'] },
      { opType: 'Relu', name: 'relu1', inputs: ['fc1_out'], outputs: ['h1'] },
      { opType: 'Gemm', name: 'fc2', inputs: ['h1', 'w2', 'b2'], outputs: ['fc2_out'] },
      { opType: 'Relu', name: 'relu2', inputs: ['fc2_out'], outputs: ['h2'] },
      { opType: 'Gemm', name: 'fc3', inputs: ['h2', 'w3', 'b3'], outputs: ['logit'] },
      { opType: 'Sigmoid', name: 'sigmoid', inputs: ['logit'], outputs: ['ctr'] },
    ],
    [
      { name: 'embeddings', dims: [TOTAL_BUCKETS, EMBED_DIM], data: f32(embed) },
      { name: 'w1', dims: [inDim, HIDDEN1], data: f32(w1) },
      { name: 'b1', dims: [HIDDEN1], data: f32(b1) },
      { name: 'w2', dims: [HIDDEN1, HIDDEN2], data: f32(w2) },
      { name: 'b2', dims: [HIDDEN2], data: f32(b2) },
      { name: 'w3', dims: [HIDDEN2, 1], data: Float32Array.from(w3, (w) => w * scale) },
      { name: 'b3', dims: [1], data: Float32Array.of(bias) },
    ],
  );
  return { name: shape.name, version: shape.version ?? '1.0.0', description, bytes: encodeModel(model), calibration };
}

function dense(x: Float64Array, w: Float64Array, b: Float64Array, out: Float64Array, relu: boolean): void {
  const inDim = x.length;
  const outDim = out.length;
  for (let o = 0; o < outDim; o++) {
    let s = b[o]!;
    for (let i = 0; i < inDim; i++) s += x[i]! * w[i * outDim + o]!;
    out[o] = relu && s < 0 ? 0 : s;
  }
}
