/**
 * Quantization: the settings (march, qconfig template, observer, per-node overrides, calibration and
 * QAT sizes), the job in flight (calib or qat, with progress), and the results of each stage
 * (accuracy, scales, histograms, QAT curves). Worker messages fold in through applyQuantMessage.
 */
import type { March } from '../../qmath/march.ts';
import type { NodeOverride, WeightBits } from '../../quant/qconfig.ts';
import { ADAROUND_DEFAULTS } from '../../quant/ptq/adaround-config.ts';
import { AUTO_CALIB_DEFAULT, AUTO_CALIB_DEFAULT_CRITERION, AUTO_CALIB_DEFAULT_GATE, type AutoCalibCriterion } from '../../quant/ptq/auto-calib.ts';
import type { ActHistogram, PtqPhase, PtqResult, QuantScales, QuantStage } from '../../train/quant-protocol.ts';
import type { DistillLoss } from '../../train/distill.ts';
import type { OutputSimilarity } from '../../quant/output-similarity.ts';
import type { WorkerMessage } from '../../train/protocol.ts';
import type { EpochPoint, LossPoint } from './run-reducer.ts';
import type { SliceCreator } from './types.ts';

export interface QuantSettingsState {
  march: March;
  template: string;
  /** '' = the template's observer. */
  observer: string;
  overrides: NodeOverride[];
  calibBatches: number;
  calibBatchSize: number;
  qatEpochs: number;
  qatLr: number;
  qatTrainImages: number;
  /** Per-channel weight width. */
  weightBits: WeightBits;
  /** Automatic calibration after the observers (over autoCalibObservers), or off. */
  autoCalib: boolean;
  /** The candidate observers automatic calibration tries at each site. */
  autoCalibObservers: string[];
  /** More candidates with a parameter, as typed: comma-separated observer:parameter (percentile:99.9, clip_std:4). */
  autoCalibParams: string;
  /** What automatic calibration minimises (absent in older projects: the default). */
  autoCalibCriterion?: AutoCalibCriterion;
  /** Automatic calibration's gate, a paired z (absent in older projects: the default). */
  autoCalibGate?: number;
  /** AdaRound after calibration, with this many steps per layer (0 = off). */
  adaroundSteps: number;
  /** AdaRound's num_batches (of the calibration batch size), warm_up and weight (the guide's names). */
  adaroundBatches: number;
  adaroundWarmUp: number;
  adaroundWeight: number;
  /** AdaRound's exclude_prefix: node-id prefixes, comma-separated, whose layers keep round-to-nearest. */
  adaroundExclude: string;
  /** QAT by distillation from the float model (always on for data without labels; absent in older projects: off). */
  qatDistill?: boolean;
  distillLoss?: DistillLoss;
  /** Weight of the feature term at the quantized sites (0 = output only). */
  featureWeight: number;
}

export const DEFAULT_QUANT_SETTINGS: Readonly<QuantSettingsState> = Object.freeze({
  march: 'bayes', template: 'default_calibration', observer: '', overrides: [],
  calibBatches: 4, calibBatchSize: 64, qatEpochs: 1, qatLr: 1e-3, qatTrainImages: 1000,
  weightBits: 8, autoCalib: false, autoCalibObservers: [...AUTO_CALIB_DEFAULT], autoCalibParams: '', autoCalibCriterion: AUTO_CALIB_DEFAULT_CRITERION, autoCalibGate: AUTO_CALIB_DEFAULT_GATE, adaroundSteps: 0,
  adaroundBatches: ADAROUND_DEFAULTS.numBatches, adaroundWarmUp: ADAROUND_DEFAULTS.warmUp, adaroundWeight: ADAROUND_DEFAULTS.weight, adaroundExclude: '', qatDistill: false, distillLoss: 'mse', featureWeight: 0,
});

export interface QuantJob {
  stage: QuantStage | null;
  status: 'idle' | 'running' | 'cancelling';
  outcome: 'done' | 'cancelled' | 'error' | null;
  done: number;
  total: number;
  etaSeconds: number;
  error: string | null;
  sites: { acts: number; weights: number } | null;
  /** The PTQ algorithm the progress counts (null: observers or QAT steps). */
  phase: PtqPhase | null;
}

/** similarity: the output similarity to the float model on the test images (absent in older projects). */
export interface StageResult { acc1: number; acc5: number; seconds: number; scales: QuantScales; similarity?: OutputSimilarity[] }
/** A QAT epoch: its point of the curves, and its output SQNR to the float model (first output; NaN: not measured). */
export type QatEpochPoint = EpochPoint & { sqnr?: number; cosine?: number };
/** The kept float model's accuracy: of the run (or evaluation) that made or last evaluated it. */
export interface FloatResult { acc1: number; acc5: number; testImages: number; trainImages: number; epochs: number; how: 'trained' | 'evaluated' }
export interface CalibResult extends StageResult { histograms: ActHistogram[]; ptq?: PtqResult }
/** `histograms`: the QAT model's activations at its QAT scales (absent in projects saved before they were kept). */
export interface QatResult extends StageResult { losses: LossPoint[]; epochs: QatEpochPoint[]; histograms?: ActHistogram[] }

