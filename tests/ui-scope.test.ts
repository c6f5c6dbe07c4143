/**
 * Results belong to one model and data set: identities (zoo name or imported content; data content and
 * preprocessing), the switch that shelves and reopens results (or starts clean, and says so), the stage blockers
 * that keep a stage from running on something else than what is on screen, and the training worker refusing a
 * job whose model / data is not its checkpoint's (the second line of defence), on the CPU backend with toy data.
 */
import { describe, expect, it } from 'vitest';
import type { ImageDataset, TrainTestData } from '../src/data/dataset.ts';
import { summarize } from '../src/data/summary.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { buildModel } from '../src/models/zoo.ts';
import { encodeCheckpoint } from '../src/io/checkpoint.ts';
import { initHostParams } from '../src/nn/params.ts';
import { TrainingClient, type WorkerLike } from '../src/train/client.ts';
import type { ResultScope, TrainJobConfig, TrainRequest, WorkerMessage } from '../src/train/protocol.ts';
import { createTrainingHost } from '../src/train/training.worker.ts';
import { stageBlocker } from '../src/ui/features/stage-blockers.ts';
import { createTrainingController } from '../src/ui/features/train/training-controller.ts';
import { createQuantController } from '../src/ui/features/quant/quant-controller.ts';
import { currentScope, dataIdentity, modelIdentity, scopeKey } from '../src/ui/scope/identity.ts';
import { createScopeController } from '../src/ui/scope/scope-controller.ts';
import { INITIAL_DATA } from '../src/ui/store/data-slice.ts';
import type { ImportedModel } from '../src/ui/store/model-slice.ts';
import { createStudioStore } from '../src/ui/store/studio-store.ts';
import { snapshotOf, stateFromSnapshot, validateSnapshot } from '../src/ui/persist/snapshot.ts';
import { decodeProjectFile, encodeProjectFile } from '../src/ui/persist/project-file.ts';

const toy = (count: number, name: string, classes = 10, seed = 0): ImageDataset => {
  const images = new Uint8Array(count * 784), labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const k = i % classes;
    labels[i] = k;
    for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) images[i * 784 + (2 + (k % 5) * 5 + y) * 28 + 2 + Math.floor(k / 5) * 12 + x] = 255 - seed;
  }
  return { name, images, labels, count, channels: 1, height: 28, width: 28, numClasses: classes, classNames: Array.from({ length: classes }, (_, k) => `c${k}`) };
};
const toyData = (classes = 10, seed = 0): TrainTestData => ({ train: toy(80, 'toy/train', classes, seed), test: toy(40, 'toy/test', classes, seed), source: 'toy' });

/** An "imported" mlp whose weights come from `seed` (encoded as the import encodes them). */
const imported = (file: string, seed: number, inputShape = [1, 28, 28]): ImportedModel => {
  const graph = buildModel('mlp', { inputShape, numClasses: 10 });
  const weights = encodeCheckpoint({ model: `onnx:${file}`, stage: 'import', meta: {}, params: initHostParams(graph, seed), shapes: Object.fromEntries(graph.params.map((q) => [q.name, q.shape])) });
  return { file, graph, weights, inputShape, normalization: 'pixel/255', normalizationSource: 'default', opset: 13, producer: 'test' };
};

describe('identities', () => {
  it('a zoo model is its name; an imported model is its content, not its file name', () => {
    expect(modelIdentity({ modelName: 'cnn-small', imported: null })).toEqual({ key: 'zoo:cnn-small', label: 'cnn-small' });
    const a = modelIdentity({ modelName: 'cnn-small', imported: imported('m.onnx', 1) });
    const b = modelIdentity({ modelName: 'cnn-small', imported: imported('m.onnx', 2) });
    const a2 = modelIdentity({ modelName: 'mlp', imported: imported('m.onnx', 1) });
    expect(a.label).toBe('m.onnx');
    expect(a.key).not.toBe(b.key);
    expect(a.key).toBe(a2.key);
  });

  it('data is the built-in set or a dropped set\'s content, with the preprocessing', () => {
    const d = { ...INITIAL_DATA, status: 'ready' as const, summary: summarize(toyData(), 'zip', 'x'), dataset: toyData() };
    const other = { ...d, dataset: toyData(10, 1) };
    expect(dataIdentity({ ...INITIAL_DATA })).toBeNull(); // still loading
    expect(dataIdentity(d)!.key).not.toBe(dataIdentity(other)!.key);
    expect(dataIdentity(d)!.key).toBe(dataIdentity({ ...d, dataset: toyData() })!.key);
    const normalized = { ...d, prep: { ...d.prep, normalize: 'custom' as const, mean: [0.5], std: [0.25] } };
    expect(dataIdentity(normalized)!.key).not.toBe(dataIdentity(d)!.key);
    expect(dataIdentity(normalized)!.label).toBe('toy, normalized');
  });
});

