/**
 * slice: channels [start, end) of an [N, C, ...] value (ONNX Slice and Split on axis 1, torch.chunk / split). A
 * multi-output Split becomes one slice node per output (src/ops/shape/onnx-slice.ts). Kernels: Backend.sliceChannels
 * (backward: gatherChannels with the inverse index). Quantization: moves values, keeps its input's scale; int: a
 * `gather_channels` layer with the channel range.
 */
import { sliceChannelsFn } from '../../engine/fns/channels.ts';
import { DataType } from '../../io/onnx/proto-types.ts';
import type { GraphNode } from '../../graph/ir.ts';
import { torchExpr } from '../../io/torch/py.ts';
import type { OpDef } from '../types.ts';
import { lowerGather } from './gather-lower.ts';
import { importGather, importSlice, importSplit } from './onnx-slice.ts';

const range = (n: GraphNode) => {
  const s = n.attrs.slice;
  if (!s) throw new Error(`slice ${n.id} has no channel range`);
  return s;
};

export const sliceOp: OpDef = {
  type: 'slice',
  view: { label: 'Slice', attrs: (n) => `channels ${range(n).start}:${range(n).end}` },
  onnx: { Slice: importSlice, Split: importSplit, Gather: importGather },
  inferShape: (n, [x]) => {
    const { start, end } = range(n);
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end > start && end <= x[0])) {
      throw new Error(`slice ${n.id}: channels [${start}, ${end}) outside the input's ${x[0]}`);
    }
    return [end - start, ...x.slice(1)];
  },
  forward: (tape, n, xs) => tape.apply(sliceChannelsFn, xs, { ...range(n) }),
  fusion: {},
  macs: () => 0,
  quant: { output: 'inherit' },
  int: {
    lower: (n, c) => {
      const { start, end } = range(n);
      return lowerGather(n, c, Array.from({ length: end - start }, (_, j) => start + j));
    },
  },
  qdq: (n, c) => {
    const { start, end } = range(n);
    const k = (name: string, v: number) => c.constI(`${n.id}.${name}`, [1], [v], DataType.INT64);
    return c.emit('Slice', [c.inputs[0], k('starts', start), k('ends', end), k('axes', 1)], 'slice');
  },
  torch: torchExpr((n, c) => `${c.xs[0]}[:, ${range(n).start}:${range(n).end}]`, false),
};
