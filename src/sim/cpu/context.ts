/**
 * What a layer kind's CPU run gets (INT_LAYERS[kind].cpu, src/sim/layers.ts): the model, the integer domain of the
 * value the layer produces and the batch size. Inputs arrive as integer tensors, checked by execLayer.
 */
import type { IntLayer, IntLayerOp, IntModel, RequantParams, ValueInfo } from '../model.ts';
import { requantizeHorizon, type IntArray } from '../int/requant.ts';
import { wasmGemm } from '../wasm-gemm.ts';
import type { IntTensor } from '../tensor.ts';

export interface CpuRunCtx {
  model: IntModel;
  /** The integer domain of this layer's output value. */
  info: ValueInfo;
  /** Batch size (the inputs' first dimension). */
  N: number;
}

/** The layer type of kind K (conv2d and linear share one union member, so a plain Extract would give never). */
export type LayerOf<K extends IntLayerOp> = IntLayer extends infer L ? (L extends { op: infer O } ? ([K & O] extends [never] ? never : L & { op: K & O }) : never) : never;

/** A layer kind's CPU run: integer inputs (full shapes) to the integer output. */
export type CpuRun<K extends IntLayerOp> = (l: LayerOf<K>, ins: IntTensor[], c: CpuRunCtx) => IntTensor;

/** Horizon requantization of int32 values (per channel: channel = floor(i / inner) % channels), SIMD where available. */
export function requantTo(acc: Int32Array, rq: RequantParams, dtype: ValueInfo['dtype'], lo: number, hi: number, channels: number, inner: number, zp = 0): IntArray {
  const simd = dtype === 'int8' || dtype === 'int16' ? wasmGemm() : null;
  if (simd) return simd.requant(acc, rq.multiplier, rq.shift, dtype as 'int8' | 'int16', zp, lo, hi, channels, inner);
  return requantizeHorizon(acc, rq.multiplier, rq.shift, { dtype, zeroPoint: zp, clampMin: lo, clampMax: hi }, { channels, inner });
}

/** The int32 view of an integer tensor's values (a copy unless it is int32 already). */
export const asInt32 = (a: IntArray): Int32Array => (a instanceof Int32Array ? a : Int32Array.from(a));

/** The largest magnitude a value of an integer array can hold (Infinity for int32). */
export const maxAbsOf = (a: IntArray): number => (a instanceof Int8Array ? 128 : a instanceof Uint8Array ? 255 : a instanceof Int16Array ? 32768 : Infinity);

/**
 * Horizon requantization of values whose product with the multiplier is an exact double (|v·m| < 2^53, checked by
 * the caller): clamp(round_half_up(v·m / 2^s) + zp). The same integers as requantizeValueHorizon (mulShiftRound on
 * its exact path): q = floor(v·m / 2^s) is exact (a power-of-two scaling of an exact integer), and the remainder
 * decides the rounding. Writes out[i] for i in [from, to) from src[i] · g (g: a per-block factor, 1 for none).
 */
export function requantExactRange(out: IntArray, src: IntArray, from: number, to: number, g: number, m: number, s: number, zp: number, lo: number, hi: number): void {
  const d = 2 ** s, inv = 1 / d, half = s === 0 ? 1 : d / 2, gm = g * m;
  for (let i = from; i < to; i++) {
    const v = src[i] * gm;
    const q = Math.floor(v * inv);
    const r = (v - q * d >= half ? q + 1 : q) + zp;
    out[i] = r < lo ? lo : r > hi ? hi : r;
  }
}

/** 2^53: below it every integer product is exact in a double. */
export const EXACT = 9007199254740992;
