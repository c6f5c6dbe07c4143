/**
 * Observers and the factory `createObserver(name, cfg)`.
 *
 * PyTorch-compatible (bit-exact with torch 1.13 on the conformance cases): 'minmax', 'moving_average_minmax'
 * (also Horizon's default calibration observer, averaging constant 0.01), 'per_channel_minmax', 'histogram'.
 * Horizon-style calibration: 'fixed_scale', 'clip', 'percentile', 'clip_std', 'mse', 'kl', 'mix'.
 * The default config is Horizon's: qint8, per_tensor_symmetric (per_channel_symmetric for per_channel_minmax).
 */
import type { Observer, ObserverConfig } from './base.ts';
import { ClipObserver } from './clip.ts';
import { ClipStdObserver } from './clip-std.ts';
import { FixedScaleObserver } from './fixed-scale.ts';
import { HistogramObserver } from './histogram.ts';
import { KLObserver } from './kl.ts';
import { MinMaxObserver } from './minmax.ts';
import { MixObserver } from './mix.ts';
import { MovingAverageMinMaxObserver } from './moving-average-minmax.ts';
import { MSEObserver } from './mse.ts';
import { PercentileObserver } from './percentile.ts';
import { PerChannelMinMaxObserver } from './per-channel-minmax.ts';

export type { Observer, ObserverConfig } from './base.ts';
export {
  ClipObserver,
  ClipStdObserver,
  FixedScaleObserver,
  HistogramObserver,
  KLObserver,
  MinMaxObserver,
  MixObserver,
  MovingAverageMinMaxObserver,
  MSEObserver,
  PercentileObserver,
  PerChannelMinMaxObserver,
};

export const OBSERVER_NAMES = [
  'minmax',
  'moving_average_minmax',
  'per_channel_minmax',
  'histogram',
  'fixed_scale',
  'clip',
  'percentile',
  'clip_std',
  'mse',
  'kl',
  'mix',
] as const;

export type ObserverName = (typeof OBSERVER_NAMES)[number];

export function isObserverName(s: string): s is ObserverName {
  return (OBSERVER_NAMES as readonly string[]).includes(s);
}

export function createObserver(name: ObserverName | string, cfg: ObserverConfig = {}): Observer {
  switch (name) {
    case 'minmax':
      return new MinMaxObserver(cfg);
    case 'moving_average_minmax':
      return new MovingAverageMinMaxObserver(cfg);
    case 'per_channel_minmax':
      return new PerChannelMinMaxObserver(cfg);
    case 'histogram':
      return new HistogramObserver(cfg);
    case 'fixed_scale':
      return new FixedScaleObserver(cfg);
    case 'clip':
      return new ClipObserver(cfg);
    case 'percentile':
      return new PercentileObserver(cfg);
    case 'clip_std':
      return new ClipStdObserver(cfg);
    case 'mse':
      return new MSEObserver(cfg);
    case 'kl':
      return new KLObserver(cfg);
    case 'mix':
      return new MixObserver(cfg, createObserver);
    default:
      throw new Error(`unknown observer ${name} (known: ${OBSERVER_NAMES.join(', ')})`);
  }
}
