/** Horizon `FixedScaleObserver`: always returns the configured scale (zero point default 0); min/max are tracked for display. */
import type { QParams } from '../../qmath/qparams.ts';
import { type ObserverConfig, PerTensorObserverBase } from './base.ts';

export class FixedScaleObserver extends PerTensorObserverBase {
  readonly scale: number;
  readonly zeroPoint: number;

  constructor(cfg: ObserverConfig = {}) {
    super(cfg);
    if (cfg.scale === undefined || !(cfg.scale > 0) || !Number.isFinite(cfg.scale)) {
      throw new Error(`fixed_scale needs a positive finite scale, got ${cfg.scale}`);
    }
    this.scale = Math.fround(cfg.scale);
    this.zeroPoint = cfg.zeroPoint ?? 0;
  }

  observe(x: Float32Array, _shape: readonly number[] = [x.length]): void {
    this.trackMinMax(x);
  }

  /** The fixed scale as given (the march is not applied: a fixed scale is the user's decision). */
  calculateQParams(): QParams {
    return { scale: Float32Array.of(this.scale), zeroPoint: Int32Array.of(this.zeroPoint) };
  }
}
