/**
 * Distances between two models' outputs (logit rows), as the user picks them for the bad-case finder and the
 * sensitivity pass. `a` is the reference (usually the float model), `b` the model under test.
 *   l1      Σ|a − b| over the row
 *   mse     mean (a − b)²
 *   cosine  cosine similarity of the rows (1 = same direction)
 *   kl      KL(softmax(a) ‖ softmax(b)), in nats
 *   sqnr    10·log10(Σa² / Σ(a − b)²) dB (Infinity when identical)
 * For l1, mse and kl larger is worse; for cosine and sqnr smaller is worse (`worseFirst` sorts either way).
 */

export const DISTANCE_METRICS = ['l1', 'mse', 'cosine', 'kl', 'sqnr'] as const;
export type DistanceMetric = (typeof DISTANCE_METRICS)[number];

export function isDistanceMetric(s: string): s is DistanceMetric {
  return (DISTANCE_METRICS as readonly string[]).includes(s);
}

/** true when a larger value means the two outputs are further apart. */
export const largerIsWorse = (m: DistanceMetric): boolean => m === 'l1' || m === 'mse' || m === 'kl';

/** Compares metric values worst first (for Array.sort). NaN sorts last. */
export function worseFirst(m: DistanceMetric): (x: number, y: number) => number {
  const sign = largerIsWorse(m) ? -1 : 1;
  return (x, y) => {
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : 1) : -1;
    if (x === y) return 0;
    return sign * (x < y ? -1 : 1);
  };
}

function logSoftmax(v: ArrayLike<number>, off: number, k: number, out: Float64Array): void {
  let m = -Infinity;
  for (let j = 0; j < k; j++) m = Math.max(m, v[off + j]);
  let s = 0;
  for (let j = 0; j < k; j++) s += Math.exp(v[off + j] - m);
  const lse = m + Math.log(s);
  for (let j = 0; j < k; j++) out[j] = v[off + j] - lse;
}

/** The distance of row `i` (k values from i·k) of `a` and `b`. */
export function rowDistance(m: DistanceMetric, a: ArrayLike<number>, b: ArrayLike<number>, i: number, k: number): number {
  const off = i * k;
  switch (m) {
    case 'l1': {
      let s = 0;
      for (let j = 0; j < k; j++) s += Math.abs(a[off + j] - b[off + j]);
      return s;
    }
    case 'mse': {
      let s = 0;
      for (let j = 0; j < k; j++) s += (a[off + j] - b[off + j]) ** 2;
      return s / k;
    }
    case 'cosine': {
      let dot = 0, na = 0, nb = 0;
      for (let j = 0; j < k; j++) {
        dot += a[off + j] * b[off + j];
        na += a[off + j] ** 2;
        nb += b[off + j] ** 2;
      }
      if (na === 0 && nb === 0) return 1;
      return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
    }
    case 'kl': {
      const la = new Float64Array(k), lb = new Float64Array(k);
      logSoftmax(a, off, k, la);
      logSoftmax(b, off, k, lb);
      let s = 0;
      for (let j = 0; j < k; j++) s += Math.exp(la[j]) * (la[j] - lb[j]);
      return Math.max(0, s);
    }
    case 'sqnr': {
      let sig = 0, err = 0;
      for (let j = 0; j < k; j++) {
        sig += a[off + j] ** 2;
        err += (a[off + j] - b[off + j]) ** 2;
      }
      return err === 0 ? Infinity : 10 * Math.log10(sig / err);
    }
  }
}

/**
 * One figure for a whole set of n rows: the mean of the per-row distances, except SQNR, which is taken over all
 * values at once (a per-row mean of dB values is dominated by the rows that happen to match exactly).
 */
export function setDistance(m: DistanceMetric, a: ArrayLike<number>, b: ArrayLike<number>, n: number, k: number): number {
  if (m === 'sqnr') {
    let sig = 0, err = 0;
    for (let i = 0; i < n * k; i++) {
      sig += a[i] ** 2;
      err += (a[i] - b[i]) ** 2;
    }
    return err === 0 ? Infinity : 10 * Math.log10(sig / err);
  }
  let s = 0;
  for (let i = 0; i < n; i++) s += rowDistance(m, a, b, i, k);
  return s / Math.max(1, n);
}

/** JSON has no Infinity: an exact match (SQNR ∞) is written as null. */
export const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** A distance for people: cosine similarities sit just below 1, so they get seven significant digits. */
export function formatDistance(m: DistanceMetric, x: number | null): string {
  if (x === null || x === Infinity) return 'exact';
  if (!Number.isFinite(x)) return String(x);
  return x.toPrecision(m === 'cosine' ? 7 : 4);
}
