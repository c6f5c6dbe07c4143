/**
 * The training worker host's data and quantization jobs on the CPU backend with toy data: a dropped
 * data set replaces the built-in one, float weights are kept and checkpointed, calibration reports
 * progress, scales and histograms, QAT trains from the calibration, restore brings the weights back.
 */
import { describe, expect, it } from 'vitest';
import type { ImageDataset, TrainTestData } from '../src/data/dataset.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { decodeCheckpoint } from '../src/io/checkpoint.ts';
import { decodeQuantCheckpoint } from '../src/quant/quant-checkpoint.ts';
import { ActHistogramCollector, binValues } from '../src/train/act-histograms.ts';
import type { TrainJobConfig, WorkerMessage } from '../src/train/protocol.ts';
import type { CalibJobConfig, QuantSettings } from '../src/train/quant-protocol.ts';
import { createTrainingHost } from '../src/train/training.worker.ts';

const toy = (count: number, name: string, c = 1): ImageDataset => {
  const size = c * 784, images = new Uint8Array(count * size), labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 10;
    for (let k = 0; k < 36; k++) images[i * size + (2 + (i % 5) * 5 + Math.floor(k / 6)) * 28 + 2 + Math.floor((i % 10) / 5) * 12 + (k % 6)] = 255;
  }
  return { name, images, labels, count, channels: c, height: 28, width: 28, numClasses: 10, classNames: [...'0123456789'] };
};
const toyData = (): TrainTestData => ({ train: toy(96, 'toy/train'), test: toy(32, 'toy/test'), source: 'toy' });

const FLOAT: TrainJobConfig = { model: 'cnn-small', epochs: 1, batchSize: 32, lr: 5e-3, optimizer: 'adam', schedule: 'onecycle', seed: 0, trainImages: 96, testImages: 32 };
const QUANT: QuantSettings = { march: 'bayes', template: 'default_calibration', observer: 'minmax', overrides: [], quantStubScale: null };
const CALIB: CalibJobConfig = { quant: QUANT, batches: 2, batchSize: 16, testImages: 32 };

function host() {
  const msgs: WorkerMessage[] = [];
  const waits: { type: string; resolve: () => void; from: number }[] = [];
  const handle = createTrainingHost({
    post: (m) => {
      msgs.push(m);
      for (const w of [...waits]) if (m.type === w.type) { waits.splice(waits.indexOf(w), 1); w.resolve(); }
    },
    createBackend: async () => ({ backend: createCpuBackend(), reason: 'test' }),
    loadData: async () => toyData(),
  });
  const next = (type: WorkerMessage['type']) => new Promise<void>((resolve) => waits.push({ type, resolve, from: msgs.length }));
  const all = <T extends WorkerMessage['type']>(type: T) => msgs.filter((m): m is Extract<WorkerMessage, { type: T }> => m.type === type);
  return { handle, msgs, next, all };
}

