/**
 * Connects the store to the training worker's client: user intents (start, pause, resume, cancel,
 * backend choice) go to both, worker messages come back into the store. No React here.
 */
import { MODEL_NAMES } from '../../../models/zoo.ts';
import type { TrainingClient } from '../../../train/client.ts';
import { errorText, validateConfig, type BackendPreference, type TrainJobConfig } from '../../../train/protocol.ts';
import { isLive } from '../../store/run-reducer.ts';
import { inputShapeOf } from '../../store/data-slice.ts';
import { modelIdOf } from '../../store/model-slice.ts';
import { modelChoiceOf } from '../model/imported-model.ts';
import type { StudioStore } from '../../store/studio-store.ts';

export type ConfigErrors = Partial<Record<keyof TrainJobConfig, string>>;

export interface TrainingController {
  /** The config a start would send (model + settings). */
  config(): TrainJobConfig;
  /** Problems with the current settings (empty when a run can start). */
  errors(): ConfigErrors;
  /** Starts a run; false when the settings are invalid or a run is live. */
  start(): boolean;
  pause(): void;
  resume(): void;
  cancel(): void;
  setBackend(p: BackendPreference): void;
  dispose(): void;
}

/** `beforeJob` runs before a start (the data controller sends the loaded data to the worker there). */
export function createTrainingController(store: StudioStore, client: TrainingClient, beforeJob: () => void = () => {}): TrainingController {
  const unsubscribe = client.subscribe((m) => {
    const s = store.getState();
    if (m.type === 'ready') s.backendReady(m);
    else s.applyWorkerMessage(m);
    if (m.type === 'done') s.touchProject();
  });
  const st = () => store.getState();
  let sentImported = false;
  const config = (): TrainJobConfig => ({ model: modelIdOf(st()), ...st().settings });
  const errors = (): ConfigErrors => {
    const s = st();
    const e = validateConfig(config(), s.imported ? [...MODEL_NAMES, modelIdOf(s)] : MODEL_NAMES);
    const want = s.imported?.inputShape.join('x'), have = inputShapeOf(s.data).join('x');
    if (s.imported && want !== have) e.model = `${s.imported.file} takes ${want} inputs; the loaded data is ${have}`;
    return e;
  };
  client.connect();

  return {
    config,
    errors,
    start() {
      if (isLive(st().run.status) || client.job !== null || Object.keys(errors()).length > 0) return false;
      const c = config();
      st().beginRun(c);
      try {
        beforeJob();
        // The worker builds zoo models by name; an imported model travels with each start (a respawned
        // worker has none), and the zoo choice once after one, so the worker lets the import go.
        if (st().imported || sentImported) client.setModel(modelChoiceOf(st()));
        sentImported = st().imported !== null;
        client.start(c);
      } catch (e) {
        st().applyWorkerMessage({ type: 'error', message: errorText(e) });
        return false;
      }
      return true;
    },
    pause() {
      if (st().run.status !== 'running') return;
      st().requestRun('pause');
      client.pause();
    },
    resume() {
      if (st().run.status !== 'paused') return;
      st().requestRun('resume');
      client.resume();
    },
    cancel() {
      if (!isLive(st().run.status)) return;
      st().requestRun('cancel');
      client.cancel();
    },
    setBackend(p) {
      if (isLive(st().run.status) || p === st().backendPreference) return;
      st().setBackendPreference(p);
      client.setBackend(p);
    },
    dispose() {
      unsubscribe();
      client.dispose();
    },
  };
}
