/**
 * Integer ConvTranspose (docs/fixed-point.md "conv_transpose2d"): int8 weights [C_in, C_out / G, KH, KW], int32
 * accumulation starting from the int32 bias, as the transpose of conv2d: output (oy, ox) of channel o = g · Og + j
 * sums x[i, iy, ix] · w[i, j, ky, kx] over the input channels i of group g and the taps with
 * oy + pad − ky · dilation = iy · stride (likewise for x). Requantization is the caller's (src/sim/run.ts).
 */
import type { ConvGeometry } from '../model.ts';
import type { IntArray } from './requant.ts';

export function convTransposeOutSize(inSize: number, k: number, stride: number, pad: number, dilation: number, outputPadding: number): number {
  return (inSize - 1) * stride - 2 * pad + dilation * (k - 1) + outputPadding + 1;
}

export function convTranspose2dAcc(
  x: IntArray, shape: readonly number[], w: Int8Array, wShape: readonly number[], bias: Int32Array,
  g: ConvGeometry & { outputPadding: [number, number] },
): { acc: Int32Array; shape: number[] } {
  const [N, C, H, W] = shape;
  const [Ci, Og, KH, KW] = wShape;
  const G = g.groups;
  if (Ci !== C || C % G !== 0) throw new RangeError(`conv_transpose2d: weight [${wShape}] for ${C} input channels in ${G} groups`);
  const Cg = C / G, O = Og * G;
  const [sH, sW] = g.stride, [pH, pW] = g.padding, [dH, dW] = g.dilation;
  const OH = convTransposeOutSize(H, KH, sH, pH, dH, g.outputPadding[0]);
  const OW = convTransposeOutSize(W, KW, sW, pW, dW, g.outputPadding[1]);
  const acc = new Int32Array(N * O * OH * OW);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const grp = Math.floor(o / Og), j = o % Og;
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
              for (let i = grp * Cg; i < (grp + 1) * Cg; i++) {
                s += x[((n * C + i) * H + iy) * W + ix] * w[((i * Og + j) * KH + ky) * KW + kx];
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
