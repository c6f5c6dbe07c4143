import { describe, expect, it } from 'vitest';
import type { ChannelLayout } from '../src/engine/backend.ts';
import { channelScale, channelScaleBackward } from '../src/engine/reference/channel-scale.ts';
import { checkGrad } from './helpers/reference-gradcheck.ts';
import { mulberry32, randn } from './helpers/random.ts';

describe('reference channelScale', () => {
  it('scales per channel of [outer, C, inner] by hand', () => {
    // [2, 2, 2]: channel 0 * 10, channel 1 * -1
    const x = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const s = Float64Array.from([10, -1]);
    const l: ChannelLayout = { outer: 2, channels: 2, inner: 2 };
    expect(Array.from(channelScale(x, s, l))).toEqual([10, 20, -3, -4, 50, 60, -7, -8]);
    expect(Array.from(channelScale(x, s, l, true))).toEqual([0.1, 0.2, -3, -4, 0.5, 0.6, -7, -8]);
    // one channel per element: the elementwise product
    expect(Array.from(channelScale(x, x, { outer: 1, channels: 8, inner: 1 }))).toEqual([1, 4, 9, 16, 25, 36, 49, 64]);
    expect(() => channelScale(x, s, { outer: 1, channels: 2, inner: 2 })).toThrow();
    expect(() => channelScale(x, x, l)).toThrow();
  });

  it('float32 division is correctly rounded', () => {
    const x = Float32Array.from([1, 2, 0.3]), s = Float32Array.from([3]);
    const y = channelScale(x, s, { outer: 1, channels: 1, inner: 3 }, true);
    expect(y).toBeInstanceOf(Float32Array);
    expect(Array.from(y)).toEqual([Math.fround(1 / 3), Math.fround(2 / 3), Math.fround(Math.fround(0.3) / 3)]);
  });

  const layouts: [string, ChannelLayout][] = [
    ['activations [3, 4, 5]', { outer: 3, channels: 4, inner: 5 }],
    ['weight dim 0 [1, 6, 9]', { outer: 1, channels: 6, inner: 9 }],
    ['vector [1, 5, 1]', { outer: 1, channels: 5, inner: 1 }],
  ];
  for (const divide of [false, true]) {
    it.each(layouts)(`backward matches finite differences (${divide ? 'divide' : 'multiply'}): %s`, (_n, l) => {
      const rng = mulberry32(divide ? 11 : 7);
      const n = l.outer * l.channels * l.inner;
      const x = randn(rng, n), r = randn(rng, n);
      const s = randn(rng, l.channels);
      // keep s away from 0 for the division
      for (let c = 0; c < s.length; c++) s[c] = Math.sign(s[c] || 1) * (0.5 + Math.abs(s[c]));
      const [dx, ds] = channelScaleBackward(r, x, s, l, divide);
      checkGrad('dx', (xx) => channelScale(xx, s, l, divide), Float64Array.from(x), r, dx);
      checkGrad('ds', (ss) => channelScale(x, ss, l, divide), Float64Array.from(s), r, ds);
    });
  }
});
