/**
 * The simulator's `softmax` layer on the GPU (shaders/int_softmax.wgsl): the exp table uploaded once per (model,
 * context); per run one dispatch for the row statistics (max, 64-bit sum of table entries) and one for the outputs
 * (the fixed-point reciprocal in exact 64-bit integers). Bit-identical to softmaxInt (src/sim/int/tokens.ts).
 */
import softmaxSrc from '../../../shaders/int_softmax.wgsl';
import requantSrc from '../../../shaders/int_requant.wgsl';
import { grid1d, type GpuContext, type GpuTensor } from '../../engine/webgpu/gpu-context.ts';
import { uniforms } from '../../engine/webgpu/uniforms.ts';
import type { IntLayer } from '../model.ts';
import { DTYPE_RANGE, type QDType } from '../int/requant.ts';
import { SimError } from '../tensor.ts';
import { uploadBits, type GpuIntTensor } from './bits.ts';

type SoftmaxLayer = Extract<IntLayer, { op: 'softmax' }>;

const SOFTMAX = uniforms('IntSoftmax', { rows: 'u32', d: 'u32', table_len: 'u32', recip: 'u32', shift: 'u32', lo: 'i32', hi: 'i32' });
const SHADER = { key: 'sim-int-softmax', code: `${requantSrc}\n${SOFTMAX.wgsl}\n${softmaxSrc}` };

/** The exp table as i32 words (entries ≥ 0: an exp table's values; the kernel sums them as unsigned). */
export function uploadSoftmax(ctx: GpuContext, l: SoftmaxLayer): GpuTensor {
  if (l.expTable.some((e) => e < 0)) throw new SimError(`${l.id}: softmax exp table has negative entries`);
  return uploadBits(ctx, l.expTable, [l.expTable.length]);
}

/**
 * The largest table entry times the products of the CPU formula must stay below 2^53 (where the CPU's doubles are
 * exact integers, as convert checks): 2·e·recip and 2·S·2^recipShift with S ≤ d·max e.
 */
function checkExact(l: SoftmaxLayer, d: number): void {
  let emax = 0;
  for (const e of l.expTable) emax = Math.max(emax, e);
  if (!(l.recip < 2 ** 32) || !(l.recipShift <= 62) || 2 * emax * l.recip >= 2 ** 53 || 2 * d * emax * 2 ** l.recipShift >= 2 ** 53) {
    throw new SimError(`${l.id}: softmax rows of ${d} with reciprocal ${l.recip} / 2^${l.recipShift} leave the exact integer range (2^53)`);
  }
}

export function softmaxIntGpu(ctx: GpuContext, x: GpuIntTensor, table: GpuTensor, l: SoftmaxLayer, dtype: QDType): GpuIntTensor {
  const d = x.shape[x.shape.length - 1];
  checkExact(l, d);
  // the CPU clamps to [lo, hi] and stores into the dtype's array: the same only for a clamp inside the dtype
  const { lo, hi } = l.clamp;
  const [dmin, dmax] = DTYPE_RANGE[dtype];
  if (!(dmin <= lo && lo <= hi && hi <= dmax)) throw new SimError(`${l.id}: softmax clamp [${lo}, ${hi}] is not inside ${dtype}`);
  const total = x.t.size;
  const rows = d > 0 ? total / d : 0;
  const y = ctx.empty([total]);
  if (total > 0) {
    const params = SOFTMAX.pack({ rows, d, table_len: l.expTable.length, recip: l.recip, shift: l.recipShift, lo, hi });
    const stats = ctx.empty([3 * rows]);
    ctx.run({ ...SHADER, entry: 'softmax_stats', inputs: [x.t, table], outputs: [stats], params, workgroups: grid1d(rows) });
    ctx.run({ ...SHADER, entry: 'softmax_out', inputs: [x.t, table, stats], outputs: [y], params, workgroups: grid1d(total) });
    ctx.release(stats);
  }
  return { t: y, dtype, shape: [...x.shape] };
}
