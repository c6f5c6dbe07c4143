/**
 * The training worker's protocol and client, with a fake worker; the controller that joins the
 * client to the store; and the worker's host logic running real training on the CPU backend.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TrainingClient, type WorkerLike } from '../src/train/client.ts';
import {
  isTrainRequest, isWorkerMessage, validateConfig, type TrainJobConfig, type TrainRequest, type WorkerMessage,
} from '../src/train/protocol.ts';
import { createTrainingHost } from '../src/train/training.worker.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import type { ImageDataset, TrainTestData } from '../src/data/dataset.ts';
import { MODEL_NAMES } from '../src/models/zoo.ts';
import { createStudioStore } from '../src/ui/store/studio-store.ts';
import { createTrainingController } from '../src/ui/features/train/training-controller.ts';
import { createScopeController } from '../src/ui/scope/scope-controller.ts';
import { trainConfigNotes } from '../src/ui/features/stage-blockers.ts';
import { summarize } from '../src/data/summary.ts';

const CONFIG: TrainJobConfig = {
  model: 'mlp', epochs: 1, batchSize: 16, lr: 5e-3, optimizer: 'adam', schedule: 'onecycle', seed: 0, trainImages: 64, testImages: 32,
};

class FakeWorker implements WorkerLike {
  sent: TrainRequest[] = [];
  terminated = false;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: { message?: string; preventDefault?: () => void }) => void) | null = null;
  postMessage(msg: TrainRequest): void { this.sent.push(structuredClone(msg)); }
  terminate(): void { this.terminated = true; }
  /** The worker talks. */
  emit(data: unknown): void { this.onmessage?.({ data }); }
  types(): string[] { return this.sent.map((m) => m.type); }
}

function setup(opts: ConstructorParameters<typeof TrainingClient>[1] = {}) {
  const workers: FakeWorker[] = [];
  const client = new TrainingClient(() => {
    const w = new FakeWorker();
    workers.push(w);
    return w;
  }, opts);
  const got: WorkerMessage[] = [];
  client.subscribe((m) => got.push(m));
  return { client, workers, got, w: () => workers[workers.length - 1] };
}

afterEach(() => { vi.useRealTimers(); });

describe('protocol', () => {
  it('validates a start config field by field', () => {
    expect(validateConfig(CONFIG, MODEL_NAMES)).toEqual({});
    const bad = validateConfig({ ...CONFIG, model: 'vgg', batchSize: 0, epochs: 1.5, lr: Number.NaN, trainImages: 70_000, optimizer: 'rmsprop' as never }, MODEL_NAMES);
    expect(Object.keys(bad).sort()).toEqual(['batchSize', 'epochs', 'lr', 'model', 'optimizer', 'trainImages']);
    expect(bad.batchSize).toMatch(/between 1 and 1024/);
    expect(bad.epochs).toMatch(/whole number/);
    expect(bad.lr).toMatch(/number/);
  });

  it('recognises its own messages only', () => {
    expect(isWorkerMessage({ type: 'progress', step: 1 })).toBe(true);
    expect(isWorkerMessage({ type: 'webpackOk' })).toBe(false);
    expect(isWorkerMessage(null)).toBe(false);
    expect(isTrainRequest({ type: 'cancel' })).toBe(true);
    expect(isTrainRequest('cancel')).toBe(false);
  });
});

