/**
 * prelu: y = x ≥ 0 ? x : a[c] · x with a trainable slope per channel (or one), ONNX PRelu. Float forward composed
 * from existing kernels: relu(x) + a[c] · min(x, 0) (Backend.clamp and channelScale, whose backwards give dx and the
 * slope's gradient). Quantized as a new activation site; integer implementation: one lookup table per channel
 * (the `lut` layer, lut-lower.ts), built from the trained slope at convert time.
 */
import type { Var } from '../../engine/autograd.ts';
import { addFn, clampFn, RELU } from '../../engine/fns/activation.ts';
import { channelScaleFn } from '../../engine/fns/channel-scale.ts';
import { torchModule } from '../../io/torch/py.ts';
import type { OpDef } from '../types.ts';
import { lowerLut } from './lut-lower.ts';
import { importPRelu } from './onnx-lut.ts';

export const preluOp: OpDef = {
  type: 'prelu',
  view: { label: 'PReLU', attrs: () => '' },
  onnx: { PRelu: importPRelu },
  inferShape: (_n, [x]) => [...x],
  forward: (tape, _n, [x], c) => {
    const a: Var = c.param('slope');
    const C = a.shape[0];
    const size = x.shape.reduce((p, d) => p * d, 1);
    const layout = C === 1 ? { outer: 1, channels: 1, inner: size } : { outer: x.shape[0], channels: C, inner: size / (x.shape[0] * C) };
    const neg = tape.apply(channelScaleFn, [tape.apply(clampFn, [x], { lo: -Infinity, hi: 0 }), a], { layout });
    return tape.apply(addFn, [tape.apply(clampFn, [x], RELU), neg], null);
  },
  fusion: {},
  macs: () => 0,
  quant: { output: 'site', int16Output: true },
  int: {
    lower: (n, c) => {
      const a = c.param(n.params.slope);
      return lowerLut(n, c, 'PReLU', a.length, (ch, x) => (x >= 0 ? x : Math.fround(x * a[ch])));
    },
  },
  qdq: (n, c) => {
    const a = c.param('slope');
    const rank = n.shape.length + 1;
    const dims = a.length === 1 ? [1] : [a.length, ...Array(rank - 2).fill(1)];
    return c.emit('PRelu', [c.inputs[0], c.constF(`${n.params.slope}`, dims, a)], 'prelu');
  },
  // studio_quant.PReLU: F.prelu with the parameter named `slope`, as in the studio's graph
  torch: { ...torchModule((_n, c) => `sq.PReLU(${c.info.num_parameters})`), info: (_n, paramShape) => ({ num_parameters: paramShape('slope')[0] }) },
};
