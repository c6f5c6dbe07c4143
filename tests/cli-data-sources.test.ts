/**
 * The CLI's file data sources (--data cifar10:DIR | folder:DIR | zip:FILE) through the CLI's own loader
 * (src/cli/data.ts), on real files written to a temp dir from Fashion-MNIST images: CIFAR-10 binary batches, PNGs
 * (pngjs) and JPEGs (jpeg-js), and zips (fflate). The pixels and labels read back are compared with those written;
 * bad files give errors that name the file on disk.
 */
import { crc32 } from '../src/data/crc32.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CIFAR10_CLASS_NAMES, CIFAR_RECORD_BYTES } from '../src/data/cifar.ts';
import { classCounts, imageAt, randomSubset, type ImageDataset, type LabelledDataset } from '../src/data/dataset.ts';
import { loadFashionMnist } from '../src/data/fashion-mnist.ts';
import { loadStageData } from '../src/cli/data.ts';
import { UsageError } from '../src/cli/options.ts';
import { cifarRecords, tintedPlanes } from '../scripts/fashion-as-cifar10.ts';

let root: string;
let fm: LabelledDataset; // 40 real Fashion-MNIST images, 4 per class
let n = 0;
const dir = () => join(root, `case${n++}`);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'qs-cli-data-'));
  const d = await loadFashionMnist();
  fm = randomSubset(d.test, 400, 3);
  const keep: number[] = [];
  for (let c = 0; c < 10; c++) for (let i = 0, k = 0; i < fm.count && k < 4; i++) if (fm.labels[i] === c) { keep.push(i); k++; }
  fm = { ...fm, ...pickIdx(fm, keep) };
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function pickIdx(ds: ImageDataset, ids: number[]) {
  const images = new Uint8Array(ids.length * 784);
  ids.forEach((i, k) => images.set(imageAt(ds, i), k * 784));
  return { images, labels: Uint8Array.from(ids, (i) => ds.labels![i]), count: ids.length };
}

/** RGBA of image i: grey, or tinted (R = p, G = 3p/4, B = p/2, as the CIFAR writer does). */
function rgba(i: number, tinted: boolean): Uint8Array {
  const g = imageAt(fm, i);
  const out = new Uint8Array(784 * 4);
  for (let k = 0; k < 784; k++) {
    out[4 * k] = g[k];
    out[4 * k + 1] = tinted ? Math.round(g[k] * 0.75) : g[k];
    out[4 * k + 2] = tinted ? Math.round(g[k] * 0.5) : g[k];
    out[4 * k + 3] = 255;
  }
  return out;
}
const png = (data: Uint8Array, w = 28, h = 28) => {
  const p = new PNG({ width: w, height: h });
  p.data = Buffer.from(data);
  return new Uint8Array(PNG.sync.write(p));
};
const jpg = (data: Uint8Array) => new Uint8Array(jpeg.encode({ data, width: 28, height: 28 }, 95).data);
const className = (c: number) => `class_${c}`;

async function writeFiles(base: string, files: Record<string, Uint8Array | string>): Promise<void> {
  for (const [p, b] of Object.entries(files)) {
    await mkdir(join(base, p, '..'), { recursive: true });
    await writeFile(join(base, p), b);
  }
}

/** The images of a loaded split, each as grey 28x28 (channel 0), keyed by label: to compare sets without order. */
function byClass(ds: ImageDataset): string[] {
  const size = ds.channels * ds.height * ds.width;
  return Array.from({ length: ds.count }, (_, i) => `${ds.labels![i]}:${Buffer.from(ds.images.subarray(i * size, i * size + ds.height * ds.width)).toString('hex')}`).sort();
}
function expected(ids: number[]): string[] {
  return ids.map((i) => `${fm.labels[i]}:${Buffer.from(imageAt(fm, i)).toString('hex')}`).sort();
}
const all = () => Array.from({ length: fm.count }, (_, i) => i);

