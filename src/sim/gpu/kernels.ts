/**
 * The fixed-point simulator's integer kernels in WGSL (shaders/int_*.wgsl), bit-identical to the CPU kernels of
 * src/sim/int (tests/sim-gpu-*.test.ts compare them on random cases, both requant modes):
 *
 *  - conv2d (NCHW, zero points, groups incl. depthwise, stride, padding, dilation) and linear: int32 accumulation
 *    with int32 wrap-around, fused per-output-channel requantization ('horizon': 32x32 -> 64-bit product from
 *    16-bit limbs and a rounding shift; 'pytorch': exact f32(acc), f32 multiply, round half to even);
 *  - requantize (standalone), add (QNNPACK / horizon, exact 64-bit accumulator), relu / relu6, max / average /
 *    global average pooling.
 *
 * Two layers of API:
 *  - device-resident ops on {@link GpuIntTensor}s (`conv2d`, `linear`, `add`, ...), with weights, bias and
 *    requant parameters uploaded once per layer (`prepareDense`) so that a simulator runner can chain layers
 *    without reading back;
 *  - {@link createGpuIntKernels}: the CPU kernels' signatures, async, taking and returning typed arrays (one
 *    dispatch per call for the whole batch).
 *
 * Validation mirrors the CPU kernels (same errors for bad shapes, dtypes, multipliers, shifts). Restrictions of
 * the GPU path, all checked (RangeError): the output zero point must be an int32, pytorch multipliers finite in
 * float32; add's `x - x_zp` must fit in int32 and its accumulator bound |ma|·max|a - a_zp| + |mb|·max|b - b_zp| must be < 2^53 (beyond
 * that the CPU kernel's double arithmetic is no longer exact either); relu's zero point / q6 must be int32.
 */
import denseSrc from '../../../shaders/int_dense.wgsl';
import eltwiseSrc from '../../../shaders/int_eltwise.wgsl';
import poolSrc from '../../../shaders/int_pool.wgsl';
import requantSrc from '../../../shaders/int_requant.wgsl';
import { grid1d, i32, u32, type GpuContext, type GpuTensor, type ParamValue } from '../../engine/webgpu/gpu-context.ts';
import { uniforms } from '../../engine/webgpu/uniforms.ts';
import { poolOutSize } from '../../qmath/pool-window.ts';
import type { AddParams } from '../int/add.ts';
import { conv2dOutShape, pair, type Conv2dGeometry, type QConv2dInput } from '../int/conv2d.ts';
import type { QLinearInput } from '../int/linear.ts';
import type { Pool2dGeometry } from '../int/pool.ts';
import {
  DTYPE_RANGE, MAX_SHIFT, assertIntArray, outputBounds, requantize as requantizeCpu,
  type IntArray, type OutputSpec, type QDType, type RequantLayout, type RequantSpec,
} from '../int/requant.ts';
import { dtypeOf, readInt, uploadBits, uploadInt, type GpuIntTensor } from './bits.ts';

const DENSE = { key: 'sim-int-dense', code: `${requantSrc}\n${denseSrc}` };
const ELTWISE = { key: 'sim-int-eltwise', code: `${requantSrc}\n${eltwiseSrc}` };
const POOL_P = uniforms('Params', {
  total: 'u32', h: 'i32', w: 'i32', oh: 'i32', ow: 'i32', kh: 'i32', kw: 'i32', sh: 'i32', sw: 'i32', ph: 'i32', pw: 'i32',
  xzp: 'i32', mode: 'u32', ozp: 'i32', lo: 'i32', hi: 'i32', cnt: 'u32',
});
const POOL = { key: 'sim-int-pool', code: `${requantSrc}\n${POOL_P.wgsl}\n${poolSrc}` };

/** Shader sources with the requant helpers prepended (tests use the debug entries of `eltwise`). */
export const SIM_INT_SHADERS = { dense: DENSE, eltwise: ELTWISE, pool: POOL } as const;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const isInt32 = (v: number): boolean => Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX;

type Shader = { key: string; code: string };

function dispatch(ctx: GpuContext, s: Shader, entry: string, inputs: GpuTensor[], outputs: GpuTensor[], params: ParamValue[], total: number): void {
  ctx.run({ key: s.key, code: s.code, entry, inputs, outputs, params, workgroups: grid1d(total) });
}

// ---------------------------------------------------------------------------------------------------------------
// Requantization parameters
// ---------------------------------------------------------------------------------------------------------------

