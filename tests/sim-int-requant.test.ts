/**
 * Requantization of the fixed-point simulator (src/sim/int/requant.ts). Expected integers come from the documented
 * formulas evaluated with BigInt / exact dyadic rationals, never from the code under test.
 */
import { describe, expect, it } from 'vitest';
import {
  activationClamp,
  computeMultiplierShift,
  computeShiftPow2,
  horizonRequantSpec,
  mulShiftRound,
  nearbyint,
  pytorchMultiplier,
  qnnpackRoundingShift,
  quantizeBias,
  requantize,
  requantizeHorizon,
  requantizePytorch,
  roundShiftHalfUp,
} from '../src/sim/int/requant.ts';

// ---------------------------------------------------------------------------------------------------------------
// Exact references
// ---------------------------------------------------------------------------------------------------------------

/** floor(a / b) for BigInt, b > 0. */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/** Horizon: floor((acc*m + 2^(s-1)) / 2^s) = round-half-up of the exact rational acc*m/2^s. */
function refHorizon(acc: number, m: number, s: number): bigint {
  const p = BigInt(acc) * BigInt(m);
  if (s === 0) return p;
  return floorDiv(p + (1n << BigInt(s - 1)), 1n << BigInt(s));
}

function clampBig(v: bigint, lo: number, hi: number): number {
  return v < BigInt(lo) ? lo : v > BigInt(hi) ? hi : Number(v);
}

/** A finite double as N * 2^E (N a BigInt integer). */
function dyadic(x: number): { n: bigint; e: number } {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  const hi = dv.getUint32(0);
  const lo = dv.getUint32(4);
  const sign = hi >>> 31 ? -1n : 1n;
  const exp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (exp === 0) return { n: sign * mant, e: -1074 };
  mant |= 1n << 52n;
  return { n: sign * mant, e: exp - 1075 };
}

/** Round |n| to `bits` significant bits, half to even (n >= 0): returns the new n and the added exponent. */
function roundSig(n: bigint, bits: number): { n: bigint; de: number } {
  const len = n.toString(2).length;
  if (len <= bits) return { n, de: 0 };
  const k = BigInt(len - bits);
  return { n: roundShiftEven(n, k), de: Number(k) };
}

/** n / 2^k rounded half to even (n any sign). */
function roundShiftEven(n: bigint, k: bigint): bigint {
  if (k <= 0n) return n << -k;
  const d = 1n << k;
  const q = floorDiv(n, d);
  const r = n - q * d;
  const half = d >> 1n;
  if (r > half || (r === half && q % 2n !== 0n)) return q + 1n;
  return q;
}

