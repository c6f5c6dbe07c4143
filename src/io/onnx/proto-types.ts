/**
 * The ONNX message shapes, enums and field readers, without protobufjs: what the operator definitions (src/ops) and
 * the importer's readers need, so the page and the workers that never decode a file do not bundle the decoder.
 * src/io/onnx/proto.ts (decode / encode) re-exports all of it.
 */
/** protobufjs int64 value: a number, or a Long-like {low, high}. */
export type Int64 = number | { low: number; high: number; unsigned?: boolean; toNumber?: () => number };

export interface TensorProto {
  dims?: Int64[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: Int64[];
  doubleData?: number[];
  name?: string;
  rawData?: Uint8Array;
  externalData?: { key?: string; value?: string }[];
  dataLocation?: number;
}

export interface AttributeProto {
  name?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  g?: unknown;
  graphs?: unknown[];
}

export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute?: AttributeProto[];
}

export interface DimensionProto { dimValue?: Int64; dimParam?: string }

export interface TypeProto {
  tensorType?: { elemType?: number; shape?: { dim?: DimensionProto[] } };
}

export interface ValueInfoProto { name?: string; type?: TypeProto }

export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  sparseInitializer?: unknown[];
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
}

export interface OperatorSetIdProto { domain?: string; version?: Int64 }

export interface ModelProto {
  irVersion?: Int64;
  opsetImport?: OperatorSetIdProto[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: Int64;
  docString?: string;
  graph?: GraphProto;
  metadataProps?: { key?: string; value?: string }[];
  functions?: unknown[];
}

/** TensorProto.DataType values used here. */
export const DataType = {
  FLOAT: 1, UINT8: 2, INT8: 3, INT16: 5, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11,
} as const;

export const DATA_TYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING',
  9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64', 15: 'COMPLEX128', 16: 'BFLOAT16',
};

/** AttributeProto.AttributeType values. */
export const AttrType = {
  FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8,
} as const;

/** An int64 field as a JS number (exact up to 2^53; larger magnitudes lose precision, callers range-check). */
export function int64(v: Int64 | undefined | null): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v.toNumber === 'function') return v.toNumber();
  return v.unsigned ? (v.high >>> 0) * 4294967296 + (v.low >>> 0) : v.high * 4294967296 + (v.low >>> 0);
}

/** Whether the decoded message carries `field` (proto2 presence: decoded fields are own properties). */
export function has(msg: object | undefined, field: string): boolean {
  return !!msg && Object.prototype.hasOwnProperty.call(msg, field);
}
