/**
 * Worst-case int32 accumulator bounds of an integer model (docs/fixed-point.md §6.6).
 *
 * The march accumulates conv / linear products and pooling windows in int32 and wraps like int32 hardware; the
 * simulator wraps the same way (src/sim/int/conv2d.ts). Wrapping is modular, so only the final sum matters: a layer is
 * safe when every value its accumulator can take fits in int32. The bound is interval arithmetic over the layer's
 * integer weights and bias and its input's integer range (the producer's output clamp: the dtype, tightened by a
 * fused ReLU / ReLU6):
 *     acc_max[o] = bias[o] + Σ_k max(w[o,k]·x_lo, w[o,k]·x_hi)  (+ the rescaled fused-add input's maximum)
 *     acc_min[o] = bias[o] + Σ_k min(w[o,k]·x_lo, w[o,k]·x_hi)  (+ its minimum)
 * Padding contributes 0, inside [x_lo, x_hi]. A layer whose bound leaves int32 is "at risk": some input in range
 * makes it wrap. A bias at the int32 limit was saturated by convert (quantizeBias clamps): the simulated channel is
 * off by the clipped part for every input. Plain doubles are exact here (|bound| < 2^53 for any real layer).
 */
import type { IntLayer, IntModel } from './convert.ts';
import { DTYPE_RANGE } from '../sim/int/requant.ts';

export const INT32_MAX = 2147483647;
export const INT32_MIN = -2147483648;

export interface AccumulatorBound {
  layer: string;
  op: 'conv2d' | 'linear' | 'avgpool2d';
  /** The integer range of the layer's input (the producer's output clamp). */
  input: [number, number];
  /** The extreme accumulator values over all inputs in range, over all output channels. */
  min: number;
  max: number;
  /** log2 of max(|min|, |max|): 31 and above does not fit int32. */
  bits: number;
  /** The output channel that reaches the larger magnitude. */
  channel: number;
  /** Whether some input in range makes the int32 accumulator wrap. */
  atRisk: boolean;
}

export interface SaturatedBias {
  layer: string;
  /** Output channels whose int32 bias sits at the int32 limit (clipped by convert). */
  channels: number[];
}

export interface AccumulatorCheck {
  /** Every accumulating layer, in model order. */
  layers: AccumulatorBound[];
  /** The layers at risk, worst (most bits) first. */
  atRisk: AccumulatorBound[];
  saturatedBiases: SaturatedBias[];
}

type Range = [number, number];

/** The integer range of every value: what its producer can emit. */
function valueRanges(model: IntModel): Map<string, Range> {
  const ranges = new Map<string, Range>();
  const of = (id: string): Range => ranges.get(id) ?? DTYPE_RANGE[model.values[id]?.dtype ?? 'int32'] as Range;
  for (const l of model.layers) {
    switch (l.op) {
      case 'quantize':
        ranges.set(l.id, [...DTYPE_RANGE[l.dtype]] as Range);
        break;
      case 'conv2d':
      case 'linear':
        // an int32 output is the accumulator itself: its range is the bound (set below)
        ranges.set(l.id, l.requant ? [l.clamp.lo, l.clamp.hi] : accumulatorRange(l, of(l.inputs[0]), l.inputs[1] ? of(l.inputs[1]) : null).range);
        break;
      case 'add':
      case 'rescale':
      case 'avgpool2d':
      case 'mul':
      case 'affine':
        ranges.set(l.id, [l.clamp.lo, l.clamp.hi]);
        break;
      case 'maxpool2d':
      case 'reshape':
        ranges.set(l.id, of(l.inputs[0]));
        break;
      case 'dequantize':
        break;
    }
  }
  return ranges;
}

const lo0 = (r: Range) => Math.min(r[0], 0);
const hi0 = (r: Range) => Math.max(r[1], 0);

/** round half up of v·m / 2^s at the ends of [lo, hi] (monotone in v): the rescaled add input's range. */
function rescaledRange(r: Range, m: number, s: number): Range {
  const f = (v: number) => Math.floor((v * m) / 2 ** s + 0.5);
  return [f(r[0]), f(r[1])];
}

