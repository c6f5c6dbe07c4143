/**
 * Horizon "march" (BPU architecture) handling. On `bernoulli` the hardware only shifts, so every scale must be a
 * power of two: `scale -> 1 / 2^clamp(floor(-log2(scale)), 1, 14)` (rounded *up* to a power of two, so the range
 * never shrinks, and limited to [2^-14, 2^-1]). Later marches take arbitrary float32 scales.
 */
export type March = 'bernoulli' | 'bernoulli2' | 'bayes' | 'bayes-e' | 'nash-e' | 'nash-m';

export const MARCHES: readonly March[] = ['bernoulli', 'bernoulli2', 'bayes', 'bayes-e', 'nash-e', 'nash-m'];

export function isMarch(s: string): s is March {
  return (MARCHES as readonly string[]).includes(s);
}

/** True when the march requires power-of-two scales. */
export function marchUsesPowerOfTwoScale(march: March): boolean {
  return march === 'bernoulli';
}

export const BERNOULLI_MIN_SHIFT = 1;
export const BERNOULLI_MAX_SHIFT = 14;

/**
 * floor(-log2(scale)) computed exactly (Math.log2 may be off by an ulp near powers of two): the integer n with
 * 2^-(n+1) < scale <= 2^-n.
 */
export function floorNegLog2(scale: number): number {
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`scale must be positive and finite, got ${scale}`);
  let n = Math.floor(-Math.log2(scale)) + 0; // + 0: no -0 for scale 1
  while (2 ** -n < scale) n -= 1;
  while (2 ** -(n + 1) >= scale) n += 1;
  return n;
}

/** Power-of-two scale of `bernoulli`: 1 / 2^clamp(floor(-log2(scale)), 1, 14). */
export function powerOfTwoScale(scale: number): number {
  const n = Math.min(BERNOULLI_MAX_SHIFT, Math.max(BERNOULLI_MIN_SHIFT, floorNegLog2(scale)));
  return 1 / 2 ** n;
}

/** The shift (number of fractional bits) of a bernoulli scale. */
export function bernoulliShift(scale: number): number {
  return Math.min(BERNOULLI_MAX_SHIFT, Math.max(BERNOULLI_MIN_SHIFT, floorNegLog2(scale)));
}

/** Applies the march's scale constraint in place (no-op except on `bernoulli`) and returns the array. */
export function applyMarchToScales(scales: Float32Array, march: March | undefined): Float32Array {
  if (march === undefined || !marchUsesPowerOfTwoScale(march)) return scales;
  for (let i = 0; i < scales.length; i++) scales[i] = powerOfTwoScale(scales[i]);
  return scales;
}
