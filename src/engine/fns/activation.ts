import type { Fn } from '../autograd.ts';
import type { UnaryAct } from '../unary-act.ts';

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

/** sigmoid, tanh, hardsigmoid, hardswish, silu, leakyrelu, clip (src/engine/unary-act.ts): y = f(x), dx = dy · f'(x). */
export const unaryActFn: Fn<UnaryAct> = {
  name: 'unary_act',
  forward: (be, [x], a) => be.unaryAct(x, a),
  backward: (be, gy, { inputs: [x], attrs: a }) => [be.unaryActBackward(gy, x, a)],
};
