/**
 * transpose: a permutation of the per-sample axes (the batch stays first): tokens [C, T] -> [T, C] after the patch
 * embedding, the head split [T, H, Dh] -> [H, T, Dh] and merge. Kernels: Backend.transpose (backward: the inverse
 * permutation). Moves values and keeps its input's scale.
 */
import { torchExpr } from '../../io/torch/py.ts';
import { transposeFn } from '../../engine/fns/tokens.ts';
import type { GraphNode } from '../../graph/ir.ts';
import { attrInts } from '../../io/onnx/attrs.ts';
import type { OpDef } from '../types.ts';

export const permOf = (n: GraphNode): number[] => {
  const p = n.attrs.perm;
  if (!p) throw new Error(`transpose ${n.id} has no perm`);
  return p;
};

/** The permutation over the full shape (batch first). */
export const fullPerm = (perm: readonly number[]): number[] => [0, ...perm.map((p) => p + 1)];

export const transposeOp: OpDef = {
  type: 'transpose',
  view: { label: 'Transpose', attrs: (n) => `[${permOf(n)}]` },
  // ONNX Transpose is read by channel_shuffle's importer (src/ops/shape/onnx-slice.ts), which makes this op
  onnx: {},
  inferShape: (n, [x]) => {
    const p = permOf(n);
    if (p.length !== x.length || [...p].sort((a, b) => a - b).some((v, i) => v !== i)) throw new Error(`transpose ${n.id}: perm [${p}] does not permute [${x}]`);
    return p.map((i) => x[i]);
  },
  forward: (tape, n, xs) => tape.apply(transposeFn, xs, { perm: fullPerm(permOf(n)) }),
  fusion: {},
  macs: () => 0,
  quant: { output: 'inherit' },
  // integers moved unchanged: the `transpose` layer keeps its input's scale (every march)
  int: {
    lower: (n, c) => {
      const v = c.info(n.inputs[0]);
      if (v.scales.length !== 1) c.fail(`${n.id}: transpose of a per-channel int32 value`);
      return { layer: { id: n.id, op: 'transpose', inputs: [...n.inputs], perm: [...permOf(n)] }, value: { ...v, shape: [...n.shape] } };
    },
  },
  floatIsland: (n) => ({ kind: 'transpose', perm: permOf(n) }),
  torch: torchExpr((n, c) => `${c.xs[0]}.permute(${fullPerm(permOf(n)).join(', ')})`, false),
  qdq: (n, c) => c.emit('Transpose', [c.inputs[0]], 'transpose', [attrInts('perm', fullPerm(permOf(n)))]),
};
