/**
 * Channel concatenation of [N, Ci, ...] tensors (dimension 1; the trailing dimensions, H * W for
 * NCHW, must agree) and its backward, the channel slice.
 */
import type { Shape } from '../backend.ts';
import { allocLike, checkSize, type FloatArray } from './types.ts';

function inner(shape: Shape): number {
  let s = 1;
  for (let i = 2; i < shape.length; i++) s *= shape[i];
  return s;
}

/** Concatenates along channels. Returns the data of shape [N, sum Ci, ...]. */
export function concatChannels(xs: readonly FloatArray[], shapes: readonly Shape[]): FloatArray {
  if (xs.length === 0 || xs.length !== shapes.length) throw new Error('concatChannels: need matching, non-empty xs and shapes');
  const s0 = shapes[0];
  const N = s0[0], HW = inner(s0);
  let Ctot = 0;
  for (let j = 0; j < xs.length; j++) {
    const s = shapes[j];
    if (s.length !== s0.length || s[0] !== N || inner(s) !== HW || s.slice(2).some((d, i) => d !== s0[i + 2])) {
      throw new Error(`concatChannels: shape [${s.join(', ')}] does not match [${s0.join(', ')}]`);
    }
    checkSize(`concatChannels x${j}`, xs[j], N * s[1] * HW);
    Ctot += s[1];
  }
  const y = allocLike(xs[0], N * Ctot * HW);
  for (let n = 0; n < N; n++) {
    let off = n * Ctot * HW;
    for (let j = 0; j < xs.length; j++) {
      const len = shapes[j][1] * HW;
      y.set(xs[j].subarray(n * len, (n + 1) * len), off);
      off += len;
    }
  }
  return y;
}

/** x[:, start:start+count] of an [N, C, ...] tensor. Returns [N, count, ...]. */
export function sliceChannels(x: FloatArray, xShape: Shape, start: number, count: number): FloatArray {
  const N = xShape[0], C = xShape[1], HW = inner(xShape);
  checkSize('sliceChannels x', x, N * C * HW);
  if (!(Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 0 && start + count <= C)) {
    throw new Error(`sliceChannels: [${start}, ${start + count}) is outside ${C} channels`);
  }
  const len = count * HW;
  const y = allocLike(x, N * len);
  for (let n = 0; n < N; n++) {
    const src = (n * C + start) * HW;
    y.set(x.subarray(src, src + len), n * len);
  }
  return y;
}

/**
 * y[:, j] = x[:, index[j]] of an [N, C, ...] tensor, zeros where index[j] < 0. Returns [N, index.length, ...].
 * The channel shuffle (index a permutation) and the backward of a channel slice (the inverse index, -1 outside).
 */
export function gatherChannels(x: FloatArray, xShape: Shape, index: readonly number[]): FloatArray {
  const N = xShape[0], C = xShape[1], HW = inner(xShape);
  checkSize('gatherChannels x', x, N * C * HW);
  for (const i of index) if (!(Number.isInteger(i) && i < C)) throw new Error(`gatherChannels: index ${i} is outside ${C} channels`);
  const J = index.length;
  const y = allocLike(x, N * J * HW);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < J; j++) {
      if (index[j] < 0) continue;
      const src = (n * C + index[j]) * HW;
      y.set(x.subarray(src, src + HW), (n * J + j) * HW);
    }
  }
  return y;
}
