/** CPU runs of the elementwise layer kinds: add, rescale (relu / relu6 / concat), mul, affine, lut. */
import { addInt } from '../int/add.ts';
import { lutApply } from '../int/lut.ts';
import { mulAcc } from '../int/mul.ts';
import { allocInt, type IntArray } from '../int/requant.ts';
import type { ValueInfo } from '../model.ts';
import { asInt32, EXACT, maxAbsOf, requantExactRange, requantTo, type CpuRun, type LayerOf } from './context.ts';

export const addCpu: CpuRun<'add'> = (layer, [x, y], { info }) => {
  const fast = addFast(x.data, y.data, layer.params.aMultiplier, layer.params.bMultiplier, layer.params.shift, info.dtype, layer.clamp.lo, layer.clamp.hi);
  if (fast) return { data: fast, shape: [...x.shape] };
  const data = addInt(x.data, 0, y.data, 0, layer.params, { dtype: info.dtype, clampMin: layer.clamp.lo, clampMax: layer.clamp.hi });
  return { data, shape: [...x.shape] };
};

/** relu / relu6 / concat with their own scale: multiplier + shift from each input's scale, then the clamp. */
export const rescaleCpu: CpuRun<'rescale'> = (layer, inputs, { info, N }) => {
  const parts = inputs.map((t, i) => requantTo(asInt32(t.data), layer.requant[i], info.dtype, layer.clamp.lo, layer.clamp.hi, 1, 1));
  if (parts.length === 1) return { data: parts[0], shape: [...inputs[0].shape] };
  // concat along channels (axis 1)
  const per = inputs.map((t) => t.data.length / N);
  const total = per.reduce((a, b) => a + b, 0);
  const out = allocInt(info.dtype, N * total);
  for (let n = 0; n < N; n++) {
    let off = n * total;
    parts.forEach((p, i) => {
      out.set(p.subarray(n * per[i], (n + 1) * per[i]), off);
      off += per[i];
    });
  }
  return { data: out, shape: [N, ...info.shape] };
};

/**
 * a · b[i / inner] requantized (src/sim/int/mul.ts mulInt is the reference). When every product times the
 * multiplier is an exact double (int8 · int8 always), one pass computes and requantizes; otherwise the int32
 * products, then the SIMD requantization.
 */
export const mulCpu: CpuRun<'mul'> = (layer, [a, b], { info }) => {
  const m = layer.requant.multiplier[0], s = layer.requant.shift[0];
  const ad = a.data, bd = b.data;
  if (bd.length && ad.length % bd.length === 0 && maxAbsOf(ad) * maxAbsOf(bd) * m < EXACT && info.dtype !== 'int32') {
    const out = allocInt(info.dtype, ad.length);
    const inner = ad.length / bd.length;
    if (inner === 1) for (let i = 0; i < ad.length; i++) requantExactRange(out, ad, i, i + 1, bd[i], m, s, 0, layer.clamp.lo, layer.clamp.hi);
    else for (let c = 0; c < bd.length; c++) requantExactRange(out, ad, c * inner, (c + 1) * inner, bd[c], m, s, 0, layer.clamp.lo, layer.clamp.hi);
    return { data: out, shape: [...a.shape] };
  }
  return { data: requantTo(mulAcc(ad, bd), layer.requant, info.dtype, layer.clamp.lo, layer.clamp.hi, 1, 1), shape: [...a.shape] };
};

/** The offset is the output zero point of the requantization (src/sim/int/mul.ts affineInt is the reference). */
export const affineCpu: CpuRun<'affine'> = (layer, [x], { info }) => {
  const m = layer.requant.multiplier[0], s = layer.requant.shift[0];
  if (maxAbsOf(x.data) * m < EXACT && info.dtype !== 'int32') {
    const out = allocInt(info.dtype, x.data.length);
    requantExactRange(out, x.data, 0, x.data.length, 1, m, s, layer.offset, layer.clamp.lo, layer.clamp.hi);
    return { data: out, shape: [...x.shape] };
  }
  return { data: requantTo(asInt32(x.data), layer.requant, info.dtype, layer.clamp.lo, layer.clamp.hi, 1, 1, layer.offset), shape: [...x.shape] };
};

