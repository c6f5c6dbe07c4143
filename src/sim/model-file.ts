/**
 * The deployable model file (`model.qsbin`): an IntModel (src/quant/convert.ts) as one binary, loaded back by the
 * simulator with bit-identical outputs. Format version 1, all integers little-endian:
 *
 *   offset  size  field
 *   0       4     magic "QSIM"
 *   4       4     u32 format version (1)
 *   8       4     u32 H: header length in bytes (UTF-8 JSON)
 *   12      4     u32 D: payload length in bytes
 *   16      4     u32 CRC-32 (IEEE 802.3, as zlib's crc32) of bytes [24, file end)
 *   20      4     u32 total file length = 24 + Hp + D
 *   24      H     header: JSON of the IntModel, each integer tensor replaced by {"$tensor": i}, plus
 *                 "tensors": [{dtype: "int8"|"uint8"|"int16"|"int32", length, offset}] (offset from the payload)
 *           Hp-H  zero padding, Hp = H rounded up to a multiple of 8
 *   24+Hp   D     payload: the tensors, each starting at a multiple of 8, little-endian two's complement
 *
 * A model with several outputs lists them in the header's "outputs" (dequantize layer ids, the first = "output");
 * a header without it has the one output, so version-1 files written before it still load.
 *
 * Scales are JSON numbers (doubles; float32 values print exactly and parse back to the same value), integer
 * parameters (weights, biases, multipliers, shifts) are tensors, so nothing is recomputed on load: the loaded model
 * runs bit-identically. A file that is truncated, has a wrong magic / version / length, a CRC mismatch, or a header
 * that does not describe a valid model is refused with a ModelFileError naming the file and the problem.
 */
import { intLayerDef, isIntLayerOp } from './layers.ts';
import { INT_MODEL_FORMAT, INT_MODEL_VERSION, intModelOutputs, type IntModel } from './model.ts';

export const MODEL_FILE_MAGIC = 'QSIM';
export const MODEL_FILE_VERSION = 1;
export const MODEL_FILE_EXTENSION = '.qsbin';
const PREFIX = 24;

export class ModelFileError extends Error {
  constructor(readonly file: string, readonly reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'ModelFileError';
  }
}

type TensorDtype = 'int8' | 'uint8' | 'int16' | 'int32';
interface TensorEntry { dtype: TensorDtype; length: number; offset: number }

const BYTES: Record<TensorDtype, number> = { int8: 1, uint8: 1, int16: 2, int32: 4 };

let crcTable: Uint32Array | null = null;
/** CRC-32 (IEEE, reflected, polynomial 0xEDB88320), as zlib / PNG / gzip compute it. */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function dtypeOf(a: ArrayBufferView): TensorDtype | null {
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint8Array) return 'uint8';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Int32Array) return 'int32';
  return null;
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

export function encodeModelFile(model: IntModel): Uint8Array {
  const tensors: TensorEntry[] = [];
  const arrays: (Int8Array | Uint8Array | Int16Array | Int32Array)[] = [];
  let offset = 0;
  const json = JSON.stringify({ ...model, tensors: undefined }, (_k, v) => {
    if (ArrayBuffer.isView(v)) {
      const dtype = dtypeOf(v);
      if (!dtype) throw new Error(`model file: cannot store a ${v.constructor.name} (integer tensors only)`);
      const a = v as Int8Array | Uint8Array | Int16Array | Int32Array;
      tensors.push({ dtype, length: a.length, offset });
      arrays.push(a);
      offset = align8(offset + a.length * BYTES[dtype]);
      return { $tensor: tensors.length - 1 };
    }
    if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`model file: non-finite number ${v} in the model`);
    return v;
  });
  const header = new TextEncoder().encode(JSON.stringify({ ...JSON.parse(json), tensors }));
  const hp = align8(header.length);
  const total = PREFIX + hp + offset;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MODEL_FILE_MAGIC), 0);
  view.setUint32(4, MODEL_FILE_VERSION, true);
  view.setUint32(8, header.length, true);
  view.setUint32(12, offset, true);
  view.setUint32(20, total, true);
  out.set(header, PREFIX);
  const base = PREFIX + hp;
  tensors.forEach((t, i) => {
    const a = arrays[i];
    const at = base + t.offset;
    if (t.dtype === 'int8' || t.dtype === 'uint8') out.set(new Uint8Array(a.buffer, a.byteOffset, a.length), at);
    else if (t.dtype === 'int16') for (let j = 0; j < a.length; j++) view.setInt16(at + 2 * j, a[j], true);
    else for (let j = 0; j < a.length; j++) view.setInt32(at + 4 * j, a[j], true);
  });
  view.setUint32(16, crc32(out.subarray(PREFIX)), true);
  return out;
}

