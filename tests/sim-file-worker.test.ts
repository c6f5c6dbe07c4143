/**
 * The deployable model file (round trip with bit-identical outputs; corruption and truncation refused) and the
 * simulator worker protocol: the client with a fake worker (progress, cancel by AbortSignal terminating the worker,
 * errors as messages, crash) and with the in-process host (the same code as the Web Worker).
 */
import { describe, expect, it } from 'vitest';
import { buildModel } from '../src/models/zoo.ts';
import { initHostParams } from '../src/nn/params.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { convert, type IntModel } from '../src/quant/convert.ts';
import { runIntModel } from '../src/sim/run.ts';
import { crc32, decodeModelFile, encodeModelFile, ModelFileError } from '../src/sim/model-file.ts';
import { SimClient, SimJobError, type SimWorkerLike } from '../src/sim/client.ts';
import { spawnInProcessSim } from '../src/sim/in-process.ts';
import { isSimRequest, isSimResponse, type SimRequest } from '../src/sim/protocol.ts';
import { mulberry32 } from './helpers/random.ts';

function model(name = 'cnn-small', width?: number): IntModel {
  const g0 = buildModel(name, { width });
  const f = fuse(g0, initHostParams(g0, 2));
  const plan = prepare(f.graph, qconfigTemplate('default_calibration'));
  const r = mulberry32(4);
  const scales: Record<string, number> = {};
  for (const a of plan.acts) scales[a.node] = Math.fround(0.01 + r() * 0.05);
  return convert(plan, f.host, scales);
}

/** Fast exact equality of typed arrays (vitest's deep equality is slow on large ones). */
const same = (a: ArrayBufferView, b: ArrayBufferView) =>
  a.constructor === b.constructor && Buffer.compare(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), new Uint8Array(b.buffer, b.byteOffset, b.byteLength)) === 0;

const input = (n: number, seed = 1) => {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n * 784 }, () => Math.fround(r()));
};

