/**
 * Deployment: the check's settings (which model, which split and how many images, batch size), the job in flight
 * (progress of the comparison, the simulator's speed), the artifacts the worker made (model file, ONNX QDQ bytes,
 * performance per march) and the result (agreement, accuracy of each side, per-layer statistics worst first).
 * Worker messages fold in through applyDeployMessage; pure helpers (validation, graph overlays) are exported for
 * the panel and tests.
 */
import type { DeployCheckResult, LayerStats } from '../../quant/deploy-check.ts';
import type { DeployArtifacts, DeploySource } from '../../train/quant-protocol.ts';
import type { PredictionSamples } from '../../train/prediction-samples.ts';
import { DEPLOY_LIMITS } from '../../train/quant-protocol.ts';
import type { WorkerMessage } from '../../train/protocol.ts';
import type { Metric, Overlay } from './graph-slice.ts';
import type { SliceCreator } from './types.ts';

export interface DeploySettingsState {
  source: DeploySource;
  split: 'test' | 'train';
  images: number;
  batchSize: number;
}

export const DEFAULT_DEPLOY_SETTINGS: Readonly<DeploySettingsState> = Object.freeze({ source: 'auto', split: 'test', images: 500, batchSize: 64 });

export interface DeployJob {
  status: 'idle' | 'running' | 'cancelling';
  outcome: 'done' | 'cancelled' | 'error' | null;
  /** Images compared so far (both sides) and in all. */
  images: number;
  totalImages: number;
  /** Images the simulator ran, and its speed on the last batch (with per-layer dumps). */
  simImages: number;
  simImagesPerSecond: number;
  error: string | null;
}

export interface DeployState {
  settings: DeploySettingsState;
  job: DeployJob;
  artifacts: DeployArtifacts | null;
  result: DeployCheckResult | null;
  /** What the check saw image by image (confusion matrices, float / simulator disagreements); null before one. */
  samples: PredictionSamples | null;
  /** The per-layer metric the table highlights and the graph is coloured by on a row click. */
  metric: Metric;
}

export const IDLE_DEPLOY_JOB: DeployJob = Object.freeze({
  status: 'idle', outcome: null, images: 0, totalImages: 0, simImages: 0, simImagesPerSecond: NaN, error: null,
}) as DeployJob;

export const INITIAL_DEPLOY: DeployState = { settings: { ...DEFAULT_DEPLOY_SETTINGS }, job: IDLE_DEPLOY_JOB, artifacts: null, result: null, samples: null, metric: 'sqnr' };

/** What a saved project keeps of the deployment: the last check's settings, files and result. */
export type SavedDeploy = Pick<DeployState, 'settings' | 'artifacts'> & { result: DeployCheckResult; samples?: PredictionSamples | null };

export interface DeploySlice {
  deploy: DeployState;
  setDeploySetting<K extends keyof DeploySettingsState>(k: K, v: DeploySettingsState[K]): void;
  setDeployMetric(m: Metric): void;
  /** A check was requested: earlier artifacts and results go. */
  beginDeploy(): void;
  requestDeployCancel(): void;
  applyDeployMessage(m: WorkerMessage): void;
  /** Restores a saved check (project reload or import). */
  restoreDeploy(saved: SavedDeploy): void;
  /** One simulator batch finished (SimClient progress). */
  deploySimProgress(p: { images: number; imagesPerSecond: number }): void;
  /** The check failed outside the worker's own messages (the simulator, the client). */
  deployFailed(message: string): void;
  /** New checkpoints: the artifacts and results belonged to the old model. */
  clearDeploy(): void;
}

/** Problems with the settings, keyed by field (empty when valid). */
export function deploySettingErrors(s: DeploySettingsState): Partial<Record<keyof DeploySettingsState, string>> {
  const e: Partial<Record<keyof DeploySettingsState, string>> = {};
  for (const k of ['images', 'batchSize'] as const) {
    const [lo, hi] = DEPLOY_LIMITS[k];
    const v = s[k];
    if (!Number.isFinite(v) || !Number.isInteger(v)) e[k] = 'must be a whole number';
    else if (v < lo || v > hi) e[k] = `must be between ${lo} and ${hi}`;
  }
  return e;
}

