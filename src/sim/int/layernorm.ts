/**
 * Integer layer norm over the last axis (docs/fixed-point.md "layer norm"), as the normalisation unit of a
 * nash-generation BPU would run it: exact integer row sums, a reciprocal square root from a normalised-mantissa
 * table with linear interpolation and an exponent shift, then a per-feature gamma multiplier and beta offset with one
 * rounding shift to the output scale. Rows of `d` values of an int8 / int16 input `x` (scale s_x):
 *
 *   S1 = Σ x,  S2 = Σ x²,  V = d·S2 − S1²  (= d² · variance, ≥ 0),  c_i = d·x_i − S1  (= d · (x_i − mean))
 *   W  = V · 2^f + Ef                        Ef = round(eps · d² / s_x² · 2^f)   (eps in the same units, f even)
 *   r, e = rsqrt(W):  r ≈ 2^24 / sqrt(W / 4^e)                                    (the table below)
 *   t_i = round_half_up(c_i · r / 2^(e − f/2))  ≈ x̂_i · 2^24                       (V = 0: t_i = 0)
 *   y_ij = clamp(round_half_up((t_i · G_j + B_j) / 2^Sg), lo, hi)
 *          G_j = round(gamma_j / s_out · 2^(Sg − 24)),  B_j = round(beta_j / s_out · 2^Sg)
 *
 * Every value is an integer below 2^53 in magnitude (bounds in the docs, checked at convert: d ≤ 2896, |G| < 2^22,
 * |B| < 2^51), so the double arithmetic here is exact integer arithmetic, as a 64-bit datapath computes it.
 */
import { allocInt, type IntArray, type QDType } from './requant.ts';

/** The table: 2^SEG_BITS segments per unit of the mantissa u ∈ [1, 4), values with RSQRT_BITS fraction bits. */
export const RSQRT_SEG_BITS = 10;
/** u as a fixed-point number U ∈ [2^MANT_BITS, 2^(MANT_BITS+2)): the bits that pick a segment and interpolate. */
export const RSQRT_MANT_BITS = 22;
export const RSQRT_BITS = 24;
/** x̂ = t / 2^XHAT_BITS (the same as RSQRT_BITS: the shift from c·r to t is then e − f/2). */
export const XHAT_BITS = 24;
/** The largest row: int16 sums d² · 2^30 and products c · r ≤ d · 2^40 below 2^53, |t| < sqrt(d) · 2^24 < 2^31. */
export const LAYERNORM_MAX_D = 2896;
/** |G_j| < 2^GAMMA_BITS and |B_j| < 2^BETA_BITS keep |t · G + B| below 2^53. */
export const GAMMA_BITS = 22;
export const BETA_BITS = 51;

const FRAC = RSQRT_MANT_BITS - RSQRT_SEG_BITS;

/** knots[k] = round(2^24 / sqrt(1 + k / 2^10)), k = 0 … 3·2^10: the reciprocal square root over u ∈ [1, 4]. */
export function rsqrtTable(): Int32Array {
  const n = 3 * 2 ** RSQRT_SEG_BITS + 1;
  return Int32Array.from({ length: n }, (_, k) => Math.round(2 ** RSQRT_BITS / Math.sqrt(1 + k / 2 ** RSQRT_SEG_BITS)));
}

/** floor(log2 w) of an integer 1 ≤ w < 2^53, from its two 32-bit words (as the hardware's leading-zero count). */
function bitLength(w: number): number {
  const hi = Math.floor(w / 4294967296);
  return hi > 0 ? 63 - Math.clz32(hi) : 31 - Math.clz32(w >>> 0);
}

/**
 * The reciprocal square root of an integer 1 ≤ W < 2^53: W = u · 4^e with u ∈ [1, 4), U = floor(u · 2^22),
 * segment k = U / 2^12 − 2^10, fraction φ = U mod 2^12, r = T[k] + round_half_up((T[k+1] − T[k]) · φ / 2^12).
 * 1 / sqrt(W) ≈ r · 2^−(24 + e).
 */
export function rsqrtFixed(W: number, table: Int32Array): { r: number; e: number } {
  const e = bitLength(W) >> 1;
  const sh = 2 * e - RSQRT_MANT_BITS;
  const U = sh >= 0 ? Math.floor(W / 2 ** sh) : W * 2 ** -sh;
  const k = Math.floor(U / 2 ** FRAC) - 2 ** RSQRT_SEG_BITS;
  const phi = U % 2 ** FRAC;
  const a = table[k];
  return { r: a + Math.floor(((table[k + 1] - a) * phi + 2 ** (FRAC - 1)) / 2 ** FRAC), e };
}

export interface LayerNormParams {
  /** The reciprocal square root table (rsqrtTable()). */
  rsqrtTable: Int32Array;
  /** f: the sums' extra fraction bits (even), so that eps keeps its precision. */
  preShift: number;
  /** Ef = round(eps · d² / s_x² · 2^f). */
  epsInt: number;
  /** G_j, one per feature. */
  gamma: Int32Array;
  /** B_j, one per feature (integers below 2^51). */
  beta: number[];
  /** Sg. */
  outShift: number;
}

/** Per row: S1 and the multiplier r with its shift (r = 0 for a constant row, whose centred values are all 0). */
export function layerNormRowStats(x: IntArray, at: number, d: number, p: Pick<LayerNormParams, 'rsqrtTable' | 'preShift' | 'epsInt'>): { s1: number; r: number; shift: number } {
  let s1 = 0, s2 = 0;
  for (let i = 0; i < d; i++) {
    const v = x[at + i];
    s1 += v;
    s2 += v * v;
  }
  const V = d * s2 - s1 * s1;
  if (V === 0) return { s1, r: 0, shift: 0 };
  const W = V * 2 ** p.preShift + p.epsInt;
  // convert bounds W for every input of the dtype; a model file from elsewhere could break it
  if (!(W < 2 ** 53)) throw new Error(`layernorm: variance sum ${W} leaves the 53-bit exact range`);
  const { r, e } = rsqrtFixed(W, p.rsqrtTable);
  // V ≥ 1 makes W ≥ 2^f, so e ≥ f/2
  return { s1, r, shift: RSQRT_BITS + e - p.preShift / 2 - XHAT_BITS };
}

/** Layer norm rows of length d (the last axis) in integers; see the module comment. */
export function layerNormInt(x: IntArray, d: number, p: LayerNormParams, dtype: QDType, lo: number, hi: number): IntArray {
  if (p.gamma.length !== d || p.beta.length !== d) throw new Error(`layernorm: ${p.gamma.length} / ${p.beta.length} gamma / beta values for rows of ${d}`);
  if (x.length % d) throw new Error(`layernorm: ${x.length} values are not rows of ${d}`);
  const out = allocInt(dtype, x.length);
  const sgDen = 2 ** p.outShift, sgHalf = p.outShift ? sgDen / 2 : 0;
  for (let at = 0; at < x.length; at += d) {
    const { s1, r, shift } = layerNormRowStats(x, at, d, p);
    const den = 2 ** shift, half = shift ? den / 2 : 0;
    for (let j = 0; j < d; j++) {
      const c = d * x[at + j] - s1;
      const t = Math.floor((c * r + half) / den);
      const y = Math.floor((t * p.gamma[j] + p.beta[j] + sgHalf) / sgDen);
      out[at + j] = y < lo ? lo : y > hi ? hi : y;
    }
  }
  return out;
}
