/**
 * The fake-quant model's exact forward of Concat's rescale, Add / Sub and Mul on the device (shaders/fq_exact.wgsl;
 * the CPU reference is src/qmath/requant-exact.ts, bit for bit): one single-thread dispatch derives the integer
 * parameters from the sites' qparams (no read back), one elementwise dispatch computes the integers.
 */
import requantSrc from '../../../../shaders/int_requant.wgsl';
import exactSrc from '../../../../shaders/fq_exact.wgsl';
import { checkExact, type ConvExactSpec, type ExactSpec, type IntPart } from '../../../qmath/requant-exact.ts';
import type { ChannelLayout } from '../../backend.ts';
import { grid1d, i32, u32, type GpuContext, type GpuTensor } from '../gpu-context.ts';

const SHADER = { key: 'fq-exact', code: `${requantSrc}\n${exactSrc}` };
const OPS = { rescale: 0, add: 1, sub: 2, mul: 3, gap: 4 } as const;

/**
 * The integer parameters as 8 words: [ma, mb, shift, ok, bits(f32(1/s_a)), bits(f32(1/s_b)), bits(s_out),
 * bits(f32(1/s_out))] (exactParams of src/qmath/requant-exact.ts; ok = 0 where it is null).
 */
export function requantExactParams(ctx: GpuContext, spec: ExactSpec, qa: GpuTensor, qb: GpuTensor | null, qo: GpuTensor, count = 0): GpuTensor {
  const pr = ctx.empty([8]);
  ctx.run({
    ...SHADER, entry: 'params', inputs: [qa, qb ?? qa, qo], outputs: [pr],
    params: [u32(OPS[spec.op]), u32(spec.march === 'bernoulli' ? 1 : 0), u32(spec.bits), u32(count)], workgroups: [1],
  });
  return pr;
}

/** See Backend.requantExact. */
export function requantExact(
  ctx: GpuContext, spec: ExactSpec, v: GpuTensor, a: GpuTensor, b: GpuTensor | null,
  qa: GpuTensor, qb: GpuTensor | null, qo: GpuTensor,
): GpuTensor {
  checkExact(spec, v, a, b);
  const op = OPS[spec.op];
  const inner = spec.op === 'gap' ? a.size / v.size : b ? a.size / b.size : 1;
  const pr = requantExactParams(ctx, spec, qa, qb, qo, spec.op === 'gap' ? inner : 0);
  const y = ctx.empty(v.shape);
  if (v.size > 0) {
    ctx.run({
      ...SHADER, entry: 'apply', inputs: [v, a, b ?? a, pr], outputs: [y],
      params: [u32(v.size), u32(op), u32(inner), i32(spec.quantMin), i32(spec.quantMax), u32(0), u32(0), u32(0)],
      workgroups: grid1d(v.size),
    });
  }
  ctx.release(pr);
  return y;
}

/** See Backend.toInt. */
export function toInt(ctx: GpuContext, x: GpuTensor, qp: GpuTensor, layout: ChannelLayout, part: IntPart = 'all'): GpuTensor {
  if (qp.size !== 3 * layout.channels) throw new Error(`toInt: qparams [${qp.shape}] for ${layout.channels} channels`);
  const y = ctx.empty(x.shape);
  if (x.size > 0) {
    ctx.run({
      ...SHADER, entry: 'to_int', inputs: [x, qp], outputs: [y],
      params: [u32(x.size), u32(layout.channels), u32(layout.inner), u32({ all: 0, hi: 1, lo: 2 }[part])], workgroups: grid1d(x.size),
    });
  }
  return y;
}

/**
 * A conv's integer parameters: a header [bits(f32(1/s_a)), bits(s_out), bits(f32(1/s_out)), lo, hi, 0, 0, 0], then per
 * output channel [m, s, ma, ka, ok, int32 bias] (convExactParams and the clamp of src/qmath/requant-exact.ts).
 */
export function requantConvExactParams(
  ctx: GpuContext, spec: ConvExactSpec, bias: GpuTensor | null, bqp: GpuTensor | null, qa: GpuTensor | null, qx: GpuTensor, qw: GpuTensor, qo: GpuTensor,
): GpuTensor {
  const O = spec.channels;
  const cp = ctx.empty([8 + 6 * O]);
  const act = { none: 0, relu: 1, relu6: 2 }[spec.act];
  ctx.run({
    ...SHADER, entry: 'conv_params', inputs: [qx, qw, qo, qa ?? qo, bias ?? qw, bqp ?? qw], outputs: [cp],
    params: [u32(O), u32(spec.march === 'bernoulli' ? 1 : 0), u32(spec.bits), u32(qa ? 1 : 0), u32(bias ? 1 : 0), u32(act), i32(spec.quantMin), i32(spec.quantMax)],
    workgroups: [Math.ceil(O / 64)],
  });
  return cp;
}

/** See Backend.requantConvExact. */
export function requantConvExact(
  ctx: GpuContext, spec: ConvExactSpec, v: GpuTensor, acc: GpuTensor, accLo: GpuTensor | null, bias: GpuTensor | null, bqp: GpuTensor | null,
  a: GpuTensor | null, qa: GpuTensor | null, qx: GpuTensor, qw: GpuTensor, qo: GpuTensor,
): GpuTensor {
  const O = spec.channels;
  if ((spec.mode === 'split') !== (accLo !== null) || (accLo && accLo.size !== acc.size)) throw new Error(`requantConvExact ${spec.mode}: low accumulator [${accLo?.shape ?? ''}]`);
  if (acc.size !== v.size || v.size % (O * spec.inner) || qw.size !== 3 * O || (a && a.size !== v.size)) {
    throw new Error(`requantConvExact: output [${v.shape}], accumulator [${acc.shape}], weight qparams [${qw.shape}], add input [${a?.shape ?? ''}]`);
  }
  const cp = requantConvExactParams(ctx, spec, bias, bqp, qa, qx, qw, qo);
  const y = ctx.empty(v.shape);
  if (v.size > 0) {
    ctx.run({
      ...SHADER, entry: 'conv_apply', inputs: [v, acc, accLo ?? acc, a ?? acc, cp], outputs: [y],
      params: [u32(v.size), u32(O), u32(spec.inner), u32(a ? 1 : 0), i32(spec.quantMin), i32(spec.quantMax), u32(spec.mode === 'split' ? 1 : 0), u32(0)],
      workgroups: grid1d(v.size),
    });
  }
  ctx.release(cp);
  return y;
}
