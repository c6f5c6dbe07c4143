/**
 * Bring-your-own model in the studio, without a browser: the model slice alone (an import replaces the
 * model, a failure keeps it, a zoo pick drops the import), the import fields, the import worker's job
 * on real fixtures and bad files, the model controller with that job in a fake worker, the project
 * snapshot and file round trip, and the training worker evaluating an imported model with 0 epochs
 * (set-model) on the CPU backend, then restoring its float checkpoint.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createStore } from 'zustand/vanilla';
import type { ImageDataset } from '../src/data/dataset.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { decodeCheckpoint } from '../src/io/checkpoint.ts';
import { importOnnx } from '../src/io/onnx/import.ts';
import type { TrainJobConfig, WorkerMessage } from '../src/train/protocol.ts';
import { validateConfig } from '../src/train/protocol.ts';
import { createTrainingHost } from '../src/train/training.worker.ts';
import { floatModelFor } from '../src/train/model-job.ts';
import { createModelSlice, modelIdOf, type ImportedModel, type ModelSlice } from '../src/ui/store/model-slice.ts';
import { createStudioStore } from '../src/ui/store/studio-store.ts';
import { isImportedModel, modelChoiceOf, parseImportFields, toImportedModel, EMPTY_FIELDS } from '../src/ui/features/model/imported-model.ts';
import { handleImport, type ImportReply, type ImportRequest } from '../src/ui/features/model/onnx-import.worker.ts';
import { createModelController, type ImportWorkerLike } from '../src/ui/features/model/model-controller.ts';
import { snapshotOf, stateFromSnapshot, validateSnapshot } from '../src/ui/persist/snapshot.ts';
import { decodeProjectFile, encodeProjectFile } from '../src/ui/persist/project-file.ts';
import { MODEL_NAMES } from '../src/models/zoo.ts';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`./fixtures/onnx/${name}`, import.meta.url)));
const imported = (name: string): ImportedModel => toImportedModel(name, importOnnx(fixture(name), name));

describe('model slice', () => {
  it('an import becomes the model, a failure keeps it, a zoo pick drops it', () => {
    const store = createStore<ModelSlice>()(createModelSlice);
    const s = () => store.getState();
    expect(modelIdOf(s())).toBe('cnn-small');
    s().importStarted('mlp.onnx');
    expect(s().modelImport).toEqual({ status: 'importing', file: 'mlp.onnx', error: null });
    const m = imported('mlp.onnx');
    s().importDone(m);
    expect(s().imported).toBe(m);
    expect(s().modelImport.status).toBe('idle');
    expect(modelIdOf(s())).toBe('onnx:mlp.onnx');
    s().importStarted('bad.onnx');
    s().importFailed('bad.onnx', 'not a valid ONNX model');
    expect(s().imported).toBe(m);
    expect(s().modelImport).toEqual({ status: 'idle', file: null, error: { file: 'bad.onnx', message: 'not a valid ONNX model' } });
    s().dismissImportError();
    expect(s().modelImport.error).toBeNull();
    s().setModel('mlp');
    expect(s().imported).toBeNull();
    expect(modelIdOf(s())).toBe('mlp');
    expect(() => s().setModel('onnx:mlp.onnx')).toThrow(/unknown model/);
  });

  it('a config for the imported model validates once its name is known; 0 epochs is allowed', () => {
    const c: TrainJobConfig = { model: 'onnx:mlp.onnx', epochs: 0, batchSize: 32, lr: 1e-3, optimizer: 'adam', schedule: 'onecycle', seed: 0, trainImages: 64, testImages: 32 };
    expect(validateConfig(c, MODEL_NAMES).model).toMatch(/unknown model/);
    expect(validateConfig(c, [...MODEL_NAMES, 'onnx:mlp.onnx'])).toEqual({});
  });
});

describe('import fields', () => {
  it('parses shape, scale, mean and std, and names the bad fields', () => {
    expect(parseImportFields(EMPTY_FIELDS)).toEqual({ options: {}, errors: {} });
    expect(parseImportFields({ inputShape: '3x32x32', scale: '0.00392', mean: '0.5, 0.4,0.3', std: '0.2' }).options)
      .toEqual({ inputShape: [3, 32, 32], preprocessing: { scale: 0.00392, mean: [0.5, 0.4, 0.3], std: [0.2] } });
    expect(parseImportFields({ inputShape: '3 × 32 × 32', scale: '', mean: '', std: '' }).options).toEqual({ inputShape: [3, 32, 32] });
    const bad = parseImportFields({ inputShape: '32x32', scale: '-1', mean: 'a', std: '0' }).errors;
    expect(Object.keys(bad).sort()).toEqual(['inputShape', 'mean', 'scale', 'std']);
  });
});

describe('import worker job', () => {
  it('imports MobileNetV2 with its shape and encoded weights', () => {
    const r = handleImport({ id: 1, file: 'mobilenetv2.onnx', bytes: fixture('mobilenetv2.onnx'), options: { inputShape: [3, 32, 32] } });
    expect(r.type).toBe('done');
    const m = (r as Extract<ImportReply, { type: 'done' }>).model;
    expect(m.inputShape).toEqual([3, 32, 32]);
    expect(m.graph.nodes.filter((n) => n.op === 'batchnorm2d').length).toBe(52);
    expect(isImportedModel(m)).toBe(true);
    const choice = modelChoiceOf({ modelName: 'cnn-small', imported: m });
    expect(choice.kind).toBe('onnx');
    if (choice.kind === 'onnx') expect(Object.keys(choice.host).sort()).toEqual(m.graph.params.map((p) => p.name).sort());
  });

  it('a truncated file, random bytes and an unsupported op fail with a message, never a throw', () => {
    const mnv2 = fixture('mobilenetv2.onnx');
    const bytes = new Uint8Array(4096);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    for (const [file, b] of [['cut.onnx', mnv2.slice(0, mnv2.length >> 1)], ['noise.onnx', bytes]] as const) {
      const r = handleImport({ id: 2, file, bytes: b, options: {} });
      expect(r).toMatchObject({ type: 'failed', file });
      expect((r as { message: string }).message.length).toBeGreaterThan(10);
    }
    const shape = handleImport({ id: 3, file: 'mlp.onnx', bytes: fixture('mlp.onnx'), options: { inputShape: [3, 32, 32] } });
    expect(shape).toMatchObject({ type: 'failed', file: 'mlp.onnx', message: expect.stringMatching(/disagrees/) });
  });
});

/** A fake import worker that runs the real job (asynchronously, like a worker). */
function fakeWorker(): ImportWorkerLike & { requests: number } {
  const w: ImportWorkerLike & { requests: number } = {
    requests: 0, onmessage: null, onerror: null, terminate() {},
    postMessage(m: ImportRequest) {
      w.requests++;
      const reply = handleImport(m);
      queueMicrotask(() => w.onmessage?.({ data: reply }));
    },
  };
  return w;
}

