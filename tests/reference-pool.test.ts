import { describe, expect, it } from 'vitest';
import { pool2dOutShape, poolParams, sizeOf, type Pool2dParams, type Shape } from '../src/engine/backend.ts';
import {
  avgPool2dBackward, avgPool2dForward, globalAvgPoolBackward, globalAvgPoolForward, maxPool2dBackward,
  maxPool2dForward,
} from '../src/engine/reference/pool.ts';
import { checkGrad } from './helpers/reference-gradcheck.ts';
import { mulberry32, randn } from './helpers/random.ts';

const x33 = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);

const configs: { name: string; x: Shape; p: Pool2dParams }[] = [
  { name: '2x2 stride 2', x: [2, 2, 4, 6], p: poolParams(2) },
  { name: '3x3 stride 2 pad 1, odd 7x5', x: [1, 3, 7, 5], p: poolParams(3, 2, 1) },
  { name: '3x3 stride 1 pad 1', x: [2, 1, 4, 4], p: poolParams(3, 1, 1) },
  { name: 'non-square 2x3, stride (1,2), pad (1,1)', x: [1, 2, 5, 6],
    p: { kernelH: 2, kernelW: 3, strideH: 1, strideW: 2, padH: 1, padW: 1 } },
  { name: '3x3 stride 2 pad 1 ceil_mode, 4x5', x: [1, 2, 4, 5], p: { ...poolParams(3, 2, 1), ceilMode: true } },
  { name: '3x3 stride 2 pad 1 count_include_pad = false, 6x6', x: [2, 1, 6, 6], p: { ...poolParams(3, 2, 1), countIncludePad: false } },
  { name: '2x2 stride 2 ceil_mode count_include_pad = false, 5x3', x: [1, 2, 5, 3], p: { ...poolParams(2, 2, 1), ceilMode: true, countIncludePad: false } },
];

