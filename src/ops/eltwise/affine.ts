/**
 * affine: y = x * factor + offset with scalar constants: ONNX Mul / Div by a constant (Div as a Mul by the
 * reciprocal), Sub of a constant, an Add of a constant that no conv / linear bias takes. Kernels: Backend.affine
 * (src/engine/fns/eltwise.ts affineFn); int: the `affine` layer, round(x * m / 2^s) + round(offset / s_out) with
 * m / 2^s ~ s_x * factor / s_out (docs/fixed-point.md §8); a negative factor has no integer implementation.
 */
import { affineFn } from '../../engine/fns/eltwise.ts';
import type { GraphNode } from '../../graph/ir.ts';
import { torchExpr } from '../../io/torch/py.ts';
import type { OpDef } from '../types.ts';
import { importDiv } from './onnx.ts';

/** The node's constants (a node without them is malformed: say which). */
function attrOf(n: GraphNode): { factor: number; offset: number } {
  const a = n.attrs.affine;
  if (!a || !Number.isFinite(a.factor) || !Number.isFinite(a.offset)) throw new Error(`${n.id}: affine node without a finite factor and offset`);
  return a;
}

const fmt = (v: number) => String(Number(v.toPrecision(4)));

export const affineOp: OpDef = {
  type: 'affine',
  view: {
    label: 'Affine',
    attrs: (n) => {
      const a = n.attrs.affine;
      if (!a) return '';
      return `${a.factor !== 1 ? `×${fmt(a.factor)}` : ''}${a.offset ? ` ${a.offset > 0 ? '+' : '−'}${fmt(Math.abs(a.offset))}` : ''}`.trim();
    },
  },
  // Mul / Sub by a constant come from mul's and sub's importers (importMul, importSub), which see both inputs.
  onnx: { Div: importDiv },
  inferShape: (_n, [x]) => [...x],
  forward: (tape, n, xs) => tape.apply(affineFn, [xs[0]], attrOf(n)),
  fusion: {},
  macs: () => 0,
  quant: { output: 'site' },
  int: {
    lower: (n, c) => {
      const { factor, offset } = attrOf(n);
      if (!(factor > 0)) c.fail(`${n.id}: a multiplication by ${factor} (zero or negative) has no integer implementation`);
      const s = c.site(n);
      // The factor is a real number on every march (as the pools' 1/count): the multiplier + shift path.
      const requant = c.requantParams([c.scalarScale(n.inputs[0]) * factor / s.scale], 'bayes', c.bits);
      const clamp = c.dtypeClamp(s.dtype);
      // |offset| beyond the output range saturates anyway: keep it an int32.
      const q = Math.round(offset / s.scale);
      const lim = 2 ** 30;
      return {
        layer: { id: n.id, op: 'affine', inputs: [...n.inputs], requant, offset: Math.max(-lim, Math.min(lim, q)), clamp },
        value: { dtype: s.dtype, scales: [s.scale], shape: [...n.shape] },
      };
    },
  },
  qdq: (n, c) => {
    const { factor, offset } = attrOf(n);
    let y = c.inputs[0];
    if (factor !== 1) y = c.emit('Mul', [y, c.constF(`${n.id}.factor`, [], Float32Array.of(factor))], 'mul');
    if (offset !== 0 || y === c.inputs[0]) y = c.emit('Add', [y, c.constF(`${n.id}.offset`, [], Float32Array.of(offset))], 'add');
    return y;
  },
  torch: torchExpr((n, c) => `${c.xs[0]} * ${attrOf(n).factor} + ${attrOf(n).offset}`, true),
};
