/**
 * Integer tensors on the GPU for the fixed-point simulator. GpuContext stores f32 GpuTensors; integer data
 * travels as the same 32-bit words: `uploadBits` writes an Int32Array's bytes through a Float32Array view over
 * the same memory and `readBits` reinterprets the bytes read back. Neither step converts a value, so every bit
 * pattern survives (NaN payloads included; tests/sim-gpu-requant.test.ts checks this), and the WGSL kernels
 * declare the buffers as array<i32> / array<u32>.
 *
 * Activations (int8 / uint8 / int16) are widened to i32 on upload and narrowed back on read: the kernels
 * already saturate into the dtype's range, so the typed-array conversion never wraps.
 */
import type { GpuContext, GpuTensor } from '../../engine/webgpu/gpu-context.ts';
import { allocInt, type IntArray, type QDType } from '../int/requant.ts';

/** An integer tensor resident on the GPU: one i32 word per element, values within `dtype`'s range. */
export interface GpuIntTensor {
  readonly t: GpuTensor;
  readonly dtype: QDType;
  readonly shape: readonly number[];
}

export function dtypeOf(a: IntArray): QDType {
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint8Array) return 'uint8';
  if (a instanceof Int16Array) return 'int16';
  return 'int32';
}

/** Uploads 32-bit words exactly (Int32Array or Uint32Array). */
export function uploadBits(ctx: GpuContext, data: Int32Array | Uint32Array, shape: readonly number[]): GpuTensor {
  return ctx.upload(new Float32Array(data.buffer, data.byteOffset, data.length), shape);
}

/** Reads 32-bit words back exactly. */
export async function readBits(ctx: GpuContext, t: GpuTensor): Promise<Int32Array> {
  const f = await ctx.read(t);
  return new Int32Array(f.buffer, f.byteOffset, f.length);
}

/** Widens any integer typed array to i32 words and uploads it. */
export function uploadInt(ctx: GpuContext, a: IntArray, shape: readonly number[], dtype: QDType = dtypeOf(a)): GpuIntTensor {
  const words = a instanceof Int32Array ? a : Int32Array.from(a);
  return { t: uploadBits(ctx, words, shape), dtype, shape: [...shape] };
}

/** Reads an integer tensor back as its dtype's typed array. */
export async function readInt(ctx: GpuContext, x: GpuIntTensor): Promise<IntArray> {
  const words = await readBits(ctx, x.t);
  if (x.dtype === 'int32') return words;
  const out = allocInt(x.dtype, words.length);
  out.set(words);
  return out;
}

export function releaseInt(ctx: GpuContext, x: GpuIntTensor): void {
  ctx.release(x.t);
}