describe('reference pooling', () => {
  it('avg pool counts padding (count_include_pad = true)', () => {
    const y = avgPool2dForward(x33, [1, 1, 3, 3], poolParams(2, 2, 1));
    // Windows: {1}, {2,3}, {4,7}, {5,6,8,9}, all divided by 4.
    expect(Array.from(y)).toEqual([1 / 4, 5 / 4, 11 / 4, 28 / 4]);
    expect(Array.from(avgPool2dForward(x33, [1, 1, 3, 3], poolParams(2, 1)))).toEqual([3, 4, 6, 7]);
  });

  it('ceil_mode and count_include_pad = false, by hand (PyTorch\'s divisors)', () => {
    // 3x3 input, 2x2 windows, stride 2, ceil_mode: 2x2 outputs, windows {1,2,4,5}, {3,6}, {7,8}, {9}.
    const ceil = { ...poolParams(2, 2, 0), ceilMode: true };
    expect(pool2dOutShape([1, 1, 3, 3], ceil)).toEqual([1, 1, 2, 2]);
    expect(Array.from(avgPool2dForward(x33, [1, 1, 3, 3], ceil))).toEqual([12 / 4, 9 / 2, 15 / 2, 9]);
    expect(Array.from(maxPool2dForward(x33, [1, 1, 3, 3], ceil))).toEqual([5, 6, 8, 9]);
    // pad 1, count_include_pad = false: windows {1}, {2,3}, {4,7}, {5,6,8,9} divided by their real elements.
    const excl = { ...poolParams(2, 2, 1), countIncludePad: false };
    expect(Array.from(avgPool2dForward(x33, [1, 1, 3, 3], excl))).toEqual([1, 5 / 2, 11 / 2, 28 / 4]);
    // pad 1, ceil_mode, count_include_pad: the padding counts, the overhang past it does not (3x3 k3 s2 p1 -> 2x2;
    // the last window [1, 4) on each axis is clipped to the padded end 4: 3 positions).
    const both = { ...poolParams(3, 2, 1), ceilMode: true };
    expect(pool2dOutShape([1, 1, 3, 3], both)).toEqual([1, 1, 2, 2]);
    // 4x4 input: ceil((4 + 2 - 3) / 2) + 1 = 3 outputs, the last window starts at 3 (inside the input), spans [3, 6)
    // clipped to 5 (= 4 + pad 1): 2 positions per axis; floor mode would give 2 outputs.
    expect(pool2dOutShape([1, 1, 4, 4], both)).toEqual([1, 1, 3, 3]);
    const ones = new Float64Array(16).fill(1);
    const y = avgPool2dForward(ones, [1, 1, 4, 4], both);
    // corner window: 2x2 real ones of 3x3 counted; last window: 1x1 real of 2x2 counted
    expect(y[0]).toBeCloseTo(4 / 9, 12);
    expect(y[8]).toBeCloseTo(1 / 4, 12);
    // a window that would start in the right padding is dropped: 5 in, k2 s2 p1, ceil -> 3 (not 4)
    expect(pool2dOutShape([1, 1, 5, 5], { ...poolParams(2, 2, 1), ceilMode: true })).toEqual([1, 1, 3, 3]);
  });

  it('max pool: padding is -inf, ties route to the first maximum', () => {
    const neg = Float64Array.from(x33, (v) => -v);
    // With padding 1 a -inf pad never wins even though all real values are negative.
    expect(Array.from(maxPool2dForward(neg, [1, 1, 3, 3], poolParams(2, 2, 1)))).toEqual([-1, -2, -4, -5]);
    const ties = Float64Array.from([7, 7, 1, 7, 7, 2, 0, 3, 3]);
    const y = maxPool2dForward(ties, [1, 1, 3, 3], poolParams(2, 1));
    expect(Array.from(y)).toEqual([7, 7, 7, 7]);
    const dx = maxPool2dBackward(Float64Array.from([1, 10, 100, 1000]), ties, [1, 1, 3, 3], poolParams(2, 1));
    // The four windows each pick their first (row-major) 7: x[0], x[1], x[3], x[4].
    expect(Array.from(dx)).toEqual([1, 10, 0, 100, 1000, 0, 0, 0, 0]);
    const ties2 = Float64Array.from([0, 3, 3, 0]);
    expect(Array.from(maxPool2dBackward(Float64Array.from([5]), ties2, [1, 1, 2, 2], poolParams(2)))).toEqual([0, 5, 0, 0]);
  });

  it('rejects padding above half the kernel (like PyTorch)', () => {
    expect(() => maxPool2dForward(x33, [1, 1, 3, 3], poolParams(2, 1, 2))).toThrow();
  });

  for (const [i, c] of configs.entries()) {
    it(`${c.name}: avg and max backwards match finite differences`, () => {
      const rng = mulberry32(300 + i);
      const yShape = pool2dOutShape(c.x, c.p);
      const x = randn(rng, sizeOf(c.x)), r = randn(rng, sizeOf(yShape));
      checkGrad('avg dx', (xx) => avgPool2dForward(xx, c.x, c.p), x, r, avgPool2dBackward(r, c.x, c.p));
      // Random normals have no ties (and are spread far more than h = 1e-6 apart).
      checkGrad('max dx', (xx) => maxPool2dForward(xx, c.x, c.p), x, r, maxPool2dBackward(r, x, c.x, c.p));
    });
  }

  it('global average pool: forward by hand, backward by finite differences', () => {
    expect(Array.from(globalAvgPoolForward(Float64Array.from([1, 2, 3, 4, 10, 20, 30, 40]), [1, 2, 2, 2]))).toEqual([2.5, 25]);
    const rng = mulberry32(400);
    const shape: Shape = [2, 3, 3, 4];
    const x = randn(rng, sizeOf(shape)), r = randn(rng, 6);
    checkGrad('dx', (xx) => globalAvgPoolForward(xx, shape), x, r, globalAvgPoolBackward(r, shape));
  });
});
