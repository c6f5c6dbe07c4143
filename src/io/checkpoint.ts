/**
 * Checkpoint format (files in Node, IndexedDB / downloads in the browser), version 1:
 *   bytes 0..3   magic "QSCK"
 *   bytes 4..7   format version (uint32 LE)
 *   bytes 8..11  header length H (uint32 LE)
 *   bytes 12..   header: UTF-8 JSON {model, stage, meta, tensors: [{name, shape, offset}]}
 *   then zero padding to a multiple of 4, then the float32 LE payload; offsets count floats.
 */
import type { HostParams } from '../nn/params.ts';

export const CHECKPOINT_VERSION = 1;
const MAGIC = 'QSCK';

export interface CheckpointHeader {
  model: string;
  /** Which stage wrote it: float, calib, qat. */
  stage: string;
  meta: Record<string, unknown>;
  tensors: { name: string; shape: number[]; offset: number }[];
}

export interface Checkpoint {
  model: string;
  stage: string;
  meta: Record<string, unknown>;
  params: HostParams;
  shapes: Record<string, number[]>;
}

export class CheckpointError extends Error {
  constructor(readonly file: string, readonly reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'CheckpointError';
  }
}

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const tensors: CheckpointHeader['tensors'] = [];
  let offset = 0;
  for (const [name, data] of Object.entries(c.params)) {
    tensors.push({ name, shape: c.shapes[name] ?? [data.length], offset });
    offset += data.length;
  }
  const header = new TextEncoder().encode(JSON.stringify({ model: c.model, stage: c.stage, meta: c.meta, tensors }));
  const dataStart = Math.ceil((12 + header.length) / 4) * 4;
  const out = new Uint8Array(dataStart + offset * 4);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(4, CHECKPOINT_VERSION, true);
  view.setUint32(8, header.length, true);
  out.set(header, 12);
  const payload = new Float32Array(out.buffer, dataStart, offset);
  for (const t of tensors) payload.set(c.params[t.name], t.offset);
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array, file = 'checkpoint'): Checkpoint {
  if (bytes.length < 12) throw new CheckpointError(file, `too short to be a checkpoint (${bytes.length} bytes)`);
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  if (magic !== MAGIC) throw new CheckpointError(file, `not a Quant Studio checkpoint (magic "${magic}")`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== CHECKPOINT_VERSION) throw new CheckpointError(file, `unsupported checkpoint version ${version}`);
  const hlen = view.getUint32(8, true);
  if (12 + hlen > bytes.length) throw new CheckpointError(file, `truncated header (needs ${hlen} bytes)`);
  let header: CheckpointHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + hlen)));
  } catch (e) {
    throw new CheckpointError(file, `corrupt header: ${(e as Error).message}`);
  }
  const dataStart = Math.ceil((12 + hlen) / 4) * 4;
  const floats = Math.floor((bytes.length - dataStart) / 4);
  const aligned = new Float32Array(floats);
  new Uint8Array(aligned.buffer).set(bytes.subarray(dataStart, dataStart + floats * 4));
  const params: HostParams = {};
  const shapes: Record<string, number[]> = {};
  for (const t of header.tensors ?? []) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.offset + n > floats) throw new CheckpointError(file, `truncated: tensor ${t.name} needs floats ${t.offset}..${t.offset + n}, file has ${floats}`);
    params[t.name] = aligned.slice(t.offset, t.offset + n);
    shapes[t.name] = t.shape;
  }
  return { model: header.model, stage: header.stage, meta: header.meta ?? {}, params, shapes };
}
