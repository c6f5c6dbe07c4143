import type { BTensor, ChannelLayout, QuantRange } from '../backend.ts';
import type { Fn } from '../autograd.ts';
import type { ExactSpec } from '../../qmath/requant-exact.ts';

export interface RequantExactAttrs {
  spec: ExactSpec;
  /** Per-tensor qparams [1, 3] of each input's site (rescale: one per concat input), then the output's. */
  qparams: readonly BTensor[];
  /** The output's fake quant (per tensor over the whole value): its STE is the backward. */
  layout: ChannelLayout;
  range: QuantRange;
}

/**
 * The output fake quant of an op whose inputs are quantized, with the forward computed in the simulator's integers
 * (Backend.requantExact; docs/fixed-point.md §2e). Inputs: [v, ...xs], v the float op's output over xs. The backward is
 * the fake quant's straight-through estimator on v (d out / d v = 1 where v is inside the range, else 0), so the
 * gradients reach xs through the float op exactly as with the float forward; xs themselves get none here.
 * rescale (Concat): each input requantized to the output scale, concatenated along channels.
 */
export const requantExactFn: Fn<RequantExactAttrs> = {
  name: 'requant_exact',
  forward: (be, [v, ...xs], a) => {
    const qo = a.qparams[a.qparams.length - 1];
    if (a.spec.op !== 'rescale') return be.requantExact(a.spec, v, xs[0], xs[1], a.qparams[0], a.qparams[1], qo);
    const parts = xs.map((x, i) => be.requantExact(a.spec, x, x, null, a.qparams[i], null, qo));
    if (parts.length === 1) return parts[0];
    const y = be.concatChannels(parts);
    for (const p of parts) be.release(p);
    return y;
  },
  backward: (be, gy, { inputs: [v, ...xs], attrs: a }) =>
    [be.fakeQuantizeBackward(gy, v, a.qparams[a.qparams.length - 1], a.layout, a.range), ...xs.map(() => null)],
};