class FakeWorker implements WorkerLike {
  sent: TrainRequest[] = [];
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: { message?: string; preventDefault?: () => void }) => void) | null = null;
  postMessage(msg: TrainRequest): void { this.sent.push(msg); }
  terminate(): void {}
  emit(data: WorkerMessage): void { this.onmessage?.({ data }); }
}

/** The page's controllers over a fake worker: what the page sends, and what it shows. */
function page() {
  const store = createStudioStore();
  const w = new FakeWorker();
  const client = new TrainingClient(() => w);
  const train = createTrainingController(store, client);
  const quant = createQuantController(store, client, () => {});
  createScopeController(store, client);
  w.emit({ type: 'ready', backend: 'cpu', adapter: 'CPU' });
  store.getState().dataLoaded(summarize(toyData(), 'builtin', 'toy'), null);
  for (const [k, v] of Object.entries({ trainImages: 64, testImages: 32, batchSize: 32 })) store.getState().setSetting(k as 'trainImages', v);
  return { store, w, train, quant, st: () => store.getState() };
}

/** A float run as the worker reports it: one epoch, the checkpoint stamped with the job's scope, done. */
function finishRun(p: ReturnType<typeof page>, acc1: number) {
  const scope = (p.w.sent.filter((m) => m.type === 'start').at(-1) as Extract<TrainRequest, { type: 'start' }>).config.scope!;
  p.w.emit({ type: 'started', totalSteps: 2, trainImages: 64, testImages: 32 });
  p.w.emit({ type: 'epoch', epoch: 1, acc1, acc5: 99, loss: 0.5 });
  p.w.emit({ type: 'checkpoint', stage: 'float', bytes: new Uint8Array([acc1]), scope });
  p.w.emit({ type: 'done', seconds: 1, imagesPerSecond: 64, steps: 2 });
}

