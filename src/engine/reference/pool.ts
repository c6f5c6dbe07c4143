/**
 * Pooling over NCHW, PyTorch semantics: ceil_mode and count_include_pad as src/qmath/pool-window.ts says
 * (count_include_pad = true and ceil_mode = false: every window divides by kernelH * kernelW), max pooling with padding
 * as -Infinity, the first maximal element of a window (row-major scan) winning ties, and a NaN
 * propagating like PyTorch's CPU kernel (`val > max || isnan(val)`). Like PyTorch, padding must be
 * at most half the kernel, so every window holds at least one real element.
 */
import { pool2dOutShape, type Pool2dParams, type Shape } from '../backend.ts';
import { poolWindowCount } from '../../qmath/pool-window.ts';
import { allocLike, checkSize, type FloatArray } from './types.ts';

/** 1 / divisor of every output position (oh * OW + ow) of an average pool. */
function inverseDivisors(H: number, W: number, OH: number, OW: number, p: Pool2dParams): Float64Array {
  const inc = p.countIncludePad ?? true;
  const inv = new Float64Array(OH * OW);
  for (let oh = 0; oh < OH; oh++) {
    const ch = poolWindowCount(oh, H, p.kernelH, p.strideH, p.padH, inc);
    for (let ow = 0; ow < OW; ow++) inv[oh * OW + ow] = 1 / (ch * poolWindowCount(ow, W, p.kernelW, p.strideW, p.padW, inc));
  }
  return inv;
}

function poolGeometry(xShape: Shape, p: Pool2dParams): [number, number, number, number, number] {
  if (xShape.length !== 4) throw new Error(`pool2d: expected [N, C, H, W], got [${xShape.join(', ')}]`);
  if (!(p.kernelH >= 1 && p.kernelW >= 1 && p.strideH >= 1 && p.strideW >= 1 && p.padH >= 0 && p.padW >= 0)) {
    throw new Error(`pool2d: invalid params ${JSON.stringify(p)}`);
  }
  if (2 * p.padH > p.kernelH || 2 * p.padW > p.kernelW) {
    throw new Error(`pool2d: padding ${p.padH}x${p.padW} exceeds half the kernel ${p.kernelH}x${p.kernelW}`);
  }
  const [N, C, H, W] = xShape;
  const [, , OH, OW] = pool2dOutShape(xShape, p);
  if (OH <= 0 || OW <= 0) throw new Error(`pool2d: empty output ${OH}x${OW}`);
  return [N * C, H, W, OH, OW];
}

export function avgPool2dForward(x: FloatArray, xShape: Shape, p: Pool2dParams): FloatArray {
  const [NC, H, W, OH, OW] = poolGeometry(xShape, p);
  checkSize('avgPool2d x', x, NC * H * W);
  const { kernelH: KH, kernelW: KW, strideH: sH, strideW: sW, padH: pH, padW: pW } = p;
  const y = allocLike(x, NC * OH * OW);
  const inv = inverseDivisors(H, W, OH, OW, p);
  for (let pl = 0; pl < NC; pl++) {
    const xPlane = pl * H * W, yPlane = pl * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = Math.max(0, oh * sH - pH), h1 = Math.min(H, oh * sH - pH + KH);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = Math.max(0, ow * sW - pW), w1 = Math.min(W, ow * sW - pW + KW);
        let s = 0;
        for (let ih = h0; ih < h1; ih++) {
          const row = xPlane + ih * W;
          for (let iw = w0; iw < w1; iw++) s += x[row + iw];
        }
        y[yPlane + oh * OW + ow] = s * inv[oh * OW + ow];
      }
    }
  }
  return y;
}

export function avgPool2dBackward(dy: FloatArray, xShape: Shape, p: Pool2dParams): FloatArray {
  const [NC, H, W, OH, OW] = poolGeometry(xShape, p);
  checkSize('avgPool2dBackward dy', dy, NC * OH * OW);
  const { kernelH: KH, kernelW: KW, strideH: sH, strideW: sW, padH: pH, padW: pW } = p;
  const dx = allocLike(dy, NC * H * W);
  const acc = new Float64Array(H * W);
  const inv = inverseDivisors(H, W, OH, OW, p);
  for (let pl = 0; pl < NC; pl++) {
    const yPlane = pl * OH * OW;
    acc.fill(0);
    for (let oh = 0; oh < OH; oh++) {
      const h0 = Math.max(0, oh * sH - pH), h1 = Math.min(H, oh * sH - pH + KH);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = Math.max(0, ow * sW - pW), w1 = Math.min(W, ow * sW - pW + KW);
        const g = dy[yPlane + oh * OW + ow] * inv[oh * OW + ow];
        for (let ih = h0; ih < h1; ih++) {
          const row = ih * W;
          for (let iw = w0; iw < w1; iw++) acc[row + iw] += g;
        }
      }
    }
    dx.set(acc, pl * H * W);
  }
  return dx;
}

