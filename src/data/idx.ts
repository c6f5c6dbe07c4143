/**
 * IDX files (the MNIST / Fashion-MNIST distribution format), raw or gzipped.
 *
 * IDX layout (big-endian): bytes 0-1 zero, byte 2 dtype code (0x08 uint8, 0x09 int8, 0x0B int16,
 * 0x0C int32, 0x0D float32, 0x0E float64), byte 3 number of dimensions d, then d uint32 sizes, then
 * the data, row-major. Images are `[count, rows, cols]` uint8, labels `[count]` uint8.
 *
 * The parsing functions are pure (bytes + file name, for error messages), so the browser can reuse
 * them on dropped files; `loadIdxFolder` is the Node entry point. Gzip (detected by the magic bytes
 * 1f 8b) is decompressed with the standard DecompressionStream('gzip') (browsers, Node >= 18).
 * Every problem is reported as a DataFormatError naming the file.
 */

import { DIGIT_CLASS_NAMES, FASHION_MNIST_CLASS_NAMES, type LabelledDataset, type TrainTestData } from './dataset.ts';
import { concatBytes } from './bytes.ts';
import { DataFormatError } from './errors.ts';
import { formatBytes, LIMITS } from './limits.ts';

export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  dtype: 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
  dims: number[];
  /** Values in native order (converted from big-endian), row-major. */
  data: IdxData;
}

const DTYPES: Record<number, { dtype: IdxArray['dtype']; bytes: number }> = {
  0x08: { dtype: 'uint8', bytes: 1 },
  0x09: { dtype: 'int8', bytes: 1 },
  0x0b: { dtype: 'int16', bytes: 2 },
  0x0c: { dtype: 'int32', bytes: 4 },
  0x0d: { dtype: 'float32', bytes: 4 },
  0x0e: { dtype: 'float64', bytes: 8 },
};

const hex = (b: number) => `0x${b.toString(16).padStart(2, '0')}`;

/** True when the bytes start with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The size an IDX header claims (header + data bytes), or null while fewer bytes than the header are known. */
function claimedIdxBytes(head: Uint8Array): number | null {
  if (head.length < 4) return null;
  const type = DTYPES[head[2]];
  if (head[0] !== 0 || head[1] !== 0 || !type) return NaN; // not IDX: parseIdx says why
  const headerBytes = 4 + 4 * head[3];
  if (head.length < headerBytes) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let n = 1;
  for (let d = 0; d < head[3]; d++) n *= view.getUint32(4 + 4 * d, false);
  return headerBytes + n * type.bytes;
}

/**
 * Gunzips when the bytes are gzip (magic 1f 8b), else returns them unchanged. Decompression streams:
 * once the IDX header inside is known, its claimed size is checked against LIMITS.idxBytes and the
 * output is allocated once at that size; more data than the header claims stops it (a gzip bomb costs
 * a few KiB, not gigabytes).
 */
