/**
 * Integer elementwise add of two quantized tensors with their own scales / zero points, rescaled to the output
 * scale. Both modes share the datapath
 *     acc = aMultiplier * (a - a_zp) + bMultiplier * (b - b_zp)          (exact integer, |acc| < 2^53)
 *     r   = round(acc / 2^shift)
 *     out = clamp(r + out_zp, lo, hi)   (lo = out_zp for a fused relu)
 * and differ in how the multipliers are derived (convert time) and in the rounding of the shift:
 *  - 'pytorch' = QNNPACK (verified bit-exact): a_os = f32(a_scale / out_scale), b_os likewise,
 *    e = unbiased float32 exponent of max(a_os, b_os), shift = 21 - e, multipliers = lrint(a_os * 2^shift);
 *    rounding to nearest with ties AWAY from zero (qnnpackRoundingShift).
 *  - 'horizon' (ASSUMED): one common shift chosen so that the larger ratio max(a_s, b_s) / out_s gets a
 *    `bits`-wide normalised multiplier (default 16 bits: 2^14 <= m < 2^15), the smaller one uses the same shift
 *    (fewer significant bits); rounding half up (add 2^(shift-1), arithmetic shift). On march 'bernoulli' the
 *    multipliers are powers of two (pure shifts).
 */
import {
  assertIntArray,
  allocInt,
  computeMultiplierShift,
  nearbyint,
  outputBounds,
  qnnpackRoundingShift,
  roundShiftHalfUp,
  MAX_SHIFT,
  type IntArray,
  type March,
  type OutputSpec,
  type RequantMode,
} from './requant.ts';

export interface AddParams {
  mode: RequantMode;
  aMultiplier: number;
  bMultiplier: number;
  shift: number;
}

function float32Exponent(v: number): number {
  let e = Math.floor(Math.log2(v));
  while (2 ** e > v) e--;
  while (2 ** (e + 1) <= v) e++;
  return e;
}

/** Convert time, QNNPACK: the parameters of pytorch_qnnp_add (see header). */
export function computeAddParamsQnnpack(aScale: number, bScale: number, outScale: number): AddParams {
  const f = Math.fround;
  const aOs = f(f(aScale) / f(outScale));
  const bOs = f(f(bScale) / f(outScale));
  const e = float32Exponent(Math.max(aOs, bOs));
  const shift = 21 - e;
  if (shift < 0 || shift > MAX_SHIFT) throw new RangeError(`add: scale ratio out of range (shift ${shift})`);
  // f32(a_os * 2^shift) is exact (power-of-two scaling) and lrint rounds half to even.
  return {
    mode: 'pytorch',
    aMultiplier: nearbyint(f(aOs * 2 ** shift)),
    bMultiplier: nearbyint(f(bOs * 2 ** shift)),
    shift,
  };
}

export { computeAddParamsHorizon } from '../../qmath/requant-int.ts';
import { computeAddParamsHorizon } from '../../qmath/requant-int.ts';

export function computeAddParams(
  mode: RequantMode,
  aScale: number,
  bScale: number,
  outScale: number,
  opts: { march?: March; bits?: number } = {},
): AddParams {
  return mode === 'pytorch'
    ? computeAddParamsQnnpack(aScale, bScale, outScale)
    : computeAddParamsHorizon(aScale, bScale, outScale, opts);
}

/** Datapath: out = clamp(round(ma*(a-azp) + mb*(b-bzp), shift) + out_zp). Integer only. */
export function addInt(
  a: IntArray,
  aZeroPoint: number,
  b: IntArray,
  bZeroPoint: number,
  params: AddParams,
  out: OutputSpec,
): IntArray {
  assertIntArray('add a', a);
  assertIntArray('add b', b);
  if (a.length !== b.length) throw new RangeError('add: a and b differ in length (no broadcasting)');
  const { aMultiplier: ma, bMultiplier: mb, shift } = params;
  for (const v of [ma, mb, shift, aZeroPoint, bZeroPoint]) {
    if (!Number.isInteger(v)) throw new TypeError('add: multipliers, shift and zero points must be integers');
  }
  if (Math.abs(ma) >= 2 ** 31 || Math.abs(mb) >= 2 ** 31 || shift < 0 || shift > MAX_SHIFT) {
    throw new RangeError('add: multiplier / shift out of range');
  }
  const [lo, hi] = outputBounds(out);
  const zp = out.zeroPoint ?? 0;
  const res = allocInt(out.dtype, a.length);
  const round = params.mode === 'pytorch' ? qnnpackRoundingShift : roundShiftHalfUp;
  for (let i = 0; i < a.length; i++) {
    const acc = ma * (a[i] - aZeroPoint) + mb * (b[i] - bZeroPoint); // |acc| < 2^31 * 2^17: exact
    const v = round(acc, shift) + zp;
    res[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return res;
}
