/**
 * softmax over the last axis (attention weights). Kernels: Backend.softmax / softmaxBackward. Quantized as a new
 * activation site (its output lies in [0, 1]; int16 by default). Integer (nash marches): the `softmax` layer.
 */
import { torchModule } from '../../io/torch/py.ts';
import { softmaxFn } from '../../engine/fns/tokens.ts';
import { attrInt } from '../../io/onnx/attrs.ts';
import type { ImportContext, NodeIO } from '../../io/onnx/import/context.ts';
import type { GraphNode } from '../../graph/ir.ts';
import type { LowerCtx, Lowered, OpDef } from '../types.ts';

/** Softmax over the last axis (opset 13's default axis -1; before 13 the axis flattens the rest, equal for the last). */
export function importSoftmax(im: ImportContext, { n, inputs, base, set }: NodeIO): void {
  const x = im.tensor(inputs[0]);
  if (x.squeezed) im.fail('Softmax of a pooled [C, 1, 1] value is not supported (flatten it first)');
  const rank = x.shape.length + 1;
  let axis = im.attrInt(n, 'axis', im.opset >= 13 ? -1 : 1);
  if (axis < 0) axis += rank;
  if (axis !== rank - 1) im.fail(`Softmax over axis ${axis} of a rank-${rank} tensor is not supported (only the last axis)`);
  const id = im.uniqueId(base);
  im.addNode(id, 'softmax', [x.id], [...x.shape]);
  set({ kind: 'tensor', id, shape: [...x.shape] });
}

/** e = round(exp(−k · s_in) · 2^EXP_BITS) for k = max − q: the table's precision (S's relative error ≤ d · 2^−24). */
const EXP_BITS = 23;

function lowerSoftmax(n: GraphNode, c: LowerCtx): Lowered {
  const s = c.site(n);
  const xin = c.info(n.inputs[0]);
  if (xin.dtype === 'int32' || xin.scales.length !== 1) c.fail(`${n.id}: softmax of an int32 accumulator (int8 / int16 inputs only)`);
  const sIn = Math.fround(xin.scales[0]);
  const d = n.shape[n.shape.length - 1];
  // entries until exp(−k · s_in) · 2^EXP_BITS rounds to 0; at most the input's range
  const len = Math.min(xin.dtype === 'int16' ? 65536 : 256, Math.ceil((EXP_BITS * Math.LN2 + 1) / sIn) + 1);
  const expTable = Int32Array.from({ length: len }, (_, k) => Math.round(Math.exp(-k * sIn) * 2 ** EXP_BITS));
  // recip ≈ 2^24: round(2^F / s_out)
  const recipShift = Math.max(0, Math.floor(24 + Math.log2(s.scale)));
  const recip = Math.round(2 ** recipShift / s.scale);
  if (2 * 2 ** EXP_BITS * recip >= 2 ** 53 || 2 * d * 2 ** EXP_BITS * 2 ** recipShift >= 2 ** 53) c.fail(`${n.id}: softmax rows of ${d} at output scale ${s.scale} overflow the exact integer range`);
  return {
    layer: { id: n.id, op: 'softmax', inputs: [...n.inputs], expTable, expBits: EXP_BITS, recip, recipShift, clamp: c.dtypeClamp(s.dtype) },
    value: { dtype: s.dtype, scales: [s.scale], shape: [...n.shape] },
  };
}

export const softmaxOp: OpDef = {
  type: 'softmax',
  view: { label: 'Softmax', attrs: () => 'last axis' },
  onnx: { Softmax: importSoftmax },
  inferShape: (_n, [x]) => [...x],
  forward: (tape, _n, xs) => tape.apply(softmaxFn, xs, null),
  fusion: {},
  macs: () => 0,
  quant: { output: 'site', outputDtype: 'qint16' },
  // nash marches: an exp table, an int32 row sum and a fixed-point reciprocal (docs/fixed-point.md); others: float island
  int: { marches: ['nash-e', 'nash-m'], lower: lowerSoftmax },
  floatIsland: () => ({ kind: 'softmax' }),
  torch: torchModule(() => 'nn.Softmax(dim=-1)'),
  qdq: (_n, c) => c.emit('Softmax', [c.inputs[0]], 'softmax', [attrInt('axis', -1)]),
};
