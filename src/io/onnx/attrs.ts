/** ONNX attribute constructors for the writers (QDQ export, src/ops qdq parts). */
import { AttrType, type AttributeProto } from './proto-types.ts';

export const attrInt = (name: string, i: number): AttributeProto => ({ name, type: AttrType.INT, i });
export const attrInts = (name: string, ints: number[]): AttributeProto => ({ name, type: AttrType.INTS, ints });
export const attrFloat = (name: string, f: number): AttributeProto => ({ name, type: AttrType.FLOAT, f });
export const attrString = (name: string, s: string): AttributeProto => ({ name, type: AttrType.STRING, s: new TextEncoder().encode(s) });
