/**
 * Sensitivity of every quantized site (activation and weight separately), as Horizon's precision-debug tool and
 * AIMET's QuantAnalyzer measure it: the output distance to the float model and the accuracy when only that site is
 * quantized (the rest float), and when only that site is left float (the rest quantized). Ranked worst first by the
 * distance with only that site quantized (the error the site brings on its own), ties broken by that accuracy.
 * Several outputs: the distance combines them (outputs.ts); accuracy is that of the output with class scores (NaN
 * without one, or without labels).
 */
import type { Backend } from '../../engine/backend.ts';
import type { Batch } from '../../data/loader.ts';
import type { Hooks } from '../../nn/executor.ts';
import { countTopK } from '../../train/metrics.ts';
import type { QuantizedModel } from '../quantized-model.ts';
import { worseFirst, type DistanceMetric } from './distance.ts';
import { analysedOutputs, outputsDistance, top1Output, type AnalysedOutput } from './outputs.ts';
import { onlyFloat, onlyQuantized, sitesOf, type SiteKind, type SiteRef } from './site-precision.ts';
import { engineOutputs, passOutputs, type PassOptions } from './stage-runner.ts';

export interface SensitivityEntry {
  site: string;
  kind: SiteKind;
  metric: DistanceMetric;
  /** Distance of the output to the float model's, only this site quantized. */
  distance_only_this_quantized: number;
  /** Distance with only this site left float (everything else quantized). */
  distance_only_this_float: number;
  acc1_only_this_quantized: number;
  acc1_only_this_float: number;
}

export interface SensitivityResult {
  metric: DistanceMetric;
  images: number;
  acc1_float: number;
  acc1_quantized: number;
  /** Distance of the fully quantized model's output to the float model's. */
  distance_quantized: number;
  /** Worst first. */
  ranking: SensitivityEntry[];
  seconds: number;
}

export interface SensitivityOptions extends PassOptions {
  /** Called after each site with (sites done, sites). */
  onSite?: (done: number, total: number, site: SiteRef) => void;
  /** Restrict to these sites (default: every site of the model). */
  sites?: SiteRef[];
}

/**
 * Top-1 accuracy in percent on the output with class scores (per output values from passOutputs); NaN for images
 * without labels (label -1) and for a model without such an output.
 */
export function acc1Of(outputs: readonly Float32Array[], batches: readonly Batch[], outs: readonly AnalysedOutput[]): number {
  const t = top1Output(outs);
  if (t < 0) return NaN;
  const logits = outputs[t], k = outs[t].size;
  let ok = 0, at = 0, n = 0;
  for (const b of batches) {
    if (b.labels.some((l) => l < 0)) return NaN;
    ok += countTopK(logits.subarray(at * k, (at + b.n) * k), b.labels, b.n, k).top1;
    at += b.n;
    n += b.n;
  }
  return (100 * ok) / Math.max(1, n);
}

/** Ranks entries worst first (by the only-this-quantized distance, then accuracy, then name). */
export function rankSensitivity(entries: SensitivityEntry[], metric: DistanceMetric): SensitivityEntry[] {
  const cmp = worseFirst(metric);
  return [...entries].sort((x, y) => cmp(x.distance_only_this_quantized, y.distance_only_this_quantized)
    || x.acc1_only_this_quantized - y.acc1_only_this_quantized || x.site.localeCompare(y.site) || x.kind.localeCompare(y.kind));
}

export async function sensitivity(be: Backend, qm: QuantizedModel, batches: readonly Batch[], metric: DistanceMetric, o: SensitivityOptions = {}): Promise<SensitivityResult> {
  const start = performance.now();
  const g = qm.plan.graph, outs = analysedOutputs(g);
  const n = batches.reduce((s, b) => s + b.n, 0);
  const pass = (hooks: Hooks | undefined) => passOutputs(batches, outs, (b) => engineOutputs(be, g, qm.store, hooks, b), o);
  const prev = qm.state;
  qm.setState('VALIDATION');
  try {
    const ref = await pass(undefined);
    const full = await pass(qm.hooks);
    const sites = o.sites ?? sitesOf(qm);
    const entries: SensitivityEntry[] = [];
    for (const [i, s] of sites.entries()) {
      const q = await pass(onlyQuantized(qm, [s]));
      const f = await pass(onlyFloat(qm, [s]));
      entries.push({
        site: s.site, kind: s.kind, metric,
        distance_only_this_quantized: outputsDistance(metric, outs, ref, q, n), distance_only_this_float: outputsDistance(metric, outs, ref, f, n),
        acc1_only_this_quantized: acc1Of(q, batches, outs), acc1_only_this_float: acc1Of(f, batches, outs),
      });
      o.onSite?.(i + 1, sites.length, s);
    }
    return {
      metric, images: n, acc1_float: acc1Of(ref, batches, outs), acc1_quantized: acc1Of(full, batches, outs),
      distance_quantized: outputsDistance(metric, outs, ref, full, n), ranking: rankSensitivity(entries, metric),
      seconds: (performance.now() - start) / 1000,
    };
  } finally {
    qm.setState(prev);
  }
}
