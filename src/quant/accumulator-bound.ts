/**
 * Worst-case int32 accumulator bounds of an integer model (docs/fixed-point.md §6.6).
 *
 * The march accumulates conv / linear products and pooling windows in int32 and wraps like int32 hardware; the
 * simulator wraps the same way (src/sim/int/conv2d.ts). Wrapping is modular, so only the final sum matters: a layer is
 * safe when every value its accumulator can take fits in int32. The bound is interval arithmetic over the layer's
 * integer weights and bias and its input's integer range (the producer's output clamp: the dtype, tightened by a
 * fused ReLU / ReLU6), layer by layer from each layer kind's `range` and `accumulator` parts (src/sim/layers.ts,
 * formulas in src/sim/int/accumulator.ts). A layer whose bound leaves int32 is "at risk": some input in range
 * makes it wrap. A bias at the int32 limit was saturated by convert (quantizeBias clamps): the simulated channel is
 * off by the clipped part for every input.
 */
import type { IntModel } from './convert.ts';
import { INT32_MAX, INT32_MIN, type Range } from '../sim/int/accumulator.ts';
import { DTYPE_RANGE } from '../sim/int/requant.ts';
import { intLayerDef } from '../sim/layers.ts';
import type { IntLayerOp } from '../sim/model.ts';

export { INT32_MAX, INT32_MIN };

export interface AccumulatorBound {
  layer: string;
  /** A layer kind with an `accumulator` part (conv2d, linear, avgpool2d). */
  op: IntLayerOp;
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

/** The integer range of every value: what its producer can emit (each layer kind's `range`). */
function valueRanges(model: IntModel): Map<string, Range> {
  const ranges = new Map<string, Range>();
  const of = (id: string): Range => ranges.get(id) ?? DTYPE_RANGE[model.values[id]?.dtype ?? 'int32'] as Range;
  for (const l of model.layers) {
    const r = intLayerDef(l).range(l, of);
    if (r) ranges.set(l.id, r);
  }
  return ranges;
}

const bitsOf = (r: Range) => Math.log2(Math.max(1, Math.abs(r[0]), Math.abs(r[1])));
const fits = (r: Range) => r[0] >= INT32_MIN && r[1] <= INT32_MAX;

/** The worst-case accumulator of every accumulating layer (conv / linear / average pooling), and the saturated biases. */
export function checkAccumulators(model: IntModel): AccumulatorCheck {
  const ranges = valueRanges(model);
  const of = (id: string): Range => ranges.get(id) ?? DTYPE_RANGE[model.values[id]?.dtype ?? 'int32'] as Range;
  const layers: AccumulatorBound[] = [];
  const saturatedBiases: SaturatedBias[] = [];
  for (const l of model.layers) {
    const acc = intLayerDef(l).accumulator?.(l, of, model);
    if (!acc) continue;
    const { range, channel, saturatedBias } = acc;
    layers.push({ layer: l.id, op: l.op, input: of(l.inputs[0]), min: range[0], max: range[1], bits: bitsOf(range), channel, atRisk: !fits(range) });
    if (saturatedBias?.length) saturatedBiases.push({ layer: l.id, channels: saturatedBias });
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
