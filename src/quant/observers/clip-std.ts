/**
 * Horizon-style `ClipStdObserver`. Exact definition used here: over every observed value (all batches, float64
 * running sums), mean m and population standard deviation s = sqrt(E[x^2] - m^2); the range is
 * [max(min, m - k*s), min(max, m + k*s)] with k = `stdScale` (default 3), i.e. mean ± 3 sigma of x (signed),
 * never wider than the observed range. With a symmetric qscheme the scale is then max(|lo|, |hi|) / 127.5.
 */
import type { QParams } from '../../qmath/qparams.ts';
import { type ObserverConfig, PerTensorObserverBase } from './base.ts';

export class ClipStdObserver extends PerTensorObserverBase {
  readonly stdScale: number;
  private n = 0;
  private sum = 0;
  private sumSq = 0;

  constructor(cfg: ObserverConfig = {}) {
    super(cfg);
    this.stdScale = cfg.stdScale ?? 3;
  }

  observe(x: Float32Array, _shape: readonly number[] = [x.length]): void {
    if (x.length === 0) return;
    this.trackMinMax(x);
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (!Number.isFinite(v)) continue;
      this.sum += v;
      this.sumSq += v * v;
      this.n++;
    }
  }

  get mean(): number {
    return this.n ? this.sum / this.n : 0;
  }
  get std(): number {
    if (!this.n) return 0;
    const m = this.mean;
    return Math.sqrt(Math.max(0, this.sumSq / this.n - m * m));
  }

  /** [lo, hi] = mean ± stdScale * std, clipped to the observed range. */
  get range(): [number, number] {
    const m = this.mean;
    const d = this.stdScale * this.std;
    return [Math.max(this.minV, m - d), Math.min(this.maxV, m + d)];
  }

  calculateQParams(): QParams {
    if (!this.initialized) return { scale: Float32Array.of(1), zeroPoint: Int32Array.of(0) };
    const [lo, hi] = this.range;
    return this.qparamsFor(lo, hi);
  }
}
