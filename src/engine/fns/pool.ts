import type { Pool2dParams, Shape } from '../backend.ts';
import type { Fn } from '../autograd.ts';

export const avgPoolFn: Fn<Pool2dParams> = {
  name: 'avgpool2d',
  forward: (be, [x], p) => be.avgPool2d(x, p),
  backward: (be, gy, { inputs: [x], attrs: p }) => [be.avgPool2dBackward(gy, x.shape, p)],
};

export const maxPoolFn: Fn<Pool2dParams> = {
  name: 'maxpool2d',
  forward: (be, [x], p) => be.maxPool2d(x, p),
  backward: (be, gy, { inputs: [x], attrs: p }) => [be.maxPool2dBackward(gy, x, p)],
};

export const globalAvgPoolFn: Fn<null> = {
  name: 'global_avgpool',
  forward: (be, [x]) => be.globalAvgPool(x),
  backward: (be, gy, { inputs: [x] }) => [be.globalAvgPoolBackward(gy, x.shape)],
};

export const reshapeFn: Fn<{ shape: Shape }> = {
  name: 'reshape',
  forward: (be, [x], a) => be.reshape(x, a.shape),
  backward: (be, gy, { inputs: [x] }) => [be.reshape(gy, x.shape)],
};

export const concatFn: Fn<null> = {
  name: 'concat',
  forward: (be, xs) => be.concatChannels(xs),
  backward(be, gy, { inputs, needsGrad }) {
    let start = 0;
    return inputs.map((x, i) => {
      const c = x.shape[1];
      const g = needsGrad[i] ? be.sliceChannels(gy, start, c) : null;
      start += c;
      return g;
    });
  },
};
