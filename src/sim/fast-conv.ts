/**
 * The simulator's fast integer conv2d accumulator: the same int32 result as conv2dAccumulate (src/sim/int/conv2d.ts,
 * the tested reference), computed as im2col + a blocked integer dot product so that the inner loop is a tight
 * Int32Array x Int8Array loop with hoisted index math.
 *
 *   acc[n,o,p] = bias[o] + Σ_k w[o,k] · col[p,k]         col[p,k] = x[n, g·I + i, iy, ix] − x_zp (0 in the padding)
 *
 * with k = (i·KH + ky)·KW + kx (the OIHW weight layout), p = oy·OW + ox. Products are int8 × int8/int16
 * (|·| < 2^23) and every partial sum is wrapped to int32 with `| 0`, so the result is the int32 wrap-around sum
 * whatever the order (addition modulo 2^32 is associative): bit-identical to the reference.
 * Integer-only: inputs are checked with assertIntArray.
 */
import { assertIntArray, type IntArray } from './int/requant.ts';

export interface FastConvGeometry {
  stride: readonly [number, number];
  padding: readonly [number, number];
  dilation: readonly [number, number];
  groups: number;
}

let colBuf = new Int32Array(0);
function colBuffer(n: number): Int32Array {
  if (colBuf.length < n) colBuf = new Int32Array(n);
  return colBuf;
}

/** int32 accumulators [N, O, OH, OW] of an NCHW conv with OIHW int8 weights and an int32 bias. */
export function conv2dAccFast(
  x: IntArray,
  xShape: readonly number[],
  xZeroPoint: number,
  w: Int8Array,
  wShape: readonly number[],
  bias: Int32Array | null,
  geom: FastConvGeometry,
): { acc: Int32Array; shape: [number, number, number, number] } {
  assertIntArray('conv2d x', x);
  assertIntArray('conv2d w', w);
  if (bias) assertIntArray('conv2d bias', bias);
  const [N, C, H, W] = xShape;
  const [O, I, KH, KW] = wShape;
  const G = geom.groups;
  if (C % G !== 0 || O % G !== 0 || I !== C / G) throw new RangeError(`conv2d: C=${C}, O=${O}, I=${I} incompatible with groups=${G}`);
  if (x.length !== N * C * H * W) throw new RangeError('conv2d: x length != product of xShape');
  if (w.length !== O * I * KH * KW) throw new RangeError('conv2d: w length != product of wShape');
  const [sh, sw] = geom.stride;
  const [ph, pw] = geom.padding;
  const [dh, dw] = geom.dilation;
  const OH = Math.floor((H + 2 * ph - dh * (KH - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - dw * (KW - 1) - 1) / sw) + 1;
  if (OH <= 0 || OW <= 0) throw new RangeError('conv2d: empty output');
  const P = OH * OW;
  const K = I * KH * KW;
  const HW = H * W;
  const opg = O / G;
  const acc = new Int32Array(N * O * P);
  const col = colBuffer(P * K);
  const pointwise = KH === 1 && KW === 1 && sh === 1 && sw === 1 && ph === 0 && pw === 0;

  for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      const xg = (n * C + g * I) * HW;
      // im2col: col[p*K + k]
      if (pointwise) {
        for (let i = 0; i < I; i++) {
          const xb = xg + i * HW;
          for (let p = 0, c = i; p < P; p++, c += K) col[c] = x[xb + p] - xZeroPoint;
        }
      } else {
        for (let i = 0; i < I; i++) {
          const xb = xg + i * HW;
          for (let ky = 0; ky < KH; ky++) {
            for (let kx = 0; kx < KW; kx++) {
              const k = (i * KH + ky) * KW + kx;
              const offY = ky * dh - ph;
              const offX = kx * dw - pw;
              for (let oy = 0; oy < OH; oy++) {
                const iy = oy * sh + offY;
                let c = oy * OW * K + k;
                if (iy < 0 || iy >= H) {
                  for (let ox = 0; ox < OW; ox++, c += K) col[c] = 0;
                  continue;
                }
                const row = xb + iy * W;
                for (let ox = 0, ix = offX; ox < OW; ox++, c += K, ix += sw) {
                  col[c] = ix < 0 || ix >= W ? 0 : x[row + ix] - xZeroPoint;
                }
              }
            }
          }
        }
      }
      // Blocked dot products: 4 output channels share each col load.
      const o0 = g * opg;
      const o1 = o0 + opg;
      let o = o0;
      for (; o + 4 <= o1; o += 4) {
        const wa = o * K, wb = wa + K, wc = wb + K, wd = wc + K;
        const ba = (n * O + o) * P, bb = ba + P, bc = bb + P, bd = bc + P;
        const biasA = bias ? bias[o] : 0, biasB = bias ? bias[o + 1] : 0, biasC = bias ? bias[o + 2] : 0, biasD = bias ? bias[o + 3] : 0;
        for (let p = 0; p < P; p++) {
          let sa = biasA, sb = biasB, sc = biasC, sd = biasD;
          const cb = p * K;
          for (let k = 0; k < K; k++) {
            const v = col[cb + k];
            sa = (sa + w[wa + k] * v) | 0;
            sb = (sb + w[wb + k] * v) | 0;
            sc = (sc + w[wc + k] * v) | 0;
            sd = (sd + w[wd + k] * v) | 0;
          }
          acc[ba + p] = sa;
          acc[bb + p] = sb;
          acc[bc + p] = sc;
          acc[bd + p] = sd;
        }
      }
      for (; o < o1; o++) {
        const wa = o * K;
        const ba = (n * O + o) * P;
        const biasA = bias ? bias[o] : 0;
        for (let p = 0; p < P; p++) {
          let sa = biasA;
          const cb = p * K;
          for (let k = 0; k < K; k++) sa = (sa + w[wa + k] * col[cb + k]) | 0;
          acc[ba + p] = sa;
        }
      }
    }
  }
  return { acc, shape: [N, O, OH, OW] };
}

/** int32 accumulators [N, O] of a linear layer: acc = bias + Σ_k (x − zp)·w, wrapped to int32. */
export function linearAccFast(
  x: IntArray,
  N: number,
  K: number,
  xZeroPoint: number,
  w: Int8Array,
  O: number,
  bias: Int32Array | null,
): Int32Array {
  assertIntArray('linear x', x);
  assertIntArray('linear w', w);
  if (bias) assertIntArray('linear bias', bias);
  if (x.length !== N * K || w.length !== O * K) throw new RangeError('linear: data length != shape');
  const acc = new Int32Array(N * O);
  const xc = colBuffer(K);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) xc[k] = x[n * K + k] - xZeroPoint;
    for (let o = 0; o < O; o++) {
      let s = bias ? bias[o] : 0;
      const wb = o * K;
      for (let k = 0; k < K; k++) s = (s + w[wb + k] * xc[k]) | 0;
      acc[n * O + o] = s;
    }
  }
  return acc;
}
