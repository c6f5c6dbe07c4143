/**
 * Observer contract and the configuration shared by every observer.
 *
 * Every observer: `observe(x, shape)` (any number of times, batches in order), `calculateQParams()`
 * and `minVal` / `maxVal` getters (length 1 per tensor, #channels per channel; +inf / -inf before any batch).
 */
import type { March } from '../../qmath/march.ts';
import { applyMarchToScales } from '../../qmath/march.ts';
import { type QParams, type QParamsConfig, type ResolvedQConfig, calculateQParams, resolveQConfig } from '../../qmath/qparams.ts';

export interface ObserverConfig extends QParamsConfig {
  /** Horizon march; `bernoulli` turns every scale into a power of two. */
  march?: March;
  /** Moving average constant (moving_average_minmax; also mse/kl/... when `movingAverage` is on). Default 0.01. */
  averagingConstant?: number;
  /** Channel axis of the per-channel observer. Default 0. */
  chAxis?: number;
  /** Histogram bins (histogram: 2048, percentile: 2048, kl: 512). */
  bins?: number;
  /** HistogramObserver upsample rate. Default 128. */
  upsampleRate?: number;
  /** fixed_scale: the scale (and zero point, default 0). */
  scale?: number;
  zeroPoint?: number;
  /** clip: the fixed range. */
  clipMin?: number;
  clipMax?: number;
  /** percentile: in percent, default 99.99. */
  percentile?: number;
  /** clip_std: number of standard deviations, default 3. */
  stdScale?: number;
  /** mse: number of shrink factors (default 95: 1.00, 0.99, ..., 0.06) and their step (0.01). */
  mseSteps?: number;
  mseStep?: number;
  /** kl: first candidate threshold bin (default 128). */
  klStartBin?: number;
  /** mse / mix: bound on the number of values kept (reservoir sample), default 65536. */
  sampleSize?: number;
  /** mix: the candidate methods (default ['minmax', 'percentile', 'mse', 'kl']). */
  mixMethods?: string[];
}

export interface Observer {
  observe(x: Float32Array, shape: readonly number[]): void;
  calculateQParams(): QParams;
  readonly minVal: Float32Array;
  readonly maxVal: Float32Array;
}

import { aminmax } from '../../qmath/histc.ts';
export { aminmax };

/** Base for the per-tensor observers: keeps the running min/max and the resolved config. */
export abstract class PerTensorObserverBase implements Observer {
  protected readonly q: ResolvedQConfig;
  protected readonly march: March | undefined;
  protected minV = Infinity;
  protected maxV = -Infinity;

  constructor(cfg: ObserverConfig = {}) {
    this.q = resolveQConfig(cfg);
    this.march = cfg.march;
  }

  abstract observe(x: Float32Array, shape: readonly number[]): void;
  abstract calculateQParams(): QParams;

  get minVal(): Float32Array {
    return Float32Array.of(this.minV);
  }
  get maxVal(): Float32Array {
    return Float32Array.of(this.maxV);
  }
  get initialized(): boolean {
    return this.minV <= this.maxV;
  }

  /** Running min/max update (exact in float32). */
  protected trackMinMax(x: ArrayLike<number>): [number, number] {
    const [mn, mx] = aminmax(x);
    if (mn < this.minV) this.minV = mn;
    if (mx > this.maxV) this.maxV = mx;
    return [mn, mx];
  }

  /** qparams of a float range with this observer's config and march. */
  protected qparamsFor(minVal: number, maxVal: number): QParams {
    const qp = calculateQParams(minVal, maxVal, this.q);
    applyMarchToScales(qp.scale, this.march);
    return qp;
  }

  /**
   * Range [max(min, -t), min(max, t)] of a symmetric |x| threshold t, clipped to the observed range widened to take
   * 0 (as the qparams do): a tensor of one sign with t below its smallest |x| would otherwise give min > max.
   */
  protected rangeForThreshold(t: number): [number, number] {
    return [Math.max(Math.min(this.minV, 0), -t), Math.min(Math.max(this.maxV, 0), t)];
  }
}