/**
 * Calls visit(outIndex, inIndex, value) with the first maximal element of every window
 * (plane-relative indices are made absolute). Shared by forward and backward so both agree.
 */
function maxPoolScan(
  x: FloatArray, xShape: Shape, p: Pool2dParams, visit: (outIndex: number, inIndex: number, value: number) => void,
): void {
  const [NC, H, W, OH, OW] = poolGeometry(xShape, p);
  checkSize('maxPool2d x', x, NC * H * W);
  const { kernelH: KH, kernelW: KW, strideH: sH, strideW: sW, padH: pH, padW: pW } = p;
  for (let pl = 0; pl < NC; pl++) {
    const xPlane = pl * H * W, yPlane = pl * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = Math.max(0, oh * sH - pH), h1 = Math.min(H, oh * sH - pH + KH);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = Math.max(0, ow * sW - pW), w1 = Math.min(W, ow * sW - pW + KW);
        // Padding is -Infinity: it never beats a real element, and every window has one.
        let best = -Infinity, arg = -1;
        for (let ih = h0; ih < h1; ih++) {
          const row = xPlane + ih * W;
          for (let iw = w0; iw < w1; iw++) {
            const v = x[row + iw];
            if (arg < 0 || v > best || v !== v) { best = v; arg = row + iw; }
          }
        }
        visit(yPlane + oh * OW + ow, arg, best);
      }
    }
  }
}

export function maxPool2dForward(x: FloatArray, xShape: Shape, p: Pool2dParams): FloatArray {
  const [NC, , , OH, OW] = poolGeometry(xShape, p);
  const y = allocLike(x, NC * OH * OW);
  maxPoolScan(x, xShape, p, (o, _i, v) => { y[o] = v; });
  return y;
}

/** Routes dy to the first maximal element of each window (recomputed from x). */
export function maxPool2dBackward(dy: FloatArray, x: FloatArray, xShape: Shape, p: Pool2dParams): FloatArray {
  const [NC, H, W, OH, OW] = poolGeometry(xShape, p);
  checkSize('maxPool2dBackward dy', dy, NC * OH * OW);
  const acc = new Float64Array(NC * H * W);
  maxPoolScan(x, xShape, p, (o, i) => { acc[i] += dy[o]; });
  const dx = allocLike(dy, acc.length);
  dx.set(acc);
  return dx;
}

/** [N, C, H, W] -> [N, C]: the mean of each plane. */
export function globalAvgPoolForward(x: FloatArray, xShape: Shape): FloatArray {
  if (xShape.length !== 4) throw new Error(`globalAvgPool: expected [N, C, H, W], got [${xShape.join(', ')}]`);
  const [N, C, H, W] = xShape;
  const HW = H * W;
  checkSize('globalAvgPool x', x, N * C * HW);
  const y = allocLike(x, N * C);
  for (let pl = 0; pl < N * C; pl++) {
    let s = 0;
    const base = pl * HW;
    for (let i = 0; i < HW; i++) s += x[base + i];
    y[pl] = s / HW;
  }
  return y;
}

/** dx[n,c,h,w] = dy[n,c] / (H * W). */
export function globalAvgPoolBackward(dy: FloatArray, xShape: Shape): FloatArray {
  if (xShape.length !== 4) throw new Error(`globalAvgPool: expected [N, C, H, W], got [${xShape.join(', ')}]`);
  const [N, C, H, W] = xShape;
  const HW = H * W;
  checkSize('globalAvgPoolBackward dy', dy, N * C);
  const dx = allocLike(dy, N * C * HW);
  for (let pl = 0; pl < N * C; pl++) dx.fill(dy[pl] / HW, pl * HW, (pl + 1) * HW);
  return dx;
}
