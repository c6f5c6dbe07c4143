/**
 * Requantization for the fixed-point simulator: int32 accumulator -> int8 / uint8 / int16 output.
 *
 * Two modes (docs/fixed-point.md has every formula):
 *
 *  - 'horizon' (default for BPU deployment; ASSUMED, Horizon's integer kernels are not public):
 *      out = clamp( floor((acc * multiplier + 2^(shift-1)) / 2^shift) + zp, lo, hi )
 *    i.e. an integer multiplier, an arithmetic right shift and round-half-up on the shifted-out bits.
 *    `multiplier` is a signed `bits`-wide integer (default 32) normalised so that its top magnitude bit is set
 *    (2^(bits-2) <= multiplier < 2^(bits-1)); shift in [0, 63]. On march 'bernoulli' only powers of two:
 *    multiplier = 2^a (a >= 0) and shift = k, i.e. a pure shift.
 *
 *  - 'pytorch' (PyTorch 1.13 qnnpack conv/linear, verified bit-exact on the conformance cases):
 *      M   = f32(f32(w_scale * x_scale) * f32(1 / out_scale))
 *      out = clamp( nearbyint(f32(f32(acc) * M)) + zp, lo, hi )     nearbyint = round half to even
 *    This is the ONLY place where float appears after the input quantization: it deliberately emulates
 *    PyTorch's float32 requantization (Math.fround at every step).
 *
 * DATAPATH IS INTEGER-ONLY: the functions that run per element (`mulShiftRound`, `roundShiftHalfUp`, `requantize`,
 * `requantizeHorizon`, `qnnpackRoundingShift`) only ever hold integers. JS numbers are IEEE doubles, but every value
 * they hold here is an integer of magnitude < 2^53, hence exact, and products that could exceed 2^53 are split into
 * 16/32-bit halves (see `mulShiftRound`). Dividing an integer by 2^s and flooring is exactly an arithmetic right
 * shift. Float (double) arithmetic is used only at convert time (`computeMultiplierShift`, `pytorchMultiplier`, ...).
 */

export type QDType = 'int8' | 'uint8' | 'int16' | 'int32';
export type IntArray = Int8Array | Uint8Array | Int16Array | Int32Array;
export type RequantMode = 'horizon' | 'pytorch';
/** Horizon BPU architectures; only 'bernoulli' changes the arithmetic here (power-of-two scales). */
export type { March } from '../../qmath/requant-int.ts';
import type { March } from '../../qmath/requant-int.ts';
import { MAX_SHIFT, POW2, computeHorizonMultiplierShift, mulShiftRound } from '../../qmath/requant-int.ts';
export {
  MAX_SHIFT, computeHorizonMultiplierShift, computeMultiplierShift, computeShiftPow2, mulShiftRound, requantizeValueHorizon,
  roundShiftHalfUp, type MultiplierShift,
} from '../../qmath/requant-int.ts';

export const DTYPE_RANGE: Readonly<Record<QDType, readonly [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
};

export function allocInt(dtype: QDType, n: number): IntArray {
  switch (dtype) {
    case 'int8': return new Int8Array(n);
    case 'uint8': return new Uint8Array(n);
    case 'int16': return new Int16Array(n);
    case 'int32': return new Int32Array(n);
  }
}

/**
 * Guard of the integer datapath: every kernel calls this on its tensor inputs, so that a Float32Array (or a plain
 * number[]) can never enter it by accident.
 */
export function assertIntArray(name: string, a: unknown): asserts a is IntArray {
  if (!(a instanceof Int8Array || a instanceof Uint8Array || a instanceof Int16Array || a instanceof Int32Array)) {
    const what = a === null ? 'null' : typeof a === 'object' ? (a as object).constructor?.name : typeof a;
    throw new TypeError(`${name}: integer datapath expects Int8Array/Uint8Array/Int16Array/Int32Array, got ${what}`);
  }
}

/** Output dtype, zero point and optional extra clamp (fused relu / relu6), all integers. */
export interface OutputSpec {
  dtype: QDType;
  zeroPoint?: number;
  /** Lower clamp in the output's integer domain (e.g. the zero point for a fused relu). */
  clampMin?: number;
  /** Upper clamp in the output's integer domain (e.g. the quantized 6 for relu6). */
  clampMax?: number;
}

export function outputBounds(out: OutputSpec): [number, number] {
  const [dmin, dmax] = DTYPE_RANGE[out.dtype];
  const lo = out.clampMin === undefined ? dmin : Math.max(dmin, out.clampMin);
  const hi = out.clampMax === undefined ? dmax : Math.min(dmax, out.clampMax);
  if (lo > hi) throw new RangeError(`empty output range [${lo}, ${hi}]`);
  return [lo, hi];
}

/**
 * Convert time: clamp bounds of a fused activation. relu: [zp, max]; relu6: [zp, zp + q6] with
 * q6 = nearbyint(f32(6 * f32(1/out_scale))) (the quantization rule of the QuantStub / PyTorch).
 */
