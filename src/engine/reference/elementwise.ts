/** Elementwise ops over same-sized arrays (no broadcasting). */
import { allocLike, checkSize, type FloatArray } from './types.ts';

export function add(a: FloatArray, b: FloatArray): FloatArray {
  checkSize('add b', b, a.length);
  const y = allocLike(a, a.length);
  for (let i = 0; i < a.length; i++) y[i] = a[i] + b[i];
  return y;
}

/** a * s. */
export function scale(a: FloatArray, s: number): FloatArray {
  const y = allocLike(a, a.length);
  for (let i = 0; i < a.length; i++) y[i] = a[i] * s;
  return y;
}

/** x * a + b (scalars), in float32 like the WGSL kernel: f32(f32(x * a) + b). */
export function affine(x: FloatArray, a: number, b: number): FloatArray {
  const y = allocLike(x, x.length);
  const fa = Math.fround(a), fb = Math.fround(b);
  for (let i = 0; i < x.length; i++) y[i] = Math.fround(x[i] * fa) + fb;
  return y;
}

/** min(max(x, lo), hi); relu is (0, Infinity), relu6 (0, 6). */
export function clamp(x: FloatArray, lo: number, hi: number): FloatArray {
  const y = allocLike(x, x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    y[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return y;
}

/** dy where lo < x < hi, else 0 (0 at the boundaries, like PyTorch's relu / hardtanh backward). */
export function clampBackward(dy: FloatArray, x: FloatArray, lo: number, hi: number): FloatArray {
  checkSize('clampBackward x', x, dy.length);
  const dx = allocLike(dy, dy.length);
  for (let i = 0; i < dy.length; i++) {
    const v = x[i];
    dx[i] = v > lo && v < hi ? dy[i] : 0;
  }
  return dx;
}
