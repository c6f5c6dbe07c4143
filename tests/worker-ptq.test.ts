/**
 * The training worker's calibration job with the PTQ algorithms (the page's settings): int4 weights, automatic
 * calibration and AdaRound run after the observers, report progress, keep their per-site / per-layer results with
 * the calibration (quant-done) and in its checkpoint, and can be cancelled.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { TrainTestData } from '../src/data/dataset.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { decodeQuantCheckpoint } from '../src/quant/quant-checkpoint.ts';
import type { TrainJobConfig, WorkerMessage } from '../src/train/protocol.ts';
import type { CalibJobConfig } from '../src/train/quant-protocol.ts';
import { createTrainingHost } from '../src/train/training.worker.ts';
import type { Backend } from '../src/engine/backend.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { toy } from './helpers/in-process-training.ts';

const toyData = (): TrainTestData => ({ train: toy(64, 'toy/train'), test: toy(32, 'toy/test'), source: 'toy' });
const FLOAT: TrainJobConfig = { model: 'mlp', epochs: 1, batchSize: 32, lr: 5e-3, optimizer: 'adam', schedule: 'onecycle', seed: 0, trainImages: 64, testImages: 32 };
const CALIB: CalibJobConfig = {
  quant: { march: 'bayes', template: 'default_calibration', observer: 'minmax', overrides: [], quantStubScale: null, weightBits: 4 },
  batches: 2, batchSize: 16, testImages: 32,
  ptq: { autoCalib: { candidates: ['minmax', 'mse'] }, adaround: { numSteps: 6, numBatches: 1 } },
};

function host(backend: () => Promise<Backend> = async () => createCpuBackend()) {
  const msgs: WorkerMessage[] = [];
  const waits: { type: string; resolve: () => void; when?: (m: WorkerMessage) => boolean }[] = [];
  const handle = createTrainingHost({
    post: (m) => {
      msgs.push(m);
      for (const w of [...waits]) if (m.type === w.type && (!w.when || w.when(m))) { waits.splice(waits.indexOf(w), 1); w.resolve(); }
    },
    createBackend: async () => ({ backend: await backend() }),
    loadData: async () => toyData(),
  });
  const next = (type: WorkerMessage['type'], when?: (m: WorkerMessage) => boolean) => new Promise<void>((resolve) => waits.push({ type, resolve, when }));
  const all = <T extends WorkerMessage['type']>(type: T) => msgs.filter((m): m is Extract<WorkerMessage, { type: T }> => m.type === type);
  return { handle, next, all };
}

describe('training worker: PTQ in the calibration job', () => {
  it('int4 + automatic calibration + AdaRound: results in quant-done and in the checkpoint', async () => {
    const h = host();
    h.handle({ type: 'init', prefer: 'cpu' });
    let done = h.next('done');
    h.handle({ type: 'start', config: FLOAT });
    await done;
    done = h.next('quant-done');
    h.handle({ type: 'calibrate', config: CALIB });
    await done;
    const cal = h.all('quant-done')[0];
    expect(cal.ptq?.autoCalib?.choices.map((c) => c.site)).toEqual(Object.keys(cal.scales.activations));
    for (const c of cal.ptq!.autoCalib!.choices) expect(['minmax', 'mse']).toContain(c.observer);
    expect(cal.ptq?.adaround?.layers.map((l) => l.node)).toEqual(['fc1', 'fc2', 'fc3']);
    expect(cal.ptq?.adaround?.config.numSteps).toBe(6);
    expect(h.all('quant-progress').some((p) => p.phase === 'adaround' && p.total === 3 * 6)).toBe(true);
    const trials = (Object.keys(cal.scales.activations).length + 1) * 2; // (the whole model + every activation site) x 2 candidates
    expect(h.all('quant-progress').some((p) => p.phase === 'auto-calib' && p.total === trials)).toBe(true);
    const ck = decodeQuantCheckpoint(h.all('checkpoint').find((c) => c.stage === 'calib')!.bytes, 'calib');
    expect(ck.qconfig.weight.dtype).toBe('qint4');
    expect((ck.meta.ptq as { adaround: { config: { numSteps: number } } }).adaround.config.numSteps).toBe(6);
  }, 120_000);

  it('cancel stops AdaRound', async () => {
    const h = host();
    h.handle({ type: 'init', prefer: 'cpu' });
    const done = h.next('done');
    h.handle({ type: 'start', config: FLOAT });
    await done;
    const c = h.next('quant-cancelled');
    const started = h.next('quant-progress', (m) => m.type === 'quant-progress' && m.total === 300000);
    h.handle({ type: 'calibrate', config: { ...CALIB, ptq: { autoCalib: null, adaround: { numSteps: 100000, numBatches: 1 } } } });
    await started;
    h.handle({ type: 'cancel' });
    await c;
    expect(h.all('quant-done')).toHaveLength(0);
  }, 120_000);
});

describe('training worker: AdaRound on the WebGPU engine', () => {
  afterAll(() => destroyTestBackend());

  it('reports progress per layer step and stops on cancel', async () => {
    const h = host(getTestBackend);
    h.handle({ type: 'init', prefer: 'auto' });
    const done = h.next('done');
    h.handle({ type: 'start', config: FLOAT });
    await done;
    const c = h.next('quant-cancelled');
    // Progress of AdaRound (3 layers x 100 000 steps) that has really advanced, then the cancel.
    const moving = h.next('quant-progress', (m) => m.type === 'quant-progress' && m.total === 300000 && m.done >= 20);
    h.handle({ type: 'calibrate', config: { ...CALIB, ptq: { autoCalib: null, adaround: { numSteps: 100000, numBatches: 1 } } } });
    await moving;
    h.handle({ type: 'cancel' });
    await c;
    expect(h.all('quant-done')).toHaveLength(0);
    expect(h.all('ready')[0].backend).toBe('webgpu');
    const p = h.all('quant-progress').filter((m) => m.total === 300000);
    expect(p.every((m, i) => i === 0 || m.done >= p[i - 1].done)).toBe(true);
  }, 120_000);
});
