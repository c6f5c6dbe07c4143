/** dequant_stub (DeQuantStub): leaves the quantized region; the simulator's `dequantize` layer gives floats back. */
import { torchModule } from '../../io/torch/py.ts';
import type { OpDef } from '../types.ts';

export const dequantStubOp: OpDef = {
  type: 'dequant_stub',
  view: { label: 'DeQuantStub', attrs: () => '' },
  onnx: {}, // added by the studio at import
  inferShape: (_n, [x]) => [...x],
  forward: (_t, _n, xs) => xs[0],
  fusion: {},
  macs: () => 0,
  quant: { output: 'none', region: 'leave' },
  int: {
    lower: (n, c) => {
      c.info(n.inputs[0]);
      return { layer: { id: n.id, op: 'dequantize', inputs: [...n.inputs] }, value: null };
    },
  },
  qdq: (_n, c) => c.inputs[0],
  torch: torchModule(() => 'DeQuantStub()'),
};
