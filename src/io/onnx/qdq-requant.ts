/**
 * The simulator's integer requantization written as exact int64 ONNX ops, for the QDQ export of the ops whose float
 * form (DequantizeLinear, float op, QuantizeLinear) would round differently from the simulator: the add (16-bit
 * multipliers and one shift, round half up: src/sim/int/add.ts), the add input of a fused Conv+Add (rescaled into
 * the accumulator's domain with a 32-bit multiplier, round half up: src/sim/cpu/dense.ts) and each rescaled input of
 * a concat (32-bit multiplier, round half up, clamp: src/sim/cpu/eltwise.ts). onnxruntime's
 * QuantizeLinear rounds half to even and its float math is not the multiplier's, and a network amplifies each
 * 1-LSB difference (a residual model's top-1 agreement fell to 88 %), so these values are computed as the
 * simulator computes them: same integers.
 *
 * round_half_up(v / 2^s) = floor((v + 2^(s−1)) / 2^s) (v + 0 for s = 0). ONNX integer Div truncates toward zero, so
 * the dividend is first made positive by adding OFFSET = 2^48 (a multiple of every 2^s, s ≤ 48) and OFFSET / 2^s is
 * subtracted after the division; exact for |v| < 2^47 (the callers' bounds: |x| ≤ 2^15, multipliers < 2^31).
 */
import type { QdqCtx } from '../../ops/types.ts';
import { attrInt } from './attrs.ts';
import { DataType } from './proto.ts';

const OFFSET_BITS = 48;

/** What these writers need of the export's context (src/ops/types.ts QdqCtx). */
export type IntOpsCtx = Pick<QdqCtx, 'emit' | 'constI'>;

/** The int64 tensor of an integer tensor (int8 / int16 / int32). */
export function toInt64(c: IntOpsCtx, x: string, tag: string): string {
  return c.emit('Cast', [x], `${tag}.i64`, [attrInt('to', DataType.INT64)]);
}

/** The shape of a per-channel constant (channel axis 1) broadcast against a value of `rank`; [] for one value. */
const constShape = (n: number, rank: number) => (n === 1 ? [] : [1, n, ...new Array(Math.max(0, rank - 2)).fill(1)]);

/**
 * round_half_up(v / 2^s) of an int64 tensor, s per tensor (length 1) or per channel of axis 1 (rank: v's rank).
 * Nodes are named `<node id>.<tag>.*` (QdqCtx.emit), constants `<id>.<tag>.*`.
 */
export function emitRoundShift(c: IntOpsCtx, id: string, v: string, shift: ArrayLike<number>, rank: number, tag: string): string {
  const s = Array.from(shift);
  if (s.some((k) => !Number.isInteger(k) || k < 0 || k > OFFSET_BITS)) throw new RangeError(`${tag}: shift out of 0..${OFFSET_BITS}: ${s.find((k) => !(k >= 0 && k <= OFFSET_BITS))}`);
  const dims = constShape(s.length, rank);
  const bias = c.constI(`${id}.${tag}.round_offset`, dims, s.map((k) => 2 ** OFFSET_BITS + (k === 0 ? 0 : 2 ** (k - 1))), DataType.INT64);
  const div = c.constI(`${id}.${tag}.divisor`, dims, s.map((k) => 2 ** k), DataType.INT64);
  const back = c.constI(`${id}.${tag}.offset_back`, dims, s.map((k) => 2 ** (OFFSET_BITS - k)), DataType.INT64);
  const q = c.emit('Div', [c.emit('Add', [v, bias], `${tag}.biased`), div], `${tag}.shifted`);
  return c.emit('Sub', [q, back], `${tag}.rounded`);
}

/**
 * round_half_up(x · m / 2^s) (the simulator's mulShiftRound) of an int64 tensor with |x| ≤ 2^15 and 0 ≤ m < 2^31,
 * per tensor or per channel of axis 1. A channel whose shift exceeds 48 gives 0 exactly (|x·m| < 2^46 < 2^(s−1)).
 */
export function emitMulShiftRound(c: IntOpsCtx, id: string, x: string, multiplier: ArrayLike<number>, shift: ArrayLike<number>, rank: number, tag: string): string {
  const m = Array.from(multiplier), s = Array.from(shift);
  for (let i = 0; i < m.length; i++) if (s[i] > OFFSET_BITS) [m[i], s[i]] = [0, 0];
  const mc = c.constI(`${id}.${tag}.multiplier`, constShape(m.length, rank), m, DataType.INT64);
  return emitRoundShift(c, id, c.emit('Mul', [x, mc], `${tag}.product`), s, rank, tag);
}
