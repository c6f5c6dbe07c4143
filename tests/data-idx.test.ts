import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { classCounts, FASHION_MNIST_CLASS_NAMES, validateDataset } from '../src/data/dataset.ts';
import { DataFormatError } from '../src/data/errors.ts';
import { idxFilesToTrainTest, idxRoleOf, loadIdxFolder, parseIdx, parseIdxFile } from '../src/data/idx.ts';

/** Builds IDX bytes: 00 00 code ndims, big-endian dims, then big-endian values. */
function idx(code: number, dims: number[], values: ArrayLike<number>): Uint8Array {
  const width = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 }[code] ?? 1;
  const head = 4 + 4 * dims.length;
  const out = new Uint8Array(head + values.length * width);
  const v = new DataView(out.buffer);
  out.set([0, 0, code, dims.length]);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < values.length; i++) {
    const o = head + i * width;
    if (code === 0x08) v.setUint8(o, values[i]);
    else if (code === 0x09) v.setInt8(o, values[i]);
    else if (code === 0x0b) v.setInt16(o, values[i], false);
    else if (code === 0x0c) v.setInt32(o, values[i], false);
    else if (code === 0x0d) v.setFloat32(o, values[i], false);
    else v.setFloat64(o, values[i], false);
  }
  return out;
}

/** A small MNIST-like set: n images of 7x5 with pixel (i*31 + j*7) & 255, label i % 10. */
function mnistLike(n: number) {
  const pixels = Array.from({ length: n * 35 }, (_, j) => ((Math.floor(j / 35) * 31 + (j % 35) * 7) & 255));
  const labels = Array.from({ length: n }, (_, i) => i % 10);
  return { images: idx(0x08, [n, 7, 5], pixels), labels: idx(0x08, [n], labels), pixels, labelValues: labels };
}

