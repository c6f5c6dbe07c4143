/** The integer form of the channel-moving ops (slice, channel_shuffle): a `gather_channels` layer. */
import type { GraphNode } from '../../graph/ir.ts';
import type { LowerCtx, Lowered } from '../types.ts';

export function lowerGather(n: GraphNode, c: LowerCtx, index: number[]): Lowered {
  const v = c.info(n.inputs[0]);
  // a per-channel (int32) value keeps each channel's scale with the channel
  const scales = v.scales.length === 1 ? [...v.scales] : index.map((i) => v.scales[i]);
  return {
    layer: { id: n.id, op: 'gather_channels', inputs: [...n.inputs], index },
    value: { dtype: v.dtype, scales, shape: [...n.shape] },
  };
}
