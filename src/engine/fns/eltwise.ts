/**
 * The binary elementwise functions besides add: mul (two values of one shape, or a per-channel gate as in
 * squeeze-excitation, x[N, C, H, W] * s[N, C, 1, 1]), sub, and affine (x * a + b with scalar constants: Mul / Div
 * by a constant, Sub / Add of one). Backwards on the Backend; checked against finite differences in
 * tests/ops-eltwise.test.ts.
 */
import { sizeOf, type ChannelLayout, type Shape } from '../backend.ts';
import type { Fn } from '../autograd.ts';
import { channelScaleFn } from './channel-scale.ts';

/**
 * a * b as Backend.channelScale sees it: one "channel" per element when the shapes match, else b holds one value
 * per (sample, channel) of a ([N, C, 1, 1] or [N, C]) and scales a's H*W positions of that channel.
 */
export function mulLayout(a: Shape, b: Shape): ChannelLayout {
  const na = sizeOf(a), nb = sizeOf(b);
  if (na === nb) return { outer: 1, channels: na, inner: 1 };
  const nc = a.length >= 2 ? a[0] * a[1] : -1;
  if (nb !== nc || na % nc) throw new Error(`mul: [${b}] is neither [${a}] nor one value per channel of it`);
  return { outer: 1, channels: nc, inner: na / nc };
}

export const mulFn: Fn<null> = {
  name: 'mul',
  forward: (be, [a, b]) => be.channelScale(a, b, mulLayout(a.shape, b.shape)),
  // The gradients of channelScale: da = dy * b, db = Σ dy * a over each channel's positions.
  backward: (be, gy, ctx) => channelScaleFn.backward(be, gy, { ...ctx, attrs: { layout: mulLayout(ctx.inputs[0].shape, ctx.inputs[1].shape) } }),
};

export const subFn: Fn<null> = {
  name: 'sub',
  forward(be, [a, b]) {
    const nb = be.scale(b, -1);
    const y = be.add(a, nb);
    be.release(nb);
    return y;
  },
  backward: (be, gy, { needsGrad }) => [needsGrad[0] ? be.scale(gy, 1) : null, needsGrad[1] ? be.scale(gy, -1) : null],
};

export interface AffineAttrs { factor: number; offset: number }

export const affineFn: Fn<AffineAttrs> = {
  name: 'affine',
  forward: (be, [x], a) => be.affine(x, a.factor, a.offset),
  backward: (be, gy, { attrs: a }) => [be.scale(gy, a.factor)],
};
