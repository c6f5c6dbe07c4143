/**
 * Weight comparison: per conv / linear layer, the float weights against the fake-quantized ones exactly as the model
 * quantizes them (per output channel, min-max scale, the qconfig's dtype and rounding): per channel the scale and the
 * error, per layer cosine and SQNR, and the channels with the largest error.
 */
import type { HostParams } from '../../nn/params.ts';
import { quantizeValue } from '../fake-quantize-ref.ts';
import { weightScales } from '../convert.ts';
import type { QuantPlan } from '../prepare.ts';

export interface WeightChannel {
  channel: number;
  scale: number;
  /** max |w − fq(w)| in the channel, and the same in units of its scale (0.5 = rounding only). */
  max_abs_error: number;
  max_error_lsb: number;
  mse: number;
  /** max |w| of the channel. */
  absmax: number;
}

export interface WeightComparison {
  layer: string;
  param: string;
  dtype: string;
  channels: number;
  cosine: number;
  sqnr_db: number;
  max_abs_error: number;
  /** max over channels / min over channels of the scale: large when one channel has outliers. */
  scale_ratio: number;
  per_channel: WeightChannel[];
  /** Channel indices, largest max_abs_error first (up to 5). */
  worst_channels: number[];
}

export function compareWeights(plan: QuantPlan, host: HostParams, worstN = 5): WeightComparison[] {
  const { march, rounding } = plan.qconfig;
  return plan.weights.map((ws) => {
    const w = host[ws.param];
    if (!w) throw new Error(`weight comparison: no parameter ${ws.param}`);
    const scales = weightScales(w, ws.channels, ws.quantMin, ws.quantMax, march);
    const inner = w.length / ws.channels;
    let dot = 0, wSq = 0, qSq = 0, errSq = 0, maxErr = 0;
    const per_channel: WeightChannel[] = [];
    for (let c = 0; c < ws.channels; c++) {
      const s = scales[c], inv = Math.fround(1 / s);
      let cMax = 0, cSq = 0, absmax = 0;
      for (let i = c * inner; i < (c + 1) * inner; i++) {
        const q = quantizeValue(w[i], inv, 0, rounding);
        const fq = Math.fround((q < ws.quantMin ? ws.quantMin : q > ws.quantMax ? ws.quantMax : q) * s);
        const e = fq - w[i];
        dot += w[i] * fq;
        wSq += w[i] * w[i];
        qSq += fq * fq;
        errSq += e * e;
        cSq += e * e;
        cMax = Math.max(cMax, Math.abs(e));
        absmax = Math.max(absmax, Math.abs(w[i]));
      }
      maxErr = Math.max(maxErr, cMax);
      per_channel.push({ channel: c, scale: s, max_abs_error: cMax, max_error_lsb: cMax / s, mse: cSq / inner, absmax });
    }
    const ss = Array.from(scales);
    return {
      layer: ws.node, param: ws.param, dtype: ws.spec.dtype, channels: ws.channels,
      cosine: wSq === 0 && qSq === 0 ? 1 : dot / Math.sqrt(wSq * qSq || Number.MIN_VALUE),
      sqnr_db: errSq === 0 ? Infinity : 10 * Math.log10(wSq / errSq),
      max_abs_error: maxErr, scale_ratio: Math.max(...ss) / Math.min(...ss), per_channel,
      worst_channels: [...per_channel].sort((x, y) => y.max_abs_error - x.max_abs_error || x.channel - y.channel).slice(0, worstN).map((c) => c.channel),
    };
  });
}
