/**
 * The fixed-point requantization's scalar math, shared by convert, the simulator (src/sim/int re-exports it), the QDQ
 * export and the fake-quant model's exact integer forward (src/qmath/requant-exact.ts): the multiplier / shift
 * derivation of 'horizon' mode (docs/fixed-point.md §2a, double at convert time) and the integer-only rounding shifts
 * of its datapath. Every per-element function only holds integers below 2^53 (exact in a double).
 */

/** Horizon BPU architectures; only 'bernoulli' changes the arithmetic here (power-of-two scales). */
export type March = 'bernoulli' | 'bernoulli2' | 'bayes' | 'nash' | (string & {});

const TWO32 = 4294967296;
/** POW2[k] = 2^k for k in 0..64 (exact doubles). */
export const POW2: Float64Array = (() => {
  const p = new Float64Array(65);
  for (let k = 0; k <= 64; k++) p[k] = 2 ** k;
  return p;
})();

/**
 * floor(v / 2^s + 1/2) for an integer v with |v| < 2^53, s in [0, 63]: arithmetic right shift with round half up
 * (add 2^(s-1), then shift). Exact.
 */
export function roundShiftHalfUp(v: number, s: number): number {
  if (s === 0) return v;
  const d = POW2[s];
  const q = Math.floor(v / d); // exact: division by a power of two, then floor = arithmetic shift
  const r = v - q * d; // remainder in [0, 2^s), exact
  return r >= POW2[s - 1] ? q + 1 : q;
}

/**
 * Exact floor((acc * m + 2^(s-1)) / 2^s) for integers |acc| <= 2^31, 0 <= m < 2^31, 0 <= s <= 63.
 * The result is exact whenever |result| < 2^53; beyond that it is still of the right sign and far outside int32,
 * so saturation gives the exact saturated value.
 * Fast path: when |acc * m| < 2^53 the double product is the exact integer product. Otherwise the 62-bit product
 * is formed as hi * 2^32 + lo (lo in [0, 2^32)) from 16-bit halves of m, without BigInt.
 */
export function mulShiftRound(acc: number, m: number, s: number): number {
  const p = acc * m;
  if (p < 9007199254740992 && p > -9007199254740992) return roundShiftHalfUp(p, s);
  // Wide path: P = acc * (mh * 2^16 + ml)
  const ml = m % 65536;
  const mh = (m - ml) / 65536; // < 2^15
  const a = acc * ml; // |a| < 2^47, exact
  const b = acc * mh; // |b| < 2^46, exact
  const bhi = Math.floor(b / 65536);
  const bl = b - bhi * 65536; // [0, 2^16)
  const t = bl * 65536 + a; // |t| < 2^48, exact
  const th = Math.floor(t / TWO32);
  const lo = t - th * TWO32; // [0, 2^32)
  const hi = bhi + th; // P = hi * 2^32 + lo
  if (s === 0) return hi * TWO32 + lo;
  if (s <= 32) {
    const d = POW2[s];
    const lq = Math.floor(lo / d);
    const r = lo - lq * d;
    const q = hi * POW2[32 - s] + lq;
    return r >= POW2[s - 1] ? q + 1 : q;
  }
  const k = s - 32;
  const d = POW2[k];
  const q = Math.floor(hi / d);
  const hm = hi - q * d; // remainder of hi; lo only adds a fraction below 2^32
  return hm >= POW2[k - 1] ? q + 1 : q;
}

// Convert time (float allowed): multiplier / shift derivation

export interface MultiplierShift {
  /** Non-negative integer, < 2^(bits-1) (fits a signed `bits`-wide register). */
  multiplier: number;
  /** Right shift, integer in [0, 63]. */
  shift: number;
}

export const MAX_SHIFT = 63;

/**
 * realScale ~= multiplier * 2^-shift with the multiplier normalised to the top bit of a signed `bits`-wide integer:
 * 2^(bits-2) <= multiplier <= 2^(bits-1) - 1. multiplier = round_half_up(realScale * 2^shift) (exact scaling by a
 * power of two, one rounding); if that rounds up to 2^(bits-1) it is halved and shift decremented.
 * When realScale < 2^(bits-2-63) the shift is capped at 63 and the multiplier is denormalised (possibly 0).
 * realScale >= 2^(bits-1) - 0.5 would need a left shift and is rejected (RangeError). realScale = 0 -> {0, 0}.
 */