/** Exact value of nearbyint(f32(f32(acc) * M)) with M a float32, computed with BigInt (no Math.fround). */
function refPytorch(acc: number, M: number): number {
  const a = dyadic(acc); // |acc| < 2^31: round to float32 (24 bits)
  const sa = a.n < 0n ? -1n : 1n;
  const ra = roundSig(a.n * sa, 24);
  const m = dyadic(M);
  const sm = m.n < 0n ? -1n : 1n;
  let prod = ra.n * m.n * sm; // >= 0
  let e = a.e + ra.de + m.e;
  const rp = roundSig(prod, 24); // float32 product (normal range here)
  prod = rp.n;
  e += rp.de;
  const v = roundShiftEven(prod, BigInt(-e)); // to integer, half to even
  return Number(v * sa * sm);
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------------------------

describe('horizon requant: rounding of the shift', () => {
  it('exact ties round half up (positive and negative)', () => {
    // acc * m / 2^s = ±1.5, ±2.5, ±0.5, ±38.5
    const cases: Array<[number, number, number, number]> = [
      [3, 1, 1, 2], // 1.5 -> 2
      [-3, 1, 1, -1], // -1.5 -> -1
      [5, 1, 1, 3], // 2.5 -> 3
      [-5, 1, 1, -2], // -2.5 -> -2
      [1, 1, 1, 1], // 0.5 -> 1
      [-1, 1, 1, 0], // -0.5 -> 0
      [77, 1, 1, 39], // 38.5 -> 39
      [-77, 1, 1, -38], // -38.5 -> -38
      [3 * 2 ** 20, 3, 22, 2], // 9 * 2^20 / 2^22 = 2.25 -> 2
      [-(2 ** 30), 3, 31, -1], // -1.5 -> -1
      [2 ** 30, 3, 31, 2], // 1.5 -> 2
    ];
    for (const [acc, m, s, want] of cases) {
      expect(Number(refHorizon(acc, m, s))).toBe(want);
      expect(mulShiftRound(acc, m, s)).toBe(want);
      expect(Array.from(requantizeHorizon(Int32Array.of(acc), m, s, { dtype: 'int32' }))).toEqual([want]);
    }
  });

  it('just below / above a tie', () => {
    expect(roundShiftHalfUp(7, 2)).toBe(2); // 1.75
    expect(roundShiftHalfUp(5, 2)).toBe(1); // 1.25
    expect(roundShiftHalfUp(-5, 2)).toBe(-1); // -1.25
    expect(roundShiftHalfUp(-7, 2)).toBe(-2); // -1.75
    expect(roundShiftHalfUp(-6, 2)).toBe(-1); // -1.5 tie -> up
  });

  it('saturates to int8 / uint8 / int16 after adding the zero point', () => {
    const acc = Int32Array.of(-1_000_000, -300, -129, 127, 128, 300, 1_000_000, 2147483647, -2147483648);
    // m = 2^30, s = 30: identity
    const id = { m: 2 ** 30, s: 30 };
    expect(Array.from(requantizeHorizon(acc, id.m, id.s, { dtype: 'int8' }))).toEqual([-128, -128, -128, 127, 127, 127, 127, 127, -128]);
    expect(Array.from(requantizeHorizon(acc, id.m, id.s, { dtype: 'uint8', zeroPoint: 128 }))).toEqual([0, 0, 0, 255, 255, 255, 255, 255, 0]);
    expect(Array.from(requantizeHorizon(acc, id.m, id.s, { dtype: 'int16' }))).toEqual([-32768, -300, -129, 127, 128, 300, 32767, 32767, -32768]);
    // fused relu / relu6 clamps
    expect(Array.from(requantizeHorizon(acc, id.m, id.s, { dtype: 'int8', clampMin: 0, clampMax: 100 }))).toEqual([0, 0, 0, 100, 100, 100, 100, 100, 0]);
  });

  it('int16 outputs of a real scale, per channel', () => {
    const realScales = [0.37, 0.0123];
    const spec = horizonRequantSpec(realScales, { bits: 32 });
    if (spec.mode !== 'horizon') throw new Error('mode');
    const acc = Int32Array.of(1000, -1000, 90000, -90000, 5_000_000, -5_000_000);
    // layout [N=1, C=2, inner=3]
    const got = requantize(acc, spec, { dtype: 'int16', zeroPoint: 0 }, { channels: 2, inner: 3 });
    expect(got).toBeInstanceOf(Int16Array);
    const want = Array.from(acc, (a, i) => {
      const c = Math.floor(i / 3);
      return clampBig(refHorizon(a, spec.multiplier[c], spec.shift[c]), -32768, 32767);
    });
    expect(Array.from(got)).toEqual(want);
    // 0.37 * (1000, -1000, 90000) = 370, -370, 33300 (sat); 0.0123 * (-90000, 5e6, -5e6) = -1107, 61500, -61500 (sat)
    expect(want).toEqual([370, -370, 32767, -1107, 32767, -32768]);
  });
});

describe('horizon requant: multiplier / shift derivation', () => {
  it('normalises the multiplier to the top bit, for scale ratios 2^-20 .. 2^4 (32- and 16-bit)', () => {
    const r = rng(7);
    for (const bits of [32, 16]) {
      for (let k = -20; k <= 4; k++) {
        for (const frac of [1, 1.5, 1.999999, 1 + r()]) {
          const real = frac * 2 ** k;
          const { multiplier: m, shift: s } = computeMultiplierShift(real, bits);
          expect(Number.isInteger(m) && Number.isInteger(s)).toBe(true);
          expect(s).toBeGreaterThanOrEqual(0);
          expect(s).toBeLessThanOrEqual(63);
          expect(m).toBeGreaterThanOrEqual(2 ** (bits - 2));
          expect(m).toBeLessThan(2 ** (bits - 1));
          // one rounding of real * 2^s: |m - real*2^s| <= 1/2 (the halved case is exact)
          expect(Math.abs(m - real * 2 ** s)).toBeLessThanOrEqual(0.5);
          // requant of a few accumulators equals the BigInt reference, and is within the multiplier error of real
          for (const acc of [1, -1, 127, -128, 12345, -54321, 2 ** 20 + 3, -(2 ** 24) - 1, 2147483647, -2147483648]) {
            const exact = refHorizon(acc, m, s);
            expect(mulShiftRound(acc, m, s)).toBe(Number(exact));
            const approx = acc * real;
            expect(Math.abs(Number(exact) - approx)).toBeLessThanOrEqual(0.5 + Math.abs(approx) * 2 ** (2 - bits) + 1e-9);
          }
        }
      }
    }
  });

  it('exact powers of two, and the rounding-overflow case', () => {
    expect(computeMultiplierShift(1, 32)).toEqual({ multiplier: 2 ** 30, shift: 30 });
    expect(computeMultiplierShift(2 ** -20, 32)).toEqual({ multiplier: 2 ** 30, shift: 50 });
    expect(computeMultiplierShift(16, 32)).toEqual({ multiplier: 2 ** 30, shift: 26 });
    expect(computeMultiplierShift(0.5, 16)).toEqual({ multiplier: 2 ** 14, shift: 15 });
    // (2^15 - 0.25) / 2^15 * ... rounds up to 2^15 with bits = 16: halved, shift - 1
    expect(computeMultiplierShift((2 ** 15 - 0.25) / 2 ** 15, 16)).toEqual({ multiplier: 2 ** 14, shift: 14 });
    expect(computeMultiplierShift(0, 32)).toEqual({ multiplier: 0, shift: 0 });
    // tiny: shift capped at 63, denormalised multiplier
    const tiny = computeMultiplierShift(2 ** -50, 32);
    expect(tiny).toEqual({ multiplier: 2 ** 13, shift: 63 });
    expect(() => computeMultiplierShift(2 ** 31, 32)).toThrow(RangeError);
    expect(() => computeMultiplierShift(2 ** 15, 16)).toThrow(RangeError);
  });

  it('bernoulli: power-of-two scales are a pure shift', () => {
    expect(computeShiftPow2(2 ** -7)).toEqual({ multiplier: 1, shift: 7 });
    expect(computeShiftPow2(1)).toEqual({ multiplier: 1, shift: 0 });
    expect(computeShiftPow2(16)).toEqual({ multiplier: 16, shift: 0 });
    const spec = horizonRequantSpec([2 ** -3], { march: 'bernoulli' });
    const out = requantize(Int32Array.of(12, -12, 20, -20, 1000), spec, { dtype: 'int8' });
    // 1.5 -> 2, -1.5 -> -1, 2.5 -> 3, -2.5 -> -2, 125
    expect(Array.from(out)).toEqual([2, -1, 3, -2, 125]);
  });
});

describe('horizon requant: property test against BigInt (10 000 cases)', () => {
  it('random acc (full int32), multiplier (< 2^31), shift (0..63): exact round-half-up, int32 saturation', () => {
    const r = rng(12345);
    const n = 10_000;
    const acc = new Int32Array(n);
    const mult = new Int32Array(n);
    const shift = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      // mix magnitudes: full range, small, and near powers of two
      const kind = i % 4;
      const a = Math.floor(r() * 4294967296) - 2147483648;
      acc[i] = kind === 1 ? a >> Math.floor(r() * 31) : a;
      const bits = kind === 2 ? 16 : 32;
      mult[i] = kind === 3 ? 2 ** Math.floor(r() * 31) : Math.floor(r() * 2 ** (bits - 1));
      // choose shifts that keep the result meaningful half of the time
      shift[i] = i % 2 === 0 ? Math.floor(r() * 64) : Math.min(63, Math.max(0, Math.round(Math.log2(Math.abs(acc[i] * mult[i]) + 1)) - Math.floor(r() * 20)));
    }
    const got = requantizeHorizon(acc, mult, shift, { dtype: 'int32' }, { channels: n, inner: 1 });
    let ties = 0;
    let unsaturated = 0;
    for (let i = 0; i < n; i++) {
      const exact = refHorizon(acc[i], mult[i], shift[i]);
      const want = clampBig(exact, -2147483648, 2147483647);
      if (got[i] !== want) throw new Error(`case ${i}: acc=${acc[i]} m=${mult[i]} s=${shift[i]}: got ${got[i]}, want ${want}`);
      const raw = mulShiftRound(acc[i], mult[i], shift[i]);
      if (exact > -(2n ** 53n) && exact < 2n ** 53n && BigInt(raw) !== exact) throw new Error(`raw case ${i}`);
      if (want === Number(exact)) unsaturated++;
      if (shift[i] > 0 && (BigInt(acc[i]) * BigInt(mult[i])) % (1n << BigInt(shift[i])) === 1n << BigInt(shift[i] - 1)) ties++;
    }
    expect(unsaturated).toBeGreaterThan(n / 3);
    expect(ties).toBeGreaterThan(0); // the power-of-two multipliers produce exact ties
  });

  it('int8 outputs with typical conv scales (random acc, random real scale, BigInt reference)', () => {
    const r = rng(99);
    for (let t = 0; t < 2000; t++) {
      const real = 2 ** (-20 + r() * 24);
      const { multiplier: m, shift: s } = computeMultiplierShift(real, 32);
      const a = Math.floor((r() - 0.5) * 2 ** (1 + Math.floor(r() * 31)));
      const zp = Math.floor(r() * 20) - 10;
      const got = requantizeHorizon(Int32Array.of(a), m, s, { dtype: 'int8', zeroPoint: zp })[0];
      expect(got).toBe(clampBig(refHorizon(a, m, s) + BigInt(zp), -128, 127));
    }
  });
});

