/**
 * Integer Mul and affine of the fixed-point simulator (docs/fixed-point.md §8), integer only:
 *  - mul: acc = a · b as an int32 product of the two int8 / int16 inputs (|a · b| ≤ 2^30), then the horizon
 *    requantization to the output scale with one multiplier / shift for x_a · s_b / s_out; b is either a's shape
 *    or one value per (sample, channel) of a (the squeeze-excitation gate), read at floor(i / inner);
 *  - affine (x · a + b with scalar constants): out = clamp(round(x · m / 2^s) + offset), m / 2^s ≈ s_x · a / s_out
 *    and offset = round(b / s_out) (the offset is added in output units, like a zero point).
 */
import { allocInt, assertIntArray, outputBounds, requantizeValueHorizon, type IntArray, type OutputSpec } from './requant.ts';

/** The int32 products a · b[i / inner] (b per element or per channel): the accumulator the requantization reads. */
export function mulAcc(a: IntArray, b: IntArray): Int32Array {
  assertIntArray('mul a', a);
  assertIntArray('mul b', b);
  if (!b.length || a.length % b.length) throw new RangeError(`mul: b has ${b.length} values, a ${a.length} (b must match a or hold one value per channel)`);
  if (a instanceof Int32Array || b instanceof Int32Array) throw new RangeError('mul: int32 inputs are not supported (the product must fit int32)');
  const inner = a.length / b.length;
  const acc = new Int32Array(a.length);
  if (inner === 1) for (let i = 0; i < a.length; i++) acc[i] = a[i] * b[i];
  else {
    for (let c = 0; c < b.length; c++) {
      const g = b[c], o = c * inner;
      for (let i = o; i < o + inner; i++) acc[i] = a[i] * g;
    }
  }
  return acc;
}

/** Reference kernel (one value at a time); the simulator takes mulAcc + the SIMD requantization, the same integers. */
export function mulInt(a: IntArray, b: IntArray, multiplier: number, shift: number, out: OutputSpec): IntArray {
  assertIntArray('mul a', a);
  assertIntArray('mul b', b);
  if (!b.length || a.length % b.length) throw new RangeError(`mul: b has ${b.length} values, a ${a.length} (b must match a or hold one value per channel)`);
  if (a instanceof Int32Array || b instanceof Int32Array) throw new RangeError('mul: int32 inputs are not supported (the product must fit int32)');
  const inner = a.length / b.length;
  const [lo, hi] = outputBounds(out);
  const res = allocInt(out.dtype, a.length);
  for (let i = 0; i < a.length; i++) {
    const acc = a[i] * b[inner === 1 ? i : Math.floor(i / inner)]; // |acc| <= 2^30: an exact int32
    res[i] = requantizeValueHorizon(acc, multiplier, shift, 0, lo, hi);
  }
  return res;
}

export function affineInt(x: IntArray, multiplier: number, shift: number, offset: number, out: OutputSpec): IntArray {
  assertIntArray('affine x', x);
  const [lo, hi] = outputBounds(out);
  const res = allocInt(out.dtype, x.length);
  for (let i = 0; i < x.length; i++) res[i] = requantizeValueHorizon(x[i], multiplier, shift, offset, lo, hi);
  return res;
}