describe('switching the model or the data', () => {
  it('shelves the results, starts clean and says so, blocks the stages, and reopens them on the way back', () => {
    const p = page();
    expect(p.st().scope).toMatchObject({ model: 'zoo:cnn-small', modelLabel: 'cnn-small', dataLabel: 'toy' });
    expect(stageBlocker(p.st(), 'calibrate', p.train.config())).toBe('Train cnn-small on this data first (step 3).');
    expect(stageBlocker(p.st(), 'evaluate', p.train.config())).toMatch(/cnn-small has no trained weights on this data yet/);
    expect(p.train.start()).toBe(true);
    finishRun(p, 81);
    expect(p.st().quant.float).toMatchObject({ acc1: 81, how: 'trained', epochs: 1 });
    expect(stageBlocker(p.st(), 'calibrate', p.train.config())).toBeNull();
    const cnnCheckpoint = p.st().checkpoints.float;

    // An imported model of the same input shape: nothing of cnn-small is shown or used.
    p.st().importDone(imported('net.onnx', 9));
    expect(p.st().scope).toMatchObject({ modelLabel: 'net.onnx' });
    expect(p.st().quant.float).toBeNull();
    expect(p.st().checkpoints).toEqual({});
    expect(p.st().run.epochs).toEqual([]);
    expect(p.st().scopeNotice).toMatchObject({ kind: 'clean', changed: 'model' });
    expect(p.st().scopeNotice!.text).toContain('The results of cnn-small on toy are kept');
    // The worker was told to drop cnn-small's checkpoints.
    expect(p.w.sent.at(-1)).toMatchObject({ type: 'restore', float: null, calib: null, qat: null, scope: { model: p.st().scope!.model } });
    expect(stageBlocker(p.st(), 'calibrate', p.train.config())).toBe('Evaluate net.onnx first (step 3): calibration starts from its evaluated float weights.');
    expect(p.quant.calibrate()).toBe(false);
    expect(stageBlocker(p.st(), 'evaluate', p.train.config())).toBeNull();

    // Evaluate the imported model: the float result is its own.
    expect(p.train.evaluate()).toBe(true);
    const evalReq = p.w.sent.filter((m) => m.type === 'start').at(-1) as Extract<TrainRequest, { type: 'start' }>;
    expect(evalReq.config).toMatchObject({ mode: 'evaluate', model: 'onnx:net.onnx', scope: { model: p.st().scope!.model } });
    finishRun(p, 55);
    expect(p.st().quant.float).toMatchObject({ acc1: 55, how: 'evaluated' });
    expect(p.quant.calibrate()).toBe(true);
    const calibReq = p.w.sent.at(-1) as Extract<TrainRequest, { type: 'calibrate' }>;
    expect(calibReq.config.scope).toEqual({ model: p.st().scope!.model, data: p.st().scope!.data });
    p.w.emit({ type: 'quant-cancelled', stage: 'calib' });

    // Back to cnn-small: its own results come back, and the worker gets its checkpoint.
    p.st().setModel('cnn-small');
    expect(p.st().scopeNotice).toMatchObject({ kind: 'reopened' });
    expect(p.st().scopeNotice!.text).toContain('float 81.00 %');
    expect(p.st().quant.float).toMatchObject({ acc1: 81 });
    expect(p.st().checkpoints.float).toBe(cnnCheckpoint);
    expect(p.w.sent.at(-1)).toMatchObject({ type: 'restore', float: cnnCheckpoint, scope: { model: 'zoo:cnn-small' } });
    expect(Object.keys(p.st().shelf)).toHaveLength(1);
  });

  it('an imported model of another input shape blocks every stage and says why', () => {
    const p = page();
    p.st().importDone(imported('mobilenetv2.onnx', 1, [3, 32, 32]));
    const why = 'mobilenetv2.onnx takes 3x32x32 inputs; the loaded data is 1x28x28: load 3x32x32 data (or import the model with a matching input shape).';
    for (const stage of ['train', 'evaluate', 'calibrate', 'qat', 'deploy'] as const) expect(stageBlocker(p.st(), stage, p.train.config())).toBe(why);
    expect(p.train.evaluate()).toBe(false);
    expect(p.quant.calibrate()).toBe(false);
  });

  it('a cancelled run keeps the float model it did not replace, and says so', () => {
    const p = page();
    p.train.start();
    finishRun(p, 70);
    p.train.start();
    p.w.emit({ type: 'started', totalSteps: 2, trainImages: 64, testImages: 32 });
    p.train.cancel();
    p.w.emit({ type: 'cancelled', step: 1 });
    expect(p.st().run.outcome).toBe('cancelled');
    expect(p.st().quant.float).toMatchObject({ acc1: 70 });
    expect(stageBlocker(p.st(), 'calibrate', p.train.config())).toBeNull();
    // A first run on another model, cancelled: nothing to calibrate there.
    p.st().setModel('mlp');
    p.train.start();
    p.train.cancel();
    p.w.emit({ type: 'cancelled', step: 0 });
    expect(stageBlocker(p.st(), 'calibrate', p.train.config())).toBe('Train mlp on this data first (step 3).');
  });

  it('the scope and the shelf survive a project file', () => {
    const p = page();
    p.train.start();
    finishRun(p, 66);
    p.st().setModel('mlp');
    const snap = decodeProjectFile(encodeProjectFile(snapshotOf(p.st())), 'p.qsproj');
    expect(snap.scope).toMatchObject({ model: 'zoo:mlp' });
    expect(Object.values(snap.shelf!)[0]).toMatchObject({ scope: { model: 'zoo:cnn-small' }, quant: { float: { acc1: 66 } } });
    expect(stateFromSnapshot(validateSnapshot(snap, 'p')).shelf).toEqual(snap.shelf);
  });
});

