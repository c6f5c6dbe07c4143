/**
 * avgpool2d / maxpool2d / global_avgpool (ONNX AveragePool, MaxPool, GlobalAveragePool, ReduceMean over H and W),
 * with ceil_mode and count_include_pad (src/qmath/pool-window.ts).
 * Kernels: Backend.avgPool2d / maxPool2d / globalAvgPool and their backwards. int: average pooling is the
 * `avgpool2d` layer (integer window sums requantized with x_scale / (out_scale * count), one multiplier per count
 * when the divisor varies from window to window); max pooling moves values
 * and keeps its input's scale (`maxpool2d` layer).
 */
import { poolOutSize } from '../../qmath/pool-window.ts';
import { avgPoolFn, globalAvgPoolFn, maxPoolFn } from '../../engine/fns/pool.ts';
import { attrInt, attrInts } from '../../io/onnx/attrs.ts';
import type { GraphNode } from '../../graph/ir.ts';
import type { AttributeProto } from '../../io/onnx/proto-types.ts';
import { pyPair, torchModule } from '../../io/torch/py.ts';
import type { LowerCtx, Lowered, OpDef, TorchExport } from '../types.ts';
import { importGlobalAvgPool, importPool, importReduceMean } from './onnx.ts';

const pairOf = (a: number, b: number): [number, number] => [a, b];

const poolView = (n: GraphNode): string => {
  const p = n.attrs.pool;
  return p ? `${p.kernelH}x${p.kernelW} s${p.strideH} p${p.padH}${p.ceilMode ? ' ceil' : ''}${p.countIncludePad === false ? ' excl-pad' : ''}` : '';
};

const poolShape = (n: GraphNode, [x]: number[][]): number[] => {
  const p = n.attrs.pool!;
  return [x[0], poolOutSize(x[1], p.kernelH, p.strideH, p.padH, p.ceilMode), poolOutSize(x[2], p.kernelW, p.strideW, p.padW, p.ceilMode)];
};

const poolAttrs = (n: GraphNode): AttributeProto[] => {
  const p = n.attrs.pool!;
  return [
    attrInts('kernel_shape', [p.kernelH, p.kernelW]), attrInts('strides', [p.strideH, p.strideW]), attrInts('pads', [p.padH, p.padW, p.padH, p.padW]),
    attrInt('ceil_mode', p.ceilMode ? 1 : 0),
  ];
};

/** nn.AvgPool2d / nn.MaxPool2d with the node's window (ceil_mode, count_include_pad where they differ from torch's defaults). */
const torchPool = (cls: 'AvgPool2d' | 'MaxPool2d'): TorchExport => ({
  ...torchModule((n) => {
    const p = n.attrs.pool!;
    const extra = `${p.ceilMode ? ', ceil_mode=True' : ''}${cls === 'AvgPool2d' && p.countIncludePad === false ? ', count_include_pad=False' : ''}`;
    return `nn.${cls}(${pyPair(p.kernelH, p.kernelW)}, stride=${pyPair(p.strideH, p.strideW)}, padding=${pyPair(p.padH, p.padW)}${extra})`;
  }),
  info: (n) => ({ pool: n.attrs.pool! }),
});

function lowerAvg(n: GraphNode, c: LowerCtx): Lowered {
  const s = c.site(n);
  const xs = c.info(n.inputs[0]);
  const p = n.attrs.pool;
  const kernel: [number, number] | null = n.op === 'global_avgpool' ? null : [p!.kernelH, p!.kernelW];
  const count = kernel ? kernel[0] * kernel[1] : xs.shape[1] * xs.shape[2];
  // A divisor per window (ceil_mode, count_include_pad = 0): one multiplier per possible count 1..kh*kw.
  const byCount = kernel !== null && (p!.ceilMode === true || p!.countIncludePad === false);
  const counts = byCount ? Array.from({ length: count }, (_, i) => i + 1) : [count];
  const xScale = c.scalarScale(n.inputs[0]);
  return {
    layer: {
      id: n.id, op: 'avgpool2d', inputs: [...n.inputs], kernel,
      stride: p ? pairOf(p.strideH, p.strideW) : [1, 1], padding: p ? pairOf(p.padH, p.padW) : [0, 0],
      ...(p?.ceilMode ? { ceilMode: true } : {}), ...(p?.countIncludePad === false ? { countIncludePad: false } : {}),
      // The 1/count of the mean needs a real multiplier even on bernoulli (where x_s / out_s is a power of two):
      // pooling always takes the multiplier + shift path (an assumption, docs/fixed-point.md §6).
      requant: c.requantParams(counts.map((k) => xScale / (s.scale * k)), 'bayes', c.bits), clamp: c.dtypeClamp(s.dtype),
    },
    value: { dtype: s.dtype, scales: [s.scale], shape: [...n.shape] },
  };
}

export const avgpool2dOp: OpDef = {
  type: 'avgpool2d',
  view: { label: 'AvgPool', attrs: poolView },
  onnx: { AveragePool: importPool },
  inferShape: poolShape,
  forward: (tape, n, xs) => tape.apply(avgPoolFn, xs, n.attrs.pool!),
  fusion: {},
  macs: () => 0,
  quant: { output: 'site' },
  int: { lower: lowerAvg },
  qdq: (n, c) => c.emit('AveragePool', [c.inputs[0]], 'pool', [...poolAttrs(n), attrInt('count_include_pad', n.attrs.pool!.countIncludePad === false ? 0 : 1)]),
  torch: torchPool('AvgPool2d'),
};

export const maxpool2dOp: OpDef = {
  type: 'maxpool2d',
  view: { label: 'MaxPool', attrs: poolView },
  onnx: { MaxPool: importPool },
  inferShape: poolShape,
  forward: (tape, n, xs) => tape.apply(maxPoolFn, xs, n.attrs.pool!),
  fusion: {},
  macs: () => 0,
  quant: { output: 'inherit' },
  int: {
    lower: (n, c) => {
      const p = n.attrs.pool!;
      return {
        layer: {
          id: n.id, op: 'maxpool2d', inputs: [...n.inputs], kernel: pairOf(p.kernelH, p.kernelW), stride: pairOf(p.strideH, p.strideW), padding: pairOf(p.padH, p.padW),
          ...(p.ceilMode ? { ceilMode: true } : {}),
        },
        value: { ...c.info(n.inputs[0]), shape: [...n.shape] },
      };
    },
  },
  qdq: (n, c) => c.emit('MaxPool', [c.inputs[0]], 'pool', poolAttrs(n)),
  torch: torchPool('MaxPool2d'),
};

export const globalAvgpoolOp: OpDef = {
  type: 'global_avgpool',
  view: { label: 'GlobalAvgPool', attrs: () => '' },
  onnx: { GlobalAveragePool: importGlobalAvgPool, ReduceMean: importReduceMean },
  inferShape: (_n, [x]) => [x[0]],
  forward: (tape, _n, xs) => tape.apply(globalAvgPoolFn, xs, null),
  fusion: {},
  macs: () => 0,
  quant: { output: 'site', exact: 'gap' },
  int: { lower: lowerAvg },
  // [N, C, 1, 1] in ONNX, [N, C] in the IR
  qdq: (_n, c) => c.emit('Flatten', [c.emit('GlobalAveragePool', [c.inputs[0]], 'gap')], 'flatten', [attrInt('axis', 1)]),
  torch: { module: (_n, c) => [`self.${c.m} = nn.AdaptiveAvgPool2d(1)`], call: (_n, c) => `self.${c.m}(${c.xs[0]}).flatten(1)` },
};
