import type { BTensor, ChannelLayout, Conv2dParams, QuantRange } from '../backend.ts';
import type { Fn } from '../autograd.ts';
import type { ConvExactSpec, ExactSpec } from '../../qmath/requant-exact.ts';

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
 * rescale (Concat): each input requantized to the output scale, concatenated along channels; gap: the global average
 * pooling of xs[0].
 */
export const requantExactFn: Fn<RequantExactAttrs> = {
  name: 'requant_exact',
  forward: (be, [v, ...xs], a) => {
    const qo = a.qparams[a.qparams.length - 1];
    if (a.spec.op === 'gap') return be.requantExact(a.spec, v, xs[0], null, a.qparams[0], null, qo);
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

export interface ConvExactAttrs {
  spec: ConvExactSpec;
  geometry: Conv2dParams;
  /** The input's, the weight's (per output channel), the output's and the add input's (or null) qparams. */
  qx: BTensor;
  qw: BTensor;
  qo: BTensor;
  qa: BTensor | null;
  /** The raw float bias and its int32 grid's qparams [O, 3] (null: no bias). */
  bias: BTensor | null;
  bqp: BTensor | null;
  layout: ChannelLayout;
  range: QuantRange;
}

/**
 * A conv's output (after its fused add / activation) computed as the simulator does: the conv of the input and weight
 * integers (exact in float32 within convExactMode; 'split': the convs of the input's high and low parts), then the bias, the rescaled add input and the requantization in
 * integers. Inputs: [v, x, w_fq, a?], v the float op's output; the backward is the output fake quant's STE on v, as
 * requantExactFn's.
 */
export const convExactFn: Fn<ConvExactAttrs> = {
  name: 'conv_exact',
  forward: (be, [v, x, w, a], t) => {
    const iw = be.toInt(w, t.qw, { outer: 1, channels: w.shape[0], inner: w.size / w.shape[0] });
    const perTensor = { outer: 1, channels: 1, inner: x.size };
    const split = t.spec.mode === 'split';
    const ix = be.toInt(x, t.qx, perTensor, split ? 'hi' : 'all');
    const acc = be.conv2d(ix, iw, null, t.geometry);
    const ixLo = split ? be.toInt(x, t.qx, perTensor, 'lo') : null;
    const accLo = ixLo ? be.conv2d(ixLo, iw, null, t.geometry) : null;
    const y = be.requantConvExact(t.spec, v, acc, accLo, t.bias, t.bqp, a ?? null, t.qa, t.qx, t.qw, t.qo);
    for (const u of [ix, iw, acc, ixLo, accLo]) if (u) be.release(u);
    return y;
  },
  backward: (be, gy, { inputs: [v, ...xs], attrs: t }) => [be.fakeQuantizeBackward(gy, v, t.qo, t.layout, t.range), ...xs.map(() => null)],
};
