import { describe, expect, it } from 'vitest';
import { softmaxCrossEntropy, softmaxCrossEntropyBackward } from '../src/engine/reference/loss.ts';
import { checkGrad, expectAllClose } from './helpers/reference-gradcheck.ts';
import { mulberry32, randn } from './helpers/random.ts';

describe('reference softmax cross-entropy', () => {
  it('equals log-sum-exp minus the label logit, averaged over rows', () => {
    const logits = Float64Array.from([1, 2, 3, 0, 0, 0]);
    const [loss, probs] = softmaxCrossEntropy(logits, Float64Array.from([2, 0]), 2, 3);
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    expectAllClose(loss, [((lse - 3) + Math.log(3)) / 2], 1e-15, 1e-16);
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    expectAllClose(probs, [Math.exp(1) / z, Math.exp(2) / z, Math.exp(3) / z, 1 / 3, 1 / 3, 1 / 3], 1e-15, 1e-16);
  });

  it('is numerically stable for huge logits (max subtraction)', () => {
    const [loss, probs] = softmaxCrossEntropy(new Float32Array([1000, 999, -1000]), new Float32Array([1]), 1, 3);
    expect(loss).toBeInstanceOf(Float32Array);
    expect(loss[0]).toBeCloseTo(1 + Math.log(1 + Math.exp(-1)), 5);
    expect(Array.from(probs).every(Number.isFinite)).toBe(true);
    expect(() => softmaxCrossEntropy(new Float64Array(3), Float64Array.from([3]), 1, 3)).toThrow();
  });

  it('backward matches finite differences of the mean loss', () => {
    const rng = mulberry32(9);
    const N = 4, K = 5;
    const logits = randn(rng, N * K);
    const labels = Float64Array.from([0, 4, 2, 2]);
    const r = [1.7]; // dLoss
    const [, probs] = softmaxCrossEntropy(logits, labels, N, K);
    const d = softmaxCrossEntropyBackward(probs, labels, N, K, r[0] / N);
    checkGrad('dlogits', (z) => softmaxCrossEntropy(z, labels, N, K)[0], logits, r, d);
  });
});
