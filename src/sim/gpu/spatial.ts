/**
 * The simulator's resize and ConvTranspose layers on the GPU: an int32 accumulator kernel each
 * (shaders/int_resize.wgsl, shaders/int_conv_transpose.wgsl), then the standalone requantization of kernels.ts
 * (linear resize: per tensor; ConvTranspose: per output channel). Nearest resize keeps the accumulator (the copied
 * inputs) in the input's dtype. Bit-identical to src/sim/run.ts (tests/ops-resize-convt.test.ts).
 */
import resizeSrc from '../../../shaders/int_resize.wgsl';
import convtSrc from '../../../shaders/int_conv_transpose.wgsl';
import { grid1d, type GpuContext, type GpuTensor } from '../../engine/webgpu/gpu-context.ts';
import { uniforms } from '../../engine/webgpu/uniforms.ts';
import type { IntLayer, RequantParams, ValueInfo } from '../model.ts';
import { convTransposeOutSize } from '../int/conv-transpose.ts';
import { uploadBits, type GpuIntTensor } from './bits.ts';
import { requantize } from './kernels.ts';

type ResizeLayer = Extract<IntLayer, { op: 'resize' }>;
type ConvTLayer = Extract<IntLayer, { op: 'conv_transpose2d' }>;

const RESIZE = uniforms('IntResize', { total: 'u32', in_h: 'u32', in_w: 'u32', out_h: 'u32', out_w: 'u32', mid_shift: 'u32' });
const RESIZE_SHADER = { key: 'sim-resize', code: `${RESIZE.wgsl}\n${resizeSrc}` };
const CONVT = uniforms('IntConvT', {
  total: 'u32', in_c: 'u32', in_h: 'u32', in_w: 'u32', out_c: 'u32', out_h: 'u32', out_w: 'u32', og: 'u32', cg: 'u32',
  kh: 'u32', kw: 'u32', stride_h: 'u32', stride_w: 'u32', pad_h: 'u32', pad_w: 'u32', dil_h: 'u32', dil_w: 'u32', bias_off: 'u32',
});
const CONVT_SHADER = { key: 'sim-conv-transpose', code: `${CONVT.wgsl}\n${convtSrc}` };

const horizon = (r: RequantParams) => ({ mode: 'horizon' as const, multiplier: r.multiplier, shift: r.shift });

/** The layer's tables as i32 words, uploaded once per model and context (src/sim/run-gpu.ts caches them). */
export function uploadSpatial(ctx: GpuContext, l: ResizeLayer | ConvTLayer): GpuTensor {
  const parts = l.op === 'resize' ? [l.rows.index, l.rows.weight, l.cols.index, l.cols.weight] : [Int32Array.from(l.weight), l.bias];
  const n = parts.reduce((s, a) => s + a.length, 0);
  const w = new Int32Array(n);
  let off = 0;
  for (const a of parts) {
    w.set(a, off);
    off += a.length;
  }
  return uploadBits(ctx, w, [n]);
}

export function resizeGpu(ctx: GpuContext, x: GpuIntTensor, tab: GpuTensor, l: ResizeLayer, info: ValueInfo): GpuIntTensor {
  const [N, C, H, W] = x.shape;
  const OH = l.rows.index.length / 2, OW = l.cols.index.length / 2;
  const shape = [N, C, OH, OW];
  const acc = ctx.empty([N * C * OH * OW]);
  if (acc.size > 0) {
    ctx.run({
      ...RESIZE_SHADER, entry: 'int_resize', inputs: [x.t, tab], outputs: [acc],
      params: RESIZE.pack({ total: acc.size, in_h: H, in_w: W, out_h: OH, out_w: OW, mid_shift: l.midShift }), workgroups: grid1d(acc.size),
    });
  }
  if (!l.requant) return { t: acc, dtype: info.dtype, shape };
  const y = requantize(ctx, { t: acc, dtype: 'int32', shape }, horizon(l.requant), { dtype: info.dtype, clampMin: l.clamp.lo, clampMax: l.clamp.hi });
  ctx.release(acc);
  return y;
}

export function convTransposeGpu(ctx: GpuContext, x: GpuIntTensor, tab: GpuTensor, l: ConvTLayer, info: ValueInfo): GpuIntTensor {
  const [N, C, H, W] = x.shape;
  const [O, Cg, KH, KW] = l.weightShape;
  const g = l.geometry;
  const Og = O / g.groups;
  const OH = convTransposeOutSize(H, KH, g.stride[0], g.padding[0], g.dilation[0], g.outputPadding[0]);
  const OW = convTransposeOutSize(W, KW, g.stride[1], g.padding[1], g.dilation[1], g.outputPadding[1]);
  const shape = [N, O, OH, OW];
  const acc = ctx.empty([N * O * OH * OW]);
  if (acc.size > 0) {
    ctx.run({
      ...CONVT_SHADER, entry: 'int_conv_transpose', inputs: [x.t, tab], outputs: [acc],
      params: CONVT.pack({
        total: acc.size, in_c: C, in_h: H, in_w: W, out_c: O, out_h: OH, out_w: OW, og: Og, cg: Cg, kh: KH, kw: KW,
        stride_h: g.stride[0], stride_w: g.stride[1], pad_h: g.padding[0], pad_w: g.padding[1], dil_h: g.dilation[0], dil_w: g.dilation[1],
        bias_off: l.weight.length,
      }),
      workgroups: grid1d(acc.size),
    });
  }
  if (!l.requant) return { t: acc, dtype: 'int32', shape };
  const y = requantize(ctx, { t: acc, dtype: 'int32', shape }, horizon(l.requant), { dtype: info.dtype, clampMin: l.clamp.lo, clampMax: l.clamp.hi }, { channels: O, inner: OH * OW });
  ctx.release(acc);
  return y;
}
