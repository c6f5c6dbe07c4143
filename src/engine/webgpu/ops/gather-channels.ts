/** Channel gather (shaders/gather_channels.wgsl): y[:, j] = x[:, index[j]], 0 where index[j] < 0. */
import code from '../../../../shaders/gather_channels.wgsl';
import { grid1d, type GpuContext, type GpuTensor } from '../gpu-context.ts';
import { uniforms } from '../uniforms.ts';

const P = uniforms('Params', { total: 'u32', inner: 'u32', in_c: 'u32', out_c: 'u32' });
const CODE = `${P.wgsl}\n${code}`;

export function gatherChannels(ctx: GpuContext, x: GpuTensor, index: readonly number[]): GpuTensor {
  const s = x.shape;
  if (s.length < 2) throw new Error(`gatherChannels: expected an [N, C, ...] tensor, got [${s}]`);
  for (const i of index) if (!(Number.isInteger(i) && i < s[1])) throw new Error(`gatherChannels: index ${i} is outside ${s[1]} channels`);
  const inner = s.slice(2).reduce((a, b) => a * b, 1);
  const out = ctx.empty([s[0], index.length, ...s.slice(2)]);
  const total = out.size;
  if (total === 0) return out;
  // channel indices are small integers, exact in f32
  const idx = ctx.upload(Float32Array.from(index), [index.length]);
  ctx.run({
    key: 'gather_channels', code: CODE, entry: 'gather_channels', inputs: [x, idx], outputs: [out],
    params: P.pack({ total, inner, in_c: s[1], out_c: index.length }), workgroups: grid1d(total),
  });
  ctx.release(idx);
  return out;
}