const tmp = mkdtempSync(join(tmpdir(), 'qs-idx-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A fresh folder under the temp dir holding `files`. */
function mkfolder(name: string, files: Record<string, Uint8Array>): string {
  const dir = join(tmp, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [f, b] of Object.entries(files)) writeFileSync(join(dir, f), b);
  return dir;
}

const train = mnistLike(23);
const test = mnistLike(9);
const goodFiles = {
  'train-images-idx3-ubyte': train.images,
  'train-labels-idx1-ubyte': train.labels,
  't10k-images-idx3-ubyte': test.images,
  't10k-labels-idx1-ubyte': test.labels,
};
const gz = (files: Record<string, Uint8Array>) =>
  Object.fromEntries(Object.entries(files).map(([k, v]) => [`${k}.gz`, new Uint8Array(gzipSync(v))]));

/** Expects `p` to reject with a DataFormatError whose file contains `file` and reason matches `reason`. */
async function expectFormatError(p: Promise<unknown> | (() => unknown), file: string, reason: RegExp) {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err, `expected a DataFormatError for ${file}`).toBeInstanceOf(DataFormatError);
  const e = err as DataFormatError;
  expect(e.file).toContain(file);
  expect(e.reason).toMatch(reason);
  expect(e.message).toBe(`${e.file}: ${e.reason}`);
  expect(e.name).toBe('DataFormatError');
}

describe('IDX parsing', () => {
  it('parses every dtype, big-endian', () => {
    const cases: [number, string, number[]][] = [
      [0x08, 'uint8', [0, 1, 255]],
      [0x09, 'int8', [-128, 0, 127]],
      [0x0b, 'int16', [-32768, 258, 32767]],
      [0x0c, 'int32', [-2147483648, 16909060, 2147483647]],
      [0x0d, 'float32', [-1.5, 0, 3.25]],
      [0x0e, 'float64', [-1e300, 0.1, Math.PI]],
    ];
    for (const [code, dtype, values] of cases) {
      const a = parseIdx(idx(code, [3], values), 'x');
      expect(a.dtype).toBe(dtype);
      expect(a.dims).toEqual([3]);
      expect([...a.data]).toEqual(values);
    }
    const m = parseIdx(idx(0x08, [2, 3, 1], [1, 2, 3, 4, 5, 6]), 'x');
    expect(m.dims).toEqual([2, 3, 1]);
  });

  it('recognises the four file names', () => {
    expect(idxRoleOf('train-images-idx3-ubyte')).toBe('trainImages');
    expect(idxRoleOf('/a/b/t10k-labels-idx1-ubyte.gz')).toBe('testLabels');
    expect(idxRoleOf('train-labels.idx1-ubyte')).toBe('trainLabels');
    expect(idxRoleOf('t10k-images-idx1-ubyte')).toBeNull();
    expect(idxRoleOf('readme.txt')).toBeNull();
  });

  it('round-trips raw and gzipped synthetic folders', async () => {
    for (const [name, files] of [['raw', goodFiles], ['gz', gz(goodFiles)]] as const) {
      const dir = mkfolder(name, { ...files, 'README.txt': new Uint8Array([1, 2, 3]) });
      const d = await loadIdxFolder(dir);
      for (const [ds, src, n] of [[d.train, train, 23], [d.test, test, 9]] as const) {
        validateDataset(ds);
        expect([ds.count, ds.channels, ds.height, ds.width, ds.numClasses]).toEqual([n, 1, 7, 5, 10]);
        expect([...ds.images]).toEqual(src.pixels);
        expect([...ds.labels]).toEqual(src.labelValues);
        expect(ds.classNames[3]).toBe('3');
      }
      expect(d.source).toBe(dir);
    }
  });

  it('prefers raw files, and uses Fashion-MNIST names for "fashion" folders or on request', async () => {
    const dir = mkfolder('fashion-both', { ...goodFiles, ...gz(goodFiles), 't10k-labels-idx1-ubyte.gz': new Uint8Array([0x1f, 0x8b, 0]) });
    const d = await loadIdxFolder(dir); // the corrupt .gz is ignored because the raw file exists
    expect(d.train.classNames).toEqual(FASHION_MNIST_CLASS_NAMES);
    expect(d.train.name).toBe('fashion-mnist/train');
    const e = await idxFilesToTrainTest(
      Object.entries(goodFiles).map(([name, bytes]) => ({ name, bytes })),
      { fashion: true },
    );
    expect(e.test.classNames[9]).toBe('Ankle boot');
  });
});

describe('malformed IDX files throw DataFormatError naming the file', () => {
  const one = (name: string, bytes: Uint8Array) =>
    idxFilesToTrainTest(Object.entries({ ...goodFiles, [name]: bytes }).map(([n, b]) => ({ name: n, bytes: b })));
  const gzGood = gz(goodFiles);

  it('truncated', async () => {
    await expectFormatError(one('train-images-idx3-ubyte', train.images.subarray(0, train.images.length - 1)), 'train-images-idx3-ubyte', /dimensions \[23, 7, 5\] of uint8 need 821 bytes but the file has 820 \(truncated\)/);
    await expectFormatError(one('train-images-idx3-ubyte', train.images.subarray(0, 9)), 'train-images-idx3-ubyte', /truncated header/);
    await expectFormatError(one('t10k-labels-idx1-ubyte', test.labels.subarray(0, 2)), 't10k-labels-idx1-ubyte', /truncated/);
    await expectFormatError(one('train-labels-idx1-ubyte', new Uint8Array([...train.labels, 0])), 'train-labels-idx1-ubyte', /trailing data/);
  });

  it('bad magic and unsupported dtype code', async () => {
    const bad = train.images.slice();
    bad[0] = 0x50;
    await expectFormatError(one('train-images-idx3-ubyte', bad), 'train-images-idx3-ubyte', /bad magic 0x50 0x00 0x08 0x03/);
    const code = train.labels.slice();
    code[2] = 0x07;
    await expectFormatError(one('train-labels-idx1-ubyte', code), 'train-labels-idx1-ubyte', /unsupported dtype code 0x07/);
    await expectFormatError(one('t10k-images-idx3-ubyte', idx(0x0d, [9, 7, 5], new Array(315).fill(0))), 't10k-images-idx3-ubyte', /dtype float32, expected uint8/);
    await expectFormatError(one('t10k-images-idx3-ubyte', idx(0x08, [9, 35], new Array(315).fill(0))), 't10k-images-idx3-ubyte', /expected 3/);
  });

  it('labels count != images count, and labels out of range', async () => {
    await expectFormatError(one('train-labels-idx1-ubyte', idx(0x08, [22], new Array(22).fill(1))), 'train-labels-idx1-ubyte', /22 labels but train-images-idx3-ubyte has 23 images/);
    await expectFormatError(one('t10k-labels-idx1-ubyte', idx(0x08, [9], [0, 1, 2, 3, 10, 5, 6, 7, 8])), 't10k-labels-idx1-ubyte', /label 10 of item 4 out of range 0\.\.9/);
  });

  it('corrupt and truncated gzip', async () => {
    const name = 'train-images-idx3-ubyte.gz';
    const g = gzGood[name];
    const flipped = g.slice();
    flipped[Math.floor(g.length / 2)] ^= 0xff;
    const files = (bytes: Uint8Array) => Object.entries({ ...gzGood, [name]: bytes }).map(([n, b]) => ({ name: n, bytes: b }));
    await expectFormatError(idxFilesToTrainTest(files(flipped)), name, /gzip data is corrupt/);
    await expectFormatError(idxFilesToTrainTest(files(g.subarray(0, g.length - 6))), name, /gzip data is corrupt or truncated/);
    await expectFormatError(parseIdxFile(new Uint8Array([0x1f, 0x8b, 1, 2, 3]), 'x.gz'), 'x.gz', /gzip/);
    await expectFormatError(() => parseIdx(g, name), name, /gzip-compressed/);
  });

  it('missing files in a folder', async () => {
    const { 't10k-labels-idx1-ubyte': _, ...three } = goodFiles;
    const dir = mkfolder('three', three);
    await expectFormatError(loadIdxFolder(dir), dir, /missing t10k-labels-idx1-ubyte\(\.gz\)/);
    await expectFormatError(loadIdxFolder(join(tmp, 'does-not-exist')), 'does-not-exist', /cannot read the folder/);
  });
});

// CI installs Debian's dataset-fashion-mnist (apt); this test must not silently skip.
describe('official Fashion-MNIST IDX files (Debian dataset-fashion-mnist)', () => {
  const dir = '/usr/share/datasets/fashion-mnist';
  it('loads 60 000 / 10 000 images with 6000 / 1000 per class', async () => {
    expect(existsSync(dir), `${dir} is missing: install the Debian package dataset-fashion-mnist`).toBe(true);
    const d = await loadIdxFolder(dir);
    expect([d.train.count, d.test.count]).toEqual([60000, 10000]);
    expect([d.train.channels, d.train.height, d.train.width, d.train.numClasses]).toEqual([1, 28, 28, 10]);
    expect(classCounts(d.train)).toEqual(new Array(10).fill(6000));
    expect(classCounts(d.test)).toEqual(new Array(10).fill(1000));
    expect(d.train.classNames).toEqual(FASHION_MNIST_CLASS_NAMES);
    // well-known first labels of the official files
    expect([...d.train.labels.subarray(0, 5)]).toEqual([9, 0, 0, 3, 0]);
    expect([...d.test.labels.subarray(0, 5)]).toEqual([9, 2, 1, 1, 6]);
    validateDataset(d.train);
    validateDataset(d.test);
  });
});
