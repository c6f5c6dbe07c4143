/**
 * Shared helpers of the reference implementations. Every function is generic in the float type:
 * outputs are allocated with the constructor of the (first) input, so the same code runs in
 * float64 (finite-difference tests) and float32 (oracle of the WebGPU kernels, CPU backend).
 * Accumulations are done in JS numbers (float64) or Float64Array scratch buffers.
 */
import type { Shape } from '../backend.ts';

export type FloatArray = Float32Array | Float64Array;
export type FloatArrayCtor = Float32ArrayConstructor | Float64ArrayConstructor;

/** A new zero-filled array of `n` elements of the same float type as `like`. */
export function allocLike(like: FloatArray, n: number): FloatArray {
  return new (like.constructor as FloatArrayCtor)(n);
}

/** [N, C, H, W] of a rank-4 shape, or [N, C, 1, 1] of a rank-2 one ([N, C] features). */
export function nchw(shape: Shape): [number, number, number, number] {
  if (shape.length === 4) return [shape[0], shape[1], shape[2], shape[3]];
  if (shape.length === 2) return [shape[0], shape[1], 1, 1];
  throw new Error(`expected an [N, C, H, W] or [N, C] shape, got [${shape.join(', ')}]`);
}

export function checkSize(name: string, a: ArrayLike<number>, n: number): void {
  if (a.length !== n) throw new Error(`${name}: expected ${n} elements, got ${a.length}`);
}
