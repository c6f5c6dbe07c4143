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
import { Tape, type Var } from '../../engine/autograd.ts';
import { runGraph, type Hooks } from '../../nn/executor.ts';
import { countTopK } from '../../train/metrics.ts';
import type { QuantizedModel } from '../quantized-model.ts';
import { worseFirst, type DistanceMetric } from './distance.ts';
import { analysedOutputs, outputsDistance, top1Output, type AnalysedOutput } from './outputs.ts';
import { onlyFloat, onlyQuantized, sitesOf, type SiteKind, type SiteRef } from './site-precision.ts';
import type { PassOptions } from './stage-runner.ts';

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
  const sites = o.sites ?? sitesOf(qm);
  const order = new Map(g.nodes.map((node, i) => [node.id, i]));
  const values = () => outs.map((x) => new Float32Array(n * x.size));
  const ref = values(), full = values();
  const q = sites.map(values), f = sites.map(values);
  const prev = qm.state;
  qm.setState('VALIDATION');
  try {
    // Batch by batch: the float and the fully quantized runs keep every node's value, and each site's two runs start
    // from them: with only the site quantized, every node before it is as in the float run; with only the site
    // float, as in the quantized run. So each of those runs computes only the nodes from the site on.
    let at = 0;
    for (const b of batches) {
      const tRef = new Tape(be, false, false), tFull = new Tape(be, false, false);
      try {
        const x = tRef.input(b.x, b.shape);
        const pass = async (tape: Tape, hooks: Hooks | undefined, into: Float32Array[], given?: ReadonlyMap<string, Var>) => {
          if (o.signal?.aborted) throw new DOMException('analysis cancelled', 'AbortError');
          const r = runGraph(tape, g, qm.store, x, { ...hooks, keep: () => true, given });
          if (r.outputs.length !== outs.length) throw new Error(`analysis: ${r.outputs.length} outputs, the model has ${outs.length}`);
          for (const [k, v] of r.outputs.entries()) into[k].set((await be.read(v.value)).subarray(0, b.n * outs[k].size), at * outs[k].size);
          o.onBatch?.();
          return r.values;
        };
        const refValues = await pass(tRef, undefined, ref);
        const fullValues = await pass(tFull, qm.hooks, full);
        const before = (kept: Map<string, Var>, s: SiteRef) => {
          const i = order.get(s.site)!;
          return new Map([...kept].filter(([id]) => order.get(id)! < i));
        };
        for (const [j, s] of sites.entries()) {
          for (const [hooks, into, kept] of [[onlyQuantized(qm, [s]), q[j], refValues], [onlyFloat(qm, [s]), f[j], fullValues]] as const) {
            const tape = new Tape(be, false, false);
            try {
              await pass(tape, hooks, into, before(kept, s));
            } finally {
              tape.dispose();
            }
          }
        }
      } finally {
        tRef.dispose();
        tFull.dispose();
      }
      at += b.n;
    }
    const entries: SensitivityEntry[] = sites.map((s, j) => ({
      site: s.site, kind: s.kind, metric,
      distance_only_this_quantized: outputsDistance(metric, outs, ref, q[j], n), distance_only_this_float: outputsDistance(metric, outs, ref, f[j], n),
      acc1_only_this_quantized: acc1Of(q[j], batches, outs), acc1_only_this_float: acc1Of(f[j], batches, outs),
    }));
    return {
      metric, images: n, acc1_float: acc1Of(ref, batches, outs), acc1_quantized: acc1Of(full, batches, outs),
      distance_quantized: outputsDistance(metric, outs, ref, full, n), ranking: rankSensitivity(entries, metric),
      seconds: (performance.now() - start) / 1000,
    };
  } finally {
    qm.setState(prev);
  }
}
