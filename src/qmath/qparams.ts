/**
 * Quantization parameters (scale, zero point) from a float range, bit-compatible with PyTorch 1.13
 * `UniformQuantizationObserverBase._calculate_qparams` (float32 tensor arithmetic, see
 * shared/conformance/README.md), plus dtypes and qschemes.
 *
 * Horizon semantics are the symmetric qschemes with a signed dtype: zero point 0,
 * scale = max(-min, max) / ((qmax - qmin) / 2), floored at eps (so int8 divides by 127.5, not 127).
 */
import { nearbyint } from './rounding.ts';

export type QDtype = 'qint4' | 'quint4' | 'qint8' | 'quint8' | 'qint16' | 'quint16' | 'qint32';
export type QScheme = 'per_tensor_symmetric' | 'per_tensor_affine' | 'per_channel_symmetric' | 'per_channel_affine';

export const QSCHEMES: readonly QScheme[] = [
  'per_tensor_symmetric',
  'per_tensor_affine',
  'per_channel_symmetric',
  'per_channel_affine',
];

/** float32 machine epsilon, torch.finfo(torch.float32).eps: the floor of every scale. */
export const EPS_F32 = 1.1920928955078125e-7;

export interface QRange {
  quantMin: number;
  quantMax: number;
}

const DTYPE_RANGES: Record<QDtype, QRange> = {
  qint4: { quantMin: -8, quantMax: 7 },
  quint4: { quantMin: 0, quantMax: 15 },
  qint8: { quantMin: -128, quantMax: 127 },
  quint8: { quantMin: 0, quantMax: 255 },
  qint16: { quantMin: -32768, quantMax: 32767 },
  quint16: { quantMin: 0, quantMax: 65535 },
  qint32: { quantMin: -2147483648, quantMax: 2147483647 },
};

export function dtypeRange(dtype: QDtype): QRange {
  const r = DTYPE_RANGES[dtype];
  if (!r) throw new Error(`unknown quantized dtype ${String(dtype)}`);
  return { ...r };
}

export function isSignedDtype(dtype: QDtype): boolean {
  return dtype.startsWith('qint');
}

export function isSymmetric(q: QScheme): boolean {
  return q === 'per_tensor_symmetric' || q === 'per_channel_symmetric';
}

export function isPerChannel(q: QScheme): boolean {
  return q === 'per_channel_symmetric' || q === 'per_channel_affine';
}

export interface QParamsConfig {
  /** Default 'qint8'. */
  dtype?: QDtype;
  /** Default 'per_tensor_symmetric' (Horizon). */
  qscheme?: QScheme;
  /** Custom range; both or neither. Defaults to the dtype's range. */
  quantMin?: number;
  quantMax?: number;
  /** PyTorch reduce_range: one bit less (qint8 -> -64..63, quint8 -> 0..127). Ignored with a custom range. */
  reduceRange?: boolean;
  /** Floor of the scale; default float32 eps. */
  eps?: number;
}

export interface ResolvedQConfig {
  dtype: QDtype;
  qscheme: QScheme;
  quantMin: number;
  quantMax: number;
  /** PyTorch `has_customized_qrange`: a custom range that differs from the dtype's. */
  customRange: boolean;
  eps: number;
}

export function resolveQConfig(cfg: QParamsConfig = {}): ResolvedQConfig {
  const dtype = cfg.dtype ?? 'qint8';
  const qscheme = cfg.qscheme ?? 'per_tensor_symmetric';
  const base = dtypeRange(dtype);
  let { quantMin, quantMax } = base;
  let customRange = false;
  if (cfg.quantMin !== undefined || cfg.quantMax !== undefined) {
    if (cfg.quantMin === undefined || cfg.quantMax === undefined) throw new Error('quantMin and quantMax go together');
    if (!Number.isInteger(cfg.quantMin) || !Number.isInteger(cfg.quantMax) || cfg.quantMin >= cfg.quantMax) {
      throw new Error(`bad quant range [${cfg.quantMin}, ${cfg.quantMax}]`);
    }
    quantMin = cfg.quantMin;
    quantMax = cfg.quantMax;
    customRange = quantMin !== base.quantMin || quantMax !== base.quantMax;
  } else if (cfg.reduceRange) {
    // torch calculate_qmin_qmax: reduce_range halves the range of 8-bit dtypes
    if (isSignedDtype(dtype)) {
      quantMin = Math.trunc(quantMin / 2);
      quantMax = Math.trunc(quantMax / 2);
    } else {
      quantMax = Math.trunc(quantMax / 2);
    }
  }
  return { dtype, qscheme, quantMin, quantMax, customRange, eps: Math.fround(cfg.eps ?? EPS_F32) };
}

export interface QParams {
  scale: Float32Array;
  zeroPoint: Int32Array;
}

const f32 = Math.fround;

function toArray(v: ArrayLike<number> | number): ArrayLike<number> {
  return typeof v === 'number' ? [v] : v;
}

/**
 * torch 1.13 `_calculate_qparams(min_val, max_val)` in float32:
 * ```
 * min_neg = min(min_val, 0); max_pos = max(max_val, 0)
 * symmetric: scale = max(f32(max(-min_neg, max_pos) / ((qmax - qmin) / 2)), eps); zp = 0
 *            (quint8: 128, or (qmin + qmax) >> 1 with a custom range)
 * affine:    scale = max(f32(f32(max_pos - min_neg) / (qmax - qmin)), eps)
 *            zp = clamp(qmin - round_half_even(f32(min_neg / scale)), qmin, qmax)
 * ```
 * Uninitialised observers (min = +inf and max = -inf) give scale 1, zero point 0 like PyTorch.
 * `minVal`/`maxVal` are scalars (per tensor) or arrays (one per channel).
 */
export function calculateQParams(
  minVal: ArrayLike<number> | number,
  maxVal: ArrayLike<number> | number,
  cfg: QParamsConfig | ResolvedQConfig = {},
): QParams {
  const c = 'customRange' in cfg ? cfg : resolveQConfig(cfg);
  const mins = toArray(minVal);
  const maxs = toArray(maxVal);
  if (mins.length !== maxs.length) throw new Error('min/max length mismatch');
  const n = mins.length;
  const scale = new Float32Array(n);
  const zeroPoint = new Int32Array(n);
  const { quantMin: qmin, quantMax: qmax, eps } = c;
  const sym = isSymmetric(c.qscheme);
  const halfRange = (qmax - qmin) / 2; // exact in float32 for every supported range
  for (let i = 0; i < n; i++) {
    const mn = f32(mins[i]);
    const mx = f32(maxs[i]);
    if (mn === Infinity && mx === -Infinity) {
      scale[i] = 1;
      zeroPoint[i] = 0;
      continue;
    }
    if (!(mn <= mx)) throw new Error(`min (${mn}) must be <= max (${mx})`);
    const minNeg = Math.min(mn, 0);
    const maxPos = Math.max(mx, 0);
    if (sym) {
      const amax = Math.max(-minNeg, maxPos);
      scale[i] = Math.max(f32(amax / halfRange), eps);
      zeroPoint[i] = c.dtype === 'quint8' ? (c.customRange ? Math.floor((qmin + qmax) / 2) : 128) : 0;
    } else {
      const s = Math.max(f32(f32(maxPos - minNeg) / (qmax - qmin)), eps);
      scale[i] = s;
      const zp = qmin - nearbyint(f32(minNeg / s));
      zeroPoint[i] = Math.min(qmax, Math.max(qmin, zp));
    }
  }
  return { scale, zeroPoint };
}
