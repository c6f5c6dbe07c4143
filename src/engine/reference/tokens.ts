/**
 * The transformer kernels of the CPU reference, over row-major tensors of any rank (tokens [N, T, D], heads
 * [N, H, T, Dh]): axis permutation, the batched matrix product (either operand transposed), and the row-wise
 * softmax and layer norm over the last axis with their backwards. Generic in the float type (float64 for the
 * finite-difference tests, float32 as the WGSL kernels' oracle); sums accumulate in JS numbers.
 */
import { sizeOf, type Shape } from '../backend.ts';
import { permuteInto } from '../../qmath/permute.ts';
import { allocLike, checkSize, type FloatArray } from './types.ts';

/** The permuted shape; throws unless perm is a permutation of the axes. */
export function permutedShape(shape: Shape, perm: readonly number[]): number[] {
  if (perm.length !== shape.length || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new Error(`transpose: perm [${perm}] is not a permutation of the axes of [${shape}]`);
  }
  return perm.map((p) => shape[p]);
}

/** y[i_0, ..., i_r] = x[j] with j the index whose axis perm[k] is i_k: y.shape[k] = x.shape[perm[k]]. */
export function transpose(x: FloatArray, shape: Shape, perm: readonly number[]): FloatArray {
  checkSize('transpose x', x, sizeOf(shape));
  permutedShape(shape, perm); // checks perm
  return permuteInto(x, allocLike(x, x.length), shape, perm);
}

/** The geometry of a batched product: [batch, M, K] x [batch, K, N] after the transposes. */
export interface MatmulDims { batch: number; M: number; K: number; N: number }

/** Checks two shapes of equal rank ≥ 2 with equal leading (batch) dimensions and matching K. */
export function matmulDims(a: Shape, b: Shape, transA: boolean, transB: boolean): MatmulDims {
  const r = a.length;
  if (r < 2 || b.length !== r || a.slice(0, r - 2).some((d, i) => d !== b[i])) {
    throw new Error(`matmul: [${a}] and [${b}] must have one rank ≥ 2 and equal leading dimensions`);
  }
  const [M, K] = transA ? [a[r - 1], a[r - 2]] : [a[r - 2], a[r - 1]];
  const [Kb, N] = transB ? [b[r - 1], b[r - 2]] : [b[r - 2], b[r - 1]];
  if (K !== Kb) throw new Error(`matmul: [${a}]${transA ? 'ᵀ' : ''} x [${b}]${transB ? 'ᵀ' : ''}: inner dimensions ${K} and ${Kb} differ`);
  return { batch: sizeOf(a.slice(0, r - 2)), M, K, N };
}

/** c[b, m, n] = sum_k A[b, m, k] B[b, k, n] with A = a or aᵀ, B = b or bᵀ (per batch). */
export function matmul(a: FloatArray, b: FloatArray, d: MatmulDims, transA: boolean, transB: boolean): FloatArray {
  const { batch, M, K, N } = d;
  checkSize('matmul a', a, batch * M * K);
  checkSize('matmul b', b, batch * K * N);
  const c = allocLike(a, batch * M * N);
  // element strides of A[m, k] and B[k, n] inside one batch
  const [sam, sak] = transA ? [1, M] : [K, 1];
  const [sbk, sbn] = transB ? [1, K] : [N, 1];
  for (let q = 0; q < batch; q++) {
    const a0 = q * M * K, b0 = q * K * N, c0 = q * M * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[a0 + m * sam + k * sak] * b[b0 + k * sbk + n * sbn];
        c[c0 + m * N + n] = s;
      }
    }
  }
  return c;
}

/** Softmax over the last axis (rows of length `d`), max-subtracted. */
export function softmax(x: FloatArray, d: number): FloatArray {
  const y = allocLike(x, x.length);
  for (let r = 0; r < x.length; r += d) {
    let mx = -Infinity;
    for (let i = 0; i < d; i++) mx = Math.max(mx, x[r + i]);
    let s = 0;
    for (let i = 0; i < d; i++) { const e = Math.exp(x[r + i] - mx); y[r + i] = e; s += e; }
    for (let i = 0; i < d; i++) y[r + i] /= s;
  }
  return y;
}

/** dx = y · (dy - sum(dy · y)) per row. */
export function softmaxBackward(dy: FloatArray, y: FloatArray, d: number): FloatArray {
  checkSize('softmaxBackward y', y, dy.length);
  const dx = allocLike(dy, dy.length);
  for (let r = 0; r < dy.length; r += d) {
    let s = 0;
    for (let i = 0; i < d; i++) s += dy[r + i] * y[r + i];
    for (let i = 0; i < d; i++) dx[r + i] = y[r + i] * (dy[r + i] - s);
  }
  return dx;
}

/**
 * Layer norm over the last axis: y = (x - mean) · rstd · gamma + beta, rstd = 1 / sqrt(var + eps) with the biased
 * variance (PyTorch / ONNX). Returns y and the per-row statistics [rows, 2] = (mean, rstd).
 */
export function layerNorm(x: FloatArray, gamma: FloatArray, beta: FloatArray, d: number, eps: number): [FloatArray, FloatArray] {
  checkSize('layerNorm gamma', gamma, d);
  checkSize('layerNorm beta', beta, d);
  const rows = x.length / d;
  const y = allocLike(x, x.length);
  const stats = allocLike(x, rows * 2);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let m = 0;
    for (let i = 0; i < d; i++) m += x[o + i];
    m /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (x[o + i] - m) ** 2;
    const rstd = 1 / Math.sqrt(v / d + eps);
    for (let i = 0; i < d; i++) y[o + i] = (x[o + i] - m) * rstd * gamma[i] + beta[i];
    stats[2 * r] = m;
    stats[2 * r + 1] = rstd;
  }
  return [y, stats];
}

/**
 * The layer norm's gradients: with x̂ = (x - mean) · rstd and g = dy · gamma,
 *   dx = rstd · (g - mean(g) - x̂ · mean(g · x̂)),  dgamma = sum over rows of dy · x̂,  dbeta = sum over rows of dy.
 */
export function layerNormBackward(dy: FloatArray, x: FloatArray, stats: FloatArray, gamma: FloatArray, d: number): [FloatArray, FloatArray, FloatArray] {
  checkSize('layerNormBackward x', x, dy.length);
  const rows = dy.length / d;
  checkSize('layerNormBackward stats', stats, rows * 2);
  const dx = allocLike(dy, dy.length);
  const dgamma = allocLike(dy, d);
  const dbeta = allocLike(dy, d);
  const acc = new Float64Array(2 * d);
  for (let r = 0; r < rows; r++) {
    const o = r * d, m = stats[2 * r], rstd = stats[2 * r + 1];
    let sg = 0, sgx = 0;
    for (let i = 0; i < d; i++) {
      const xh = (x[o + i] - m) * rstd, g = dy[o + i] * gamma[i];
      sg += g;
      sgx += g * xh;
      acc[i] += dy[o + i] * xh;
      acc[d + i] += dy[o + i];
    }
    sg /= d;
    sgx /= d;
    for (let i = 0; i < d; i++) dx[o + i] = rstd * (dy[o + i] * gamma[i] - sg - (x[o + i] - m) * rstd * sgx);
  }
  for (let i = 0; i < d; i++) { dgamma[i] = acc[i]; dbeta[i] = acc[d + i]; }
  return [dx, dgamma, dbeta];
}
