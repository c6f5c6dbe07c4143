/**
 * Precision analysis in the page: its settings, the job in flight (phase, progress), the last result (bad cases with
 * their images, the layer table, weights, the sensitivity ranking, the mixed-precision curve) and the last "int16 for
 * top K" check. A result names the model, data and checkpoint it belongs to; new checkpoints or other data clear it
 * (analysis-controller.ts). Worker messages fold in through applyAnalysisMessage.
 */
import { DISTANCE_METRICS, type DistanceMetric } from '../../quant/analysis/distance.ts';
import { ANALYSIS_LIMITS, type AnalysisCompare, type AnalysisResult, type Int16Result } from '../../train/analysis-protocol.ts';
import type { WorkerMessage } from '../../train/protocol.ts';
import type { SliceCreator } from './types.ts';

export interface AnalysisSettings {
  compare: AnalysisCompare;
  metric: DistanceMetric;
  images: number;
  badCases: number;
  batchSize: number;
  sensitivity: boolean;
  mixedPrecision: boolean;
  calibImages: number;
  /** How many of the ranking's top sites the one-click check puts in int16. */
  topK: number;
}

export const DEFAULT_ANALYSIS_SETTINGS: Readonly<AnalysisSettings> = Object.freeze({
  compare: 'float-calib', metric: 'cosine', images: 256, badCases: 12, batchSize: 128, sensitivity: true, mixedPrecision: true, calibImages: 256, topK: 1,
});

export interface AnalysisJob {
  status: 'idle' | 'running' | 'cancelling';
  kind: 'analyze' | 'int16' | null;
  outcome: 'done' | 'cancelled' | 'error' | null;
  phase: string;
  done: number;
  total: number;
  error: string | null;
}

export const IDLE_ANALYSIS_JOB: AnalysisJob = Object.freeze({ status: 'idle', kind: null, outcome: null, phase: '', done: 0, total: 0, error: null }) as AnalysisJob;

export interface AnalysisState {
  settings: AnalysisSettings;
  job: AnalysisJob;
  result: AnalysisResult | null;
  int16: Int16Result | null;
  /** What the result belongs to (analysis-binding.ts): checkpoints, data and preprocessing, as a key. */
  key: string | null;
}

export const INITIAL_ANALYSIS: AnalysisState = { settings: { ...DEFAULT_ANALYSIS_SETTINGS }, job: IDLE_ANALYSIS_JOB, result: null, int16: null, key: null };

/** What a saved project keeps of the analysis. */
export type SavedAnalysis = Pick<AnalysisState, 'settings' | 'result' | 'int16' | 'key'>;

export interface AnalysisSlice {
  analysis: AnalysisState;
  setAnalysisSetting<K extends keyof AnalysisSettings>(k: K, v: AnalysisSettings[K]): void;
  /** A job starts on the models and data of `key`. */
  beginAnalysis(kind: 'analyze' | 'int16', key?: string): void;
  requestAnalysisCancel(): void;
  applyAnalysisMessage(m: WorkerMessage): void;
  analysisFailed(message: string): void;
  /** The model or data changed: the result belonged to the old ones. */
  clearAnalysis(): void;
  /** Restores a saved analysis (project reload or import). */
  restoreAnalysis(saved: SavedAnalysis): void;
}

/** Problems with the settings, keyed by field (empty when valid). */
export function analysisSettingErrors(s: AnalysisSettings): Partial<Record<keyof AnalysisSettings, string>> {
  const e: Partial<Record<keyof AnalysisSettings, string>> = {};
  for (const k of ['images', 'badCases', 'batchSize', 'calibImages'] as const) {
    const [lo, hi] = ANALYSIS_LIMITS[k];
    const v = s[k];
    if (!Number.isFinite(v) || !Number.isInteger(v)) e[k] = 'must be a whole number';
    else if (v < lo || v > hi) e[k] = `must be between ${lo} and ${hi}`;
  }
  if (!Number.isInteger(s.topK) || s.topK < 1) e.topK = 'must be a whole number ≥ 1';
  if (!(DISTANCE_METRICS as readonly string[]).includes(s.metric)) e.metric = `unknown metric "${s.metric}"`;
  return e;
}

export const createAnalysisSlice: SliceCreator<AnalysisSlice> = (set) => {
  const upd = (f: (a: AnalysisState) => Partial<AnalysisState>) => set((s) => ({ analysis: { ...s.analysis, ...f(s.analysis) } }));
  const live = (a: AnalysisState) => a.job.status !== 'idle';
  return {
    analysis: INITIAL_ANALYSIS,
    setAnalysisSetting(k, v) {
      upd((a) => ({ settings: { ...a.settings, [k]: v } }));
    },
    beginAnalysis(kind, key) {
      upd((a) => ({ job: { ...IDLE_ANALYSIS_JOB, status: 'running', kind }, ...(kind === 'analyze' ? { result: null, int16: null, key: key ?? null } : { int16: null }), settings: a.settings }));
    },
    requestAnalysisCancel() {
      upd((a) => (a.job.status === 'running' ? { job: { ...a.job, status: 'cancelling' } } : {}));
    },
    applyAnalysisMessage(m) {
      upd((a): Partial<AnalysisState> => {
        switch (m.type) {
          case 'analysis-progress':
            return live(a) ? { job: { ...a.job, phase: m.phase, done: m.done, total: m.total } } : {};
          case 'analysis-done':
            return live(a) ? { result: m.result, job: { ...a.job, status: 'idle', outcome: 'done' } } : {};
          case 'analysis-int16-done':
            return live(a) ? { int16: m.result, job: { ...a.job, status: 'idle', outcome: 'done' } } : {};
          case 'analysis-cancelled':
            return live(a) ? { job: { ...a.job, status: 'idle', outcome: 'cancelled' } } : {};
          case 'analysis-error':
            return { job: { ...a.job, status: 'idle', outcome: 'error', error: m.message } };
          default:
            return {};
        }
      });
    },
    analysisFailed(message) {
      upd((a) => ({ job: { ...a.job, status: 'idle', outcome: 'error', error: message } }));
    },
    clearAnalysis() {
      upd((a) => (live(a) ? {} : { job: IDLE_ANALYSIS_JOB, result: null, int16: null, key: null }));
    },
    restoreAnalysis(saved) {
      upd(() => ({ settings: { ...DEFAULT_ANALYSIS_SETTINGS, ...saved.settings }, result: saved.result, int16: saved.int16, key: saved.key, job: IDLE_ANALYSIS_JOB }));
    },
  };
};
