/**
 * Mini-batch iterator over an ImageDataset: per-epoch seeded shuffle, normalization to float,
 * optional seeded augmentation (random crop with zero padding, horizontal flip).
 *
 * Determinism: the order of epoch `e` is `permutation(count, mixSeeds(seed, e, 1))` (or 0..count-1
 * without shuffle); augmentation draws come from `createRng(mixSeeds(seed, e, 2))`, consumed in epoch
 * order, per sample: [dy, dx] if cropPadding > 0, then [flip] if flip. So (dataset, seed, epoch,
 * options) fix every batch, and a sample's augmentation does not depend on the batch size.
 */

import { imageSize, type ImageDataset } from './dataset.ts';
import { createRng, mixSeeds, permutation } from './rng.ts';

/**
 * `'pixel/255'` (default; the input of the built-in models): x = p / 255.
 * `{mean, std}`: per channel, in the [0, 1] scale: x = (p / 255 - mean[c]) / std[c]
 * (arrays of length `channels`, or length 1 for all channels), like torchvision's Normalize.
 */
export type Normalization = 'pixel/255' | { mean: number[]; std: number[] };

export interface AugmentOptions {
  /**
   * Random crop: pad the image by this many pixels of value 0 (before normalization, like
   * torchvision's RandomCrop(padding=p)) on every side, then crop H x W at a uniformly random offset;
   * i.e. shift the image by dy, dx uniform in [-p, p]. 0 / absent: no crop.
   */
  cropPadding?: number;
  /** Mirror left-right with probability 1/2 (after the crop). */
  flip?: boolean;
}

export interface LoaderOptions {
  /** Shuffle every epoch (default true). */
  shuffle?: boolean;
  /** Default 'pixel/255'. */
  normalize?: Normalization;
  augment?: AugmentOptions;
  /** Drop the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /**
   * Yield views into the same buffers every batch (default false): no allocation per batch, but a
   * batch's contents are overwritten when the next one is produced; copy what must be kept.
   */
  reuseBuffers?: boolean;
}

export interface Batch {
  /** n * C * H * W floats, NCHW. */
  x: Float32Array;
  /** n class indices, as floats; all -1 for an unlabelled set (nothing may read them as classes). */
  labels: Float32Array;
  /** Number of images in this batch (batchSize, or less for the last one). */
  n: number;
  /** Data set indices of the n images. */
  indices: Uint32Array;
  /** [n, C, H, W]. */
  shape: [number, number, number, number];
}

const STREAM_SHUFFLE = 1;
const STREAM_AUGMENT = 2;

/** The order in which epoch `epoch` visits the images. */
export function epochOrder(count: number, seed: number, epoch: number, shuffle = true): Uint32Array {
  if (shuffle) return permutation(count, mixSeeds(seed, epoch, STREAM_SHUFFLE));
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  return order;
}

