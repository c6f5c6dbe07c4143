/**
 * layernorm over the last axis with a per-feature scale and shift (ONNX LayerNormalization, or the ReduceMean / Sub /
 * Pow / ReduceMean / Add / Sqrt / Div / Mul / Add pattern opset-13 exporters emit, recognised as one op:
 * src/ops/norm/onnx.ts). Kernels: Backend.layerNorm / layerNormBackward. Quantized as a new activation site.
 * QDQ export (opset 13): the same decomposition.
 */
import { layerNormFn } from '../../engine/fns/tokens.ts';
import type { GraphNode } from '../../graph/ir.ts';
import { attrInt, attrInts } from '../../io/onnx/attrs.ts';
import type { OpDef } from '../types.ts';
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
  int: { none: 'the simulator has no layer norm layer yet' },
  floatIsland: (n, c) => ({ kind: 'layernorm', eps: epsOf(n), gamma: Array.from(c.param(n.params.weight)), beta: Array.from(c.param(n.params.bias)) }),
  qdq: (n, c) => {
    const x = c.inputs[0];
    const axes = [attrInts('axes', [-1]), attrInt('keepdims', 1)];
    const mean = c.emit('ReduceMean', [x], 'mean', axes);
    const d = c.emit('Sub', [x, mean], 'centered');
    const v = c.emit('ReduceMean', [c.emit('Mul', [d, d], 'square')], 'variance', axes);
    const std = c.emit('Sqrt', [c.emit('Add', [v, c.constF(`${n.id}.eps`, [], Float32Array.of(epsOf(n)))], 'variance_eps')], 'std');
    const xhat = c.emit('Div', [d, std], 'normalized');
    const w = c.constF(`${n.id}.weight`, [n.shape[n.shape.length - 1]], c.param('weight'));
    const b = c.constF(`${n.id}.bias`, [n.shape[n.shape.length - 1]], c.param('bias'));
    return c.emit('Add', [c.emit('Mul', [xhat, w], 'scaled'), b], 'layernorm');
  },
};
