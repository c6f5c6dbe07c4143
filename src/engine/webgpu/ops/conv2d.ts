/**
 * 2-D convolution on WebGPU: forward, backward-input, backward-weight and the per-channel sum
 * (conv bias / BN beta gradient). Direct convolution, no im2col buffers; see shaders/conv2d_*.wgsl
 * (conv2d_common.wgsl holds the uniform and bindings, prepended to each) for the per-invocation register tiles. Every shape and hyper-parameter goes through the uniform,
 * so each entry point compiles once. Depthwise layers (one input channel per group, column stride
 * 1 or 2, KW <= 4, no column dilation) go to the sliding-window kernels of conv2d-depthwise.ts.
 */
import common from '../../../../shaders/conv2d_common.wgsl';
import forwardCode from '../../../../shaders/conv2d_forward.wgsl';
import backwardInputCode from '../../../../shaders/conv2d_backward_input.wgsl';
import backwardWeightCode from '../../../../shaders/conv2d_backward_weight.wgsl';
import channelSumCode from '../../../../shaders/channel_sum.wgsl';
import { sizeOf, type Conv2dParams, type Shape } from '../../backend.ts';
import { grid1d, type GpuContext, type GpuTensor } from '../gpu-context.ts';
import { depthwiseEligible, dwBackwardInput, dwBackwardWeight, dwForward } from './conv2d-depthwise.ts';
import { checkTotal, geometry, params, type Geometry } from './conv2d-geometry.ts';

// One shader module per pass, each with the shared uniform and bindings in front (WGSL has no include).
const FORWARD_SHADER = { key: 'conv2d/forward', code: common + forwardCode };
const BACKWARD_INPUT_SHADER = { key: 'conv2d/backward_input', code: common + backwardInputCode };
const BACKWARD_WEIGHT_SHADER = { key: 'conv2d/backward_weight', code: common + backwardWeightCode };
const CHANNEL_SUM_SHADER = { key: 'conv2d/channel_sum', code: common + channelSumCode };
const WG = 64;
/** backward_weight splits the batch into chunks until about this many invocations run. */
const TARGET_THREADS = 16384;

/**
 * Channels per invocation for a group of `n` channels: 8 unless a quarter of the lanes would idle,
 * then 4, and 1 below 4 channels (depthwise).
 */
function channelTile(n: number): 1 | 4 | 8 {
  if (n >= 8 && n / (Math.ceil(n / 8) * 8) >= 0.75) return 8;
  return n >= 4 ? 4 : 1;
}
/** Entry point and override constants for a channel tile: the 4- and 8-channel tiles are one
 *  shader entry specialised by the `WIDE` override; 1 channel has its own entry. */
function tileEntry(base: string, tile: 1 | 4 | 8): { entry: string; constants?: { WIDE: number } } {
  return tile === 1 ? { entry: `${base}_1` } : { entry: base, constants: { WIDE: tile === 8 ? 1 : 0 } };
}

function checkSize(op: string, name: string, t: GpuTensor, shape: Shape): void {
  if (t.size !== sizeOf(shape)) throw new Error(`${op}: ${name} has shape [${t.shape}], expected [${shape}]`);
}

/** y = conv2d(x, w) + b: x [N, C, H, W], w [O, C/groups, KH, KW], b [O] or null -> [N, O, OH, OW]. */
export function conv2d(ctx: GpuContext, x: GpuTensor, w: GpuTensor, b: GpuTensor | null, p: Conv2dParams): GpuTensor {
  const g = geometry('conv2d', x.shape, w.shape, p);
  if (b && b.size !== g.O) throw new Error(`conv2d: bias has ${b.size} values for ${g.O} output channels`);
  if (depthwiseEligible(g, p)) return dwForward(ctx, x, w, b, g, p);
  const XB = Math.ceil(g.OW / 4);
  const tile = channelTile(g.Og);
  const CB = Math.ceil(g.Og / tile);
  const total = g.N * g.G * CB * g.OH * XB;
  checkTotal('conv2d', total);
  const y = ctx.empty([g.N, g.O, g.OH, g.OW]);
  ctx.run({
    ...FORWARD_SHADER, ...tileEntry('forward', tile),
    inputs: [x, w, b ?? w], outputs: [y],
    params: params(g, p, CB, XB, 0, total, b ? 1 : 0, 1),
    workgroups: grid1d(total, WG),
  });
  return y;
}