/** 0 = the accumulator as is (int32 high-precision output), 1 = horizon, 2 = pytorch. */
export type GpuRequantMode = 0 | 1 | 2;

/** Whether `requantize` returns the accumulator unchanged (int32 output without zero point or clamps). */
function isPassthrough(out: OutputSpec): boolean {
  return out.dtype === 'int32' && out.clampMin === undefined && out.clampMax === undefined && !(out.zeroPoint ?? 0);
}

/**
 * Validates (exactly as the CPU `requantize` does, by running it on an empty accumulator) and returns the mode and
 * the output window relative to the zero point.
 */
function outputWindow(spec: RequantSpec | null, out: OutputSpec, layout: RequantLayout): { mode: GpuRequantMode; ozp: number; lo: number; hi: number } {
  requantizeCpu(new Int32Array(0), spec, out, layout); // throws what the CPU kernel throws
  if (isPassthrough(out)) return { mode: 0, ozp: 0, lo: INT32_MIN, hi: INT32_MAX };
  const [lo, hi] = outputBounds(out);
  const ozp = out.zeroPoint ?? 0;
  if (!isInt32(ozp)) throw new RangeError(`gpu requant: output zero point ${ozp} is not an int32`);
  if (spec!.mode === 'pytorch' && !spec!.multiplier.every((m) => Number.isFinite(Math.fround(m)))) {
    throw new RangeError('gpu requant: pytorch multipliers must be finite float32 values');
  }
  return { mode: spec!.mode === 'horizon' ? 1 : 2, ozp, lo, hi };
}

/** chan[3c] = bias[c], chan[3c + 1] = multiplier bits, chan[3c + 2] = shift; per-tensor specs are expanded. */
export function channelWords(channels: number, bias: Int32Array | null | undefined, spec: RequantSpec | null, mode: GpuRequantMode): Int32Array {
  const words = new Int32Array(Math.max(1, channels) * 3);
  const f = new Float32Array(words.buffer);
  for (let c = 0; c < channels; c++) {
    words[3 * c] = bias ? bias[c] : 0;
    if (mode === 0 || !spec) continue;
    const k = spec.multiplier.length === 1 ? 0 : c;
    if (spec.mode === 'horizon') {
      words[3 * c + 1] = spec.multiplier[k];
      words[3 * c + 2] = spec.shift[k];
    } else {
      f[3 * c + 1] = Math.fround(spec.multiplier[k]);
    }
  }
  return words;
}

function outParams(w: { mode: GpuRequantMode; ozp: number; lo: number; hi: number }): ParamValue[] {
  return [u32(w.mode), i32(w.ozp), i32(w.lo), i32(w.hi)];
}

// ---------------------------------------------------------------------------------------------------------------
// Device-resident ops
// ---------------------------------------------------------------------------------------------------------------

/** Weights, bias and requantization of one conv / linear layer, uploaded once. Release with `releaseDense`. */
export interface GpuDenseLayer {
  readonly kind: 'conv2d' | 'linear';
  readonly w: GpuTensor;
  /** conv2d weights interleaved by 4 output channels (when O % 4 == 0), for the `conv2d_oc4` entry. */
  readonly w4: GpuTensor | null;
  readonly chan: GpuTensor;
  readonly wShape: readonly number[];
  readonly mode: GpuRequantMode;
  readonly out: OutputSpec;
  readonly window: { mode: GpuRequantMode; ozp: number; lo: number; hi: number };
}

/**
 * Uploads a conv2d ([O, I, KH, KW]) or linear ([O, K]) layer: int8 weights, int32 bias, requant spec and output
 * spec (validated like the CPU kernels).
 */
