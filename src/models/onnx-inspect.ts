/**
 * A tiny protobuf reader for ONNX files: enough to list graph inputs/outputs, opsets and
 * metadata so the main thread can check a model against its manifest without loading
 * onnxruntime. Large fields (initializer data) are skipped by length, never decoded.
 */
import {
  GraphProtoField,
  ModelProtoField,
  OperatorSetIdField,
  StringStringEntryField,
  TENSOR_DATA_TYPE_NAMES,
  TensorProtoField,
  TensorShapeDimensionField,
  TensorShapeProtoField,
  TypeProtoField,
  TypeProtoTensorField,
  ValueInfoProtoField,
  WireType,
} from './onnx-fields';
import { ModelErrorCode, modelError, type ModelError } from './model-errors';
import type { Dim, TensorSpec } from './model-io';

export interface OnnxInfo {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producerName: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  metadata: Record<string, string>;
}

export type InspectResult = { ok: true; info: OnnxInfo } | { ok: false; error: ModelError };

class ProtoError extends Error {}

interface Field {
  field: number;
  wire: number;
  /** VARINT value; for LEN the [start, end) of the payload. */
  value: number;
  start: number;
  end: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Iterate the fields of the message in bytes[start, end). */
function* fields(bytes: Uint8Array, start: number, end: number): Generator<Field> {
  let pos = start;
  const varint = (): number => {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw new ProtoError('truncated varint');
      const b = bytes[pos++]!;
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
    throw new ProtoError('varint too long');
  };
  while (pos < end) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) throw new ProtoError('field number 0');
    if (wire === WireType.VARINT) {
      yield { field, wire, value: varint(), start: 0, end: 0 };
    } else if (wire === WireType.LEN) {
      const len = varint();
      if (pos + len > end) throw new ProtoError('length past end of message');
      yield { field, wire, value: 0, start: pos, end: pos + len };
      pos += len;
    } else if (wire === WireType.I64) {
      pos += 8;
      if (pos > end) throw new ProtoError('truncated fixed64');
    } else if (wire === WireType.I32) {
      pos += 4;
      if (pos > end) throw new ProtoError('truncated fixed32');
    } else {
      throw new ProtoError(`unsupported wire type ${wire}`);
    }
  }
}

function str(bytes: Uint8Array, f: Field): string {
  if (f.wire !== WireType.LEN) throw new ProtoError(`field ${f.field}: expected a string`);
  return utf8.decode(bytes.subarray(f.start, f.end));
}

function readDim(bytes: Uint8Array, s: number, e: number): Dim {
  let dim: Dim = '?';
  for (const f of fields(bytes, s, e)) {
    if (f.field === TensorShapeDimensionField.dimValue && f.wire === WireType.VARINT) dim = f.value;
    else if (f.field === TensorShapeDimensionField.dimParam) dim = str(bytes, f);
  }
  return dim;
}

function readValueInfo(bytes: Uint8Array, s: number, e: number): TensorSpec {
  const spec: TensorSpec = { name: '', type: 'unknown', shape: [] };
  for (const f of fields(bytes, s, e)) {
    if (f.field === ValueInfoProtoField.name) spec.name = str(bytes, f);
    else if (f.field === ValueInfoProtoField.type && f.wire === WireType.LEN) {
      for (const t of fields(bytes, f.start, f.end)) {
        if (t.field !== TypeProtoField.tensorType || t.wire !== WireType.LEN) continue;
        for (const tt of fields(bytes, t.start, t.end)) {
          if (tt.field === TypeProtoTensorField.elemType && tt.wire === WireType.VARINT) {
            spec.type = TENSOR_DATA_TYPE_NAMES[tt.value] ?? `type${tt.value}`;
          } else if (tt.field === TypeProtoTensorField.shape && tt.wire === WireType.LEN) {
            for (const d of fields(bytes, tt.start, tt.end)) {
              if (d.field === TensorShapeProtoField.dim && d.wire === WireType.LEN) spec.shape.push(readDim(bytes, d.start, d.end));
            }
          }
        }
      }
    }
  }
  return spec;
}

function readTensorName(bytes: Uint8Array, s: number, e: number): string {
  for (const f of fields(bytes, s, e)) if (f.field === TensorProtoField.name) return str(bytes, f);
  return '';
}

export function inspectOnnx(bytes: Uint8Array): InspectResult {
  try {
    const info: OnnxInfo = { irVersion: 0, opsets: [], producerName: '', inputs: [], outputs: [], metadata: {} };
    let sawGraph = false;
    for (const f of fields(bytes, 0, bytes.length)) {
      switch (f.field) {
        case ModelProtoField.irVersion:
          if (f.wire === WireType.VARINT) info.irVersion = f.value;
          break;
        case ModelProtoField.producerName:
          info.producerName = str(bytes, f);
          break;
        case ModelProtoField.opsetImport: {
          const op = { domain: '', version: 0 };
          for (const o of fields(bytes, f.start, f.end)) {
            if (o.field === OperatorSetIdField.domain) op.domain = str(bytes, o);
            else if (o.field === OperatorSetIdField.version && o.wire === WireType.VARINT) op.version = o.value;
          }
          info.opsets.push(op);
          break;
        }
        case ModelProtoField.metadataProps: {
          let key = '';
          let value = '';
          for (const o of fields(bytes, f.start, f.end)) {
            if (o.field === StringStringEntryField.key) key = str(bytes, o);
            else if (o.field === StringStringEntryField.value) value = str(bytes, o);
          }
          info.metadata[key] = value;
          break;
        }
        case ModelProtoField.graph: {
          if (f.wire !== WireType.LEN) throw new ProtoError('graph is not a message');
          sawGraph = true;
          const initializers = new Set<string>();
          const inputs: TensorSpec[] = [];
          for (const g of fields(bytes, f.start, f.end)) {
            if (g.wire !== WireType.LEN) continue;
            if (g.field === GraphProtoField.input) inputs.push(readValueInfo(bytes, g.start, g.end));
            else if (g.field === GraphProtoField.output) info.outputs.push(readValueInfo(bytes, g.start, g.end));
            else if (g.field === GraphProtoField.initializer) initializers.add(readTensorName(bytes, g.start, g.end));
          }
          // Before IR 4 initializers were also listed as inputs; they are not fed at run time.
          info.inputs = inputs.filter((i) => !initializers.has(i.name));
          break;
        }
        default:
          break;
      }
    }
    if (!sawGraph || info.irVersion === 0) throw new ProtoError('no graph or ir_version: not an ONNX ModelProto');
    return { ok: true, info };
  } catch (e) {
    return { ok: false, error: modelError(ModelErrorCode.OnnxInvalid, `not a readable ONNX model: ${(e as Error).message}`) };
  }
}
