/**
 * matmul: the product of two computed values (attention: q @ kᵀ, attn @ v), batched over every leading axis (batch,
 * heads): [..., M, K] x [..., K, N] -> [..., M, N], or with `transB` [..., M, K] x [..., N, K]ᵀ. A product with a
 * constant is a linear (src/ops/dense/linear.ts). Kernels: Backend.matmul (src/engine/fns/tokens.ts matmulFn).
 * Quantized as a new activation site (both inputs are activation sites of their own, per tensor).
 */
import { torchExpr } from '../../io/torch/py.ts';
import { matmulFn } from '../../engine/fns/tokens.ts';
import { attrInts } from '../../io/onnx/attrs.ts';
import type { GraphNode } from '../../graph/ir.ts';
import type { OpDef } from '../types.ts';
import { fullPerm } from '../shape/transpose.ts';

const mm = (n: GraphNode): { k: number; transB: boolean } => {
  if (!n.attrs.matmul) throw new Error(`matmul ${n.id} has no matmul attributes`);
  return n.attrs.matmul;
};

export const matmulOp: OpDef = {
  type: 'matmul',
  view: { label: 'MatMul', attrs: (n) => (mm(n).transB ? 'A·Bᵀ' : 'A·B') },
  // ONNX MatMul of two computed values is read by linear's importer (src/ops/dense/onnx.ts), which makes this op
  onnx: {},
  inferShape: (n, [a, b]) => {
    const r = a.length;
    const [M, K] = a.slice(r - 2);
    const [Kb, N] = mm(n).transB ? [b[r - 1], b[r - 2]] : b.slice(r - 2);
    if (r < 2 || b.length !== r || a.slice(0, r - 2).some((d, i) => d !== b[i]) || K !== Kb) {
      throw new Error(`matmul ${n.id}: [${a}] x [${b}]${mm(n).transB ? 'ᵀ' : ''} do not multiply (equal leading axes, matching inner size)`);
    }
    if (K !== mm(n).k) {
      throw new Error(`matmul ${n.id}: inner size ${K}, attributes say ${mm(n).k}`);
    }
    return [...a.slice(0, r - 2), M, N];
  },
  forward: (tape, n, xs) => tape.apply(matmulFn, xs, { transA: false, transB: mm(n).transB }),
  fusion: {},
  // per sample: every output element is a dot product of K
  macs: (n) => n.shape.reduce((a, b) => a * b, 1) * mm(n).k,
  quant: { output: 'site' },
  // int32 accumulation of the two int8 / int16 inputs, requantized per tensor (s_a · s_b / s_out), as the matmul unit
  // of a nash-generation BPU does (docs/fixed-point.md §10); other marches run it as a float island
  int: {
    marches: ['nash-e', 'nash-m'],
    lower: (n, c) => {
      const s = c.site(n);
      for (const i of n.inputs) if (c.info(i).dtype === 'int32') c.fail(`${n.id}: matmul of the int32 value ${i} (int8 / int16 inputs only)`);
      const real = c.scalarScale(n.inputs[0]) * c.scalarScale(n.inputs[1]) / s.scale;
      return {
        layer: { id: n.id, op: 'matmul', inputs: [...n.inputs], transB: mm(n).transB, requant: c.requantParams([real], c.march, c.bits), clamp: c.dtypeClamp(s.dtype) },
        value: { dtype: s.dtype, scales: [s.scale], shape: [...n.shape] },
      };
    },
  },
  floatIsland: (n) => ({ kind: 'matmul', transB: mm(n).transB }),
  torch: torchExpr((n, c) => `torch.matmul(${c.xs[0]}, ${c.xs[1]}${mm(n).transB ? '.transpose(-2, -1)' : ''})`, true),
  qdq: (n, c) => {
    let b = c.inputs[1];
    if (mm(n).transB) {
      const r = n.shape.length;
      const perm = [...Array(r).keys()];
      [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
      b = c.emit('Transpose', [b], 'transpose_b', [attrInts('perm', fullPerm(perm))]);
    }
    return c.emit('MatMul', [c.inputs[0], b], 'matmul');
  },
};
