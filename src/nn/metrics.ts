/** Top-k accuracy counting on host-side logits. */
export interface TopK { top1: number; top5: number }

export function countTopK(logits: Float32Array, labels: ArrayLike<number>, n: number, k: number): TopK {
  let top1 = 0, top5 = 0;
  for (let i = 0; i < n; i++) {
    const row = i * k;
    const label = labels[i];
    const target = logits[row + label];
    // Rank of the true class = number of classes with a strictly larger logit (ties favour the label).
    let rank = 0;
    for (let j = 0; j < k; j++) if (logits[row + j] > target) rank++;
    if (rank === 0) top1++;
    if (rank < 5) top5++;
  }
  return { top1, top5 };
}

export function argmaxRows(logits: Float32Array, n: number, k: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (logits[i * k + j] > logits[i * k + best]) best = j;
    out[i] = best;
  }
  return out;
}
