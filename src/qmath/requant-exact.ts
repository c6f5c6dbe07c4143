/**
 * The fake-quant model's exact forward of the requantizing ops whose inputs are already quantized (docs/fixed-point.md
 * §2e): Concat's per-input rescale, Add / Sub and Mul. Their inputs are fake-quantized values x = f32(q · s), so
 * q = round(x · f32(1/s)) recovers each input integer exactly (|q| ≤ 2^15: the float error is below 0.01); the output is
 * the simulator's integer for those inputs, with the parameters convert derives (computeHorizonMultiplierShift,
 * computeAddParamsHorizon: the same functions), times the output scale: f32(q_out · s_out), as a fake quant writes it.
 * This file is the CPU reference; shaders/fq_exact.wgsl computes the same parameters from the same float32 scales on
 * the device (the double arithmetic emulated in integers) and the same integers.
 */
import {
  computeAddParamsHorizon, computeHorizonMultiplierShift, mulShiftRound, roundShiftHalfUp, type March,
} from './requant-int.ts';

/**
 * rescale: Concat's inputs (each one requantized to the output scale); add / sub / mul of two inputs; gap: global
 * average pooling (the int32 sum of each channel's values, requantized with s_x / (s_out · count)); conv: see below.
 */
export type EltOp = 'rescale' | 'add' | 'sub' | 'mul' | 'gap';
export type ExactOp = EltOp | 'conv';

export interface ExactSpec {
  op: EltOp;
  march: March;
  /** Multiplier width of rescale / mul (convert's multiplierBits, 32 by default); add / sub use 16 (the add layer's). */
  bits: number;
  quantMin: number;
  quantMax: number;
}

/** Integer parameters: rescale / mul use `ma` and `shift`; add / sub `ma`, `mb` (negated for sub) and `shift`. */
export interface ExactParams {
  ma: number;
  mb: number;
  shift: number;
}

/**
 * The parameters convert gives this op for the float32 scales of its inputs and output (sb: b's, ignored by rescale);
 * null where convert would refuse them (a scale ratio beyond the multiplier's range): the forward then stays the float
 * op's fake quant.
 */
export function exactParams(op: EltOp, sa: number, sb: number, so: number, march: March, bits: number): ExactParams | null {
  try {
    if (op === 'add' || op === 'sub') {
      const p = computeAddParamsHorizon(sa, sb, so, { march });
      return { ma: p.aMultiplier, mb: op === 'sub' ? -p.bMultiplier : p.bMultiplier, shift: p.shift };
    }
    // gap: sb is the window's count; the 1/count needs a real multiplier on every march (src/ops/pool/pool2d.ts)
    if (op === 'gap') {
      const g = computeHorizonMultiplierShift(sa / (so * sb), 'bayes', bits);
      return { ma: g.multiplier, mb: 0, shift: g.shift };
    }
    const m = computeHorizonMultiplierShift(op === 'mul' ? sa * sb / so : sa / so, march, bits);
    return { ma: m.multiplier, mb: 0, shift: m.shift };
  } catch (e) {
    if (e instanceof RangeError) return null;
    throw e;
  }
}

/** The simulator's output integer for input integers qa, qb (src/sim/int: rescale, add, mul layers), saturated. */
export function exactInt(op: EltOp, qa: number, qb: number, p: ExactParams, lo: number, hi: number): number {
  const r = op === 'rescale' ? mulShiftRound(qa, p.ma, p.shift)
    : op === 'mul' ? mulShiftRound(qa * qb, p.ma, p.shift)
      : roundShiftHalfUp(p.ma * qa + p.mb * qb, p.shift);
  return r < lo ? lo : r > hi ? hi : r;
}

