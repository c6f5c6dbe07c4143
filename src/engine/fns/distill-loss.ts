/**
 * The distillation losses as autograd functions: inputs [student, teacher], output a scalar [1].
 * The teacher is a constant (no gradient); the backward scales the saved (student - teacher) term by
 * the incoming gradient, so the losses can be weighted and summed on the tape.
 */
import type { Fn } from '../autograd.ts';

/** mean((student - teacher)^2) over all elements; any shape. */
export const mseLossFn: Fn<null> = {
  name: 'mse_loss',
  forward(be, [s, t], _a, save) {
    const [loss, diff] = be.mseLoss(s, t);
    save(diff);
    return loss;
  },
  backward: (be, gy, { inputs: [s], saved: [diff] }) => [be.scaleByScalar(diff, gy, 2 / s.size), null],
};

/** mean over rows of KL(softmax(teacher) || softmax(student)); logits [N, K]. */
export const softKlLossFn: Fn<null> = {
  name: 'soft_kl_loss',
  forward(be, [s, t], _a, save) {
    const [loss, delta] = be.softKlLoss(s, t);
    save(delta);
    return loss;
  },
  backward: (be, gy, { inputs: [s], saved: [delta] }) => [be.scaleByScalar(delta, gy, 1 / s.shape[0]), null],
};

/** c * x (weights a loss term before it is summed with addFn). */
export const scaleFn: Fn<{ c: number }> = {
  name: 'scale',
  forward: (be, [x], a) => be.scale(x, a.c),
  backward: (be, gy, { attrs: a }) => [be.scale(gy, a.c)],
};
