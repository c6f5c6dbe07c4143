import type { BTensor } from '../backend.ts';
import type { Fn } from '../autograd.ts';

export interface BatchNormAttrs {
  eps: number;
  momentum: number;
  /** Running statistics, updated in place during training (owned by the ParamStore). */
  runningMean: BTensor;
  runningVar: BTensor;
}

/**
 * Batch norm over channels, inputs [x, gamma, beta]. Training uses batch statistics and updates
 * the running ones (unbiased variance, as PyTorch); evaluation uses the running statistics.
 */
export const batchNormFn: Fn<BatchNormAttrs> = {
  name: 'batchnorm',
  forward(be, [x, gamma, beta], a, save, training) {
    if (!training) {
      return be.bnForward(x, a.runningMean, a.runningVar, gamma, beta, a.eps);
    }
    const [mean, variance] = be.bnStats(x);
    save(mean);
    save(variance);
    const m = x.size / x.shape[1];
    be.emaInPlace(a.runningMean, mean, a.momentum, 1);
    be.emaInPlace(a.runningVar, variance, a.momentum, m > 1 ? m / (m - 1) : 1);
    return be.bnForward(x, mean, variance, gamma, beta, a.eps);
  },
  backward(be, gy, { inputs: [x, gamma], saved, attrs: a, needsGrad }) {
    const training = saved.length === 2;
    const [mean, variance] = training ? saved : [a.runningMean, a.runningVar];
    const [dx, dgamma, dbeta] = be.bnBackward(gy, x, mean, variance, gamma, a.eps, training);
    const out: (BTensor | null)[] = [dx, dgamma, dbeta];
    return out.map((t, i) => {
      if (t && !needsGrad[i]) {
        be.release(t);
        return null;
      }
      return t;
    });
  },
};
