/** The Quantize panel's numeric settings: labels, limits, and the problems of the values typed. */
import type { QuantSettingsState } from '../../store/quant-slice.ts';
import { parseCandidate } from '../../../quant/ptq/auto-calib-candidates.ts';
import type { StudioState } from '../../store/studio-store.ts';
import { dataLabelled } from '../../store/data-slice.ts';

/** Whether QAT distills: chosen, or forced by data without labels (cross-entropy has nothing to learn from). */
export function qatDistills(s: Pick<StudioState, 'quant' | 'data'>): boolean {
  return !!s.quant.settings.qatDistill || (!!s.data.summary && !dataLabelled(s.data));
}

export type Num = 'calibBatches' | 'calibBatchSize' | 'adaroundSteps' | 'adaroundBatches' | 'adaroundWarmUp' | 'adaroundWeight' | 'qatEpochs' | 'qatLr' | 'qatTrainImages' | 'featureWeight';
export const NUMS: { k: Num; label: string; min: number; max: number; step: number | 'any'; testId: string }[] = [
  { k: 'calibBatches', label: 'Calibration batches', min: 1, max: 1000, step: 1, testId: 'quant-calib-batches' },
  { k: 'calibBatchSize', label: 'Calibration batch size', min: 1, max: 1024, step: 1, testId: 'quant-calib-batch-size' },
  { k: 'adaroundSteps', label: 'AdaRound steps per layer (0 = off)', min: 0, max: 20000, step: 1, testId: 'quant-adaround-steps' },
  { k: 'adaroundBatches', label: 'AdaRound batches (num_batches)', min: 1, max: 1000, step: 1, testId: 'quant-adaround-batches' },
  { k: 'adaroundWarmUp', label: 'AdaRound warm_up', min: 0, max: 0.99, step: 'any', testId: 'quant-adaround-warm-up' },
  { k: 'adaroundWeight', label: 'AdaRound regularizer weight', min: 0, max: 10, step: 'any', testId: 'quant-adaround-weight' },
  { k: 'qatEpochs', label: 'QAT epochs', min: 1, max: 100, step: 1, testId: 'quant-qat-epochs' },
  { k: 'qatLr', label: 'QAT learning rate (SGD)', min: 1e-7, max: 1, step: 'any', testId: 'quant-qat-lr' },
  { k: 'qatTrainImages', label: 'QAT train images', min: 1, max: 60000, step: 1, testId: 'quant-qat-images' },
  { k: 'featureWeight', label: 'Distillation: feature weight (0 = output only)', min: 0, max: 100, step: 'any', testId: 'quant-feature-weight' },
];

/** Every checked setting's label, for the messages that list the problems. */
export const SETTING_LABELS: Record<Num | 'autoCalibObservers', string> = {
  ...(Object.fromEntries(NUMS.map((n) => [n.k, n.label])) as Record<Num, string>),
  autoCalibObservers: 'Automatic calibration candidates',
};

export function numberErrors(q: QuantSettingsState): Partial<Record<Num | 'autoCalibObservers', string>> {
  const out: Partial<Record<Num | 'autoCalibObservers', string>> = {};
  if (q.autoCalib) {
    const bad = paramCandidates(q).map((c) => { try { parseCandidate(c); return null; } catch (e) { return (e as Error).message.replace(/^automatic calibration: /, ''); } }).find(Boolean);
    if (bad) out.autoCalibObservers = bad;
    else if (!autoCalibCandidates(q).length) out.autoCalibObservers = 'pick at least one observer';
  }
  for (const n of NUMS) {
    const v = q[n.k] ?? 0;
    if (!Number.isFinite(v)) out[n.k] = 'must be a number';
    else if (n.step === 1 && !Number.isInteger(v)) out[n.k] = 'must be a whole number';
    else if (v < n.min || v > n.max) out[n.k] = `must be between ${n.min} and ${n.max}`;
  }
  return out;
}

const paramCandidates = (q: QuantSettingsState) => q.autoCalibParams.split(',').map((c) => c.trim()).filter(Boolean);

/** The candidates automatic calibration tries: the observers ticked, then those typed with a parameter. */
export function autoCalibCandidates(q: QuantSettingsState): string[] {
  return [...new Set([...q.autoCalibObservers, ...paramCandidates(q)])];
}
