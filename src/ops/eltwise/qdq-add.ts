/**
 * The QDQ export of add / sub, as the simulator computes them (src/io/onnx/qdq-requant.ts says why):
 *  - the add layer: out = round_half_up((ma·a + mb·b) / 2^shift) in int64 ONNX ops on the inputs' integers, then
 *    DequantizeLinear at the output scale (the site's Q/DQ pair that follows gives the same integers back);
 *  - a fused Conv+Add (the conv's epilogue): the add input's integers rescaled into the accumulator's domain,
 *    round_half_up(a·m[o] / 2^k[o]), as an int32 tensor dequantized at the accumulator's scales (those of the int32
 *    bias), added to the conv's float output;
 *  - without a converted layer (a graph convert refuses): the float op.
 */
import { attrInt } from '../../io/onnx/attrs.ts';
import { emitMulShiftRound, emitRoundShift, toInt64 } from '../../io/onnx/qdq-requant.ts';
import { DataType } from '../../io/onnx/proto.ts';
import type { GraphNode } from '../../graph/ir.ts';
import type { QdqCtx } from '../types.ts';

const toInt32 = (c: QdqCtx, v: string, tag: string) => c.emit('Cast', [v], `${tag}.i32`, [attrInt('to', DataType.INT32)]);

export function qdqAdd(n: GraphNode, c: QdqCtx, float: 'Add' | 'Sub'): string {
  const l = c.layer, id = n.id;
  if (l?.op === 'conv2d' && l.addRescale) {
    const { multiplier, shift } = l.addRescale;
    const r = emitMulShiftRound(c, id, toInt64(c, c.intOf(c.inputs[1]), 'add_input'), multiplier, shift, 4, 'add_input');
    const scales = c.accScales();
    const dq = c.emit('DequantizeLinear', [
      toInt32(c, r, 'add_input'), c.constF(`${id}.add_input.acc_scale`, [scales.length], scales),
      c.constI(`${id}.add_input.acc_zero_point`, [scales.length], new Array(scales.length).fill(0), DataType.INT32),
    ], 'add_input.dq', [attrInt('axis', 1)]);
    return c.emit('Add', [c.inputs[0], dq], 'add');
  }
  if (l?.op === 'add' && c.outScale !== null) {
    const { aMultiplier, bMultiplier, shift } = l.params;
    const term = (k: number, m: number) => c.emit('Mul', [toInt64(c, c.intOf(c.inputs[k]), `in${k}`), c.constI(`${id}.in${k}.multiplier`, [], [m], DataType.INT64)], `in${k}.product`);
    const out = emitRoundShift(c, id, c.emit('Add', [term(0, aMultiplier), term(1, bMultiplier)], 'acc'), [shift], 0, 'acc');
    // |out| beyond the int32 range is impossible here: |ma·a + mb·b| < 2^32, shift ≥ 0
    return c.emit('DequantizeLinear', [toInt32(c, out, 'out'), c.constF(`${id}.out.scale`, [], Float32Array.of(c.outScale)), c.constI(`${id}.out.zero_point`, [], [0], DataType.INT32)], 'dq');
  }
  return c.emit(float, [c.inputs[0], c.inputs[1]], float.toLowerCase());
}
