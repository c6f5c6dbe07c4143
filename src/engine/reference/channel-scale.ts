/**
 * Per-channel scaling of a row-major tensor seen as [outer, C, inner] (a ChannelLayout):
 * y[o, c, i] = x[o, c, i] * s[c], or x[o, c, i] / s[c] with `divide`. Used for conv activations ([N, C, H*W]),
 * the output-channel dim of a weight ([1, O, I*kh*kw]) and, with {outer: 1, channels: n, inner: 1}, as the
 * elementwise product of two same-sized tensors.
 *
 * Backward: dx = dy * s[c] (dy / s[c]); ds[c] = sum_{o,i} dy * x (divide: -sum_{o,i} dy * x / s[c]^2).
 * Sums in float64; outputs have the float type of the first input.
 */
import type { ChannelLayout } from '../backend.ts';
import { allocLike, checkSize, type FloatArray } from './types.ts';

function check(x: ArrayLike<number>, s: ArrayLike<number>, l: ChannelLayout): void {
  checkSize('channelScale x', x, l.outer * l.channels * l.inner);
  checkSize('channelScale s', s, l.channels);
}

export function channelScale(x: FloatArray, s: FloatArray, layout: ChannelLayout, divide = false): FloatArray {
  check(x, s, layout);
  const { outer, channels, inner } = layout;
  const y = allocLike(x, x.length);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner, sc = s[c];
      // float64 x*s or x/s rounded once to float32: the correctly rounded float32 result
      if (divide) for (let i = 0; i < inner; i++) y[base + i] = x[base + i] / sc;
      else for (let i = 0; i < inner; i++) y[base + i] = x[base + i] * sc;
    }
  }
  return y;
}

/** [dx, ds] of {@link channelScale}. */
export function channelScaleBackward(
  dy: FloatArray, x: FloatArray, s: FloatArray, layout: ChannelLayout, divide = false,
): [FloatArray, FloatArray] {
  check(x, s, layout);
  checkSize('channelScaleBackward dy', dy, x.length);
  const { outer, channels, inner } = layout;
  const dx = channelScale(dy, s, layout, divide);
  const ds = allocLike(dy, channels);
  for (let c = 0; c < channels; c++) {
    let acc = 0;
    for (let o = 0; o < outer; o++) {
      const base = (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) acc += dy[base + i] * x[base + i];
    }
    ds[c] = divide ? -acc / (s[c] * s[c]) : acc;
  }
  return [dx, ds];
}
