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
 * The criterion's contribution of every image, over batches: `outs[b]` the quantized outputs of batch b (rows of k
 * values), `ref[b]` the float model's, `labels[b]` the batch's labels (-1: none). l2: the image's squared logit
 * error; kl / loss: the image's KL divergence / cross-entropy. criterionOf aggregates them.
 */
export function criterionPerImage(criterion: AutoCalibCriterion, outs: readonly Float32Array[], ref: readonly Float32Array[],
  labels: readonly Float32Array[], k: number): Float64Array {
  const n = outs.reduce((t, a) => t + a.length / k, 0);
  const per = new Float64Array(n);
  const lq = new Float64Array(k), lf = new Float64Array(k);
  let j = 0;
  outs.forEach((a, b) => {
    const rows = a.length / k;
    for (let i = 0; i < rows; i++, j++) {
      if (criterion === 'l2') {
        let s = 0;
        for (let c = 0; c < k; c++) s += (a[i * k + c] - ref[b][i * k + c]) ** 2;
        per[j] = s;
        continue;
      }
      logSoftmax(a, i, k, lq);
      if (criterion === 'loss') {
        const y = labels[b][i];
        if (!(y >= 0)) throw new Error('automatic calibration: the loss criterion needs labelled calibration images (use l2 or kl)');
        per[j] = -lq[y];
      } else {
        logSoftmax(ref[b], i, k, lf);
        let s = 0;
        for (let c = 0; c < k; c++) s += Math.exp(lf[c]) * (lf[c] - lq[c]);
        per[j] = s;
      }
    }
  });
  return per;
}

/** The criterion from its per-image values: l2 the square root of their sum (the guide's L2 norm), kl / loss their mean. */
export function criterionOf(criterion: AutoCalibCriterion, per: Float64Array): number {
  let s = 0;
  for (const v of per) s += v;
  return criterion === 'l2' ? Math.sqrt(s) : s / Math.max(1, per.length);
}

/** The criterion over batches (as criterionPerImage). Smaller is better. */
export function criterionDistance(criterion: AutoCalibCriterion, outs: readonly Float32Array[], ref: readonly Float32Array[],
  labels: readonly Float32Array[], k: number): number {
  return criterionOf(criterion, criterionPerImage(criterion, outs, ref, labels, k));
}

/**
 * How consistently `cand` improves on `base`, image by image: the paired z statistic mean(d) / (sd(d) / sqrt(n)) of
 * d = base - cand (positive: the candidate is better on average; a large value: better on most images, not on a
 * few). The automatic calibration's gate moves a site only where this reaches the gate. 0 when nothing differs.
 */
export function pairedImprovement(base: Float64Array, cand: Float64Array): number {
  const n = base.length;
  if (n !== cand.length) throw new Error(`pairedImprovement: ${n} vs ${cand.length} images`);
  let m = 0;
  for (let i = 0; i < n; i++) m += base[i] - cand[i];
  m /= Math.max(1, n);
  let v = 0;
  for (let i = 0; i < n; i++) v += (base[i] - cand[i] - m) ** 2;
  const sd = Math.sqrt(v / Math.max(1, n - 1));
  if (sd === 0) return m === 0 ? 0 : Math.sign(m) * Infinity;
  return m / (sd / Math.sqrt(n));
}