export function prepareDense(
  ctx: GpuContext,
  kind: 'conv2d' | 'linear',
  w: Int8Array,
  wShape: readonly number[],
  bias: Int32Array | null | undefined,
  spec: RequantSpec | null,
  out: OutputSpec,
): GpuDenseLayer {
  assertIntArray(`${kind} w`, w);
  if (bias != null) assertIntArray(`${kind} bias`, bias);
  if (wShape.length !== (kind === 'conv2d' ? 4 : 2)) throw new RangeError(`${kind}: bad weight shape [${wShape}]`);
  const O = wShape[0];
  if (w.length !== wShape.reduce((a, b) => a * b, 1)) throw new RangeError(`${kind}: w length != product of wShape`);
  if (bias != null && bias.length !== O) throw new RangeError(`${kind}: bias length != O`);
  const window = outputWindow(spec, out, { channels: O, inner: 1 });
  let w4: GpuTensor | null = null;
  if (kind === 'conv2d' && O % 4 === 0 && O > 0) {
    const per = w.length / O; // I * KH * KW
    const packed = new Int32Array(w.length);
    for (let o = 0; o < O; o++) for (let j = 0; j < per; j++) packed[((o >> 2) * per + j) * 4 + (o & 3)] = w[o * per + j];
    w4 = uploadBits(ctx, packed, [packed.length]);
  }
  return {
    kind,
    w: uploadBits(ctx, Int32Array.from(w), [w.length]),
    w4,
    chan: uploadBits(ctx, channelWords(O, bias, spec, window.mode), [Math.max(1, O) * 3]),
    wShape: [...wShape],
    mode: window.mode,
    out: { ...out },
    window,
  };
}

export function releaseDense(ctx: GpuContext, l: GpuDenseLayer): void {
  ctx.release(l.w);
  if (l.w4) ctx.release(l.w4);
  ctx.release(l.chan);
}

function checkZeroPoint(zp: number, what: string): void {
  if (!Number.isInteger(zp)) throw new TypeError(`${what} zero point must be an integer`);
}

/** conv2d on the GPU: x [N, C, H, W] (int8 / uint8 / int16 words), one dispatch for the whole batch. */
export function conv2d(ctx: GpuContext, x: GpuIntTensor, xZeroPoint: number, layer: GpuDenseLayer, geom: Conv2dGeometry = {}): GpuIntTensor {
  if (layer.kind !== 'conv2d') throw new Error('conv2d: layer prepared for linear');
  checkZeroPoint(xZeroPoint, 'conv2d x');
  if (x.shape.length !== 4) throw new RangeError(`conv2d: x shape [${x.shape}] is not NCHW`);
  const [N, C, H, W] = x.shape;
  const [O, I, KH, KW] = layer.wShape;
  const groups = geom.groups ?? 1;
  if (C % groups !== 0 || O % groups !== 0 || I !== C / groups) {
    throw new RangeError(`conv2d: C=${C}, O=${O}, I=${I} incompatible with groups=${groups}`);
  }
  const shape = conv2dOutShape(
    { x: new Int8Array(0), xShape: [N, C, H, W], xZeroPoint, w: new Int8Array(0), wShape: [O, I, KH, KW] }, geom,
  );
  const [, , OH, OW] = shape;
  if (OH <= 0 || OW <= 0) throw new RangeError('conv2d: empty output');
  const [sh, sw] = pair(geom.stride, 1);
  const [ph, pw] = pair(geom.padding, 0);
  const [dh, dw] = pair(geom.dilation, 1);
  const total = N * O * OH * OW;
  const y = ctx.empty([total]);
  if (total > 0) {
    // Four output channels per invocation when they share a group; otherwise one output per invocation.
    const oc4 = layer.w4 !== null && (O / groups) % 4 === 0;
    const threads = oc4 ? total / 4 : total;
    dispatch(ctx, DENSE, oc4 ? 'conv2d_oc4' : 'conv2d', [x.t, oc4 ? layer.w4! : layer.w, layer.chan], [y], [
      u32(threads), i32(C), i32(H), i32(W), i32(O), i32(OH), i32(OW), i32(I), i32(O / groups),
      i32(KH), i32(KW), i32(sh), i32(sw), i32(ph), i32(pw), i32(dh), i32(dw), i32(xZeroPoint | 0),
      ...outParams(layer.window),
    ], threads);
  }
  return { t: y, dtype: layer.out.dtype, shape };
}

/** linear on the GPU: x [N, K] -> [N, O]. */
export function linear(ctx: GpuContext, x: GpuIntTensor, xZeroPoint: number, layer: GpuDenseLayer): GpuIntTensor {
  if (layer.kind !== 'linear') throw new Error('linear: layer prepared for conv2d');
  checkZeroPoint(xZeroPoint, 'linear x');
  if (x.shape.length !== 2) throw new RangeError(`linear: x shape [${x.shape}] is not [N, K]`);
  const [N, K] = x.shape;
  const [O, K2] = layer.wShape;
  if (K !== K2) throw new RangeError(`linear: x has ${K} features, w expects ${K2}`);
  const total = N * O;
  const y = ctx.empty([total]);
  if (total > 0) {
    dispatch(ctx, DENSE, 'linear', [x.t, layer.w, layer.chan], [y], [
      u32(total), i32(K), i32(1), i32(1), i32(O), i32(1), i32(1), i32(K), i32(O),
      i32(1), i32(1), i32(1), i32(1), i32(0), i32(0), i32(1), i32(1), i32(xZeroPoint | 0),
      ...outParams(layer.window),
    ], total);
  }
  return { t: y, dtype: layer.out.dtype, shape: [N, O] };
}

