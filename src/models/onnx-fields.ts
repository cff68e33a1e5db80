/**
 * Field numbers of the onnx.proto messages this project writes (native-models/) and reads
 * (onnx-inspect.ts). One table, so writer and reader cannot disagree.
 * Source: onnx/onnx.proto (IR version 8).
 */
export const ModelProtoField = {
  irVersion: 1,
  producerName: 2,
  producerVersion: 3,
  domain: 4,
  modelVersion: 5,
  docString: 6,
  graph: 7,
  opsetImport: 8,
  metadataProps: 14,
} as const;

export const OperatorSetIdField = { domain: 1, version: 2 } as const;

export const StringStringEntryField = { key: 1, value: 2 } as const;

export const GraphProtoField = {
  node: 1,
  name: 2,
  initializer: 5,
  docString: 10,
  input: 11,
  output: 12,
  valueInfo: 13,
} as const;

export const NodeProtoField = {
  input: 1,
  output: 2,
  name: 3,
  opType: 4,
  attribute: 5,
  docString: 6,
  domain: 7,
} as const;

export const AttributeProtoField = {
  name: 1,
  f: 2,
  i: 3,
  s: 4,
  t: 5,
  floats: 7,
  ints: 8,
  type: 20,
} as const;

export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

export const TensorProtoField = {
  dims: 1,
  dataType: 2,
  floatData: 4,
  int32Data: 5,
  int64Data: 7,
  name: 8,
  rawData: 9,
} as const;

/** TensorProto.DataType values used here. */
export const TensorDataType = { FLOAT: 1, INT32: 6, INT64: 7 } as const;

export const TENSOR_DATA_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
};

export const ValueInfoProtoField = { name: 1, type: 2, docString: 3 } as const;
export const TypeProtoField = { tensorType: 1 } as const;
export const TypeProtoTensorField = { elemType: 1, shape: 2 } as const;
export const TensorShapeProtoField = { dim: 1 } as const;
export const TensorShapeDimensionField = { dimValue: 1, dimParam: 2 } as const;

/** Wire types of the protobuf encoding. */
export const WireType = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;

/** Metadata key under which a model records the feature spec digest it was built for. */
export const kMetaFeatureSpecDigest = 'feature_spec_digest';
export const kMetaFeatureSpecVersion = 'feature_spec_version';
