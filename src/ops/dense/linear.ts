/**
 * linear: y = x W^T + b on [N, K] (weights [O, K]); anchor of the Linear+BN and Linear+act fusions.
 * Kernels: Backend.linear / linearBackward* / sumRows; int: the `linear` layer.
 */
import { linearFn } from '../../engine/fns/dense.ts';
import { attrInt } from '../../io/onnx/attrs.ts';
import { callModule } from '../../io/torch/py.ts';
import { weightSiteKey } from '../../io/torch/torch-names.ts';
import type { OpDef } from '../types.ts';
import { lowerDense } from './lower.ts';
import { importGemm, importMatMul } from './onnx.ts';

export const linearOp: OpDef = {
  type: 'linear',
  view: { label: 'Linear', attrs: (n) => `${n.shape[0]} out${n.attrs.act ? ` +${n.attrs.act}` : ''}` },
  onnx: { Gemm: importGemm, MatMul: importMatMul },
  inferShape: (_n, _xs, paramShape) => [paramShape('weight')[0]],
  forward: (tape, n, xs, c) => {
    const ins = [xs[0], c.param('weight')];
    if (n.params.bias) ins.push(c.param('bias'));
    return c.epilogue(tape.apply(linearFn, ins, null));
  },
  fusion: { anchor: { foldBn: true, add: false, act: true } },
  macs: (_n, paramShape) => paramShape('weight')[0] * paramShape('weight')[1],
  quant: { output: 'site', weight: { role: 'weight', axis: 0 }, int32Output: true },
  int: { lower: lowerDense },
  qdq: (_n, c) => c.epilogue(c.emit('Gemm', [c.inputs[0], ...c.weightInputs()], 'gemm', [attrInt('transB', 1)])),
  // studio_quant.linear_module: a torch.ao QAT Linear (LinearReLU, or LinearAct for ReLU6)
  torch: {
    info: (n, paramShape) => ({ in_features: paramShape('weight')[1], out_features: paramShape('weight')[0], bias: !!n.params.bias, act: n.attrs.act ?? null }),
    module: (_n, c) => [`self.${c.m} = sq.linear_module(weights["${weightSiteKey(c.m)}"], qc, mods["${c.m}"])`],
    call: callModule,
  },
};
