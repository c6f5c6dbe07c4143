/**
 * mul: the product of two values of one shape, or of an NCHW value and a per-channel [C, 1, 1] gate
 * (squeeze-excitation: x * sigmoid(conv(gap(x)))). Kernels: Backend.channelScale (src/engine/fns/eltwise.ts mulFn);
 * int: the `mul` layer (the int32 product of the two int8 / int16 inputs requantized to the output scale with a
 * multiplier and shift for s_a * s_b / s_out, docs/fixed-point.md §8).
 */
import { mulFn } from '../../engine/fns/eltwise.ts';
import { torchExpr } from '../../io/torch/py.ts';
import type { OpDef } from '../types.ts';
import { importMul } from './onnx.ts';

export const mulOp: OpDef = {
  type: 'mul',
  view: { label: 'Mul', attrs: () => '' },
  onnx: { Mul: importMul },
  inferShape: (_n, [a]) => [...a],
  forward: (tape, _n, xs) => tape.apply(mulFn, xs, null),
  fusion: {},
  macs: (n) => n.shape.reduce((a, b) => a * b, 1),
  quant: { output: 'site', exact: 'mul' },
  int: {
    lower: (n, c) => {
      if (n.inputs.length !== 2) c.fail(`${n.id}: mul of ${n.inputs.length} inputs`);
      const s = c.site(n);
      for (const i of n.inputs) if (c.info(i).dtype === 'int32') c.fail(`${n.id}: Mul of the int32 value ${i} is not supported (int8 / int16 inputs only)`);
      const real = c.scalarScale(n.inputs[0]) * c.scalarScale(n.inputs[1]) / s.scale;
      return {
        layer: { id: n.id, op: 'mul', inputs: [...n.inputs], requant: c.requantParams([real], c.march, c.bits), clamp: c.dtypeClamp(s.dtype) },
        value: { dtype: s.dtype, scales: [s.scale], shape: [...n.shape] },
      };
    },
  },
  qdq: (_n, c) => c.emit('Mul', [c.inputs[0], c.inputs[1]], 'mul'),
  torch: torchExpr((_n, c) => `${c.xs[0]} * ${c.xs[1]}`, true),
};