/** dx of conv2d: dy [N, O, OH, OW], w [O, C/groups, KH, KW] -> [N, C, H, W] (xShape). */
export function conv2dBackwardInput(ctx: GpuContext, dy: GpuTensor, w: GpuTensor, xShape: Shape, p: Conv2dParams): GpuTensor {
  const g = geometry('conv2dBackwardInput', xShape, w.shape, p);
  checkSize('conv2dBackwardInput', 'dy', dy, [g.N, g.O, g.OH, g.OW]);
  if (depthwiseEligible(g, p)) return dwBackwardInput(ctx, dy, w, g, p);
  const QB = Math.ceil(Math.ceil(g.W / p.strideW) / 4);
  const XB = p.strideW * QB;
  const tile = channelTile(g.Cg);
  const CB = Math.ceil(g.Cg / tile);
  const total = g.N * g.G * CB * g.H * XB;
  checkTotal('conv2dBackwardInput', total);
  const dx = ctx.empty([g.N, g.C, g.H, g.W]);
  ctx.run({
    ...BACKWARD_INPUT_SHADER, ...tileEntry('backward_input', tile),
    inputs: [dy, w], outputs: [dx],
    params: params(g, p, CB, XB, QB, total, 0, 1),
    workgroups: grid1d(total, WG),
  });
  return dx;
}

/** dw of conv2d: dy [N, O, OH, OW], x [N, C, H, W] -> [O, C/groups, KH, KW] (wShape). */
export function conv2dBackwardWeight(ctx: GpuContext, dy: GpuTensor, x: GpuTensor, wShape: Shape, p: Conv2dParams): GpuTensor {
  const g = geometry('conv2dBackwardWeight', x.shape, wShape, p);
  checkSize('conv2dBackwardWeight', 'dy', dy, [g.N, g.O, g.OH, g.OW]);
  if (depthwiseEligible(g, p)) return dwBackwardWeight(ctx, dy, x, wShape, g, p);
  const KK = g.KH * g.KW;
  const WS = g.O * g.Cg * KK;
  // 8x4 or 4x4 (output x input) channel tiles unless most of their lanes would be idle
  // (depthwise: Og = Cg = 1); then one weight per invocation.
  const oTile = channelTile(g.Og) === 8 ? 8 : 4;
  const OB = Math.ceil(g.Og / oTile), CB = Math.ceil(g.Cg / 4);
  const blocked = (g.Og * g.Cg) / (OB * CB * oTile * 4) >= 0.2;
  const entry = tileEntry('backward_weight', blocked ? oTile : 1);
  const perChunk = blocked ? g.G * OB * CB * KK : WS;
  // Split the batch so that enough invocations run; each chunk writes its own partial sums.
  const wanted = Math.max(1, Math.min(g.N, Math.ceil(TARGET_THREADS / perChunk)));
  const chunk = Math.ceil(g.N / wanted);
  const S = Math.ceil(g.N / chunk);
  const total = perChunk * S;
  checkTotal('conv2dBackwardWeight', total);
  const dw = ctx.empty(wShape);
  const target = S > 1 ? ctx.empty([S, WS]) : dw;
  ctx.run({
    ...BACKWARD_WEIGHT_SHADER, ...entry,
    inputs: [dy, x], outputs: [target],
    params: params(g, p, OB, CB, 0, total, chunk, S),
    workgroups: grid1d(total, WG),
  });
  if (S > 1) {
    ctx.run({
      ...BACKWARD_WEIGHT_SHADER, entry: 'reduce_partials', // conv2d_common.wgsl
      inputs: [target], outputs: [dw],
      params: params(g, p, 0, 0, 0, WS, chunk, S),
      workgroups: grid1d(WS, WG),
    });
    ctx.release(target);
  }
  return dw;
}

/** s[c] = sum over n, h, w of x[n, c, h, w]; x [N, C, H, W] or [N, C]. Returns [C]. */
export function channelSum(ctx: GpuContext, x: GpuTensor): GpuTensor {
  if (x.shape.length < 2) throw new Error(`channelSum: expected [N, C, ...], got [${x.shape}]`);
  const [N, C] = x.shape;
  const HW = x.size / Math.max(1, N * C);
  if (N * HW === 0 || C === 0) return ctx.zeros([C]);
  const out = ctx.empty([C]);
  const g: Geometry = { N, C, H: HW, W: 1, O: 0, OH: 0, OW: 0, KH: 0, KW: 0, G: 1, Cg: 0, Og: 0 };
  const zero: Conv2dParams = { strideH: 0, strideW: 0, padH: 0, padW: 0, dilationH: 0, dilationW: 0, groups: 1 };
  ctx.run({
    ...CHANNEL_SUM_SHADER, entry: 'channel_sum',
    inputs: [x], outputs: [out],
    params: params(g, zero, 0, 0, 0, C, 0, 0),
    workgroups: grid1d(C, 1),
  });
  return out;
}
