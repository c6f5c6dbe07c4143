/**
 * conv_transpose2d: ONNX ConvTranspose (strides, symmetric pads, output_padding, groups, dilations). The weight is
 * kept conv-like, [C_out, C_in / G, KH, KW] (src/engine/fns/conv-transpose.ts), so it is an anchor like conv2d:
 * a following BatchNorm folds into it along axis 0, a following activation becomes its epilogue, and its weight is
 * quantized per output channel. Kernels: conv2dBackwardInput / conv2d / conv2dBackwardWeight (no kernel of its own).
 * int: the `conv_transpose2d` layer (int32 accumulation from the int32 bias, per-channel requantization).
 */
import { convTranspose2dFn } from '../../engine/fns/conv-transpose.ts';
import { attrInt, attrInts } from '../../io/onnx/attrs.ts';
import { DataType } from '../../io/onnx/proto-types.ts';
import { quantizeWeights, weightScales } from '../../quant/int-weights.ts';
import { biasScale, quantizeBias } from '../../qmath/bias.ts';
import { requantSpecFromScales } from '../../sim/int/requant.ts';
import { convTransposeOutSize } from '../../sim/int/conv-transpose.ts';
import type { GraphNode } from '../../graph/ir.ts';
import type { LowerCtx, Lowered, OpDef } from '../types.ts';
import { importConvTranspose } from './onnx-transpose.ts';
import { callModule } from '../../io/torch/py.ts';
import { weightSiteKey } from '../../io/torch/torch-names.ts';

const outPad = (n: GraphNode): [number, number] => n.attrs.outputPadding ?? [0, 0];

function lower(n: GraphNode, c: LowerCtx): Lowered {
  const ws = c.weightSite(n);
  if (!ws) c.fail(`${n.id}: no weight site`);
  if (ws.quantMin < -128 || ws.quantMax > 127) c.fail(`${n.id}: weights wider than int8 are not supported by the simulator`);
  if (n.attrs.addInput) c.fail(`${n.id}: a fused add on a ConvTranspose is not supported`);
  const wf = c.param(n.params.weight);
  const [O, Cg, KH, KW] = c.paramShape(n.params.weight);
  const g = n.attrs.conv!;
  const wScales = weightScales(wf, ws.channels, ws.quantMin, ws.quantMax, c.march);
  const wq = quantizeWeights(wf, wScales, ws.quantMin, ws.quantMax, c.rounding);
  const xScale = c.scalarScale(n.inputs[0]);
  const bias = quantizeBias(n.params.bias ? c.param(n.params.bias) : new Float32Array(O), xScale, wScales);
  const geometry = {
    stride: [g.strideH, g.strideW] as [number, number], padding: [g.padH, g.padW] as [number, number],
    dilation: [g.dilationH, g.dilationW] as [number, number], groups: g.groups, outputPadding: outPad(n),
  };
  const base = { id: n.id, op: 'conv_transpose2d' as const, inputs: [n.inputs[0]], weight: wq, weightShape: [O, Cg, KH, KW], bias, geometry };
  if (c.int32Output(n)) {
    if (n.attrs.act) c.fail(`${n.id}: an int32 output cannot have a fused activation`);
    return {
      layer: { ...base, requant: null, clamp: c.dtypeClamp('int32') },
      value: { dtype: 'int32', scales: Array.from(wScales, (w) => biasScale(xScale, w)), shape: [...n.shape] },
    };
  }
  const s = c.site(n);
  const spec = requantSpecFromScales('horizon', xScale, wScales, s.scale, { march: c.march, bits: c.bits });
  if (spec.mode !== 'horizon') throw new Error('unreachable');
  return {
    layer: { ...base, requant: { multiplier: spec.multiplier, shift: spec.shift }, clamp: c.actClamp(n.attrs.act, s.scale, s.dtype) },
    value: { dtype: s.dtype, scales: [s.scale], shape: [...n.shape] },
  };
}

