/**
 * Depthwise 2-D convolution on WebGPU (groups == C, one input channel per group, any channel
 * multiplier): sliding-window kernels in shaders/conv2d_depthwise.wgsl, 4 output columns per
 * invocation with a kernel row's inputs held in registers. conv2d.ts routes a layer here when
 * `depthwiseEligible` holds; the entry point is picked by the column stride (1 or 2).
 */
import common from '../../../../shaders/conv2d_common.wgsl';
import depthwise from '../../../../shaders/conv2d_depthwise.wgsl';
import type { Conv2dParams, Shape } from '../../backend.ts';
import { grid1d, type GpuContext, type GpuTensor } from '../gpu-context.ts';
import { checkTotal as check, params as convParams, type Geometry } from './conv2d-geometry.ts';

const KEY = 'conv2d_depthwise';
const code = common + depthwise;
const WG = 64;
/** backward_weight splits the N * OH output rows into chunks until about this many invocations run. */
const TARGET_THREADS = 8192;

/** One input channel per group, column stride 1 or 2, column dilation 1, at most 4 kernel columns. */
export function depthwiseEligible(g: Geometry, p: Conv2dParams): boolean {
  return g.Cg === 1 && g.G === g.C && (p.strideW === 1 || p.strideW === 2) && p.dilationW === 1 && g.KW <= 4;
}

const suffix = (p: Conv2dParams) => (p.strideW === 1 ? 's1' : 's2');
/** forward and backward_weight take the column stride as the override STRIDE2. */
const stride2 = (p: Conv2dParams) => ({ STRIDE2: p.strideW === 2 ? 1 : 0 });

/** The shared uniform; the depthwise kernels use XB, total, extra and S of the per-kernel fields. */
function params(g: Geometry, p: Conv2dParams, XB: number, total: number, extra: number, S: number) {
  return convParams(g, p, 0, XB, 0, total, extra, S);
}

export function dwForward(ctx: GpuContext, x: GpuTensor, w: GpuTensor, b: GpuTensor | null, g: Geometry, p: Conv2dParams): GpuTensor {
  const XB = Math.ceil(g.OW / 4);
  const total = g.N * g.O * g.OH * XB;
  check('conv2d', total);
  const y = ctx.empty([g.N, g.O, g.OH, g.OW]);
  ctx.run({
    key: KEY, code, entry: 'dw_forward', constants: stride2(p),
    inputs: [x, w, b ?? w], outputs: [y],
    params: params(g, p, XB, total, b ? 1 : 0, 1),
    workgroups: grid1d(total, WG),
  });
  return y;
}

export function dwBackwardInput(ctx: GpuContext, dy: GpuTensor, w: GpuTensor, g: Geometry, p: Conv2dParams): GpuTensor {
  const XB = Math.ceil(g.W / (p.strideW === 1 ? 4 : 8));
  // s2: 2 input rows per invocation
  const total = g.N * g.C * (p.strideW === 1 ? g.H : Math.ceil(g.H / 2)) * XB;
  check('conv2dBackwardInput', total);
  const dx = ctx.empty([g.N, g.C, g.H, g.W]);
  ctx.run({
    key: KEY, code, entry: `dw_backward_input_${suffix(p)}`,
    inputs: [dy, w], outputs: [dx],
    params: params(g, p, XB, total, 0, 1),
    workgroups: grid1d(total, WG),
  });
  return dx;
}

export function dwBackwardWeight(ctx: GpuContext, dy: GpuTensor, x: GpuTensor, wShape: Shape, g: Geometry, p: Conv2dParams): GpuTensor {
  const WS = g.O * g.KH * g.KW;
  const perChunk = g.O * g.KH;
  const rows = g.N * g.OH;
  // Split the N * OH output rows so that enough invocations run; each chunk writes partial sums.
  const wanted = Math.max(1, Math.min(rows, Math.ceil(TARGET_THREADS / perChunk)));
  const chunk = Math.ceil(rows / wanted);
  const S = Math.ceil(rows / chunk);
  const total = perChunk * S;
  check('conv2dBackwardWeight', total);
  const dw = ctx.empty(wShape);
  const target = S > 1 ? ctx.empty([S, WS]) : dw;
  ctx.run({
    key: KEY, code, entry: 'dw_backward_weight', constants: stride2(p),
    inputs: [dy, x], outputs: [target],
    params: params(g, p, 0, total, chunk, S),
    workgroups: grid1d(total, WG),
  });
  if (S > 1) {
    ctx.run({
      key: KEY, code, entry: 'reduce_partials',
      inputs: [target], outputs: [dw],
      params: params(g, p, 0, WS, chunk, S),
      workgroups: grid1d(WS, WG),
    });
    ctx.release(target);
  }
  return dw;
}