/** Standalone requantization of an int32 tensor (channel = floor(i / inner) % channels). */
export function requantize(ctx: GpuContext, acc: GpuIntTensor, spec: RequantSpec | null, out: OutputSpec, layout: RequantLayout = {}): GpuIntTensor {
  if (acc.dtype !== 'int32') throw new TypeError('requantize: the accumulator must be int32');
  const window = outputWindow(spec, out, layout);
  const channels = window.mode === 0 ? 1 : (layout.channels ?? spec!.multiplier.length);
  const inner = layout.inner ?? 1;
  const chan = uploadBits(ctx, channelWords(channels, null, spec, window.mode), [Math.max(1, channels) * 3]);
  const total = acc.t.size;
  const y = ctx.empty([total]);
  if (total > 0) {
    dispatch(ctx, ELTWISE, 'requant', [acc.t, chan], [y], [u32(total), u32(channels), u32(Math.max(1, inner)), ...outParams(window)], total);
  }
  ctx.release(chan);
  return { t: y, dtype: out.dtype, shape: [...acc.shape] };
}

/** max over |x - zp| for a dtype's values, exact. */
function maxAbsDiff(dtype: QDType, zp: number): number {
  const [lo, hi] = DTYPE_RANGE[dtype];
  return Math.max(Math.abs(lo - zp), Math.abs(hi - zp));
}

/** Quantized add (no broadcasting): exact 64-bit accumulator, QNNPACK or horizon rounding. */
export function add(ctx: GpuContext, a: GpuIntTensor, aZeroPoint: number, b: GpuIntTensor, bZeroPoint: number, params: AddParams, out: OutputSpec): GpuIntTensor {
  if (a.t.size !== b.t.size) throw new RangeError('add: a and b differ in length (no broadcasting)');
  const { aMultiplier: ma, bMultiplier: mb, shift } = params;
  for (const v of [ma, mb, shift, aZeroPoint, bZeroPoint]) {
    if (!Number.isInteger(v)) throw new TypeError('add: multipliers, shift and zero points must be integers');
  }
  if (Math.abs(ma) >= 2 ** 31 || Math.abs(mb) >= 2 ** 31 || shift < 0 || shift > MAX_SHIFT) {
    throw new RangeError('add: multiplier / shift out of range');
  }
  for (const [t, zp] of [[a, aZeroPoint], [b, bZeroPoint]] as const) {
    const [lo, hi] = DTYPE_RANGE[t.dtype];
    if (!isInt32(lo - zp) || !isInt32(hi - zp)) throw new RangeError(`gpu add: ${t.dtype} input minus zero point ${zp} exceeds int32`);
  }
  if (Math.abs(ma) * maxAbsDiff(a.dtype, aZeroPoint) + Math.abs(mb) * maxAbsDiff(b.dtype, bZeroPoint) >= 2 ** 53) {
    throw new RangeError('gpu add: accumulator bound >= 2^53 (the CPU kernel is not exact there)');
  }
  const [lo, hi] = outputBounds(out);
  const ozp = out.zeroPoint ?? 0;
  if (!isInt32(ozp)) throw new RangeError(`gpu add: output zero point ${ozp} is not an int32`);
  const total = a.t.size;
  const y = ctx.empty([total]);
  if (total > 0) {
    dispatch(ctx, ELTWISE, 'add', [a.t, b.t], [y], [
      u32(total), i32(aZeroPoint), i32(bZeroPoint), i32(ma), i32(mb), u32(shift),
      u32(params.mode === 'pytorch' ? 2 : 1), i32(ozp), i32(lo), i32(hi),
    ], total);
  }
  return { t: y, dtype: out.dtype, shape: [...a.shape] };
}

