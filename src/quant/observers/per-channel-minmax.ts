/** PyTorch `PerChannelMinMaxObserver`: running min/max per channel along `chAxis` (default 0). */
import { applyMarchToScales, type March } from '../../qmath/march.ts';
import { type QParams, type ResolvedQConfig, calculateQParams, resolveQConfig } from '../../qmath/qparams.ts';
import { channelLayout } from '../../qmath/fake-quantize.ts';
import type { Observer, ObserverConfig } from './base.ts';

export class PerChannelMinMaxObserver implements Observer {
  readonly chAxis: number;
  private readonly q: ResolvedQConfig;
  private readonly march: March | undefined;
  private mins: Float32Array = new Float32Array(0);
  private maxs: Float32Array = new Float32Array(0);

  constructor(cfg: ObserverConfig = {}) {
    this.q = resolveQConfig({ ...cfg, qscheme: cfg.qscheme ?? 'per_channel_symmetric' });
    this.chAxis = cfg.chAxis ?? 0;
    this.march = cfg.march;
  }

  observe(x: Float32Array, shape: readonly number[]): void {
    if (x.length === 0) return;
    const { channels, inner, outer } = channelLayout(shape, this.chAxis);
    if (this.mins.length === 0) {
      this.mins = new Float32Array(channels).fill(Infinity);
      this.maxs = new Float32Array(channels).fill(-Infinity);
    } else if (this.mins.length !== channels) {
      throw new Error(`channel count changed: ${this.mins.length} -> ${channels}`);
    }
    for (let c = 0; c < channels; c++) {
      let mn = this.mins[c];
      let mx = this.maxs[c];
      for (let o = 0; o < outer; o++) {
        const base = (o * channels + c) * inner;
        for (let k = 0; k < inner; k++) {
          const v = x[base + k];
          if (v < mn) mn = v;
          if (v > mx) mx = v;
        }
      }
      this.mins[c] = mn;
      this.maxs[c] = mx;
    }
  }

  get minVal(): Float32Array {
    return this.mins.slice();
  }
  get maxVal(): Float32Array {
    return this.maxs.slice();
  }

  calculateQParams(): QParams {
    if (this.mins.length === 0) return { scale: Float32Array.of(1), zeroPoint: Int32Array.of(0) };
    const qp = calculateQParams(this.mins, this.maxs, this.q);
    applyMarchToScales(qp.scale, this.march);
    return qp;
  }
}
