/**
 * 2-D convolution (cross-correlation, like PyTorch): NCHW activations, OIHW weights with
 * I = C / groups; stride, padding, dilation and groups (depthwise = groups == C).
 *
 * All three passes use direct loops without im2col: for one (output channel, input channel,
 * kernel tap) the weight is a scalar and the innermost loop runs along an output row
 * (contiguous in the output / dy, stride `strideW` in the input). The valid output ranges of each
 * kernel tap are precomputed, so the hot loops have no bounds checks. Accumulation is in float64
 * scratch planes allocated once per call.
 */
import { conv2dOutShape, type Conv2dParams, type Shape } from '../backend.ts';
import { allocLike, checkSize, type FloatArray } from './types.ts';

interface ConvGeometry {
  N: number; C: number; H: number; W: number;
  O: number; Cg: number; Og: number; KH: number; KW: number;
  OH: number; OW: number;
  /** Per kernel row kh: the output rows [ohLo, ohHi) whose input row is inside the image. */
  ohLo: Int32Array; ohHi: Int32Array;
  /** Per kernel column kw: the output columns [owLo, owHi) whose input column is inside. */
  owLo: Int32Array; owHi: Int32Array;
}

/**
 * Output indices o with 0 <= o * stride + off < inSize, as [lo, hi) (empty when lo >= hi), for a
 * kernel tap at input offset off = k * dilation - pad.
 */
function validRange(off: number, stride: number, inSize: number, outSize: number): [number, number] {
  const lo = off >= 0 ? 0 : Math.ceil(-off / stride);
  const hi = Math.min(outSize, Math.floor((inSize - 1 - off) / stride) + 1);
  return [lo, Math.max(lo, hi)];
}

function geometry(xShape: Shape, wShape: Shape, p: Conv2dParams): ConvGeometry {
  if (xShape.length !== 4 || wShape.length !== 4) {
    throw new Error(`conv2d: expected rank-4 x and w, got [${xShape.join(', ')}] and [${wShape.join(', ')}]`);
  }
  const [N, C, H, W] = xShape;
  const [O, Cg, KH, KW] = wShape;
  const g = p.groups;
  if (!(g >= 1) || C % g !== 0 || O % g !== 0 || Cg !== C / g) {
    throw new Error(`conv2d: x has ${C} channels, w is [${wShape.join(', ')}], groups ${g}`);
  }
  if (!(p.strideH >= 1 && p.strideW >= 1 && p.dilationH >= 1 && p.dilationW >= 1 && p.padH >= 0 && p.padW >= 0)) {
    throw new Error(`conv2d: invalid params ${JSON.stringify(p)}`);
  }
  const [, , OH, OW] = conv2dOutShape(xShape, wShape, p);
  if (OH <= 0 || OW <= 0) throw new Error(`conv2d: empty output ${OH}x${OW}`);
  const ohLo = new Int32Array(KH), ohHi = new Int32Array(KH);
  for (let kh = 0; kh < KH; kh++) {
    [ohLo[kh], ohHi[kh]] = validRange(kh * p.dilationH - p.padH, p.strideH, H, OH);
  }
  const owLo = new Int32Array(KW), owHi = new Int32Array(KW);
  for (let kw = 0; kw < KW; kw++) {
    [owLo[kw], owHi[kw]] = validRange(kw * p.dilationW - p.padW, p.strideW, W, OW);
  }
  return { N, C, H, W, O, Cg, Og: O / g, KH, KW, OH, OW, ohLo, ohHi, owLo, owHi };
}

/** Output channels computed together: each input value is loaded once for this many accumulators. */
const OUT_BLOCK = 4;

/**
 * y = conv2d(x, w) + b; x [N, C, H, W], w [O, C/groups, KH, KW], b [O] or null. Returns [N, O, OH, OW].
 * Up to OUT_BLOCK output channels of one group share each pass over the input rows (one load, several
 * multiply-adds); every output value still sums its products in the same order (input channel, kernel row, kernel
 * column), from the bias, in float64, so the result does not depend on the blocking.
 */
