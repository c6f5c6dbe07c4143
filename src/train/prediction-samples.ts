/**
 * What a deployment check saw image by image: the true class, the simulator's and the float model's predictions,
 * the confusion matrices (true class × predicted class) of both, and the images where the float model and the
 * simulator disagree (a capped sample, raw pixels for the page's grid). Pure; built from argmaxes.
 */
import type { ImageDataset } from '../data/dataset.ts';
import { imageSize } from '../data/dataset.ts';

export const DISAGREE_MAX = 48;

export interface Disagreement { index: number; label: number; int: number; float: number }

export interface PredictionSamples {
  classNames: string[];
  /** [C, H, W] of the images below. */
  shape: number[];
  images: number;
  /** confusion[true][predicted] of the simulator, and of the float model (null when it was not run). */
  confusionInt: number[][];
  confusionFloat: number[][] | null;
  /** Images where the float model and the simulator disagree, in all (not just the sample kept). */
  disagreeCount: number;
  disagree: Disagreement[];
  /** The sampled images' uint8 pixels, NCHW, in `disagree` order. */
  pixels: Uint8Array;
}

export function argmaxRows(logits: Float32Array, n: number, k: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (logits[i * k + c] > logits[i * k + best]) best = c;
    out.push(best);
  }
  return out;
}

function confusion(labels: ArrayLike<number>, pred: number[], k: number): number[][] {
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  pred.forEach((p, i) => { m[labels[i]][p]++; });
  return m;
}

/** `ds`: the images the check ran, in order; `int` / `float`: predictions for them (float null: not run). */
export function predictionSamples(ds: ImageDataset, int: number[], float: number[] | null, max = DISAGREE_MAX): PredictionSamples {
  const k = ds.numClasses, n = Math.min(int.length, ds.count);
  // Without labels: no confusion matrices (empty), disagreements with label -1.
  const labels = ds.labels ? ds.labels.subarray(0, n) : new Int8Array(n).fill(-1);
  const disagreeAll: Disagreement[] = [];
  if (float) for (let i = 0; i < n; i++) if (float[i] !== int[i]) disagreeAll.push({ index: i, label: labels[i], int: int[i], float: float[i] });
  const disagree = disagreeAll.slice(0, max);
  const size = imageSize(ds);
  const pixels = new Uint8Array(disagree.length * size);
  disagree.forEach((d, j) => pixels.set(ds.images.subarray(d.index * size, (d.index + 1) * size), j * size));
  return {
    classNames: [...ds.classNames], shape: [ds.channels, ds.height, ds.width], images: n,
    confusionInt: ds.labels ? confusion(labels, int.slice(0, n), k) : [],
    confusionFloat: float && ds.labels ? confusion(labels, float.slice(0, n), k) : null,
    disagreeCount: disagreeAll.length, disagree, pixels,
  };
}
