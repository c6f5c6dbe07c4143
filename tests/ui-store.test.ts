/** The studio's zustand slices, each alone, and the pure run reducer behind the training slice. */
import { describe, expect, it } from 'vitest';
import { createStore } from 'zustand/vanilla';
import { createBackendSlice, type BackendSlice } from '../src/ui/store/backend-slice.ts';
import { createModelSlice, DEFAULT_MODEL, type ModelSlice } from '../src/ui/store/model-slice.ts';
import { createTrainingSlice, DEFAULT_SETTINGS, type TrainingSlice } from '../src/ui/store/training-slice.ts';
import { createStudioStore } from '../src/ui/store/studio-store.ts';
import {
  beginRun, INITIAL_RUN, percentDone, reduceRun, requestRun, stepsPerEpoch, type RunState,
} from '../src/ui/store/run-reducer.ts';
import type { TrainJobConfig, WorkerMessage } from '../src/train/protocol.ts';
import { describeModel } from '../src/ui/features/model/model-info.ts';
import { formatCompact, formatDuration, formatInt } from '../src/ui/format.ts';

const CONFIG: TrainJobConfig = { model: 'mlp', ...DEFAULT_SETTINGS, trainImages: 256, batchSize: 32, epochs: 2 };
const progress = (step: number, loss = 2 - step * 0.1): WorkerMessage => ({
  type: 'progress', epoch: step > 8 ? 1 : 0, step, totalSteps: 16, imagesDone: step * 32, totalImages: 512,
  loss, lr: 0.005, imagesPerSecond: 100, etaSeconds: (16 - step) * 0.32,
});
const fold = (s: RunState, ...ms: WorkerMessage[]) => ms.reduce(reduceRun, s);

describe('model slice', () => {
  it('starts on the default model and switches among zoo names only', () => {
    const store = createStore<ModelSlice>()(createModelSlice);
    expect(store.getState().modelName).toBe(DEFAULT_MODEL);
    store.getState().setModel('resnet-mini');
    expect(store.getState().modelName).toBe('resnet-mini');
    expect(() => store.getState().setModel('vgg16')).toThrow(/unknown model "vgg16"/);
    expect(store.getState().modelName).toBe('resnet-mini');
  });

  it('describes a model: parameters, MACs, input shape', () => {
    const cnn = describeModel('cnn-small');
    expect(cnn.parameters).toBe(32_050);
    expect(cnn.inputShape).toEqual([1, 28, 28]);
    expect(cnn.macs).toBeGreaterThan(1e6);
    expect(describeModel('mlp')).toMatchObject({ parameters: 235_146, macs: 784 * 256 + 256 * 128 + 128 * 10, convLayers: 0, linearLayers: 3 });
    expect(describeModel('cnn-small')).toBe(cnn); // cached
  });
});

describe('backend slice', () => {
  it('is pending until the worker is ready, and pending again after a new preference', () => {
    const store = createStore<BackendSlice>()(createBackendSlice);
    expect(store.getState().backend).toEqual({ status: 'pending' });
    store.getState().backendReady({ type: 'ready', backend: 'webgpu', adapter: 'google swiftshader' });
    expect(store.getState().backend).toEqual({ status: 'ready', kind: 'webgpu', adapter: 'google swiftshader' });
    store.getState().setBackendPreference('cpu');
    expect(store.getState()).toMatchObject({ backendPreference: 'cpu', backend: { status: 'pending' } });
    store.getState().backendReady({ type: 'ready', backend: 'cpu', adapter: 'CPU reference', reason: 'no navigator.gpu' });
    expect(store.getState().backend).toEqual({ status: 'ready', kind: 'cpu', adapter: 'CPU reference', reason: 'no navigator.gpu' });
  });
});

describe('training slice', () => {
  it('edits settings and resets them to the small defaults', () => {
    const store = createStore<TrainingSlice>()(createTrainingSlice);
    expect(store.getState().settings).toEqual({
      epochs: 1, batchSize: 64, lr: 5e-3, optimizer: 'adam', schedule: 'onecycle', seed: 0, trainImages: 2000, testImages: 500,
    });
    store.getState().setSetting('batchSize', 32);
    store.getState().setSetting('optimizer', 'sgd');
    expect(store.getState().settings).toMatchObject({ batchSize: 32, optimizer: 'sgd', epochs: 1 });
    store.getState().resetSettings();
    expect(store.getState().settings).toEqual(DEFAULT_SETTINGS);
  });

  it('follows a run from start to done through worker messages', () => {
    const store = createStore<TrainingSlice>()(createTrainingSlice);
    const s = () => store.getState();
    s().beginRun(CONFIG);
    expect(s().run.status).toBe('starting');
    s().applyWorkerMessage({ type: 'started', totalSteps: 16, trainImages: 256, testImages: 500 });
    expect(s().run).toMatchObject({ status: 'running', totalSteps: 16 });
    for (let i = 1; i <= 8; i++) s().applyWorkerMessage(progress(i));
    s().applyWorkerMessage({ type: 'epoch', epoch: 1, acc1: 61.5, acc5: 95, loss: 1.5 });
    expect(s().run.losses).toHaveLength(8);
    expect(s().run.epochs).toEqual([{ epoch: 1, step: 8, acc1: 61.5, acc5: 95, loss: 1.5 }]);
    expect(percentDone(s().run)).toBe(50);
    const before = s().run;
    s().applyWorkerMessage({ type: 'ready', backend: 'cpu', adapter: 'x' });
    expect(s().run).toBe(before); // not the training slice's message: no new state
    s().applyWorkerMessage({ type: 'done', seconds: 3, imagesPerSecond: 170, steps: 16 });
    expect(s().run).toMatchObject({ status: 'idle', outcome: 'done', summary: { seconds: 3, imagesPerSecond: 170, steps: 16 } });
  });
});

