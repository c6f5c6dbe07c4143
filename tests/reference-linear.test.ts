import { describe, expect, it } from 'vitest';
import { linearBackwardInput, linearBackwardWeight, linearForward, sumRows } from '../src/engine/reference/linear.ts';
import { checkGrad } from './helpers/reference-gradcheck.ts';
import { mulberry32, randn } from './helpers/random.ts';

describe('reference linear', () => {
  it('matches a hand-computed 2x3 -> 2 product', () => {
    const x = Float64Array.from([1, 2, 3, 4, 5, 6]); // [2, 3]
    const w = Float64Array.from([1, 0, -1, 0.5, 0.5, 0.5]); // [2, 3]
    const y = linearForward(x, w, Float64Array.from([10, 20]), 2, 3, 2);
    expect(Array.from(y)).toEqual([1 - 3 + 10, 3 + 20, 4 - 6 + 10, 7.5 + 20]);
    expect(Array.from(linearForward(x, w, null, 2, 3, 2))).toEqual([-2, 3, -2, 7.5]);
    expect(Array.from(sumRows(Float64Array.from([1, 2, 3, 4, 5, 6]), 3, 2))).toEqual([9, 12]);
    expect(linearForward(new Float32Array(6), new Float32Array(6), null, 2, 3, 2)).toBeInstanceOf(Float32Array);
  });

  it('backwards match finite differences', () => {
    const rng = mulberry32(7);
    const N = 3, K = 5, O = 4;
    const x = randn(rng, N * K), w = randn(rng, O * K), b = randn(rng, O), r = randn(rng, N * O);
    checkGrad('dx', (xx) => linearForward(xx, w, b, N, K, O), x, r, linearBackwardInput(r, w, N, K, O));
    checkGrad('dw', (ww) => linearForward(x, ww, b, N, K, O), w, r, linearBackwardWeight(r, x, N, K, O));
    checkGrad('db', (bb) => linearForward(x, w, bb, N, K, O), b, r, sumRows(r, N, O));
  });
});
