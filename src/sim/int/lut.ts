/**
 * Lookup-table activations of the fixed-point simulator (the `lut` layer, src/sim/model.ts LutTable), as Horizon's
 * toolchain implements sigmoid, tanh, hardswish, ... : a table built at convert time from the input and output scales,
 * and an integer-only lookup at run time (docs/fixed-point.md §3 "lookup tables").
 *
 *  - int8 / uint8 input: one 256-entry table of outputs (int8 or int16), indexed by q + 128 (q for uint8). The entry
 *    of q is the fake-quant model's own output for the input value q·s_in: exact.
 *  - int16 input: 64 segments of 1024 inputs; in segment j the table holds a knot every 2^e_j inputs (e_j chosen per
 *    segment at convert time) with 8 fractional bits, and the lookup interpolates linearly between the two knots
 *    around the input (integer multiply, round-half-up shifts). e_j is the widest step whose interpolation stays within
 *    1/8 output LSB of the exact function on every input of the segment (checked exhaustively here), so the result is
 *    within 1 LSB of the fake-quant model's.
 */
import type { LutTable } from '../model.ts';
import { assertIntArray, allocInt, roundShiftHalfUp, type IntArray, type QDType } from './requant.ts';

/** What the table holds: per channel c and integer input q, the exact output in output LSBs and the fake quant's integer. */
export interface LutSpec {
  fn: string;
  inDtype: QDType;
  channels: number;
  /** The output's integer range (the table saturates into it). */
  lo: number;
  hi: number;
  /** f(q · s_in) / s_out, unrounded. */
  real: (c: number, q: number) => number;
  /** The fake-quant model's integer output for input q (int8 / uint8 inputs: the table entries). */
  exact: (c: number, q: number) => number;
}

export const LUT_INT16_SEG_BITS = 10;
export const LUT_INT16_FRAC_BITS = 8;
/** Largest interpolation error accepted for a segment, in output LSBs (before the final rounding). */
export const LUT_MAX_ERROR = 0.125;
/** Knots are kept within this many LSBs outside the output range (the clamp after the lookup does the rest). */
const KNOT_MARGIN = 1024;

export function buildLut(s: LutSpec): LutTable {
  if (s.inDtype === 'int8' || s.inDtype === 'uint8') {
    const off = s.inDtype === 'int8' ? 128 : 0;
    const knots = new Int32Array(256 * s.channels);
    const segs = new Int32Array(2 * s.channels);
    for (let c = 0; c < s.channels; c++) {
      segs[2 * c] = 256 * c;
      for (let u = 0; u < 256; u++) {
        const v = s.exact(c, u - off);
        knots[256 * c + u] = v < s.lo ? s.lo : v > s.hi ? s.hi : v;
      }
    }
    return { fn: s.fn, channels: s.channels, inOffset: off, segBits: 8, segs, knots, fracBits: 0 };
  }
  if (s.inDtype !== 'int16') throw new RangeError(`${s.fn}: a lookup table needs an int8, uint8 or int16 input, not ${s.inDtype}`);
  const SB = LUT_INT16_SEG_BITS, F = LUT_INT16_FRAC_BITS, W = 2 ** SB, S = 65536 / W, one = 2 ** F;
  const kLo = (s.lo - KNOT_MARGIN) * one, kHi = (s.hi + KNOT_MARGIN) * one;
  const clampOut = (v: number) => (v < s.lo ? s.lo : v > s.hi ? s.hi : v);
  // The knot at input u: f there with F fractional bits, nudged by 2^-F LSB when that makes it read back as the fake
  // quant's own integer (a tie f/s_out = k + 1/2 rounds half up here, half to even in the fake quant).
  const knotOf = (u: number) => {
    let k = Math.round(real[u] * one);
    k = k < kLo ? kLo : k > kHi ? kHi : k;
    const want = clampOut(exact[u]);
    for (const n of [k, k - 1, k + 1]) if (clampOut(roundShiftHalfUp(n, F)) === want) return n;
    return k;
  };
  const segs = new Int32Array(2 * S * s.channels);
  const all: number[] = [];
  const real = new Float64Array(65537); // u = 0 .. 65536 (the last one is the end knot of the last segment)
  const exact = new Float64Array(65537);
  for (let c = 0; c < s.channels; c++) {
    for (let u = 0; u <= 65536; u++) {
      real[u] = s.real(c, u - 32768);
      exact[u] = s.exact(c, u - 32768);
    }
    for (let j = 0; j < S; j++) {
      const base = j * W;
      let chosen: number[] | null = null, chosenE = 0;
      for (let e = SB; e >= 0 && !chosen; e--) {
        const step = 2 ** e;
        const count = e === 0 ? W : W / step + 1;
        const kn = Array.from({ length: count }, (_, k) => knotOf(base + k * step));
        let ok = true;
        for (let o = 0; o < W && ok; o++) {
          const k = Math.floor(o / step), r = o - k * step;
          const y = r === 0 ? kn[k] : kn[k] + roundShiftHalfUp((kn[k + 1] - kn[k]) * r, e);
          if (Math.abs(clampOut(y / one) - clampOut(real[base + o])) > LUT_MAX_ERROR) ok = false;
        }
        if (ok) { chosen = kn; chosenE = e; }
      }
      segs[2 * (c * S + j)] = all.length;
      segs[2 * (c * S + j) + 1] = chosenE;
      all.push(...chosen!);
    }
  }
  return { fn: s.fn, channels: s.channels, inOffset: 32768, segBits: SB, segs, knots: Int32Array.from(all), fracBits: F };
}

/**
 * The table lookup on an integer tensor [N, C, ...] (channel = axis 1 when the table is per channel). Integer-only.
 */
export function lutApply(x: IntArray, shape: readonly number[], t: LutTable, outDtype: QDType, lo: number, hi: number): IntArray {
  assertIntArray('lut x', x);
  const out = allocInt(outDtype, x.length);
  const inner = t.channels === 1 ? x.length : shape.slice(2).reduce((a, b) => a * b, 1);
  const S = 2 ** ((t.inOffset === 32768 ? 16 : 8) - t.segBits);
  const W = 2 ** t.segBits, mask = W - 1;
  const { segs, knots, fracBits: F } = t;
  for (let i = 0; i < x.length; i++) {
    const u = x[i] + t.inOffset;
    if (u < 0 || u >= W * S) throw new RangeError(`lut ${t.fn}: input ${x[i]} outside the table's input range`);
    const c = t.channels === 1 ? 0 : Math.floor(i / inner) % t.channels;
    const sg = 2 * (c * S + (u >> t.segBits));
    const e = segs[sg + 1];
    const o = u & mask;
    const k = segs[sg] + (o >> e), r = o & ((1 << e) - 1);
    const y = r === 0 ? knots[k] : knots[k] + roundShiftHalfUp((knots[k + 1] - knots[k]) * r, e);
    const v = F === 0 ? y : roundShiftHalfUp(y, F);
    out[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return out;
}
