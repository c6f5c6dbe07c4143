/**
 * Batch normalization per channel of NCHW (or [N, C], H = W = 1). Statistics are reduced over
 * M = N * H * W elements per channel; the variance is the biased one (divided by M), as PyTorch
 * uses for normalization in training mode.
 */
import type { Shape } from '../backend.ts';
import { allocLike, checkSize, nchw, type FloatArray } from './types.ts';

/** Batch mean and biased variance per channel (two-pass, in float64). Returns [mean [C], var [C]]. */
export function bnStats(x: FloatArray, xShape: Shape): [FloatArray, FloatArray] {
  const [N, C, H, W] = nchw(xShape);
  const HW = H * W, M = N * HW;
  checkSize('bnStats x', x, N * C * HW);
  const mean = allocLike(x, C), variance = allocLike(x, C);
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) s += x[base + i];
    }
    const mu = s / M;
    let q = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) {
        const d = x[base + i] - mu;
        q += d * d;
      }
    }
    mean[c] = mu;
    variance[c] = q / M;
  }
  return [mean, variance];
}

/** y = (x - mean) / sqrt(var + eps) * gamma + beta, per channel. */
export function bnForward(
  x: FloatArray, xShape: Shape, mean: FloatArray, variance: FloatArray, gamma: FloatArray, beta: FloatArray,
  eps: number,
): FloatArray {
  const [N, C, H, W] = nchw(xShape);
  const HW = H * W;
  checkSize('bnForward x', x, N * C * HW);
  for (const [name, a] of [['mean', mean], ['var', variance], ['gamma', gamma], ['beta', beta]] as const) {
    checkSize(`bnForward ${name}`, a, C);
  }
  const y = allocLike(x, x.length);
  for (let c = 0; c < C; c++) {
    const mu = mean[c], invStd = 1 / Math.sqrt(variance[c] + eps), g = gamma[c], bt = beta[c];
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) y[base + i] = (x[base + i] - mu) * invStd * g + bt;
    }
  }
  return y;
}

/**
 * Gradients of bnForward: [dx, dgamma, dbeta]. With xhat = (x - mean) * invStd:
 * dbeta = sum dy; dgamma = sum dy * xhat;
 * training (mean/var are the batch statistics of x): dx = gamma * invStd / M * (M dy - dbeta - xhat dgamma);
 * eval (mean/var are constants): dx = gamma * invStd * dy.
 */
export function bnBackward(
  dy: FloatArray, x: FloatArray, xShape: Shape, mean: FloatArray, variance: FloatArray, gamma: FloatArray,
  eps: number, training: boolean,
): [FloatArray, FloatArray, FloatArray] {
  const [N, C, H, W] = nchw(xShape);
  const HW = H * W, M = N * HW;
  checkSize('bnBackward dy', dy, N * C * HW);
  checkSize('bnBackward x', x, N * C * HW);
  for (const [name, a] of [['mean', mean], ['var', variance], ['gamma', gamma]] as const) {
    checkSize(`bnBackward ${name}`, a, C);
  }
  const dx = allocLike(dy, dy.length), dgamma = allocLike(dy, C), dbeta = allocLike(dy, C);
  for (let c = 0; c < C; c++) {
    const mu = mean[c], invStd = 1 / Math.sqrt(variance[c] + eps), g = gamma[c];
    let sdy = 0, sdyx = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) {
        const d = dy[base + i];
        sdy += d;
        sdyx += d * (x[base + i] - mu) * invStd;
      }
    }
    dbeta[c] = sdy;
    dgamma[c] = sdyx;
    const k = g * invStd;
    if (training) {
      const mdy = sdy / M, mdyx = sdyx / M;
      for (let n = 0; n < N; n++) {
        const base = (n * C + c) * HW;
        for (let i = 0; i < HW; i++) {
          const xhat = (x[base + i] - mu) * invStd;
          dx[base + i] = k * (dy[base + i] - mdy - xhat * mdyx);
        }
      }
    } else {
      for (let n = 0; n < N; n++) {
        const base = (n * C + c) * HW;
        for (let i = 0; i < HW; i++) dx[base + i] = k * dy[base + i];
      }
    }
  }
  return [dx, dgamma, dbeta];
}

/** running = (1 - m) * running + m * (batch * batchScale), in place. */
export function emaInPlace(running: FloatArray, batch: FloatArray, momentum: number, batchScale: number): void {
  checkSize('emaInPlace batch', batch, running.length);
  for (let i = 0; i < running.length; i++) {
    running[i] = (1 - momentum) * running[i] + momentum * (batch[i] * batchScale);
  }
}