export function conv2dForward(
  x: FloatArray, xShape: Shape, w: FloatArray, wShape: Shape, b: FloatArray | null, p: Conv2dParams,
): FloatArray {
  const gm = geometry(xShape, wShape, p);
  const { N, C, H, W, O, Cg, Og, KH, KW, OH, OW, ohLo, ohHi, owLo, owHi } = gm;
  checkSize('conv2d x', x, N * C * H * W);
  checkSize('conv2d w', w, O * Cg * KH * KW);
  if (b) checkSize('conv2d b', b, O);
  const { strideH: sH, strideW: sW, dilationH: dH, dilationW: dW, padH: pH, padW: pW } = p;
  const plane = OH * OW;
  const y = allocLike(x, N * O * plane);
  const acc = new Float64Array(OUT_BLOCK * plane);
  const wTap = KH * KW;
  for (let n = 0; n < N; n++) {
    for (let o0 = 0, nb = 0; o0 < O; o0 += nb) {
      const grp = Math.floor(o0 / Og);
      // A block never crosses a group boundary (its channels read the same input channels).
      nb = Math.min(OUT_BLOCK, (grp + 1) * Og - o0);
      for (let k = 0; k < nb; k++) acc.fill(b ? b[o0 + k] : 0, k * plane, (k + 1) * plane);
      for (let ci = 0; ci < Cg; ci++) {
        const xPlane = (n * C + grp * Cg + ci) * H * W;
        const wBase = (o0 * Cg + ci) * wTap;
        const wStride = Cg * wTap;
        for (let kh = 0; kh < KH; kh++) {
          const hLo = ohLo[kh], hHi = ohHi[kh];
          if (hLo >= hHi) continue;
          const rowOff = kh * dH - pH;
          for (let kw = 0; kw < KW; kw++) {
            const wLo = owLo[kw], wHi = owHi[kw];
            if (wLo >= wHi) continue;
            const t = wBase + kh * KW + kw;
            const colOff = kw * dW - pW;
            if (nb === OUT_BLOCK) {
              const w0 = w[t], w1 = w[t + wStride], w2 = w[t + 2 * wStride], w3 = w[t + 3 * wStride];
              for (let oh = hLo; oh < hHi; oh++) {
                const xRow = xPlane + (oh * sH + rowOff) * W + colOff;
                const a0 = oh * OW, a1 = a0 + plane, a2 = a1 + plane, a3 = a2 + plane;
                for (let ow = wLo; ow < wHi; ow++) {
                  const xv = x[xRow + ow * sW];
                  acc[a0 + ow] += w0 * xv;
                  acc[a1 + ow] += w1 * xv;
                  acc[a2 + ow] += w2 * xv;
                  acc[a3 + ow] += w3 * xv;
                }
              }
            } else {
              for (let k = 0; k < nb; k++) {
                const wv = w[t + k * wStride];
                for (let oh = hLo; oh < hHi; oh++) {
                  const xRow = xPlane + (oh * sH + rowOff) * W + colOff;
                  const aRow = k * plane + oh * OW;
                  for (let ow = wLo; ow < wHi; ow++) acc[aRow + ow] += wv * x[xRow + ow * sW];
                }
              }
            }
          }
        }
      }
      for (let k = 0; k < nb; k++) y.set(acc.subarray(k * plane, (k + 1) * plane), (n * O + o0 + k) * plane);
    }
  }
  return y;
}

