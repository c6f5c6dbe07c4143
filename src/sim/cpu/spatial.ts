/** CPU runs of the resampling layer kinds: resize and conv_transpose2d (reference accumulators of src/sim/int/). */
import { allocInt, type IntArray } from '../int/requant.ts';
import { convTranspose2dAcc } from '../int/conv-transpose.ts';
import { resizeAcc } from '../int/resize.ts';
import type { ValueInfo } from '../model.ts';
import { requantTo, type CpuRun } from './context.ts';

/** Integers that already lie in `dtype`'s range (a nearest resize's copies) in that dtype's array. */
function narrowTo(acc: Int32Array, dtype: ValueInfo['dtype']): IntArray {
  if (dtype === 'int32') return acc;
  const out = allocInt(dtype, acc.length);
  out.set(acc);
  return out;
}

export const resizeCpu: CpuRun<'resize'> = (layer, [x], { info }) => {
  const { acc, shape } = resizeAcc(x.data, x.shape, layer.rows, layer.cols, layer.midShift);
  if (!layer.requant) return { data: narrowTo(acc, info.dtype), shape };
  return { data: requantTo(acc, layer.requant, info.dtype, layer.clamp.lo, layer.clamp.hi, 1, 1), shape };
};

export const convTranspose2dCpu: CpuRun<'conv_transpose2d'> = (layer, [x], { info }) => {
  const { acc, shape } = convTranspose2dAcc(x.data, x.shape, layer.weight, layer.weightShape, layer.bias, layer.geometry);
  if (!layer.requant) return { data: acc, shape };
  return { data: requantTo(acc, layer.requant, info.dtype, layer.clamp.lo, layer.clamp.hi, shape[1], shape[2] * shape[3]), shape };
};
