/**
 * Running a prepared model with activation scales chosen here rather than the model's own: the sites in `scales`
 * fake-quantize at the given scale, the others pass their float value through, weights fake-quantize as the model
 * does (min-max per channel) unless asked to stay float, and so do the biases whose input site has a scale here. Used by automatic calibration (and its tests) to quantize "everything up to a site".
 */
import type { Tape, Var } from '../../engine/autograd.ts';
import type { BTensor } from '../../engine/backend.ts';
import { fakeQuantFn } from '../../engine/fns/fake-quant.ts';
import type { Hooks } from '../../nn/executor.ts';
import type { QuantizedModel } from '../quantized-model.ts';

/** qparams [1, 3] of a symmetric per-tensor scale, as the model stores them. */
export function scaleQParams(scale: number): Float32Array {
  return new Float32Array([scale, Math.fround(1 / Math.fround(scale)), 0]);
}

/** A running range [2, 1] that reproduces `scale` (for QuantizedModel.loadHost). */
export function scaleRunning(scale: number, quantMin: number, quantMax: number): Float32Array {
  const half = (quantMax - quantMin) / 2;
  return new Float32Array([-scale * half, scale * half]);
}

export class SiteScaleHooks {
  private readonly qparams = new Map<string, BTensor>();
  /** Values of `watch` sites seen in the last run (before any fake quant), on the tape of that run. */
  watched: { site: string; value: Var }[] = [];

  /** `floatWeights`: the weights stay float too (the whole model float, as calibration observes it). */
  constructor(private readonly qm: QuantizedModel, scales: ReadonlyMap<string, number>, private readonly watch: ReadonlySet<string> = new Set(),
    private readonly floatWeights = false) {
    for (const [id, s] of scales) this.qparams.set(id, qm.be.upload(scaleQParams(s), [1, 3]));
  }

  hooks(): Hooks {
    const acts = new Map(this.qm.plan.acts.map((a) => [a.node, a]));
    const rounding = this.qm.plan.qconfig.rounding;
    return {
      ...(this.floatWeights ? {} : {
        weightHook: this.qm.hooks.weightHook,
        // the bias on its int32 grid where its input's site has a scale here (as the model will add it)
        biasHook: (node, b: Var, tape: Tape) => {
          const bs = this.qm.biases.get(node.id);
          return this.qm.biasOnGrid(node, b, tape, (bs && this.qparams.get(bs.input)) ?? null);
        },
      }),
      hook: (node, value: Var, tape: Tape) => {
        if (this.watch.has(node.id)) this.watched.push({ site: node.id, value });
        const qp = this.qparams.get(node.id);
        const a = acts.get(node.id);
        if (!qp || !a) return value;
        return tape.apply(fakeQuantFn, [value], {
          qparams: qp, layout: { outer: 1, channels: 1, inner: value.value.size }, range: { quantMin: a.quantMin, quantMax: a.quantMax, rounding },
        });
      },
    };
  }

  dispose(): void {
    for (const t of this.qparams.values()) this.qm.be.release(t);
    this.qparams.clear();
  }
}
