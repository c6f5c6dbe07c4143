/**
 * ConvTranspose on the tape, as the adjoint of conv2d on the existing kernels (no kernel of its own):
 *   y = conv2dBackwardInput(x, W) + b,   dx = conv2d(dy, W),   dW = conv2dBackwardWeight(x, dy),   db = Σ dy
 * W is ONNX's ConvTranspose weight [C_in, C_out / G, KH, KW], i.e. the weight of the conv that maps y back to x.
 * The IR keeps the weight conv-like, [C_out, C_in / G, KH, KW] (output channels first, so per-channel weight
 * quantization and BN folding work along axis 0 as for conv2d); the two layouts differ by a permutation of the
 * (output, input) channel pairs, done with gatherChannels (its backward is the inverse gather).
 */
import type { Backend, BTensor, Conv2dParams } from '../backend.ts';
import type { Fn } from '../autograd.ts';
import { inverseIndex } from './channels.ts';

export interface ConvTransposeAttrs {
  conv: Conv2dParams;
  outH: number;
  outW: number;
}

/** ONNX pair (i, j) of [C_in, Og] reads the IR pair (g·Og + j, i mod Cg) of [C_out, Cg]. */
export function onnxWeightIndex(outC: number, cg: number, groups: number): number[] {
  const og = outC / groups, cin = cg * groups;
  const idx = new Array<number>(cin * og);
  for (let i = 0; i < cin; i++) {
    const g = Math.floor(i / cg), ii = i % cg;
    for (let j = 0; j < og; j++) idx[i * og + j] = (g * og + j) * cg + ii;
  }
  return idx;
}

function permute(be: Backend, w: BTensor, index: number[], to: number[]): BTensor {
  const w3 = be.reshape(w, [1, index.length, w.shape[2] * w.shape[3]]);
  const p = be.gatherChannels(w3, index);
  be.release(w3);
  const out = be.reshape(p, to);
  be.release(p);
  return out;
}

/** inputs: [x, w (IR layout), b?]. */
export const convTranspose2dFn: Fn<ConvTransposeAttrs> = {
  name: 'conv_transpose2d',
  forward(be, [x, w, b], a, save) {
    const [O, Cg, KH, KW] = w.shape;
    const G = a.conv.groups;
    const wT = permute(be, w, onnxWeightIndex(O, Cg, G), [Cg * G, O / G, KH, KW]);
    save(wT);
    const y = be.conv2dBackwardInput(x, wT, [x.shape[0], O, a.outH, a.outW], a.conv);
    if (!b) return y;
    const yb = be.addChannelBias(y, b);
    be.release(y);
    return yb;
  },
  backward(be, gy, { inputs: [x, w, b], saved: [wT], attrs: a, needsGrad }) {
    let dw: BTensor | null = null;
    if (needsGrad[1]) {
      const [O, Cg] = w.shape;
      const dwT = be.conv2dBackwardWeight(x, gy, wT.shape, a.conv);
      dw = permute(be, dwT, inverseIndex(onnxWeightIndex(O, Cg, a.conv.groups), O * Cg), [...w.shape]);
      be.release(dwT);
    }
    return [
      needsGrad[0] ? be.conv2d(gy, wT, null, a.conv) : null,
      dw,
      b && needsGrad[2] ? be.channelSum(gy) : null,
    ];
  },
};