export function activationClamp(
  act: 'none' | 'relu' | 'relu6',
  outScale: number,
  outZeroPoint: number,
): { clampMin?: number; clampMax?: number } {
  if (act === 'none') return {};
  if (act === 'relu') return { clampMin: outZeroPoint };
  const q6 = nearbyint(Math.fround(6 * Math.fround(1 / Math.fround(outScale))));
  return { clampMin: outZeroPoint, clampMax: outZeroPoint + q6 };
}

// ---------------------------------------------------------------------------------------------------------------
// Rounding primitives
// ---------------------------------------------------------------------------------------------------------------

/** Round half to even of a double (C nearbyint in the default FP mode). */
export function nearbyint(v: number): number {
  const r = Math.round(v); // half up (towards +inf)
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// ---------------------------------------------------------------------------------------------------------------
// Convert time (float allowed): multiplier / shift derivation
// ---------------------------------------------------------------------------------------------------------------

/** The float32 requant multiplier of qnnpack: M = f32(f32(w_scale * x_scale) * f32(1 / out_scale)). */
export function pytorchMultiplier(xScale: number, wScale: number, outScale: number): number {
  const f = Math.fround;
  return f(f(f(wScale) * f(xScale)) * f(1 / f(outScale)));
}

/** Per-output-channel requantization parameters for kernels; length 1 = per tensor. */
export type RequantSpec =
  | { mode: 'horizon'; multiplier: Int32Array; shift: Int32Array }
  | { mode: 'pytorch'; multiplier: Float32Array };

/** Convert time: horizon spec from the real scales x_scale * w_scale[o] / out_scale. */
export function horizonRequantSpec(realScales: ArrayLike<number>, opts: { march?: March; bits?: number } = {}): RequantSpec {
  const n = realScales.length;
  const multiplier = new Int32Array(n);
  const shift = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const ms = computeHorizonMultiplierShift(realScales[i], opts.march, opts.bits);
    multiplier[i] = ms.multiplier;
    shift[i] = ms.shift;
  }
  return { mode: 'horizon', multiplier, shift };
}

/** Convert time: pytorch (qnnpack) spec from x_scale, w_scales[o], out_scale. */
export function pytorchRequantSpec(xScale: number, wScales: ArrayLike<number>, outScale: number): RequantSpec {
  const m = new Float32Array(wScales.length);
  for (let i = 0; i < m.length; i++) m[i] = pytorchMultiplier(xScale, wScales[i], outScale);
  return { mode: 'pytorch', multiplier: m };
}

/** Convert time: both modes from float scales (horizon uses the exact double ratio x_s*w_s/out_s). */
export function requantSpecFromScales(
  mode: RequantMode,
  xScale: number,
  wScales: ArrayLike<number>,
  outScale: number,
  opts: { march?: March; bits?: number } = {},
): RequantSpec {
  if (mode === 'pytorch') return pytorchRequantSpec(xScale, wScales, outScale);
  const r = new Float64Array(wScales.length);
  for (let i = 0; i < r.length; i++) r[i] = (xScale * wScales[i]) / outScale;
  return horizonRequantSpec(r, opts);
}

/** Convert time: float bias -> int32 at x_scale * w_scale[o]; the one definition is the leaf src/qmath/bias.ts. */
export { quantizeBias } from '../../qmath/bias.ts';

// ---------------------------------------------------------------------------------------------------------------
// Datapath: requantize an int32 accumulator (per channel)
// ---------------------------------------------------------------------------------------------------------------

export interface RequantLayout {
  /** Number of channels the multipliers index (1 = per tensor). */
  channels?: number;
  /** Elements per channel block: H*W for NCHW, 1 for [N, C]. */
  inner?: number;
}

