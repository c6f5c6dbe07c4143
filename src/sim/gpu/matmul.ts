/**
 * The simulator's `matmul` layer on the GPU (shaders/int_matmul.wgsl): the batched product of two int8 / int16
 * activations with int32 accumulation, requantized per tensor with the horizon multiplier and shift and clamped,
 * bit-identical to matmulInt (src/sim/int/tokens.ts). An accumulator that leaves int32 (an error on the CPU) marks
 * the run's status word with `code` (src/sim/run-gpu.ts turns it into the same refusal).
 */
import matmulSrc from '../../../shaders/int_matmul.wgsl';
import requantSrc from '../../../shaders/int_requant.wgsl';
import { grid1d, type GpuContext, type GpuTensor } from '../../engine/webgpu/gpu-context.ts';
import { uniforms } from '../../engine/webgpu/uniforms.ts';
import type { RequantParams } from '../model.ts';
import { MAX_SHIFT, outputBounds, type QDType } from '../int/requant.ts';
import { SimError } from '../tensor.ts';
import type { GpuIntTensor } from './bits.ts';

const MATMUL = uniforms('IntMatmul', {
  total: 'u32', m: 'u32', n: 'u32', k: 'u32', a_m: 'u32', a_k: 'u32', b_k: 'u32', b_n: 'u32',
  mult: 'u32', shift: 'u32', lo: 'i32', hi: 'i32', code: 'u32',
});
const SHADER = { key: 'sim-int-matmul', code: `${requantSrc}\n${MATMUL.wgsl}\n${matmulSrc}` };

export interface GpuMatmulSpec {
  transA?: boolean;
  transB: boolean;
  requant: RequantParams;
  dtype: QDType;
  lo: number;
  hi: number;
  /** One i32 word; an output whose accumulator leaves int32 lowers it to `code` (atomicMin). */
  status: GpuTensor;
  code: number;
}

/** a [..., M, K] (transA: [..., K, M]) times b [..., K, N] (transB: [..., N, K]) -> [..., M, N] in `dtype`. */
export function matmulIntGpu(ctx: GpuContext, a: GpuIntTensor, b: GpuIntTensor, o: GpuMatmulSpec): GpuIntTensor {
  const r = a.shape.length;
  const [M, K] = o.transA ? [a.shape[r - 1], a.shape[r - 2]] : [a.shape[r - 2], a.shape[r - 1]];
  const [Kb, N] = o.transB ? [b.shape[r - 1], b.shape[r - 2]] : [b.shape[r - 2], b.shape[r - 1]];
  if (r < 2 || K !== Kb || b.shape.length !== r || a.shape.slice(0, r - 2).some((d, i) => d !== b.shape[i])) {
    throw new SimError(`matmul: [${a.shape}]${o.transA ? 'ᵀ' : ''} x [${b.shape}]${o.transB ? 'ᵀ' : ''} do not multiply`);
  }
  // int8 / int16 / uint8 values only: every product then fits in int32, as the kernel needs
  for (const t of [a, b]) if (t.dtype === 'int32') throw new SimError('matmul: int32 operands have no GPU run (int8 / int16 inputs only)');
  const m = o.requant.multiplier[0], s = o.requant.shift[0];
  if (o.requant.multiplier.length !== 1 || !(m >= 0 && m < 2 ** 31) || !(s >= 0 && s <= MAX_SHIFT)) throw new RangeError('matmul: needs one multiplier in [0, 2^31) and a shift in [0, 63]');
  const [lo, hi] = outputBounds({ dtype: o.dtype, clampMin: o.lo, clampMax: o.hi });
  const shape = [...a.shape.slice(0, r - 2), M, N];
  const total = shape.reduce((p, d) => p * d, 1);
  const y = ctx.empty([total]);
  if (total > 0) {
    ctx.run({
      ...SHADER, entry: 'int_matmul', inputs: [a.t, b.t], outputs: [y, o.status], workgroups: grid1d(total),
      params: MATMUL.pack({
        total, m: M, n: N, k: K,
        a_m: o.transA ? 1 : K, a_k: o.transA ? M : 1, b_k: o.transB ? 1 : N, b_n: o.transB ? K : 1,
        mult: m, shift: s, lo, hi, code: o.code,
      }),
    });
  }
  return { t: y, dtype: o.dtype, shape };
}
