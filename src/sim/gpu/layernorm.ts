/**
 * The `layernorm` layer on the GPU (shaders/int_layernorm.wgsl): the table, gamma and beta uploaded once per
 * (model, context); per run a row pass (sums, reciprocal square root) and an element pass. Bit-identical to
 * layerNormInt (src/sim/int/layernorm.ts; tests/sim-layernorm.test.ts).
 */
import lnSrc from '../../../shaders/int_layernorm.wgsl';
import requantSrc from '../../../shaders/int_requant.wgsl';
import { grid1d, type GpuContext, type GpuTensor } from '../../engine/webgpu/gpu-context.ts';
import { uniforms } from '../../engine/webgpu/uniforms.ts';
import type { IntLayer } from '../model.ts';
import { SimError } from '../tensor.ts';
import { uploadBits, type GpuIntTensor } from './bits.ts';

type LayerNormLayer = Extract<IntLayer, { op: 'layernorm' }>;

const LN = uniforms('LnP', {
  rows: 'u32', d: 'u32', total: 'u32', pre_shift: 'u32', eps_lo: 'u32', eps_hi: 'u32', out_shift: 'u32',
  lo: 'i32', hi: 'i32', gamma_at: 'u32', beta_at: 'u32',
});
const SHADER = { key: 'sim-int-layernorm', code: `${requantSrc}\n${LN.wgsl}\n${lnSrc}` };

/** The low and high 32-bit words of a 64-bit two's complement integer |v| < 2^53, as signed words. */
const words64 = (v: number): [number, number] => {
  const hi = Math.floor(v / 4294967296);
  return [(v - hi * 4294967296) | 0, hi | 0];
};

/** The table, then G, then B as (low, high) word pairs, as one i32 buffer. */
export function uploadLayerNorm(ctx: GpuContext, l: LayerNormLayer): GpuTensor {
  const d = l.gamma.length, T = l.rsqrtTable.length;
  const w = new Int32Array(T + 3 * d);
  w.set(l.rsqrtTable);
  w.set(l.gamma, T);
  l.beta.forEach((b, j) => w.set(words64(b), T + d + 2 * j));
  return uploadBits(ctx, w, [w.length]);
}

export function layerNormGpu(ctx: GpuContext, x: GpuIntTensor, consts: GpuTensor, l: LayerNormLayer, dtype: GpuIntTensor['dtype']): GpuIntTensor {
  const d = l.gamma.length, total = x.t.size, rows = total / d;
  if (x.shape[x.shape.length - 1] !== d || !Number.isInteger(rows)) throw new SimError(`${l.id}: input [${x.shape}] is not rows of ${d} features`);
  const out = ctx.empty([total]);
  if (total > 0) {
    const [epsLo, epsHi] = words64(l.epsInt);
    const params = LN.pack({
      rows, d, total, pre_shift: l.preShift, eps_lo: epsLo >>> 0, eps_hi: epsHi >>> 0, out_shift: l.outShift,
      lo: l.clamp.lo, hi: l.clamp.hi, gamma_at: l.rsqrtTable.length, beta_at: l.rsqrtTable.length + d,
    });
    const stats = ctx.empty([3 * rows]);
    ctx.run({ key: SHADER.key, code: SHADER.code, entry: 'ln_stats', inputs: [x.t, consts], outputs: [stats], workgroups: grid1d(rows), params });
    ctx.run({ key: SHADER.key, code: SHADER.code, entry: 'ln_apply', inputs: [x.t, consts, stats], outputs: [out], workgroups: grid1d(total), params });
    ctx.release(stats);
  }
  return { t: out, dtype, shape: [...x.shape] };
}