export function computeMultiplierShift(realScale: number, bits = 32): MultiplierShift {
  if (!Number.isInteger(bits) || bits < 2 || bits > 32) throw new RangeError(`multiplier bits must be 2..32, got ${bits}`);
  if (!(realScale >= 0) || !Number.isFinite(realScale)) throw new RangeError(`realScale must be finite and >= 0, got ${realScale}`);
  if (realScale === 0) return { multiplier: 0, shift: 0 };
  const top = bits - 2; // exponent of the top magnitude bit
  let e = Math.floor(Math.log2(realScale));
  while (2 ** e > realScale) e--;
  while (2 ** (e + 1) <= realScale) e++;
  let shift = top - e;
  if (shift > MAX_SHIFT) shift = MAX_SHIFT;
  let multiplier = Math.round(realScale * 2 ** shift);
  if (multiplier >= 2 ** (bits - 1)) {
    multiplier /= 2;
    shift -= 1;
  }
  if (shift < 0) throw new RangeError(`realScale ${realScale} too large for a ${bits}-bit multiplier with a right shift`);
  return { multiplier, shift };
}

/**
 * march 'bernoulli': scales are powers of two, so requantization is a pure shift. k = round(-log2(realScale))
 * (exact when realScale is a power of two); k >= 0 -> {1, k}; k < 0 (scale ratio > 1) -> {2^-k, 0} (left shift
 * expressed as a power-of-two multiplier).
 */
export function computeShiftPow2(realScale: number): MultiplierShift {
  if (!(realScale > 0) || !Number.isFinite(realScale)) throw new RangeError(`realScale must be > 0, got ${realScale}`);
  const k = Math.round(-Math.log2(realScale)) + 0; // + 0: no -0
  if (k > MAX_SHIFT) return { multiplier: 0, shift: 0 };
  if (k >= 0) return { multiplier: 1, shift: k };
  if (-k > 30) throw new RangeError(`realScale ${realScale} too large`);
  return { multiplier: 2 ** -k, shift: 0 };
}

export function computeHorizonMultiplierShift(realScale: number, march: March = 'bayes', bits = 32): MultiplierShift {
  return march === 'bernoulli' ? computeShiftPow2(realScale) : computeMultiplierShift(realScale, bits);
}

/** Horizon mode for a single value: exact round-half-up of acc * m / 2^s, then + zp and saturation. */
export function requantizeValueHorizon(acc: number, m: number, s: number, zp: number, lo: number, hi: number): number {
  const v = mulShiftRound(acc, m, s) + zp;
  return v < lo ? lo : v > hi ? hi : v;
}


/**
 * Add / Sub of two quantized values (docs/fixed-point.md §3 add, 'horizon'): one common shift from the larger ratio's
 * `bits`-wide multiplier (default 16), both multipliers at that shift; on 'bernoulli' powers of two.
 */
export function computeAddParamsHorizon(
  aScale: number,
  bScale: number,
  outScale: number,
  opts: { march?: March; bits?: number } = {},
): { mode: 'horizon'; aMultiplier: number; bMultiplier: number; shift: number } {
  const ra = aScale / outScale;
  const rb = bScale / outScale;
  if (opts.march === 'bernoulli') {
    const ka = Math.round(-Math.log2(ra));
    const kb = Math.round(-Math.log2(rb));
    const shift = Math.max(ka, kb, 0);
    if (shift > MAX_SHIFT || shift - Math.min(ka, kb) > 30) throw new RangeError('add: scale ratios out of range');
    return { mode: 'horizon', aMultiplier: 2 ** (shift - ka), bMultiplier: 2 ** (shift - kb), shift };
  }
  const bits = opts.bits ?? 16;
  const { shift } = computeMultiplierShift(Math.max(ra, rb), bits);
  // The larger ratio gets the normalised multiplier (2^(bits-2) <= m < 2^(bits-1)); the smaller one, at the same
  // shift, has fewer significant bits. Half-up rounding of the exact double product (convert time).
  const aMultiplier = Math.round(ra * 2 ** shift);
  const bMultiplier = Math.round(rb * 2 ** shift);
  return { mode: 'horizon', aMultiplier, bMultiplier, shift };
}

