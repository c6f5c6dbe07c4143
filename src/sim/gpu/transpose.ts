/** The simulator's transpose on the GPU: shaders/transpose.wgsl on one-i32-per-element integers (a pure move). */
import transposeSrc from '../../../shaders/transpose.wgsl';
import { grid1d, type GpuContext } from '../../engine/webgpu/gpu-context.ts';
import { uniforms } from '../../engine/webgpu/uniforms.ts';
import type { GpuIntTensor } from './bits.ts';

/** shaders/transpose.wgsl on the simulator's one-i32-per-element integers (a pure move: the same code on i32). */
const TP_INT = uniforms('Params', {
  n: 'u32', d0: 'u32', d1: 'u32', d2: 'u32', d3: 'u32', d4: 'u32', d5: 'u32', s0: 'u32', s1: 'u32', s2: 'u32', s3: 'u32', s4: 'u32', s5: 'u32',
});
const TP_INT_SHADER = { key: 'sim-transpose', code: `${TP_INT.wgsl}\n${transposeSrc.replaceAll('array<f32>', 'array<i32>')}` };

export function transposeIntGpu(ctx: GpuContext, x: GpuIntTensor, perm: number[]): GpuIntTensor {
  const shape = perm.map((p) => x.shape[p]);
  if (shape.length > 6) throw new Error(`transpose: rank ${shape.length} (at most 6)`);
  const inStride: number[] = [];
  for (let k = x.shape.length - 1, s = 1; k >= 0; k--) { inStride[k] = s; s *= x.shape[k]; }
  const pad = 6 - shape.length;
  const d = [...new Array<number>(pad).fill(1), ...shape];
  const st = [...new Array<number>(pad).fill(0), ...perm.map((p) => inStride[p])];
  const out = ctx.empty([x.t.size]);
  if (out.size > 0) {
    ctx.run({
      key: TP_INT_SHADER.key, code: TP_INT_SHADER.code, entry: 'transpose', inputs: [x.t], outputs: [out], workgroups: grid1d(out.size),
      params: TP_INT.pack({ n: out.size, d0: d[0], d1: d[1], d2: d[2], d3: d[3], d4: d[4], d5: d[5], s0: st[0], s1: st[1], s2: st[2], s3: st[3], s4: st[4], s5: st[5] }),
    });
  }
  return { t: out, dtype: x.dtype, shape };
}