/** Number of batches per epoch. */
export function batchCount(count: number, batchSize: number, dropLast = false): number {
  checkBatchSize(batchSize);
  return dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

/**
 * Lookup table pixel value -> normalized float, per channel: entry `c * 256 + p`.
 * Validates the normalization against the channel count.
 */
export function normalizationTable(norm: Normalization, channels: number): Float32Array {
  const lut = new Float32Array(channels * 256);
  if (norm === 'pixel/255') {
    for (let c = 0; c < channels; c++) for (let p = 0; p < 256; p++) lut[c * 256 + p] = p / 255;
    return lut;
  }
  if (typeof norm !== 'object' || norm === null || !Array.isArray(norm.mean) || !Array.isArray(norm.std)) {
    throw new TypeError(`normalize must be 'pixel/255' or {mean: number[], std: number[]}, got ${JSON.stringify(norm)}`);
  }
  const { mean, std } = norm;
  for (const [what, arr] of [['mean', mean], ['std', std]] as const) {
    if (arr.length !== channels && arr.length !== 1) {
      throw new RangeError(`normalize.${what} has ${arr.length} values; expected ${channels} (one per channel) or 1`);
    }
    if (!arr.every((v) => Number.isFinite(v))) throw new RangeError(`normalize.${what} must be finite numbers`);
  }
  if (!std.every((v) => v > 0)) throw new RangeError(`normalize.std must be > 0, got [${std.join(', ')}]`);
  for (let c = 0; c < channels; c++) {
    const m = mean.length === 1 ? mean[0] : mean[c];
    const s = std.length === 1 ? std[0] : std[c];
    for (let p = 0; p < 256; p++) lut[c * 256 + p] = (p / 255 - m) / s;
  }
  return lut;
}

/** All images of a data set as normalized floats (NCHW), in data set order, no augmentation. */
export function normalizeImages(ds: ImageDataset, norm: Normalization = 'pixel/255'): Float32Array {
  const lut = normalizationTable(norm, ds.channels);
  const out = new Float32Array(ds.images.length);
  const plane = ds.height * ds.width;
  for (let i = 0, o = 0; i < ds.count; i++) {
    for (let c = 0; c < ds.channels; c++) {
      const base = c * 256;
      for (let j = 0; j < plane; j++, o++) out[o] = lut[base + ds.images[o]];
    }
  }
  return out;
}

/**
 * Batches of one epoch. Every image appears exactly once per epoch (the last batch may be smaller,
 * or is dropped with dropLast).
 */
export function* iterateBatches(
  ds: ImageDataset,
  batchSize: number,
  seed: number,
  epoch: number,
  options: LoaderOptions = {},
): Generator<Batch, void, undefined> {
  checkBatchSize(batchSize);
  const { shuffle = true, normalize = 'pixel/255', augment = {}, dropLast = false, reuseBuffers = false } = options;
  const pad = augment.cropPadding ?? 0;
  const flip = augment.flip ?? false;
  if (!Number.isInteger(pad) || pad < 0) throw new RangeError(`augment.cropPadding must be a non-negative integer, got ${pad}`);

  const { channels: C, height: H, width: W } = ds;
  const size = imageSize(ds);
  const plane = H * W;
  const lut = normalizationTable(normalize, C);
  const order = epochOrder(ds.count, seed, epoch, shuffle);
  const rng = pad > 0 || flip ? createRng(mixSeeds(seed, epoch, STREAM_AUGMENT)) : null;
  const nBatches = batchCount(ds.count, batchSize, dropLast);

  const xBuf = reuseBuffers ? new Float32Array(batchSize * size) : null;
  const labelBuf = reuseBuffers ? new Float32Array(batchSize) : null;
  const indexBuf = reuseBuffers ? new Uint32Array(batchSize) : null;

  for (let b = 0; b < nBatches; b++) {
    const start = b * batchSize;
    const n = Math.min(batchSize, ds.count - start);
    const x = xBuf ? xBuf.subarray(0, n * size) : new Float32Array(n * size);
    const labels = labelBuf ? labelBuf.subarray(0, n) : new Float32Array(n);
    const indices = indexBuf ? indexBuf.subarray(0, n) : new Uint32Array(n);

    for (let k = 0; k < n; k++) {
      const i = order[start + k];
      indices[k] = i;
      labels[k] = ds.labels ? ds.labels[i] : -1;
      const src = i * size;
      const dst = k * size;
      let dy = 0;
      let dx = 0;
      let mirror = false;
      if (rng) {
        if (pad > 0) {
          dy = rng.int(2 * pad + 1) - pad;
          dx = rng.int(2 * pad + 1) - pad;
        }
        if (flip) mirror = rng.u32() >= 0x80000000;
      }
      if (dy === 0 && dx === 0 && !mirror) {
        for (let c = 0; c < C; c++) {
          const base = c * 256;
          const o = dst + c * plane;
          const s = src + c * plane;
          for (let j = 0; j < plane; j++) x[o + j] = lut[base + ds.images[s + j]];
        }
        continue;
      }
      // out(y, x) = in(y + dy, (mirror ? W-1-x : x) + dx), pixel 0 outside the image.
      for (let c = 0; c < C; c++) {
        const base = c * 256;
        const zero = lut[base];
        for (let y = 0; y < H; y++) {
          const o = dst + c * plane + y * W;
          const sy = y + dy;
          if (sy < 0 || sy >= H) {
            x.fill(zero, o, o + W);
            continue;
          }
          const s = src + c * plane + sy * W;
          for (let xx = 0; xx < W; xx++) {
            const sx = (mirror ? W - 1 - xx : xx) + dx;
            x[o + xx] = sx >= 0 && sx < W ? lut[base + ds.images[s + sx]] : zero;
          }
        }
      }
    }
    yield { x, labels, n, indices, shape: [n, C, H, W] };
  }
}

function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
}
