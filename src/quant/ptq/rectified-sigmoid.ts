/**
 * AdaRound's soft rounding (Nagel et al. 2020, "Up or Down? Adaptive Rounding for Post-Training Quantization"):
 *   h(V) = clamp(sigmoid(V) * (zeta - gamma) + gamma, 0, 1)        zeta = 1.1, gamma = -0.1
 *   f_reg(V) = sum(1 - |2 h(V) - 1|^beta)                           pushes every h to 0 or 1
 *   beta: b_range[0] -> b_range[1] linearly after the warm-up share of the steps (no regularizer during warm-up),
 * as in the reference implementations (BRECQ's LinearTempDecay, AIMET). Host arithmetic (double): the rounding
 * variables are one per weight, a few thousand per layer.
 */
export const ZETA = 1.1;
export const GAMMA = -0.1;

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** h(V): the soft rounding offset in [0, 1]. */
export function rectifiedSigmoid(v: number): number {
  const r = sigmoid(v) * (ZETA - GAMMA) + GAMMA;
  return r < 0 ? 0 : r > 1 ? 1 : r;
}

/** dh/dV (0 where the clamp is active). */
export function rectifiedSigmoidGrad(v: number): number {
  const s = sigmoid(v);
  const r = s * (ZETA - GAMMA) + GAMMA;
  return r <= 0 || r >= 1 ? 0 : (ZETA - GAMMA) * s * (1 - s);
}

/** The V whose h(V) is `rest` (in (0, 1)): the rounding variables start at the float weight itself. */
export function inverseRectifiedSigmoid(rest: number): number {
  const r = Math.min(1 - 1e-6, Math.max(1e-6, rest));
  return -Math.log((ZETA - GAMMA) / (r - GAMMA) - 1);
}

/** One term of the regularizer, 1 - |2h - 1|^beta, and its derivative in h. */
export function roundingRegularizer(h: number, beta: number): { value: number; dh: number } {
  const u = 2 * h - 1;
  const a = Math.abs(u);
  const value = 1 - a ** beta;
  const dh = a === 0 ? 0 : -beta * a ** (beta - 1) * Math.sign(u) * 2;
  return { value, dh };
}

/** beta at `step` of `steps`, or null during the warm-up (no regularizer yet). */
export function annealedBeta(step: number, steps: number, warmUp: number, bRange: readonly [number, number]): number | null {
  const start = warmUp * steps;
  if (step < start) return null;
  const t = steps - start <= 0 ? 1 : (step - start) / (steps - start);
  return bRange[1] + (bRange[0] - bRange[1]) * Math.max(0, 1 - t);
}
