/** Horizon `ClipObserver`: qparams from a fixed range [clipMin, clipMax] (clipMin defaults to -clipMax). */
import type { QParams } from '../../qmath/qparams.ts';
import { type ObserverConfig, PerTensorObserverBase } from './base.ts';

export class ClipObserver extends PerTensorObserverBase {
  readonly clipMin: number;
  readonly clipMax: number;

  constructor(cfg: ObserverConfig = {}) {
    super(cfg);
    if (cfg.clipMax === undefined || !Number.isFinite(cfg.clipMax)) throw new Error('clip needs clipMax');
    this.clipMax = Math.fround(cfg.clipMax);
    this.clipMin = Math.fround(cfg.clipMin ?? -cfg.clipMax);
    if (!(this.clipMin <= this.clipMax)) throw new Error(`clip range [${this.clipMin}, ${this.clipMax}] is empty`);
  }

  observe(x: Float32Array, _shape: readonly number[] = [x.length]): void {
    this.trackMinMax(x);
  }

  calculateQParams(): QParams {
    return this.qparamsFor(this.clipMin, this.clipMax);
  }
}
