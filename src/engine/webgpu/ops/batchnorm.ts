/**
 * Batch normalization kernels (shaders/batchnorm.wgsl), per channel of [N, C, H, W] or [N, C].
 * Per-channel reductions run one 256-lane workgroup per channel (tree reduction in shared memory);
 * everything else is elementwise over a 2-D grid of 256-lane workgroups.
 */
import code from '../../../../shaders/batchnorm.wgsl';
import type { Shape } from '../../backend.ts';
import { f32, grid1d, u32, type GpuContext, type GpuTensor, type ParamValue } from '../gpu-context.ts';

const KEY = 'batchnorm';

/** [N, C, H*W] of an [N, C, H, W] or [N, C] shape. */
function dims(shape: Shape, op: string): [number, number, number] {
  if (shape.length === 4) return [shape[0], shape[1], shape[2] * shape[3]];
  if (shape.length === 2) return [shape[0], shape[1], 1];
  throw new Error(`${op}: expected an [N, C, H, W] or [N, C] tensor, got [${shape}]`);
}

function perChannel(op: string, c: number, named: Record<string, GpuTensor>): void {
  for (const [name, t] of Object.entries(named)) {
    if (t.size !== c) throw new Error(`${op}: ${name} has ${t.size} elements, expected ${c} (channels)`);
  }
}

function params(n: number, c: number, hw: number, o: { eps?: number; momentum?: number; scale?: number; training?: boolean } = {}): ParamValue[] {
  return [
    u32(n), u32(c), u32(hw), u32(n === 0 || c === 0 ? 0 : n / c), f32(o.eps ?? 0), f32(o.momentum ?? 0),
    f32(o.scale ?? 1), u32(o.training ? 1 : 0),
  ];
}

/** One workgroup per channel, on a 2-D grid so that C may exceed 65535. */
const perChannelGrid = (c: number) => grid1d(c, 1);

/** Batch mean and biased variance per channel: [mean [C], var [C]]. */
export function bnStats(ctx: GpuContext, x: GpuTensor): [GpuTensor, GpuTensor] {
  const [N, C, HW] = dims(x.shape, 'bnStats');
  if (N * HW === 0) throw new Error(`bnStats: no elements per channel in [${x.shape}]`);
  const mean = ctx.empty([C]);
  const variance = ctx.empty([C]);
  ctx.run({
    key: KEY, code, entry: 'bn_stats', inputs: [x], outputs: [mean, variance],
    params: params(x.size, C, HW), workgroups: perChannelGrid(C),
  });
  return [mean, variance];
}

/** y = (x - mean) / sqrt(var + eps) * gamma + beta. */
export function bnForward(
  ctx: GpuContext, x: GpuTensor, mean: GpuTensor, variance: GpuTensor, gamma: GpuTensor, beta: GpuTensor, eps: number,
): GpuTensor {
  const [, C, HW] = dims(x.shape, 'bnForward');
  perChannel('bnForward', C, { mean, var: variance, gamma, beta });
  const y = ctx.empty(x.shape);
  ctx.run({
    key: KEY, code, entry: 'bn_forward', inputs: [x, mean, variance, gamma, beta], outputs: [y],
    params: params(x.size, C, HW, { eps }), workgroups: grid1d(x.size),
  });
  return y;
}

/**
 * Gradients of bnForward: [dx, dgamma, dbeta]. training: mean/var are the batch statistics of x,
 * dx = gamma * invstd / M * (M dy - sum dy - xhat * sum(dy xhat)); eval: dx = dy * gamma * invstd.
 */
export function bnBackward(
  ctx: GpuContext, dy: GpuTensor, x: GpuTensor, mean: GpuTensor, variance: GpuTensor, gamma: GpuTensor,
  eps: number, training: boolean,
): [GpuTensor, GpuTensor, GpuTensor] {
  const [N, C, HW] = dims(x.shape, 'bnBackward');
  if (dy.size !== x.size) throw new Error(`bnBackward: dy [${dy.shape}] and x [${x.shape}] differ`);
  if (N * HW === 0) throw new Error(`bnBackward: no elements per channel in [${x.shape}]`);
  perChannel('bnBackward', C, { mean, var: variance, gamma });
  const dgamma = ctx.empty([C]);
  const dbeta = ctx.empty([C]);
  const dx = ctx.empty(x.shape);
  const prm = params(x.size, C, HW, { eps, training });
  ctx.run({
    key: KEY, code, entry: 'bn_backward_reduce', inputs: [dy, x, mean, variance], outputs: [dgamma, dbeta],
    params: prm, workgroups: perChannelGrid(C),
  });
  ctx.run({
    key: KEY, code, entry: 'bn_backward_dx', inputs: [dy, x, mean, variance, gamma, dgamma, dbeta], outputs: [dx],
    params: prm, workgroups: grid1d(x.size),
  });
  return [dx, dgamma, dbeta];
}

/** running = (1 - momentum) * running + momentum * (batch * batchScale), in place. */
export function emaInPlace(ctx: GpuContext, running: GpuTensor, batch: GpuTensor, momentum: number, batchScale: number): void {
  if (running.size !== batch.size) {
    throw new Error(`emaInPlace: running [${running.shape}] and batch [${batch.shape}] differ`);
  }
  ctx.run({
    key: KEY, code, entry: 'bn_ema', inputs: [batch], outputs: [running],
    params: params(running.size, 1, 1, { momentum, scale: batchScale }), workgroups: grid1d(running.size),
  });
}
