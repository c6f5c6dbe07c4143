/**
 * gelu: x Φ(x), the erf form (nn.GELU()) or the tanh approximation (approximate='tanh'), recognised at import from
 * the exporters' decompositions (onnx-gelu.ts). Kernels: Backend.unaryAct kinds 'gelu' / 'gelu_tanh'
 * (src/engine/unary-act.ts). Quantized as a new activation site; integer: a lookup table on the int8 / int16 input
 * (lut-lower.ts, docs/fixed-point.md §3), as a BPU evaluates GELU. QDQ export: the same decomposition (opset 13).
 */
import { torchModule } from '../../io/torch/py.ts';
import { unaryActFn } from '../../engine/fns/activation.ts';
import { unaryActValue, type UnaryAct } from '../../engine/unary-act.ts';
import type { GraphNode } from '../../graph/ir.ts';
import type { OpDef } from '../types.ts';
import { lowerLut } from './lut-lower.ts';
import { importErf } from './onnx-gelu.ts';

export const geluAct = (n: GraphNode): UnaryAct => {
  if (!n.attrs.gelu) throw new Error(`gelu ${n.id} has no form (erf or tanh)`);
  return { kind: n.attrs.gelu === 'tanh' ? 'gelu_tanh' : 'gelu', alpha: 0, beta: 0 };
};

export const geluOp: OpDef = {
  type: 'gelu',
  view: { label: 'GELU', attrs: (n) => (n.attrs.gelu === 'tanh' ? 'tanh' : 'erf') },
  // the tanh form is read at its Tanh node (importTanh in onnx-lut.ts)
  onnx: { Erf: importErf },
  inferShape: (_n, [x]) => [...x],
  forward: (tape, n, xs) => tape.apply(unaryActFn, [xs[0]], geluAct(n)),
  fusion: {},
  macs: () => 0,
  quant: { output: 'site', outputDtype: 'qint16' },
  int: {
    lower: (n, c) => {
      const a = geluAct(n);
      return lowerLut(n, c, 'GELU', 1, (_ch, x) => Math.fround(unaryActValue(a, x)));
    },
  },
  floatIsland: (n) => ({ kind: 'gelu', form: n.attrs.gelu === 'tanh' ? 'tanh' : 'erf' }),
  torch: torchModule((n) => `nn.GELU(approximate='${n.attrs.gelu === 'tanh' ? 'tanh' : 'none'}')`),
  qdq: (n, c) => {
    const x = c.inputs[0];
    const k = (name: string, v: number) => c.constF(`${n.id}.${name}`, [], Float32Array.of(v));
    let t: string;
    if (n.attrs.gelu === 'tanh') {
      const cube = c.emit('Mul', [x, c.emit('Mul', [x, x], 'square')], 'cube');
      const inner = c.emit('Add', [x, c.emit('Mul', [cube, k('c3', 0.044715)], 'cube_scaled')], 'inner');
      t = c.emit('Tanh', [c.emit('Mul', [inner, k('sqrt_2_pi', Math.sqrt(2 / Math.PI))], 'tanh_arg')], 'tanh');
    } else {
      t = c.emit('Erf', [c.emit('Div', [x, k('sqrt2', Math.SQRT2)], 'erf_arg')], 'erf');
    }
    const g = c.emit('Mul', [x, c.emit('Add', [t, k('one', 1)], 'one_plus')], 'x_times');
    return c.emit('Mul', [g, k('half', 0.5)], 'gelu');
  },
};
