/**
 * Horizon-style `MixObserver`: feeds every batch to several calibration observers (default minmax, percentile,
 * mse, kl) and returns the qparams of the one whose per-tensor fake quantization has the smallest L2 error on a
 * bounded deterministic reservoir sample of the observed values (65536 by default). First method wins ties.
 */
import { fakeQuantL2Error } from '../../qmath/fake-quantize.ts';
import type { QParams } from '../../qmath/qparams.ts';
import { type Observer, type ObserverConfig, PerTensorObserverBase } from './base.ts';
import { Reservoir } from './util.ts';

export const DEFAULT_MIX_METHODS = ['minmax', 'percentile', 'mse', 'kl'];

export class MixObserver extends PerTensorObserverBase {
  readonly methods: string[];
  private readonly observers: Observer[];
  private readonly sample: Reservoir;
  private chosen = '';
  private lastErrors: Record<string, number> = {};

  /** `make` builds a sub-observer by name (the factory passes createObserver, avoiding an import cycle). */
  constructor(cfg: ObserverConfig, make: (name: string, cfg: ObserverConfig) => Observer) {
    super(cfg);
    this.methods = cfg.mixMethods ?? DEFAULT_MIX_METHODS;
    if (this.methods.length === 0 || this.methods.includes('mix')) throw new Error('mix needs sub-methods other than mix');
    this.observers = this.methods.map((m) => make(m, cfg));
    this.sample = new Reservoir(cfg.sampleSize ?? 65536);
  }

  observe(x: Float32Array, shape: readonly number[] = [x.length]): void {
    if (x.length === 0) return;
    this.trackMinMax(x);
    this.sample.add(x);
    for (const o of this.observers) o.observe(x, shape);
  }

  /** Method picked by the last calculateQParams(). */
  get chosenMethod(): string {
    return this.chosen;
  }
  /** L2 error of every method at the last calculateQParams(). */
  get errors(): Record<string, number> {
    return { ...this.lastErrors };
  }

  calculateQParams(): QParams {
    if (!this.initialized) return { scale: Float32Array.of(1), zeroPoint: Int32Array.of(0) };
    const xs = this.sample.values;
    let best: QParams | undefined;
    let bestErr = Infinity;
    this.lastErrors = {};
    this.observers.forEach((o, k) => {
      const qp = o.calculateQParams();
      const err = fakeQuantL2Error(xs, qp.scale[0], qp.zeroPoint[0], this.q.quantMin, this.q.quantMax);
      this.lastErrors[this.methods[k]] = err;
      if (best === undefined || err < bestErr) {
        best = qp;
        bestErr = err;
        this.chosen = this.methods[k];
      }
    });
    return best!;
  }
}
