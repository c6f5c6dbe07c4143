/**
 * The int32 grid of a conv / linear / conv-transpose bias, the one definition that convert (the simulator's int32
 * bias), the QDQ export and the fake-quant model (its bias fake quant, src/quant/quantized-model.ts) all use:
 *   scale[c] = f32(f32(x_scale) * f32(w_scale[c]))          (the accumulator's scale)
 *   q[c]     = clamp(nearbyint(f32(b[c] * f32(1 / scale[c]))), int32)   (always round half to even, as qnnpack)
 *   b_fq[c]  = f32(q[c] * scale[c])
 * i.e. the per-channel fake quant rule (fake-quantize.ts quantizeValue) with zero point 0, the int32 range and
 * half_even rounding, whatever rounding the qconfig picks for weights and activations.
 */
import { quantizeValue } from './fake-quantize.ts';

/** The int32 range (and rounding) of a bias: what the fake quant of a bias clamps to. */
export const BIAS_RANGE = { quantMin: -2147483648, quantMax: 2147483647, rounding: 'half_even' } as const;

/** The accumulator's (and the bias's) scale of channel c: f32(x_scale * w_scale[c]). */
export function biasScale(xScale: number, wScale: number): number {
  return Math.fround(Math.fround(xScale) * Math.fround(wScale));
}

/** Packed qparams [C, 3] = [scale, f32(1 / scale), 0] of the bias grid (the layout the fake-quant kernels read). */
export function biasQParams(xScale: number, wScales: ArrayLike<number>): Float32Array {
  const out = new Float32Array(3 * wScales.length);
  for (let c = 0; c < wScales.length; c++) {
    const s = biasScale(xScale, wScales[c]);
    out[3 * c] = s;
    out[3 * c + 1] = Math.fround(1 / s);
  }
  return out;
}

/**
 * Float bias -> int32 at scale x_scale * w_scale[o] (one weight scale: per tensor), saturated to int32. A value whose
 * f32(b * inv) leaves int64 (|b / scale| >= 2^63, or NaN) becomes -2^31 like every fake quant (PyTorch's x86 kernel).
 */
export function quantizeBias(bias: ArrayLike<number>, xScale: number, wScales: ArrayLike<number>): Int32Array {
  const out = new Int32Array(bias.length);
  for (let o = 0; o < bias.length; o++) {
    const s = biasScale(xScale, wScales.length === 1 ? wScales[0] : wScales[o]);
    const q = quantizeValue(Math.fround(bias[o]), Math.fround(1 / s), 0, BIAS_RANGE.rounding);
    out[o] = Math.min(BIAS_RANGE.quantMax, Math.max(BIAS_RANGE.quantMin, q));
  }
  return out;
}