describe('--data cifar10:DIR', () => {
  it('reads the data batches as train and test_batch.bin as test, pixels and labels as written', async () => {
    const d = dir();
    const a = { ...fm, ...pickIdx(fm, all().slice(0, 20)) }, b = { ...fm, ...pickIdx(fm, all().slice(20, 30)) }, t = { ...fm, ...pickIdx(fm, all().slice(30)) };
    await writeFiles(d, { 'data_batch_1.bin': cifarRecords(a), 'data_batch_2.bin': cifarRecords(b), 'test_batch.bin': cifarRecords(t), 'batches.meta.txt': 'x\n' });
    const data = await loadStageData(`cifar10:${d}`, null, null);
    expect([data.train.count, data.test.count]).toEqual([30, 10]);
    expect([data.train.channels, data.train.height, data.train.width]).toEqual([3, 32, 32]);
    expect(data.train.classNames).toEqual([...CIFAR10_CLASS_NAMES]);
    // record order is kept: batch 1 then batch 2
    for (let i = 0; i < 30; i++) {
      expect(data.train.labels![i]).toBe(fm.labels[i]);
      expect(imageAt(data.train, i)).toEqual(tintedPlanes(imageAt(fm, i)));
    }
    expect(imageAt(data.test, 9)).toEqual(tintedPlanes(imageAt(fm, 39)));
  });

  it('without a test batch, splits the records 80/20 per class', async () => {
    const d = dir();
    await writeFiles(d, { 'data_batch_1.bin': cifarRecords(fm) });
    const data = await loadStageData(`cifar10:${d}`, null, null);
    expect(classCounts(data.train)).toEqual(new Array(10).fill(3));
    expect(classCounts(data.test)).toEqual(new Array(10).fill(1));
  });

  it('--subset and --resize apply', async () => {
    const d = dir();
    await writeFiles(d, { 'data_batch_1.bin': cifarRecords(fm), 'test_batch.bin': cifarRecords(fm) });
    const data = await loadStageData(`cifar10:${d}`, 12, 5, [16, 16]);
    expect([data.train.count, data.test.count, data.train.height, data.train.width]).toEqual([12, 5, 16, 16]);
  });

  it('names the batch file that is cut short or has a bad label, and the folder without batches', async () => {
    const d = dir();
    const recs = cifarRecords(fm);
    await writeFiles(d, { 'data_batch_1.bin': recs, 'data_batch_2.bin': recs.subarray(0, 2 * CIFAR_RECORD_BYTES + 100), 'test_batch.bin': recs });
    await expect(loadStageData(`cifar10:${d}`, null, null)).rejects.toThrow(
      `${join(d, 'data_batch_2.bin')}: is not a CIFAR-10 batch: 6246 bytes is not a whole number of 3073-byte records (2 records and 100 bytes left over)`);
    const e = dir();
    const bad = recs.slice();
    bad[5 * CIFAR_RECORD_BYTES] = 12;
    await writeFiles(e, { 'data_batch_1.bin': bad, 'test_batch.bin': recs });
    await expect(loadStageData(`cifar10:${e}`, null, null)).rejects.toThrow(`${join(e, 'data_batch_1.bin')}: record 6 of 40 has label 12, outside 0..9: the file is not a CIFAR-10 batch or is damaged`);
    const f = dir();
    await writeFiles(f, { 'readme.html': '<p>' });
    await expect(loadStageData(`cifar10:${f}`, null, null)).rejects.toThrow(`${f}: has no CIFAR-10 binary batches`);
    await expect(loadStageData(`cifar10:${join(root, 'nope')}`, null, null)).rejects.toThrow(`${join(root, 'nope')}: cannot be read`);
    await expect(loadStageData(`cifar10:${join(d, 'test_batch.bin')}`, null, null)).rejects.toThrow('is a file, not a folder');
  });
});