export async function maybeGunzip(bytes: Uint8Array, fileName: string): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  const ds = new DecompressionStream('gzip');
  const writer = ds.writable.getWriter();
  const written = writer.write(bytes as Uint8Array<ArrayBuffer>).then(() => writer.close());
  written.catch(() => {}); // a failure also errors the readable side, reported below
  const reader = ds.readable.getReader();
  const head: Uint8Array[] = [];
  let headLen = 0;
  let out: Uint8Array | null = null;
  let total = 0;
  const stop = async (reason: string): Promise<never> => {
    await reader.cancel().catch(() => {});
    throw new DataFormatError(fileName, reason);
  };
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (e) {
      throw new DataFormatError(fileName, `the gzip data is corrupt or truncated (${(e as Error).message})`, { cause: e });
    }
    if (chunk.done) break;
    const value = chunk.value;
    if (!out) {
      head.push(value);
      headLen += value.length;
      const joined = head.length === 1 ? head[0] : concatBytes(head);
      const claimed = claimedIdxBytes(joined.subarray(0, Math.min(joined.length, 4 + 4 * 255)));
      if (claimed === null) {
        if (headLen > LIMITS.idxBytes) await stop(`decompresses to more than ${formatBytes(LIMITS.idxBytes)}, the limit for an IDX file`);
        continue;
      }
      if (Number.isNaN(claimed)) return parseIdxHeadOnly(joined, fileName);
      if (claimed > LIMITS.idxBytes) {
        await stop(`its IDX header claims ${formatBytes(claimed)} of data, over the limit of ${formatBytes(LIMITS.idxBytes)} for an IDX file`);
      }
      if (headLen > claimed) await stop(`decompresses to more bytes than its IDX header's dimensions say (${claimed}): trailing data`);
      out = new Uint8Array(claimed);
      out.set(joined);
      total = headLen;
      continue;
    }
    if (total + value.length > out.length) {
      await stop(`decompresses to more bytes than its IDX header's dimensions say (${out.length}): trailing data`);
    }
    out.set(value, total);
    total += value.length;
  }
  try {
    await written;
  } catch (e) {
    throw new DataFormatError(fileName, `the gzip data is corrupt or truncated (${(e as Error).message})`, { cause: e });
  }
  if (!out) return concatBytes(head); // shorter than its header: parseIdx reports it
  return total === out.length ? out : out.subarray(0, total); // truncated: parseIdx reports it
}

/** Bytes that are not IDX (wrong magic / dtype) inside a gzip: only the start is needed for the message. */
function parseIdxHeadOnly(head: Uint8Array, fileName: string): never {
  parseIdx(head, fileName);
  throw new DataFormatError(fileName, 'is not an IDX file');
}

/** Parses raw (not gzipped) IDX bytes. */
export function parseIdx(bytes: Uint8Array, fileName: string): IdxArray {
  if (isGzip(bytes)) throw new DataFormatError(fileName, 'is gzip-compressed where raw IDX bytes were expected');
  if (bytes.length < 4) throw new DataFormatError(fileName, `truncated: ${bytes.length} bytes, smaller than the 4-byte IDX magic`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataFormatError(
      fileName,
      `bad magic ${[...bytes.subarray(0, 4)].map(hex).join(' ')}: an IDX file starts with 00 00 <dtype> <ndims>`,
    );
  }
  const type = DTYPES[bytes[2]];
  if (!type) {
    throw new DataFormatError(
      fileName,
      `unsupported dtype code ${hex(bytes[2])} (known: ${Object.keys(DTYPES).map((k) => hex(Number(k))).join(', ')})`,
    );
  }
  const ndims = bytes[3];
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new DataFormatError(fileName, `truncated header: ${ndims} dimensions need ${headerBytes} bytes, file has ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const zero = dims.indexOf(0);
  if (zero >= 0) {
    throw new DataFormatError(fileName, `dimension ${zero + 1} of [${dims.join(', ')}] is 0: an IDX file with an empty dimension holds no data`);
  }
  const n = dims.reduce((a, b) => a * b, 1);
  const expected = headerBytes + n * type.bytes;
  if (bytes.length !== expected) {
    throw new DataFormatError(
      fileName,
      `its header's dimensions [${dims.join(', ')}] of ${type.dtype} need ${expected} bytes but the file has ${bytes.length}` +
        (bytes.length < expected ? ' (truncated)' : ' (trailing data)'),
    );
  }
  let data: IdxData;
  switch (type.dtype) {
    case 'uint8':
      data = bytes.slice(headerBytes, expected);
      break;
    case 'int8':
      data = new Int8Array(bytes.slice(headerBytes, expected).buffer);
      break;
    default: {
      const Ctor = { int16: Int16Array, int32: Int32Array, float32: Float32Array, float64: Float64Array }[type.dtype];
      const out = new Ctor(n);
      for (let i = 0, o = headerBytes; i < n; i++, o += type.bytes) {
        out[i] =
          type.dtype === 'int16' ? view.getInt16(o, false)
          : type.dtype === 'int32' ? view.getInt32(o, false)
          : type.dtype === 'float32' ? view.getFloat32(o, false)
          : view.getFloat64(o, false);
      }
      data = out;
    }
  }
  return { dtype: type.dtype, dims, data };
}

