import type { Conv2dParams } from '../backend.ts';
import type { Fn } from '../autograd.ts';

/** inputs: [x, w] or [x, w, b]. */
export const conv2dFn: Fn<Conv2dParams> = {
  name: 'conv2d',
  forward: (be, [x, w, b], p) => be.conv2d(x, w, b ?? null, p),
  backward(be, gy, { inputs: [x, w, b], attrs: p, needsGrad }) {
    return [
      needsGrad[0] ? be.conv2dBackwardInput(gy, w, x.shape, p) : null,
      needsGrad[1] ? be.conv2dBackwardWeight(gy, x, w.shape, p) : null,
      b && needsGrad[2] ? be.channelSum(gy) : null,
    ];
  },
};