describe('--data folder:DIR', () => {
  it('reads class folders of PNGs: sorted classes, exact pixels, 1 channel for grey images, 80/20 split per class', async () => {
    const d = dir();
    const files: Record<string, Uint8Array | string> = { 'notes.txt': 'not data', '.DS_Store': 'x' };
    for (const i of all()) files[`${className(fm.labels[i])}/img${i}.png`] = png(rgba(i, false));
    await writeFiles(d, files);
    const data = await loadStageData(`folder:${d}`, null, null);
    expect(data.train.classNames).toEqual(Array.from({ length: 10 }, (_, c) => className(c)));
    expect([data.train.channels, data.train.height, data.train.width]).toEqual([1, 28, 28]);
    expect(classCounts(data.train)).toEqual(new Array(10).fill(3));
    expect(classCounts(data.test)).toEqual(new Array(10).fill(1));
    expect([...byClass(data.train), ...byClass(data.test)].sort()).toEqual(expected(all()));
  });

  it('reads colour PNGs and JPEGs as 3 channels (JPEG within its loss)', async () => {
    const d = dir();
    const files: Record<string, Uint8Array> = {};
    for (const i of all()) files[`${className(fm.labels[i])}/${i % 2 ? `img${i}.jpg` : `img${i}.PNG`}`] = i % 2 ? jpg(rgba(i, true)) : png(rgba(i, true));
    await writeFiles(d, files);
    const data = await loadStageData(`folder:${d}`, null, null);
    expect(data.train.channels).toBe(3);
    expect(data.train.count + data.test.count).toBe(40);
    // Each loaded image against the one written to its file (same label; the nearest of them): PNG exact, JPEG close.
    let exact = 0, worstJpeg = 0;
    for (const ds of [data.train, data.test]) {
      for (let i = 0; i < ds.count; i++) {
        const img = imageAt(ds, i);
        let best = Infinity;
        for (const j of all().filter((j) => fm.labels[j] === ds.labels![i])) {
          const want = rgba(j, true);
          let err = 0;
          for (let k = 0; k < 784; k++) for (let c = 0; c < 3; c++) err += Math.abs(img[c * 784 + k] - want[4 * k + c]);
          best = Math.min(best, err / (3 * 784));
        }
        if (best === 0) exact++;
        else worstJpeg = Math.max(worstJpeg, best);
      }
    }
    expect(exact).toBe(20); // the 20 PNGs
    expect(worstJpeg).toBeGreaterThan(0);
    expect(worstJpeg).toBeLessThan(4); // mean absolute error per pixel of a quality-95 JPEG
  });

  it('names the image that cannot be decoded, is not in a class folder, or has another size', async () => {
    const good = Object.fromEntries(all().slice(0, 4).map((i) => [`${className(fm.labels[i])}/img${i}.png`, png(rgba(i, false))]));
    const d = dir();
    const cut = png(rgba(5, false));
    await writeFiles(d, { ...good, 'class_1/broken.png': cut.subarray(0, cut.length - 30) });
    await expect(loadStageData(`folder:${d}`, null, null)).rejects.toThrow(`${join(d, 'class_1/broken.png')}: the PNG data is truncated: chunk "IDAT" at byte 33 claims`);
    const e = dir();
    await writeFiles(e, { ...good, 'class_2/fake.jpg': 'this is text, not a JPEG' });
    await expect(loadStageData(`folder:${e}`, null, null)).rejects.toThrow(
      `${join(e, 'class_2/fake.jpg')}: is not a PNG or JPEG image: bad signature 74 68 69 73 20 69 73 20 (a PNG starts 89 50 4e 47, a JPEG ff d8 ff)`);
    const f = dir();
    await writeFiles(f, { ...good, 'loose.png': png(rgba(6, false)) });
    await expect(loadStageData(`folder:${f}`, null, null)).rejects.toThrow(`${join(f, 'loose.png')}: is not inside a class folder`);
    const g = dir();
    await writeFiles(g, { ...good, 'class_3/zbig.png': png(new Uint8Array(30 * 30 * 4).fill(200), 30, 30) });
    await expect(loadStageData(`folder:${g}`, null, null)).rejects.toThrow(
      `${join(g, 'class_3/zbig.png')}: is 30x30 but class_0/img0.png is 28x28; pass --resize HxW`);
    // with --resize the same folder loads
    const r = await loadStageData(`folder:${g}`, null, null, [24, 24]);
    expect([r.train.height, r.train.width, r.train.count + r.test.count]).toEqual([24, 24, 5]);
    // sizes from the header are checked before any pixel buffer: a PNG and a JPEG that claim 60 000 x 60 000 pixels
    const hugePng = png(rgba(7, false));
    new DataView(hugePng.buffer).setUint32(16, 60_000);
    new DataView(hugePng.buffer).setUint32(20, 60_000);
    // a consistent header (its CRC recomputed): the size itself is what gets it refused
    new DataView(hugePng.buffer).setUint32(29, crc32(hugePng.subarray(12, 29)));
    const k = dir();
    await writeFiles(k, { ...good, 'class_4/huge.png': hugePng });
    await expect(loadStageData(`folder:${k}`, null, null)).rejects.toThrow(
      `${join(k, 'class_4/huge.png')}: is a 60000x60000 PNG, over the limit of 4096x4096 pixels for one image (refused before decoding)`);
    const hugeJpg = jpg(rgba(7, false));
    const sof = hugeJpg.findIndex((b, i) => b === 0xff && hugeJpg[i + 1] === 0xc0);
    new DataView(hugeJpg.buffer).setUint16(sof + 5, 60_000);
    new DataView(hugeJpg.buffer).setUint16(sof + 7, 60_000);
    const m = dir();
    await writeFiles(m, { ...good, 'class_4/huge.jpg': hugeJpg });
    await expect(loadStageData(`folder:${m}`, null, null)).rejects.toThrow(
      `${join(m, 'class_4/huge.jpg')}: is a 60000x60000 JPEG, over the limit of 4096x4096 pixels for one image (refused before decoding)`);
    const h = dir();
    await writeFiles(h, { 'a/readme.md': '#' });
    await expect(loadStageData(`folder:${h}`, null, null)).rejects.toThrow(`${h}: has no PNG or JPEG images in class subfolders (found 1 other file)`);
  });
});

