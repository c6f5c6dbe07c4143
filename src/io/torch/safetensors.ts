/**
 * safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N, N bytes of JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}`, then the raw little-endian
 * data (offsets relative to its start). Written and read here directly: the format is that small, and PyTorch reads
 * it back without a pickle (src/io/torch/templates/studio_quant.py).
 */
export type SafeDtype = 'F32' | 'I32' | 'I64' | 'U8';

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  /** F32: Float32Array; I32: Int32Array; I64: BigInt64Array; U8: Uint8Array. */
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array;
}

const BYTES: Record<SafeDtype, number> = { F32: 4, I32: 4, I64: 8, U8: 1 };

export class SafetensorsError extends Error {
  constructor(readonly file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'SafetensorsError';
  }
}

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

export function encodeSafetensors(tensors: Record<string, SafeTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    if (t.data.length !== prod(t.shape)) throw new Error(`safetensors: ${name} has ${t.data.length} values, shape [${t.shape}]`);
    // typed arrays are little-endian on every platform this runs on (x86, ARM)
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice();
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  // the header is padded with spaces to a multiple of 8 bytes, so that the data starts aligned
  const json = JSON.stringify(header);
  let head = new TextEncoder().encode(json);
  if (head.length % 8) head = new TextEncoder().encode(json + ' '.repeat(8 - (head.length % 8)));
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let p = 8 + head.length;
  for (const b of parts) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

export interface DecodedSafetensors {
  tensors: Record<string, SafeTensor>;
  metadata: Record<string, string>;
}

export function decodeSafetensors(bytes: Uint8Array, file: string): DecodedSafetensors {
  if (bytes.length < 8) throw new SafetensorsError(file, `not a safetensors file (only ${bytes.length} bytes)`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n > bytes.length - 8) throw new SafetensorsError(file, `the header says ${n} bytes, but the file has only ${bytes.length - 8} after the length`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  } catch (e) {
    throw new SafetensorsError(file, `the header is not valid JSON (${(e as Error).message})`);
  }
  const base = 8 + n;
  const dataLen = bytes.length - base;
  const tensors: Record<string, SafeTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = v as Record<string, string>;
      continue;
    }
    const info = v as { dtype?: string; shape?: unknown; data_offsets?: unknown };
    const dtype = info.dtype as SafeDtype;
    if (!(dtype in BYTES)) throw new SafetensorsError(file, `tensor ${name} has dtype ${String(info.dtype)} (supported: ${Object.keys(BYTES).join(', ')})`);
    const shape = info.shape as number[];
    const offs = info.data_offsets as number[];
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new SafetensorsError(file, `tensor ${name} has a bad shape`);
    if (!Array.isArray(offs) || offs.length !== 2 || !(offs[0] >= 0 && offs[1] >= offs[0] && offs[1] <= dataLen)) {
      throw new SafetensorsError(file, `tensor ${name}: data offsets [${String(offs)}] outside the ${dataLen} data bytes`);
    }
    const count = prod(shape);
    if (offs[1] - offs[0] !== count * BYTES[dtype]) {
      throw new SafetensorsError(file, `tensor ${name}: ${offs[1] - offs[0]} bytes for shape [${shape}] of ${dtype} (${count * BYTES[dtype]} expected)`);
    }
    const raw = bytes.slice(base + offs[0], base + offs[1]); // a copy: aligned, owned
    const data = dtype === 'F32' ? new Float32Array(raw.buffer) : dtype === 'I32' ? new Int32Array(raw.buffer)
      : dtype === 'I64' ? new BigInt64Array(raw.buffer) : raw;
    tensors[name] = { dtype, shape, data };
  }
  return { tensors, metadata };
}
