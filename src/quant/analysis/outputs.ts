/**
 * The model's outputs as the analysis compares them (issue 14: several outputs of any shape: feature maps, boxes,
 * masks, embeddings, class scores). With one output every figure is the one of distance.ts, as before. With several:
 *  - the distance of an image (or of a set) is the mean over the outputs of that output's distance, each normalised
 *    so that a big feature map does not dominate: L1 per element (mean |a − b|), MSE per element already, cosine and
 *    KL per image of that output; SQNR from the mean over the outputs of each one's noise-to-signal power ratio
 *    (an output that matches exactly adds 0, not ∞);
 *  - top-1 (agreement, accuracy) is taken only on an output that is class scores (per image [K], K > 1), the first
 *    such; a model without one has no top-1 and no accuracy, distances only.
 */
import { graphOutputs, outputNames, type Graph } from '../../graph/ir.ts';
import { isClassScores } from '../deploy-outputs.ts';
import { rowDistance, setDistance, type DistanceMetric } from './distance.ts';

export interface AnalysedOutput {
  id: string;
  /** User-facing name (outputNames: 'logits' for a single output). */
  name: string;
  /** Per-image shape. */
  shape: number[];
  /** Values per image. */
  size: number;
  classScores: boolean;
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

export function analysedOutputs(g: Graph): AnalysedOutput[] {
  const ids = graphOutputs(g), names = outputNames(g);
  return ids.map((id, k) => {
    const shape = g.nodes.find((n) => n.id === id)?.shape ?? [];
    // a single output without a recorded shape (a built-in classifier) is its numClasses scores
    const sh = shape.length ? [...shape] : ids.length === 1 ? [g.numClasses] : [];
    if (!sh.length) throw new Error(`analysis: output ${id} of ${g.name} has no shape`);
    return { id, name: names[k], shape: sh, size: prod(sh), classScores: isClassScores(sh) };
  });
}

/** One output of K class scores (the classifiers' case; tests and callers that only know K). */
export const classScoresOutput = (k: number): AnalysedOutput[] => [{ id: 'output', name: 'logits', shape: [k], size: k, classScores: k > 1 }];

/** Index of the output whose argmax is the top-1 class: the first that is class scores; -1 when none is. */
export const top1Output = (outs: readonly AnalysedOutput[]): number => outs.findIndex((o) => o.classScores);

/** The distance of image i: per output rows of `outs[o].size` values in a[o] and b[o]. */
export function imageDistance(m: DistanceMetric, outs: readonly AnalysedOutput[], a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[], i: number): number {
  if (outs.length === 1) return rowDistance(m, a[0], b[0], i, outs[0].size);
  if (m === 'sqnr') {
    let nsr = 0;
    outs.forEach((o, k) => { nsr += noiseToSignal(a[k], b[k], i * o.size, o.size); });
    return fromNoiseToSignal(nsr / outs.length);
  }
  let s = 0;
  outs.forEach((o, k) => { s += rowDistance(m, a[k], b[k], i, o.size) / (m === 'l1' ? o.size : 1); });
  return s / outs.length;
}

/** One figure for n images (setDistance per output, combined as imageDistance combines them). */
export function outputsDistance(m: DistanceMetric, outs: readonly AnalysedOutput[], a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[], n: number): number {
  if (outs.length === 1) return setDistance(m, a[0], b[0], n, outs[0].size);
  if (m === 'sqnr') {
    let nsr = 0;
    outs.forEach((o, k) => { nsr += noiseToSignal(a[k], b[k], 0, n * o.size); });
    return fromNoiseToSignal(nsr / outs.length);
  }
  let s = 0;
  outs.forEach((o, k) => { s += setDistance(m, a[k], b[k], n, o.size) / (m === 'l1' ? o.size : 1); });
  return s / outs.length;
}

/** Σ(a − b)² / Σa² over len values from off; 0 when both are zero (exact), ∞ when only the reference is. */
function noiseToSignal(a: ArrayLike<number>, b: ArrayLike<number>, off: number, len: number): number {
  let sig = 0, err = 0;
  for (let j = off; j < off + len; j++) {
    sig += a[j] ** 2;
    err += (a[j] - b[j]) ** 2;
  }
  return err === 0 ? 0 : err / sig;
}

const fromNoiseToSignal = (r: number): number => (r === 0 ? Infinity : -10 * Math.log10(r));
