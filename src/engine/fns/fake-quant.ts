import type { BTensor, ChannelLayout, QuantRange } from '../backend.ts';
import type { Fn } from '../autograd.ts';

export interface FakeQuantAttrs {
  /** [C, 3] = [scale, inv, zero point] per channel, owned by the quantized model. */
  qparams: BTensor;
  layout: ChannelLayout;
  range: QuantRange;
}

/** Fake quantization with the straight-through estimator (gradient 0 where the value was clamped). */
export const fakeQuantFn: Fn<FakeQuantAttrs> = {
  name: 'fake_quant',
  forward: (be, [x], a) => be.fakeQuantize(x, a.qparams, a.layout, a.range),
  backward: (be, gy, { inputs: [x], attrs: a }) => [be.fakeQuantizeBackward(gy, x, a.qparams, a.layout, a.range)],
};