describe('pytorch (qnnpack) requant', () => {
  it('M = f32(f32(w_s*x_s) * f32(1/out_s)) matches the conformance value', () => {
    // quantized_conv2d__01_dense3x3_sym, channel 0
    expect(pytorchMultiplier(0.03145372122526169, 0.002770979655906558, 0.022553736343979836)).toBe(Math.fround(0.003864442463964224));
  });

  it('ties round half to even (README: M = 0.5: -19 -> -10, -29 -> -14, 45 -> 22, -17 -> -8, 19 -> 10)', () => {
    const acc = Int32Array.of(-19, -29, 45, -17, 19, 1, -1, 3, -3);
    const got = requantizePytorch(acc, 0.5, { dtype: 'int32' });
    expect(Array.from(got)).toEqual([-10, -14, 22, -8, 10, 0, 0, 2, -2]);
    for (let i = 0; i < acc.length; i++) expect(got[i]).toBe(refPytorch(acc[i], 0.5));
  });

  it('float32 emulation equals the BigInt model of nearbyint(f32(f32(acc)*M)) (3000 random cases)', () => {
    const r = rng(4242);
    for (let t = 0; t < 3000; t++) {
      const M = Math.fround(2 ** (-20 + r() * 24));
      const a = Math.floor((r() - 0.5) * 2 ** (1 + Math.floor(r() * 31)));
      const want = refPytorch(a, M);
      const got = requantizePytorch(Int32Array.of(a), M, { dtype: 'int32' })[0];
      if (Math.abs(want) < 2 ** 31) expect(got).toBe(want);
    }
  });

  it('the adversarial accs of quantized_linear__12: float32 product rounds to a tie, float64 does not', () => {
    // row 128: acc 1326707 (channel 2): f32 product = 22.5 exactly -> 22 (even); exact product 22.50000085 -> 23.
    const M2 = pytorchMultiplier(0.02500000037252903, 0.0010853941785171628, 1.600000023841858);
    expect(M2).toBe(Math.fround(1.695928403933067e-5));
    expect(refPytorch(1326707, M2)).toBe(22);
    expect(requantizePytorch(Int32Array.of(1326707), M2, { dtype: 'int32' })[0]).toBe(22);
    expect(nearbyint(1326707 * ((0.02500000037252903 * 0.0010853941785171628) / 1.600000023841858))).toBe(23);
    // acc 915108 (channel 0): f32 product = 23.5 -> 24; exact 23.4999996 -> 23.
    const M0 = pytorchMultiplier(0.02500000037252903, 0.0016435218276455998, 1.600000023841858);
    expect(refPytorch(915108, M0)).toBe(24);
    expect(requantizePytorch(Int32Array.of(915108), M0, { dtype: 'int32' })[0]).toBe(24);
    expect(nearbyint(915108 * ((0.02500000037252903 * 0.0016435218276455998) / 1.600000023841858))).toBe(23);
  });

  it('bias quantization is half to even on exact ties (quantized_conv2d__20)', () => {
    // bias / (x_s * w_s) = 0.5, -0.5, 1.5, -2.5 -> 0, 0, 2, -2
    expect(Array.from(quantizeBias([0.5, -0.5, 1.5, -2.5], 1, [1]))).toEqual([0, 0, 2, -2]);
    expect(Array.from(quantizeBias([0.125, -0.375], 0.5, [0.25, 0.25]))).toEqual([1, -3]);
  });

  it('saturation and fused relu in uint8', () => {
    const got = requantizePytorch(Int32Array.of(-1000, -10, 0, 10, 1000), 0.25, { dtype: 'uint8', zeroPoint: 128, clampMin: 128 });
    expect(Array.from(got)).toEqual([128, 128, 128, 130, 255]); // 10*0.25 = 2.5 -> 2 (even)
  });

  it('relu6 clamp: quantized 6 at the output scale', () => {
    expect(activationClamp('relu6', 0.05, 3)).toEqual({ clampMin: 3, clampMax: 123 });
    expect(activationClamp('relu', 0.05, 3)).toEqual({ clampMin: 3 });
    expect(activationClamp('none', 0.05, 3)).toEqual({});
  });
});

