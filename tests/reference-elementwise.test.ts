import { describe, expect, it } from 'vitest';
import type { Shape } from '../src/engine/backend.ts';
import { concatChannels, sliceChannels } from '../src/engine/reference/concat.ts';
import { add, clamp, clampBackward, scale } from '../src/engine/reference/elementwise.ts';
import { checkGrad } from './helpers/reference-gradcheck.ts';
import { mulberry32, randn } from './helpers/random.ts';

describe('reference elementwise', () => {
  it('add, scale, clamp by hand', () => {
    const a = Float64Array.from([1, -2, 3.5, 7]);
    expect(Array.from(add(a, Float64Array.from([1, 1, 1, 1])))).toEqual([2, -1, 4.5, 8]);
    expect(Array.from(scale(a, -2))).toEqual([-2, 4, -7, -14]);
    expect(Array.from(clamp(a, 0, 6))).toEqual([1, 0, 3.5, 6]);
    expect(Array.from(clamp(a, 0, Infinity))).toEqual([1, 0, 3.5, 7]);
    expect(add(new Float32Array(2), new Float32Array(2))).toBeInstanceOf(Float32Array);
  });

  it('clampBackward is 0 at the boundaries', () => {
    const x = Float64Array.from([0, 6, -1, 3, 7, 1e-9]);
    expect(Array.from(clampBackward(Float64Array.from([1, 2, 3, 4, 5, 6]), x, 0, 6))).toEqual([0, 0, 0, 4, 0, 6]);
  });

  it('clamp backward matches finite differences away from the kinks', () => {
    const rng = mulberry32(5);
    const x = randn(rng, 40), r = randn(rng, 40);
    for (let i = 0; i < x.length; i++) {
      x[i] *= 4; // spread over both kinks
      if (Math.abs(x[i]) < 0.01 || Math.abs(x[i] - 3) < 0.01) x[i] += 0.1;
    }
    expect(x.some((v) => v > 3) && x.some((v) => v < 0)).toBe(true);
    checkGrad('dx', (xx) => clamp(xx, 0, 3), x, r, clampBackward(r, x, 0, 3));
    checkGrad('add da', (aa) => add(aa, x), Float64Array.from(x), r, r);
    checkGrad('scale da', (aa) => scale(aa, 0.3), Float64Array.from(x), r, scale(r, 0.3));
  });
});

describe('reference concat / slice', () => {
  it('concatenates along channels by hand', () => {
    // a [2, 1, 1, 2], b [2, 2, 1, 2]
    const a = Float64Array.from([1, 2, 3, 4]), b = Float64Array.from([10, 11, 12, 13, 20, 21, 22, 23]);
    const y = concatChannels([a, b], [[2, 1, 1, 2], [2, 2, 1, 2]]);
    expect(Array.from(y)).toEqual([1, 2, 10, 11, 12, 13, 3, 4, 20, 21, 22, 23]);
    expect(Array.from(sliceChannels(y, [2, 3, 1, 2], 1, 2))).toEqual(Array.from(b));
    expect(Array.from(sliceChannels(y, [2, 3, 1, 2], 0, 1))).toEqual(Array.from(a));
    expect(() => concatChannels([a, b], [[2, 1, 1, 2], [2, 2, 2, 1]])).toThrow();
    expect(() => sliceChannels(y, [2, 3, 1, 2], 2, 2)).toThrow();
  });

  it('slice is the backward of concat (finite differences)', () => {
    const rng = mulberry32(6);
    const shapes: Shape[] = [[2, 2, 3, 2], [2, 1, 3, 2], [2, 3, 3, 2]];
    const xs = shapes.map((s) => randn(rng, s[0] * s[1] * s[2] * s[3]));
    const outShape: Shape = [2, 6, 3, 2];
    const r = randn(rng, 2 * 6 * 3 * 2);
    let start = 0;
    for (let j = 0; j < xs.length; j++) {
      const dxj = sliceChannels(r, outShape, start, shapes[j][1]);
      checkGrad(`dx${j}`, (xj) => concatChannels(xs.map((x, k) => (k === j ? xj : x)), shapes), xs[j], r, dxj);
      start += shapes[j][1];
    }
  });
});
