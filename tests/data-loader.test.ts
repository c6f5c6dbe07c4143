import { describe, expect, it } from 'vitest';
import { classCounts, firstN, randomSubset, subset, validateDataset, type ImageDataset } from '../src/data/dataset.ts';
import { batchCount, iterateBatches, normalizeImages, type Batch, type LoaderOptions } from '../src/data/loader.ts';
import { createRng, permutation } from '../src/data/rng.ts';

/** count images of C x H x W random pixels (1..255, so padding zeros are recognisable), labels i % 3. */
function synthetic(count = 103, C = 2, H = 5, W = 4): ImageDataset {
  const r = createRng(99);
  const images = new Uint8Array(count * C * H * W);
  for (let i = 0; i < images.length; i++) images[i] = 1 + r.int(255);
  const labels = new Uint8Array(count).map((_, i) => i % 3);
  return { name: 'synthetic', images, labels, count, channels: C, height: H, width: W, numClasses: 3, classNames: ['a', 'b', 'c'] };
}

const collect = (ds: ImageDataset, bs: number, seed: number, epoch: number, o: LoaderOptions = {}) => [
  ...iterateBatches(ds, bs, seed, epoch, o),
];
const concatX = (bs: Batch[]) => {
  const out = new Float32Array(bs.reduce((a, b) => a + b.x.length, 0));
  let o = 0;
  for (const b of bs) out.set(b.x, (o += b.x.length) - b.x.length);
  return out;
};

describe('dataset helpers', () => {
  const ds = synthetic();
  it('subset / firstN / randomSubset copy the right images', () => {
    validateDataset(ds);
    const size = 2 * 5 * 4;
    const s = subset(ds, [5, 0, 5]);
    validateDataset(s);
    expect(s.count).toBe(3);
    expect([...s.labels!]).toEqual([2, 0, 2]);
    expect([...s.images.subarray(0, size)]).toEqual([...ds.images.subarray(5 * size, 6 * size)]);
    expect([...s.images.subarray(2 * size)]).toEqual([...ds.images.subarray(5 * size, 6 * size)]);
    expect(() => subset(ds, [103])).toThrow(RangeError);
    const f = firstN(ds, 10);
    expect(f.count).toBe(10);
    expect([...f.images]).toEqual([...ds.images.subarray(0, 10 * size)]);
    expect(firstN(ds, 1000).count).toBe(103);
    const r = randomSubset(ds, 7);
    const p = permutation(103, 0);
    expect([...r.labels!]).toEqual([...p.subarray(0, 7)].map((i) => ds.labels![i]));
    expect(classCounts(ds)).toEqual([35, 34, 34]);
  });
});

