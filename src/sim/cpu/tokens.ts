/**
 * CPU runs of the token layers (INT_LAYERS, src/sim/layers.ts): transpose, integer matmul and softmax
 * (src/sim/int/tokens.ts), integer layer norm (src/sim/int/layernorm.ts), and float islands (src/sim/float-island.ts: ops without an integer implementation on
 * the march run in float between a dequantize and a quantize).
 */
import { matmulInt, softmaxInt, transposeInt } from '../int/tokens.ts';
import { layerNormInt } from '../int/layernorm.ts';
import { runFloatIsland } from '../float-island.ts';
import type { CpuRun } from './context.ts';

// perm is per sample: the batch axis stays first
export const transposeCpu: CpuRun<'transpose'> = (l, [x]) => transposeInt(x.data, x.shape, [0, ...l.perm.map((p) => p + 1)]);

export const matmulCpu: CpuRun<'matmul'> = (l, [a, b], { info }) =>
  matmulInt(a.data, a.shape, b.data, b.shape, l.transB, l.requant, info.dtype, l.clamp.lo, l.clamp.hi);

export const softmaxCpu: CpuRun<'softmax'> = (l, [x], { info }) => ({
  data: softmaxInt(x.data, x.shape[x.shape.length - 1], l.expTable, l.recip, l.recipShift, info.dtype, l.clamp.lo, l.clamp.hi),
  shape: [...x.shape],
});

export const layernormCpu: CpuRun<'layernorm'> = (l, [x], { info }) => ({
  data: layerNormInt(x.data, x.shape[x.shape.length - 1], l, info.dtype, l.clamp.lo, l.clamp.hi),
  shape: [...x.shape],
});

export const floatIslandCpu: CpuRun<'float'> = (l, ins, { model, info }) => runFloatIsland(l, ins, l.inputs.map((i) => model.values[i]), info);