/** Round half to even of a float. */
const rne = (v: number): number => {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/**
 * The forward on float arrays. qa / qb / qo are [scale, f32(1/scale), zero point] of a's, b's and the output's sites;
 * `v` is the float op's output, fake-quantized (round half to even) where `exactParams` is null. b (mul) holds one
 * value per element of a or per (sample, channel), read at floor(i / inner). gap: a holds `count` values per value of v.
 */
export function requantExactRef(
  spec: ExactSpec, v: Float32Array, a: Float32Array, b: Float32Array | null,
  qa: ArrayLike<number>, qb: ArrayLike<number> | null, qo: ArrayLike<number>,
): Float32Array {
  const f = Math.fround;
  const lo = spec.quantMin, hi = spec.quantMax, so = qo[0];
  const out = new Float32Array(v.length);
  const gapCount = spec.op === 'gap' ? a.length / v.length : 0;
  const p = exactParams(spec.op, qa[0], spec.op === 'gap' ? gapCount : qb ? qb[0] : 0, so, spec.march, spec.bits);
  if (!p) {
    for (let i = 0; i < v.length; i++) out[i] = f((Math.min(hi, Math.max(lo, rne(f(v[i] * qo[1])))) + 0) * so);
    return out;
  }
  if (spec.op === 'gap') {
    for (let i = 0; i < v.length; i++) {
      let sum = 0;
      for (let j = i * gapCount; j < (i + 1) * gapCount; j++) sum += rne(f(a[j] * qa[1]));
      const r = mulShiftRound(sum, p.ma, p.shift);
      out[i] = f(((r < lo ? lo : r > hi ? hi : r) + 0) * so);
    }
    return out;
  }
  const inner = b && b.length ? a.length / b.length : 1;
  for (let i = 0; i < a.length; i++) {
    const ia = rne(f(a[i] * qa[1]));
    const ib = b && qb ? rne(f(b[inner === 1 ? i : Math.floor(i / inner)] * qb[1])) : 0;
    out[i] = f((exactInt(spec.op, ia, ib, p, lo, hi) + 0) * so); // + 0: an integer, never -0 (as the device's i32)
  }
  return out;
}

/**
 * Conv2d (with its fused Add and ReLU / ReLU6): the simulator's int32 accumulator and requantization. The fake-quant
 * forward sums the integer products in float32 (a conv of the input and weight integers: exact while every partial
 * sum stays below 2^24, which `convExactMode` checks from the sizes; or two convs of the input's high and low parts),
 * then, in integers: + the int32 bias, + the add
 * input rescaled into the accumulator's domain, requantization with the activation's clamp (src/sim/cpu/dense.ts).
 */
export interface ConvExactSpec {
  march: March;
  bits: number;
  quantMin: number;
  quantMax: number;
  act: 'none' | 'relu' | 'relu6';
  /** Output channels and values per channel (OH · OW) of one sample. */
  channels: number;
  inner: number;
  /** 'split': the accumulator is 16 · acc + accLo (the convs of the input's high and low parts). */
  mode: 'direct' | 'split';
}

/** The input integers split q = 16 · h + l (l in 0..15) for a conv of many taps: two convs, each exact. */
export const SPLIT = 16;

/**
 * How a conv's integer products can be summed exactly in float32 (every partial sum below 2^24): 'direct' (one conv of
 * the integers: taps · max|x| · max|w| < 2^24, int8 inputs: < 1 024 taps), 'split' (the input integers as 16 · h + l,
 * two convs combined in integers: int8 inputs < 8 192 taps), or null (the float forward stays).
 */
export function convExactMode(taps: number, maxX: number, maxW: number): 'direct' | 'split' | null {
  if (taps * maxX * maxW < 2 ** 24) return 'direct';
  if (taps * Math.max(Math.ceil(maxX / SPLIT), SPLIT - 1) * maxW < 2 ** 24) return 'split';
  return null;
}

/** Per output channel: requantization (m, s) and the add input's rescale (ma, ka); null where convert has none. */
export function convExactParams(sx: number, sw: number, so: number, sa: number | null, march: March, bits: number): { m: number; s: number; ma: number; ka: number } | null {
  try {
    const r = computeHorizonMultiplierShift(sx * sw / so, march, bits);
    const a = sa === null ? { multiplier: 0, shift: 0 } : computeHorizonMultiplierShift(sa / (sx * sw), march, bits);
    return { m: r.multiplier, s: r.shift, ma: a.multiplier, ka: a.shift };
  } catch (e) {
    if (e instanceof RangeError) return null;
    throw e;
  }
}

/**
 * The forward on float arrays: acc the float32 conv of the integers (exact), bias the raw float bias with its grid's
 * qparams bqp [O, 3] (the int32 = nearbyint(f32(b · inv)) saturated, as quantizeBias), a the fused add input; qx, qw
 * [O, 3], qa, qo the sites' qparams. Where a channel has no parameters: the fake quant of `v`.
 */
export function convRequantExactRef(
  spec: ConvExactSpec, v: Float32Array, acc: Float32Array, accLo: Float32Array | null, bias: Float32Array | null, bqp: ArrayLike<number> | null,
  a: Float32Array | null, qa: ArrayLike<number> | null, qx: ArrayLike<number>, qw: ArrayLike<number>, qo: ArrayLike<number>,
): Float32Array {
  const f = Math.fround;
  const { channels: O, inner: P } = spec;
  const so = qo[0];
  const q6 = rne(f(6 * qo[1]));
  const lo = spec.act === 'none' ? spec.quantMin : Math.max(spec.quantMin, 0);
  const hi = spec.act === 'relu6' ? Math.min(spec.quantMax, q6) : spec.quantMax;
  const params = Array.from({ length: O }, (_, o) => convExactParams(qx[0], qw[3 * o], so, qa ? qa[0] : null, spec.march, spec.bits));
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const o = Math.floor(i / P) % O;
    const p = params[o];
    let q: number;
    if (!p) q = Math.min(spec.quantMax, Math.max(spec.quantMin, rne(f(v[i] * qo[1]))));
    else {
      let s = spec.mode === 'split' && accLo ? (Math.imul(acc[i] | 0, SPLIT) + (accLo[i] | 0)) | 0 : acc[i] | 0;
      if (bias && bqp) s = (s + Math.min(2 ** 31 - 1, Math.max(-(2 ** 31), rne(f(bias[o] * bqp[3 * o + 1]))))) | 0;
      if (a && qa) s = (s + mulShiftRound(rne(f(a[i] * qa[1])), p.ma, p.ka)) | 0;
      const r = mulShiftRound(s, p.m, p.s);
      q = r < lo ? lo : r > hi ? hi : r;
    }
    out[i] = f((q + 0) * so);
  }
  return out;
}

