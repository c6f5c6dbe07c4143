/**
 * A folder of class subfolders with PNG/JPEG images (dropped, picked, or unzipped) as a train/test
 * data set; or, when every image lies in one folder (no class subfolders), an unlabelled one
 * (labels null: calibration, distillation QAT and output similarity need only images), split 80/20 at random. Pure: the pixel decoding is injected (createImageBitmap + OffscreenCanvas in the decode
 * worker; a fake in tests). The class of an image is the name of the folder that holds it; classes
 * are sorted by name. All images must have one size unless `resize` is given; grey images (R = G = B
 * everywhere) give a 1-channel data set, anything else 3 channels (RGB). Every image's header is read
 * and checked (image-header.ts, limits.ts) before the first one is decoded. The split is stratified:
 * `testFraction` of each class (seeded) becomes the test split.
 */
import { DataFormatError } from './errors.ts';
import { readImageHeader } from './image-header.ts';
import { formatBytes, LIMITS } from './limits.ts';
import type { ImageDataset, TrainTestData } from './dataset.ts';
import { permutation } from './rng.ts';
import { resizePlane } from './transform.ts';

export interface InputFile { path: string; bytes: Uint8Array }
export interface DecodedImage { width: number; height: number; rgba: Uint8Array | Uint8ClampedArray }
export type ImageDecoder = (bytes: Uint8Array, name: string) => Promise<DecodedImage>;

export interface FolderOptions {
  /** [height, width] every image is resized to; null: all images must share one size. */
  resize?: [number, number] | null;
  testFraction?: number;
  seed?: number;
  /** Name of what was dropped, for messages and the data set name. */
  source?: string;
  onProgress?: (done: number, total: number) => void;
}

export const IMAGE_FILE = /\.(png|jpe?g)$/i;

/** Hidden files and macOS resource forks are never data. */
export function isIgnoredPath(path: string): boolean {
  return path.split('/').some((s) => s.startsWith('.') || s === '__MACOSX');
}

/**
 * True when the images carry no class: all of them lie directly in one folder (the dropped folder itself, or
 * the root of --data folder:DIR). One class folder is no classification set either, so it reads the same way.
 */
export function isUnlabelledLayout(paths: string[]): boolean {
  const parent = (p: string) => p.replace(/\\/g, '/').split('/').filter(Boolean).slice(0, -1).join('/');
  return new Set(paths.map(parent)).size === 1;
}

/** The images' classes (their parent folders), sorted; throws on an image outside any class folder. */
export function groupByClass(paths: string[]): { classNames: string[]; labels: number[] } {
  const folders = paths.map((p) => {
    const parts = p.replace(/\\/g, '/').split('/').filter(Boolean);
    if (parts.length < 2) throw new DataFormatError(p, 'is not inside a class folder (expected <class>/<image>.png)');
    return parts[parts.length - 2];
  });
  const classNames = [...new Set(folders)].sort((a, b) => a.localeCompare(b));
  const index = new Map(classNames.map((c, i) => [c, i]));
  return { classNames, labels: folders.map((f) => index.get(f)!) };
}

/** Stratified split: per class, the first round(n * f) of a seeded permutation go to test (at least 1 of 2+). */
export function stratifiedSplit(labels: ArrayLike<number>, numClasses: number, testFraction: number, seed: number): { train: number[]; test: number[] } {
  const train: number[] = [], test: number[] = [];
  for (let c = 0; c < numClasses; c++) {
    const idx: number[] = [];
    for (let i = 0; i < labels.length; i++) if (labels[i] === c) idx.push(i);
    const perm = permutation(idx.length, seed + c);
    const nTest = idx.length >= 2 ? Math.max(1, Math.round(idx.length * testFraction)) : 0;
    perm.forEach((p, k) => (k < nTest ? test : train).push(idx[p]));
  }
  return { train: train.sort((a, b) => a - b), test: test.sort((a, b) => a - b) };
}

/** Unlabelled split: the first round(n * f) of a seeded permutation go to test (at least 1 of 2+). */
export function randomSplit(count: number, testFraction: number, seed: number): { train: number[]; test: number[] } {
  const perm = permutation(count, seed);
  const nTest = count >= 2 ? Math.max(1, Math.round(count * testFraction)) : 0;
  const test = [...perm.subarray(0, nTest)].sort((a, b) => a - b);
  const train = [...perm.subarray(nTest)].sort((a, b) => a - b);
  return { train, test };
}

function isGrey(img: DecodedImage): boolean {
  const d = img.rgba;
  for (let k = 0; k < d.length; k += 4) if (d[k] !== d[k + 1] || d[k] !== d[k + 2]) return false;
  return true;
}