/** Parses IDX bytes, gunzipping first when they are gzip. */
export async function parseIdxFile(bytes: Uint8Array, fileName: string): Promise<IdxArray> {
  return parseIdx(await maybeGunzip(bytes, fileName), fileName);
}

export interface IdxDatasetOptions {
  /** Data set name (default from the file name). */
  name?: string;
  /** Default 10; labels must be below it. */
  numClasses?: number;
  /** Default: Fashion-MNIST names when `fashion` is true, else '0'..'9' (or indices). */
  classNames?: readonly string[];
  /** Use the Fashion-MNIST class names by default. */
  fashion?: boolean;
}

/** Combines parsed images [N, H, W] and labels [N] (both uint8) into an ImageDataset (1 channel). */
export function idxToDataset(
  images: IdxArray,
  imagesFile: string,
  labels: IdxArray,
  labelsFile: string,
  options: IdxDatasetOptions = {},
): LabelledDataset {
  if (images.dtype !== 'uint8') throw new DataFormatError(imagesFile, `images have dtype ${images.dtype}, expected uint8 (0x08)`);
  if (images.dims.length !== 3) {
    throw new DataFormatError(imagesFile, `images have ${images.dims.length} dimensions [${images.dims.join(', ')}], expected 3 [count, rows, cols]`);
  }
  if (labels.dtype !== 'uint8') throw new DataFormatError(labelsFile, `labels have dtype ${labels.dtype}, expected uint8 (0x08)`);
  if (labels.dims.length !== 1) {
    throw new DataFormatError(labelsFile, `labels have ${labels.dims.length} dimensions [${labels.dims.join(', ')}], expected 1 [count]`);
  }
  const [count, height, width] = images.dims;
  if (labels.dims[0] !== count) {
    throw new DataFormatError(labelsFile, `${labels.dims[0]} labels but ${imagesFile} has ${count} images`);
  }
  const numClasses = options.numClasses ?? 10;
  const lab = labels.data as Uint8Array;
  for (let i = 0; i < count; i++) {
    if (lab[i] >= numClasses) throw new DataFormatError(labelsFile, `label ${lab[i]} of item ${i} out of range 0..${numClasses - 1}`);
  }
  const defaultNames = options.fashion ? FASHION_MNIST_CLASS_NAMES : DIGIT_CLASS_NAMES;
  const classNames = [
    ...(options.classNames ??
      (numClasses === defaultNames.length ? defaultNames : Array.from({ length: numClasses }, (_, c) => String(c)))),
  ];
  if (classNames.length !== numClasses) {
    throw new DataFormatError(labelsFile, `${classNames.length} class names given for ${numClasses} classes`);
  }
  return {
    name: options.name ?? imagesFile,
    images: images.data as Uint8Array,
    labels: lab,
    count,
    channels: 1,
    height,
    width,
    numClasses,
    classNames,
  };
}

/** The four files of an MNIST-style distribution. */
export type IdxRole = 'trainImages' | 'trainLabels' | 'testImages' | 'testLabels';

export const IDX_FILE_NAMES: Record<IdxRole, string> = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

/**
 * Which of the four files a name is: `train-images-idx3-ubyte`, `t10k-labels-idx1-ubyte.gz`, ...
 * (also accepts the `train-images.idx3-ubyte` spelling and any leading folders). Null if none.
 */
export function idxRoleOf(fileName: string): IdxRole | null {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  const m = /^(train|t10k)-(images|labels)[.-]idx([13])-ubyte(\.gz)?$/i.exec(base);
  if (!m) return null;
  const [, split, kind, nd] = m;
  if ((kind.toLowerCase() === 'images') !== (nd === '3')) return null;
  return `${split.toLowerCase() === 'train' ? 'train' : 'test'}${kind.toLowerCase() === 'images' ? 'Images' : 'Labels'}` as IdxRole;
}

/**
 * Builds train and test sets from the four IDX files given as bytes (raw or gzipped), e.g. dropped
 * into the browser. Files are matched by name (idxRoleOf); others are ignored. When a role has both a
 * raw and a .gz file, the raw one is used.
 */