const file = (name: string, bytes: Uint8Array) => ({ name, arrayBuffer: async () => bytes.slice().buffer });

describe('model controller', () => {
  it('imports into the store with the model\'s normalization; a bad file keeps the model', async () => {
    const store = createStudioStore();
    const w = fakeWorker();
    const ctl = createModelController(store, () => w);
    const s = () => store.getState();
    await ctl.importFile(file('fashion_cnn.onnx', fixture('fashion_cnn.onnx')), EMPTY_FIELDS);
    expect(s().imported?.file).toBe('fashion_cnn.onnx');
    expect(s().imported?.normalizationSource).toBe('file');
    expect(s().data.prep.normalize).toBe(s().imported?.normalization === 'pixel/255' ? 'pixel/255' : 'custom');
    const before = s().imported;
    await ctl.importFile(file('broken.onnx', new Uint8Array([1, 2, 3, 4, 5])), EMPTY_FIELDS);
    expect(s().imported).toBe(before);
    expect(s().modelImport.error?.file).toBe('broken.onnx');
    await ctl.importFile(file('x.onnx', fixture('mlp.onnx')), { ...EMPTY_FIELDS, inputShape: 'abc' });
    expect(s().modelImport.error).toMatchObject({ file: 'x.onnx', message: expect.stringMatching(/inputShape/) });
    expect(w.requests).toBe(2); // bad fields never reach the worker
    await ctl.importFile(file('mlp.onnx', fixture('mlp.onnx')), { ...EMPTY_FIELDS, scale: '1', mean: '0.5', std: '0.25' });
    expect(s().imported?.normalizationSource).toBe('options');
    expect(s().data.prep).toMatchObject({ normalize: 'custom', mean: [0.5 / 255], std: [0.25 / 255] });
    ctl.dispose();
  });

  it('the imported model survives the project snapshot and project file', () => {
    const store = createStudioStore();
    store.getState().importDone(imported('residual.onnx'));
    const snap = validateSnapshot(decodeProjectFile(encodeProjectFile(snapshotOf(store.getState())), 'p.qsproj'), 'p');
    const st = stateFromSnapshot(snap);
    expect(st.imported?.file).toBe('residual.onnx');
    expect(st.imported?.graph.nodes.length).toBe(store.getState().imported!.graph.nodes.length);
    const a = decodeCheckpoint(st.imported!.weights).params, b = decodeCheckpoint(store.getState().imported!.weights).params;
    expect(Object.keys(a)).toEqual(Object.keys(b));
    for (const k of Object.keys(a)) expect(a[k]).toEqual(b[k]);
    expect(() => validateSnapshot({ ...snap, imported: { file: 'x.onnx' } }, 'p')).toThrow(/damaged/);
  });
});

