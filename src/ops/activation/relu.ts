/**
 * relu / relu6: clamp(x, 0, inf) / clamp(x, 0, 6) (ONNX Relu, Clip); fuse into a conv / linear as its epilogue.
 * Kernels: Backend.clamp / clampBackward; int: a `rescale` layer to the op's own scale with the clamp.
 */
import { clampFn, RELU, RELU6, type ClampAttrs } from '../../engine/fns/activation.ts';
import { activationClamp } from '../../sim/int/requant.ts';
import { torchModule } from '../../io/torch/py.ts';
import type { OpDef } from '../types.ts';
import { importClip, importRelu } from './onnx.ts';

function clampOp(type: 'relu' | 'relu6', label: string, bounds: ClampAttrs, onnx: OpDef['onnx']): OpDef {
  return {
    type,
    view: { label, attrs: () => '' },
    onnx,
    inferShape: (_n, [x]) => [...x],
    forward: (tape, _n, xs) => tape.apply(clampFn, [xs[0]], bounds),
    fusion: { act: { clamp: (scale) => activationClamp(type, scale, 0) } },
    macs: () => 0,
    quant: { output: 'site' },
    int: {
      lower: (n, c) => {
        const s = c.site(n);
        const requant = n.inputs.map((i) => c.requantParams([c.scalarScale(i) / s.scale], c.march, c.bits));
        return {
          layer: { id: n.id, op: 'rescale', kind: type, inputs: [...n.inputs], requant, clamp: c.actClamp(type, s.scale, s.dtype) },
          value: { dtype: s.dtype, scales: [s.scale], shape: [...n.shape] },
        };
      },
    },
    qdq: (n, c) => (type === 'relu' ? c.emit('Relu', [c.inputs[0]], 'relu')
      : c.emit('Clip', [c.inputs[0], c.constF(`${n.id}.clip_min`, [], Float32Array.of(0)), c.constF(`${n.id}.clip_max`, [], Float32Array.of(6))], 'relu6')),
    torch: torchModule(() => (type === 'relu' ? 'nn.ReLU()' : 'nn.ReLU6()')),
  };
}

// Clip maps to relu or relu6 by its bounds (importClip picks the op).
export const reluOp: OpDef = clampOp('relu', 'ReLU', RELU, { Relu: importRelu, Clip: importClip });
export const relu6Op: OpDef = clampOp('relu6', 'ReLU6', RELU6, {});