describe('TrainingClient', () => {
  it('spawns the worker on connect and asks for the preferred backend', () => {
    const { client, workers, w } = setup({ prefer: 'cpu' });
    expect(workers).toHaveLength(0);
    client.connect();
    client.connect();
    expect(workers).toHaveLength(1);
    expect(w().sent).toEqual([{ type: 'init', prefer: 'cpu' }]);
  });

  it('runs one job at a time and forwards the worker messages in order', () => {
    const { client, w, got } = setup();
    client.start(CONFIG);
    expect(client.phase).toBe('running');
    expect(w().sent[1]).toEqual({ type: 'start', config: CONFIG });
    expect(() => client.start(CONFIG)).toThrow(/already in progress/);
    w().emit({ type: 'ready', backend: 'webgpu', adapter: 'gpu' });
    w().emit({ type: 'progress', epoch: 0, step: 1, totalSteps: 4, imagesDone: 16, totalImages: 64, loss: 2.3, lr: 1e-3, imagesPerSecond: 10, etaSeconds: 5 });
    w().emit({ type: 'not-ours' });
    w().emit({ type: 'done', seconds: 1, imagesPerSecond: 64, steps: 4 });
    expect(got.map((m) => m.type)).toEqual(['ready', 'progress', 'done']);
    expect(client.phase).toBe('idle');
    client.start(CONFIG); // a second run after the first
    expect(w().types()).toEqual(['init', 'start', 'start']);
  });

  it('sends pause / resume only while running', () => {
    const { client, w } = setup();
    client.connect();
    client.pause();
    client.resume();
    expect(w().types()).toEqual(['init']);
    client.start(CONFIG);
    client.pause();
    client.resume();
    expect(w().types()).toEqual(['init', 'start', 'pause', 'resume']);
  });

  it('a cancel the worker acknowledges ends the run', () => {
    vi.useFakeTimers();
    const { client, w, got, workers } = setup({ cancelTimeoutMs: 1000 });
    client.start(CONFIG);
    client.cancel();
    client.cancel();
    expect(client.phase).toBe('cancelling');
    expect(w().types()).toEqual(['init', 'start', 'cancel']);
    w().emit({ type: 'cancelled', step: 3 });
    expect(client.phase).toBe('idle');
    vi.advanceTimersByTime(5000);
    expect(workers).toHaveLength(1);
    expect(got).toEqual([{ type: 'cancelled', step: 3 }]);
  });

  it('a cancel the worker ignores terminates it and starts a fresh one', () => {
    vi.useFakeTimers();
    const { client, workers, got } = setup({ cancelTimeoutMs: 1000 });
    client.start(CONFIG);
    client.cancel();
    vi.advanceTimersByTime(999);
    expect(workers[0].terminated).toBe(false);
    vi.advanceTimersByTime(1);
    expect(workers[0].terminated).toBe(true);
    expect(got).toEqual([{ type: 'cancelled', step: -1 }]);
    expect(client.phase).toBe('idle');
    expect(workers).toHaveLength(2);
    expect(workers[1].sent).toEqual([{ type: 'init', prefer: 'auto' }]);
    workers[0].emit({ type: 'done', seconds: 1, imagesPerSecond: 1, steps: 1 }); // late words from the old worker
    expect(got).toHaveLength(1);
  });

  it('a worker that fails ends the run with an error, and the next start spawns a new worker', () => {
    const { client, workers, got } = setup();
    client.start(CONFIG);
    let prevented = false;
    workers[0].onerror?.({ message: 'SyntaxError: bad import', preventDefault: () => { prevented = true; } });
    expect(prevented).toBe(true);
    expect(workers[0].terminated).toBe(true);
    expect(client.phase).toBe('idle');
    expect(got).toEqual([{ type: 'error', message: 'training worker failed: SyntaxError: bad import' }]);
    client.start(CONFIG);
    expect(workers).toHaveLength(2);
    expect(workers[1].types()).toEqual(['init', 'start']);
  });

  it('an error while idle (backend creation) is reported without a run', () => {
    const { client, w, got } = setup();
    client.connect();
    w().emit({ type: 'error', message: 'could not create a backend: boom' });
    expect(client.phase).toBe('idle');
    expect(got).toHaveLength(1);
  });

  it('switching the backend replaces the worker, but not during a run', () => {
    const { client, workers } = setup();
    client.connect();
    client.setBackend('cpu');
    expect(workers[0].terminated).toBe(true);
    expect(workers[1].sent).toEqual([{ type: 'init', prefer: 'cpu' }]);
    expect(client.backendPreference).toBe('cpu');
    client.start(CONFIG);
    expect(() => client.setBackend('auto')).toThrow(/while training/);
    client.dispose();
    expect(workers[1].terminated).toBe(true);
    expect(client.phase).toBe('disposed');
    expect(() => client.start(CONFIG)).toThrow(/disposed/);
  });
});

describe('training controller (store + client)', () => {
  it('drives a run from the form to the store and back', () => {
    const store = createStudioStore();
    const workers: FakeWorker[] = [];
    const client = new TrainingClient(() => { const w = new FakeWorker(); workers.push(w); return w; });
    const c = createTrainingController(store, client);
    createScopeController(store, client);
    store.getState().dataLoaded(summarize(toyData(), 'builtin', 'toy'), null);
    const w = workers[0];
    w.emit({ type: 'ready', backend: 'cpu', adapter: 'CPU reference (TypeScript)', reason: 'navigator.gpu is undefined' });
    expect(store.getState().backend).toMatchObject({ status: 'ready', kind: 'cpu', reason: 'navigator.gpu is undefined' });

    store.getState().setSetting('batchSize', 0);
    expect(c.errors().batchSize).toBeDefined();
    expect(c.start()).toBe(false);
    expect(w.types()).toEqual(['init']);

    store.getState().setSetting('batchSize', 32);
    store.getState().setSetting('trainImages', 201);
    expect(trainConfigNotes(store.getState(), c.config())).toEqual({
      trainImages: '201 requested; the loaded data has 200: all 200 are used',
      testImages: '500 requested; the loaded data has 50: all 50 are used',
    });
    expect(c.errors()).toEqual({});
    store.getState().setSetting('trainImages', 64);
    store.getState().setSetting('testImages', 32);
    store.getState().setModel('mlp');
    expect(c.config().scope).toEqual({ model: 'zoo:mlp', data: 'builtin:toy|rgb;pixel/255' });
    expect(c.start()).toBe(true);
    expect(w.sent[1]).toEqual({ type: 'start', config: { ...c.config(), model: 'mlp', batchSize: 32, mode: 'train' } });
    expect(store.getState().run.status).toBe('starting');
    expect(c.start()).toBe(false); // live run
    c.setBackend('cpu'); // ignored while live
    expect(workers).toHaveLength(1);

    w.emit({ type: 'started', totalSteps: 63, trainImages: 2000, testImages: 500 });
    c.pause();
    expect(store.getState().run.status).toBe('pausing');
    w.emit({ type: 'paused', step: 1 });
    c.resume();
    w.emit({ type: 'resumed', step: 1 });
    expect(store.getState().run.status).toBe('running');
    c.cancel();
    expect(store.getState().run.status).toBe('cancelling');
    w.emit({ type: 'cancelled', step: 1 });
    expect(store.getState().run).toMatchObject({ status: 'idle', outcome: 'cancelled' });
    expect(w.types()).toEqual(['init', 'start', 'pause', 'resume', 'cancel']);

    c.setBackend('cpu');
    expect(store.getState().backend.status).toBe('pending');
    expect(workers).toHaveLength(2);
    c.dispose();
    expect(workers[1].terminated).toBe(true);
  });
});