export async function idxFilesToTrainTest(
  files: ReadonlyArray<{ name: string; bytes: Uint8Array }>,
  options: IdxDatasetOptions & { source?: string } = {},
): Promise<TrainTestData<LabelledDataset>> {
  const byRole = new Map<IdxRole, { name: string; bytes: Uint8Array }>();
  for (const f of files) {
    const role = idxRoleOf(f.name);
    if (!role) continue;
    const prev = byRole.get(role);
    if (!prev || (prev.name.toLowerCase().endsWith('.gz') && !f.name.toLowerCase().endsWith('.gz'))) byRole.set(role, f);
  }
  const where = options.source ?? 'IDX files';
  const missing = (Object.keys(IDX_FILE_NAMES) as IdxRole[]).filter((r) => !byRole.has(r));
  if (missing.length) {
    throw new DataFormatError(
      where,
      `missing ${missing.map((r) => `${IDX_FILE_NAMES[r]}(.gz)`).join(', ')}` +
        ` (found: ${files.map((f) => f.name).join(', ') || 'nothing'})`,
    );
  }
  const get = (r: IdxRole) => byRole.get(r)!;
  const parsed = await Promise.all(
    (['trainImages', 'trainLabels', 'testImages', 'testLabels'] as const).map((r) => parseIdxFile(get(r).bytes, get(r).name)),
  );
  const fashion = options.fashion ?? /fashion/i.test(where);
  const base = options.name ?? (fashion ? 'fashion-mnist' : 'mnist');
  const train = idxToDataset(parsed[0], get('trainImages').name, parsed[1], get('trainLabels').name, {
    ...options,
    fashion,
    name: `${base}/train`,
  });
  const test = idxToDataset(parsed[2], get('testImages').name, parsed[3], get('testLabels').name, {
    ...options,
    fashion,
    name: `${base}/test`,
  });
  if (train.height !== test.height || train.width !== test.width) {
    throw new DataFormatError(
      get('testImages').name,
      `images are ${test.height}x${test.width} but the train images are ${train.height}x${train.width}`,
    );
  }
  return { train, test, source: where };
}

/**
 * Node: loads train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz), t10k-images-idx3-ubyte(.gz)
 * and t10k-labels-idx1-ubyte(.gz) from `dir`. Class names are Fashion-MNIST's when the folder path
 * contains "fashion" (case-insensitive) unless `options.fashion` / `options.classNames` say otherwise.
 */
export async function loadIdxFolder(dir: string, options: IdxDatasetOptions = {}): Promise<TrainTestData<LabelledDataset>> {
  const fsName = 'node:fs/promises';
  const pathName = 'node:path';
  const fs: typeof import('node:fs/promises') = await import(/* @vite-ignore */ fsName);
  const path: typeof import('node:path') = await import(/* @vite-ignore */ pathName);
  const root = path.resolve(dir);
  let entries: string[];
  try {
    entries = await fs.readdir(root);
  } catch (e) {
    throw new DataFormatError(root, `cannot read the folder (${(e as Error).message})`, { cause: e });
  }
  // Read only the files that will be used: one per role, raw preferred over .gz.
  const chosen = new Map<IdxRole, string>();
  for (const name of entries.sort()) {
    const role = idxRoleOf(name);
    if (!role) continue;
    const prev = chosen.get(role);
    if (!prev || (prev.toLowerCase().endsWith('.gz') && !name.toLowerCase().endsWith('.gz'))) chosen.set(role, name);
  }
  const files = await Promise.all(
    [...chosen.values()].map(async (name) => {
      const p = path.join(root, name);
      const size = (await fs.stat(p)).size;
      if (size > LIMITS.fileBytes) throw new DataFormatError(p, `is ${formatBytes(size)}, over the limit of ${formatBytes(LIMITS.fileBytes)} for one file`);
      const buf = await fs.readFile(p);
      return { name: p, bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) };
    }),
  );
  return idxFilesToTrainTest(files, { ...options, source: root });
}