/** relu (q6 undefined) or relu6; keeps the input dtype. */
export function relu(ctx: GpuContext, x: GpuIntTensor, zeroPoint: number, q6?: number): GpuIntTensor {
  if (!isInt32(zeroPoint) || (q6 !== undefined && !isInt32(q6))) throw new RangeError('gpu relu: zero point / q6 must be int32 integers');
  const total = x.t.size;
  const y = ctx.empty([total]);
  if (total > 0) {
    dispatch(ctx, ELTWISE, 'relu', [x.t], [y], [u32(total), i32(zeroPoint), i32(q6 ?? 0), u32(q6 === undefined ? 0 : 1)], total);
  }
  return { t: y, dtype: x.dtype, shape: [...x.shape] };
}

type Shape4 = readonly [number, number, number, number];

function poolGeometry(shape: readonly number[], g: Pool2dGeometry): { kh: number; kw: number; sh: number; sw: number; ph: number; pw: number; oh: number; ow: number } {
  if (shape.length !== 4) throw new RangeError(`pool: x shape [${shape}] is not NCHW`);
  const [kh, kw] = pair(g.kernel, 1);
  const [sh, sw] = pair(g.stride ?? g.kernel, 1);
  const [ph, pw] = pair(g.padding, 0);
  const oh = poolOutSize(shape[2], kh, sh, ph, g.ceilMode);
  const ow = poolOutSize(shape[3], kw, sw, pw, g.ceilMode);
  if (oh <= 0 || ow <= 0) throw new RangeError('pool: empty output');
  return { kh, kw, sh, sw, ph, pw, oh, ow };
}

function poolParams(
  shape: readonly number[], g: ReturnType<typeof poolGeometry>, total: number, xzp: number,
  w: { mode: GpuRequantMode; ozp: number; lo: number; hi: number }, cnt: 0 | 1 | 2,
): ParamValue[] {
  return POOL_P.pack({
    total, h: shape[2], w: shape[3], oh: g.oh, ow: g.ow, kh: g.kh, kw: g.kw, sh: g.sh, sw: g.sw, ph: g.ph, pw: g.pw, xzp: xzp | 0,
    mode: w.mode, ozp: w.ozp, lo: w.lo, hi: w.hi, cnt,
  });
}

/** Whether some window lies entirely in the padding along one axis (the CPU kernel throws then). */
function emptyWindow(size: number, k: number, s: number, pad: number, outSize: number): boolean {
  for (let o = 0; o < outSize; o++) {
    const a = o * s - pad;
    if (a + k <= 0 || a >= size) return true;
  }
  return false;
}

export function maxPool2d(ctx: GpuContext, x: GpuIntTensor, geom: Pool2dGeometry): GpuIntTensor {
  const g = poolGeometry(x.shape, geom);
  const [N, C, H, W] = x.shape;
  if (emptyWindow(H, g.kh, g.sh, g.ph, g.oh) || emptyWindow(W, g.kw, g.sw, g.pw, g.ow)) {
    if (N * C > 0) throw new RangeError('maxpool: window entirely in padding');
  }
  const total = N * C * g.oh * g.ow;
  const y = ctx.empty([total]);
  if (total > 0) dispatch(ctx, POOL, 'max_pool', [x.t], [y], poolParams(x.shape, g, total, 0, { mode: 0, ozp: 0, lo: 0, hi: 0 }, 0), total);
  return { t: y, dtype: x.dtype, shape: [N, C, g.oh, g.ow] };
}

/**
 * Average pooling, sums then the requantization (int32 output: the sums): per tensor, or with `byCount` (a divisor
 * per window: ceil_mode, count_include_pad = false) the spec's multiplier of the window's count (one per count
 * 1..kh*kw, src/sim/int/pool.ts requantizeByCount).
 */
export function avgPool2d(
  ctx: GpuContext, x: GpuIntTensor, xZeroPoint: number, geom: Pool2dGeometry, spec: RequantSpec | null, out: OutputSpec,
  byCount?: { includePad: boolean },
): GpuIntTensor {
  checkZeroPoint(xZeroPoint, 'avgpool x');
  const g = poolGeometry(x.shape, geom);
  const counts = byCount ? g.kh * g.kw : 1;
  if (byCount && (!spec || spec.mode !== 'horizon' || spec.multiplier.length !== counts)) throw new RangeError(`avgpool: a divisor per window needs ${counts} horizon multipliers`);
  const window = outputWindow(spec, out, { channels: counts, inner: 1 });
  const [N, C] = x.shape;
  const chan = uploadBits(ctx, channelWords(counts, null, spec, window.mode), [3 * counts]);
  const total = N * C * g.oh * g.ow;
  const y = ctx.empty([total]);
  const cnt = !byCount ? 0 : byCount.includePad ? 1 : 2;
  if (total > 0) dispatch(ctx, POOL, 'avg_pool', [x.t, chan], [y], poolParams(x.shape, g, total, xZeroPoint, window, cnt), total);
  ctx.release(chan);
  return { t: y, dtype: out.dtype, shape: [N, C, g.oh, g.ow] };
}