describe('model file', () => {
  it('CRC-32 matches zlib on the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('round trip: the loaded model runs bit-identically (cnn-small, mobilenetv2-mini)', () => {
    for (const m of [model(), model('mobilenetv2-mini', 0.5)]) {
      const bytes = encodeModelFile(m);
      const back = decodeModelFile(bytes, 'model.qsbin');
      expect(same(encodeModelFile(back), bytes)).toBe(true);
      const x = input(3);
      const a = runIntModel(m, x, 3, { dump: true });
      const b = runIntModel(back, x, 3, { dump: true });
      expect(same(b.output, a.output)).toBe(true);
      for (const [id, t] of a.dumps) expect(same(b.dumps.get(id)!.data, t.data), id).toBe(true);
    }
  });

  it('refuses truncated, corrupted and foreign files with an error naming the file and the problem', () => {
    const bytes = encodeModelFile(model());
    const err = (b: Uint8Array) => {
      try {
        decodeModelFile(b, 'runs/x/model.qsbin');
      } catch (e) {
        expect(e).toBeInstanceOf(ModelFileError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(err(bytes.subarray(0, 10))).toMatch(/^runs\/x\/model\.qsbin: truncated: 10 bytes/);
    expect(err(bytes.subarray(0, bytes.length - 100))).toMatch(/^runs\/x\/model\.qsbin: truncated: \d+ bytes, the header says \d+/);
    const flipped = bytes.slice();
    flipped[flipped.length - 5] ^= 0x10; // one bit of a weight
    expect(err(flipped)).toMatch(/corrupted: CRC-32 mismatch/);
    const hdr = bytes.slice();
    hdr[40] ^= 0x01; // inside the JSON header
    expect(err(hdr)).toMatch(/CRC-32 mismatch/);
    const magic = bytes.slice();
    magic[0] = 0x50;
    expect(err(magic)).toMatch(/not a Quant Studio model file/);
    const ver = bytes.slice();
    new DataView(ver.buffer).setUint32(4, 9, true);
    expect(err(ver)).toMatch(/unsupported model file version 9/);
    expect(err(new Uint8Array([...bytes, 0]))).toMatch(/unexpected bytes after the end/);
  });
});

class FakeWorker implements SimWorkerLike {
  sent: SimRequest[] = [];
  terminated = false;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: { message?: string; preventDefault?: () => void }) => void) | null = null;
  postMessage(msg: SimRequest): void { this.sent.push(msg); }
  terminate(): void { this.terminated = true; }
  emit(data: unknown): void { this.onmessage?.({ data }); }
  last(): SimRequest { return this.sent[this.sent.length - 1]; }
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('simulator protocol and client', () => {
  it('recognises its own messages only', () => {
    expect(isSimResponse({ type: 'progress', job: 1 })).toBe(true);
    expect(isSimResponse({ type: 'progress' })).toBe(false);
    expect(isSimResponse({ type: 'webpackOk', job: 1 })).toBe(false);
    expect(isSimRequest({ type: 'run', job: 2, batches: [] })).toBe(true);
  });

  it('fake worker: jobs are queued one at a time; progress reaches the caller; errors come back as rejections', async () => {
    const workers: FakeWorker[] = [];
    const client = new SimClient(() => { const w = new FakeWorker(); workers.push(w); return w; });
    const loaded = client.load(new Uint8Array([1, 2, 3]));
    const progress: number[] = [];
    const run = client.run([{ x: new Float32Array(784), n: 1 }, { x: new Float32Array(784), n: 1 }], { onProgress: (p) => progress.push(p.batch) });
    const w = workers[0];
    expect(w.sent.map((m) => m.type)).toEqual(['load']); // the run waits for the load
    w.emit({ type: 'loaded', job: w.last().job, info: { name: 'm', march: 'bayes', inputShape: [1, 28, 28], numClasses: 10, layers: 3, values: [] } });
    expect((await loaded).name).toBe('m');
    await tick();
    const job = w.last().job;
    expect(w.last().type).toBe('run');
    w.emit({ type: 'progress', job, batch: 1, batches: 2, images: 1, totalImages: 2, imagesPerSecond: 1 });
    w.emit({ type: 'progress', job: job + 99, batch: 7, batches: 2, images: 1, totalImages: 2, imagesPerSecond: 1 }); // foreign job: ignored
    w.emit({ type: 'progress', job, batch: 2, batches: 2, images: 2, totalImages: 2, imagesPerSecond: 1 });
    w.emit({ type: 'result', job, outputs: [new Float32Array(10), new Float32Array(10)], seconds: 1, imagesPerSecond: 2 });
    expect((await run).outputs).toHaveLength(2);
    expect(progress).toEqual([1, 2]);
    const bad = client.run([{ x: new Float32Array(5), n: 1 }]);
    await tick();
    w.emit({ type: 'error', job: w.last().job, message: 'input has 5 values' });
    await expect(bad).rejects.toThrow(SimJobError);
    await expect(bad).rejects.toThrow('input has 5 values');
  });

  it('fake worker: aborting the running job terminates the worker; the next job gets a fresh worker and the model back', async () => {
    const workers: FakeWorker[] = [];
    const client = new SimClient(() => { const w = new FakeWorker(); workers.push(w); return w; });
    const loaded = client.load(new Uint8Array([9]));
    workers[0].emit({ type: 'loaded', job: workers[0].last().job, info: { name: 'm', march: 'bayes', inputShape: [1], numClasses: 10, layers: 1, values: [] } });
    await loaded;
    const ac = new AbortController();
    const run = client.run([{ x: new Float32Array(1), n: 1 }], { signal: ac.signal });
    const queued = client.run([{ x: new Float32Array(1), n: 1 }]);
    await tick();
    ac.abort();
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(workers[0].terminated).toBe(true);
    // the queued run went to a fresh worker, preceded by the automatic reload of the model
    const w2 = workers[1];
    expect(w2.sent.map((m) => m.type)).toEqual(['load', 'run']);
    expect(Array.from((w2.sent[0] as Extract<SimRequest, { type: 'load' }>).bytes)).toEqual([9]);
    w2.emit({ type: 'loaded', job: w2.sent[0].job, info: { name: 'm', march: 'bayes', inputShape: [1], numClasses: 10, layers: 1, values: [] } });
    w2.emit({ type: 'result', job: w2.sent[1].job, outputs: [new Float32Array(10)], seconds: 0, imagesPerSecond: 1 });
    expect((await queued).outputs).toHaveLength(1);
    // aborting a queued (not started) job just drops it
    const ac2 = new AbortController();
    const first = client.run([{ x: new Float32Array(1), n: 1 }]);
    const second = client.run([{ x: new Float32Array(1), n: 1 }], { signal: ac2.signal });
    ac2.abort();
    await expect(second).rejects.toMatchObject({ name: 'AbortError' });
    expect(w2.terminated).toBe(false);
    w2.emit({ type: 'result', job: w2.last().job, outputs: [], seconds: 0, imagesPerSecond: 0 });
    await first;
  });

  it('fake worker: a crashed worker rejects the running job with a clear message', async () => {
    const workers: FakeWorker[] = [];
    const client = new SimClient(() => { const w = new FakeWorker(); workers.push(w); return w; });
    const p = client.load(new Uint8Array([1]));
    workers[0].onerror?.({ message: 'SyntaxError in sim.worker.ts' });
    await expect(p).rejects.toThrow(/simulator worker failed: SyntaxError in sim.worker.ts/);
    expect(workers[0].terminated).toBe(true);
  });

  it('in-process host: load, progress, bit-identical results, cancel, and a corrupt file refused as a message', async () => {
    const m = model();
    const bytes = encodeModelFile(m);
    const client = new SimClient(spawnInProcessSim);
    const info = await client.load(bytes, { file: 'model.qsbin' });
    expect(info.name).toBe('cnn-small');
    const batches = [0, 1, 2].map((i) => ({ x: input(2, 10 + i), n: 2 }));
    const seen: number[] = [];
    const r = await client.run(batches, { dump: ['quant', 'fc'], onProgress: (p) => seen.push(p.images) });
    expect(seen).toEqual([2, 4, 6]);
    batches.forEach((b, i) => {
      const direct = runIntModel(m, b.x, 2, { dump: ['fc'] });
      expect(same(r.outputs[i], direct.output)).toBe(true);
      expect(same(r.dumps![i].fc.data, direct.dumps.get('fc')!.data)).toBe(true);
      expect(r.dumps![i].quant.data).toBeInstanceOf(Int8Array);
    });
    const ac = new AbortController();
    const cancelled = client.run(Array.from({ length: 50 }, (_, i) => ({ x: input(2, i), n: 2 })), { signal: ac.signal, onProgress: (p) => { if (p.batch === 2) ac.abort(); } });
    await expect(cancelled).rejects.toMatchObject({ name: 'AbortError' });
    // after the terminate, the next run reloads the model in a fresh host
    const again = await client.run([batches[0]]);
    expect(same(again.outputs[0], r.outputs[0])).toBe(true);
    const bad = bytes.slice(0, 100);
    await expect(client.load(bad, { file: 'broken.qsbin' })).rejects.toThrow(/^broken\.qsbin: truncated/);
    client.dispose();
  });
});