/** dx of conv2dForward: dy [N, O, OH, OW], w [O, C/groups, KH, KW]. Returns [N, C, H, W] (xShape). */
export function conv2dBackwardInput(
  dy: FloatArray, w: FloatArray, wShape: Shape, xShape: Shape, p: Conv2dParams,
): FloatArray {
  const gm = geometry(xShape, wShape, p);
  const { N, C, H, W, O, Cg, Og, KH, KW, OH, OW, ohLo, ohHi, owLo, owHi } = gm;
  checkSize('conv2dBackwardInput dy', dy, N * O * OH * OW);
  checkSize('conv2dBackwardInput w', w, O * Cg * KH * KW);
  const { strideH: sH, strideW: sW, dilationH: dH, dilationW: dW, padH: pH, padW: pW } = p;
  const plane = OH * OW, xPlaneSize = H * W;
  const dx = allocLike(dy, N * C * xPlaneSize);
  const acc = new Float64Array(xPlaneSize);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const grp = Math.floor(c / Cg), ci = c - grp * Cg;
      acc.fill(0);
      for (let og = 0; og < Og; og++) {
        const o = grp * Og + og;
        const dyPlane = (n * O + o) * plane;
        const wBase = (o * Cg + ci) * KH * KW;
        for (let kh = 0; kh < KH; kh++) {
          const hLo = ohLo[kh], hHi = ohHi[kh];
          if (hLo >= hHi) continue;
          const rowOff = kh * dH - pH;
          for (let kw = 0; kw < KW; kw++) {
            const wLo = owLo[kw], wHi = owHi[kw];
            if (wLo >= wHi) continue;
            const wv = w[wBase + kh * KW + kw];
            const colOff = kw * dW - pW;
            for (let oh = hLo; oh < hHi; oh++) {
              const xRow = (oh * sH + rowOff) * W + colOff;
              const dyRow = dyPlane + oh * OW;
              if (sW === 1) {
                for (let ow = wLo; ow < wHi; ow++) acc[xRow + ow] += wv * dy[dyRow + ow];
              } else {
                for (let ow = wLo; ow < wHi; ow++) acc[xRow + ow * sW] += wv * dy[dyRow + ow];
              }
            }
          }
        }
      }
      dx.set(acc, (n * C + c) * xPlaneSize);
    }
  }
  return dx;
}

/** dw of conv2dForward: dy [N, O, OH, OW], x [N, C, H, W]. Returns [O, C/groups, KH, KW] (wShape). */
export function conv2dBackwardWeight(
  dy: FloatArray, x: FloatArray, xShape: Shape, wShape: Shape, p: Conv2dParams,
): FloatArray {
  const gm = geometry(xShape, wShape, p);
  const { N, C, H, W, O, Cg, Og, KH, KW, OH, OW, ohLo, ohHi, owLo, owHi } = gm;
  checkSize('conv2dBackwardWeight dy', dy, N * O * OH * OW);
  checkSize('conv2dBackwardWeight x', x, N * C * H * W);
  const { strideH: sH, strideW: sW, dilationH: dH, dilationW: dW, padH: pH, padW: pW } = p;
  const plane = OH * OW;
  const dw = allocLike(dy, O * Cg * KH * KW);
  for (let o = 0; o < O; o++) {
    const grp = Math.floor(o / Og);
    for (let ci = 0; ci < Cg; ci++) {
      const c = grp * Cg + ci;
      const wBase = (o * Cg + ci) * KH * KW;
      for (let kh = 0; kh < KH; kh++) {
        const hLo = ohLo[kh], hHi = ohHi[kh];
        const rowOff = kh * dH - pH;
        for (let kw = 0; kw < KW; kw++) {
          const wLo = owLo[kw], wHi = owHi[kw];
          const colOff = kw * dW - pW;
          let s = 0;
          if (hLo < hHi && wLo < wHi) {
            for (let n = 0; n < N; n++) {
              const dyPlane = (n * O + o) * plane;
              const xPlane = (n * C + c) * H * W;
              for (let oh = hLo; oh < hHi; oh++) {
                const xRow = xPlane + (oh * sH + rowOff) * W + colOff;
                const dyRow = dyPlane + oh * OW;
                if (sW === 1) {
                  for (let ow = wLo; ow < wHi; ow++) s += dy[dyRow + ow] * x[xRow + ow];
                } else {
                  for (let ow = wLo; ow < wHi; ow++) s += dy[dyRow + ow] * x[xRow + ow * sW];
                }
              }
            }
          }
          dw[wBase + kh * KW + kw] = s;
        }
      }
    }
  }
  return dw;
}

/** s[c] = sum over n, h, w of x[n, c, h, w] (conv bias / BN beta gradient). x [N, C, H, W] or [N, C]. */
export function channelSum(x: FloatArray, xShape: Shape): FloatArray {
  const N = xShape[0], C = xShape[1];
  let HW = 1;
  for (let i = 2; i < xShape.length; i++) HW *= xShape[i];
  checkSize('channelSum x', x, N * C * HW);
  const out = allocLike(x, C);
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) s += x[base + i];
    }
    out[c] = s;
  }
  return out;
}
