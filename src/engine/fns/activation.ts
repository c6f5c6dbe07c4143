import type { Fn } from '../autograd.ts';

export interface ClampAttrs { lo: number; hi: number }

/** relu = clamp(0, Infinity), relu6 = clamp(0, 6). */
export const clampFn: Fn<ClampAttrs> = {
  name: 'clamp',
  forward: (be, [x], a) => be.clamp(x, a.lo, a.hi),
  backward: (be, gy, { inputs: [x], attrs: a }) => [be.clampBackward(gy, x, a.lo, a.hi)],
};

export const RELU: ClampAttrs = { lo: 0, hi: Infinity };
export const RELU6: ClampAttrs = { lo: 0, hi: 6 };

export const addFn: Fn<null> = {
  name: 'add',
  forward: (be, [a, b]) => be.add(a, b),
  // Each input gets its own copy: the tape releases gradients independently.
  backward: (be, gy, { needsGrad }) => [
    needsGrad[0] ? be.scale(gy, 1) : null,
    needsGrad[1] ? be.scale(gy, 1) : null,
  ],
};