describe('training worker: data, calibration, QAT', () => {
  it('refuses to calibrate before a float model exists', async () => {
    const h = host();
    h.handle({ type: 'init', prefer: 'cpu' });
    const err = h.next('quant-error');
    h.handle({ type: 'calibrate', config: CALIB });
    await err;
    expect(h.all('quant-error')[0].message).toMatch(/train the float model first/);
  });

  it('trains on dropped data, calibrates with histograms, runs QAT and restores', async () => {
    const h = host();
    h.handle({ type: 'init', prefer: 'cpu' });
    const ready = h.next('data-ready');
    h.handle({ type: 'set-data', data: { kind: 'custom', data: { train: toy(64, 'mine/train'), test: toy(16, 'mine/test'), source: 'mine' } }, prep: { yuv: false, normalize: 'pixel/255' } });
    await ready;
    expect(h.all('data-ready')[0]).toMatchObject({ name: 'mine/train', trainImages: 64, testImages: 16, shape: [1, 28, 28] });

    let done = h.next('done');
    h.handle({ type: 'start', config: FLOAT });
    await done;
    expect(h.all('started')[0].trainImages).toBe(64);
    const floatCk = h.all('checkpoint').find((c) => c.stage === 'float')!;
    expect(decodeCheckpoint(floatCk.bytes).model).toBe('cnn-small');

    done = h.next('quant-done');
    h.handle({ type: 'calibrate', config: CALIB });
    await done;
    expect(h.all('quant-started')[0]).toMatchObject({ stage: 'calib', total: 2 });
    expect(h.all('quant-progress').map((p) => p.done)).toEqual([1, 2]);
    const cal = h.all('quant-done')[0];
    expect(cal.acc1).toBeGreaterThanOrEqual(0);
    expect(Object.keys(cal.scales.activations).length).toBeGreaterThan(2);
    expect(cal.histograms.length).toBe(Object.keys(cal.scales.activations).length);
    const hg = cal.histograms[0];
    expect(hg.counts.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(hg.clip[1]).toBeGreaterThan(0);
    const calCk = h.all('checkpoint').find((c) => c.stage === 'calib')!;
    expect(decodeQuantCheckpoint(calCk.bytes, 'c').graph.nodes.some((n) => n.attrs.fusedFrom)).toBe(true);

    done = h.next('quant-done');
    h.handle({ type: 'qat', config: { quant: { ...QUANT, template: 'default_qat' }, epochs: 1, batchSize: 32, lr: 1e-3, optimizer: 'sgd', seed: 0, trainImages: 64, testImages: 16, histogramImages: 32 } });
    await done;
    expect(h.all('quant-epoch')).toHaveLength(1);
    // The QAT model's histograms: every site, drawn from 32 images, clipped at the QAT scales (not calibration's).
    const qat = h.all('quant-done')[1];
    expect(qat.stage).toBe('qat');
    expect(qat.histograms.map((x) => x.node).sort()).toEqual(Object.keys(qat.scales.activations).sort());
    for (const x of qat.histograms) {
      const s = qat.scales.activations[x.node];
      expect(x.clip[1]).toBeCloseTo(127 * s, 6);
      expect(x.counts.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    }
    expect(h.all('quant-progress').filter((p) => p.stage === 'qat').length).toBe(2);
    expect(h.all('checkpoint').some((c) => c.stage === 'qat')).toBe(true);

    // A fresh worker restored from the checkpoints calibrates without training again.
    const h2 = host();
    h2.handle({ type: 'init', prefer: 'cpu' });
    h2.handle({ type: 'set-data', data: { kind: 'builtin' }, prep: { yuv: false, normalize: 'pixel/255' } });
    h2.handle({ type: 'restore', float: floatCk.bytes, calib: calCk.bytes, qat: null });
    const d2 = h2.next('quant-done');
    h2.handle({ type: 'calibrate', config: { ...CALIB, batches: 1 } });
    await d2;
    expect(h2.all('quant-done')).toHaveLength(1);
  });

  it('cancels a calibration', async () => {
    const h = host();
    h.handle({ type: 'init', prefer: 'cpu' });
    const done = h.next('done');
    h.handle({ type: 'start', config: { ...FLOAT, model: 'mlp' } });
    await done;
    const c = h.next('quant-cancelled');
    h.handle({ type: 'calibrate', config: { ...CALIB, batches: 50, batchSize: 1 } });
    await h.next('quant-progress');
    h.handle({ type: 'cancel' });
    await c;
    expect(h.all('quant-done')).toHaveLength(0);
  });

  it('rejects data of another shape than the float model', async () => {
    const h = host();
    h.handle({ type: 'init', prefer: 'cpu' });
    const done = h.next('done');
    h.handle({ type: 'start', config: { ...FLOAT, model: 'mlp' } });
    await done;
    h.handle({ type: 'set-data', data: { kind: 'custom', data: { train: toy(8, 'rgb', 3), test: toy(4, 'rgb', 3), source: 'rgb' } }, prep: { yuv: false, normalize: 'pixel/255' } });
    const e = h.next('quant-error');
    h.handle({ type: 'calibrate', config: CALIB });
    await e;
    expect(h.all('quant-error')[0].message).toMatch(/trained on 1x28x28 .* loaded data is 3x28x28/);
  });
});

describe('activation histograms', () => {
  it('bins values and keeps min / max and the clip range', () => {
    expect(binValues([-1, 0, 0.5, 1, 5], -1, 1, 4)).toEqual([1, 0, 1, 3]);
    const c = new ActHistogramCollector();
    c.add('a', new Float32Array([0, 1, 2, 3]));
    c.add('a', new Float32Array([4]));
    const [h] = c.finish(() => [-3, 3], 8);
    expect(h).toMatchObject({ node: 'a', min: 0, max: 4, clip: [-3, 3] });
    expect(h.counts.reduce((x, y) => x + y, 0)).toBe(5);
    expect(h.lo).toBeLessThan(0);
  });
});
