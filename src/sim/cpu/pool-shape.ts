/** CPU runs of the pooling and shape layer kinds: maxpool2d, avgpool2d, const, reshape, gather_channels. */
import { avgPool2dSums, avgPoolCounts, maxPool2dInt, requantizeByCount } from '../int/pool.ts';
import { allocInt, type IntArray } from '../int/requant.ts';
import { SimError, type IntTensor } from '../tensor.ts';
import { EXACT, maxAbsOf, requantExactRange, requantTo, type CpuRun } from './context.ts';

type Shape4 = [number, number, number, number];

export const maxpool2dCpu: CpuRun<'maxpool2d'> = (layer, [x]) =>
  maxPool2dInt(x.data, x.shape as Shape4, { kernel: layer.kernel, stride: layer.stride, padding: layer.padding, ceilMode: layer.ceilMode });

export const avgpool2dCpu: CpuRun<'avgpool2d'> = (layer, [x], { info, N }) => {
  const shape4 = x.shape as Shape4;
  const [, C, H, W] = shape4;
  const HW = H * W, m = layer.requant.multiplier[0];
  if (!layer.kernel && !layer.padding[0] && !layer.padding[1] && layer.requant.multiplier.length === 1 && info.dtype !== 'int32' && maxAbsOf(x.data) * HW * m < EXACT) {
    // global pooling: each plane's sum (exact), requantized in the same pass (the reference: avgPool2dSums + requant)
    const sums = new Int32Array(N * C);
    const xd = x.data;
    for (let nc = 0, b = 0; nc < N * C; nc++, b += HW) {
      let s = 0;
      for (let i = b; i < b + HW; i++) s += xd[i];
      sums[nc] = s;
    }
    const out = allocInt(info.dtype, N * C);
    requantExactRange(out, sums, 0, N * C, 1, m, layer.requant.shift[0], 0, layer.clamp.lo, layer.clamp.hi);
    return { data: out, shape: [N, ...info.shape] };
  }
  const kernel = layer.kernel ?? [shape4[2], shape4[3]];
  const geom = { kernel, stride: layer.kernel ? layer.stride : kernel, padding: layer.padding, ceilMode: layer.ceilMode };
  const r = avgPool2dSums(x.data, shape4, 0, geom);
  const { multiplier, shift } = layer.requant;
  // a divisor per window (ceil_mode, count_include_pad = false): the multiplier of the window's count
  const data = multiplier.length === 1 ? requantTo(r.sum, layer.requant, info.dtype, layer.clamp.lo, layer.clamp.hi, 1, 1)
    : requantizeByCount(r.sum, avgPoolCounts(shape4, geom, layer.countIncludePad ?? true), multiplier, shift, { dtype: info.dtype, clampMin: layer.clamp.lo, clampMax: layer.clamp.hi });
  // global pooling yields [N, C] (the graph's shape), windows [N, C, OH, OW]
  return { data, shape: [N, ...info.shape] };
};

/** A learned constant: its integers once per sample (a new array: later layers may not share it). */
export const constCpu: CpuRun<'const'> = (layer, _ins, { info, N }) => {
  const out = allocInt(info.dtype, N * layer.data.length);
  for (let n = 0; n < N; n++) out.set(layer.data, n * layer.data.length);
  return { data: out, shape: [N, ...info.shape] };
};

export const reshapeCpu: CpuRun<'reshape'> = (_layer, [x], { info, N }) => ({ data: x.data, shape: [N, ...info.shape] });

/** y[:, j] = x[:, index[j]] of an [N, C, ...] integer tensor (channel slice / shuffle): integers copied. */
export const gatherChannelsCpu: CpuRun<'gather_channels'> = (layer, [x]): IntTensor => {
  const [N, C] = x.shape;
  const inner = x.shape.slice(2).reduce((a, b) => a * b, 1);
  if (layer.index.some((i) => i >= C)) throw new SimError(`${layer.id}: channel index outside the input's ${C} channels`);
  const J = layer.index.length;
  const out = new (x.data.constructor as new (n: number) => IntArray)(N * J * inner);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < J; j++) {
      const src = (n * C + layer.index[j]) * inner;
      out.set(x.data.subarray(src, src + inner), (n * J + j) * inner);
    }
  }
  return { data: out, shape: [N, J, ...x.shape.slice(2)] };
};
