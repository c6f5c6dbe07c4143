/** Training settings (the form) and the live run (progress, loss curve, epoch results). */
import type { TrainJobConfig, WorkerMessage } from '../../train/protocol.ts';
import { beginRun, INITIAL_RUN, reduceRun, requestRun, type RunRequest, type RunState } from './run-reducer.ts';
import type { SliceCreator } from './types.ts';

export type TrainSettings = Omit<TrainJobConfig, 'model'>;

/** Small on purpose: a first run finishes in seconds on a GPU and in a minute or two on the CPU. */
export const DEFAULT_SETTINGS: Readonly<TrainSettings> = Object.freeze({
  epochs: 1,
  batchSize: 64,
  lr: 5e-3,
  optimizer: 'adam',
  schedule: 'onecycle',
  seed: 0,
  trainImages: 2000,
  testImages: 500,
});

export interface TrainingSlice {
  settings: TrainSettings;
  run: RunState;
  setSetting<K extends keyof TrainSettings>(key: K, value: TrainSettings[K]): void;
  resetSettings(): void;
  beginRun(config: TrainJobConfig): void;
  requestRun(r: RunRequest): void;
  applyWorkerMessage(m: WorkerMessage): void;
}

export const createTrainingSlice: SliceCreator<TrainingSlice> = (set) => ({
  settings: { ...DEFAULT_SETTINGS },
  run: INITIAL_RUN,
  setSetting(key, value) {
    set((s) => ({ settings: { ...s.settings, [key]: value } }));
  },
  resetSettings() {
    set({ settings: { ...DEFAULT_SETTINGS } });
  },
  beginRun(config) {
    set({ run: beginRun(config) });
  },
  requestRun(r) {
    set((s) => ({ run: requestRun(s.run, r) }));
  },
  applyWorkerMessage(m) {
    set((s) => {
      const run = reduceRun(s.run, m);
      return run === s.run ? {} : { run };
    });
  },
});