// ---------------------------------------------------------------------------------------------------------------
// The CPU kernels' signatures, async
// ---------------------------------------------------------------------------------------------------------------

export interface GpuIntKernels {
  readonly ctx: GpuContext;
  conv2dAccumulate(input: QConv2dInput, geom?: Conv2dGeometry): Promise<{ acc: Int32Array; shape: [number, number, number, number] }>;
  conv2dInt(input: QConv2dInput, geom: Conv2dGeometry, requant: RequantSpec | null, out: OutputSpec): Promise<{ data: IntArray; shape: [number, number, number, number] }>;
  linearAccumulate(input: QLinearInput): Promise<{ acc: Int32Array; shape: [number, number] }>;
  linearInt(input: QLinearInput, requant: RequantSpec | null, out: OutputSpec): Promise<{ data: IntArray; shape: [number, number] }>;
  requantize(acc: Int32Array, spec: RequantSpec | null, out: OutputSpec, layout?: RequantLayout): Promise<IntArray>;
  addInt(a: IntArray, aZeroPoint: number, b: IntArray, bZeroPoint: number, params: AddParams, out: OutputSpec): Promise<IntArray>;
  reluInt<T extends IntArray>(x: T, zeroPoint: number): Promise<T>;
  relu6Int<T extends IntArray>(x: T, zeroPoint: number, q6: number): Promise<T>;
  maxPool2dInt<T extends IntArray>(x: T, shape: Shape4, geom: Pool2dGeometry): Promise<{ data: T; shape: [number, number, number, number] }>;
  avgPool2dSums(x: IntArray, shape: Shape4, xZeroPoint: number, geom: Pool2dGeometry): Promise<{ sum: Int32Array; shape: [number, number, number, number]; count: number }>;
  avgPool2dInt(x: IntArray, shape: Shape4, xZeroPoint: number, geom: Pool2dGeometry, requant: RequantSpec, out: OutputSpec): Promise<{ data: IntArray; shape: [number, number, number, number] }>;
  globalAvgPoolInt(x: IntArray, shape: Shape4, xZeroPoint: number, requant: RequantSpec, out: OutputSpec): Promise<{ data: IntArray; shape: [number, number, number, number] }>;
}

function checkActivation(name: string, x: unknown, length: number): asserts x is IntArray {
  assertIntArray(name, x);
  if (x.length !== length) throw new RangeError(`${name}: length ${x.length} != product of the shape (${length})`);
}

const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Runs `f` on uploaded tensors and reads its result; every temporary is released. */
async function withTensors<R>(ctx: GpuContext, body: (keep: <T extends { t: GpuTensor } | GpuDenseLayer>(t: T) => T) => Promise<R>): Promise<R> {
  const temps: Array<{ t: GpuTensor } | GpuDenseLayer> = [];
  try {
    return await body((t) => {
      temps.push(t);
      return t;
    });
  } finally {
    for (const t of temps) {
      if ('kind' in t) releaseDense(ctx, t);
      else ctx.release(t.t);
    }
  }
}

const INT32_ACC: OutputSpec = { dtype: 'int32' };

