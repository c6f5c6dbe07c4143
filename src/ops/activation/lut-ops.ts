/**
 * sigmoid, tanh, hardsigmoid, hardswish, silu, leakyrelu, clip: unary activations on one kernel each way
 * (Backend.unaryAct / unaryActBackward, src/engine/unary-act.ts). Quantized as a new activation site; no Conv+act
 * fusion (Horizon's BPU fuses ReLU / ReLU6 into a conv's requantization, the others are table lookups after the
 * conv's int8 / int16 output; a clip with other bounds than ReLU6 stays standalone too). Integer implementation: a
 * `lut` layer built at convert time (lut-lower.ts, docs/fixed-point.md §3 "lookup tables").
 */
import { unaryActFn } from '../../engine/fns/activation.ts';
import { unaryActValue, type UnaryAct, type UnaryActKind } from '../../engine/unary-act.ts';
import type { GraphNode } from '../../graph/ir.ts';
import { attrFloat } from '../../io/onnx/attrs.ts';
import { pyFloat, torchModule } from '../../io/torch/py.ts';
import type { OpDef, QdqCtx, TorchExport } from '../types.ts';
import { lowerLut } from './lut-lower.ts';
import { importHardSigmoid, importHardSwish, importLeakyRelu, importSigmoid, importTanh } from './onnx-lut.ts';

const actOf = (kind: UnaryActKind, n: GraphNode): UnaryAct => {
  const p = n.attrs.actParams;
  if ((kind === 'hardsigmoid' || kind === 'leakyrelu' || kind === 'clip') && !p) throw new Error(`${n.id}: ${kind} without its parameters`);
  return { kind, alpha: p?.alpha ?? 0, beta: p?.beta ?? 0 };
};

const isTorchHardsigmoid = (n: GraphNode): boolean => {
  const a = actOf('hardsigmoid', n);
  return Math.abs(a.alpha - 1 / 6) <= 1e-6 && a.beta === 0.5;
};

const num = (v: number) => (Math.abs(v) >= 3e38 ? (v < 0 ? '-inf' : 'inf') : String(Number(v.toPrecision(4))));

function lutOp(type: UnaryActKind, label: string, onnx: OpDef['onnx'], qdq: (n: GraphNode, c: QdqCtx) => string, torch: TorchExport, view: (a: UnaryAct) => string = () => ''): OpDef {
  return {
    type,
    view: { label, attrs: (n) => view(actOf(type, n)) },
    onnx,
    inferShape: (_n, [x]) => [...x],
    forward: (tape, n, xs) => tape.apply(unaryActFn, [xs[0]], actOf(type, n)),
    fusion: {},
    macs: () => 0,
    quant: { output: 'site', int16Output: true },
    int: {
      lower: (n, c) => {
        const a = actOf(type, n);
        return lowerLut(n, c, label, 1, (_ch, x) => Math.fround(unaryActValue(a, x)));
      },
    },
    qdq,
    torch,
  };
}

export const sigmoidOp = lutOp('sigmoid', 'Sigmoid', { Sigmoid: importSigmoid }, (_n, c) => c.emit('Sigmoid', [c.inputs[0]], 'sigmoid'), torchModule(() => 'nn.Sigmoid()'));
export const tanhOp = lutOp('tanh', 'Tanh', { Tanh: importTanh }, (_n, c) => c.emit('Tanh', [c.inputs[0]], 'tanh'), torchModule(() => 'nn.Tanh()'));
export const hardsigmoidOp = lutOp(
  'hardsigmoid', 'HardSigmoid', { HardSigmoid: importHardSigmoid },
  (n, c) => c.emit('HardSigmoid', [c.inputs[0]], 'hardsigmoid', [attrFloat('alpha', n.attrs.actParams!.alpha), attrFloat('beta', n.attrs.actParams!.beta)]),
  // nn.Hardsigmoid is alpha 1/6, beta 1/2 (torchvision's squeeze-excitation); other slopes as a clamp
  {
    module: (n, c) => [`self.${c.m} = ${isTorchHardsigmoid(n) ? 'nn.Hardsigmoid()' : 'nn.Identity()'}`],
    call: (n, c) => {
      const a = actOf('hardsigmoid', n);
      return isTorchHardsigmoid(n) ? `self.${c.m}(${c.xs[0]})` : `torch.clamp(${c.xs[0]} * ${pyFloat(a.alpha)} + ${pyFloat(a.beta)}, 0.0, 1.0)`;
    },
  },
  (a) => `α ${num(a.alpha)} β ${num(a.beta)}`,
);
// ONNX HardSwish needs opset 14 and the int8 export is opset 13: written as x · HardSigmoid(1/6, 1/2)(x), as torch does.
export const hardswishOp = lutOp('hardswish', 'HardSwish', { HardSwish: importHardSwish }, (_n, c) => c.emit('Mul', [
  c.inputs[0], c.emit('HardSigmoid', [c.inputs[0]], 'hardsigmoid', [attrFloat('alpha', 1 / 6), attrFloat('beta', 0.5)]),
], 'hardswish'), torchModule(() => 'nn.Hardswish()'));
// Read from ONNX as Sigmoid + Mul (importSigmoid); written the same way.
export const siluOp = lutOp('silu', 'SiLU', {}, (_n, c) => c.emit('Mul', [c.inputs[0], c.emit('Sigmoid', [c.inputs[0]], 'sigmoid')], 'silu'), torchModule(() => 'nn.SiLU()'));
export const leakyreluOp = lutOp(
  'leakyrelu', 'LeakyReLU', { LeakyRelu: importLeakyRelu },
  (n, c) => c.emit('LeakyRelu', [c.inputs[0]], 'leakyrelu', [attrFloat('alpha', n.attrs.actParams!.alpha)]),
  torchModule((n) => `nn.LeakyReLU(${pyFloat(actOf('leakyrelu', n).alpha)})`),
  (a) => `α ${num(a.alpha)}`,
);
// Read from ONNX Clip with bounds other than ReLU / ReLU6 (importClip in onnx.ts).
export const clipOp = lutOp('clip', 'Clip', {}, (n, c) => c.emit('Clip', [
  c.inputs[0], c.constF(`${n.id}.clip_min`, [], Float32Array.of(n.attrs.actParams!.alpha)), c.constF(`${n.id}.clip_max`, [], Float32Array.of(n.attrs.actParams!.beta)),
], 'clip'), torchModule((n) => `nn.Hardtanh(${pyFloat(actOf('clip', n).alpha)}, ${pyFloat(actOf('clip', n).beta)})`), (a) => `[${num(a.alpha)}, ${num(a.beta)}]`);
