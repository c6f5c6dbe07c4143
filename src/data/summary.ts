/** What the Data panel shows of a data set: sizes, classes, counts, pixel statistics and a preview. */
import { classCounts, imageSize, type TrainTestData } from './dataset.ts';
import { channelStats } from './transform.ts';

export type DataKind = 'builtin' | 'idx' | 'cifar' | 'zip' | 'image-folder';

export interface DataSummary {
  name: string;
  kind: DataKind;
  source: string;
  split: string;
  /** [C, H, W] */
  shape: number[];
  /** Empty for an unlabelled set. */
  classNames: string[];
  /** False: images only (no class folders, or a labelled set used without its labels); absent (older projects): true. */
  labelled?: boolean;
  trainCount: number;
  testCount: number;
  trainClassCounts: number[];
  testClassCounts: number[];
  /** Per-channel mean / std on the [0, 1] scale (of up to 2 000 train images). */
  stats: { mean: number[]; std: number[] };
  /**
   * Preview images of the train split (NCHW uint8) and their labels: the first few of each class, interleaved
   * class by class (so the first tiles show every class, and the page can filter by class).
   */
  preview: { images: Uint8Array; labels: number[]; count: number };
}

/** Preview images kept per class (and at most this many in all). */
export const PREVIEW_PER_CLASS = 8;
export const PREVIEW_MAX = 256;

/** Indices of the preview: up to `perClass` of each class in file order, interleaved round-robin across classes. */
export function previewIndices(labels: ArrayLike<number>, numClasses: number, perClass = PREVIEW_PER_CLASS, max = PREVIEW_MAX): number[] {
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) {
    const c = byClass[labels[i]];
    if (c && c.length < perClass) c.push(i);
  }
  const out: number[] = [];
  for (let r = 0; r < perClass && out.length < max; r++) for (const c of byClass) if (r < c.length && out.length < max) out.push(c[r]);
  return out;
}

export function summarize(d: TrainTestData, kind: DataKind, split: string, name = d.train.name.replace(/\/train$/, '')): DataSummary {
  const tl = d.train.labels;
  // Unlabelled: the first images, in file order.
  const idx = tl ? previewIndices(tl, d.train.numClasses) : Array.from({ length: Math.min(d.train.count, PREVIEW_PER_CLASS * 4) }, (_, i) => i);
  const size = imageSize(d.train);
  const images = new Uint8Array(idx.length * size);
  idx.forEach((i, k) => images.set(d.train.images.subarray(i * size, (i + 1) * size), k * size));
  return {
    name, kind, source: d.source, split,
    shape: [d.train.channels, d.train.height, d.train.width],
    classNames: [...d.train.classNames],
    labelled: tl !== null,
    trainCount: d.train.count,
    testCount: d.test.count,
    trainClassCounts: classCounts(d.train),
    testClassCounts: classCounts(d.test),
    stats: channelStats(d.train),
    preview: { images, labels: idx.map((i) => (tl ? tl[i] : -1)), count: idx.length },
  };
}
