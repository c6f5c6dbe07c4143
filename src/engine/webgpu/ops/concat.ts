/**
 * Channel concatenation and slicing (shaders/concat.wgsl) of [N, C, ...] tensors (NCHW or [N, C]).
 * One copy dispatch per input; each writes its channel range of the shared output.
 */
import code from '../../../../shaders/concat.wgsl';
import type { Shape } from '../../backend.ts';
import { grid1d, u32, type GpuContext, type GpuTensor } from '../gpu-context.ts';

const KEY = 'concat';

function inner(shape: Shape): number {
  let s = 1;
  for (let i = 2; i < shape.length; i++) s *= shape[i];
  return s;
}

function copyChannels(
  ctx: GpuContext, src: GpuTensor, srcStart: number, dst: GpuTensor, dstStart: number, count: number,
): void {
  const N = src.shape[0], inn = inner(src.shape);
  const total = N * count * inn;
  if (total === 0) return;
  ctx.run({
    key: KEY, code, entry: 'copy_channels', inputs: [src], outputs: [dst],
    params: [u32(total), u32(inn), u32(count), u32(src.shape[1]), u32(srcStart), u32(dst.shape[1]), u32(dstStart)],
    workgroups: grid1d(total),
  });
}

/** Concatenates [N, Ci, ...] tensors along channels (the trailing dimensions must agree). */
export function concatChannels(ctx: GpuContext, xs: readonly GpuTensor[]): GpuTensor {
  if (xs.length === 0) throw new Error('concatChannels: no inputs');
  const s0 = xs[0].shape;
  if (s0.length < 2) throw new Error(`concatChannels: expected [N, C, ...] tensors, got [${s0}]`);
  let channels = 0;
  for (const x of xs) {
    const s = x.shape;
    if (s.length !== s0.length || s[0] !== s0[0] || s.slice(2).some((d, i) => d !== s0[i + 2])) {
      throw new Error(`concatChannels: shape [${s}] does not match [${s0}]`);
    }
    channels += s[1];
  }
  const out = ctx.empty([s0[0], channels, ...s0.slice(2)]);
  let start = 0;
  for (const x of xs) {
    copyChannels(ctx, x, 0, out, start, x.shape[1]);
    start += x.shape[1];
  }
  return out;
}

/** x[:, start:start+count] of an [N, C, ...] tensor. */
export function sliceChannels(ctx: GpuContext, x: GpuTensor, start: number, count: number): GpuTensor {
  const s = x.shape;
  if (s.length < 2) throw new Error(`sliceChannels: expected an [N, C, ...] tensor, got [${s}]`);
  if (!(Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 0 && start + count <= s[1])) {
    throw new Error(`sliceChannels: [${start}, ${start + count}) is outside ${s[1]} channels`);
  }
  const out = ctx.empty([s[0], count, ...s.slice(2)]);
  copyChannels(ctx, x, start, out, 0, count);
  return out;
}
