/** PyTorch `MinMaxObserver`: running min/max over every batch, then `calculate_qparams`. */
import type { QParams } from '../../qmath/qparams.ts';
import { type ObserverConfig, PerTensorObserverBase } from './base.ts';

export class MinMaxObserver extends PerTensorObserverBase {
  constructor(cfg: ObserverConfig = {}) {
    super(cfg);
  }

  observe(x: Float32Array, _shape: readonly number[] = [x.length]): void {
    if (x.length === 0) return;
    this.trackMinMax(x);
  }

  calculateQParams(): QParams {
    return this.qparamsFor(this.minV, this.maxV);
  }
}
