/**
 * batchnorm2d: batch normalization over channels (NCHW, or [N, C]); trains with batch statistics. Before
 * quantization it folds into the conv / linear before it (fusion.bn); a 2-D one that nothing takes (DenseNet's BN
 * after a concat) becomes a depthwise 1x1 conv (fuse.ts bn_as_conv). Only a [N, C] one left alone has no integer
 * implementation.
 */
import { batchNormFn } from '../../engine/fns/norm.ts';
import { attrFloat } from '../../io/onnx/attrs.ts';
import { torchModule } from '../../io/torch/py.ts';
import type { OpDef } from '../types.ts';
import { importBatchNorm } from './onnx.ts';

export const batchnorm2dOp: OpDef = {
  type: 'batchnorm2d',
  view: { label: 'BatchNorm', attrs: (n) => `eps ${n.attrs.eps ?? 1e-5}` },
  onnx: { BatchNormalization: importBatchNorm },
  inferShape: (_n, [x]) => [...x],
  forward: (tape, n, xs, c) => tape.apply(batchNormFn, [xs[0], c.param('weight'), c.param('bias')], {
    eps: n.attrs.eps ?? 1e-5, momentum: n.attrs.momentum ?? 0.1,
    runningMean: c.buffer('running_mean'), runningVar: c.buffer('running_var'),
  }),
  fusion: { bn: true },
  macs: () => 0,
  quant: { output: 'none' },
  int: { none: 'an unfused batchnorm2d cannot be converted (fuse the graph first)' },
  qdq: (n, c) => c.emit('BatchNormalization', [c.inputs[0], ...['weight', 'bias', 'running_mean', 'running_var'].map((r) => c.constF(n.params[r], [c.param(r).length], c.param(r)))],
    'bn', [attrFloat('epsilon', n.attrs.eps ?? 1e-5)]),
  torch: {
    ...torchModule((_n, c) => `nn.BatchNorm2d(${c.info.num_features}, eps=${c.info.eps}, momentum=${c.info.momentum})`),
    info: (n, paramShape) => ({ eps: n.attrs.eps ?? 1e-5, momentum: n.attrs.momentum ?? 0.1, num_features: paramShape('weight')[0] }),
  },
};
