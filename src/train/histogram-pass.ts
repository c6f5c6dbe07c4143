/**
 * One pass of the quantized model over some images that records every activation site's float input values
 * (src/train/act-histograms.ts): calibration observes through it, and after QAT it records the histograms of the
 * trained model at its QAT scales, on the same images calibration saw, so two runs' histograms overlay like for like.
 */
import type { Backend } from '../engine/backend.ts';
import { Tape, type Var } from '../engine/autograd.ts';
import type { ImageDataset } from '../data/dataset.ts';
import { iterateBatches, type Normalization } from '../data/loader.ts';
import { runGraph, type Hooks } from '../nn/executor.ts';
import type { QuantizedModel } from '../quant/quantized-model.ts';
import type { ActHistogram } from './quant-protocol.ts';
import { ActHistogramCollector } from './act-histograms.ts';
import { Cancelled } from './trainer.ts';

export interface HistogramPassContext { be: Backend; signal: AbortSignal }

/** Runs `ds` through `qm` in its current state, adding each site's values to `hist`; `onBatch(k)` after batch k. */
export async function histogramPass(ctx: HistogramPassContext, qm: QuantizedModel, ds: ImageDataset, batchSize: number,
  normalize: Normalization, hist: ActHistogramCollector, onBatch?: (batch: number) => void): Promise<void> {
  const base = qm.hooks;
  let batch = 0;
  for (const b of iterateBatches(ds, batchSize, 0, 0, { shuffle: false, normalize })) {
    if (ctx.signal.aborted) throw new Cancelled();
    const seen: { node: string; value: Var }[] = [];
    const hooks: Hooks = {
      hook: (node, value, tape) => {
        if (qm.acts.has(node.id)) seen.push({ node: node.id, value });
        return base.hook!(node, value, tape);
      },
      weightHook: base.weightHook,
      biasHook: base.biasHook,
    };
    const tape = new Tape(ctx.be, false, false);
    try {
      runGraph(tape, qm.plan.graph, qm.store, tape.input(b.x, b.shape), hooks);
      await qm.observePending();
      for (const s of seen) hist.add(s.node, await ctx.be.read(s.value.value));
    } finally {
      tape.dispose();
    }
    onBatch?.(++batch);
  }
}

/** The histograms with each site's clip range at `scales` (scale · [quantMin, quantMax]). */
export function finishHistograms(qm: QuantizedModel, hist: ActHistogramCollector, activations: Record<string, number>): ActHistogram[] {
  const sites = new Map(qm.plan.acts.map((a) => [a.node, a]));
  return hist.finish((node) => {
    const s = activations[node], a = sites.get(node);
    return s !== undefined && a ? [s * a.quantMin, s * a.quantMax] : null;
  });
}
