/** The client's calibration / QAT jobs (fake worker) and the decode worker host (fake image decoder). */
import { describe, expect, it, vi } from 'vitest';
import { zipSync } from 'fflate';
import { TrainingClient, type WorkerLike } from '../src/train/client.ts';
import type { TrainRequest, WorkerMessage } from '../src/train/protocol.ts';
import type { CalibJobConfig } from '../src/train/quant-protocol.ts';
import { createDecodeHost } from '../src/data/decode.worker.ts';
import type { DecodeMessage } from '../src/data/decode-protocol.ts';
import { makePng } from './helpers/png.ts';

class FakeWorker implements WorkerLike {
  sent: TrainRequest[] = [];
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: { message?: string }) => void) | null = null;
  terminated = false;
  postMessage(m: TrainRequest) { this.sent.push(m); }
  terminate() { this.terminated = true; }
  emit(d: unknown) { this.onmessage?.({ data: d }); }
}

const CALIB: CalibJobConfig = { quant: { march: 'bayes', template: 'default_calibration', observer: null, overrides: [], quantStubScale: null }, batches: 1, batchSize: 8, testImages: 8 };

describe('training client: quantization jobs', () => {
  it('runs one job at a time and ends it on quant-done / quant-error', () => {
    const ws: FakeWorker[] = [];
    const c = new TrainingClient(() => { const w = new FakeWorker(); ws.push(w); return w; });
    const got: WorkerMessage[] = [];
    c.subscribe((m) => got.push(m));
    c.setData({ kind: 'builtin' }, { yuv: false, normalize: 'pixel/255' });
    c.calibrate(CALIB);
    expect(c.job).toBe('calib');
    expect(() => c.qat({ ...CALIB, epochs: 1, lr: 1e-3, optimizer: 'sgd', seed: 0, trainImages: 8 })).toThrow(/another job/);
    expect(() => c.setData({ kind: 'builtin' }, { yuv: false, normalize: 'pixel/255' })).toThrow(/while a job runs/);
    ws[0].emit({ type: 'quant-done', stage: 'calib', acc1: 1, acc5: 2, seconds: 0, scales: { activations: {}, weights: {} }, histograms: [] });
    expect(c.job).toBeNull();
    c.qat({ ...CALIB, epochs: 1, lr: 1e-3, optimizer: 'sgd', seed: 0, trainImages: 8 });
    ws[0].emit({ type: 'quant-error', stage: 'qat', message: 'x' });
    expect(c.phase).toBe('idle');
    expect(ws[0].sent.map((m) => m.type)).toEqual(['init', 'set-data', 'calibrate', 'qat']);
    expect(got.map((m) => m.type)).toEqual(['quant-done', 'quant-error']);
  });

  it('a cancel the worker does not answer ends a calibration with quant-cancelled', () => {
    vi.useFakeTimers();
    const ws: FakeWorker[] = [];
    const c = new TrainingClient(() => { const w = new FakeWorker(); ws.push(w); return w; }, { cancelTimeoutMs: 100 });
    const got: WorkerMessage[] = [];
    c.subscribe((m) => got.push(m));
    c.calibrate(CALIB);
    c.cancel();
    vi.advanceTimersByTime(150);
    expect(got).toEqual([{ type: 'quant-cancelled', stage: 'calib' }]);
    expect(ws[0].terminated).toBe(true);
    expect(c.job).toBeNull();
    vi.useRealTimers();
  });
});

describe('decode worker host', () => {
  const decodeImage = async (b: Uint8Array) => ({ width: 2, height: 2, rgba: new Uint8Array(16).fill(b[0]) });
  const run = async (files: { path: string; bytes: Uint8Array }[]) => {
    const out: DecodeMessage[] = [];
    const host = createDecodeHost({ post: (m) => out.push(m), decodeImage, readBlob: async (b) => new Uint8Array(await b.arrayBuffer()) });
    await host({ type: 'decode', id: 7, files: files.map((f) => ({ path: f.path, blob: new Blob([f.bytes as Uint8Array<ArrayBuffer>]) })), resize: null, source: 'drop' });
    return out;
  };
  it('decodes a zip of class folders with progress, and names a bad file', async () => {
    const png = (v: number) => makePng(2, 2, () => v); // real PNG headers: they are checked before decoding
    const zip = zipSync({ 'a/1.png': png(10), 'a/2.png': png(20), 'b/3.png': png(30), 'b/4.png': png(40) });
    const out = await run([{ path: 'set.zip', bytes: zip }]);
    expect(out.filter((m) => m.type === 'progress').length).toBeGreaterThan(2);
    const done = out.at(-1)!;
    expect(done.type).toBe('decoded');
    if (done.type === 'decoded') expect(done.summary).toMatchObject({ kind: 'zip', classNames: ['a', 'b'], trainCount: 2, testCount: 2, shape: [1, 2, 2] });
    const bad = await run([{ path: 'x.zip', bytes: new Uint8Array(100) }]);
    expect(bad.at(-1)).toMatchObject({ type: 'failed', id: 7, file: 'x.zip' });
  });
});
