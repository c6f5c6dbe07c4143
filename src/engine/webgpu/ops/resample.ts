/** Separable 2-D resampling (shaders/resample.wgsl): Resize and its backward, see Backend.resample2d. */
import code from '../../../../shaders/resample.wgsl';
import type { ResampleAxis } from '../../backend.ts';
import { grid1d, type GpuContext, type GpuTensor } from '../gpu-context.ts';
import { uniforms } from '../uniforms.ts';

const P = uniforms('Params', {
  total: 'u32', in_h: 'u32', in_w: 'u32', out_h: 'u32', out_w: 'u32',
  r_start: 'u32', r_index: 'u32', r_weight: 'u32', c_start: 'u32', c_index: 'u32', c_weight: 'u32',
});
const CODE = `${P.wgsl}\n${code}`;

export function resample2d(ctx: GpuContext, x: GpuTensor, rows: ResampleAxis, cols: ResampleAxis): GpuTensor {
  if (x.shape.length !== 4) throw new Error(`resample2d: expected an [N, C, H, W] tensor, got [${x.shape}]`);
  const [N, C, H, W] = x.shape;
  if (H !== rows.inSize || W !== cols.inSize) throw new Error(`resample2d: tables are for ${rows.inSize}x${cols.inSize}, input is ${H}x${W}`);
  const OH = rows.start.length - 1, OW = cols.start.length - 1;
  const y = ctx.empty([N, C, OH, OW]);
  const total = y.size;
  if (total === 0) return y;
  const parts = [rows.start, rows.index, rows.weight, cols.start, cols.index, cols.weight];
  const offs: number[] = [];
  let n = 0;
  for (const a of parts) {
    offs.push(n);
    n += a.length;
  }
  const data = new Float32Array(Math.max(1, n));
  parts.forEach((a, i) => data.set(a, offs[i]));
  const tab = ctx.upload(data, [data.length]);
  ctx.run({
    key: 'resample2d', code: CODE, entry: 'resample2d', inputs: [x, tab], outputs: [y],
    params: P.pack({
      total, in_h: H, in_w: W, out_h: OH, out_w: OW,
      r_start: offs[0], r_index: offs[1], r_weight: offs[2], c_start: offs[3], c_index: offs[4], c_weight: offs[5],
    }),
    workgroups: grid1d(total),
  });
  ctx.release(tab);
  return y;
}
