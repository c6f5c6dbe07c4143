import { describe, expect, it } from 'vitest';
import type { Shape } from '../src/engine/backend.ts';
import { sizeOf } from '../src/engine/backend.ts';
import { bnBackward, bnForward, bnStats, emaInPlace } from '../src/engine/reference/batchnorm.ts';
import { checkGrad, expectAllClose } from './helpers/reference-gradcheck.ts';
import { mulberry32, randn } from './helpers/random.ts';

const EPS = 1e-5;

/** Training-mode BN: normalizes with the batch statistics of x itself. */
function bnTrain(x: Float64Array, shape: Shape, gamma: Float64Array, beta: Float64Array): Float64Array {
  const [mean, variance] = bnStats(x, shape);
  return bnForward(x, shape, mean, variance, gamma, beta, EPS) as Float64Array;
}

describe('reference batchnorm', () => {
  it('normalizes a tiny tensor as computed by hand', () => {
    // [N=2, C=2, H=1, W=2]: channel 0 holds 1, 2, 3, 4; channel 1 holds 10, 10, 20, 20.
    const x = Float64Array.from([1, 2, 10, 10, 3, 4, 20, 20]);
    const [mean, variance] = bnStats(x, [2, 2, 1, 2]);
    expect(Array.from(mean)).toEqual([2.5, 15]);
    expect(Array.from(variance)).toEqual([1.25, 25]); // biased: mean of squared deviations
    const y = bnForward(x, [2, 2, 1, 2], mean, variance, Float64Array.from([2, 1]), Float64Array.from([1, -1]), 0);
    const s0 = 2 / Math.sqrt(1.25);
    expectAllClose(y, [-1.5 * s0 + 1, -0.5 * s0 + 1, -2, -2, 0.5 * s0 + 1, 1.5 * s0 + 1, 0, 0], 1e-14, 1e-15);
    // [N, C] features behave as H = W = 1.
    const [m2, v2] = bnStats(Float64Array.from([1, 5, 3, 7]), [2, 2]);
    expect(Array.from(m2)).toEqual([2, 6]);
    expect(Array.from(v2)).toEqual([1, 1]);
  });

  for (const shape of [[3, 2, 3, 2], [4, 3]] as Shape[]) {
    it(`training backward [${shape.join(', ')}]: dx through the batch statistics, dgamma, dbeta`, () => {
      const rng = mulberry32(11 + shape.length);
      const C = shape[1];
      const x = randn(rng, sizeOf(shape)), r = randn(rng, sizeOf(shape));
      for (let i = 0; i < x.length; i++) x[i] = 2 * x[i] + 0.7; // non-trivial mean and variance
      const gamma = randn(rng, C), beta = randn(rng, C);
      const [mean, variance] = bnStats(x, shape);
      const [dx, dgamma, dbeta] = bnBackward(r, x, shape, mean, variance, gamma, EPS, true);
      checkGrad('dx', (xx) => bnTrain(xx, shape, gamma, beta), x, r, dx);
      checkGrad('dgamma', (gg) => bnTrain(x, shape, gg, beta), gamma, r, dgamma);
      checkGrad('dbeta', (bb) => bnTrain(x, shape, gamma, bb), beta, r, dbeta);
    });
  }

  it('eval backward: mean/var are constants', () => {
    const rng = mulberry32(21);
    const shape: Shape = [2, 3, 2, 3];
    const x = randn(rng, sizeOf(shape)), r = randn(rng, sizeOf(shape));
    const gamma = randn(rng, 3), beta = randn(rng, 3), mean = randn(rng, 3);
    const variance = Float64Array.from([0.5, 1.7, 3]);
    const [dx, dgamma, dbeta] = bnBackward(r, x, shape, mean, variance, gamma, EPS, false);
    const f = (xx: Float64Array, gg = gamma, bb = beta) => bnForward(xx, shape, mean, variance, gg, bb, EPS);
    checkGrad('dx', (xx) => f(xx), x, r, dx);
    checkGrad('dgamma', (gg) => f(x, gg), gamma, r, dgamma);
    checkGrad('dbeta', (bb) => f(x, gamma, bb), beta, r, dbeta);
  });

  it('ema updates the running statistics in place', () => {
    const running = Float64Array.from([1, 2]);
    emaInPlace(running, Float64Array.from([3, 6]), 0.1, 4 / 3);
    expectAllClose(running, [0.9 * 1 + 0.1 * 4, 0.9 * 2 + 0.1 * 8], 1e-15, 1e-16);
  });
});
