/** Mean softmax cross-entropy over logits [N, K] with integer class labels stored as floats. */
import { allocLike, checkSize, type FloatArray } from './types.ts';

function labelAt(labels: FloatArray, n: number, K: number): number {
  const l = labels[n];
  if (!Number.isInteger(l) || l < 0 || l >= K) throw new Error(`softmaxCrossEntropy: label ${l} at ${n} is not a class index in [0, ${K})`);
  return l;
}

/**
 * loss = mean_n (logsumexp(z_n) - z_n[label_n]), with the row maximum subtracted before exp.
 * Returns [loss [1], probs [N, K]].
 */
export function softmaxCrossEntropy(
  logits: FloatArray, labels: FloatArray, N: number, K: number,
): [FloatArray, FloatArray] {
  checkSize('softmaxCrossEntropy logits', logits, N * K);
  checkSize('softmaxCrossEntropy labels', labels, N);
  const probs = allocLike(logits, N * K);
  let total = 0;
  for (let n = 0; n < N; n++) {
    const row = n * K;
    let mx = -Infinity;
    for (let k = 0; k < K; k++) if (logits[row + k] > mx) mx = logits[row + k];
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(logits[row + k] - mx);
    const lse = mx + Math.log(s);
    for (let k = 0; k < K; k++) probs[row + k] = Math.exp(logits[row + k] - lse);
    total += lse - logits[row + labelAt(labels, n, K)];
  }
  const loss = allocLike(logits, 1);
  loss[0] = total / N;
  return [loss, probs];
}

/** dlogits = (probs - onehot(labels)) * gradScale (gradScale = dLoss / N for the mean loss). */
export function softmaxCrossEntropyBackward(
  probs: FloatArray, labels: FloatArray, N: number, K: number, gradScale: number,
): FloatArray {
  checkSize('softmaxCrossEntropyBackward probs', probs, N * K);
  checkSize('softmaxCrossEntropyBackward labels', labels, N);
  const d = allocLike(probs, N * K);
  for (let n = 0; n < N; n++) {
    const row = n * K, l = labelAt(labels, n, K);
    for (let k = 0; k < K; k++) d[row + k] = (probs[row + k] - (k === l ? 1 : 0)) * gradScale;
  }
  return d;
}
