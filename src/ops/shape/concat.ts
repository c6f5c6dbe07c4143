/**
 * concat: along channels (axis 1) of NCHW values. Kernels: Backend.concatChannels (backward: sliceChannels).
 * int: a `rescale` layer that requantizes every input to the output's scale into its channel range; the QDQ export
 * writes that rescale in int64 ONNX ops (qdq-concat.ts).
 */
import { concatFn } from '../../engine/fns/pool.ts';
import type { OpDef } from '../types.ts';
import { importConcat } from './onnx.ts';
import { qdqConcat } from './qdq-concat.ts';

export const concatOp: OpDef = {
  type: 'concat',
  view: { label: 'Concat', attrs: (n) => `${n.inputs.length} inputs` },
  onnx: { Concat: importConcat },
  inferShape: (_n, xs) => [xs.reduce((s, x) => s + x[0], 0), ...xs[0].slice(1)],
  forward: (tape, _n, xs) => tape.apply(concatFn, xs, null),
  fusion: {},
  macs: () => 0,
  quant: { output: 'site', exact: 'rescale' },
  int: {
    lower: (n, c) => {
      const s = c.site(n);
      const requant = n.inputs.map((i) => c.requantParams([c.scalarScale(i) / s.scale], c.march, c.bits));
      return {
        layer: { id: n.id, op: 'rescale', kind: 'concat', inputs: [...n.inputs], requant, clamp: c.dtypeClamp(s.dtype) },
        value: { dtype: s.dtype, scales: [s.scale], shape: [...n.shape] },
      };
    },
  },
  qdq: qdqConcat,
  torch: { module: (_n, c) => [`self.${c.m} = FloatFunctional()`], call: (_n, c) => `self.${c.m}.cat([${c.xs.join(', ')}], dim=1)`, ownsActivationQuant: true },
};
