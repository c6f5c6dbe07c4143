/**
 * Integer relu / relu6 on a quantized tensor: the output keeps the input's scale and zero point.
 * relu: out = max(x, zp) (verified against PyTorch quantized relu); relu6: out = min(max(x, zp), q6) with
 * q6 = zp + round(6 / scale) computed at convert time (activationClamp in requant.ts). Integer-only.
 */
import { assertIntArray, type IntArray } from './requant.ts';

export function reluInt<T extends IntArray>(x: T, zeroPoint: number): T {
  assertIntArray('relu x', x);
  const out = x.slice() as T;
  for (let i = 0; i < out.length; i++) if (out[i] < zeroPoint) out[i] = zeroPoint;
  return out;
}

export function relu6Int<T extends IntArray>(x: T, zeroPoint: number, q6: number): T {
  assertIntArray('relu6 x', x);
  const out = x.slice() as T;
  for (let i = 0; i < out.length; i++) {
    const v = out[i];
    out[i] = v < zeroPoint ? zeroPoint : v > q6 ? q6 : v;
  }
  return out;
}
