/**
 * Float islands (`float` layers, src/sim/float-island.ts) in the GPU simulator: an explicit per-layer round trip to
 * the CPU run. The island's inputs are read back, the CPU run (floatIslandCpu: dequantize, the float op, quantize)
 * computes the integers, and they are uploaded for the next layer.
 *
 * Why not WGSL: the CPU island is the reference, and it computes in JS numbers (float64 sums of float32 products,
 * Math.exp / Math.sqrt / erf in float64, rounded to float32 only where the values are stored). WGSL has no f64, and
 * its exp / sqrt are not correctly rounded (their error differs between llvmpipe and real GPUs), so an f32 island on
 * the GPU would differ from the CPU where a result falls near a rounding tie of the output quantization: rarely,
 * but not never. The round trip gives the CPU's integers by construction, at the cost of one read-back per island.
 */
import { floatIslandCpu } from '../cpu/tokens.ts';
import type { LayerOf } from '../cpu/context.ts';
import { readInt, uploadInt, type GpuIntTensor } from './bits.ts';
import type { GpuRunCtx } from './layers.ts';

export async function floatIslandGpu(l: LayerOf<'float'>, ins: GpuIntTensor[], c: GpuRunCtx): Promise<GpuIntTensor> {
  // a refusal of an earlier layer (an int32 overflow) first, as the CPU simulator would have stopped there
  await c.checkStatus();
  const host = await Promise.all(ins.map(async (t) => ({ data: await readInt(c.ctx, t), shape: [...t.shape] })));
  const y = floatIslandCpu(l, host, { model: c.model, info: c.info, N: c.N });
  return uploadInt(c.ctx, y.data, y.shape, c.info.dtype);
}
