/**
 * Interval arithmetic over integer layers (docs/fixed-point.md §6.6): the range a layer's output can take from its
 * inputs' ranges, and the worst-case int32 accumulator of the layers that accumulate (conv / linear products,
 * average-pooling window sums). Each layer kind's entry in src/sim/layers.ts picks its part from here;
 * src/quant/accumulator-bound.ts runs them over a model. Plain doubles are exact (|bound| < 2^53 for any real layer).
 *     acc_max[o] = bias[o] + Σ_k max(w[o,k]·x_lo, w[o,k]·x_hi)  (+ the rescaled fused-add input's maximum)
 *     acc_min[o] = bias[o] + Σ_k min(w[o,k]·x_lo, w[o,k]·x_hi)  (+ its minimum)
 * Padding contributes 0, inside [x_lo, x_hi].
 */
import type { IntLayer, IntModel, OutClamp } from '../model.ts';

export type Range = [number, number];

/** The range of a value computed earlier (its producer's output range, else its dtype's). */
export type RangeOf = (id: string) => Range;

export interface AccumulatorRange {
  range: Range;
  /** The output channel that reaches the larger magnitude. */
  channel: number;
  /** Output channels whose int32 bias sits at the int32 limit (clipped by convert). */
  saturatedBias?: number[];
}

export const INT32_MAX = 2147483647;
export const INT32_MIN = -2147483648;

const lo0 = (r: Range) => Math.min(r[0], 0);
const hi0 = (r: Range) => Math.max(r[1], 0);

/** A layer that requantizes into its output clamp: the clamp is its range. */
export const clampRange = (l: { clamp: OutClamp }): Range => [l.clamp.lo, l.clamp.hi];

/** A layer that moves integers unchanged: its input's range. */
export const inputRange = (l: { inputs: string[] }, of: RangeOf): Range => of(l.inputs[0]);

/** round half up of v·m / 2^s at the ends of [lo, hi] (monotone in v): the rescaled add input's range. */
function rescaledRange(r: Range, m: number, s: number): Range {
  const f = (v: number) => Math.floor((v * m) / 2 ** s + 0.5);
  return [f(r[0]), f(r[1])];
}

type Dense = Extract<IntLayer, { op: 'conv2d' | 'linear' }>;

export function denseAccumulator(l: Dense, of: RangeOf): AccumulatorRange {
  const x = of(l.inputs[0]);
  const add = l.addRescale && l.inputs[1] ? of(l.inputs[1]) : null;
  const O = l.weightShape[0];
  const K = l.weight.length / O;
  const xl = lo0(x), xh = hi0(x);
  let mn = Infinity, mx = -Infinity, channel = 0, worst = -1;
  for (let o = 0; o < O; o++) {
    let a = l.bias[o], b = l.bias[o];
    for (let k = o * K; k < (o + 1) * K; k++) {
      const w = l.weight[k];
      if (w > 0) {
        a += w * xl;
        b += w * xh;
      } else {
        a += w * xh;
        b += w * xl;
      }
    }
    if (add && l.addRescale) {
      const pick = (t: Int32Array) => t[t.length === 1 ? 0 : o];
      const r = rescaledRange([lo0(add), hi0(add)], pick(l.addRescale.multiplier), pick(l.addRescale.shift));
      a += r[0];
      b += r[1];
    }
    mn = Math.min(mn, a);
    mx = Math.max(mx, b);
    const m = Math.max(-a, b);
    if (m > worst) {
      worst = m;
      channel = o;
    }
  }
  const saturatedBias: number[] = [];
  l.bias.forEach((b, o) => { if (b === INT32_MAX || b === INT32_MIN) saturatedBias.push(o); });
  return { range: [mn, mx], channel, saturatedBias };
}

/** conv / linear: the output clamp when requantized, else (an int32 output) the accumulator itself. */
export const denseRange = (l: Dense, of: RangeOf): Range => (l.requant ? clampRange(l) : denseAccumulator(l, of).range);

/** Average pooling sums up to kh·kw (global: H·W) inputs before requantizing. */
export function avgPoolAccumulator(l: Extract<IntLayer, { op: 'avgpool2d' }>, of: RangeOf, m: IntModel): AccumulatorRange {
  const x = of(l.inputs[0]);
  const shape = m.values[l.inputs[0]]?.shape ?? [];
  const count = l.kernel ? l.kernel[0] * l.kernel[1] : (shape[1] ?? 1) * (shape[2] ?? 1);
  return { range: [count * lo0(x), count * hi0(x)], channel: 0 };
}
