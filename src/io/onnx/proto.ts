/**
 * The ONNX protobuf (ModelProto) in and out, with protobufjs loaded from the committed JSON descriptor
 * (./onnx-schema.ts, generated from ./onnx.proto by scripts/gen-onnx-schema.mjs): no .proto parsing and
 * no network at run time, the same code in Node and the browser.
 *
 * Decoded messages are plain protobufjs objects; the interfaces below name the fields the importer and
 * the QDQ exporter use (protobufjs camelCases the proto field names). int64 fields decode as `Long`
 * objects or numbers: read them with `int64()`.
 */
import protobuf from 'protobufjs/light.js';
import { ONNX_SCHEMA } from './onnx-schema.ts';

export * from './proto-types.ts';
import type { ModelProto } from './proto-types.ts';

let modelType: protobuf.Type | null = null;

function modelProtoType(): protobuf.Type {
  if (!modelType) modelType = protobuf.Root.fromJSON(ONNX_SCHEMA as protobuf.INamespace).lookupType('onnx.ModelProto');
  return modelType;
}

/** Decodes a ModelProto; throws what protobufjs throws on malformed input (the importer wraps it). */
export function decodeModelProto(bytes: Uint8Array): ModelProto {
  return modelProtoType().decode(bytes) as unknown as ModelProto;
}

/** Encodes a ModelProto given as a plain object (numbers for int64 fields). */
export function encodeModelProto(m: ModelProto): Uint8Array {
  const T = modelProtoType();
  return T.encode(T.fromObject(m as Record<string, unknown>)).finish();
}

