/**
 * WebGPU fake quantization (shaders/fake_quant.wgsl): forward per tensor / per channel (any axis), the STE
 * backward recomputing the mask from x, and the LSQ scale gradient. Bit-exact with
 * src/quant/fake-quantize-ref.ts on adapters that keep float32 subnormals (see {@link probeNumerics}).
 *
 * Quantization parameters live in a GPU buffer (a "qparams" tensor of 3 floats per channel:
 * `[scale, inv, zero_point]`, inv = f32(1 / f32(scale)) computed on the host) so that a QAT step can change
 * them without a new shader or pipeline; quant_min/quant_max and the rounding mode are uniforms.
 */
import code from '../../../../shaders/fake_quant.wgsl';
import type { RoundingMode } from '../../../qmath/rounding.ts';
import { channelLayout } from '../../../qmath/fake-quantize.ts';
import { f32, grid1d, u32, type GpuContext, type GpuTensor, type ParamValue } from '../gpu-context.ts';

/** A row-major tensor seen as [outer, channels, inner]; per tensor: {outer: 1, channels: 1, inner: n}. */
export interface ChannelLayout {
  outer: number;
  channels: number;
  inner: number;
}

export interface QuantRange {
  quantMin: number;
  quantMax: number;
  /** Default 'half_even' (PyTorch); 'bpu_round' = floor(x + 0.5) evaluated in float32. */
  rounding?: RoundingMode;
}

const F = Math.fround;
const TWO_POW_24 = 16777216;

export const perTensorLayout = (n: number): ChannelLayout => ({ outer: 1, channels: 1, inner: n });

/** Layout of `axis` (negative allowed) in a tensor of `shape`. */
export function axisLayout(shape: readonly number[], axis: number): ChannelLayout {
  return channelLayout(shape, axis);
}

/** `[scale, inv, zp]` per channel as float32, inv = f32(1 / f32(scale)) exactly as the CPU reference. */
export function packQParams(scales: ArrayLike<number>, zeroPoints: ArrayLike<number>): Float32Array {
  if (scales.length !== zeroPoints.length) throw new Error(`${scales.length} scales, ${zeroPoints.length} zero points`);
  const out = new Float32Array(3 * scales.length);
  for (let c = 0; c < scales.length; c++) {
    const s = F(scales[c]);
    const zp = zeroPoints[c];
    if (!Number.isInteger(zp) || Math.abs(zp) >= TWO_POW_24) throw new Error(`zero point ${zp} is not a float32-exact integer`);
    out[3 * c] = s;
    out[3 * c + 1] = F(1 / s);
    out[3 * c + 2] = zp;
  }
  return out;
}

/** Uploads a qparams tensor (shape [C, 3]). */
export function uploadQParams(ctx: GpuContext, scales: ArrayLike<number>, zeroPoints: ArrayLike<number>): GpuTensor {
  return ctx.upload(packQParams(scales, zeroPoints), [scales.length, 3]);
}

const INT32_MIN = -2147483648, INT32_MAX = 2147483647;

/** Ranges within 2^24 (exact in float32), or the int32 range of a bias (src/qmath/bias.ts; shaders/fake_quant.wgsl). */
function checkRange(r: QuantRange): void {
  const { quantMin: a, quantMax: b } = r;
  if (!Number.isInteger(a) || !Number.isInteger(b) || a > b) throw new Error(`bad quant range [${a}, ${b}]`);
  const int32 = a === INT32_MIN && b === INT32_MAX;
  if (!int32 && (Math.abs(a) > TWO_POW_24 || Math.abs(b) > TWO_POW_24)) throw new Error(`quant range [${a}, ${b}] is neither float32-exact nor int32`);
}

/** The STE mask's bounds: the floats inside [quantMin, quantMax] nearest to them (2^31 - 128 for 2^31 - 1). */
const maskBound = (v: number, up: boolean): number => {
  const f = F(v);
  if (f === v) return f;
  const bits = new Float32Array([f]);
  const u = new Int32Array(bits.buffer);
  u[0] += (f > v) === (f > 0) ? -1 : 1; // one float towards v (magnitude down if f overshoots away from zero)
  if (up ? bits[0] < v : bits[0] > v) throw new Error(`mask bound of ${v}`);
  return bits[0];
};

