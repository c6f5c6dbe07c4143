/**
 * Integer pooling on NCHW tensors.
 *  - max pooling: max of the integers in the window (padded positions are ignored); same scale / zero point.
 *  - average pooling (count_include_pad = true, divisor kh*kw) and global average pooling:
 *        sum = Σ (x - x_zp) over the window (padding contributes 0), int32
 *        out = requant(sum) with the real scale x_scale / (out_scale * count)
 *    horizon: multiplier/shift + round half up; pytorch: float32 multiplier + half-even. The division by the window
 *    size is folded into the requant multiplier (convert time, `avgPoolRequantSpec`). Integer-only datapath.
 */
import { poolOutSize, poolWindowCount } from '../../qmath/pool-window.ts';
import { pair, type Pair } from './conv2d.ts';
import {
  allocInt,
  assertIntArray,
  outputBounds,
  horizonRequantSpec,
  requantize,
  requantizeValueHorizon,
  type IntArray,
  type March,
  type OutputSpec,
  type RequantMode,
  type RequantSpec,
} from './requant.ts';

export interface Pool2dGeometry {
  kernel: Pair;
  stride?: Pair;
  padding?: Pair;
  /** The output size rounds up (src/qmath/pool-window.ts). */
  ceilMode?: boolean;
}

type Shape4 = readonly [number, number, number, number];

function poolOut(shape: Shape4, g: Pool2dGeometry): { kh: number; kw: number; sh: number; sw: number; ph: number; pw: number; oh: number; ow: number } {
  const [kh, kw] = pair(g.kernel, 1);
  const [sh, sw] = pair(g.stride ?? g.kernel, 1);
  const [ph, pw] = pair(g.padding, 0);
  const oh = poolOutSize(shape[2], kh, sh, ph, g.ceilMode);
  const ow = poolOutSize(shape[3], kw, sw, pw, g.ceilMode);
  if (oh <= 0 || ow <= 0) throw new RangeError('pool: empty output');
  return { kh, kw, sh, sw, ph, pw, oh, ow };
}

/**
 * The divisor of every output position (oy * OW + ox) of an average pool whose divisor varies (ceil_mode,
 * count_include_pad = false): the requantization then picks the multiplier of x_scale / (out_scale * count) by
 * count (convert time, one per possible count 1..kh*kw).
 */
export function avgPoolCounts(shape: Shape4, geom: Pool2dGeometry, includePad: boolean): Int32Array {
  const { kh, kw, sh, sw, ph, pw, oh, ow } = poolOut(shape, geom);
  const counts = new Int32Array(oh * ow);
  for (let oy = 0; oy < oh; oy++) {
    const ch = poolWindowCount(oy, shape[2], kh, sh, ph, includePad);
    for (let ox = 0; ox < ow; ox++) counts[oy * ow + ox] = ch * poolWindowCount(ox, shape[3], kw, sw, pw, includePad);
  }
  return counts;
}

export function maxPool2dInt<T extends IntArray>(x: T, shape: Shape4, geom: Pool2dGeometry): { data: T; shape: [number, number, number, number] } {
  assertIntArray('maxpool x', x);
  const [N, C, H, W] = shape;
  const { kh, kw, sh, sw, ph, pw, oh, ow } = poolOut(shape, geom);
  const out = new (x.constructor as new (n: number) => T)(N * C * oh * ow);
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * H * W;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let m = 0;
        let found = false;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - ph + ky;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pw + kx;
            if (ix < 0 || ix >= W) continue;
            const v = x[base + iy * W + ix];
            if (!found || v > m) {
              m = v;
              found = true;
            }
          }
        }
        if (!found) throw new RangeError('maxpool: window entirely in padding');
        out[(nc * oh + oy) * ow + ox] = m;
      }
    }
  }
  return { data: out, shape: [N, C, oh, ow] };
}

/** Window sums Σ (x - zp) (int32), padding contributes 0. */
export function avgPool2dSums(x: IntArray, shape: Shape4, xZeroPoint: number, geom: Pool2dGeometry): { sum: Int32Array; shape: [number, number, number, number]; count: number } {
  assertIntArray('avgpool x', x);
  const [N, C, H, W] = shape;
  const { kh, kw, sh, sw, ph, pw, oh, ow } = poolOut(shape, geom);
  const sum = new Int32Array(N * C * oh * ow);
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * H * W;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let s = 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - ph + ky;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pw + kx;
            if (ix < 0 || ix >= W) continue;
            s = (s + x[base + iy * W + ix] - xZeroPoint) | 0;
          }
        }
        sum[(nc * oh + oy) * ow + ox] = s;
      }
    }
  }
  return { sum, shape: [N, C, oh, ow], count: kh * kw };
}

/**
 * Convert time: requant spec of an average pool over `count` elements, real scale x_scale / (out_scale * count).
 * pytorch mode (ASSUMED, not in the conformance cases): M = f32(f32(x_scale / out_scale) * f32(1 / count)).
 */
export function avgPoolRequantSpec(
  mode: RequantMode,
  xScale: number,
  outScale: number,
  count: number,
  opts: { march?: March; bits?: number } = {},
): RequantSpec {
  if (mode === 'pytorch') {
    const f = Math.fround;
    return { mode: 'pytorch', multiplier: Float32Array.of(f(f(f(xScale) / f(outScale)) * f(1 / count))) };
  }
  return horizonRequantSpec([xScale / (outScale * count)], opts);
}

export function avgPool2dInt(
  x: IntArray,
  shape: Shape4,
  xZeroPoint: number,
  geom: Pool2dGeometry,
  requant: RequantSpec,
  out: OutputSpec,
): { data: IntArray; shape: [number, number, number, number] } {
  const r = avgPool2dSums(x, shape, xZeroPoint, geom);
  return { data: requantize(r.sum, requant, out, { channels: 1, inner: 1 }), shape: r.shape };
}

/** Global average pooling [N,C,H,W] -> [N,C,1,1]; count = H*W (pass it to avgPoolRequantSpec). */
export function globalAvgPoolInt(
  x: IntArray,
  shape: Shape4,
  xZeroPoint: number,
  requant: RequantSpec,
  out: OutputSpec,
): { data: IntArray; shape: [number, number, number, number] } {
  return avgPool2dInt(x, shape, xZeroPoint, { kernel: [shape[2], shape[3]] }, requant, out);
}


/**
 * Horizon requantization of average-pool window sums whose divisor varies: out = clamp(round(sum * m[c] / 2^s[c]))
 * with c = counts[position] − 1 (the multiplier of x_scale / (out_scale * count)), positions repeating per plane.
 */
export function requantizeByCount(sum: Int32Array, counts: Int32Array, multiplier: Int32Array, shift: Int32Array, out: OutputSpec): IntArray {
  const [lo, hi] = outputBounds(out);
  const res = allocInt(out.dtype, sum.length);
  const P = counts.length;
  for (let i = 0; i < sum.length; i++) {
    const c = counts[i % P] - 1;
    if (!(c >= 0 && c < multiplier.length)) throw new RangeError(`avgpool: window count ${c + 1} has no multiplier (${multiplier.length})`);
    res[i] = requantizeValueHorizon(sum[i], multiplier[c], shift[c], 0, lo, hi);
  }
  return res;
}
