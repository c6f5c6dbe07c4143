/**
 * The bad-case finder: every image of the data through two stages (float and quantized, as a rule); per image the
 * chosen distance between their outputs and whether their top-1 classes disagree; the worst N, disagreements first
 * (a changed prediction is the failure the user sees), then by distance.
 */
import type { Batch } from '../../data/loader.ts';
import { argmaxRows } from '../../train/metrics.ts';
import { rowDistance, worseFirst, type DistanceMetric } from './distance.ts';
import type { PassOptions, StageRunner } from './stage-runner.ts';

export interface BadCase {
  /** Index of the image in the analysed data set. */
  index: number;
  label: number;
  /** Top-1 class of the first (reference) and second stage. */
  pred_a: number;
  pred_b: number;
  disagree: boolean;
  distance: number;
}

export interface BadCaseResult {
  metric: DistanceMetric;
  a: string;
  b: string;
  images: number;
  /** Share of images (%) where the stages' top-1 classes agree. */
  agreement_top1: number;
  acc1_a: number;
  acc1_b: number;
  /** Per image, in data-set order (for the page's histogram and for choosing other N). */
  distances: Float32Array;
  worst: BadCase[];
}

export async function findBadCases(batches: readonly Batch[], k: number, a: StageRunner, b: StageRunner, metric: DistanceMetric, top: number, o: PassOptions = {}): Promise<BadCaseResult> {
  const all: BadCase[] = [];
  let ok1a = 0, ok1b = 0, agree = 0;
  for (const batch of batches) {
    if (o.signal?.aborted) throw new DOMException('analysis cancelled', 'AbortError');
    const la = (await a.run(batch, [])).logits, lb = (await b.run(batch, [])).logits;
    const pa = argmaxRows(la, batch.n, k), pb = argmaxRows(lb, batch.n, k);
    for (let i = 0; i < batch.n; i++) {
      const label = batch.labels[i];
      if (pa[i] === label) ok1a++;
      if (pb[i] === label) ok1b++;
      if (pa[i] === pb[i]) agree++;
      all.push({ index: batch.indices[i], label, pred_a: pa[i], pred_b: pb[i], disagree: pa[i] !== pb[i], distance: rowDistance(metric, la, lb, i, k) });
    }
    o.onBatch?.();
  }
  const distances = new Float32Array(all.length);
  all.forEach((c, i) => { distances[i] = c.distance; });
  const cmp = worseFirst(metric);
  const worst = [...all].sort((x, y) => Number(y.disagree) - Number(x.disagree) || cmp(x.distance, y.distance) || x.index - y.index).slice(0, top);
  const pct = (v: number) => (100 * v) / Math.max(1, all.length);
  // Images without labels (label -1 in the batches) have no accuracy: NaN, the agreement and distances still hold.
  const labelled = all.every((c) => c.label >= 0);
  return { metric, a: a.name, b: b.name, images: all.length, agreement_top1: pct(agree), acc1_a: labelled ? pct(ok1a) : NaN, acc1_b: labelled ? pct(ok1b) : NaN, distances, worst };
}