function checkLayout(x: GpuTensor, qp: GpuTensor, l: ChannelLayout): void {
  if (l.outer * l.channels * l.inner !== x.size) {
    throw new Error(`layout ${l.outer}x${l.channels}x${l.inner} does not match [${x.shape}] (${x.size} elements)`);
  }
  if (qp.size !== 3 * l.channels) throw new Error(`qparams hold ${qp.size / 3} channels, layout has ${l.channels}`);
}

function params(n: number, l: ChannelLayout, r: QuantRange, gradFactor = 0, slices = 0): ParamValue[] {
  checkRange(r);
  return [
    u32(n), u32(l.channels), u32(l.channels === 1 ? Math.max(1, n) : l.inner),
    u32((r.rounding ?? 'half_even') === 'half_even' ? 0 : 1),
    f32(r.quantMin), f32(r.quantMax), u32(0), f32(gradFactor), u32(slices),
    f32(maskBound(r.quantMin, true)), f32(maskBound(r.quantMax, false)), u32(0),
  ];
}

export interface FakeQuantResult {
  out: GpuTensor;
  /** STE mask as 0/1 floats, only when asked for. */
  mask?: GpuTensor;
}

/** Fake quantization forward with a qparams tensor ([C, 3], see {@link uploadQParams}). */
export function fakeQuantize(
  ctx: GpuContext, x: GpuTensor, qparams: GpuTensor, layout: ChannelLayout, range: QuantRange, withMask = false,
): FakeQuantResult {
  checkLayout(x, qparams, layout);
  const out = ctx.empty(x.shape);
  const mask = withMask ? ctx.empty(x.shape) : undefined;
  ctx.run({
    key: 'fake_quant', code, entry: withMask ? 'forward_mask' : 'forward',
    inputs: [x, qparams], outputs: mask ? [out, mask] : [out],
    params: params(x.size, layout, range), workgroups: grid1d(x.size),
  });
  return mask ? { out, mask } : { out };
}

/** STE backward: grad_x = grad_out * (qmin <= qval <= qmax), qval recomputed from x (no mask kept). */
export function fakeQuantizeBackward(
  ctx: GpuContext, gradOut: GpuTensor, x: GpuTensor, qparams: GpuTensor, layout: ChannelLayout, range: QuantRange,
): GpuTensor {
  checkLayout(x, qparams, layout);
  if (gradOut.size !== x.size) throw new Error(`grad [${gradOut.shape}] vs x [${x.shape}]`);
  const gx = ctx.empty(x.shape);
  ctx.run({
    key: 'fake_quant', code, entry: 'backward', inputs: [x, qparams, gradOut], outputs: [gx],
    params: params(x.size, layout, range), workgroups: grid1d(x.size),
  });
  return gx;
}

/** Per-tensor forward with host scale / zero point (uploads a one-channel qparams tensor, released here). */
export function fakeQuantizePerTensor(
  ctx: GpuContext, x: GpuTensor, scale: number, zeroPoint: number, range: QuantRange, withMask = false,
): FakeQuantResult {
  const qp = uploadQParams(ctx, [scale], [zeroPoint]);
  const r = fakeQuantize(ctx, x, qp, perTensorLayout(x.size), range, withMask);
  ctx.release(qp);
  return r;
}

/** Per-channel forward along `axis` of x.shape with host scales / zero points. */
export function fakeQuantizePerChannel(
  ctx: GpuContext, x: GpuTensor, scales: ArrayLike<number>, zeroPoints: ArrayLike<number>, axis: number,
  range: QuantRange, withMask = false,
): FakeQuantResult {
  const qp = uploadQParams(ctx, scales, zeroPoints);
  const r = fakeQuantize(ctx, x, qp, axisLayout(x.shape, axis), range, withMask);
  ctx.release(qp);
  return r;
}

