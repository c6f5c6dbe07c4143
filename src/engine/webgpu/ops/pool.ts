/**
 * Pooling kernels (shaders/pool.wgsl) over NCHW, PyTorch semantics (ceil_mode, count_include_pad).
 * Backward passes are gathers (one invocation per input element), so they need no atomics.
 * Max-pool backward first records each window's argmax (a u32 per output), then gathers.
 */
import poolSrc from '../../../../shaders/pool.wgsl';
import { pool2dOutShape, sizeOf, type Pool2dParams, type Shape } from '../../backend.ts';
import { grid1d, type GpuContext, type GpuTensor, type ParamValue } from '../gpu-context.ts';
import { uniforms } from '../uniforms.ts';

const P = uniforms('Params', {
  total: 'u32', h: 'i32', w: 'i32', oh: 'i32', ow: 'i32', kh: 'i32', kw: 'i32', sh: 'i32', sw: 'i32', ph: 'i32', pw: 'i32', inc: 'i32',
});
const code = `${P.wgsl}\n${poolSrc}`;

const KEY = 'pool';

function nchw(shape: Shape, op: string): [number, number, number, number] {
  if (shape.length !== 4) throw new Error(`${op}: expected an [N, C, H, W] tensor, got [${shape}]`);
  return [shape[0], shape[1], shape[2], shape[3]];
}

/** Validates the window like the reference (and PyTorch) and returns the output shape. */
function geometry(xShape: Shape, p: Pool2dParams, op: string): Shape {
  nchw(xShape, op);
  const ints = [p.kernelH, p.kernelW, p.strideH, p.strideW, p.padH, p.padW];
  if (!ints.every(Number.isInteger) || !(p.kernelH >= 1 && p.kernelW >= 1 && p.strideH >= 1 && p.strideW >= 1
    && p.padH >= 0 && p.padW >= 0)) {
    throw new Error(`${op}: invalid window ${JSON.stringify(p)}`);
  }
  if (2 * p.padH > p.kernelH || 2 * p.padW > p.kernelW) {
    throw new Error(`${op}: padding ${p.padH}x${p.padW} exceeds half the kernel ${p.kernelH}x${p.kernelW}`);
  }
  const out = pool2dOutShape(xShape, p);
  if (out[2] <= 0 || out[3] <= 0) throw new Error(`${op}: empty output ${out[2]}x${out[3]} for input [${xShape}]`);
  return out;
}

function params(total: number, xShape: Shape, yShape: Shape, p: Pool2dParams | null): ParamValue[] {
  const q = p ?? { kernelH: 1, kernelW: 1, strideH: 1, strideW: 1, padH: 0, padW: 0 };
  return P.pack({
    total, h: xShape[2], w: xShape[3], oh: yShape[2], ow: yShape[3],
    kh: q.kernelH, kw: q.kernelW, sh: q.strideH, sw: q.strideW, ph: q.padH, pw: q.padW, inc: q.countIncludePad === false ? 0 : 1,
  });
}

function checkDy(dy: GpuTensor, yShape: Shape, op: string): void {
  if (dy.size !== sizeOf(yShape)) throw new Error(`${op}: dy [${dy.shape}] does not match the output [${yShape}]`);
}

/** Average pooling (count_include_pad unless p.countIncludePad is false). */
export function avgPool2d(ctx: GpuContext, x: GpuTensor, p: Pool2dParams): GpuTensor {
  const yShape = geometry(x.shape, p, 'avgPool2d');
  const y = ctx.empty(yShape);
  ctx.run({
    key: KEY, code, entry: 'avg_pool', inputs: [x], outputs: [y],
    params: params(y.size, x.shape, yShape, p), workgroups: grid1d(y.size),
  });
  return y;
}

export function avgPool2dBackward(ctx: GpuContext, dy: GpuTensor, xShape: Shape, p: Pool2dParams): GpuTensor {
  const yShape = geometry(xShape, p, 'avgPool2dBackward');
  checkDy(dy, yShape, 'avgPool2dBackward');
  const dx = ctx.empty(xShape);
  ctx.run({
    key: KEY, code, entry: 'avg_pool_backward', inputs: [dy], outputs: [dx],
    params: params(dx.size, xShape, yShape, p), workgroups: grid1d(dx.size),
  });
  return dx;
}

/** Max pooling; padding counts as -Infinity. */
export function maxPool2d(ctx: GpuContext, x: GpuTensor, p: Pool2dParams): GpuTensor {
  const yShape = geometry(x.shape, p, 'maxPool2d');
  const y = ctx.empty(yShape);
  ctx.run({
    key: KEY, code, entry: 'max_pool', inputs: [x], outputs: [y],
    params: params(y.size, x.shape, yShape, p), workgroups: grid1d(y.size),
  });
  return y;
}

/** Routes dy to the first maximal element of each window, recomputed from x. */
export function maxPool2dBackward(ctx: GpuContext, dy: GpuTensor, x: GpuTensor, p: Pool2dParams): GpuTensor {
  const yShape = geometry(x.shape, p, 'maxPool2dBackward');
  checkDy(dy, yShape, 'maxPool2dBackward');
  const argmax = ctx.empty(yShape); // u32 plane-relative indices, viewed as array<u32> by the shader
  const dx = ctx.empty(x.shape);
  const prm = params(argmax.size, x.shape, yShape, p);
  ctx.run({
    key: KEY, code, entry: 'max_pool_argmax', inputs: [x], outputs: [argmax],
    params: prm, workgroups: grid1d(argmax.size),
  });
  ctx.run({
    key: KEY, code, entry: 'max_pool_backward', inputs: [dy, argmax], outputs: [dx],
    params: params(dx.size, x.shape, yShape, p), workgroups: grid1d(dx.size),
  });
  // Safe before the dispatch executes: a recycled buffer is only reused by later commands.
  ctx.release(argmax);
  return dx;
}

/** [N, C, H, W] -> [N, C]: the mean of each plane. */
export function globalAvgPool(ctx: GpuContext, x: GpuTensor): GpuTensor {
  const [N, C] = nchw(x.shape, 'globalAvgPool');
  const y = ctx.empty([N, C]);
  ctx.run({
    key: KEY, code, entry: 'global_avg_pool', inputs: [x], outputs: [y],
    params: params(y.size, x.shape, [N, C, 1, 1], null), workgroups: grid1d(y.size),
  });
  return y;
}

/** dx[n,c,h,w] = dy[n,c] / (H * W). */
export function globalAvgPoolBackward(ctx: GpuContext, dy: GpuTensor, xShape: Shape): GpuTensor {
  const [N, C] = nchw(xShape, 'globalAvgPoolBackward');
  if (dy.size !== N * C) throw new Error(`globalAvgPoolBackward: dy [${dy.shape}] does not match [${N}, ${C}]`);
  const dx = ctx.empty(xShape);
  ctx.run({
    key: KEY, code, entry: 'global_avg_pool_backward', inputs: [dy], outputs: [dx],
    params: params(dx.size, xShape, [N, C, 1, 1], null), workgroups: grid1d(dx.size),
  });
  return dx;
}
