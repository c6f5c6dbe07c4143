/**
 * The in-memory image data set used everywhere (training, calibration, evaluation, UI).
 *
 * Layout: `images` holds `count` images of `channels` x `height` x `width` uint8 pixels (0..255),
 * NCHW: image i, channel c, row y, column x is at `((i * channels + c) * height + y) * width + x`.
 * `labels[i]` is the class index of image i, `< numClasses`.
 * Sources: the built-in Fashion-MNIST (fashion-mnist.ts) and IDX files (idx.ts).
 */

import { permutation } from './rng.ts';

export interface ImageDataset {
  name: string;
  /** uint8 pixels, NCHW, length count * channels * height * width. */
  images: Uint8Array;
  /** class index per image, length count. */
  labels: Uint8Array;
  count: number;
  channels: number;
  height: number;
  width: number;
  numClasses: number;
  /** length numClasses. */
  classNames: string[];
}

export interface TrainTestData {
  train: ImageDataset;
  test: ImageDataset;
  /** Where the data came from (a path, URL or description), for logs and reports. */
  source: string;
}

export const FASHION_MNIST_CLASS_NAMES: readonly string[] = Object.freeze([
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]);

export const DIGIT_CLASS_NAMES: readonly string[] = Object.freeze(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);

/** Pixels per image (channels * height * width). */
export function imageSize(ds: ImageDataset): number {
  return ds.channels * ds.height * ds.width;
}

/** The pixels of image i (a view, not a copy). */
export function imageAt(ds: ImageDataset, i: number): Uint8Array {
  const size = imageSize(ds);
  return ds.images.subarray(i * size, (i + 1) * size);
}

/** A new data set with copies of the images `indices` (in that order; repeats allowed). */
export function subset(ds: ImageDataset, indices: ArrayLike<number>, name: string = ds.name): ImageDataset {
  const size = imageSize(ds);
  const n = indices.length;
  const images = new Uint8Array(n * size);
  const labels = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= ds.count) {
      throw new RangeError(`subset: index ${i} out of range 0..${ds.count - 1} for ${ds.name}`);
    }
    images.set(ds.images.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = ds.labels[i];
  }
  return { ...ds, name, images, labels, count: n, classNames: [...ds.classNames] };
}

/** The first min(n, count) images (copied). */
export function firstN(ds: ImageDataset, n: number): ImageDataset {
  const m = Math.max(0, Math.min(Math.floor(n), ds.count));
  const size = imageSize(ds);
  return {
    ...ds,
    images: ds.images.slice(0, m * size),
    labels: ds.labels.slice(0, m),
    count: m,
    classNames: [...ds.classNames],
  };
}

/**
 * The first min(n, count) images of `permutation(ds.count, seed)`, in permutation order.
 * This is the CLI's `--subset N` (with seed 0, applied to the train split).
 */
export function randomSubset(ds: ImageDataset, n: number, seed = 0): ImageDataset {
  const m = Math.max(0, Math.min(Math.floor(n), ds.count));
  return subset(ds, permutation(ds.count, seed).subarray(0, m));
}

/** Number of images per class (length numClasses). */
export function classCounts(ds: ImageDataset): number[] {
  const counts = new Array<number>(ds.numClasses).fill(0);
  for (let i = 0; i < ds.count; i++) counts[ds.labels[i]]++;
  return counts;
}

/** Throws if the fields are inconsistent (array lengths, label range, class names). */
export function validateDataset(ds: ImageDataset): void {
  const where = `dataset ${ds.name}`;
  for (const k of ['count', 'channels', 'height', 'width', 'numClasses'] as const) {
    if (!Number.isInteger(ds[k]) || ds[k] < 0) throw new Error(`${where}: ${k} = ${ds[k]} is not a non-negative integer`);
  }
  if (ds.images.length !== ds.count * imageSize(ds)) {
    throw new Error(`${where}: images has ${ds.images.length} bytes, expected ${ds.count * imageSize(ds)}`);
  }
  if (ds.labels.length !== ds.count) throw new Error(`${where}: ${ds.labels.length} labels for ${ds.count} images`);
  if (ds.classNames.length !== ds.numClasses) {
    throw new Error(`${where}: ${ds.classNames.length} class names for ${ds.numClasses} classes`);
  }
  for (let i = 0; i < ds.count; i++) {
    if (ds.labels[i] >= ds.numClasses) throw new Error(`${where}: label ${ds.labels[i]} of image ${i} >= ${ds.numClasses}`);
  }
}
