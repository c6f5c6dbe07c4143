/**
 * Rounding modes used by quantization.
 *
 * - `half_even` (`nearbyint`): round half to even, what PyTorch's CPU fake-quant/quantize kernels use
 *   (`std::nearbyint` in the default FP mode, `np.rint`).
 * - `bpu_round`: `floor(x + 0.5)` (round half up, towards +inf), the rounding of Horizon's BPU.
 */
export type RoundingMode = 'half_even' | 'bpu_round';

export const ROUNDING_MODES: readonly RoundingMode[] = ['half_even', 'bpu_round'];

/** 2^52: from here on every double is an integer. */
const TWO_POW_52 = 4503599627370496;

/**
 * Round half to even on a double (exact for every input: no `x + 0.5` overflow or double rounding).
 * NaN and ±Infinity are returned unchanged; the sign of zero is kept (nearbyint(-0.4) = -0).
 */
export function nearbyint(x: number): number {
  if (!(Math.abs(x) < TWO_POW_52)) return x; // NaN, ±Inf, or already an integer
  // Math.round rounds ties towards +Infinity and is exact (spec'd on the mathematical value).
  let r = Math.round(x);
  // r - x is exact here (|r - x| <= 0.5 and both are within 2^52); a tie gives exactly 0.5.
  if (r - x === 0.5 && r % 2 !== 0) r -= 1;
  return r;
}

/** Horizon BPU rounding: floor(x + 0.5), evaluated in double precision. */
export function bpuRound(x: number): number {
  return Math.floor(x + 0.5);
}

/**
 * `bpu_round` as a float32 kernel evaluates it: floor(f32(x + 0.5)). Differs from {@link bpuRound} only where the
 * float32 addition rounds, e.g. x = 0.49999997 (f32(x + 0.5) = 1, so the result is 1, not 0).
 */
export function bpuRoundF32(x: number): number {
  return Math.floor(Math.fround(x + 0.5));
}

/** Round `x` with the given mode; `float32` selects the float32 evaluation of `bpu_round`. */
export function roundWith(mode: RoundingMode, x: number, float32 = false): number {
  if (mode === 'half_even') return nearbyint(x);
  return float32 ? bpuRoundF32(x) : bpuRound(x);
}
