/**
 * Kind runners of the observers: `observer_minmax`, `observer_moving_average_minmax`,
 * `observer_per_channel_minmax` (bit-exact) and `observer_histogram`.
 *
 * observer_histogram tolerances: the README asks for the scale within 1e-3 relative. The TS port copies the torch
 * 1.13 histc-with-int()-truncated-range quirk and the float32 merge, so it is in fact bit-exact on the shipped cases;
 * we check `histogram`, `min_val`, `max_val` exactly, and `search_min`/`search_max`/`scale` within 1e-3 (relative to
 * max(|min_val|, |max_val|) for the search bounds, to the value for the scale) and the zero point within ±1 (a 1e-3
 * scale difference can move an affine zero point by one).
 */
import { HistogramObserver } from '../../quant/observers/histogram.ts';
import { MinMaxObserver } from '../../quant/observers/minmax.ts';
import { MovingAverageMinMaxObserver } from '../../quant/observers/moving-average-minmax.ts';
import { PerChannelMinMaxObserver } from '../../quant/observers/per-channel-minmax.ts';
import type { Observer, ObserverConfig } from '../../quant/observers/base.ts';
import type { QDtype, QScheme } from '../../qmath/qparams.ts';
import type { CaseFile, CaseResult, KindRunner } from '../types.ts';
import { compare, isCaseTensor, numbers, result } from './common.ts';

interface TorchObserverConfig {
  class?: string;
  dtype?: string;
  qscheme?: string;
  quant_min?: number;
  quant_max?: number;
  reduce_range?: boolean;
  eps?: number;
  averaging_constant?: number;
  ch_axis?: number;
  bins?: number;
  upsample_rate?: number;
}

/** Case `params.config` (PyTorch names) -> ObserverConfig. */
export function observerConfigFromCase(c: CaseFile): ObserverConfig {
  const cfg = (c.params.config ?? {}) as TorchObserverConfig;
  const out: ObserverConfig = {
    dtype: (cfg.dtype ?? 'quint8').replace(/^torch\./, '') as QDtype,
    qscheme: (cfg.qscheme ?? 'per_tensor_affine').replace(/^torch\./, '') as QScheme,
  };
  if (cfg.quant_min !== undefined && cfg.quant_max !== undefined) {
    out.quantMin = cfg.quant_min;
    out.quantMax = cfg.quant_max;
  } else out.reduceRange = cfg.reduce_range ?? false;
  if (cfg.eps !== undefined) out.eps = cfg.eps;
  if (cfg.averaging_constant !== undefined) out.averagingConstant = cfg.averaging_constant;
  if (cfg.ch_axis !== undefined) out.chAxis = cfg.ch_axis;
  if (cfg.bins !== undefined) out.bins = cfg.bins;
  if (cfg.upsample_rate !== undefined) out.upsampleRate = cfg.upsample_rate;
  return out;
}

function feed(c: CaseFile, obs: Observer): void {
  const batches = c.inputs.batches;
  if (!Array.isArray(batches)) throw new Error('inputs.batches is missing or not a list');
  for (const [i, b] of batches.entries()) {
    if (!isCaseTensor(b)) throw new Error(`inputs.batches[${i}] is not a tensor`);
    obs.observe(Float32Array.from(b.data as number[]), b.shape);
  }
}

function exactObserverRunner(make: (cfg: ObserverConfig) => Observer): KindRunner {
  return async (c: CaseFile): Promise<CaseResult> => {
    const obs = make(observerConfigFromCase(c));
    feed(c, obs);
    const qp = obs.calculateQParams();
    const e = c.expected;
    return result([
      compare('scale', numbers(e, 'scale', 'expected'), qp.scale),
      compare('zero_point', numbers(e, 'zero_point', 'expected'), qp.zeroPoint),
      compare('min_val', numbers(e, 'min_val', 'expected'), obs.minVal),
      compare('max_val', numbers(e, 'max_val', 'expected'), obs.maxVal),
    ]);
  };
}

export const observerHistogramCpu: KindRunner = async (c: CaseFile): Promise<CaseResult> => {
  const obs = new HistogramObserver(observerConfigFromCase(c));
  feed(c, obs);
  const e = c.expected;
  const checks = [
    compare('min_val', numbers(e, 'min_val', 'expected'), obs.minVal),
    compare('max_val', numbers(e, 'max_val', 'expected'), obs.maxVal),
  ];
  if (e.histogram !== undefined) checks.push(compare('histogram', numbers(e, 'histogram', 'expected'), obs.histogram));
  const initialized = obs.initialized;
  if (initialized && (e.search_min !== undefined || e.search_max !== undefined)) {
    const [lo, hi] = obs.nonLinearParamSearch();
    const mag = Math.max(Math.abs(obs.minVal[0]), Math.abs(obs.maxVal[0]));
    const tol = { abs: 1e-3 * mag };
    if (e.search_min !== undefined) checks.push(compare('search_min', numbers(e, 'search_min', 'expected'), [lo], tol));
    if (e.search_max !== undefined) checks.push(compare('search_max', numbers(e, 'search_max', 'expected'), [hi], tol));
  }
  const qp = obs.calculateQParams();
  checks.push(compare('scale', numbers(e, 'scale', 'expected'), qp.scale, { rel: 1e-3 }));
  checks.push(compare('zero_point', numbers(e, 'zero_point', 'expected'), qp.zeroPoint, { abs: 1 }));
  return result(checks);
};

export const observerCpuKinds: Record<string, KindRunner> = {
  observer_minmax: exactObserverRunner((cfg) => new MinMaxObserver(cfg)),
  observer_moving_average_minmax: exactObserverRunner((cfg) => new MovingAverageMinMaxObserver(cfg)),
  observer_per_channel_minmax: exactObserverRunner((cfg) => new PerChannelMinMaxObserver(cfg)),
  observer_histogram: observerHistogramCpu,
};
