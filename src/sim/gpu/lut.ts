/** The `lut` layer on the GPU (shaders/int_lut.wgsl): the table uploaded once per (model, context), one dispatch per run. */
import lutSrc from '../../../shaders/int_lut.wgsl';
import requantSrc from '../../../shaders/int_requant.wgsl';
import { grid1d, type GpuContext, type GpuTensor } from '../../engine/webgpu/gpu-context.ts';
import { uniforms } from '../../engine/webgpu/uniforms.ts';
import type { IntLayer } from '../model.ts';
import { uploadBits, type GpuIntTensor } from './bits.ts';

type LutLayer = Extract<IntLayer, { op: 'lut' }>;

const LUT = uniforms('Lut', {
  total: 'u32', inner: 'u32', channels: 'u32', segments: 'u32', seg_bits: 'u32', in_offset: 'i32', knots_at: 'u32',
  frac_bits: 'u32', lo: 'i32', hi: 'i32',
});
const SHADER = { key: 'sim-int-lut', code: `${requantSrc}\n${LUT.wgsl}\n${lutSrc}` };

/** [start, e] pairs, then the knots, as one i32 buffer. */
export function uploadLut(ctx: GpuContext, l: LutLayer): GpuTensor {
  const w = new Int32Array(l.segs.length + l.knots.length);
  w.set(l.segs);
  w.set(l.knots, l.segs.length);
  return uploadBits(ctx, w, [w.length]);
}

export function lutGpu(ctx: GpuContext, x: GpuIntTensor, table: GpuTensor, l: LutLayer, dtype: GpuIntTensor['dtype']): GpuIntTensor {
  const total = x.t.size;
  const inner = l.channels === 1 ? Math.max(1, total) : x.shape.slice(2).reduce((a, b) => a * b, 1);
  const segments = 2 ** ((l.inOffset === 32768 ? 16 : 8) - l.segBits);
  const out = ctx.empty([total]);
  if (total > 0) {
    ctx.run({
      key: SHADER.key, code: SHADER.code, entry: 'lut', inputs: [x.t, table], outputs: [out], workgroups: grid1d(total),
      params: LUT.pack({
        total, inner, channels: l.channels, segments, seg_bits: l.segBits, in_offset: l.inOffset, knots_at: l.segs.length,
        frac_bits: l.fracBits, lo: l.clamp.lo, hi: l.clamp.hi,
      }),
    });
  }
  return { t: out, dtype, shape: [...x.shape] };
}
