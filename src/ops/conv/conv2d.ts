/**
 * conv2d: 2-D convolution (OIHW weights, groups, dilation, zero padding), the anchor of the Conv+BN, Conv+Add(+act)
 * and Conv+act fusions. Kernels: Backend.conv2d / conv2dBackward* (CPU reference and WGSL), int: the `conv2d` layer.
 */
import { outSize } from '../../engine/backend.ts';
import { conv2dFn } from '../../engine/fns/conv.ts';
import { attrInt, attrInts } from '../../io/onnx/attrs.ts';
import { lowerDense } from '../dense/lower.ts';
import { weightSiteKey } from '../../io/torch/torch-names.ts';
import type { OpDef } from '../types.ts';
import { importConv, importPad } from './onnx.ts';

export const conv2dOp: OpDef = {
  type: 'conv2d',
  view: {
    label: 'Conv2d',
    attrs: (n) => {
      const c = n.attrs.conv;
      if (!c) return '';
      const g = c.groups > 1 ? ` g${c.groups}` : '';
      return `s${c.strideH === c.strideW ? c.strideH : `${c.strideH}x${c.strideW}`} p${c.padH === c.padW ? c.padH : `${c.padH}x${c.padW}`}${c.dilationH > 1 || c.dilationW > 1 ? ` d${c.dilationH}` : ''}${g}${n.attrs.addInput ? ' +add' : ''}${n.attrs.act ? ` +${n.attrs.act}` : ''}`;
    },
  },
  // Pad: a zero Pad before a Conv (or AveragePool) is folded into its padding.
  onnx: { Conv: importConv, Pad: importPad },
  inferShape: (n, [x], paramShape) => {
    const c = n.attrs.conv!;
    const [o, , kh, kw] = paramShape('weight');
    return [o, outSize(x[1], kh, c.strideH, c.padH, c.dilationH), outSize(x[2], kw, c.strideW, c.padW, c.dilationW)];
  },
  forward: (tape, n, xs, c) => {
    const ins = [xs[0], c.param('weight')];
    if (n.params.bias) ins.push(c.param('bias'));
    return c.epilogue(tape.apply(conv2dFn, ins, n.attrs.conv!));
  },
  fusion: { anchor: { foldBn: true, add: true, act: true } },
  macs: (n, paramShape) => {
    const [, cg, kh, kw] = paramShape('weight');
    return n.shape[0] * n.shape[1] * n.shape[2] * cg * kh * kw;
  },
  quant: { output: 'site', weight: { role: 'weight', axis: 0 }, bias: { role: 'bias' }, int32Output: true, exact: 'conv' },
  int: { lower: lowerDense },
  qdq: (n, c) => {
    const g = n.attrs.conv!;
    const [, , kh, kw] = c.paramShape('weight');
    return c.epilogue(c.emit('Conv', [c.inputs[0], ...c.weightInputs()], 'conv', [
      attrInt('group', g.groups), attrInts('kernel_shape', [kh, kw]), attrInts('strides', [g.strideH, g.strideW]),
      attrInts('dilations', [g.dilationH, g.dilationW]), attrInts('pads', [g.padH, g.padW, g.padH, g.padW]),
    ]));
  },
  // studio_quant.conv_module: ConvAddAct2d, a torch.ao QAT conv with the fused add / activation and the int32-grid bias
  torch: {
    info: (n, paramShape) => {
      const w = paramShape('weight');
      const c = n.attrs.conv!;
      return {
        conv: c, kernel: [w[2], w[3]], in_channels: w[1] * c.groups, out_channels: w[0], bias: !!n.params.bias,
        act: n.attrs.act ?? null, add_input: !!n.attrs.addInput,
      };
    },
    module: (_n, c) => [`self.${c.m} = sq.conv_module(weights["${weightSiteKey(c.m)}"], qc, mods["${c.m}"])`],
    call: (_n, c) => `self.${c.m}(${c.xs.join(', ')})`,
  },
};