/** PyTorch (qnnpack) mode for a single value: nearbyint(f32(f32(acc) * M)) + zp, saturated. */
export function requantizeValuePytorch(acc: number, M: number, zp: number, lo: number, hi: number): number {
  const v = nearbyint(Math.fround(Math.fround(acc) * M)) + zp;
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * Horizon-mode requantization of an int32 accumulator (integer only). `multiplier`/`shift` are per channel
 * (arrays, channel = floor(i / inner) % channels) or scalars (per tensor).
 */
export function requantizeHorizon(
  acc: Int32Array,
  multiplier: ArrayLike<number> | number,
  shift: ArrayLike<number> | number,
  out: OutputSpec,
  layout: RequantLayout = {},
): IntArray {
  assertIntArray('acc', acc);
  const ms = typeof multiplier === 'number' ? [multiplier] : multiplier;
  const ss = typeof shift === 'number' ? [shift] : shift;
  const channels = layout.channels ?? ms.length;
  const inner = layout.inner ?? 1;
  if (ms.length !== 1 && ms.length !== channels) throw new RangeError('multiplier length != channels');
  if (ss.length !== ms.length) throw new RangeError('shift length != multiplier length');
  for (let c = 0; c < ms.length; c++) {
    if (!Number.isInteger(ms[c]) || ms[c] < 0 || ms[c] >= 2147483648) throw new RangeError(`multiplier[${c}] out of range`);
    if (!Number.isInteger(ss[c]) || ss[c] < 0 || ss[c] > MAX_SHIFT) throw new RangeError(`shift[${c}] out of range`);
  }
  const [lo, hi] = outputBounds(out);
  const zp = out.zeroPoint ?? 0;
  const res = allocInt(out.dtype, acc.length);
  const perTensor = ms.length === 1;
  const block = channels * inner;
  for (let base = 0; base < acc.length; base += block) {
    for (let c = 0; c < channels; c++) {
      const m = perTensor ? ms[0] : ms[c];
      const s = perTensor ? ss[0] : ss[c];
      const start = base + c * inner;
      const end = Math.min(start + inner, acc.length);
      // Inlined mulShiftRound fast path (|acc * m| < 2^53: the double product is the exact integer product;
      // multiplying by 2^-s is exact, floor of it is the arithmetic shift, the remainder decides the rounding).
      const d = POW2[s];
      const inv = 1 / d;
      const half = s === 0 ? 1 : POW2[s - 1];
      for (let i = start; i < end; i++) {
        const p = acc[i] * m;
        let v: number;
        if (p < 9007199254740992 && p > -9007199254740992) {
          const q = Math.floor(p * inv);
          v = p - q * d >= half ? q + 1 : q;
        } else {
          v = mulShiftRound(acc[i], m, s);
        }
        v += zp;
        res[i] = v < lo ? lo : v > hi ? hi : v;
      }
    }
  }
  return res;
}

/** PyTorch-mode requantization (float32 emulation of qnnpack), per channel like `requantizeHorizon`. */
export function requantizePytorch(
  acc: Int32Array,
  multiplier: ArrayLike<number> | number,
  out: OutputSpec,
  layout: RequantLayout = {},
): IntArray {
  assertIntArray('acc', acc);
  const ms = typeof multiplier === 'number' ? [Math.fround(multiplier)] : multiplier;
  const channels = layout.channels ?? ms.length;
  const inner = layout.inner ?? 1;
  if (ms.length !== 1 && ms.length !== channels) throw new RangeError('multiplier length != channels');
  const [lo, hi] = outputBounds(out);
  const zp = out.zeroPoint ?? 0;
  const res = allocInt(out.dtype, acc.length);
  const perTensor = ms.length === 1;
  const block = channels * inner;
  for (let base = 0; base < acc.length; base += block) {
    for (let c = 0; c < channels; c++) {
      const M = Math.fround(perTensor ? ms[0] : ms[c]);
      const start = base + c * inner;
      const end = Math.min(start + inner, acc.length);
      for (let i = start; i < end; i++) {
        const x = Math.fround(Math.fround(acc[i]) * M);
        let r = Math.round(x); // half up, then ties fixed to even (nearbyint)
        if (r - x === 0.5 && r % 2 !== 0) r -= 1;
        const v = r + zp;
        res[i] = v < lo ? lo : v > hi ? hi : v;
      }
    }
  }
  return res;
}

/**
 * Requantize with a spec (what the kernels call). An int32 output keeps the accumulator as is (high-precision
 * output, scale x_scale * w_scale[o]); the spec is then ignored and may be null.
 */
export function requantize(acc: Int32Array, spec: RequantSpec | null, out: OutputSpec, layout: RequantLayout = {}): IntArray {
  assertIntArray('acc', acc);
  if (out.dtype === 'int32' && out.clampMin === undefined && out.clampMax === undefined && !(out.zeroPoint ?? 0)) {
    return acc.slice();
  }
  if (spec === null) throw new Error(`requantize to ${out.dtype} needs a RequantSpec`);
  if (spec.mode === 'horizon') return requantizeHorizon(acc, spec.multiplier, spec.shift, out, layout);
  return requantizePytorch(acc, spec.multiplier, out, layout);
}

// ---------------------------------------------------------------------------------------------------------------
// QNNPACK fixed-point rounding (quantized add, pytorch mode)
// ---------------------------------------------------------------------------------------------------------------

/**
 * QNNPACK's rounding right shift, ties away from zero, exact for integer |acc| < 2^53 and any shift in [0, 63]:
 *   r = (acc >> shift) + (((acc & mask) - (acc < 0)) > (mask >> 1)),   mask = 2^shift - 1
 */
export function qnnpackRoundingShift(acc: number, shift: number): number {
  if (shift === 0) return acc;
  const d = POW2[shift];
  const q = Math.floor(acc / d); // acc >> shift (arithmetic)
  const rem = acc - q * d; // acc & mask
  const threshold = POW2[shift - 1] - 1; // mask >> 1
  return rem - (acc < 0 ? 1 : 0) > threshold ? q + 1 : q;
}
