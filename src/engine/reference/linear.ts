/** Fully connected layer: x [N, K], w [O, K] (PyTorch layout), b [O]. Inner loops run along K. */
import { allocLike, checkSize, type FloatArray } from './types.ts';

/** y[n,o] = sum_k x[n,k] w[o,k] + b[o]. Returns [N, O]. */
export function linearForward(
  x: FloatArray, w: FloatArray, b: FloatArray | null, N: number, K: number, O: number,
): FloatArray {
  checkSize('linear x', x, N * K);
  checkSize('linear w', w, O * K);
  if (b) checkSize('linear b', b, O);
  const y = allocLike(x, N * O);
  for (let n = 0; n < N; n++) {
    const xRow = n * K;
    for (let o = 0; o < O; o++) {
      const wRow = o * K;
      let s = b ? b[o] : 0;
      for (let k = 0; k < K; k++) s += x[xRow + k] * w[wRow + k];
      y[n * O + o] = s;
    }
  }
  return y;
}

/** dx[n,k] = sum_o dy[n,o] w[o,k]. Returns [N, K]. */
export function linearBackwardInput(dy: FloatArray, w: FloatArray, N: number, K: number, O: number): FloatArray {
  checkSize('linearBackwardInput dy', dy, N * O);
  checkSize('linearBackwardInput w', w, O * K);
  const dx = allocLike(dy, N * K);
  const acc = new Float64Array(K);
  for (let n = 0; n < N; n++) {
    acc.fill(0);
    for (let o = 0; o < O; o++) {
      const g = dy[n * O + o];
      const wRow = o * K;
      for (let k = 0; k < K; k++) acc[k] += g * w[wRow + k];
    }
    dx.set(acc, n * K);
  }
  return dx;
}

/** dw[o,k] = sum_n dy[n,o] x[n,k]. Returns [O, K]. */
export function linearBackwardWeight(dy: FloatArray, x: FloatArray, N: number, K: number, O: number): FloatArray {
  checkSize('linearBackwardWeight dy', dy, N * O);
  checkSize('linearBackwardWeight x', x, N * K);
  const dw = allocLike(dy, O * K);
  const acc = new Float64Array(K);
  for (let o = 0; o < O; o++) {
    acc.fill(0);
    for (let n = 0; n < N; n++) {
      const g = dy[n * O + o];
      const xRow = n * K;
      for (let k = 0; k < K; k++) acc[k] += g * x[xRow + k];
    }
    dw.set(acc, o * K);
  }
  return dw;
}

/** s[o] = sum_n dy[n,o] (linear bias gradient). dy [N, O]. Returns [O]. */
export function sumRows(dy: FloatArray, N: number, O: number): FloatArray {
  checkSize('sumRows dy', dy, N * O);
  const out = allocLike(dy, O);
  const acc = new Float64Array(O);
  for (let n = 0; n < N; n++) {
    const row = n * O;
    for (let o = 0; o < O; o++) acc[o] += dy[row + o];
  }
  out.set(acc);
  return out;
}
