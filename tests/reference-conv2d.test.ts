import { describe, expect, it } from 'vitest';
import { conv2dOutShape, convParams, sizeOf, type Conv2dParams, type Shape } from '../src/engine/backend.ts';
import {
  channelSum, conv2dBackwardInput, conv2dBackwardWeight, conv2dForward,
} from '../src/engine/reference/conv2d.ts';
import { checkGrad, expectAllClose } from './helpers/reference-gradcheck.ts';
import { mulberry32, randn } from './helpers/random.ts';

/** Textbook 7-loop convolution with explicit bounds checks (independent of the reference). */
function naiveConv(x: Float64Array, xs: Shape, w: Float64Array, ws: Shape, b: Float64Array | null, p: Conv2dParams): Float64Array {
  const [N, C, H, W] = xs;
  const [O, Cg, KH, KW] = ws;
  const [, , OH, OW] = conv2dOutShape(xs, ws, p);
  const Og = O / p.groups;
  const y = new Float64Array(N * O * OH * OW);
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    let s = b ? b[o] : 0;
    const g = Math.floor(o / Og);
    for (let ci = 0; ci < Cg; ci++) for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
      const ih = oh * p.strideH - p.padH + kh * p.dilationH;
      const iw = ow * p.strideW - p.padW + kw * p.dilationW;
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      s += x[((n * C + g * Cg + ci) * H + ih) * W + iw] * w[((o * Cg + ci) * KH + kh) * KW + kw];
    }
    y[((n * O + o) * OH + oh) * OW + ow] = s;
  }
  return y;
}

interface Config { name: string; x: Shape; w: Shape; p: Conv2dParams }
const configs: Config[] = [
  { name: '3x3 pad 1', x: [2, 3, 5, 6], w: [4, 3, 3, 3], p: convParams({ padding: 1 }) },
  { name: 'stride 2, pad 1, odd 7x7', x: [2, 2, 7, 7], w: [3, 2, 3, 3], p: convParams({ stride: 2, padding: 1 }) },
  { name: 'dilation 2, pad 2', x: [1, 2, 7, 6], w: [2, 2, 3, 3], p: convParams({ dilation: 2, padding: 2 }) },
  { name: 'groups 2', x: [2, 4, 5, 5], w: [6, 2, 3, 3], p: convParams({ padding: 1, groups: 2 }) },
  { name: 'depthwise stride 2', x: [2, 4, 7, 7], w: [4, 1, 3, 3], p: convParams({ stride: 2, padding: 1, groups: 4 }) },
  { name: 'depthwise multiplier 2', x: [1, 3, 5, 4], w: [6, 1, 3, 3], p: convParams({ padding: 1, groups: 3 }) },
  { name: '1x1', x: [2, 5, 4, 3], w: [3, 5, 1, 1], p: convParams({}) },
  { name: 'non-square 1x3, stride (1,2), pad (0,1)', x: [2, 2, 5, 7], w: [3, 2, 1, 3], p: convParams({ strideW: 2, padW: 1 }) },
  { name: 'non-square 3x1, dilation (2,1), stride (2,1)', x: [1, 2, 9, 4], w: [2, 2, 3, 1], p: convParams({ dilationH: 2, strideH: 2, padH: 1 }) },
  { name: 'taps entirely outside (2x2 input, pad 2, dilation 2)', x: [1, 2, 2, 2], w: [2, 2, 3, 3], p: convParams({ padding: 2, dilation: 2 }) },
  { name: 'stride 3 odd 8x5, 2x2 kernel', x: [1, 2, 8, 5], w: [2, 2, 2, 2], p: convParams({ stride: 3 }) },
  // The forward computes output channels in blocks of 4 within a group: full blocks and a remainder of 1 ...
  { name: '9 output channels, stride 2, pad 1', x: [2, 3, 6, 5], w: [9, 3, 3, 3], p: convParams({ stride: 2, padding: 1 }) },
  // ... and blocks cut at each group's end (6 per group: 4 + 2).
  { name: 'groups 3 of 6 outputs, dilation 2', x: [1, 6, 7, 6], w: [18, 2, 3, 2], p: convParams({ padding: 1, dilation: 2, groups: 3 }) },
];

