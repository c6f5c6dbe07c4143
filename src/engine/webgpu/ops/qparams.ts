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
