/**
 * Integer ConvTranspose (docs/fixed-point.md "conv_transpose2d"): int8 weights in the IR's conv-like layout
 * [C_out, C_in / G, KH, KW] (the graph parameter's), int32 accumulation starting from the int32 bias, as the
 * transpose of conv2d: output (oy, ox) of channel o (group g = o / Og) sums x[g·Cg + c, iy, ix] · w[o, c, ky, kx]
 * over c < Cg and the taps with oy + pad − ky · dilation = iy · stride (likewise for x). Requantization is the
 * caller's (src/sim/run.ts).
 */
import type { ConvGeometry, IntLayer } from '../model.ts';
import type { AccumulatorRange, RangeOf } from './accumulator.ts';
import type { IntArray } from './requant.ts';

export function convTransposeOutSize(inSize: number, k: number, stride: number, pad: number, dilation: number, outputPadding: number): number {
  return (inSize - 1) * stride - 2 * pad + dilation * (k - 1) + outputPadding + 1;
}

export function convTranspose2dAcc(
  x: IntArray, shape: readonly number[], w: Int8Array, wShape: readonly number[], bias: Int32Array,
  g: ConvGeometry & { outputPadding: [number, number] },
): { acc: Int32Array; shape: number[] } {
  const [N, C, H, W] = shape;
  const [O, Cg, KH, KW] = wShape;
  const G = g.groups;
  if (Cg * G !== C || O % G !== 0) throw new RangeError(`conv_transpose2d: weight [${wShape}] for ${C} input channels in ${G} groups`);
  const Og = O / G;
  const [sH, sW] = g.stride, [pH, pW] = g.padding, [dH, dW] = g.dilation;
  const OH = convTransposeOutSize(H, KH, sH, pH, dH, g.outputPadding[0]);
  const OW = convTransposeOutSize(W, KW, sW, pW, dW, g.outputPadding[1]);
  const acc = new Int32Array(N * O * OH * OW);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const grp = Math.floor(o / Og);
      for (let oy = 0; oy < OH; oy++) {
        for (let ox = 0; ox < OW; ox++) {
          let s = bias[o];
          for (let ky = 0; ky < KH; ky++) {
            const ty = oy + pH - ky * dH;
            if (ty < 0 || ty % sH !== 0 || ty / sH >= H) continue;
            const iy = ty / sH;
            for (let kx = 0; kx < KW; kx++) {
              const tx = ox + pW - kx * dW;
              if (tx < 0 || tx % sW !== 0 || tx / sW >= W) continue;
              const ix = tx / sW;
              for (let c = 0; c < Cg; c++) {
                s += x[((n * C + grp * Cg + c) * H + iy) * W + ix] * w[((o * Cg + c) * KH + ky) * KW + kx];
              }
            }
          }
          acc[((n * O + o) * OH + oy) * OW + ox] = s | 0;
        }
      }
    }
  }
  return { acc, shape: [N, O, OH, OW] };
}

/**
 * The worst-case accumulator (docs/fixed-point.md §6.6): output channel o sums at most each of its weights
 * w[o, ·, ·, ·] once (fewer at the borders and between strides), each with an input in [x_lo, x_hi] (0 included:
 * the positions no input reaches).
 */
export function convTransposeAccumulator(l: Extract<IntLayer, { op: 'conv_transpose2d' }>, of: RangeOf): AccumulatorRange {
  const x = of(l.inputs[0]);
  const xl = Math.min(x[0], 0), xh = Math.max(x[1], 0);
  const O = l.weightShape[0], K = l.weight.length / O;
  let mn = Infinity, mx = -Infinity, channel = 0, worst = -1;
  for (let o = 0; o < O; o++) {
    let a = l.bias[o], b = l.bias[o];
    for (let k = o * K; k < (o + 1) * K; k++) {
      const w = l.weight[k];
      a += Math.min(w * xl, w * xh);
      b += Math.max(w * xl, w * xh);
    }
    mn = Math.min(mn, a);
    mx = Math.max(mx, b);
    if (Math.max(-a, b) > worst) {
      worst = Math.max(-a, b);
      channel = o;
    }
  }
  return { range: [mn, mx], channel };
}
