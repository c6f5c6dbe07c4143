/**
 * Quantization intents (calibrate, QAT, cancel) from the store's settings to the training worker, and
 * the worker's quant-* and checkpoint messages back into the store. No React here.
 */
import type { TrainingClient } from '../../../train/client.ts';
import { errorText } from '../../../train/protocol.ts';
import type { CalibJobConfig, QatJobConfig, QuantSettings } from '../../../train/quant-protocol.ts';
import type { StudioState, StudioStore } from '../../store/studio-store.ts';
import { sameScope } from '../../../train/protocol.ts';
import { currentScope, toResultScope } from '../../scope/identity.ts';
import { stageBlocker } from '../stage-blockers.ts';
import { qatDistills } from './quant-settings-rules.ts';
import { quantRunOf } from '../runs/record-run.ts';
import type { QuantSettingsState } from '../../store/quant-slice.ts';
import { autoCalibCandidates } from './quant-settings-rules.ts';

export const TORCH_IMPORT_FILES = ['weights.safetensors', 'qparams.json', 'studio-graph.json'] as const;

export interface QuantController {
  calibrate(): boolean;
  qat(): boolean;
  /** A PyTorch QAT result: the files train_qat.py writes (weights.safetensors, qparams.json, studio-graph.json). */
  importTorch(files: readonly File[]): Promise<boolean>;
  cancel(): void;
  dispose(): void;
}

export function quantSettingsOf(s: StudioState): QuantSettings {
  const q = s.quant.settings;
  return {
    march: q.march, template: q.template, observer: q.observer || null, overrides: q.overrides,
    quantStubScale: s.data.prep.yuv ? 1 / 128 : null, weightBits: q.weightBits,
  };
}

/** The model and data on screen, as a job's config names them. */
function scopeOf(s: StudioState) {
  const c = currentScope(s);
  return c ? { scope: toResultScope(c) } : {};
}

export function calibConfigOf(s: StudioState): CalibJobConfig {
  const q = s.quant.settings;
  const adaround = q.adaroundSteps > 0
    ? {
      numSteps: q.adaroundSteps, numBatches: q.adaroundBatches, warmUp: q.adaroundWarmUp, weight: q.adaroundWeight,
      excludePrefix: q.adaroundExclude.split(',').map((p) => p.trim()).filter(Boolean),
    }
    : null;
  const ptq = q.autoCalib || adaround ? { autoCalib: q.autoCalib ? { candidates: autoCalibCandidates(q), criterion: q.autoCalibCriterion, gate: q.autoCalibGate } : null, adaround } : undefined;
  return { quant: quantSettingsOf(s), batches: q.calibBatches, batchSize: q.calibBatchSize, testImages: s.settings.testImages, ...(ptq ? { ptq } : {}), ...scopeOf(s) };
}

export function qatConfigOf(s: StudioState): QatJobConfig {
  const q = s.quant.settings;
  const template = q.template.replace('default_calibration', 'default_qat');
  return {
    quant: { ...quantSettingsOf(s), template }, epochs: q.qatEpochs, batchSize: s.settings.batchSize, lr: q.qatLr,
    optimizer: 'sgd', seed: s.settings.seed, trainImages: q.qatTrainImages, testImages: s.settings.testImages,
    histogramImages: q.calibBatches * q.calibBatchSize, ...scopeOf(s),
    distill: qatDistills(s) ? { loss: q.distillLoss ?? 'mse', featureWeight: q.featureWeight ?? 0 } : null,
  };
}

export function createQuantController(store: StudioStore, client: TrainingClient, beforeJob: () => void): QuantController {
  const st = () => store.getState();
  let started: QuantSettingsState | null = null;
  const unsubscribe = client.subscribe((m) => {
    if (m.type === 'checkpoint') {
      const here = st().scope;
      if (m.scope && here && !sameScope(m.scope, here)) {
        // Cannot happen while the page waits for jobs before switching; if it does, the checkpoint is not this page's.
        st().projectError(`ignored a ${m.stage} checkpoint of ${m.scope.model} on ${m.scope.data}: the page shows ${here.modelLabel} on ${here.dataLabel}`);
        return;
      }
      if (m.stage === 'float') st().clearQuantResults();
      st().setCheckpoint(m.stage, m.bytes);
    } else if (m.type.startsWith('quant-')) {
      st().applyQuantMessage(m);
      if (m.type === 'quant-done') {
        // Every finished calibration / QAT is kept as a run, with the settings it started with.
        const rec = started ? quantRunOf(st(), m.stage, started) : null;
        if (rec) st().addRun(rec);
        st().touchProject();
      }
      if (m.type === 'quant-done' || m.type === 'quant-cancelled' || m.type === 'quant-error') started = null;
    }
  });
  const begin = (stage: 'calib' | 'qat', send: () => void): boolean => {
    if (client.job !== null || st().quant.job.status !== 'idle') return false;
    if (stageBlocker(st(), stage === 'calib' ? 'calibrate' : 'qat', { ...st().settings, model: '' }) !== null) return false;
    st().beginQuantJob(stage);
    started = { ...st().quant.settings };
    try {
      beforeJob();
      send();
    } catch (e) {
      st().applyQuantMessage({ type: 'quant-error', stage, message: errorText(e) });
      return false;
    }
    return true;
  };
  return {
    calibrate: () => begin('calib', () => client.calibrate(calibConfigOf(st()))),
    qat: () => begin('qat', () => client.qat(qatConfigOf(st()))),
    async importTorch(list) {
      const byName = new Map(list.map((f) => [f.name, f]));
      const missing = TORCH_IMPORT_FILES.filter((n) => !byName.has(n));
      if (missing.length) {
        st().applyQuantMessage({ type: 'quant-error', stage: 'qat', message: `choose the files train_qat.py wrote: ${missing.join(', ')} missing` });
        return false;
      }
      const read = async (n: (typeof TORCH_IMPORT_FILES)[number]) => ({ name: n, bytes: new Uint8Array(await byName.get(n)!.arrayBuffer()) });
      const files = { 'weights.safetensors': await read('weights.safetensors'), 'qparams.json': await read('qparams.json'), 'studio-graph.json': await read('studio-graph.json') };
      return begin('qat', () => client.importTorch(files, st().settings.testImages));
    },
    cancel() {
      if (st().quant.job.status !== 'running') return;
      st().requestQuantCancel();
      client.cancel();
    },
    dispose: unsubscribe,
  };
}