function pick(all: ImageDataset, ids: number[], name: string): ImageDataset {
  const size = all.channels * all.height * all.width;
  const images = new Uint8Array(ids.length * size);
  const src = all.labels;
  const labels = src ? new Uint8Array(ids.length) : null;
  ids.forEach((i, k) => {
    images.set(all.images.subarray(i * size, (i + 1) * size), k * size);
    if (labels && src) labels[k] = src[i];
  });
  return { ...all, name, images, labels, count: ids.length, classNames: [...all.classNames] };
}

export async function imageFolderToTrainTest(files: InputFile[], decode: ImageDecoder, o: FolderOptions = {}): Promise<TrainTestData> {
  const source = o.source ?? 'image folder';
  const images = files.filter((f) => !isIgnoredPath(f.path) && IMAGE_FILE.test(f.path));
  if (images.length === 0) {
    throw new DataFormatError(source, `has no PNG or JPEG images in class subfolders (found ${files.length} other file${files.length === 1 ? '' : 's'})`);
  }
  const unlabelled = isUnlabelledLayout(images.map((f) => f.path));
  const { classNames, labels } = unlabelled ? { classNames: [], labels: null } : groupByClass(images.map((f) => f.path));
  if (classNames.length > 255) throw new DataFormatError(source, `${classNames.length} class folders; at most 255 are supported`);
  // Every header first: sizes, structure and limits are checked before any pixel is decoded.
  const headers = images.map((f) => readImageHeader(f.bytes, f.path));
  if (!o.resize) {
    const k = headers.findIndex((hd) => hd.width !== headers[0].width || hd.height !== headers[0].height);
    if (k > 0) {
      throw new DataFormatError(images[k].path, `is ${headers[k].width}x${headers[k].height} but ${images[0].path} is ${headers[0].width}x${headers[0].height}; ` +
        'turn on Resize to use images of mixed sizes');
    }
  }
  const decodedBytes = headers.reduce((s, hd) => s + 4 * hd.width * hd.height, 0);
  if (decodedBytes > LIMITS.decodedImagesBytes) {
    throw new DataFormatError(source, `its ${images.length} images would take ${formatBytes(decodedBytes)} decoded, over the limit of ${formatBytes(LIMITS.decodedImagesBytes)}; ` +
      'use fewer or smaller images');
  }
  const [outH, outW] = o.resize ?? [headers[0].height, headers[0].width];
  if (images.length * 3 * outH * outW > LIMITS.datasetBytes) {
    throw new DataFormatError(source, `${images.length} images of ${outH}x${outW} would exceed the limit of ${formatBytes(LIMITS.datasetBytes)} for a data set; resize them smaller`);
  }
  const decoded: DecodedImage[] = [];
  for (let i = 0; i < images.length; i++) {
    const f = images[i];
    const hd = headers[i];
    let img: DecodedImage;
    try {
      img = await decode(f.bytes, f.path);
    } catch (e) {
      const why = (e as Error).message || 'corrupt or unsupported';
      throw new DataFormatError(f.path, `is a ${hd.width}x${hd.height} ${hd.format} whose image data is corrupt or unsupported (the decoder said: ${why})`, { cause: e });
    }
    if (img.width !== hd.width || img.height !== hd.height || img.rgba.length !== 4 * hd.width * hd.height) {
      throw new DataFormatError(f.path, `its ${hd.format} header says ${hd.width}x${hd.height} but it decodes to ${img.width}x${img.height}`);
    }
    decoded.push(img);
    o.onProgress?.(i + 1, images.length);
  }
  const [h, w] = o.resize ?? [decoded[0].height, decoded[0].width];
  const channels = decoded.every(isGrey) ? 1 : 3;
  const size = channels * h * w;
  const all: ImageDataset = {
    name: source, images: new Uint8Array(decoded.length * size), labels: labels ? Uint8Array.from(labels) : null, count: decoded.length,
    channels, height: h, width: w, numClasses: classNames.length, classNames,
  };
  const plane = new Uint8Array(Math.max(...decoded.map((d) => d.width * d.height)));
  decoded.forEach((img, i) => {
    for (let c = 0; c < channels; c++) {
      const n = img.width * img.height;
      for (let k = 0; k < n; k++) plane[k] = img.rgba[4 * k + c];
      resizePlane(plane, img.height, img.width, all.images, h, w, (i * channels + c) * h * w);
    }
  });
  const split = all.labels
    ? stratifiedSplit(all.labels, all.numClasses, o.testFraction ?? 0.2, o.seed ?? 0)
    : randomSplit(all.count, o.testFraction ?? 0.2, o.seed ?? 0);
  return { train: pick(all, split.train, `${source}/train`), test: pick(all, split.test, `${source}/test`), source };
}
