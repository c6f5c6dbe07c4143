/**
 * Channel selection on [N, C, ...] values: a contiguous slice (ONNX Slice / Split on channels, torch.chunk) and a
 * gather by index (the channel shuffle). Both backwards are gathers with the inverse index (zeros elsewhere).
 */
import type { Fn } from '../autograd.ts';

/** index[j] = i  ->  inverse[i] = j; -1 for the channels nothing reads. */
export function inverseIndex(index: readonly number[], channels: number): number[] {
  const inv = new Array<number>(channels).fill(-1);
  index.forEach((i, j) => {
    if (inv[i] !== -1) throw new Error(`channel index reads channel ${i} twice; only injective indices have a gather backward`);
    inv[i] = j;
  });
  return inv;
}

/** The channel shuffle of ShuffleNet (view [g, C/g], transpose, view [C]): y[:, a·g + b] = x[:, b·(C/g) + a]. */
export function shuffleIndex(channels: number, groups: number): number[] {
  if (!(groups >= 1 && channels % groups === 0)) throw new Error(`channel shuffle: ${channels} channels do not split into ${groups} groups`);
  const per = channels / groups;
  return Array.from({ length: channels }, (_, j) => (j % groups) * per + Math.floor(j / groups));
}

export const sliceChannelsFn: Fn<{ start: number; end: number }> = {
  name: 'slice_channels',
  forward: (be, [x], a) => be.sliceChannels(x, a.start, a.end - a.start),
  backward: (be, gy, { inputs: [x], attrs: a }) => {
    const idx = Array.from({ length: a.end - a.start }, (_, j) => a.start + j);
    return [be.gatherChannels(gy, inverseIndex(idx, x.shape[1]))];
  },
};

export const gatherChannelsFn: Fn<{ index: readonly number[] }> = {
  name: 'gather_channels',
  forward: (be, [x], a) => be.gatherChannels(x, a.index),
  backward: (be, gy, { inputs: [x], attrs: a }) => [be.gatherChannels(gy, inverseIndex(a.index, x.shape[1]))],
};
