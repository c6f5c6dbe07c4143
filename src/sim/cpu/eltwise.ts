/** CPU runs of the elementwise layer kinds: add, rescale (relu / relu6 / concat), mul, affine, lut. */
import { addInt } from '../int/add.ts';
import { lutApply } from '../int/lut.ts';
import { mulAcc } from '../int/mul.ts';
import { allocInt, type IntArray } from '../int/requant.ts';
import type { ValueInfo } from '../model.ts';
import { asInt32, requantTo, type CpuRun } from './context.ts';

export const addCpu: CpuRun<'add'> = (layer, [x, y], { info }) => {
  const fast = addFast(x.data, y.data, layer.params.aMultiplier, layer.params.bMultiplier, layer.params.shift, info.dtype, layer.clamp.lo, layer.clamp.hi);
  if (fast) return { data: fast, shape: [...x.shape] };
  const data = addInt(x.data, 0, y.data, 0, layer.params, { dtype: info.dtype, clampMin: layer.clamp.lo, clampMax: layer.clamp.hi });
  return { data, shape: [...x.shape] };
};

/** relu / relu6 / concat with their own scale: multiplier + shift from each input's scale, then the clamp. */
export const rescaleCpu: CpuRun<'rescale'> = (layer, inputs, { info, N }) => {
  const parts = inputs.map((t, i) => requantTo(asInt32(t.data), layer.requant[i], info.dtype, layer.clamp.lo, layer.clamp.hi, 1, 1));
  if (parts.length === 1) return { data: parts[0], shape: [...inputs[0].shape] };
  // concat along channels (axis 1)
  const per = inputs.map((t) => t.data.length / N);
  const total = per.reduce((a, b) => a + b, 0);
  const out = allocInt(info.dtype, N * total);
  for (let n = 0; n < N; n++) {
    let off = n * total;
    parts.forEach((p, i) => {
      out.set(p.subarray(n * per[i], (n + 1) * per[i]), off);
      off += per[i];
    });
  }
  return { data: out, shape: [N, ...info.shape] };
};

/** int32 products, then the SIMD requantization (src/sim/int/mul.ts mulInt is the reference). */
export const mulCpu: CpuRun<'mul'> = (layer, [a, b], { info }) =>
  ({ data: requantTo(mulAcc(a.data, b.data), layer.requant, info.dtype, layer.clamp.lo, layer.clamp.hi, 1, 1), shape: [...a.shape] });

/** The offset is the output zero point of the requantization (src/sim/int/mul.ts affineInt is the reference). */
export const affineCpu: CpuRun<'affine'> = (layer, [x], { info }) =>
  ({ data: requantTo(asInt32(x.data), layer.requant, info.dtype, layer.clamp.lo, layer.clamp.hi, 1, 1, layer.offset), shape: [...x.shape] });

export const lutCpu: CpuRun<'lut'> = (layer, [x], { info }) =>
  ({ data: lutApply(x.data, x.shape, layer, info.dtype, layer.clamp.lo, layer.clamp.hi), shape: [...x.shape] });

/**
 * The 'horizon' add (add.ts) in int32 arithmetic, when it provably fits: with |a|, |b| ≤ 2^15 (int8/int16, zero
 * point 0) and |ma|·max|a| + |mb|·max|b| + 2^(shift−1) < 2^31, acc = ma·a + mb·b and acc + 2^(shift−1) are exact
 * int32, and (acc + 2^(shift−1)) >> shift is floor((acc + 2^(shift−1)) / 2^shift) = roundShiftHalfUp(acc, shift):
 * the same integers as addInt. Returns null when the bound does not hold (the caller uses addInt).
 */
function addFast(a: IntArray, b: IntArray, ma: number, mb: number, shift: number, dtype: ValueInfo['dtype'], lo: number, hi: number): IntArray | null {
  const maxAbs = (t: IntArray) => (t instanceof Int8Array ? 128 : t instanceof Uint8Array ? 255 : t instanceof Int16Array ? 32768 : Infinity);
  if (a.length !== b.length || shift > 30 || (dtype !== 'int8' && dtype !== 'int16')) return null;
  const half = shift === 0 ? 0 : 2 ** (shift - 1);
  if (Math.abs(ma) * maxAbs(a) + Math.abs(mb) * maxAbs(b) + half >= 2 ** 31) return null;
  const out = dtype === 'int8' ? new Int8Array(a.length) : new Int16Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = (ma * a[i] + mb * b[i] + half) >> shift;
    out[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return out;
}
