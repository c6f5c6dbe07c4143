/**
 * The fake-quant model's exact forward of Concat's rescale, Add / Sub and Mul on the device (shaders/fq_exact.wgsl;
 * the CPU reference is src/qmath/requant-exact.ts, bit for bit): one single-thread dispatch derives the integer
 * parameters from the sites' qparams (no read back), one elementwise dispatch computes the integers.
 */
import requantSrc from '../../../../shaders/int_requant.wgsl';
import exactSrc from '../../../../shaders/fq_exact.wgsl';
import type { ExactSpec } from '../../../qmath/requant-exact.ts';
import { grid1d, i32, u32, type GpuContext, type GpuTensor } from '../gpu-context.ts';

const SHADER = { key: 'fq-exact', code: `${requantSrc}\n${exactSrc}` };
const OPS = { rescale: 0, add: 1, sub: 2, mul: 3 } as const;

/**
 * The integer parameters as 8 words: [ma, mb, shift, ok, bits(f32(1/s_a)), bits(f32(1/s_b)), bits(s_out),
 * bits(f32(1/s_out))] (exactParams of src/qmath/requant-exact.ts; ok = 0 where it is null).
 */
export function requantExactParams(ctx: GpuContext, spec: ExactSpec, qa: GpuTensor, qb: GpuTensor | null, qo: GpuTensor): GpuTensor {
  const pr = ctx.empty([8]);
  ctx.run({
    ...SHADER, entry: 'params', inputs: [qa, qb ?? qa, qo], outputs: [pr],
    params: [u32(OPS[spec.op]), u32(spec.march === 'bernoulli' ? 1 : 0), u32(spec.bits), u32(0)], workgroups: [1],
  });
  return pr;
}

/** See Backend.requantExact. */
export function requantExact(
  ctx: GpuContext, spec: ExactSpec, v: GpuTensor, a: GpuTensor, b: GpuTensor | null,
  qa: GpuTensor, qb: GpuTensor | null, qo: GpuTensor,
): GpuTensor {
  if (a.size !== v.size) throw new Error(`requantExact: a [${a.shape}] vs output [${v.shape}]`);
  if (b && (!b.size || a.size % b.size)) throw new Error(`requantExact: b [${b.shape}] does not divide a [${a.shape}]`);
  if ((spec.op === 'rescale') !== (b === null)) throw new Error(`requantExact ${spec.op}: ${b ? 'two' : 'one'} inputs`);
  const op = OPS[spec.op];
  const pr = requantExactParams(ctx, spec, qa, qb, qo);
  const y = ctx.empty(v.shape);
  if (v.size > 0) {
    ctx.run({
      ...SHADER, entry: 'apply', inputs: [v, a, b ?? a, pr], outputs: [y],
      params: [u32(v.size), u32(op), u32(b ? a.size / b.size : 1), i32(spec.quantMin), i32(spec.quantMax), u32(0), u32(0), u32(0)],
      workgroups: grid1d(v.size),
    });
  }
  ctx.release(pr);
  return y;
}