export function createGpuIntKernels(ctx: GpuContext): GpuIntKernels {
  const convImpl = (input: QConv2dInput, geom: Conv2dGeometry, spec: RequantSpec | null, out: OutputSpec) => withTensors(ctx, async (keep) => {
    checkActivation('conv2d x', input.x, prod(input.xShape));
    checkZeroPoint(input.xZeroPoint, 'conv2d x');
    if (input.w.length !== prod(input.wShape)) throw new RangeError('conv2d: w length != product of wShape');
    const layer = keep(prepareDense(ctx, 'conv2d', input.w, input.wShape, input.bias, spec, out));
    const x = keep(uploadInt(ctx, input.x, input.xShape));
    const y = keep(conv2d(ctx, x, input.xZeroPoint, layer, geom));
    return { data: await readInt(ctx, y), shape: y.shape as [number, number, number, number] };
  });
  const linearImpl = (input: QLinearInput, spec: RequantSpec | null, out: OutputSpec) => withTensors(ctx, async (keep) => {
    checkActivation('linear x', input.x, prod(input.xShape));
    checkZeroPoint(input.xZeroPoint, 'linear x');
    if (input.w.length !== prod(input.wShape)) throw new RangeError('linear: data length != shape');
    const layer = keep(prepareDense(ctx, 'linear', input.w, input.wShape, input.bias, spec, out));
    const x = keep(uploadInt(ctx, input.x, input.xShape));
    const y = keep(linear(ctx, x, input.xZeroPoint, layer));
    return { data: await readInt(ctx, y), shape: y.shape as [number, number] };
  });
  const avgImpl = (x: IntArray, shape: Shape4, zp: number, geom: Pool2dGeometry, spec: RequantSpec | null, out: OutputSpec) => withTensors(ctx, async (keep) => {
    checkActivation('avgpool x', x, prod(shape));
    const tx = keep(uploadInt(ctx, x, shape));
    const y = keep(avgPool2d(ctx, tx, zp, geom, spec, out));
    return { data: await readInt(ctx, y), shape: y.shape as [number, number, number, number] };
  });
  const reluImpl = <T extends IntArray>(x: T, zp: number, q6?: number) => withTensors(ctx, async (keep) => {
    assertIntArray(q6 === undefined ? 'relu x' : 'relu6 x', x);
    const y = keep(relu(ctx, keep(uploadInt(ctx, x, [x.length])), zp, q6));
    const words = await readInt(ctx, { ...y, dtype: 'int32' });
    const res = new (x.constructor as new (n: number) => T)(x.length);
    res.set(words);
    return res;
  });
  return {
    ctx,
    conv2dAccumulate: async (input, geom = {}) => {
      const r = await convImpl(input, geom, null, INT32_ACC);
      return { acc: r.data as Int32Array, shape: r.shape };
    },
    conv2dInt: convImpl,
    linearAccumulate: async (input) => {
      const r = await linearImpl(input, null, INT32_ACC);
      return { acc: r.data as Int32Array, shape: r.shape };
    },
    linearInt: linearImpl,
    requantize: (acc, spec, out, layout = {}) => withTensors(ctx, async (keep) => {
      assertIntArray('acc', acc);
      if (!(acc instanceof Int32Array)) throw new TypeError('requantize: the accumulator must be an Int32Array');
      const y = keep(requantize(ctx, keep(uploadInt(ctx, acc, [acc.length])), spec, out, layout));
      return readInt(ctx, y);
    }),
    addInt: (a, aZeroPoint, b, bZeroPoint, params, out) => withTensors(ctx, async (keep) => {
      assertIntArray('add a', a);
      assertIntArray('add b', b);
      const y = keep(add(ctx, keep(uploadInt(ctx, a, [a.length])), aZeroPoint, keep(uploadInt(ctx, b, [b.length])), bZeroPoint, params, out));
      return readInt(ctx, y);
    }),
    reluInt: (x, zp) => reluImpl(x, zp),
    relu6Int: (x, zp, q6) => reluImpl(x, zp, q6),
    maxPool2dInt: <T extends IntArray>(x: T, shape: Shape4, geom: Pool2dGeometry) => withTensors(ctx, async (keep) => {
      checkActivation('maxpool x', x, prod(shape));
      const y = keep(maxPool2d(ctx, keep(uploadInt(ctx, x, shape, dtypeOf(x))), geom));
      const words = await readInt(ctx, { ...y, dtype: 'int32' });
      const data = new (x.constructor as new (n: number) => T)(words.length);
      data.set(words);
      return { data, shape: y.shape as [number, number, number, number] };
    }),
    avgPool2dSums: async (x, shape, zp, geom) => {
      const r = await avgImpl(x, shape, zp, geom, null, INT32_ACC);
      const [kh, kw] = pair(geom.kernel, 1);
      return { sum: r.data as Int32Array, shape: r.shape, count: kh * kw };
    },
    avgPool2dInt: (x, shape, zp, geom, spec, out) => avgImpl(x, shape, zp, geom, spec, out),
    globalAvgPoolInt: (x, shape, zp, spec, out) => avgImpl(x, shape, zp, { kernel: [shape[2], shape[3]] }, spec, out),
  };
}
