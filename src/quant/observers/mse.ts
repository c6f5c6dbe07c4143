/**
 * Horizon-style `MSEObserver`: tries `mseSteps` (default 95) shrink factors of the observed range,
 * f = 1.00, 0.99, ..., 0.06, and keeps the one whose fake quantization has the lowest L2 error.
 *
 * Exact definition: the data of every batch goes into a bounded deterministic reservoir sample (default 65536
 * values; all values while fewer were seen). For a symmetric qscheme the candidate range is
 * [max(min, -f*a), min(max, f*a)] with a = max(|min|, |max|); for affine it is [f*min, f*max]. The error of a
 * candidate is sum((fakequant(x) - x)^2) over the sample, with the candidate's qparams (march applied, half-even
 * rounding). Ties keep the larger factor.
 */
import { fakeQuantL2Error } from '../../qmath/fake-quantize.ts';
import { isSymmetric, type QParams } from '../../qmath/qparams.ts';
import { type ObserverConfig, PerTensorObserverBase } from './base.ts';
import { Reservoir } from './util.ts';

export class MSEObserver extends PerTensorObserverBase {
  readonly steps: number;
  readonly step: number;
  private readonly sample: Reservoir;
  private lastFactor = 1;
  private lastErrors: number[] = [];

  constructor(cfg: ObserverConfig = {}) {
    super(cfg);
    this.steps = cfg.mseSteps ?? 95;
    this.step = cfg.mseStep ?? 0.01;
    if (!(this.steps >= 1) || !(this.step > 0) || 1 - (this.steps - 1) * this.step <= 0) {
      throw new Error(`bad mse search: ${this.steps} steps of ${this.step}`);
    }
    this.sample = new Reservoir(cfg.sampleSize ?? 65536);
  }

  observe(x: Float32Array, _shape: readonly number[] = [x.length]): void {
    if (x.length === 0) return;
    this.trackMinMax(x);
    this.sample.add(x);
  }

  /** The candidate factors, 1.00 first. */
  factors(): number[] {
    return Array.from({ length: this.steps }, (_, k) => Math.round((1 - k * this.step) * 1e6) / 1e6);
  }

  /** Range of a shrink factor. */
  rangeForFactor(f: number): [number, number] {
    if (isSymmetric(this.q.qscheme)) return this.rangeForThreshold(f * Math.max(-this.minV, this.maxV));
    return [f * this.minV, f * this.maxV];
  }

  /** Factor chosen by the last calculateQParams(). */
  get bestFactor(): number {
    return this.lastFactor;
  }
  /** L2 errors of every factor at the last calculateQParams(), in factors() order. */
  get errors(): number[] {
    return this.lastErrors.slice();
  }

  calculateQParams(): QParams {
    if (!this.initialized) return { scale: Float32Array.of(1), zeroPoint: Int32Array.of(0) };
    const xs = this.sample.values;
    let best: QParams | undefined;
    let bestErr = Infinity;
    this.lastErrors = [];
    for (const f of this.factors()) {
      const [lo, hi] = this.rangeForFactor(f);
      const qp = this.qparamsFor(lo, hi);
      const err = fakeQuantL2Error(xs, qp.scale[0], qp.zeroPoint[0], this.q.quantMin, this.q.quantMax);
      this.lastErrors.push(err);
      if (err < bestErr || best === undefined) {
        bestErr = err;
        best = qp;
        this.lastFactor = f;
      }
    }
    return best!;
  }
}