describe('qnnpack rounding shift (add): ties away from zero', () => {
  it('matches the integer formula (acc >> s) + (((acc & mask) - (acc < 0)) > (mask >> 1))', () => {
    const r = rng(5);
    for (let t = 0; t < 3000; t++) {
      const s = 1 + Math.floor(r() * 30);
      const acc = Math.floor((r() - 0.5) * 2 ** 31);
      const mask = (1 << s) - 1;
      // int32 two's complement reference with JS bitwise ops (s <= 30)
      const want = (acc >> s) + (((acc & mask) - (acc < 0 ? 1 : 0)) > (mask >> 1) ? 1 : 0);
      expect(qnnpackRoundingShift(acc, s)).toBe(want);
    }
    expect(qnnpackRoundingShift(7, 1)).toBe(4); // 3.5 -> 4
    expect(qnnpackRoundingShift(-77, 1)).toBe(-39); // -38.5 -> -39
    expect(qnnpackRoundingShift(-5, 2)).toBe(-1); // -1.25
    expect(qnnpackRoundingShift(-6, 2)).toBe(-2); // -1.5 -> -2
  });
});

describe('integer datapath guard', () => {
  it('rejects non-integer arrays', () => {
    expect(() => requantizeHorizon(new Float32Array(2) as unknown as Int32Array, 1, 0, { dtype: 'int8' })).toThrow(TypeError);
    expect(() => requantizePytorch([1, 2] as unknown as Int32Array, 0.5, { dtype: 'int8' })).toThrow(TypeError);
    expect(() => requantizeHorizon(Int32Array.of(1), 0.5, 0, { dtype: 'int8' })).toThrow(RangeError);
  });
});
