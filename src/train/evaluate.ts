/**
 * Evaluation of a graph on a data set: top-1 / top-5 accuracy (percent). An unlabelled set has no accuracy:
 * acc1 / acc5 are NaN (the stages show output similarity to the float model instead, output-similarity.ts).
 */
import type { Backend } from '../engine/backend.ts';
import { Tape } from '../engine/autograd.ts';
import type { ImageDataset } from '../data/dataset.ts';
import { iterateBatches, type Normalization } from '../data/loader.ts';
import type { Graph } from '../graph/ir.ts';
import { runGraph, type Hooks } from '../nn/executor.ts';
import type { ParamStore } from '../nn/params.ts';
import { countTopK } from '../nn/metrics.ts';

export interface EvalResult { acc1: number; acc5: number; images: number }

/** Accuracy of a set without labels: not a number, shown as "no labels". */
export const NO_ACCURACY = { acc1: NaN, acc5: NaN } as const;

export interface EvalOptions {
  batchSize?: number;
  normalize?: Normalization;
  /** Quantization hooks (fake quant in VALIDATION state). */
  hooks?: Hooks;
  signal?: AbortSignal;
  /** Called with each batch's logits (e.g. for agreement checks). */
  onLogits?: (logits: Float32Array, labels: Float32Array, n: number) => void;
}

export async function evaluate(be: Backend, graph: Graph, store: ParamStore, ds: ImageDataset, o: EvalOptions = {}): Promise<EvalResult> {
  let top1 = 0, top5 = 0, seen = 0;
  for (const batch of iterateBatches(ds, o.batchSize ?? 256, 0, 0, { shuffle: false, normalize: o.normalize })) {
    if (o.signal?.aborted) throw new DOMException('evaluation cancelled', 'AbortError');
    const tape = new Tape(be, false, false);
    try {
      const x = tape.input(batch.x, batch.shape);
      const { output } = runGraph(tape, graph, store, x, { ...o.hooks });
      const logits = await be.read(output.value);
      if (ds.labels) {
        const c = countTopK(logits, batch.labels, batch.n, graph.numClasses);
        top1 += c.top1;
        top5 += c.top5;
      }
      seen += batch.n;
      o.onLogits?.(logits, batch.labels, batch.n);
    } finally {
      tape.dispose();
    }
  }
  if (!ds.labels) return { ...NO_ACCURACY, images: seen };
  return { acc1: (100 * top1) / Math.max(1, seen), acc5: (100 * top5) / Math.max(1, seen), images: seen };
}