const toy = (count: number, name: string): ImageDataset => {
  const images = new Uint8Array(count * 784), labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) { labels[i] = i % 10; for (let k = 0; k < 784; k++) images[i * 784 + k] = (k * 7 + i * 31) & 255; }
  return { name, images, labels, count, channels: 1, height: 28, width: 28, numClasses: 10, classNames: [...'0123456789'] };
};

describe('training worker with an imported model', () => {
  it('floatModelFor: the import\'s own weights (copied), and a clear error for other data', () => {
    const m = importOnnx(fixture('mlp.onnx'), 'mlp.onnx');
    const choice = { kind: 'onnx' as const, name: 'onnx:mlp.onnx', graph: m.graph, host: m.host };
    const cfg: TrainJobConfig = { model: 'onnx:mlp.onnx', epochs: 0, batchSize: 8, lr: 1e-3, optimizer: 'adam', schedule: 'constant', seed: 0, trainImages: 8, testImages: 8 };
    const r = floatModelFor(cfg, choice, [1, 28, 28], 10);
    expect(r.graph).toBe(m.graph);
    const k = m.graph.params[0].name;
    expect(r.host[k]).toEqual(m.host[k]);
    expect(r.host[k]).not.toBe(m.host[k]);
    expect(() => floatModelFor(cfg, choice, [3, 32, 32], 10)).toThrow(/takes 1x28x28 inputs/);
    expect(() => floatModelFor(cfg, null, [1, 28, 28], 10)).toThrow(/not sent to the worker/);
  });

  it('set-model + start with 0 epochs evaluates it; its float checkpoint restores with the graph', async () => {
    const msgs: WorkerMessage[] = [];
    let done: () => void = () => {};
    const finished = new Promise<void>((r) => { done = r; });
    const handle = createTrainingHost({
      post: (m) => { msgs.push(m); if (m.type === 'done' || m.type === 'error') done(); },
      createBackend: async () => ({ backend: createCpuBackend(), reason: 'test' }),
      loadData: async () => ({ train: toy(16, 't/train'), test: toy(16, 't/test'), source: 'toy' }),
    });
    const m = importOnnx(fixture('mlp.onnx'), 'mlp.onnx');
    handle({ type: 'init', prefer: 'cpu' });
    handle({ type: 'set-model', model: { kind: 'onnx', name: 'onnx:mlp.onnx', graph: m.graph, host: m.host } });
    handle({ type: 'start', config: { model: 'onnx:mlp.onnx', epochs: 0, batchSize: 8, lr: 1e-3, optimizer: 'adam', schedule: 'constant', seed: 0, trainImages: 16, testImages: 16 } });
    await finished;
    expect(msgs.find((x) => x.type === 'error')).toBeUndefined();
    expect(msgs.find((x) => x.type === 'started')).toMatchObject({ totalSteps: 0, testImages: 16 });
    const ep = msgs.find((x) => x.type === 'epoch');
    expect(ep).toMatchObject({ epoch: 0 });
    expect((ep as { acc1: number }).acc1).toBeGreaterThanOrEqual(0);
    const ck = msgs.find((x): x is Extract<WorkerMessage, { type: 'checkpoint' }> => x.type === 'checkpoint')!;
    const c = decodeCheckpoint(ck.bytes);
    expect(c.model).toBe('onnx:mlp.onnx');
    for (const p of m.graph.params) expect(c.params[p.name]).toEqual(m.host[p.name]); // evaluation changes nothing
    expect((c.meta as { graph?: unknown }).graph).toBeTruthy();
    msgs.length = 0;
    handle({ type: 'restore', float: ck.bytes, calib: null, qat: null });
    expect(msgs.filter((x) => x.type === 'error')).toEqual([]);
  });
});