/** The metric's value of a layer (the graph overlay's and the table's units). */
export function metricOf(l: LayerStats, m: Metric): number {
  return m === 'cosine' ? l.cosine : m === 'sqnr' ? l.sqnr_db : l.max_lsb;
}

/**
 * The graph overlays of a result, one per metric, keyed by node id. A layer the simulator reproduces exactly has
 * an infinite SQNR: it is drawn at the best finite SQNR of the model (or 100 dB when every layer is exact), so
 * the colour scale keeps a finite domain.
 */
export function overlaysOf(layers: LayerStats[]): Record<Metric, Overlay> {
  const finite = layers.map((l) => l.sqnr_db).filter(Number.isFinite);
  const best = finite.length ? Math.max(...finite) : 100;
  const out: Record<Metric, Overlay> = { cosine: {}, sqnr: {}, maxLsb: {} };
  for (const l of layers) {
    out.cosine[l.name] = l.cosine;
    out.sqnr[l.name] = Number.isFinite(l.sqnr_db) ? l.sqnr_db : best;
    out.maxLsb[l.name] = l.max_lsb;
  }
  return out;
}

export const createDeploySlice: SliceCreator<DeploySlice> = (set) => {
  const upd = (f: (d: DeployState) => Partial<DeployState>) => set((s) => ({ deploy: { ...s.deploy, ...f(s.deploy) } }));
  const live = (d: DeployState) => d.job.status !== 'idle';
  return {
    deploy: INITIAL_DEPLOY,
    setDeploySetting(k, v) {
      upd((d) => ({ settings: { ...d.settings, [k]: v } }));
    },
    setDeployMetric(metric) {
      upd(() => ({ metric }));
    },
    beginDeploy() {
      upd(() => ({ job: { ...IDLE_DEPLOY_JOB, status: 'running' }, artifacts: null, result: null, samples: null }));
    },
    requestDeployCancel() {
      upd((d) => (d.job.status === 'running' ? { job: { ...d.job, status: 'cancelling' } } : {}));
    },
    applyDeployMessage(m) {
      upd((d): Partial<DeployState> => {
        switch (m.type) {
          case 'deploy-started': {
            if (!live(d)) return {};
            const { type: _t, ...artifacts } = m;
            return { artifacts, job: { ...d.job, totalImages: m.totalImages } };
          }
          case 'deploy-progress':
            return live(d) ? { job: { ...d.job, images: m.images, totalImages: m.totalImages } } : {};
          case 'deploy-done':
            if (!live(d)) return {};
            return { result: m.result, samples: m.samples ?? null, job: { ...d.job, status: 'idle', outcome: 'done', images: m.result.images, totalImages: m.result.images } };
          case 'deploy-cancelled':
            return live(d) ? { job: { ...d.job, status: 'idle', outcome: 'cancelled' } } : {};
          case 'deploy-error':
            return { job: { ...d.job, status: 'idle', outcome: 'error', error: m.message } };
          default:
            return {};
        }
      });
    },
    restoreDeploy(saved) {
      upd(() => ({
        settings: { ...DEFAULT_DEPLOY_SETTINGS, ...saved.settings }, artifacts: saved.artifacts, result: saved.result, samples: saved.samples ?? null,
        job: { ...IDLE_DEPLOY_JOB, outcome: 'done', images: saved.result.images, totalImages: saved.result.images },
      }));
    },
    deploySimProgress(p) {
      upd((d) => (live(d) ? { job: { ...d.job, simImages: d.job.simImages + p.images, simImagesPerSecond: p.imagesPerSecond } } : {}));
    },
    deployFailed(message) {
      upd((d) => ({ job: { ...d.job, status: 'idle', outcome: 'error', error: message } }));
    },
    clearDeploy() {
      upd((d) => (live(d) ? {} : { job: IDLE_DEPLOY_JOB, artifacts: null, result: null, samples: null }));
    },
  };
};
