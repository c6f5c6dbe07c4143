/**
 * Connects the store to the training worker's client: user intents (start, pause, resume, cancel,
 * backend choice) go to both, worker messages come back into the store. No React here.
 */
import type { TrainingClient } from '../../../train/client.ts';
import { errorText, type BackendPreference, type TrainJobConfig } from '../../../train/protocol.ts';
import { isLive } from '../../store/run-reducer.ts';
import { modelIdOf } from '../../store/model-slice.ts';
import { modelChoiceOf } from '../model/imported-model.ts';
import type { StudioStore } from '../../store/studio-store.ts';
import { currentScope, toResultScope } from '../../scope/identity.ts';
import { stageBlocker, trainConfigErrors, type ConfigErrors } from '../stage-blockers.ts';

export type { ConfigErrors };

export interface TrainingController {
  /** The config a start would send (model + settings). */
  config(): TrainJobConfig;
  /** Problems with the current settings (empty when a run can start). */
  errors(): ConfigErrors;
  /** Starts a run; false when the settings are invalid or a run is live. */
  start(): boolean;
  /** Evaluates the current model on the current test images (no training); false when it cannot start now. */
  evaluate(): boolean;
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
    const scopeBefore = s.scope;
    if (m.type === 'ready') s.backendReady(m);
    else s.applyWorkerMessage(m);
    if (m.type === 'done' && st().scope === scopeBefore) {
      // The float model's accuracy: the last evaluation of the run that made (or re-evaluated) the kept checkpoint.
      const r = st().run, last = r.epochs.at(-1);
      if (last && st().checkpoints.float) {
        const evaluated = r.config?.mode === 'evaluate' || r.config?.epochs === 0;
        st().setFloatResult({ acc1: last.acc1, acc5: last.acc5, testImages: r.testImages, trainImages: evaluated ? 0 : r.trainImages,
          epochs: evaluated ? 0 : r.config?.epochs ?? 0, how: evaluated ? 'evaluated' : 'trained' });
      }
      st().touchProject();
    }
  });
  const st = () => store.getState();
  let sentImported = false;
  const config = (): TrainJobConfig => {
    const scope = currentScope(st());
    return { model: modelIdOf(st()), ...st().settings, ...(scope ? { scope: toResultScope(scope) } : {}) };
  };
  const errors = (): ConfigErrors => trainConfigErrors(st(), config());
  client.connect();

  const launch = (mode: 'train' | 'evaluate'): boolean => {
    if (isLive(st().run.status) || client.job !== null || stageBlocker(st(), mode, config()) !== null) return false;
    const c: TrainJobConfig = { ...config(), mode };
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
  };

  return {
    config,
    errors,
    start: () => launch('train'),
    evaluate: () => launch('evaluate'),
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
