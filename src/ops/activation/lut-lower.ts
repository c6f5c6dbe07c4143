/**
 * Lowering of the table activations: a `lut` layer (src/sim/int/lut.ts) built from the input and output scales, so
 * that each entry is the fake-quant model's own output for that input integer: f evaluated as the CPU reference
 * evaluates it (float32 input q·s_in, float32 result), then quantized as the fake quant does (f32(y · f32(1/s_out)),
 * the qconfig's rounding, the dtype's clamp).
 */
import type { GraphNode } from '../../graph/ir.ts';
import { quantizeValue } from '../../qmath/fake-quantize.ts';
import { buildLut } from '../../sim/int/lut.ts';
import type { LowerCtx, Lowered } from '../types.ts';

/** `f(c, x)`: the float32 output of channel c for the float32 input x, exactly as the float forward computes it. */
export function lowerLut(n: GraphNode, c: LowerCtx, label: string, channels: number, f: (ch: number, x: number) => number): Lowered {
  const s = c.site(n);
  const xin = c.info(n.inputs[0]);
  if (xin.dtype === 'int32' || xin.scales.length !== 1) {
    c.fail(`${n.id}: ${label} is a lookup table on an int8 or int16 input; its input ${n.inputs[0]} is an int32 accumulator`);
  }
  const sIn = Math.fround(xin.scales[0]);
  const inv = Math.fround(1 / s.scale);
  const clamp = c.dtypeClamp(s.dtype);
  const xOf = (q: number) => Math.fround(q * sIn);
  const table = buildLut({
    fn: label, inDtype: xin.dtype, channels, lo: clamp.lo, hi: clamp.hi,
    real: (ch, q) => f(ch, xOf(q)) / s.scale,
    exact: (ch, q) => quantizeValue(f(ch, xOf(q)), inv, 0, c.rounding),
  });
  return {
    layer: { id: n.id, op: 'lut', inputs: [...n.inputs], ...table, clamp },
    value: { dtype: s.dtype, scales: [s.scale], shape: [...n.shape] },
  };
}
