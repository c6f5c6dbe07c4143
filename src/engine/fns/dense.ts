import type { Fn } from '../autograd.ts';

/** inputs: [x [N,K], w [O,K]] or with b [O]. */
export const linearFn: Fn<null> = {
  name: 'linear',
  forward: (be, [x, w, b]) => be.linear(x, w, b ?? null),
  backward(be, gy, { inputs: [x, w, b], needsGrad }) {
    return [
      needsGrad[0] ? be.linearBackwardInput(gy, w) : null,
      needsGrad[1] ? be.linearBackwardWeight(gy, x) : null,
      b && needsGrad[2] ? be.sumRows(gy) : null,
    ];
  },
};