/** The training worker host in-process (CPU backend, toy data). */
function host() {
  const msgs: WorkerMessage[] = [];
  const waiting: { type: string; resolve: () => void }[] = [];
  const handle = createTrainingHost({
    post: (m) => {
      msgs.push(m);
      for (const w of waiting.filter((x) => x.type === m.type)) w.resolve();
    },
    createBackend: async () => ({ backend: createCpuBackend(), reason: 'test' }),
    loadData: async () => toyData(),
  });
  const next = (type: WorkerMessage['type']) => new Promise<void>((resolve) => waiting.push({ type, resolve }));
  return { handle, msgs, next };
}

describe('the training worker refuses jobs on another model or data (second line of defence)', () => {
  const A: ResultScope = { model: 'zoo:mlp', data: 'builtin:toy|rgb;pixel/255' };
  const FLOAT: TrainJobConfig = { model: 'mlp', epochs: 1, batchSize: 32, lr: 5e-3, optimizer: 'adam', schedule: 'onecycle', seed: 0, trainImages: 64, testImages: 32 };
  const CALIB = { quant: { march: 'bayes' as const, template: 'default_calibration', observer: 'minmax', overrides: [], quantStubScale: null }, batches: 1, batchSize: 32, testImages: 16 };

  it('stamps its checkpoints, refuses calibration, QAT and training of another scope, and evaluates its own', async () => {
    const { handle, msgs, next } = host();
    handle({ type: 'init', prefer: 'cpu' });
    handle({ type: 'set-data', data: { kind: 'builtin', key: A.data }, prep: { yuv: false, normalize: 'pixel/255' } });
    let done = next('done');
    handle({ type: 'start', config: { ...FLOAT, scope: A } });
    await done;
    expect(msgs.find((m) => m.type === 'checkpoint')).toMatchObject({ stage: 'float', scope: A });

    const B = { ...A, model: 'onnx:net.onnx#0123' };
    let err = next('quant-error');
    handle({ type: 'calibrate', config: { ...CALIB, scope: B } });
    await err;
    expect(msgs.at(-1)).toMatchObject({ type: 'quant-error', stage: 'calib' });
    expect((msgs.at(-1) as { message: string }).message).toBe(`refused: the kept checkpoint belongs to model ${A.model} on data ${A.data}, not to model ${B.model} on data ${B.data} that the calibration was asked for`);
    err = next('quant-error');
    handle({ type: 'qat', config: { ...CALIB, epochs: 1, lr: 1e-3, optimizer: 'sgd', seed: 0, trainImages: 32, scope: B } });
    await err;
    expect((msgs.at(-1) as { message: string }).message).toMatch(/^refused: the kept checkpoint belongs to model zoo:mlp/);

    // Data under another key than the job names: refused before anything runs.
    err = next('error');
    handle({ type: 'start', config: { ...FLOAT, scope: { ...A, data: 'zip:other#1' } } });
    await err;
    expect((msgs.at(-1) as { message: string }).message).toBe(`refused: the training was asked for data zip:other#1, but the worker holds data ${A.data} (send the data first)`);

    // Its own scope calibrates, and the calibration checkpoint carries the scope.
    done = next('quant-done');
    handle({ type: 'calibrate', config: { ...CALIB, scope: A } });
    await done;
    expect(msgs.filter((m) => m.type === 'checkpoint').at(-1)).toMatchObject({ stage: 'calib', scope: A });
    // Evaluate re-evaluates the kept float model of this scope (no new checkpoint).
    const before = msgs.filter((m) => m.type === 'checkpoint').length;
    done = next('done');
    handle({ type: 'start', config: { ...FLOAT, mode: 'evaluate', scope: A } });
    await done;
    expect(msgs.filter((m) => m.type === 'checkpoint').length).toBe(before);
    expect(msgs.filter((m) => m.type === 'epoch').at(-1)).toMatchObject({ epoch: 0 });
    expect(scopeKey(A)).toBe(`${A.model}|${A.data}`);
    expect(currentScope).toBeTypeOf('function');
  }, 120_000);
});
