/**
 * linear: y = x W^T + b on [N, K] (weights [O, K]), or on the last axis of tokens [N, T, K] -> [N, T, O] (seen as
 * [N·T, K] rows); anchor of the Linear+BN and Linear+act fusions.
 * Kernels: Backend.linear / linearBackward* / sumRows; int: the `linear` layer (one row per sample or per token).
 */
import { linearFn } from '../../engine/fns/dense.ts';
import { reshapeFn } from '../../engine/fns/pool.ts';
import { attrInt, attrInts } from '../../io/onnx/attrs.ts';
import { callModule } from '../../io/torch/py.ts';
import { weightSiteKey } from '../../io/torch/torch-names.ts';
import type { OpDef } from '../types.ts';
import { floatLinear, lowerDense } from './lower.ts';
import { importGemm, importMatMul } from './onnx.ts';

export const linearOp: OpDef = {
  type: 'linear',
  view: { label: 'Linear', attrs: (n) => `${n.shape[0]} out${n.attrs.act ? ` +${n.attrs.act}` : ''}` },
  onnx: { Gemm: importGemm, MatMul: importMatMul },
  inferShape: (n, [x], paramShape) => {
    const [O, K] = paramShape('weight');
    if (x.length <= 1) return [O];
    if (x[x.length - 1] !== K) throw new Error(`linear ${n.id}: input [${x}] has ${x[x.length - 1]} features, the weight ${K}`);
    return [...x.slice(0, -1), O];
  },
  forward: (tape, n, xs, c) => {
    const w = c.param('weight');
    const tokens = n.shape.length > 1;
    // tokens: one row per token
    const x = tokens ? tape.apply(reshapeFn, [xs[0]], { shape: [xs[0].value.size / w.shape[1], w.shape[1]] }) : xs[0];
    const ins = [x, w];
    if (n.params.bias) ins.push(c.param('bias'));
    const y = tape.apply(linearFn, ins, null);
    return c.epilogue(tokens ? tape.apply(reshapeFn, [y], { shape: [c.batch, ...n.shape] }) : y);
  },
  fusion: { anchor: { foldBn: true, add: false, act: true } },
  macs: (n, paramShape) => n.shape.slice(0, -1).reduce((a, b) => a * b, 1) * paramShape('weight')[0] * paramShape('weight')[1],
  quant: { output: 'site', weight: { role: 'weight', axis: 0 }, bias: { role: 'bias' }, int32Output: true },
  int: { lower: lowerDense },
  floatIsland: floatLinear,
  qdq: (n, c) => {
    if (n.shape.length <= 1) return c.epilogue(c.emit('Gemm', [c.inputs[0], ...c.weightInputs()], 'gemm', [attrInt('transB', 1)]));
    // tokens: MatMul by Wᵀ (+ bias), as PyTorch exports nn.Linear on a 3-D input
    const [w, b] = c.weightInputs();
    const y = c.emit('MatMul', [c.inputs[0], c.emit('Transpose', [w], 'weight_t', [attrInts('perm', [1, 0])])], 'matmul');
    return c.epilogue(b ? c.emit('Add', [y, b], 'bias') : y);
  },
  // studio_quant.linear_module: LinearAct, a torch.ao QAT Linear with the fused activation and the int32-grid bias
  torch: {
    info: (n, paramShape) => ({ in_features: paramShape('weight')[1], out_features: paramShape('weight')[0], bias: !!n.params.bias, act: n.attrs.act ?? null }),
    module: (_n, c) => [`self.${c.m} = sq.linear_module(weights["${weightSiteKey(c.m)}"], qc, mods["${c.m}"])`],
    call: callModule,
  },
};