/** Decodes and validates a model file; `file` names it in errors. */
export function decodeModelFile(bytes: Uint8Array, file = 'model file'): IntModel {
  const fail = (reason: string): never => {
    throw new ModelFileError(file, reason);
  };
  if (bytes.length < PREFIX) fail(`truncated: ${bytes.length} bytes, shorter than the ${PREFIX}-byte file header`);
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  if (magic !== MODEL_FILE_MAGIC) fail(`not a Quant Studio model file (magic "${magic.replace(/[^\x20-\x7e]/g, '?')}", expected "${MODEL_FILE_MAGIC}")`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== MODEL_FILE_VERSION) fail(`unsupported model file version ${version} (this simulator reads version ${MODEL_FILE_VERSION})`);
  const hlen = view.getUint32(8, true);
  const dlen = view.getUint32(12, true);
  const total = view.getUint32(20, true);
  const expected = PREFIX + align8(hlen) + dlen;
  if (total !== expected) fail(`corrupt file header: total length ${total} != 24 + header ${hlen} (padded) + payload ${dlen}`);
  if (bytes.length < total) fail(`truncated: ${bytes.length} bytes, the header says ${total}`);
  if (bytes.length > total) fail(`${bytes.length - total} unexpected bytes after the end of the model (${total} bytes)`);
  const crc = crc32(bytes.subarray(PREFIX));
  const stored = view.getUint32(16, true);
  if (crc !== stored) fail(`corrupted: CRC-32 mismatch (stored ${stored.toString(16).padStart(8, '0')}, computed ${crc.toString(16).padStart(8, '0')})`);
  let header: Record<string, unknown> & { tensors?: TensorEntry[] };
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREFIX, PREFIX + hlen)));
  } catch (e) {
    return fail(`corrupt header JSON: ${(e as Error).message}`);
  }
  const entries = header.tensors;
  if (!Array.isArray(entries)) fail('header has no tensor table');
  const base = PREFIX + align8(hlen);
  const tensors = entries!.map((t, i) => {
    if (!t || !(t.dtype in BYTES) || !Number.isInteger(t.length) || !Number.isInteger(t.offset) || t.length < 0 || t.offset < 0) {
      fail(`tensor ${i}: bad table entry ${JSON.stringify(t)}`);
    }
    const end = t.offset + t.length * BYTES[t.dtype];
    if (end > dlen) fail(`tensor ${i} (${t.dtype} x ${t.length}) ends at payload byte ${end}, past the payload (${dlen} bytes)`);
    const at = base + t.offset;
    switch (t.dtype) {
      case 'int8': return new Int8Array(bytes.slice(at, at + t.length).buffer);
      case 'uint8': return bytes.slice(at, at + t.length);
      case 'int16': return Int16Array.from({ length: t.length }, (_, j) => view.getInt16(at + 2 * j, true));
      case 'int32': return Int32Array.from({ length: t.length }, (_, j) => view.getInt32(at + 4 * j, true));
    }
  });
  const revive = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(revive);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.$tensor === 'number' && Object.keys(o).length === 1) {
        const t = tensors[o.$tensor];
        if (!t) fail(`reference to missing tensor ${o.$tensor}`);
        return t;
      }
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, revive(x)]));
    }
    return v;
  };
  const { tensors: _t, ...rest } = header;
  const model = revive(rest) as IntModel;
  validateIntModel(model, fail);
  return model;
}

/** Structural checks of a decoded model (beyond the CRC: a file written by another tool or a newer version). */
function validateIntModel(m: IntModel, fail: (reason: string) => never): void {
  if (m.format !== INT_MODEL_FORMAT) fail(`header format "${String(m.format)}" is not "${INT_MODEL_FORMAT}"`);
  if (m.version !== INT_MODEL_VERSION) fail(`integer model version ${m.version} is not supported (expected ${INT_MODEL_VERSION})`);
  if (!Array.isArray(m.layers) || !m.values || !Array.isArray(m.inputShape)) fail('header is missing layers, values or inputShape');
  const known = new Set([m.input]);
  const dequant = new Set<string>();
  for (const l of m.layers) {
    if (!isIntLayerOp(l.op)) fail(`layer ${l.id}: unknown op "${l.op}"`);
    for (const i of l.inputs) if (!known.has(i)) fail(`layer ${l.id}: input ${i} is not computed before it`);
    if (l.op !== 'dequantize' && !m.values[l.id]) fail(`layer ${l.id}: no value info`);
    intLayerDef(l).validate(l, fail);
    known.add(l.id);
    if (l.op === 'dequantize') dequant.add(l.id);
  }
  if (!known.has(m.output)) fail(`output ${m.output} is not produced by any layer`);
  if (m.outputs !== undefined) {
    if (!Array.isArray(m.outputs) || m.outputs[0] !== m.output) fail(`outputs must be a list that starts with output ${m.output}`);
    if (new Set(m.outputs).size !== m.outputs.length) fail('an output is listed twice');
  }
  for (const o of intModelOutputs(m)) if (!dequant.has(o)) fail(`output ${o} is not a dequantize layer`);
}