describe('iterateBatches', () => {
  const ds = synthetic();
  const size = 2 * 5 * 4;

  it('covers an epoch exactly once, with the right shapes and labels', () => {
    for (const [bs, dropLast] of [[10, false], [10, true], [103, false], [1, false], [200, false]] as const) {
      const batches = collect(ds, bs, 3, 1, { dropLast });
      expect(batches.length).toBe(batchCount(103, bs, dropLast));
      const seen = new Uint8Array(103);
      for (const b of batches) {
        expect(b.x.length).toBe(b.n * size);
        expect(b.labels.length).toBe(b.n);
        expect(b.shape).toEqual([b.n, 2, 5, 4]);
        b.indices.forEach((i, k) => {
          seen[i]++;
          expect(b.labels[k]).toBe(ds.labels![i]);
        });
      }
      const total = seen.reduce((a, v) => a + v, 0);
      expect(total).toBe(dropLast ? Math.floor(103 / bs) * bs : 103);
      expect(seen.every((v) => v <= 1)).toBe(true);
    }
  });

  it('shuffles per (seed, epoch), deterministically; shuffle:false keeps order', () => {
    const order = (seed: number, epoch: number, shuffle = true) =>
      collect(ds, 16, seed, epoch, { shuffle }).flatMap((b) => [...b.indices]);
    expect(order(1, 0)).toEqual(order(1, 0));
    expect(order(1, 0)).not.toEqual(order(1, 1));
    expect(order(1, 0)).not.toEqual(order(2, 0));
    expect(order(1, 0, false)).toEqual([...Array(103).keys()]);
  });

  it('normalizes pixel/255 by default and mean/std per channel', () => {
    const [b] = collect(ds, 103, 0, 0, { shuffle: false });
    for (let j = 0; j < ds.images.length; j++) expect(b.x[j]).toBe(Math.fround(ds.images[j] / 255));
    const mean = [0.25, 0.5];
    const std = [0.5, 2];
    const [c] = collect(ds, 103, 0, 0, { shuffle: false, normalize: { mean, std } });
    for (let j = 0; j < ds.images.length; j++) {
      const ch = Math.floor(j / 20) % 2;
      expect(c.x[j]).toBeCloseTo((ds.images[j] / 255 - mean[ch]) / std[ch], 6);
    }
    expect([...normalizeImages(ds)]).toEqual([...b.x]);
    expect(() => collect(ds, 8, 0, 0, { normalize: { mean: [0, 0, 0], std: [1, 1, 1] } })).toThrow(/3 values/);
    expect(() => collect(ds, 8, 0, 0, { normalize: { mean: [0], std: [0] } })).toThrow(/std/);
    expect(() => collect(ds, 0, 0, 0)).toThrow(/batchSize/);
  });

  it('augmentation is deterministic per seed, independent of batch size, and shape-preserving', () => {
    const augment = { cropPadding: 2, flip: true };
    const a = concatX(collect(ds, 10, 5, 2, { augment }));
    expect([...concatX(collect(ds, 10, 5, 2, { augment }))]).toEqual([...a]);
    expect([...concatX(collect(ds, 103, 5, 2, { augment }))]).toEqual([...a]);
    expect([...concatX(collect(ds, 10, 6, 2, { augment }))]).not.toEqual([...a]);
    expect([...concatX(collect(ds, 10, 5, 3, { augment }))]).not.toEqual([...a]);
    expect(a.length).toBe(103 * size);
  });

  /** Finds the (dy, dx, mirror) for which out(y, x) = in(y + dy, (mirror ? W-1-x : x) + dx), 0 outside. */
  function explain(out: Float32Array, img: Uint8Array, pad: number, zero: number, scale: (p: number) => number) {
    const found: string[] = [];
    for (const mirror of [false, true]) {
      for (let dy = -pad; dy <= pad; dy++) {
        for (let dx = -pad; dx <= pad; dx++) {
          let ok = true;
          for (let c = 0; c < 2 && ok; c++)
            for (let y = 0; y < 5 && ok; y++)
              for (let x = 0; x < 4 && ok; x++) {
                const sy = y + dy;
                const sx = (mirror ? 3 - x : x) + dx;
                const want = sy >= 0 && sy < 5 && sx >= 0 && sx < 4 ? scale(img[c * 20 + sy * 4 + sx]) : zero;
                ok = Math.abs(out[c * 20 + y * 4 + x] - want) < 1e-6;
              }
          if (ok) found.push(`${dy},${dx},${mirror}`);
        }
      }
    }
    return found;
  }

  it('random crop = a zero-padded shift within the padding, flip = a mirror; both vary', () => {
    const norm = { mean: [0.5], std: [0.25] };
    const scale = (p: number) => (p / 255 - 0.5) / 0.25;
    for (const [augment, expectMirror] of [
      [{ cropPadding: 1 }, false],
      [{ flip: true }, true],
      [{ cropPadding: 2, flip: true }, true],
    ] as const) {
      const kinds = new Set<string>();
      for (const b of collect(ds, 16, 11, 0, { augment, normalize: norm })) {
        for (let k = 0; k < b.n; k++) {
          const i = b.indices[k];
          const found = explain(b.x.subarray(k * size, (k + 1) * size), ds.images.subarray(i * size, (i + 1) * size), augment.cropPadding ?? 0, scale(0), scale);
          expect(found.length).toBe(1);
          kinds.add(found[0]);
          if (!expectMirror) expect(found[0].endsWith('false')).toBe(true);
        }
      }
      const pad = augment.cropPadding ?? 0;
      expect(kinds.size).toBeGreaterThan(Math.min(10, (2 * pad + 1) ** 2 * (expectMirror ? 2 : 1)) - 1);
    }
  });

  it('reuseBuffers yields views of one buffer with the same contents', () => {
    const fresh = collect(ds, 16, 1, 0, { augment: { flip: true } });
    let i = 0;
    let first: ArrayBufferLike | null = null;
    for (const b of iterateBatches(ds, 16, 1, 0, { augment: { flip: true }, reuseBuffers: true })) {
      first ??= b.x.buffer;
      expect(b.x.buffer).toBe(first);
      expect([...b.x]).toEqual([...fresh[i].x]);
      expect([...b.labels]).toEqual([...fresh[i].labels]);
      i++;
    }
    expect(i).toBe(fresh.length);
  });
});
