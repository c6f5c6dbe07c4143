/**
 * constant: a learned per-sample tensor repeated over the batch: a ViT's class token (ONNX Expand of a [1, 1, D]
 * parameter to the batch, then Concat before the patch tokens) and its position table (an Add of a [1, T, D]
 * constant, broadcast). No inputs; its value is the parameter `value` (per-sample shape), trained like any other.
 * Quantized as Horizon's QAT does a constant input of an add / concat: its own activation fake quant (quant.region
 * 'const': the value starts inside the quantized region, as a QuantStub's output does). Kernels: the existing dense
 * ones (src/engine/fns/broadcast.ts). int: a `const` layer holding the quantized integers, repeated over the batch.
 * PyTorch: studio_quant.LearnedConstant (a trainable nn.Parameter) with its own activation fake quant.
 */
import { broadcastBatchFn } from '../../engine/fns/broadcast.ts';
import { attrInt } from '../../io/onnx/attrs.ts';
import { DataType } from '../../io/onnx/proto-types.ts';
import { quantizeInput } from '../../sim/run.ts';
import type { OpDef } from '../types.ts';
import { importExpand } from './onnx-constant.ts';

export const constantOp: OpDef = {
  type: 'constant',
  view: { label: 'Constant', attrs: (n) => `[${n.shape.join('x')}] learned` },
  onnx: { Expand: importExpand },
  inferShape: (n, xs, paramShape) => {
    if (xs.length) throw new Error(`constant ${n.id} has inputs`);
    return [...paramShape('value')];
  },
  forward: (tape, _n, _xs, c) => tape.apply(broadcastBatchFn, [c.param('value')], { batch: c.batch }),
  fusion: {},
  macs: () => 0,
  quant: { output: 'site', region: 'const' },
  int: {
    lower: (n, c) => {
      const s = c.site(n);
      const info = { dtype: s.dtype, scales: [s.scale], shape: [...n.shape] };
      // the fake quant's own rule (f32(x · f32(1/s)), the qconfig's rounding, the dtype clamp), as the input's quantize
      const q = quantizeInput(c.param(n.params.value), { id: n.id, inputs: [], op: 'quantize', scale: s.scale, dtype: s.dtype, rounding: c.rounding }, info);
      const data = q instanceof Int8Array || q instanceof Int16Array ? q : c.fail(`${n.id}: a constant of dtype ${s.dtype}`);
      return { layer: { id: n.id, op: 'const', inputs: [], data }, value: info };
    },
  },
  // [1, ...shape] expanded to [N, ...shape], N read from the graph input (Concat does not broadcast)
  qdq: (n, c) => {
    const v = c.constF(`${n.id}.value`, [1, ...n.shape], c.param('value'));
    const batch = c.emit('Slice', [c.emit('Shape', [c.graphInput()], 'input_shape'), c.constI(`${n.id}.zero`, [1], [0], DataType.INT64), c.constI(`${n.id}.one`, [1], [1], DataType.INT64)], 'batch');
    const dims = c.emit('Concat', [batch, c.constI(`${n.id}.dims`, [n.shape.length], n.shape, DataType.INT64)], 'expand_shape', [attrInt('axis', 0)]);
    return c.emit('Expand', [v, dims], 'expand');
  },
  // studio_quant.LearnedConstant: an nn.Parameter `value` expanded to the batch; its activation fake quant follows
  torch: {
    module: (n, c) => [`self.${c.m} = sq.LearnedConstant([${n.shape.join(', ')}])`],
    call: (_n, c) => `self.${c.m}(${c.batch})`,
  },
};
