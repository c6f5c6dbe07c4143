/**
 * PyTorch `MovingAverageMinMaxObserver` (also Horizon's default calibration observer, averaging constant 0.01):
 * first batch min/max = min(x)/max(x); later batches, in float32,
 * `min_val = f32(min_val + f32(f32(c) * f32(min(x) - min_val)))`, same for max.
 */
import type { QParams } from '../../qmath/qparams.ts';
import { type ObserverConfig, PerTensorObserverBase, aminmax } from './base.ts';

const f32 = Math.fround;

export class MovingAverageMinMaxObserver extends PerTensorObserverBase {
  readonly averagingConstant: number;

  constructor(cfg: ObserverConfig = {}) {
    super(cfg);
    this.averagingConstant = f32(cfg.averagingConstant ?? 0.01);
  }

  observe(x: Float32Array, _shape: readonly number[] = [x.length]): void {
    if (x.length === 0) return;
    const [mn, mx] = aminmax(x);
    if (this.minV === Infinity && this.maxV === -Infinity) {
      this.minV = mn;
      this.maxV = mx;
      return;
    }
    const c = this.averagingConstant;
    this.minV = f32(this.minV + f32(c * f32(mn - this.minV)));
    this.maxV = f32(this.maxV + f32(c * f32(mx - this.maxV)));
  }

  calculateQParams(): QParams {
    return this.qparamsFor(this.minV, this.maxV);
  }
}