describe('--data zip:FILE', () => {
  it('reads a zip of class folders like the folder itself', async () => {
    const d = dir();
    const entries: Record<string, Uint8Array> = {};
    for (const i of all()) entries[`fashion/${className(fm.labels[i])}/img${i}.png`] = png(rgba(i, false));
    entries['__MACOSX/fashion/class_0/._img0.png'] = new Uint8Array([0, 5, 22, 7]);
    await writeFiles(d, { 'fashion.zip': zipSync(entries) });
    const data = await loadStageData(`zip:${join(d, 'fashion.zip')}`, null, null);
    expect(data.train.classNames).toEqual(Array.from({ length: 10 }, (_, c) => className(c)));
    expect([...byClass(data.train), ...byClass(data.test)].sort()).toEqual(expected(all()));
  });

  it('names the archive that is not a zip or is damaged, and the image inside that cannot be decoded', async () => {
    const d = dir();
    const z = join(d, 'data.zip');
    await writeFiles(d, { 'data.zip': 'plain text' });
    await expect(loadStageData(`zip:${z}`, null, null)).rejects.toThrow(`${z}: is not a zip archive (no "PK" signature at the start)`);
    const good = zipSync({ 'a/x.png': png(rgba(0, false)), 'b/y.png': png(rgba(1, false)) });
    await writeFiles(d, { 'cut.zip': good.subarray(0, good.length - 40) });
    await expect(loadStageData(`zip:${join(d, 'cut.zip')}`, null, null)).rejects.toThrow(`${join(d, 'cut.zip')}: has no end of central directory record: the archive is truncated or damaged`);
    await writeFiles(d, { 'bad.zip': zipSync({ 'a/x.png': png(rgba(0, false)), 'b/y.png': new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]) }) });
    await expect(loadStageData(`zip:${join(d, 'bad.zip')}`, null, null)).rejects.toThrow(`${join(d, 'bad.zip')}: b/y.png: has a damaged PNG signature (89 50 4e 47 01 02 03; a PNG starts 89 50 4e 47 0d 0a 1a 0a)`);
    await expect(loadStageData(`zip:${join(d, 'none.zip')}`, null, null)).rejects.toThrow(`${join(d, 'none.zip')}: cannot be read`);
    await expect(loadStageData(`zip:${d}`, null, null)).rejects.toThrow(`${d}: is a folder, not a .zip file`);
  });
});

describe('--data syntax', () => {
  it('refuses unknown sources and missing paths with the accepted forms', async () => {
    await expect(loadStageData('cifar', null, null)).rejects.toThrow(UsageError);
    await expect(loadStageData('cifar', null, null)).rejects.toThrow('--data must be fashion-mnist|idx:DIR|cifar10:DIR|folder:DIR|zip:FILE, got "cifar"');
    await expect(loadStageData('folder:', null, null)).rejects.toThrow('--data folder: needs a path: folder:DIR');
  });
});
