/**
 * Horizon-style `PercentileObserver`: the threshold t is the `percentile` (default 99.99 %) of |x| over every
 * observed batch, read from a 2048-bin histogram of |x| (linear interpolation inside the bin that crosses the
 * target count; the histogram range grows with max |x|, see AbsHistogram). The quantization range is
 * [max(min, -t), min(max, t)].
 */
import type { QParams } from '../../qmath/qparams.ts';
import { type ObserverConfig, PerTensorObserverBase } from './base.ts';
import { AbsHistogram } from './util.ts';

/** The value below which `percent` % of the histogram mass lies (linear interpolation within a bin). */
export function histogramPercentile(counts: ArrayLike<number>, binWidth: number, percent: number): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  if (total === 0) return 0;
  const target = (Math.min(100, Math.max(0, percent)) / 100) * total;
  let cum = 0;
  for (let b = 0; b < counts.length; b++) {
    const c = counts[b];
    if (c > 0 && cum + c >= target) return (b + (target - cum) / c) * binWidth;
    cum += c;
  }
  return counts.length * binWidth;
}

export class PercentileObserver extends PerTensorObserverBase {
  readonly percentile: number;
  private readonly hist: AbsHistogram;

  constructor(cfg: ObserverConfig = {}) {
    super(cfg);
    this.percentile = cfg.percentile ?? 99.99;
    if (!(this.percentile > 0 && this.percentile <= 100)) throw new Error(`bad percentile ${this.percentile}`);
    this.hist = new AbsHistogram(cfg.bins ?? 2048);
  }

  observe(x: Float32Array, _shape: readonly number[] = [x.length]): void {
    if (x.length === 0) return;
    this.trackMinMax(x);
    this.hist.add(x);
  }

  /** The |x| threshold. */
  get threshold(): number {
    return histogramPercentile(this.hist.counts, this.hist.binWidth, this.percentile);
  }

  calculateQParams(): QParams {
    if (!this.initialized) return { scale: Float32Array.of(1), zeroPoint: Int32Array.of(0) };
    const [lo, hi] = this.rangeForThreshold(this.threshold);
    return this.qparamsFor(lo, hi);
  }
}
