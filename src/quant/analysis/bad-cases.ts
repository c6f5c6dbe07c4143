/**
 * The bad-case finder: every image of the data through two stages (float and quantized, as a rule); per image the
 * chosen distance between their outputs and whether their top-1 classes disagree; the worst N, disagreements first
 * (a changed prediction is the failure the user sees), then by distance. Several outputs: the distance combines
 * them (outputs.ts); top-1 is that of the output with class scores, and a model without one (a detector, a
 * segmenter, a feature pyramid) is ranked by distance only.
 */
import type { Batch } from '../../data/loader.ts';
import { argmaxRows } from '../../train/metrics.ts';
import { worseFirst, type DistanceMetric } from './distance.ts';
import { classScoresOutput, imageDistance, top1Output, type AnalysedOutput } from './outputs.ts';
import { outputsOf, type PassOptions, type StageRunner } from './stage-runner.ts';

export interface BadCase {
  /** Index of the image in the analysed data set. */
  index: number;
  label: number;
  /** Top-1 class of the first (reference) and second stage; -1 without an output of class scores. */
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
  /** Share of images (%) where the stages' top-1 classes agree; NaN without an output of class scores. */
  agreement_top1: number;
  acc1_a: number;
  acc1_b: number;
  /** Per image, in data-set order (for the page's histogram and for choosing other N). */
  distances: Float32Array;
  worst: BadCase[];
}

/** `outs`: the model's outputs (analysedOutputs), or K for one output of K class scores. */
export async function findBadCases(batches: readonly Batch[], outs: number | readonly AnalysedOutput[], a: StageRunner, b: StageRunner, metric: DistanceMetric, top: number, o: PassOptions = {}): Promise<BadCaseResult> {
  const os = typeof outs === 'number' ? classScoresOutput(outs) : outs;
  const t1 = top1Output(os);
  const all: BadCase[] = [];
  let ok1a = 0, ok1b = 0, agree = 0;
  for (const batch of batches) {
    if (o.signal?.aborted) throw new DOMException('analysis cancelled', 'AbortError');
    const la = outputsOf(await a.run(batch, [])), lb = outputsOf(await b.run(batch, []));
    if (la.length !== os.length || lb.length !== os.length) throw new Error(`bad cases: the ${la.length !== os.length ? a.name : b.name} stage gave ${la.length !== os.length ? la.length : lb.length} outputs, the model has ${os.length}`);
    const none = new Int32Array(batch.n).fill(-1);
    const pa = t1 < 0 ? none : argmaxRows(la[t1], batch.n, os[t1].size), pb = t1 < 0 ? none : argmaxRows(lb[t1], batch.n, os[t1].size);
    for (let i = 0; i < batch.n; i++) {
      const label = batch.labels[i];
      if (pa[i] === label) ok1a++;
      if (pb[i] === label) ok1b++;
      if (pa[i] === pb[i]) agree++;
      all.push({ index: batch.indices[i], label, pred_a: pa[i], pred_b: pb[i], disagree: pa[i] !== pb[i], distance: imageDistance(metric, os, la, lb, i) });
    }
    o.onBatch?.();
  }
  const distances = new Float32Array(all.length);
  all.forEach((c, i) => { distances[i] = c.distance; });
  const cmp = worseFirst(metric);
  const worst = [...all].sort((x, y) => Number(y.disagree) - Number(x.disagree) || cmp(x.distance, y.distance) || x.index - y.index).slice(0, top);
  const pct = (v: number) => (100 * v) / Math.max(1, all.length);
  // Images without labels (label -1 in the batches) have no accuracy: NaN, the agreement and distances still hold.
  const labelled = t1 >= 0 && all.every((c) => c.label >= 0);
  return { metric, a: a.name, b: b.name, images: all.length, agreement_top1: t1 >= 0 ? pct(agree) : NaN, acc1_a: labelled ? pct(ok1a) : NaN, acc1_b: labelled ? pct(ok1b) : NaN, distances, worst };
}