export const convTranspose2dOp: OpDef = {
  type: 'conv_transpose2d',
  view: {
    label: 'ConvTranspose2d',
    attrs: (n) => {
      const c = n.attrs.conv;
      if (!c) return '';
      const op = outPad(n);
      return `s${c.strideH === c.strideW ? c.strideH : `${c.strideH}x${c.strideW}`} p${c.padH === c.padW ? c.padH : `${c.padH}x${c.padW}`}${op[0] || op[1] ? ` op${op[0]}x${op[1]}` : ''}${c.dilationH > 1 || c.dilationW > 1 ? ` d${c.dilationH}` : ''}${c.groups > 1 ? ` g${c.groups}` : ''}${n.attrs.act ? ` +${n.attrs.act}` : ''}`;
    },
  },
  onnx: { ConvTranspose: importConvTranspose },
  inferShape: (n, [x], paramShape) => {
    const c = n.attrs.conv!;
    const [o, , kh, kw] = paramShape('weight');
    const op = outPad(n);
    return [o, convTransposeOutSize(x[1], kh, c.strideH, c.padH, c.dilationH, op[0]), convTransposeOutSize(x[2], kw, c.strideW, c.padW, c.dilationW, op[1])];
  },
  forward: (tape, n, xs, c) => {
    const ins = [xs[0], c.param('weight')];
    if (n.params.bias) ins.push(c.param('bias'));
    return c.epilogue(tape.apply(convTranspose2dFn, ins, { conv: n.attrs.conv!, outH: n.shape[1], outW: n.shape[2] }));
  },
  fusion: { anchor: { foldBn: true, add: false, act: true } },
  // every input pixel meets every tap of its group's output channels
  macs: (n, paramShape) => {
    const [O, Cg, kh, kw] = paramShape('weight');
    const c = n.attrs.conv!;
    const op = outPad(n);
    const inH = (n.shape[1] - 1 - op[0] + 2 * c.padH - c.dilationH * (kh - 1)) / c.strideH + 1;
    const inW = (n.shape[2] - 1 - op[1] + 2 * c.padW - c.dilationW * (kw - 1)) / c.strideW + 1;
    return inH * inW * O * Cg * kh * kw;
  },
  quant: { output: 'site', weight: { role: 'weight', axis: 0 }, bias: { role: 'bias' }, int32Output: true },
  int: { lower },
  // studio_quant.conv_transpose_module: the conv-like weight fake-quantized per output channel, then
  // F.conv_transpose2d with it permuted to PyTorch's layout (ConvTransposeAct2d)
  torch: {
    info: (n, paramShape) => {
      const w = paramShape('weight');
      const c = n.attrs.conv!;
      return {
        conv: c, kernel: [w[2], w[3]], in_channels: w[1] * c.groups, out_channels: w[0], bias: !!n.params.bias,
        act: n.attrs.act ?? null, output_padding: outPad(n),
      };
    },
    module: (_n, c) => [`self.${c.m} = sq.conv_transpose_module(weights["${weightSiteKey(c.m)}"], qc, mods["${c.m}"])`],
    call: callModule,
  },
  qdq: (n, c) => {
    const g = n.attrs.conv!;
    const [O, Cg, kh, kw] = c.paramShape('weight');
    const [w, ...b] = c.weightInputs();
    // the IR's [C_out, C_in/G, KH, KW] back to ONNX's [C_in, C_out/G, KH, KW]: [G, Og, Cg, ..] -> [G, Cg, Og, ..]
    const G = g.groups, Og = O / G;
    const w5 = c.emit('Reshape', [w, c.constI(`${n.id}.w5`, [5], [G, Og, Cg, kh, kw], DataType.INT64)], 'w5');
    const t = c.emit('Transpose', [w5], 'wt', [attrInts('perm', [0, 2, 1, 3, 4])]);
    const wOnnx = c.emit('Reshape', [t, c.constI(`${n.id}.w4`, [4], [Cg * G, Og, kh, kw], DataType.INT64)], 'w4');
    const op = outPad(n);
    return c.epilogue(c.emit('ConvTranspose', [c.inputs[0], wOnnx, ...b], 'convt', [
      attrInt('group', G), attrInts('kernel_shape', [kh, kw]), attrInts('strides', [g.strideH, g.strideW]),
      attrInts('dilations', [g.dilationH, g.dilationW]), attrInts('pads', [g.padH, g.padW, g.padH, g.padW]), attrInts('output_padding', op),
    ]));
  },
};
