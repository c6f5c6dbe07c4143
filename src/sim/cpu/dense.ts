/** CPU runs of the dense layer kinds (conv2d, linear): the fast kernels of src/sim/fast-conv.ts, then requantization. */
import { mulShiftRound } from '../int/requant.ts';
import { conv2dAccFast, conv2dDenseFast, conv2dRequantFast, linearAccFast, linearDenseFast } from '../fast-conv.ts';
import { SimError } from '../tensor.ts';
import { requantTo, type CpuRun } from './context.ts';

export const conv2dCpu: CpuRun<'conv2d'> = (layer, inputs, { info, N }) => {
  const x = inputs[0];
  if (layer.requant && (info.dtype === 'int8' || info.dtype === 'int16')) {
    // accumulation, add input and requantization fused in the SIMD kernels
    const rq = { ...layer.requant, dtype: info.dtype, lo: layer.clamp.lo, hi: layer.clamp.hi };
    const add = layer.addRescale ? { a: inputs[1].data, ...layer.addRescale } : undefined;
    const fused = conv2dRequantFast(x.data, x.shape, layer.weight, layer.weightShape, layer.bias, layer.geometry!, rq, add)
      ?? conv2dDenseFast(x.data, x.shape, layer.weight, layer.weightShape, layer.bias, layer.geometry!, rq, add);
    if (fused) return fused;
  } else if (!layer.requant && !layer.addRescale) {
    // int32 output: the SIMD GEMM's sums
    const acc = conv2dDenseFast(x.data, x.shape, layer.weight, layer.weightShape, layer.bias, layer.geometry!, null);
    if (acc) return acc;
  }
  const { acc, shape } = conv2dAccFast(x.data, x.shape, 0, layer.weight, layer.weightShape, layer.bias, layer.geometry!);
  const [, O, OH, OW] = shape;
  const P = OH * OW;
  if (layer.addRescale) {
    const a = inputs[1];
    if (a.data.length !== acc.length) throw new SimError(`${layer.id}: add input has ${a.data.length} values, conv output ${acc.length}`);
    const { multiplier: m, shift: s } = layer.addRescale;
    const ad = a.data;
    const narrow = !(ad instanceof Int32Array); // |a| <= 2^15, m < 2^31: a·m < 2^46 is an exact double
    for (let n = 0; n < N; n++) {
      for (let o = 0; o < O; o++) {
        const mo = m[o], so = s[o];
        const base = (n * O + o) * P;
        if (narrow) {
          // round half up of a·m / 2^s, inlined (= mulShiftRound on its exact fast path)
          const d = 2 ** so, inv = 1 / d, half = so === 0 ? 1 : d / 2;
          for (let p = base; p < base + P; p++) {
            const v = ad[p] * mo;
            const q = Math.floor(v * inv);
            acc[p] = (acc[p] + (v - q * d >= half ? q + 1 : q)) | 0;
          }
        } else {
          for (let p = base; p < base + P; p++) acc[p] = (acc[p] + mulShiftRound(ad[p], mo, so)) | 0;
        }
      }
    }
  }
  if (!layer.requant) return { data: acc, shape };
  return { data: requantTo(acc, layer.requant, info.dtype, layer.clamp.lo, layer.clamp.hi, O, P), shape };
};

export const linearCpu: CpuRun<'linear'> = (layer, [x], { info, N }) => {
  const [O, K] = layer.weightShape;
  if (x.data.length !== N * K) throw new SimError(`${layer.id}: input has ${x.data.length / N} features, weights ${K}`);
  const rq = layer.requant && (info.dtype === 'int8' || info.dtype === 'int16') ? { ...layer.requant, dtype: info.dtype, lo: layer.clamp.lo, hi: layer.clamp.hi } : null;
  if (rq || !layer.requant) {
    const fast = linearDenseFast(x.data, N, K, layer.weight, O, layer.bias, rq);
    if (fast) return { data: fast, shape: [N, O] };
  }
  const acc = linearAccFast(x.data, N, K, 0, layer.weight, O, layer.bias);
  if (!layer.requant) return { data: acc, shape: [N, O] };
  return { data: requantTo(acc, layer.requant, info.dtype, layer.clamp.lo, layer.clamp.hi, O, 1), shape: [N, O] };
};
