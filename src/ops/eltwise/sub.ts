/**
 * sub: a - b of two values of one shape (ONNX Sub). Kernels: Backend.add and scale (src/engine/fns/eltwise.ts
 * subFn); int: the `add` layer with the negated multiplier of b (both inputs rescaled to the output scale with
 * 16-bit multipliers and one shift, as add).
 */
import { subFn } from '../../engine/fns/eltwise.ts';
import { computeAddParams } from '../../sim/int/add.ts';
import { torchExpr } from '../../io/torch/py.ts';
import type { OpDef } from '../types.ts';
import { qdqAdd } from './qdq-add.ts';
import { importSub } from './onnx.ts';

export const subOp: OpDef = {
  type: 'sub',
  view: { label: 'Sub', attrs: () => '' },
  onnx: { Sub: importSub },
  inferShape: (_n, [a]) => [...a],
  forward: (tape, _n, xs) => tape.apply(subFn, xs, null),
  fusion: {},
  macs: () => 0,
  quant: { output: 'site', exact: 'sub' },
  int: {
    lower: (n, c) => {
      if (n.inputs.length !== 2) c.fail(`${n.id}: sub of ${n.inputs.length} inputs`);
      const s = c.site(n);
      const p = computeAddParams('horizon', c.scalarScale(n.inputs[0]), c.scalarScale(n.inputs[1]), s.scale, { march: c.march });
      return {
        layer: { id: n.id, op: 'add', inputs: [...n.inputs], params: { ...p, bMultiplier: -p.bMultiplier }, clamp: c.dtypeClamp(s.dtype) },
        value: { dtype: s.dtype, scales: [s.scale], shape: [...n.shape] },
      };
    },
  },
  qdq: (n, c) => qdqAdd(n, c, 'Sub'),
  torch: torchExpr((_n, c) => `${c.xs[0]} - ${c.xs[1]}`, true),
};
