/**
 * quant_stub (QuantStub): enters the quantized region. Its output is an activation site; the simulator's
 * `quantize` layer rounds the float input onto it with the qconfig's rounding.
 */
import { torchModule } from '../../io/torch/py.ts';
import type { OpDef } from '../types.ts';

export const quantStubOp: OpDef = {
  type: 'quant_stub',
  view: { label: 'QuantStub', attrs: () => '' },
  onnx: {}, // added by the studio at import (src/io/onnx/import/index.ts), not read from a file
  inferShape: (_n, [x]) => [...x],
  forward: (_t, _n, xs) => xs[0],
  fusion: {},
  macs: () => 0,
  quant: { output: 'site', region: 'enter' },
  int: {
    lower: (n, c) => {
      const s = c.site(n);
      return {
        layer: { id: n.id, op: 'quantize', inputs: [...n.inputs], scale: s.scale, dtype: s.dtype, rounding: c.rounding },
        value: { dtype: s.dtype, scales: [s.scale], shape: [...n.shape] },
      };
    },
  },
  qdq: (_n, c) => c.inputs[0],
  torch: torchModule(() => 'QuantStub()'),
};
