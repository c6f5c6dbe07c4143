/**
 * The in-memory image data set used everywhere (training, calibration, evaluation, UI).
 *
 * Layout: `images` holds `count` images of `channels` x `height` x `width` uint8 pixels (0..255),
 * NCHW: image i, channel c, row y, column x is at `((i * channels + c) * height + y) * width + x`.
 * `labels[i]` is the class index of image i, `< numClasses`; an unlabelled set (a folder of images with no
 * class folders, or a labelled set used without its labels) has `labels: null`, numClasses 0 and no class names:
 * calibration, distillation and output-similarity evaluation need only the images.
 * Sources: the built-in Fashion-MNIST (fashion-mnist.ts) and IDX files (idx.ts).
 */

import { permutation } from './rng.ts';

export interface ImageDataset {
  name: string;
  /** uint8 pixels, NCHW, length count * channels * height * width. */
  images: Uint8Array;
  /** class index per image, length count; null: the set has no labels. */
  labels: Uint8Array | null;
  count: number;
  channels: number;
  height: number;
  width: number;
  numClasses: number;
  /** length numClasses. */
  classNames: string[];
}

export interface TrainTestData<D extends ImageDataset = ImageDataset> {
  train: D;
  test: D;
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

/** A data set that has labels. */
export type LabelledDataset = ImageDataset & { labels: Uint8Array };

export function isLabelled(ds: ImageDataset): ds is LabelledDataset {
  return ds.labels !== null;
}

/** The same images without labels (the page's "use without labels" switch, the CLI's --unlabelled). */
export function withoutLabels(ds: ImageDataset): ImageDataset {
  return { ...ds, labels: null, numClasses: 0, classNames: [] };
}

/** Throws a clear error when a step that needs labels gets an unlabelled set. */
export function requireLabels(ds: ImageDataset, what: string): LabelledDataset {
  if (!isLabelled(ds)) {
    throw new Error(`${what} needs labelled data, but ${ds.name} has no labels: use calibration, distillation QAT (--distill) ` +
      'and output similarity to the float model instead');
  }
  return ds;
}

/** Whether a model with `numClasses` outputs can be scored on `ds`: any model on a set without labels. */
export function fitsClasses(numClasses: number, ds: ImageDataset): boolean {
  return ds.labels === null || numClasses === ds.numClasses;
}

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
export function subset<D extends ImageDataset>(ds: D, indices: ArrayLike<number>, name: string = ds.name): D {
  const size = imageSize(ds);
  const n = indices.length;
  const images = new Uint8Array(n * size);
  const src = ds.labels;
  const labels = src ? new Uint8Array(n) : null;
  for (let k = 0; k < n; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= ds.count) {
      throw new RangeError(`subset: index ${i} out of range 0..${ds.count - 1} for ${ds.name}`);
    }
    images.set(ds.images.subarray(i * size, (i + 1) * size), k * size);
    if (labels && src) labels[k] = src[i];
  }
  return { ...ds, name, images, labels, count: n, classNames: [...ds.classNames] } as D;
}

/** The first min(n, count) images (copied). */
export function firstN<D extends ImageDataset>(ds: D, n: number): D {
  const m = Math.max(0, Math.min(Math.floor(n), ds.count));
  const size = imageSize(ds);
  return {
    ...ds,
    images: ds.images.slice(0, m * size),
    labels: ds.labels ? ds.labels.slice(0, m) : null,
    count: m,
    classNames: [...ds.classNames],
  } as D;
}

/**
 * The first min(n, count) images of `permutation(ds.count, seed)`, in permutation order.
 * This is the CLI's `--subset N` (with seed 0, applied to the train split).
 */
export function randomSubset<D extends ImageDataset>(ds: D, n: number, seed = 0): D {
  const m = Math.max(0, Math.min(Math.floor(n), ds.count));
  return subset(ds, permutation(ds.count, seed).subarray(0, m));
}

/** Number of images per class (length numClasses). */
export function classCounts(ds: ImageDataset): number[] {
  const counts = new Array<number>(ds.numClasses).fill(0);
  if (ds.labels) for (let i = 0; i < ds.count; i++) counts[ds.labels[i]]++;
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
  if (ds.classNames.length !== ds.numClasses) {
    throw new Error(`${where}: ${ds.classNames.length} class names for ${ds.numClasses} classes`);
  }
  if (!ds.labels) {
    if (ds.numClasses !== 0) throw new Error(`${where}: no labels but ${ds.numClasses} classes`);
    return;
  }
  if (ds.labels.length !== ds.count) throw new Error(`${where}: ${ds.labels.length} labels for ${ds.count} images`);
  for (let i = 0; i < ds.count; i++) {
    if (ds.labels[i] >= ds.numClasses) throw new Error(`${where}: label ${ds.labels[i]} of image ${i} >= ${ds.numClasses}`);
  }
}