function accumulatorRange(l: Extract<IntLayer, { op: 'conv2d' | 'linear' }>, x: Range, add: Range | null): { range: Range; channel: number } {
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
  return { range: [mn, mx], channel };
}

const bitsOf = (r: Range) => Math.log2(Math.max(1, Math.abs(r[0]), Math.abs(r[1])));
const fits = (r: Range) => r[0] >= INT32_MIN && r[1] <= INT32_MAX;

/** The worst-case accumulator of every conv / linear / average-pooling layer, and the saturated biases. */
export function checkAccumulators(model: IntModel): AccumulatorCheck {
  const ranges = valueRanges(model);
  const of = (id: string): Range => ranges.get(id) ?? DTYPE_RANGE[model.values[id]?.dtype ?? 'int32'] as Range;
  const layers: AccumulatorBound[] = [];
  const saturatedBiases: SaturatedBias[] = [];
  for (const l of model.layers) {
    if (l.op === 'conv2d' || l.op === 'linear') {
      const x = of(l.inputs[0]);
      const { range, channel } = accumulatorRange(l, x, l.addRescale ? of(l.inputs[1]) : null);
      layers.push({ layer: l.id, op: l.op, input: x, min: range[0], max: range[1], bits: bitsOf(range), channel, atRisk: !fits(range) });
      const sat: number[] = [];
      l.bias.forEach((b, o) => { if (b === INT32_MAX || b === INT32_MIN) sat.push(o); });
      if (sat.length) saturatedBiases.push({ layer: l.id, channels: sat });
    } else if (l.op === 'avgpool2d') {
      const x = of(l.inputs[0]);
      const shape = model.values[l.inputs[0]]?.shape ?? [];
      const count = l.kernel ? l.kernel[0] * l.kernel[1] : (shape[1] ?? 1) * (shape[2] ?? 1);
      const range: Range = [count * lo0(x), count * hi0(x)];
      layers.push({ layer: l.id, op: 'avgpool2d', input: x, min: range[0], max: range[1], bits: bitsOf(range), channel: 0, atRisk: !fits(range) });
    }
  }
  const atRisk = layers.filter((b) => b.atRisk).sort((a, b) => b.bits - a.bits || a.layer.localeCompare(b.layer));
  return { layers, atRisk, saturatedBiases };
}

/** One line per problem, for the CLI and the reports ("" when the model is safe). */
export function describeAccumulatorCheck(c: AccumulatorCheck): string[] {
  const out: string[] = [];
  for (const b of c.atRisk) {
    out.push(`${b.layer} (${b.op}): int32 accumulator at risk: worst case ${b.min}..${b.max} (2^${b.bits.toFixed(2)}, channel ${b.channel}) `
      + `for inputs in ${b.input[0]}..${b.input[1]}; it wraps for some inputs`);
  }
  for (const s of c.saturatedBiases) {
    const list = s.channels.length > 8 ? `${s.channels.slice(0, 8).join(', ')}, … (${s.channels.length} channels)` : s.channels.join(', ');
    out.push(`${s.layer}: int32 bias saturated in channel${s.channels.length > 1 ? 's' : ''} ${list} (bias / (x_scale·w_scale) exceeds 2^31)`);
  }
  return out;
}

/** The report.json form (also what the page's deploy panel shows). */
export interface AccumulatorReport {
  at_risk: { layer: string; op: string; min: number; max: number; bits: number; channel: number; input: [number, number] }[];
  saturated_biases: { layer: string; channels: number[] }[];
  /** log2 of the largest worst-case accumulator of the model. */
  worst_bits: number;
}

export function accumulatorsForReport(c: AccumulatorCheck): AccumulatorReport {
  return {
    at_risk: c.atRisk.map((b) => ({ layer: b.layer, op: b.op, min: b.min, max: b.max, bits: Number(b.bits.toFixed(3)), channel: b.channel, input: b.input })),
    saturated_biases: c.saturatedBiases.map((s) => ({ layer: s.layer, channels: s.channels })),
    worst_bits: Number(Math.max(0, ...c.layers.map((b) => b.bits)).toFixed(3)),
  };
}
