/**
 * layernorm over the last axis with a per-feature scale and shift (ONNX LayerNormalization, or the ReduceMean / Sub /
 * Pow / ReduceMean / Add / Sqrt / Div / Mul / Add pattern opset-13 exporters emit, recognised as one op:
 * src/ops/norm/onnx.ts). Kernels: Backend.layerNorm / layerNormBackward. Quantized as a new activation site (int16 by
 * default). Integer (nash marches): the `layernorm` layer (src/ops/norm/lower.ts); other marches: a float island.
 * QDQ export (opset 13): the same decomposition. PyTorch: nn.LayerNorm.
 */
import { layerNormFn } from '../../engine/fns/tokens.ts';
import type { GraphNode } from '../../graph/ir.ts';
import { attrFloat, attrInt, attrInts } from '../../io/onnx/attrs.ts';
import { torchModule } from '../../io/torch/py.ts';
import type { OpDef } from '../types.ts';
import { layerNormFloatIf, lowerLayerNorm } from './lower.ts';
import { importLayerNormalization } from './onnx.ts';

const epsOf = (n: GraphNode): number => {
  if (n.attrs.eps === undefined) throw new Error(`layernorm ${n.id} has no eps`);
  return n.attrs.eps;
};

export const layernormOp: OpDef = {
  type: 'layernorm',
  view: { label: 'LayerNorm', attrs: (n) => `eps ${epsOf(n)}` },
  onnx: { LayerNormalization: importLayerNormalization },
  inferShape: (n, [x], paramShape) => {
    const d = x[x.length - 1];
    for (const role of ['weight', 'bias']) {
      if (paramShape(role).join() !== String(d)) throw new Error(`layernorm ${n.id}: ${role} [${paramShape(role)}] for ${d} features`);
    }
    return [...x];
  },
  forward: (tape, n, xs, c) => tape.apply(layerNormFn, [xs[0], c.param('weight'), c.param('bias')], { eps: epsOf(n) }),
  fusion: {},
  macs: (n) => n.shape.reduce((a, b) => a * b, 1),
  quant: { output: 'site', outputDtype: 'qint16' },
  // nash marches: exact integer row sums, a reciprocal square root table and per-feature gamma / beta multipliers
  // (docs/fixed-point.md "layer norm"); other marches (and rows too long for the exact sums): a float island
  int: { marches: ['nash-e', 'nash-m'], lower: (n, c) => lowerLayerNorm(n, c, epsOf(n)), floatIf: layerNormFloatIf },
  // nn.LayerNorm over the last axis: its weight / bias are the node's (state_dict keys <m>.weight / <m>.bias)
  torch: {
    ...torchModule((n) => `nn.LayerNorm(${n.shape[n.shape.length - 1]}, eps=${epsOf(n)})`),
    info: (n) => ({ eps: epsOf(n), num_features: n.shape[n.shape.length - 1] }),
  },
  floatIsland: (n, c) => ({ kind: 'layernorm', eps: epsOf(n), gamma: Array.from(c.param(n.params.weight)), beta: Array.from(c.param(n.params.bias)) }),
  qdq: (n, c) => {
    const x = c.inputs[0];
    const d = n.shape[n.shape.length - 1];
    const w = c.constF(`${n.id}.weight`, [d], c.param('weight'));
    const b = c.constF(`${n.id}.bias`, [d], c.param('bias'));
    // opset 17 has the op itself (the int16 export is opset 21); opset 13 the decomposition the exporters write
    if (c.opset >= 17) return c.emit('LayerNormalization', [x, w, b], 'layernorm', [attrInt('axis', -1), attrFloat('epsilon', epsOf(n))]);
    const axes = [attrInts('axes', [-1]), attrInt('keepdims', 1)];
    const mean = c.emit('ReduceMean', [x], 'mean', axes);
    const centered = c.emit('Sub', [x, mean], 'centered');
    const v = c.emit('ReduceMean', [c.emit('Mul', [centered, centered], 'square')], 'variance', axes);
    const std = c.emit('Sqrt', [c.emit('Add', [v, c.constF(`${n.id}.eps`, [], Float32Array.of(epsOf(n)))], 'variance_eps')], 'std');
    const xhat = c.emit('Div', [centered, std], 'normalized');
    return c.emit('Add', [c.emit('Mul', [xhat, w], 'scaled'), b], 'layernorm');
  },
};