/** A tiny learnable data set: class k is a bright square in one of 10 places. */
function toyData(): TrainTestData {
  const make = (count: number, name: string): ImageDataset => {
    const images = new Uint8Array(count * 784), labels = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const k = i % 10;
      labels[i] = k;
      for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) images[i * 784 + (2 + (k % 5) * 5 + y) * 28 + 2 + Math.floor(k / 5) * 12 + x] = 255;
    }
    return { name, images, labels, count, channels: 1, height: 28, width: 28, numClasses: 10, classNames: [...'0123456789'] };
  };
  return { train: make(200, 'toy/train'), test: make(50, 'toy/test'), source: 'toy' };
}

function host() {
  const msgs: WorkerMessage[] = [];
  let wait: { type: string; resolve: () => void } | null = null;
  const handle = createTrainingHost({
    post: (m) => {
      msgs.push(m);
      if (wait && m.type === wait.type) wait.resolve();
    },
    createBackend: async (prefer) => ({ backend: createCpuBackend(), reason: `test (${prefer})` }),
    loadData: async () => toyData(),
  });
  const next = (type: WorkerMessage['type']) => new Promise<void>((resolve) => {
    if (msgs.some((m) => m.type === type)) resolve();
    else wait = { type, resolve };
  });
  return { handle, msgs, next };
}

describe('training worker host (CPU backend, toy data)', () => {
  it('announces the backend, trains, evaluates and finishes', async () => {
    const { handle, msgs, next } = host();
    handle({ type: 'init', prefer: 'cpu' });
    handle({ type: 'start', config: CONFIG });
    await next('done');
    expect(msgs[0]).toEqual({ type: 'ready', backend: 'cpu', adapter: 'CPU reference (TypeScript)', reason: 'test (cpu)' });
    expect(msgs[1]).toEqual({ type: 'started', totalSteps: 4, trainImages: 64, testImages: 32 });
    const progress = msgs.filter((m) => m.type === 'progress');
    expect(progress.map((p) => p.step)).toEqual([1, 2, 3, 4]);
    expect(progress.every((p) => Number.isFinite(p.loss))).toBe(true);
    const epoch = msgs.find((m) => m.type === 'epoch');
    expect(epoch).toMatchObject({ type: 'epoch', epoch: 1 });
    expect(msgs.at(-1)).toMatchObject({ type: 'done', steps: 4 });
  });

  it('rejects a second start while one runs, pauses between steps, resumes, and cancels', async () => {
    const { handle, msgs, next } = host();
    handle({ type: 'start', config: { ...CONFIG, trainImages: 200, epochs: 3 } }); // no init: 'auto' by default
    handle({ type: 'start', config: CONFIG });
    expect(msgs).toContainEqual({ type: 'error', message: 'a training run is already in progress' });
    await next('progress');
    handle({ type: 'pause' });
    await next('paused');
    const paused = msgs.find((m) => m.type === 'paused')!;
    const count = msgs.length;
    await new Promise((r) => setTimeout(r, 50)); // the host is idle while paused: no further messages
    expect(msgs.length).toBe(count);
    handle({ type: 'resume' });
    await next('resumed');
    expect(msgs.at(-1)).toEqual({ type: 'resumed', step: (paused as { step: number }).step });
    handle({ type: 'cancel' });
    await next('cancelled');
    const done = msgs.filter((m) => m.type === 'done');
    expect(done).toHaveLength(0);
    // Free for the next run.
    msgs.length = 0;
    handle({ type: 'start', config: CONFIG });
    await next('done');
    expect(msgs.some((m) => m.type === 'error')).toBe(false);
  });

  it('cancels a paused run', async () => {
    const { handle, msgs, next } = host();
    handle({ type: 'start', config: { ...CONFIG, trainImages: 200 } });
    await next('progress');
    handle({ type: 'pause' });
    await next('paused');
    handle({ type: 'cancel' });
    await next('cancelled');
    expect(msgs.some((m) => m.type === 'resumed')).toBe(false);
  });

  it('reports an unknown model as an error and stays usable', async () => {
    const { handle, msgs, next } = host();
    handle({ type: 'start', config: { ...CONFIG, model: 'vgg' } });
    await next('error');
    expect(msgs.find((m) => m.type === 'error')).toMatchObject({ message: expect.stringMatching(/unknown model "vgg"/) });
  });
});
