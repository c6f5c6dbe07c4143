/**
 * The distillation losses (float64 accumulation, float32 storage), the oracle of shaders/distill_loss.wgsl:
 * mean squared error between two tensors, and KL(softmax(teacher) || softmax(student)) per row of logits.
 * Each forward also returns the tensor its backward scales (the loss gradient up to a constant).
 */
import { allocLike, checkSize, type FloatArray } from './types.ts';

/** loss = mean((a - b)^2); returns [loss [1], diff = a - b]. dLoss/da = diff * 2 / size. */
export function mseLoss(a: FloatArray, b: FloatArray): [FloatArray, FloatArray] {
  checkSize('mseLoss b', b, a.length);
  if (a.length === 0) throw new Error('mseLoss: empty tensors');
  const diff = allocLike(a, a.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    diff[i] = a[i] - b[i];
    s += diff[i] * diff[i];
  }
  const loss = allocLike(a, 1);
  loss[0] = s / a.length;
  return [loss, diff];
}

function softmaxRow(z: FloatArray, row: number, K: number, out: Float64Array): number {
  let mx = -Infinity;
  for (let k = 0; k < K; k++) if (z[row + k] > mx) mx = z[row + k];
  let s = 0;
  for (let k = 0; k < K; k++) s += Math.exp(z[row + k] - mx);
  const lse = mx + Math.log(s);
  for (let k = 0; k < K; k++) out[k] = Math.exp(z[row + k] - lse);
  return lse;
}

/**
 * loss = mean_n sum_k pt (log pt - log ps), ps = softmax(student row), pt = softmax(teacher row);
 * returns [loss [1], delta = ps - pt [N, K]]. dLoss/dstudent = delta / N.
 */
export function softKlLoss(student: FloatArray, teacher: FloatArray, N: number, K: number): [FloatArray, FloatArray] {
  checkSize('softKlLoss student', student, N * K);
  checkSize('softKlLoss teacher', teacher, N * K);
  if (N === 0 || K === 0) throw new Error('softKlLoss: empty logits');
  const delta = allocLike(student, N * K);
  const ps = new Float64Array(K), pt = new Float64Array(K);
  let total = 0;
  for (let n = 0; n < N; n++) {
    const row = n * K;
    const lseS = softmaxRow(student, row, K, ps);
    const lseT = softmaxRow(teacher, row, K, pt);
    for (let k = 0; k < K; k++) {
      // pt * (log pt - log ps) with the logs from the logits (no log of a tiny probability).
      total += pt[k] * ((teacher[row + k] - lseT) - (student[row + k] - lseS));
      delta[row + k] = ps[k] - pt[k];
    }
  }
  const loss = allocLike(student, 1);
  loss[0] = total / N;
  return [loss, delta];
}

/** y = x * s[0] * c: a saved loss gradient times the incoming scalar gradient s (a tensor [1]). */
export function scaleByScalar(x: FloatArray, s: FloatArray, c: number): FloatArray {
  checkSize('scaleByScalar s', s, 1);
  const y = allocLike(x, x.length);
  const f = s[0] * c;
  for (let i = 0; i < x.length; i++) y[i] = x[i] * f;
  return y;
}
