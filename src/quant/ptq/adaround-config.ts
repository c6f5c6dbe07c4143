/**
 * AdaRound's parameters, named as in horizon_plugin_pytorch's calibration guide (num_batches, num_steps,
 * warm_up, weight, b_range, exclude_prefix), plus the learning rate of the rounding variables (Adam).
 * One source for the CLI, the page and the report.
 */
export interface AdaRoundConfig {
  /** Calibration batches cached per layer (inputs from the quantized model, targets from the float model). */
  numBatches: number;
  /** Optimisation steps per layer (one cached batch per step, in turn). */
  numSteps: number;
  /** Share of the steps before the rounding regularizer starts. */
  warmUp: number;
  /** Weight of the rounding regularizer. */
  weight: number;
  /** beta of the regularizer, annealed from the first to the second value. */
  bRange: [number, number];
  /** Layers (node ids) starting with one of these keep round-to-nearest. */
  excludePrefix: string[];
  /** Adam learning rate of the rounding variables V. */
  lr: number;
  /** Images per cached batch. */
  batchSize: number;
}

export const ADAROUND_DEFAULTS: AdaRoundConfig = {
  numBatches: 4, numSteps: 500, warmUp: 0.2, weight: 0.01, bRange: [20, 2], excludePrefix: [], lr: 0.01, batchSize: 128,
};

export class AdaRoundConfigError extends Error {}

export function resolveAdaRoundConfig(c: Partial<AdaRoundConfig> = {}): AdaRoundConfig {
  const given = Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as Partial<AdaRoundConfig>;
  const r: AdaRoundConfig = { ...ADAROUND_DEFAULTS, ...given, excludePrefix: [...(c.excludePrefix ?? [])], bRange: [...(c.bRange ?? ADAROUND_DEFAULTS.bRange)] as [number, number] };
  const posInt = (k: 'numBatches' | 'numSteps' | 'batchSize') => {
    if (!Number.isInteger(r[k]) || r[k] < 1) throw new AdaRoundConfigError(`AdaRound ${k} must be a positive integer, got ${r[k]}`);
  };
  posInt('numBatches');
  posInt('numSteps');
  posInt('batchSize');
  if (!(r.warmUp >= 0 && r.warmUp < 1)) throw new AdaRoundConfigError(`AdaRound warm_up must be in [0, 1), got ${r.warmUp}`);
  if (!(r.weight >= 0) || !Number.isFinite(r.weight)) throw new AdaRoundConfigError(`AdaRound weight must be >= 0, got ${r.weight}`);
  if (!(r.lr > 0) || !Number.isFinite(r.lr)) throw new AdaRoundConfigError(`AdaRound lr must be > 0, got ${r.lr}`);
  if (r.bRange.length !== 2 || !r.bRange.every((b) => b >= 1 && Number.isFinite(b))) {
    throw new AdaRoundConfigError(`AdaRound b_range must be two numbers >= 1, got ${r.bRange.join(',')}`);
  }
  return r;
}
