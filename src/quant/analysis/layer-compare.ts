/**
 * Layer-by-layer comparison of two stages on the same inputs (float vs calibrated, calibrated vs QAT, QAT vs
 * simulator, float vs simulator, ...): every activation site and int32 output of the quantized graph, in graph order
 * (the depth axis of the page's curves). A side's clip statistics use its own grid, or the other side's when it is
 * the float model (the share of float values the quantized model's scale would clip).
 */
import type { Batch } from '../../data/loader.ts';
import type { QuantPlan } from '../prepare.ts';
import { LayerAccumulator, type LayerComparison } from './layer-stats.ts';
import type { PassOptions, StageRunner } from './stage-runner.ts';

/** The layers both stages have: activation sites and int32 outputs, in graph order. */
export function comparableLayers(plan: QuantPlan): { name: string; depth: number }[] {
  const ids = new Set([...plan.acts.map((a) => a.node), ...plan.int32Outputs]);
  return plan.graph.nodes.map((n, depth) => ({ name: n.id, depth })).filter((l) => ids.has(l.name));
}

export async function compareLayers(batches: readonly Batch[], plan: QuantPlan, a: StageRunner, b: StageRunner, o: PassOptions = {}): Promise<LayerComparison[]> {
  const layers = comparableLayers(plan);
  const names = layers.map((l) => l.name);
  const acc = layers.map((l) => {
    const ga = a.grids.get(l.name) ?? (a.name === 'float' ? b.grids.get(l.name) : undefined) ?? null;
    const gb = b.grids.get(l.name) ?? (b.name === 'float' ? a.grids.get(l.name) : undefined) ?? null;
    return new LayerAccumulator(l.name, l.depth, ga, gb);
  });
  for (const batch of batches) {
    if (o.signal?.aborted) throw new DOMException('analysis cancelled', 'AbortError');
    const va = (await a.run(batch, names)).values, vb = (await b.run(batch, names)).values;
    layers.forEach((l, i) => {
      const x = va.get(l.name), y = vb.get(l.name);
      if (!x || !y) throw new Error(`layer comparison: no value of ${l.name} from the ${!x ? a.name : b.name} stage`);
      acc[i].add(x, y);
    });
    o.onBatch?.();
  }
  return acc.map((x) => x.result());
}
