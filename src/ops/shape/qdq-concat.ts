/**
 * The QDQ export of concat, as the simulator computes it (src/io/onnx/qdq-requant.ts says why; the simulator's layer
 * is `rescale` / concat, src/sim/cpu/eltwise.ts): each input whose rescale is not the identity becomes
 * clamp(round_half_up(q · m / 2^s)) in int64 ONNX ops on its integers (its multiplier and shift from the converted
 * layer, the clamp the output dtype's range), dequantized at the output scale; an input already at the output's scale
 * (m = 2^s: the simulator's rescale gives q back) passes through as it is, its DequantizeLinear value; then a float
 * Concat, whose values all lie on the output's grid, so the site's Q/DQ pair that follows gives these integers back.
 * Without a converted layer (a graph convert refuses): the float Concat.
 */
import { attrInt } from '../../io/onnx/attrs.ts';
import { emitMulShiftRound, toInt64 } from '../../io/onnx/qdq-requant.ts';
import { DataType } from '../../io/onnx/proto.ts';
import type { GraphNode } from '../../graph/ir.ts';
import type { QdqCtx } from '../types.ts';

export function qdqConcat(n: GraphNode, c: QdqCtx): string {
  const l = c.layer, id = n.id, outScale = c.outScale;
  if (l?.op !== 'rescale' || l.kind !== 'concat' || outScale === null) return c.emit('Concat', c.inputs, 'concat', [attrInt('axis', 1)]);
  if (l.requant.length !== c.inputs.length) throw new RangeError(`${id}: ${l.requant.length} rescales for ${c.inputs.length} inputs`);
  const parts = c.inputs.map((x, k) => {
    const m = l.requant[k].multiplier[0], s = l.requant[k].shift[0];
    // the identity rescale; the output's QuantizeLinear saturates to the dtype's range, which is the layer's clamp
    if (m === 2 ** s) return x;
    const tag = `in${k}`;
    const r = emitMulShiftRound(c, id, toInt64(c, c.intOf(x), tag), [m], [s], 0, tag);
    const lo = c.constI(`${id}.${tag}.clamp_lo`, [], [l.clamp.lo], DataType.INT64);
    const hi = c.constI(`${id}.${tag}.clamp_hi`, [], [l.clamp.hi], DataType.INT64);
    const q = c.emit('Cast', [c.emit('Clip', [r, lo, hi], `${tag}.clamped`)], `${tag}.i32`, [attrInt('to', DataType.INT32)]);
    return c.emit('DequantizeLinear', [q, c.constF(`${id}.${tag}.scale`, [], Float32Array.of(outScale)), c.constI(`${id}.${tag}.zero_point`, [], [0], DataType.INT32)], `${tag}.dq`);
  });
  return c.emit('Concat', parts, 'concat', [attrInt('axis', 1)]);
}
