/**
 * Horizon-style `KLObserver`: TensorRT-style entropy calibration on a 512-bin histogram of |x| (all batches).
 *
 * For every candidate i = startBin (128) .. bins: the reference P is hist[0:i] with the mass of hist[i:] (outliers)
 * added to its last bin; the candidate Q merges hist[0:i] (without the outliers) into `numQuantBins` groups of
 * floor(i / numQuantBins) bins (the last group takes the remainder) and spreads each group's mass evenly over its
 * non-empty source bins. Both are smoothed (MXNet `_smooth_distribution`, eps = 1e-4: zeros get eps, the non-zeros
 * give up eps * #zeros / #nonzeros) and normalised; KL(P || Q) = sum p log(p / q). The first i with the smallest
 * divergence wins and the threshold is its upper edge t = i * binWidth; the range is [max(min, -t), min(max, t)].
 * numQuantBins = floor((qmax - qmin + 1) / 2) = 128 for int8 (levels of |x|).
 */
import type { QParams } from '../../qmath/qparams.ts';
import { type ObserverConfig, PerTensorObserverBase } from './base.ts';
import { AbsHistogram } from './util.ts';

const SMOOTH_EPS = 1e-4;

/** MXNet-style smoothing; returns null when the distribution is all zero. */
function smooth(p: Float64Array): Float64Array | null {
  let zeros = 0;
  for (let i = 0; i < p.length; i++) if (p[i] === 0) zeros++;
  const nonzeros = p.length - zeros;
  if (nonzeros === 0) return null;
  const eps1 = (SMOOTH_EPS * zeros) / nonzeros;
  const out = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = p[i] === 0 ? SMOOTH_EPS : Math.max(p[i] - eps1, 1e-12);
  return out;
}

/** KL(P || Q) of two unnormalised distributions (normalised here). */
export function klDivergence(p: Float64Array, q: Float64Array): number {
  let sp = 0;
  let sq = 0;
  for (let i = 0; i < p.length; i++) {
    sp += p[i];
    sq += q[i];
  }
  let kl = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === 0) continue;
    const pi = p[i] / sp;
    const qi = q[i] / sq;
    kl += pi * Math.log(pi / qi);
  }
  return kl;
}

export interface KLSearch {
  /** Chosen number of kept bins (the threshold is bin * binWidth). */
  bin: number;
  /** Divergence per candidate, index 0 = startBin. */
  divergences: number[];
}

/** TensorRT-style threshold search on a histogram of |x|. */
export function klThresholdBin(hist: ArrayLike<number>, startBin = 128, numQuantBins = 128): KLSearch {
  const nb = hist.length;
  const start = Math.min(Math.max(startBin, numQuantBins), nb);
  const divergences: number[] = [];
  let best = nb;
  let bestKl = Infinity;
  for (let i = start; i <= nb; i++) {
    const p = new Float64Array(i);
    for (let b = 0; b < i; b++) p[b] = hist[b];
    let outliers = 0;
    for (let b = i; b < nb; b++) outliers += hist[b];
    p[i - 1] += outliers;
    const merge = Math.floor(i / numQuantBins);
    const q = new Float64Array(i);
    for (let j = 0; j < numQuantBins; j++) {
      const s = j * merge;
      const e = j === numQuantBins - 1 ? i : s + merge;
      let mass = 0;
      let nonzero = 0;
      for (let b = s; b < e; b++) {
        mass += hist[b];
        if (hist[b] !== 0) nonzero++;
      }
      if (nonzero === 0) continue;
      for (let b = s; b < e; b++) if (hist[b] !== 0) q[b] = mass / nonzero;
    }
    const ps = smooth(p);
    const qs = smooth(q);
    const kl = ps && qs ? klDivergence(ps, qs) : Infinity;
    divergences.push(kl);
    if (kl < bestKl) {
      bestKl = kl;
      best = i;
    }
  }
  return { bin: best, divergences };
}

export class KLObserver extends PerTensorObserverBase {
  readonly startBin: number;
  readonly numQuantBins: number;
  private readonly hist: AbsHistogram;

  constructor(cfg: ObserverConfig = {}) {
    super(cfg);
    this.hist = new AbsHistogram(cfg.bins ?? 512);
    this.startBin = cfg.klStartBin ?? 128;
    this.numQuantBins = Math.floor((this.q.quantMax - this.q.quantMin + 1) / 2);
  }

  observe(x: Float32Array, _shape: readonly number[] = [x.length]): void {
    if (x.length === 0) return;
    this.trackMinMax(x);
    this.hist.add(x);
  }

  /** The |x| threshold chosen by the entropy search. */
  get threshold(): number {
    if (this.hist.total === 0 || this.hist.range === 0) return 0;
    return klThresholdBin(this.hist.counts, this.startBin, this.numQuantBins).bin * this.hist.binWidth;
  }

  calculateQParams(): QParams {
    if (!this.initialized) return { scale: Float32Array.of(1), zeroPoint: Int32Array.of(0) };
    const [lo, hi] = this.rangeForThreshold(this.threshold);
    return this.qparamsFor(lo, hi);
  }
}
