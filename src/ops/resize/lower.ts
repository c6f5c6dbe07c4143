/**
 * The integer form of resize (docs/fixed-point.md "resize"): a `resize` layer with the taps of
 * src/qmath/resize-taps.ts. Nearest copies the input's integers (its scale kept); linear rounds each pair of tap
 * weights to Q15 (w1 = round(λ · 2^15), w0 = 2^15 − w1, so a pair sums to 2^15 exactly), interpolates the rows,
 * keeps 16 − (input bits) fraction bits of them (midShift), interpolates the columns in int32 and requantizes by
 * x_s / (y_s · 2^(30 − midShift)) to the output's own scale.
 */
import type { GraphNode } from '../../graph/ir.ts';
import { resizeTaps, type AxisTaps } from '../../qmath/resize-taps.ts';
import type { ResizeTable } from '../../sim/model.ts';
import type { LowerCtx, Lowered } from '../types.ts';

/** Fraction bits of the linear weights. */
export const RESIZE_FRAC_BITS = 15;

/** Shift after the row pass: the rows keep 16 − (input bits) fraction bits, so |t| <= 2^15 (|acc| <= 2^30). */
export function resizeMidShift(dtype: string): number {
  return RESIZE_FRAC_BITS - (dtype === 'int16' ? 0 : 8);
}

function table(t: AxisTaps, fracBits: number): ResizeTable {
  const one = 2 ** fracBits;
  const weight = new Int32Array(t.weight.length);
  for (let j = 0; j < t.weight.length; j += 2) {
    const w1 = Math.round(t.weight[j + 1] * one);
    weight[j] = one - w1;
    weight[j + 1] = w1;
  }
  return { index: Int32Array.from(t.index), weight };
}

export function lowerResize(n: GraphNode, c: LowerCtx): Lowered {
  const a = n.attrs.resize!;
  const v = c.info(n.inputs[0]);
  const [, H, W] = v.shape;
  const { rows, cols } = resizeTaps(a, H, W);
  const layer = { id: n.id, op: 'resize' as const, inputs: [...n.inputs] };
  if (n.op === 'resize_nearest') {
    return {
      layer: { ...layer, rows: table(rows, 0), cols: table(cols, 0), fracBits: 0, midShift: 0, requant: null, clamp: c.dtypeClamp(v.dtype) },
      value: { ...v, scales: [...v.scales], shape: [...n.shape] },
    };
  }
  if (v.dtype === 'int32') c.fail(`${n.id}: a linear resize of an int32 value is not supported (quantize its input to int8 / int16)`);
  const F = RESIZE_FRAC_BITS, mid = resizeMidShift(v.dtype);
  const s = c.site(n);
  const xScale = c.scalarScale(n.inputs[0]);
  return {
    layer: {
      ...layer, rows: table(rows, F), cols: table(cols, F), fracBits: F, midShift: mid,
      requant: c.requantParams([xScale / (s.scale * 2 ** (2 * F - mid))], c.march, c.bits), clamp: c.dtypeClamp(s.dtype),
    },
    value: { dtype: s.dtype, scales: [s.scale], shape: [...n.shape] },
  };
}