describe('run reducer', () => {
  const running = fold(beginRun(CONFIG), { type: 'started', totalSteps: 16, trainImages: 256, testImages: 500 }, progress(1));

  it('pause is requested, then acknowledged by the worker, and resume likewise', () => {
    const pausing = requestRun(running, 'pause');
    expect(pausing.status).toBe('pausing');
    const afterInflight = reduceRun(pausing, progress(2));
    expect(afterInflight.status).toBe('pausing'); // the step in flight still reports
    const paused = reduceRun(afterInflight, { type: 'paused', step: 2 });
    expect(paused).toMatchObject({ status: 'paused', pausedAtStep: 2 });
    expect(requestRun(paused, 'pause')).toBe(paused);
    const resuming = requestRun(paused, 'resume');
    expect(resuming.status).toBe('resuming');
    expect(reduceRun(resuming, { type: 'resumed', step: 2 })).toMatchObject({ status: 'running', pausedAtStep: null });
  });

  it('stays cancelling whatever arrives until the worker says cancelled', () => {
    const c = requestRun(requestRun(running, 'pause'), 'cancel');
    expect(c.status).toBe('cancelling');
    const c2 = fold(c, progress(2), { type: 'paused', step: 2 }, { type: 'resumed', step: 2 });
    expect(c2.status).toBe('cancelling');
    expect(c2.losses).toHaveLength(2);
    expect(reduceRun(c2, { type: 'cancelled', step: 2 })).toMatchObject({ status: 'idle', outcome: 'cancelled' });
    expect(requestRun(INITIAL_RUN, 'cancel')).toBe(INITIAL_RUN);
  });

  it('ignores run messages while idle, but shows errors', () => {
    expect(fold(INITIAL_RUN, progress(3), { type: 'epoch', epoch: 1, acc1: 1, acc5: 2, loss: 3 }, { type: 'done', seconds: 1, imagesPerSecond: 1, steps: 1 }))
      .toBe(INITIAL_RUN);
    expect(reduceRun(INITIAL_RUN, { type: 'error', message: 'no adapter' })).toMatchObject({ status: 'idle', outcome: 'error', error: 'no adapter' });
    expect(reduceRun(running, { type: 'error', message: 'WebGPU kernel x not implemented yet' }))
      .toMatchObject({ status: 'idle', outcome: 'error', error: 'WebGPU kernel x not implemented yet' });
  });

  it('keeps unread losses (NaN) off the curve and a new run starts clean', () => {
    const r = reduceRun(running, progress(2, Number.NaN));
    expect(r.losses.map((p) => p.step)).toEqual([1]);
    expect(r.progress?.step).toBe(2);
    expect(stepsPerEpoch(r)).toBe(8);
    const fresh = beginRun({ ...CONFIG, model: 'cnn-small' });
    expect(fresh).toMatchObject({ status: 'starting', losses: [], epochs: [], progress: null, outcome: null, config: { model: 'cnn-small' } });
    expect(percentDone(fresh)).toBe(0);
  });
});

describe('studio store', () => {
  it('composes the slices', () => {
    const store = createStudioStore();
    const s = store.getState();
    expect(s.modelName).toBe(DEFAULT_MODEL);
    expect(s.settings).toEqual(DEFAULT_SETTINGS);
    expect(s.backend.status).toBe('pending');
    expect(s.run).toBe(INITIAL_RUN);
    s.setModel('mlp');
    s.setSetting('epochs', 3);
    expect(store.getState()).toMatchObject({ modelName: 'mlp', settings: { epochs: 3 }, backendPreference: 'auto' });
  });
});

describe('format', () => {
  it('formats counts and durations', () => {
    expect(formatInt(32050)).toBe('32,050');
    expect(formatInt(1234567)).toBe('1,234,567');
    expect(formatCompact(6_270_000)).toBe('6.27 M');
    expect(formatCompact(45_600)).toBe('45.6 k');
    expect(formatCompact(950)).toBe('950');
    expect(formatDuration(65)).toBe('1:05');
    expect(formatDuration(3723)).toBe('1:02:03');
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('–');
  });
});