/**
 * The table of every possible input, per channel, built once per layer by the reference lutApply itself (so the
 * same integers by construction), for int8 / uint8 inputs and single-table int16 inputs; then one read per element.
 */
const dense = new WeakMap<object, { key: string; table: IntArray }>();
function denseTable(layer: LayerOf<'lut'>, x: IntArray, dtype: ValueInfo['dtype']): IntArray | null {
  const bits = x instanceof Int8Array && layer.inOffset === 128 ? 8 : x instanceof Uint8Array && layer.inOffset === 0 ? 8
    : x instanceof Int16Array && layer.inOffset === 32768 && layer.channels === 1 ? 16 : 0;
  if (!bits) return null;
  const key = `${bits} ${dtype} ${layer.clamp.lo} ${layer.clamp.hi}`;
  const hit = dense.get(layer);
  if (hit?.key === key) return hit.table;
  const n = 2 ** bits, C = layer.channels;
  const all = new (x.constructor as new (n: number) => IntArray)(C * n);
  for (let c = 0; c < C; c++) for (let u = 0; u < n; u++) all[c * n + u] = u - layer.inOffset;
  const table = lutApply(all, [1, C, n], layer, dtype, layer.clamp.lo, layer.clamp.hi);
  dense.set(layer, { key, table });
  return table;
}

export const lutCpu: CpuRun<'lut'> = (layer, [x], { info }) => {
  const table = denseTable(layer, x.data, info.dtype);
  if (!table) return { data: lutApply(x.data, x.shape, layer, info.dtype, layer.clamp.lo, layer.clamp.hi), shape: [...x.shape] };
  const xd = x.data, out = allocInt(info.dtype, xd.length), off = layer.inOffset;
  const n = layer.inOffset === 32768 ? 65536 : 256;
  const inner = layer.channels === 1 ? xd.length : x.shape.slice(2).reduce((a, b) => a * b, 1);
  for (let b = 0, c = 0; b < xd.length; b += inner, c = (c + 1) % layer.channels) {
    const t = c * n + off;
    for (let i = b; i < b + inner; i++) out[i] = table[t + xd[i]];
  }
  return { data: out, shape: [...x.shape] };
};

/**
 * The 'horizon' add (add.ts) in int32 arithmetic, when it provably fits: with |a|, |b| ≤ 2^15 (int8/int16, zero
 * point 0) and |ma|·max|a| + |mb|·max|b| + 2^(shift−1) < 2^31, acc = ma·a + mb·b and acc + 2^(shift−1) are exact
 * int32, and (acc + 2^(shift−1)) >> shift is floor((acc + 2^(shift−1)) / 2^shift) = roundShiftHalfUp(acc, shift):
 * the same integers as addInt. Returns null when the bound does not hold (the caller uses addInt).
 */
function addFast(a: IntArray, b: IntArray, ma: number, mb: number, shift: number, dtype: ValueInfo['dtype'], lo: number, hi: number): IntArray | null {
  const maxAbs = (t: IntArray) => (t instanceof Int8Array ? 128 : t instanceof Uint8Array ? 255 : t instanceof Int16Array ? 32768 : Infinity);
  if (a.length !== b.length || shift > 30 || (dtype !== 'int8' && dtype !== 'int16')) return null;
  const half = shift === 0 ? 0 : 2 ** (shift - 1);
  if (Math.abs(ma) * maxAbs(a) + Math.abs(mb) * maxAbs(b) + half >= 2 ** 31) return null;
  const out = dtype === 'int8' ? new Int8Array(a.length) : new Int16Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = (ma * a[i] + mb * b[i] + half) >> shift;
    out[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return out;
}
