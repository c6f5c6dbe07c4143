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