export interface QuantState {
  settings: QuantSettingsState;
  job: QuantJob;
  float: FloatResult | null;
  calib: CalibResult | null;
  qat: QatResult | null;
  /** Live QAT curves of the running job. */
  liveLosses: LossPoint[];
  liveEpochs: QatEpochPoint[];
}

export const IDLE_JOB: QuantJob = { stage: null, status: 'idle', outcome: null, done: 0, total: 0, etaSeconds: NaN, error: null, sites: null, phase: null };

export interface QuantSlice {
  quant: QuantState;
  setQuantSetting<K extends keyof QuantSettingsState>(k: K, v: QuantSettingsState[K]): void;
  /** Adds or replaces the override of one node id; an override with no fields removes it. */
  setOverride(o: NodeOverride): void;
  beginQuantJob(stage: QuantStage): void;
  requestQuantCancel(): void;
  applyQuantMessage(m: WorkerMessage): void;
  /** A new float model: earlier quantization results (and the old float accuracy) no longer apply. */
  clearQuantResults(): void;
  setFloatResult(r: FloatResult | null): void;
  restoreQuant(q: Pick<QuantState, 'settings' | 'calib' | 'qat'> & { float?: FloatResult | null }): void;
}

const empty = (o: NodeOverride) => !o.activation && !o.weight && o.int32Output === undefined;

export const createQuantSlice: SliceCreator<QuantSlice> = (set) => {
  const upd = (f: (q: QuantState) => Partial<QuantState>) => set((s) => ({ quant: { ...s.quant, ...f(s.quant) } }));
  return {
    quant: { settings: { ...DEFAULT_QUANT_SETTINGS }, job: IDLE_JOB, float: null, calib: null, qat: null, liveLosses: [], liveEpochs: [] },
    setQuantSetting(k, v) {
      upd((q) => ({ settings: { ...q.settings, [k]: v } }));
    },
    setOverride(o) {
      upd((q) => {
        const rest = q.settings.overrides.filter((x) => x.match !== o.match);
        return { settings: { ...q.settings, overrides: empty(o) ? rest : [...rest, o] } };
      });
    },
    beginQuantJob(stage) {
      upd(() => ({ job: { ...IDLE_JOB, stage, status: 'running' }, ...(stage === 'qat' ? { liveLosses: [], liveEpochs: [] } : {}) }));
    },
    requestQuantCancel() {
      upd((q) => (q.job.status === 'running' ? { job: { ...q.job, status: 'cancelling' } } : {}));
    },
    applyQuantMessage(m) {
      upd((q): Partial<QuantState> => {
        const live = q.job.status !== 'idle';
        switch (m.type) {
          case 'quant-started':
            return live ? { job: { ...q.job, total: m.total, sites: { acts: m.acts, weights: m.weights } } } : {};
          case 'quant-progress': {
            if (!live) return {};
            const job = { ...q.job, done: m.done, total: m.total, etaSeconds: m.etaSeconds, phase: m.phase ?? null };
            return Number.isFinite(m.loss) ? { job, liveLosses: [...q.liveLosses, { step: m.done, loss: m.loss }] } : { job };
          }
          case 'quant-epoch': {
            const per = q.job.total > 0 && q.settings.qatEpochs > 0 ? q.job.total / q.settings.qatEpochs : 0;
            const sim = m.similarity?.[0];
            return { liveEpochs: [...q.liveEpochs, { epoch: m.epoch, step: Math.round(m.epoch * per), acc1: m.acc1, acc5: m.acc5, loss: m.loss, ...(sim ? { sqnr: sim.sqnr_db, cosine: sim.cosine } : {}) }] };
          }
          case 'quant-done': {
            const job: QuantJob = { ...q.job, status: 'idle', outcome: 'done', done: q.job.total };
            const base = { acc1: m.acc1, acc5: m.acc5, seconds: m.seconds, scales: m.scales, ...(m.similarity ? { similarity: m.similarity } : {}) };
            return m.stage === 'calib'
              ? { job, calib: { ...base, histograms: m.histograms, ...(m.ptq ? { ptq: m.ptq } : {}) }, qat: null }
              : { job, qat: { ...base, losses: q.liveLosses, epochs: q.liveEpochs, ...(m.histograms.length ? { histograms: m.histograms } : {}) } };
          }
          case 'quant-cancelled':
            return { job: { ...q.job, status: 'idle', outcome: 'cancelled' } };
          case 'quant-error':
            return { job: { ...q.job, stage: m.stage, status: 'idle', outcome: 'error', error: m.message } };
          default:
            return {};
        }
      });
    },
    clearQuantResults() {
      upd(() => ({ float: null, calib: null, qat: null, liveLosses: [], liveEpochs: [], job: IDLE_JOB }));
    },
    setFloatResult(float) {
      upd(() => ({ float }));
    },
    restoreQuant(r) {
      upd(() => ({ settings: { ...DEFAULT_QUANT_SETTINGS, ...r.settings }, float: r.float ?? null, calib: r.calib, qat: r.qat, liveLosses: r.qat?.losses ?? [], liveEpochs: r.qat?.epochs ?? [] }));
    },
  };
};