/**
 * round(f32(x · inv[c])) per channel of `inner` values (the integers of a fake-quantized tensor); part 'hi' / 'lo':
 * floor(q / 16) / q - 16 · floor(q / 16).
 */
export function toIntRef(x: Float32Array, qp: ArrayLike<number>, channels: number, inner: number, part: IntPart = 'all'): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const q = rne(Math.fround(x[i] * qp[3 * (Math.floor(i / inner) % channels) + 1]));
    const h = Math.floor(q / SPLIT);
    out[i] = (part === 'all' ? q : part === 'hi' ? h : q - SPLIT * h) + 0;
  }
  return out;
}

export type IntPart = 'all' | 'hi' | 'lo';

/** The shapes Backend.requantExact takes (sizes: v the output, a and b the inputs). */
export function checkExact(spec: ExactSpec, v: { size: number; shape: readonly number[] }, a: { size: number; shape: readonly number[] }, b: { size: number; shape: readonly number[] } | null): void {
  const one = spec.op === 'rescale' || spec.op === 'gap';
  if (one !== (b === null)) throw new Error(`requantExact ${spec.op}: ${b ? 'two' : 'one'} inputs`);
  if (spec.op === 'gap' ? !v.size || a.size % v.size : a.size !== v.size) throw new Error(`requantExact ${spec.op}: a [${a.shape}] vs output [${v.shape}]`);
  if (b && (!b.size || a.size % b.size)) throw new Error(`requantExact: b [${b.shape}] does not divide a [${a.shape}]`);
}
