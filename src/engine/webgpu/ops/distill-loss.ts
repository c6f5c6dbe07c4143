/**
 * Distillation losses (shaders/distill_loss.wgsl): mean squared error between two tensors of one
 * shape, and KL(softmax(teacher) || softmax(student)) over rows of logits, each as a pass that also
 * writes the tensor the backward scales, then a one-workgroup sum; scaleByScalar is the backward.
 */
import code from '../../../../shaders/distill_loss.wgsl';
import { f32, grid1d, u32, type GpuContext, type GpuTensor } from '../gpu-context.ts';

const KEY = 'distill_loss';
/** sq_diff's workgroups: a grid-stride loop covers any size, and sum_scaled finishes 256 partials in one group. */
const MAX_PARTIALS = 256;

function sumScaled(ctx: GpuContext, values: GpuTensor, count: number, scale: number): GpuTensor {
  const out = ctx.empty([1]);
  ctx.run({
    key: KEY, code, entry: 'sum_scaled', inputs: [values], outputs: [out],
    params: [u32(count), u32(1), u32(0), f32(scale)], workgroups: [1],
  });
  return out;
}

/** Returns [mean((a - b)^2) [1], a - b]. */
export function mseLoss(ctx: GpuContext, a: GpuTensor, b: GpuTensor): [GpuTensor, GpuTensor] {
  if (a.shape.join(',') !== b.shape.join(',')) throw new Error(`mseLoss: shapes [${a.shape}] and [${b.shape}] differ`);
  if (a.size === 0) throw new Error('mseLoss: empty tensors');
  const groups = Math.min(MAX_PARTIALS, Math.ceil(a.size / 256));
  const diff = ctx.empty(a.shape);
  const partial = ctx.empty([groups]);
  ctx.run({
    key: KEY, code, entry: 'sq_diff', inputs: [a, b], outputs: [diff, partial],
    params: [u32(a.size), u32(groups), u32(0), f32(0)], workgroups: [groups],
  });
  const loss = sumScaled(ctx, partial, groups, 1 / a.size);
  ctx.release(partial); // reused only by later commands
  return [loss, diff];
}

/** Returns [mean_n KL(softmax(t_n) || softmax(s_n)) [1], softmax(s) - softmax(t) [N, K]]. */
export function softKlLoss(ctx: GpuContext, s: GpuTensor, t: GpuTensor): [GpuTensor, GpuTensor] {
  if (s.shape.length !== 2) throw new Error(`softKlLoss: expected logits [N, K], got [${s.shape}]`);
  if (s.shape.join(',') !== t.shape.join(',')) throw new Error(`softKlLoss: shapes [${s.shape}] and [${t.shape}] differ`);
  const [N, K] = s.shape;
  if (N === 0 || K === 0) throw new Error(`softKlLoss: empty logits [${s.shape}]`);
  const delta = ctx.empty([N, K]);
  const rows = ctx.empty([N]);
  ctx.run({
    key: KEY, code, entry: 'kl_rows', inputs: [s, t], outputs: [delta, rows],
    params: [u32(N), u32(1), u32(K), f32(0)], workgroups: grid1d(N),
  });
  const loss = sumScaled(ctx, rows, N, 1 / N);
  ctx.release(rows);
  return [loss, delta];
}

/** y = x * s[0] * c (s is a tensor [1]). */
export function scaleByScalar(ctx: GpuContext, x: GpuTensor, s: GpuTensor, c: number): GpuTensor {
  if (s.size !== 1) throw new Error(`scaleByScalar: the scalar has ${s.size} elements`);
  const y = ctx.empty(x.shape);
  ctx.run({
    key: KEY, code, entry: 'scale_by', inputs: [x, s], outputs: [y],
    params: [u32(x.size), u32(1), u32(0), f32(c)], workgroups: grid1d(x.size),
  });
  return y;
}
