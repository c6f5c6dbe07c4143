/**
 * Why a stage cannot start now, in the user's terms, one place for every button that starts one (Train, Evaluate,
 * Calibrate, Run QAT, Run deployment check): a disabled button shows its reason next to it. Pure.
 */
import { MODEL_NAMES } from '../../models/zoo.ts';
import { validateConfig, type TrainJobConfig } from '../../train/protocol.ts';
import { formatInt } from '../format.ts';
import { dataLabelled, inputShapeOf } from '../store/data-slice.ts';
import { deploySettingErrors } from '../store/deploy-slice.ts';
import { modelIdOf } from '../store/model-slice.ts';
import type { StudioState } from '../store/studio-store.ts';
import { jobLive, scopeInSync } from '../scope/scope-controller.ts';
import { numberErrors, SETTING_LABELS } from './quant/quant-settings-rules.ts';

export type Stage = 'train' | 'evaluate' | 'calibrate' | 'qat' | 'deploy';
export type ConfigErrors = Partial<Record<keyof TrainJobConfig, string>>;

const LABELS: Partial<Record<keyof TrainJobConfig, string>> = {
  trainImages: 'Train images', testImages: 'Test images', epochs: 'Epochs', batchSize: 'Batch size', lr: 'Learning rate', seed: 'Seed',
  optimizer: 'Optimizer', schedule: 'LR schedule', model: 'Model',
};

/** The imported model does not fit the loaded data (input shape or classes); null when it does or a zoo model is chosen. */
export function modelDataMismatch(s: StudioState): string | null {
  const m = s.imported;
  if (!m || !s.data.summary) return null;
  const want = m.inputShape.join('x'), have = inputShapeOf(s.data).join('x');
  if (want !== have) return `${m.file} takes ${want} inputs; the loaded data is ${have}: load ${want} data (or import the model with a matching input shape).`;
  const classes = s.data.summary.classNames.length;
  if (dataLabelled(s.data) && m.graph.numClasses !== classes) return `${m.file} has ${m.graph.numClasses} classes; the loaded data has ${classes}.`;
  return null;
}

/** Problems with the training settings, keyed by field (the form shows them; empty when a run can start). */
export function trainConfigErrors(s: StudioState, config: TrainJobConfig): ConfigErrors {
  const e: ConfigErrors = validateConfig(config, s.imported ? [...MODEL_NAMES, modelIdOf(s)] : MODEL_NAMES);
  const mismatch = modelDataMismatch(s);
  if (mismatch) e.model = mismatch;
  return e;
}

const listErrors = (e: Record<string, string | undefined>, labels: Record<string, string | undefined>) =>
  Object.entries(e).filter(([, v]) => v).map(([k, v]) => (k === 'model' ? v : `${labels[k] ?? k}: ${v}`)).join('; ');

/**
 * Notes on settings that are valid but not taken literally: more images requested than the loaded split has
 * (a run uses them all, as the CLI's --subset does).
 */
export function trainConfigNotes(s: StudioState, config: TrainJobConfig): Partial<Record<'trainImages' | 'testImages', string>> {
  const out: Partial<Record<'trainImages' | 'testImages', string>> = {};
  const sum = s.data.summary;
  if (!sum) return out;
  for (const [k, have] of [['trainImages', sum.trainCount], ['testImages', sum.testCount]] as const) {
    const want = config[k];
    if (Number.isFinite(want) && want > have) out[k] = `${formatInt(want)} requested; the loaded data has ${formatInt(have)}: all ${formatInt(have)} are used`;
  }
  return out;
}

/** The reason `stage` cannot start now, or null when it can. `config` is the float run's (for train / evaluate). */
export function stageBlocker(s: StudioState, stage: Stage, config: TrainJobConfig): string | null {
  if (jobLive(s)) return 'Another job is running: wait for it to finish or cancel it.';
  if (s.data.status !== 'ready') return 'Waiting for the data to load.';
  if (!scopeInSync(s)) return 'Switching the results to the model and data on screen…';
  const mismatch = modelDataMismatch(s);
  if (mismatch) return mismatch;
  const model = s.imported ? s.imported.file : s.modelName;
  const hasFloat = !!s.checkpoints.float;
  switch (stage) {
    case 'train':
    case 'evaluate': {
      if (s.backend.status !== 'ready') return 'Starting the compute backend…';
      const e = trainConfigErrors(s, config);
      if (stage === 'train' && config.epochs > 0 && s.data.summary && !dataLabelled(s.data)) {
        return `Training needs labels, and ${s.data.summary.name} has none: evaluate an imported model's own weights (Evaluate, or 0 epochs) instead, then calibrate and distill.`;
      }
      if (stage === 'evaluate') {
        if (!hasFloat && !s.imported) return `${model} has no trained weights on this data yet: train it first.`;
        const { testImages, batchSize } = e;
        const only = { ...(testImages ? { testImages } : {}), ...(batchSize ? { batchSize } : {}) };
        return Object.keys(only).length ? `Fix the settings: ${listErrors(only, LABELS)}.` : null;
      }
      return Object.keys(e).length ? `Fix the settings: ${listErrors(e, LABELS)}.` : null;
    }
    case 'calibrate':
    case 'qat': {
      if (!hasFloat) {
        return s.imported ? `Evaluate ${model} first (step 3): ${stage === 'qat' ? 'QAT' : 'calibration'} starts from its evaluated float weights.`
          : `Train ${model} on this data first (step 3).`;
      }
      const e = numberErrors(s.quant.settings);
      return Object.keys(e).length ? `Fix the quantization settings: ${listErrors(e, SETTING_LABELS)}.` : null;
    }
    case 'deploy': {
      const c = s.checkpoints, src = s.deploy.settings.source;
      if (src === 'qat' ? !c.qat : src === 'calib' ? !c.calib : !c.qat && !c.calib) {
        return src === 'qat' ? 'Run QAT first (step 4).' : src === 'calib' ? 'Calibrate first (step 4).' : 'Calibrate or run QAT first (step 4).';
      }
      const e = deploySettingErrors(s.deploy.settings);
      return Object.keys(e).length ? `Fix the settings: ${listErrors(e, { images: 'Images', batchSize: 'Batch size' })}.` : null;
    }
  }
}
