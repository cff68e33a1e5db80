/**
 * Builders for the few ONNX messages our models use, on top of ProtobufWriter.
 * Tensors are stored as little-endian raw_data whatever the host byte order.
 */
import {
  AttributeProtoField,
  AttributeType,
  GraphProtoField,
  ModelProtoField,
  NodeProtoField,
  OperatorSetIdField,
  StringStringEntryField,
  TensorDataType,
  TensorProtoField,
  TensorShapeDimensionField,
  TensorShapeProtoField,
  TypeProtoField,
  TypeProtoTensorField,
  ValueInfoProtoField,
} from '../src/models/onnx-fields';
import { ProtobufWriter } from './protobuf-writer';

export type Dim = number | string;

export interface Tensor {
  name: string;
  dims: readonly number[];
  data: Float32Array | Int32Array | BigInt64Array;
}

export type AttrValue = { kind: 'int'; value: number } | { kind: 'ints'; value: readonly number[] } | { kind: 'float'; value: number };

export interface Node {
  opType: string;
  name: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attrs?: Readonly<Record<string, AttrValue>>;
}

export interface ValueInfo {
  name: string;
  elemType: number;
  dims: readonly Dim[];
}

export interface Graph {
  name: string;
  nodes: readonly Node[];
  initializers: readonly Tensor[];
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
}

export interface Model {
  irVersion: number;
  opset: number;
  producerName: string;
  producerVersion: string;
  modelVersion: number;
  docString: string;
  metadata: Readonly<Record<string, string>>;
  graph: Graph;
}

function tensorDataType(t: Tensor): number {
  if (t.data instanceof Float32Array) return TensorDataType.FLOAT;
  if (t.data instanceof Int32Array) return TensorDataType.INT32;
  return TensorDataType.INT64;
}

function littleEndianBytes(data: Float32Array | Int32Array | BigInt64Array): Uint8Array {
  const out = new Uint8Array(data.length * data.BYTES_PER_ELEMENT);
  const dv = new DataView(out.buffer);
  if (data instanceof Float32Array) data.forEach((v, i) => dv.setFloat32(i * 4, v, true));
  else if (data instanceof Int32Array) data.forEach((v, i) => dv.setInt32(i * 4, v, true));
  else data.forEach((v, i) => dv.setBigInt64(i * 8, v, true));
  return out;
}

function writeTensor(w: ProtobufWriter, t: Tensor): void {
  const expected = t.dims.reduce((a, b) => a * b, 1);
  if (expected !== t.data.length) throw new Error(`tensor ${t.name}: dims ${t.dims.join('x')} but ${t.data.length} values`);
  w.packedVarints(TensorProtoField.dims, t.dims);
  w.varint(TensorProtoField.dataType, tensorDataType(t));
  w.string(TensorProtoField.name, t.name);
  w.bytes(TensorProtoField.rawData, littleEndianBytes(t.data));
}

function writeAttr(w: ProtobufWriter, name: string, a: AttrValue): void {
  w.string(AttributeProtoField.name, name);
  if (a.kind === 'int') {
    w.varint(AttributeProtoField.i, a.value);
    w.varint(AttributeProtoField.type, AttributeType.INT);
  } else if (a.kind === 'float') {
    w.float(AttributeProtoField.f, a.value);
    w.varint(AttributeProtoField.type, AttributeType.FLOAT);
  } else {
    w.packedVarints(AttributeProtoField.ints, a.value);
    w.varint(AttributeProtoField.type, AttributeType.INTS);
  }
}

function writeNode(w: ProtobufWriter, n: Node): void {
  for (const i of n.inputs) w.string(NodeProtoField.input, i);
  for (const o of n.outputs) w.string(NodeProtoField.output, o);
  w.string(NodeProtoField.name, n.name);
  w.string(NodeProtoField.opType, n.opType);
  for (const [k, v] of Object.entries(n.attrs ?? {})) w.message(NodeProtoField.attribute, (aw) => writeAttr(aw, k, v));
}

function writeValueInfo(w: ProtobufWriter, v: ValueInfo): void {
  w.string(ValueInfoProtoField.name, v.name);
  w.message(ValueInfoProtoField.type, (tw) =>
    tw.message(TypeProtoField.tensorType, (tt) => {
      tt.varint(TypeProtoTensorField.elemType, v.elemType);
      tt.message(TypeProtoTensorField.shape, (sw) => {
        for (const d of v.dims) {
          sw.message(TensorShapeProtoField.dim, (dw) => {
            if (typeof d === 'number') dw.varint(TensorShapeDimensionField.dimValue, d);
            else dw.string(TensorShapeDimensionField.dimParam, d);
          });
        }
      });
    }),
  );
}

function writeGraph(w: ProtobufWriter, g: Graph): void {
  for (const n of g.nodes) w.message(GraphProtoField.node, (nw) => writeNode(nw, n));
  w.string(GraphProtoField.name, g.name);
  for (const t of g.initializers) w.message(GraphProtoField.initializer, (tw) => writeTensor(tw, t));
  for (const i of g.inputs) w.message(GraphProtoField.input, (vw) => writeValueInfo(vw, i));
  for (const o of g.outputs) w.message(GraphProtoField.output, (vw) => writeValueInfo(vw, o));
}

export function encodeModel(m: Model): Uint8Array {
  const w = new ProtobufWriter();
  w.varint(ModelProtoField.irVersion, m.irVersion);
  w.string(ModelProtoField.producerName, m.producerName);
  w.string(ModelProtoField.producerVersion, m.producerVersion);
  w.varint(ModelProtoField.modelVersion, m.modelVersion);
  w.string(ModelProtoField.docString, m.docString);
  w.message(ModelProtoField.graph, (gw) => writeGraph(gw, m.graph));
  w.message(ModelProtoField.opsetImport, (ow) => {
    ow.string(OperatorSetIdField.domain, '');
    ow.varint(OperatorSetIdField.version, m.opset);
  });
  for (const key of Object.keys(m.metadata).sort()) {
    w.message(ModelProtoField.metadataProps, (mw) => {
      mw.string(StringStringEntryField.key, key);
      mw.string(StringStringEntryField.value, m.metadata[key]!);
    });
  }
  return w.finish();
}
