/**
 * channel_shuffle: ShuffleNet's x.view(N, g, C/g, H, W).transpose(1, 2).reshape(N, C, H, W), recognised at import
 * from the exporter's Reshape -> Transpose -> Reshape (src/ops/shape/onnx-slice.ts). Kernels: Backend.gatherChannels
 * with the shuffle index (backward: the inverse index). Moves values, keeps its input's scale; int: a
 * `gather_channels` layer. QDQ export: the same Reshape -> Transpose -> Reshape.
 */
import { gatherChannelsFn, shuffleIndex } from '../../engine/fns/channels.ts';
import { attrInts } from '../../io/onnx/attrs.ts';
import { DataType } from '../../io/onnx/proto-types.ts';
import type { GraphNode } from '../../graph/ir.ts';
import { torchExpr } from '../../io/torch/py.ts';
import type { OpDef } from '../types.ts';
import { lowerGather } from './gather-lower.ts';
import { importTranspose } from './onnx-slice.ts';

const groups = (n: GraphNode): number => {
  const g = n.attrs.groups;
  if (!g) throw new Error(`channel_shuffle ${n.id} has no groups`);
  return g;
};

export const channelShuffleOp: OpDef = {
  type: 'channel_shuffle',
  view: { label: 'ChannelShuffle', attrs: (n) => `g${groups(n)}` },
  onnx: { Transpose: importTranspose },
  inferShape: (n, [x]) => {
    if (x[0] % groups(n)) throw new Error(`channel_shuffle ${n.id}: ${x[0]} channels do not split into ${groups(n)} groups`);
    return [...x];
  },
  forward: (tape, n, xs) => tape.apply(gatherChannelsFn, xs, { index: shuffleIndex(n.shape[0], groups(n)) }),
  fusion: {},
  macs: () => 0,
  quant: { output: 'inherit' },
  int: { lower: (n, c) => lowerGather(n, c, shuffleIndex(n.shape[0], groups(n))) },
  qdq: (n, c) => {
    const g = groups(n);
    const [C, ...rest] = n.shape;
    const shape = (name: string, dims: number[]) => c.constI(`${n.id}.${name}`, [dims.length], dims, DataType.INT64);
    const split = c.emit('Reshape', [c.inputs[0], shape('split_shape', [0, g, C / g, ...rest])], 'split');
    const perm = [0, 2, 1, ...rest.map((_, i) => i + 3)];
    const t = c.emit('Transpose', [split], 'transpose', [attrInts('perm', perm)]);
    return c.emit('Reshape', [t, shape('shape', [0, C, ...rest])], 'reshape');
  },
  torch: torchExpr((n, c) => {
    const [C, ...rest] = n.shape;
    const g = groups(n);
    const x = c.xs[0];
    return `${x}.reshape(${x}.shape[0], ${[g, C / g, ...rest].join(', ')}).transpose(1, 2).reshape(${x}.shape[0], ${n.shape.join(', ')})`;
  }, false),
};
