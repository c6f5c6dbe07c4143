/**
 * softmax over the last axis (attention weights). Kernels: Backend.softmax / softmaxBackward. Quantized as a new
 * activation site (its output lies in [0, 1]).
 */
import { softmaxFn } from '../../engine/fns/tokens.ts';
import { attrInt } from '../../io/onnx/attrs.ts';
import type { ImportContext, NodeIO } from '../../io/onnx/import/context.ts';
import type { OpDef } from '../types.ts';

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

export const softmaxOp: OpDef = {
  type: 'softmax',
  view: { label: 'Softmax', attrs: () => 'last axis' },
  onnx: { Softmax: importSoftmax },
  inferShape: (_n, [x]) => [...x],
  forward: (tape, _n, xs) => tape.apply(softmaxFn, xs, null),
  fusion: {},
  macs: () => 0,
  quant: { output: 'site', outputDtype: 'qint16' },
  int: { none: 'the simulator has no softmax layer yet' },
  floatIsland: () => ({ kind: 'softmax' }),
  qdq: (_n, c) => c.emit('Softmax', [c.inputs[0]], 'softmax', [attrInt('axis', -1)]),
};
