import type { Backend, BTensor, ChannelLayout } from '../backend.ts';
import type { Fn } from '../autograd.ts';

export interface ChannelScaleAttrs {
  /** x seen as [outer, C, inner]; s has C elements. */
  layout: ChannelLayout;
  /** y = x / s[c] instead of x * s[c]. */
  divide?: boolean;
}

/** sum over outer and inner of p (laid out as `l`), as a tensor shaped like s. */
function perChannelSum(be: Backend, p: BTensor, l: ChannelLayout, sShape: readonly number[]): BTensor {
  const direct = p.shape.length >= 2 && p.shape[0] === l.outer && p.shape[1] === l.channels;
  const p3 = direct ? p : be.reshape(p, [l.outer, l.channels, l.inner]);
  const sum = be.channelSum(p3);
  if (p3 !== p) be.release(p3);
  if (sum.shape.join() === sShape.join()) return sum;
  const out = be.reshape(sum, sShape);
  be.release(sum);
  return out;
}

/**
 * Per-channel scaling, inputs [x, s]: y = x * s[c] (or x / s[c]). Gradients: dx = dy * s[c] (dy / s[c]);
 * ds[c] = sum dy * x (divide: -sum dy * y / s[c], y = x / s[c]), the elementwise products done by the same
 * backend op with one channel per element, reduced by channelSum.
 */
export const channelScaleFn: Fn<ChannelScaleAttrs> = {
  name: 'channel_scale',
  forward: (be, [x, s], a) => be.channelScale(x, s, a.layout, a.divide ?? false),
  backward(be, gy, { inputs: [x, s], output: y, attrs: a, needsGrad }) {
    const divide = a.divide ?? false;
    const dx = needsGrad[0] ? be.channelScale(gy, s, a.layout, divide) : null;
    let ds: BTensor | null = null;
    if (needsGrad[1]) {
      const elementwise: ChannelLayout = { outer: 1, channels: gy.size, inner: 1 };
      const prod = be.channelScale(gy, divide ? y : x, elementwise);
      let p = prod;
      if (divide) {
        p = be.channelScale(prod, s, a.layout, true);
        be.release(prod);
      }
      const sum = perChannelSum(be, p, a.layout, s.shape);
      be.release(p);
      if (divide) {
        ds = be.scale(sum, -1);
        be.release(sum);
      } else ds = sum;
    }
    return [dx, ds];
  },
};
