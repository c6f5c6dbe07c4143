/**
 * flatten / reshape / identity: values moved, not changed (they keep their input's scale). Kernels:
 * Backend.reshape; int: the `reshape` layer (a view). Identity also stands for ONNX Identity and Dropout (inference).
 */
import { reshapeFn } from '../../engine/fns/pool.ts';
import type { GraphNode } from '../../graph/ir.ts';
import { DataType } from '../../io/onnx/proto-types.ts';
import { torchExpr } from '../../io/torch/py.ts';
import type { LowerCtx, Lowered, OpDef, QdqCtx } from '../types.ts';
import { importDropout, importFlatten, importIdentity, importReshape, importSqueeze } from './onnx.ts';

function lowerView(n: GraphNode, c: LowerCtx): Lowered {
  const v = c.info(n.inputs[0]);
  if (v.scales.length !== 1 && n.op !== 'identity') c.fail(`${n.id}: reshape of a per-channel int32 value`);
  return { layer: { id: n.id, op: 'reshape', inputs: [...n.inputs] }, value: { ...v, shape: [...n.shape] } };
}

const qdqReshape = (n: GraphNode, c: QdqCtx): string =>
  c.emit('Reshape', [c.inputs[0], c.constI(`${n.id}.shape`, [n.shape.length + 1], [0, ...n.shape], DataType.INT64)], 'reshape');

export const flattenOp: OpDef = {
  type: 'flatten',
  view: { label: 'Flatten', attrs: (n) => `[${n.shape}]` },
  onnx: { Flatten: importFlatten },
  inferShape: (_n, [x]) => [x.reduce((a, b) => a * b, 1)],
  forward: (tape, n, xs, c) => tape.apply(reshapeFn, xs, { shape: [c.batch, ...n.shape] }),
  fusion: {},
  macs: () => 0,
  quant: { output: 'inherit' },
  int: { lower: lowerView },
  qdq: qdqReshape,
  torch: torchExpr((_n, c) => `${c.xs[0]}.flatten(1)`, false),
};

export const reshapeOp: OpDef = {
  type: 'reshape',
  view: { label: 'Reshape', attrs: (n) => `[${n.shape}]` },
  // importReshape makes a flatten for a 1-D target, a reshape otherwise
  onnx: { Reshape: importReshape, Squeeze: importSqueeze },
  inferShape: (n) => [...(n.attrs.shape ?? n.shape)],
  forward: (tape, n, xs, c) => tape.apply(reshapeFn, xs, { shape: [c.batch, ...n.shape] }),
  fusion: {},
  macs: () => 0,
  quant: { output: 'inherit' },
  int: { lower: lowerView },
  qdq: qdqReshape,
  torch: { ...torchExpr((n, c) => `${c.xs[0]}.reshape(${c.xs[0]}.shape[0], ${n.shape.join(', ')})`, false), info: (n) => ({ shape: n.shape }) },
};

export const identityOp: OpDef = {
  type: 'identity',
  view: { label: 'Identity', attrs: () => '' },
  // The importer aliases these (no IR node); zoo models and passes may still make identity nodes.
  onnx: { Identity: importIdentity, Dropout: importDropout },
  inferShape: (_n, [x]) => [...x],
  forward: (_t, _n, xs) => xs[0],
  fusion: {},
  macs: () => 0,
  quant: { output: 'inherit' },
  int: { lower: lowerView },
  qdq: (_n, c) => c.inputs[0],
  torch: torchExpr((_n, c) => c.xs[0], false),
};
