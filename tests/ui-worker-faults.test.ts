/**
 * The page's workers when they die: the data controller with the real decode host in a worker thread
 * (tests/helpers/decode-thread.worker.ts) that dies during a job: the store shows an error naming the decode worker
 * instead of staying on "decoding", the loaded data stays, and the next drop is decoded in a fresh thread.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createStudioStore } from '../src/ui/store/studio-store.ts';
import { createDataController } from '../src/ui/features/data/data-controller.ts';
import { TrainingClient } from '../src/train/client.ts';
import { spawnNodeWorker, type NodeWorker } from './helpers/node-worker.ts';

const DECODE_WORKER = new URL('./helpers/decode-thread.worker.ts', import.meta.url);

function idx(magic: number, dims: number[], body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + body.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, magic);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d));
  out.set(body, 4 + 4 * dims.length);
  return out;
}

function idxFiles(n: number) {
  const images = Uint8Array.from({ length: n * 28 * 28 }, (_, i) => (i * 13) & 255);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  const f = (path: string, bytes: Uint8Array) => ({ path, blob: new Blob([bytes as Uint8Array<ArrayBuffer>]) });
  return [
    f('train-images-idx3-ubyte', idx(0x803, [n, 28, 28], images)), f('train-labels-idx1-ubyte', idx(0x801, [n], labels)),
    f('t10k-images-idx3-ubyte', idx(0x803, [n, 28, 28], images)), f('t10k-labels-idx1-ubyte', idx(0x801, [n], labels)),
  ];
}

let threads: NodeWorker[] = [];
afterEach(async () => {
  for (const t of threads) t.terminate();
  await Promise.all(threads.map((t) => t.exited));
  threads = [];
});

const until = async (f: () => boolean, ms = 20_000) => {
  const t0 = Date.now();
  while (!f()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('a decode worker that dies', () => {
  it('ends "decoding" with an error naming the worker; the data stays; the next drop decodes in a fresh thread', async () => {
    const store = createStudioStore();
    const st = () => store.getState();
    const client = new TrainingClient(() => { throw new Error('not used here'); });
    const ctl = createDataController(store, client, () => {
      const t = spawnNodeWorker(DECODE_WORKER);
      threads.push(t);
      return t;
    });
    try {
      ctl.decode(idxFiles(20), 'first');
      await until(() => st().data.status !== 'decoding');
      expect(st().data.error).toBeNull();
      expect(st().data.status).toBe('ready');
      const first = st().data.dataset;
      expect(first?.train.count).toBe(20);

      ctl.loadBuiltin(); // the thread dies during this job
      expect(st().data.status).toBe('decoding');
      await until(() => st().data.status !== 'decoding');
      expect(st().data.error).toEqual({ file: 'built-in data', message: 'decode worker failed: the thread exited with code 1' });
      expect(st().data.dataset).toBe(first); // the previous data stays loaded
      expect(st().data.status).toBe('ready');

      ctl.decode(idxFiles(30), 'second');
      await until(() => st().data.status !== 'decoding');
      expect(st().data.error).toBeNull();
      expect(st().data.dataset?.train.count).toBe(30);
      expect(threads).toHaveLength(2);
    } finally {
      ctl.dispose();
      client.dispose();
    }
  });
});
