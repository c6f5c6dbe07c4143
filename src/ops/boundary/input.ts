/** input: the graph's float input (NCHW, per-sample shape graph.inputShape). Never quantized itself. */
import type { OpDef } from '../types.ts';

export const inputOp: OpDef = {
  type: 'input',
  view: { label: 'Input', attrs: (n) => `[${n.shape}]` },
  onnx: {}, // the ONNX graph input, read by the importer itself
  inferShape: (n) => [...n.shape],
  forward: (_t, _n, _xs, c) => c.input,
  fusion: {},
  macs: () => 0,
  quant: { output: 'none', region: 'leave' },
  int: { lower: () => ({ layer: null, value: null }) }, // the float value fed to the quantize layer
  qdq: (_n, c) => c.graphInput(),
  torch: { module: () => [], call: () => 'x' }, // forward(self, x)
};
