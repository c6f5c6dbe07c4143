/**
 * What automatic calibration minimises when it compares candidate scales: a distance between the quantized model's
 * final outputs and the float model's (or the labels) over the selection images. One source for the CLI, the page
 * and the worker.
 *   l2    the guide's criterion (7.5.6): L2 norm of the difference of the final outputs (logits).
 *   kl    mean KL divergence of the quantized model's softmax from the float model's: label-free, and closer to what
 *         decides the top-1 class than the logit L2 (a logit error on a class far below the winner costs little).
 *   loss  mean cross-entropy of the quantized model's softmax to the images' labels (labelled selection images only).
 */
export const AUTO_CALIB_CRITERIA = ['l2', 'kl', 'loss'] as const;
export type AutoCalibCriterion = (typeof AUTO_CALIB_CRITERIA)[number];
export const AUTO_CALIB_DEFAULT_CRITERION: AutoCalibCriterion = 'l2';

/** How the page and the CLI name each criterion's distance. */
export const AUTO_CALIB_CRITERION_LABELS: Record<AutoCalibCriterion, string> = {
  l2: 'output L2', kl: 'softmax KL to the float model', loss: 'cross-entropy to the labels',
};

export function isAutoCalibCriterion(s: string): s is AutoCalibCriterion {
  return (AUTO_CALIB_CRITERIA as readonly string[]).includes(s);
}

/** log-softmax of row i (k classes) into `out`. */
function logSoftmax(a: Float32Array, i: number, k: number, out: Float64Array): void {
  let m = -Infinity;
  for (let c = 0; c < k; c++) m = Math.max(m, a[i * k + c]);
  let s = 0;
  for (let c = 0; c < k; c++) s += Math.exp(a[i * k + c] - m);
  const lse = m + Math.log(s);
  for (let c = 0; c < k; c++) out[c] = a[i * k + c] - lse;
}

/**
 * The criterion over batches: `outs[b]` the quantized outputs of batch b (rows of k values), `ref[b]` the float
 * model's, `labels[b]` the batch's labels (-1: none). Smaller is better.
 */
export function criterionDistance(criterion: AutoCalibCriterion, outs: readonly Float32Array[], ref: readonly Float32Array[],
  labels: readonly Float32Array[], k: number): number {
  if (criterion === 'l2') {
    let s = 0;
    outs.forEach((a, b) => { for (let i = 0; i < a.length; i++) s += (a[i] - ref[b][i]) ** 2; });
    return Math.sqrt(s);
  }
  const lq = new Float64Array(k), lf = new Float64Array(k);
  let s = 0, n = 0;
  outs.forEach((a, b) => {
    const rows = a.length / k;
    for (let i = 0; i < rows; i++, n++) {
      logSoftmax(a, i, k, lq);
      if (criterion === 'loss') {
        const y = labels[b][i];
        if (!(y >= 0)) throw new Error('automatic calibration: the loss criterion needs labelled calibration images (use l2 or kl)');
        s -= lq[y];
      } else {
        logSoftmax(ref[b], i, k, lf);
        for (let c = 0; c < k; c++) s += Math.exp(lf[c]) * (lf[c] - lq[c]);
      }
    }
  });
  return s / Math.max(1, n);
}
