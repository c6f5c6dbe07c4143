/**
 * add: elementwise sum of two equal-shaped values; joins a conv as its fused second input (Conv+Add(+act)).
 * Kernels: Backend.add (the gradient passes through); int: the `add` layer (both inputs rescaled to the output
 * scale with 16-bit multipliers and one shift).
 */
import { addFn } from '../../engine/fns/activation.ts';
import { computeAddParams } from '../../sim/int/add.ts';
import { importAdd } from '../dense/onnx.ts';
import type { OpDef } from '../types.ts';
import { qdqAdd } from './qdq-add.ts';

export const addOp: OpDef = {
  type: 'add',
  view: { label: 'Add', attrs: () => '' },
  // An Add of a constant after a MatMul / Gemm / Conv folds into its bias instead (importAdd).
  onnx: { Add: importAdd },
  inferShape: (_n, [a]) => [...a],
  forward: (tape, _n, xs) => tape.apply(addFn, xs, null),
  fusion: { add: true },
  macs: () => 0,
  quant: { output: 'site', exact: 'add' },
  int: {
    lower: (n, c) => {
      if (n.inputs.length !== 2) c.fail(`${n.id}: add of ${n.inputs.length} inputs`);
      const s = c.site(n);
      const params = computeAddParams('horizon', c.scalarScale(n.inputs[0]), c.scalarScale(n.inputs[1]), s.scale, { march: c.march });
      return {
        layer: { id: n.id, op: 'add', inputs: [...n.inputs], params, clamp: c.dtypeClamp(s.dtype) },
        value: { dtype: s.dtype, scales: [s.scale], shape: [...n.shape] },
      };
    },
  },
  qdq: (n, c) => qdqAdd(n, c, 'Add'),
  // FloatFunctional applies its activation fake quant inside add()
  torch: { module: (_n, c) => [`self.${c.m} = FloatFunctional()`], call: (_n, c) => `self.${c.m}.add(${c.xs[0]}, ${c.xs[1]})`, ownsActivationQuant: true },
};
