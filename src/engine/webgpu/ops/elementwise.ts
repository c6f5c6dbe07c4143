import binaryCode from '../../../../shaders/elementwise.wgsl';
import unaryCode from '../../../../shaders/unary.wgsl';
import { grid1d, type GpuContext, type GpuTensor } from '../gpu-context.ts';
import { uniforms } from '../uniforms.ts';

/** The uniforms of unary.wgsl and elementwise.wgsl, declared once. */
const PARAMS = uniforms('Params', { n: 'u32', lo: 'f32', hi: 'f32', s: 'f32', b: 'f32' });
const UNARY = `${PARAMS.wgsl}\n${unaryCode}`;
const BINARY = `${PARAMS.wgsl}\n${binaryCode}`;

const F32_MAX = 3.4028234663852886e38;
/** WGSL has no infinity literal and uniforms must be finite-safe: map ±Infinity to ±F32_MAX. */
const finite = (v: number) => Math.max(-F32_MAX, Math.min(F32_MAX, v));

function sameShape(a: GpuTensor, b: GpuTensor, op: string): void {
  if (a.size !== b.size) throw new Error(`${op}: shapes [${a.shape}] and [${b.shape}] differ`);
}

function unary(ctx: GpuContext, entry: string, x: GpuTensor, lo: number, hi: number, s: number, b = 0): GpuTensor {
  const out = ctx.empty(x.shape);
  ctx.run({
    key: 'unary', code: UNARY, entry, inputs: [x], outputs: [out],
    params: PARAMS.pack({ n: x.size, lo: finite(lo), hi: finite(hi), s, b }), workgroups: grid1d(x.size),
  });
  return out;
}

function binary(ctx: GpuContext, entry: string, a: GpuTensor, b: GpuTensor, lo = 0, hi = 0): GpuTensor {
  sameShape(a, b, entry);
  const out = ctx.empty(a.shape);
  ctx.run({
    key: 'elementwise', code: BINARY, entry, inputs: [a, b], outputs: [out],
    params: PARAMS.pack({ n: a.size, lo: finite(lo), hi: finite(hi), s: 0, b: 0 }), workgroups: grid1d(a.size),
  });
  return out;
}

export const add = (ctx: GpuContext, a: GpuTensor, b: GpuTensor) => binary(ctx, 'add', a, b);
export const scale = (ctx: GpuContext, a: GpuTensor, s: number) => unary(ctx, 'scale', a, 0, 0, s);
/** x * a + b (scalars). */
export const affine = (ctx: GpuContext, x: GpuTensor, a: number, b: number) => unary(ctx, 'affine', x, 0, 0, a, b);
export const clamp = (ctx: GpuContext, x: GpuTensor, lo: number, hi: number) => unary(ctx, 'clamp', x, lo, hi, 0);
export const clampBackward = (ctx: GpuContext, dy: GpuTensor, x: GpuTensor, lo: number, hi: number) =>
  binary(ctx, 'clamp_backward', dy, x, lo, hi);

/** Same values under a new shape, as an independent copy (keeps release semantics simple). */
export function reshape(ctx: GpuContext, x: GpuTensor, shape: readonly number[]): GpuTensor {
  const out = ctx.empty(shape);
  if (out.size !== x.size) {
    ctx.release(out);
    throw new Error(`reshape: [${x.shape}] has ${x.size} elements, [${shape}] needs ${out.size}`);
  }
  ctx.copy(x, out);
  return out;
}
