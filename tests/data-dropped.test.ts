/** Drag-in decoding without the DOM: CIFAR-10 batches, zips and folders of class images, resize, YUV. */
import { describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { CIFAR_RECORD_BYTES, concatDatasets, isCifarBatchName, parseCifarBatch } from '../src/data/cifar.ts';
import { decodeDropped, detectKind } from '../src/data/dropped.ts';
import { DataFormatError } from '../src/data/errors.ts';
import { groupByClass, imageFolderToTrainTest, stratifiedSplit, type ImageDecoder } from '../src/data/image-folder.ts';
import { channelStats, resizeDataset, rgbToYuv444 } from '../src/data/transform.ts';
import { unzipFiles } from '../src/data/zip.ts';
import { decodeTestPng, makePng } from './helpers/png.ts';

function cifarBytes(n: number, label = (i: number) => i % 10): Uint8Array {
  const b = new Uint8Array(n * CIFAR_RECORD_BYTES);
  for (let i = 0; i < n; i++) {
    b[i * CIFAR_RECORD_BYTES] = label(i);
    b.fill(i, i * CIFAR_RECORD_BYTES + 1, (i + 1) * CIFAR_RECORD_BYTES);
  }
  return b;
}

/** A real w x h PNG of one value (grey, or [v, 255 - v, v] with rgb), decoded by the tests' PNG decoder. */
const fakeImage = (w: number, h: number, v: number, rgb = false) => makePng(w, h, () => (rgb ? [v, 255 - v, v] : v), rgb);
const fakeDecode: ImageDecoder = decodeTestPng;

describe('CIFAR-10 binary batches', () => {
  it('parses records (label byte + 3072 planar pixels) into NCHW', () => {
    const ds = parseCifarBatch(cifarBytes(3), 'data_batch_1.bin');
    expect(ds).toMatchObject({ count: 3, channels: 3, height: 32, width: 32, numClasses: 10 });
    expect([...ds.labels]).toEqual([0, 1, 2]);
    expect(ds.images[3072]).toBe(1);
    expect(ds.classNames[0]).toBe('airplane');
    expect(isCifarBatchName('x/data_batch_5.bin')).toBe(true);
    expect(isCifarBatchName('test_batch.bin')).toBe(true);
  });
  it('rejects a truncated batch and bad labels, naming the file', () => {
    expect(() => parseCifarBatch(cifarBytes(2).subarray(0, 5000), 'data_batch_1.bin')).toThrow(/data_batch_1.bin: is not a CIFAR-10 batch: 5000 bytes is not a whole number/);
    expect(() => parseCifarBatch(cifarBytes(1, () => 12), 'b.bin')).toThrow(/record 1 of 1 has label 12, outside 0..9/);
    expect(() => parseCifarBatch(new Uint8Array(0), 'e.bin')).toThrow(DataFormatError);
  });
  it('concatenates batches and splits train/test from the file names', async () => {
    expect(concatDatasets([parseCifarBatch(cifarBytes(2), 'a'), parseCifarBatch(cifarBytes(3), 'b')], 'ab').count).toBe(5);
    const d = await decodeDropped([{ path: 'data_batch_1.bin', bytes: cifarBytes(20) }, { path: 'test_batch.bin', bytes: cifarBytes(10) }], fakeDecode);
    expect(d.kind).toBe('cifar');
    expect([d.data.train.count, d.data.test.count]).toEqual([20, 10]);
    const one = await decodeDropped([{ path: 'data_batch_1.bin', bytes: cifarBytes(50) }], fakeDecode);
    expect(one.data.train.count + one.data.test.count).toBe(50);
    expect(one.data.test.count).toBe(10);
    expect(one.split).toMatch(/80\/20/);
  });
});

describe('image folders and zips', () => {
  const files = [
    { path: 'shoes/boot/a.png', bytes: fakeImage(4, 4, 10) }, { path: 'shoes/boot/b.png', bytes: fakeImage(4, 4, 20) },
    { path: 'shoes/bag/c.png', bytes: fakeImage(4, 4, 30) }, { path: 'shoes/bag/d.jpg', bytes: fakeImage(4, 4, 40) },
    { path: 'shoes/bag/e.png', bytes: fakeImage(4, 4, 50) }, { path: 'shoes/.DS_Store', bytes: new Uint8Array(3) },
  ];
  it('labels images by their folder (sorted classes) and splits per class', async () => {
    expect(groupByClass(['r/b/x.png', 'r/a/y.png'])).toEqual({ classNames: ['a', 'b'], labels: [1, 0] });
    expect(() => groupByClass(['x.png'])).toThrow(/x.png: is not inside a class folder/);
    const s = stratifiedSplit([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], 2, 0.2, 0);
    expect(s.test.length).toBe(2);
    const d = await imageFolderToTrainTest(files, fakeDecode, { source: 'shoes' });
    expect(d.train.classNames).toEqual(['bag', 'boot']);
    expect(d.train.channels).toBe(1); // grey
    expect(d.train.count + d.test.count).toBe(5);
    expect(d.test.count).toBe(2);
  });
  it('makes RGB data sets from colour images and resizes on request', async () => {
    const d = await imageFolderToTrainTest([
      { path: 'a/x.png', bytes: fakeImage(4, 4, 10, true) }, { path: 'b/y.png', bytes: fakeImage(8, 8, 10, true) },
    ], fakeDecode, { resize: [6, 6] });
    expect(d.train).toMatchObject({ channels: 3, height: 6, width: 6 });
  });
  it('rejects an image of the wrong size, an undecodable image and an empty folder, naming them', async () => {
    await expect(imageFolderToTrainTest([...files, { path: 'shoes/bag/big.png', bytes: fakeImage(5, 4, 1) }], fakeDecode))
      .rejects.toThrow(/shoes\/bag\/big.png: is 5x4 but shoes\/boot\/a.png is 4x4/);
    await expect(imageFolderToTrainTest([{ path: 'a/x.png', bytes: new Uint8Array([1, 2]) }], fakeDecode)).rejects.toThrow(/a\/x.png: is not a PNG or JPEG image: bad signature 01 02/);
    await expect(decodeDropped([], fakeDecode, { source: 'empty-dir' })).rejects.toThrow(/empty-dir: is empty/);
    await expect(decodeDropped([{ path: 'notes.txt', bytes: new Uint8Array(1) }], fakeDecode)).rejects.toThrow(/notes.txt: is not a data file/);
  });
  it('reads a zip of class folders and rejects random bytes named .zip', async () => {
    const zip = zipSync(Object.fromEntries(files.slice(0, 5).map((f) => [f.path.replace('shoes/', ''), f.bytes])));
    expect(unzipFiles(zip, 'z.zip').map((f) => f.path).sort()).toEqual(['bag/c.png', 'bag/d.jpg', 'bag/e.png', 'boot/a.png', 'boot/b.png']);
    const d = await decodeDropped([{ path: 'clothes.zip', bytes: zip }], fakeDecode);
    expect(d.kind).toBe('zip');
    expect(d.data.train.classNames).toEqual(['bag', 'boot']);
    const junk = Uint8Array.from({ length: 300 }, (_, i) => (i * 97 + 13) & 255);
    await expect(decodeDropped([{ path: 'junk.zip', bytes: junk }], fakeDecode)).rejects.toThrow(/junk.zip: is not a zip archive/);
    const damaged = zip.slice(0, 40);
    await expect(decodeDropped([{ path: 'cut.zip', bytes: damaged }], fakeDecode)).rejects.toThrow(/cut.zip: has no end of central directory record: the archive is truncated/);
  });
  it('detects what was dropped', () => {
    expect(detectKind([{ path: 'train-images-idx3-ubyte.gz', bytes: new Uint8Array() }])).toBe('idx');
    expect(detectKind([{ path: 'a/b.jpeg', bytes: new Uint8Array() }])).toBe('image-folder');
    expect(detectKind([{ path: 'x.txt', bytes: new Uint8Array() }])).toBe(null);
  });
});

describe('transforms', () => {
  const ds = { name: 'd', images: new Uint8Array([0, 100, 200, 255, 0, 0, 0, 0, 255, 255, 255, 0]), labels: new Uint8Array([0]), count: 1, channels: 3, height: 2, width: 2, numClasses: 1, classNames: ['a'] };
  it('converts RGB to full-swing YUV444 with U, V offset by 128', () => {
    const grey = { ...ds, images: new Uint8Array(12).fill(128) };
    expect([...rgbToYuv444(grey).images]).toEqual(new Array(12).fill(128));
    const y = rgbToYuv444(ds);
    expect(y.images[3]).toBe(76); // pure red: Y = 0.299 * 255
    expect(y.images[4 + 3]).toBe(85); // U = -0.1687 * 255 + 128
    expect(y.images[8 + 3]).toBe(255); // V = 0.5 * 255 + 128, clamped
  });
  it('resizes bilinearly and reports channel statistics', () => {
    const r = resizeDataset(ds, 4, 4);
    expect(r.images.length).toBe(48);
    expect(r.images[0]).toBe(0);
    expect(r.images[15]).toBe(255);
    expect(resizeDataset(ds, 2, 2)).toBe(ds);
    const st = channelStats(ds);
    expect(st.mean[1]).toBeCloseTo(0);
    expect(st.mean[2]).toBeCloseTo(0.75);
  });
});
