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
  classNames: string[];
  trainCount: number;
  testCount: number;
  trainClassCounts: number[];
  testClassCounts: number[];
  /** Per-channel mean / std on the [0, 1] scale (of up to 2 000 train images). */
  stats: { mean: number[]; std: number[] };
  /** The first images of the train split (NCHW uint8) and their labels. */
  preview: { images: Uint8Array; labels: number[]; count: number };
}

export function summarize(d: TrainTestData, kind: DataKind, split: string, name = d.train.name.replace(/\/train$/, ''), previewCount = 24): DataSummary {
  const n = Math.min(previewCount, d.train.count);
  return {
    name, kind, source: d.source, split,
    shape: [d.train.channels, d.train.height, d.train.width],
    classNames: [...d.train.classNames],
    trainCount: d.train.count,
    testCount: d.test.count,
    trainClassCounts: classCounts(d.train),
    testClassCounts: classCounts(d.test),
    stats: channelStats(d.train),
    preview: { images: d.train.images.slice(0, n * imageSize(d.train)), labels: Array.from(d.train.labels.subarray(0, n)), count: n },
  };
}