describe('reference conv2d', () => {
  it('matches a hand-computed 1x1x3x3 convolution', () => {
    const x = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const w = Float64Array.from([1, 2, 3, 4]);
    const y = conv2dForward(x, [1, 1, 3, 3], w, [1, 1, 2, 2], Float64Array.from([0.5]), convParams({}));
    // y00 = 1*1 + 2*2 + 4*3 + 5*4, y01 = 2*1 + 3*2 + 5*3 + 6*4, ...
    expect(Array.from(y)).toEqual([37.5, 47.5, 67.5, 77.5]);
    // 3x3 box filter with padding 1: corners sum 4 values, edges 6, the centre all 9.
    const box = conv2dForward(x, [1, 1, 3, 3], new Float64Array(9).fill(1), [1, 1, 3, 3], null, convParams({ padding: 1 }));
    expect(Array.from(box)).toEqual([12, 21, 16, 27, 45, 33, 24, 39, 28]);
    // Stride 2 with padding 1 picks the corners of the padded box filter.
    const s2 = conv2dForward(x, [1, 1, 3, 3], new Float64Array(9).fill(1), [1, 1, 3, 3], null, convParams({ padding: 1, stride: 2 }));
    expect(Array.from(s2)).toEqual([12, 16, 24, 28]);
  });

  it('keeps the float type of its input', () => {
    const x = new Float32Array(9).fill(1), w = new Float32Array(4).fill(0.25);
    const y = conv2dForward(x, [1, 1, 3, 3], w, [1, 1, 2, 2], null, convParams({}));
    expect(y).toBeInstanceOf(Float32Array);
    expect(Array.from(y)).toEqual([1, 1, 1, 1]);
    expect(conv2dBackwardInput(y, w, [1, 1, 2, 2], [1, 1, 3, 3], convParams({}))).toBeInstanceOf(Float32Array);
    expect(conv2dBackwardWeight(y, x, [1, 1, 3, 3], [1, 1, 2, 2], convParams({}))).toBeInstanceOf(Float32Array);
  });

  it('rejects inconsistent channels / groups', () => {
    expect(() => conv2dForward(new Float64Array(18), [1, 2, 3, 3], new Float64Array(9), [1, 1, 3, 3], null, convParams({}))).toThrow();
    expect(() => conv2dForward(new Float64Array(18), [1, 2, 3, 3], new Float64Array(27), [3, 1, 3, 3], null, convParams({ groups: 2 }))).toThrow();
  });

  for (const [i, c] of configs.entries()) {
    it(`${c.name}: forward matches the naive loop, backwards match finite differences`, () => {
      const rng = mulberry32(1000 + i);
      const x = randn(rng, sizeOf(c.x)), w = randn(rng, sizeOf(c.w)), b = randn(rng, c.w[0]);
      const yShape = conv2dOutShape(c.x, c.w, c.p);
      const r = randn(rng, sizeOf(yShape));
      const y = conv2dForward(x, c.x, w, c.w, b, c.p);
      expectAllClose(y, naiveConv(x, c.x, w, c.w, b, c.p), 1e-12, 1e-13, 'forward');

      const dx = conv2dBackwardInput(r, w, c.w, c.x, c.p);
      checkGrad('dx', (xx) => conv2dForward(xx, c.x, w, c.w, b, c.p), x, r, dx);
      const dw = conv2dBackwardWeight(r, x, c.x, c.w, c.p);
      checkGrad('dw', (ww) => conv2dForward(x, c.x, ww, c.w, b, c.p), w, r, dw);
      const db = channelSum(r, yShape);
      checkGrad('db', (bb) => conv2dForward(x, c.x, w, c.w, bb, c.p), b, r, db);
    });
  }

  it('channelSum sums over n, h, w (also for [N, C])', () => {
    const x = Float64Array.from({ length: 2 * 2 * 2 }, (_, i) => i); // [2, 2, 1, 2]
    expect(Array.from(channelSum(x, [2, 2, 1, 2]))).toEqual([0 + 1 + 4 + 5, 2 + 3 + 6 + 7]);
    expect(Array.from(channelSum(Float64Array.from([1, 2, 3, 4]), [2, 2]))).toEqual([4, 6]);
  });
});
