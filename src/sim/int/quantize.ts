/**
 * Boundary of the integer datapath.
 *  - QuantStub: float -> int. Default rounding 'pytorch' = the verified PyTorch rule
 *        q = clamp(nearbyint(f32(x * f32(1 / f32(scale)))) + zp, qmin, qmax)
 *    (multiplication by the float32 reciprocal, half to even, zero point added after rounding). Other roundings
 *    (assumptions, for what-if runs): 'half_even' / 'half_up' / 'half_away' of the double x / scale.
 *  - DeQuantStub: int -> float, x = f32((q - zp) * scale).
 *  - int32 high-precision outputs (conv / linear with out dtype 'int32') stay int32 with per-channel scale
 *    x_scale * w_scale[o]; `dequantizeInt32` turns them into float32 at the very end.
 * Float appears only here, outside the datapath.
 */
import { biasScale } from '../../qmath/bias.ts';
import { allocInt, assertIntArray, DTYPE_RANGE, nearbyint, type IntArray, type QDType } from './requant.ts';

export type QuantRounding = 'pytorch' | 'half_even' | 'half_up' | 'half_away';

function roundWith(mode: QuantRounding, x: number, scale: number, inv: number): number {
  switch (mode) {
    case 'pytorch': return nearbyint(Math.fround(Math.fround(x) * inv));
    case 'half_even': return nearbyint(x / scale);
    case 'half_up': return Math.floor(x / scale + 0.5);
    case 'half_away': {
      const v = x / scale;
      return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
    }
  }
}

export interface QuantizeOptions {
  rounding?: QuantRounding;
  /** Override the dtype's range (e.g. reduce_range uint7 0..127). */
  qmin?: number;
  qmax?: number;
}

/** Per-tensor quantization at the QuantStub. */
export function quantizeTensor(
  x: ArrayLike<number>,
  scale: number,
  zeroPoint: number,
  dtype: QDType,
  opts: QuantizeOptions = {},
): IntArray {
  return quantizePerChannel(x, [scale], [zeroPoint], 1, dtype, opts);
}

/**
 * Per-channel quantization (weights at convert time): channel c = floor(i / inner) % scales.length,
 * e.g. OIHW weights with axis 0: inner = I*KH*KW.
 */
export function quantizePerChannel(
  x: ArrayLike<number>,
  scales: ArrayLike<number>,
  zeroPoints: ArrayLike<number>,
  inner: number,
  dtype: QDType,
  opts: QuantizeOptions = {},
): IntArray {
  const mode = opts.rounding ?? 'pytorch';
  const qmin = opts.qmin ?? DTYPE_RANGE[dtype][0];
  const qmax = opts.qmax ?? DTYPE_RANGE[dtype][1];
  const C = scales.length;
  const out = allocInt(dtype, x.length);
  for (let i = 0; i < x.length; i++) {
    const c = Math.floor(i / inner) % C;
    const s = Math.fround(scales[c]);
    const inv = Math.fround(1 / s);
    const v = roundWith(mode, x[i], s, inv) + zeroPoints[c];
    out[i] = v < qmin ? qmin : v > qmax ? qmax : v;
  }
  return out;
}

/** DeQuantStub: x = f32((q - zp) * scale). */
export function dequantizeTensor(q: IntArray, scale: number, zeroPoint: number): Float32Array {
  assertIntArray('dequantize q', q);
  const s = Math.fround(scale);
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = (q[i] - zeroPoint) * s;
  return out;
}

/** Scales of an int32 conv/linear output: f32(x_scale * w_scale[o]). */
export function int32OutputScales(xScale: number, wScales: ArrayLike<number>): Float32Array {
  const out = new Float32Array(wScales.length);
  for (let o = 0; o < out.length; o++) out[o] = biasScale(xScale, wScales[o]);
  return out;
}

/** Dequantize an int32 high-precision output: f32(acc * scale[c]), c = floor(i / inner) % scales.length. */
export function dequantizeInt32(acc: Int32Array, scales: ArrayLike<number>, inner = 1): Float32Array {
  assertIntArray('dequantize acc', acc);
  const out = new Float32Array(acc.length);
  const C = scales.length;
  for (let i = 0; i < acc.length; i++) out[i] = acc[i] * Math.fround(scales[Math.floor(i / inner) % C]);
  return out;
}
