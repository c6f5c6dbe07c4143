import code from '../../../../shaders/qparams.wgsl';
import type { QParamsUpdate } from '../../backend.ts';
import { f32, u32, type GpuContext, type GpuTensor } from '../gpu-context.ts';

/** See shaders/qparams.wgsl: running [2, C] (mins then maxs) and qparams [C, 3] are updated in place. */
export function updateQParams(ctx: GpuContext, running: GpuTensor, batchMin: GpuTensor, batchMax: GpuTensor,
  qparams: GpuTensor, u: QParamsUpdate): void {
  const c = batchMin.size;
  if (running.size !== 2 * c || qparams.size !== 3 * c || batchMax.size !== c) {
    throw new Error(`updateQParams: ${c} channels but running [${running.shape}], qparams [${qparams.shape}]`);
  }
  ctx.run({
    key: 'qparams', code, entry: 'update', inputs: [batchMin, batchMax], outputs: [running, qparams],
    params: [u32(c), u32(u.first ? 1 : 0), u32(u.powerOfTwo ? 1 : 0), u32(u.averagingConstant === 0 ? 1 : 0),
      f32(u.averagingConstant), f32((u.quantMax - u.quantMin) / 2), f32(u.eps), u32(0)],
    workgroups: [Math.ceil(c / 64)],
  });
}

/** See shaders/qparams.wgsl `bias`: the [C, 3] qparams of a bias at x_scale * w_scale[c] (src/qmath/bias.ts). */
export function biasQParams(ctx: GpuContext, xq: GpuTensor, wq: GpuTensor): GpuTensor {
  if (xq.size !== 3 || wq.size % 3 !== 0) throw new Error(`biasQParams: input qparams [${xq.shape}] (per tensor expected), weight qparams [${wq.shape}]`);
  const c = wq.size / 3;
  const out = ctx.empty([c, 3]);
  ctx.run({
    key: 'qparams', code, entry: 'bias', inputs: [xq, wq], outputs: [out],
    params: [u32(c), u32(0), u32(0), u32(0), f32(0), f32(0), f32(0), u32(0)],
    workgroups: [Math.ceil(c / 64)],
  });
  return out;
}
