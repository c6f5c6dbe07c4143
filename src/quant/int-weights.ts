/**
 * Convert-time arithmetic on weights shared by the integer lowerings of conv and linear (src/ops): the weight
 * scales exactly as the fake-quant model computes them, the weights on their int8 grid, requantization pairs.
 * Float (double) arithmetic, at convert time only.
 */
import { minMax, updateQParams } from '../engine/reference/quant.ts';
import { quantizeValue } from '../qmath/fake-quantize.ts';
import { marchUsesPowerOfTwoScale, type March } from '../qmath/march.ts';
import { EPS_F32 } from '../qmath/qparams.ts';
import type { RoundingMode } from '../qmath/rounding.ts';
import type { RequantParams } from '../sim/model.ts';
import { computeHorizonMultiplierShift } from '../sim/int/requant.ts';

/**
 * Per-output-channel symmetric weight scales exactly as QuantizedModel.weight computes them at every forward:
 * min/max per channel, then updateQParams (first observation, eps floor, power of two on bernoulli).
 */
export function weightScales(w: Float32Array, channels: number, quantMin: number, quantMax: number, march: March): Float32Array {
  const layout = { outer: 1, channels, inner: w.length / channels };
  const [mn, mx] = minMax(w, layout);
  const qp = new Float32Array(3 * channels);
  updateQParams(new Float32Array(2 * channels), mn, mx, qp, {
    averagingConstant: 1, first: true, quantMin, quantMax, eps: EPS_F32, powerOfTwo: marchUsesPowerOfTwoScale(march),
  });
  return Float32Array.from({ length: channels }, (_, c) => qp[3 * c]);
}

/** The weights on their int8 grid, with the fake quant's rule (so q * scale is the fake-quantized weight). */
export function quantizeWeights(w: Float32Array, scales: Float32Array, quantMin: number, quantMax: number, rounding: RoundingMode): Int8Array {
  const C = scales.length;
  const inner = w.length / C;
  const out = new Int8Array(w.length);
  for (let c = 0; c < C; c++) {
    const inv = Math.fround(1 / scales[c]);
    for (let i = c * inner; i < (c + 1) * inner; i++) {
      const q = quantizeValue(w[i], inv, 0, rounding);
      out[i] = q < quantMin ? quantMin : q > quantMax ? quantMax : q;
    }
  }
  return out;
}

export function requantParams(realScales: ArrayLike<number>, march: March, bits: number): RequantParams {
  const n = realScales.length;
  const multiplier = new Int32Array(n), shift = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const ms = computeHorizonMultiplierShift(realScales[i], march, bits);
    multiplier[i] = ms.multiplier;
    shift[i] = ms.shift;
  }
  return { multiplier, shift };
}