/**
 * LSQ (Esser et al. 2019) gradient of the loss w.r.t. a per-tensor scale:
 * `gradFactor * sum(grad_out * d)`, d = round(x/s) - x/s inside [qmin, qmax], qmin - zp below, qmax - zp above
 * (x/s evaluated as f32(x * inv) like the forward). Returns a [1] tensor. Summed in float32 (two-level tree),
 * so it matches a float64 CPU sum only to rounding. gradFactor is typically 1 / sqrt(numel * quantMax).
 */
export function lsqScaleGrad(
  ctx: GpuContext, gradOut: GpuTensor, x: GpuTensor, qparams: GpuTensor, range: QuantRange, gradFactor = 1,
): GpuTensor {
  if (qparams.size !== 3) throw new Error('lsqScaleGrad: per-tensor qparams ([1, 3]) expected');
  if (gradOut.size !== x.size) throw new Error(`grad [${gradOut.shape}] vs x [${x.shape}]`);
  const slices = Math.max(1, Math.min(256, Math.ceil(x.size / (256 * 16))));
  const partial = ctx.empty([slices]);
  const layout = perTensorLayout(x.size);
  ctx.run({
    key: 'fake_quant', code, entry: 'lsq_partial', inputs: [x, qparams, gradOut], outputs: [partial],
    params: params(x.size, layout, range, gradFactor, slices), workgroups: [slices],
  });
  const out = ctx.empty([1]);
  ctx.run({
    key: 'fake_quant', code, entry: 'lsq_reduce', inputs: [partial], outputs: [out],
    params: params(x.size, layout, range, gradFactor, slices), workgroups: [1],
  });
  ctx.release(partial);
  return out;
}

export interface AdapterNumerics {
  /** WGSL round() rounded 0.5, 1.5, 2.5, -0.5, -2.5 half to even. */
  roundHalfEven: boolean;
  /** Subnormal inputs and results of a multiplication were kept (no flush to zero). */
  subnormals: boolean;
}

/**
 * What this adapter does with the two things bit-exactness depends on. On an adapter that flushes subnormals,
 * fake quant differs from the CPU reference only where x * inv or (q - zp) * scale is subnormal (|.| < 2^-126),
 * i.e. with scales near 2^-126 or below (the conformance cases use 1e-45 / 1e-40 inputs with scales >= 2^-120:
 * there x * inv rounds to 0 either way).
 */
export async function probeNumerics(ctx: GpuContext): Promise<AdapterNumerics> {
  // per tensor, scale 1 (inv 1), zp 0, wide range: out = round(x)
  const ties = Float32Array.from([0.5, 1.5, 2.5, -0.5, -2.5]);
  const x = ctx.upload(ties, [ties.length]);
  const r = fakeQuantizePerTensor(ctx, x, 1, 0, { quantMin: -100, quantMax: 100 });
  const got = await ctx.read(r.out);
  ctx.release(x);
  ctx.release(r.out);
  const roundHalfEven = [0, 2, 2, -0, -2].every((v, i) => got[i] === v);
  // Two channels with hand-made qparams: channel 0 has a subnormal scale 2^-140 (inv 1) and x = 3, so
  // out = 3 * 2^-140 is a subnormal result; channel 1 has scale 1, inv 2^127 and a subnormal x = 3 * 2^-128,
  // so x * inv = 1.5 -> 2 only if the subnormal input is kept.
  const qp = ctx.upload(Float32Array.from([2 ** -140, 1, 0, 1, 2 ** 127, 0]), [2, 3]);
  const x2 = ctx.upload(Float32Array.from([3, 3 * 2 ** -128]), [2]);
  const r2 = fakeQuantize(ctx, x2, qp, { outer: 1, channels: 2, inner: 1 }, { quantMin: -100, quantMax: 100 });
  const got2 = await ctx.read(r2.out);
  for (const t of [qp, x2, r2.out]) ctx.release(t);
  const subnormals = got2[0] === F(3 * 2 ** -140) && got2[1] === 2;
  return { roundHalfEven, subnormals };
}
