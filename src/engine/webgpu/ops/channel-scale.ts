/**
 * WebGPU per-channel scaling (shaders/channel_scale.wgsl): y = x * s[c] or x / s[c] over a ChannelLayout
 * [outer, C, inner]. See Backend.channelScale and the CPU reference src/engine/reference/channel-scale.ts.
 */
import code from '../../../../shaders/channel_scale.wgsl';
import type { ChannelLayout } from '../../backend.ts';
import { grid1d, u32, type GpuContext, type GpuTensor } from '../gpu-context.ts';

export function channelScale(ctx: GpuContext, x: GpuTensor, s: GpuTensor, layout: ChannelLayout, divide = false): GpuTensor {
  const { outer, channels, inner } = layout;
  if (outer * channels * inner !== x.size) {
    throw new Error(`channelScale: layout ${outer}x${channels}x${inner} does not match [${x.shape}]`);
  }
  if (s.size !== channels) throw new Error(`channelScale: s [${s.shape}] has ${s.size} elements, layout has ${channels} channels`);
  const out = ctx.empty(x.shape);
  if (x.size === 0) return out;
  ctx.run({
    key: 'channel_scale', code, entry: 'channel_scale', inputs: [x, s], outputs: [out],
    params: [u32(x.size), u32(channels), u32(Math.max(1, inner)), u32(divide ? 1 : 0)], workgroups: grid1d(x.size),
  });
  return out;
}

/** x + b[c] per channel of an [N, C, ...] tensor (the same shader, mode 2). */
export function addChannelBias(ctx: GpuContext, x: GpuTensor, b: GpuTensor): GpuTensor {
  if (x.shape.length < 2 || b.size !== x.shape[1]) throw new Error(`addChannelBias: bias [${b.shape}] for [${x.shape}]`);
  const channels = x.shape[1];
  const out = ctx.empty(x.shape);
  if (x.size === 0) return out;
  const inner = x.size / (x.shape[0] * channels);
  ctx.run({
    key: 'channel_scale', code, entry: 'channel_scale', inputs: [x, b], outputs: [out],
    params: [u32(x.size), u32(channels), u32(Math.max(1, inner)), u32(2)], workgroups: grid1d(x.size),
  });
  return out;
}
