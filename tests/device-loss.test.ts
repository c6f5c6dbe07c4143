/**
 * Device loss: a lost WebGPU device is reported as an error naming it, and training resumes on a
 * re-created engine from the last checkpoint (what the CLI float stage and the training worker do).
 */
import { describe, expect, it } from 'vitest';
import { acquireNodeDevice } from '../src/engine/webgpu/node-gpu.ts';
import { WebGpuBackend } from '../src/engine/webgpu/webgpu-backend.ts';
import { buildModel } from '../src/models/zoo.ts';
import { initHostParams, ParamStore, type HostParams } from '../src/nn/params.ts';
import { train } from '../src/train/trainer.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../src/io/checkpoint.ts';
import type { ImageDataset } from '../src/data/dataset.ts';
import { mulberry32 } from './helpers/random.ts';

async function newBackend(): Promise<WebGpuBackend> {
  const d = await acquireNodeDevice('auto');
  return new WebGpuBackend(d.device, d.adapterName, d.gpu);
}

function data(n: number): ImageDataset {
  const r = mulberry32(11);
  return {
    name: 'synthetic', count: n, channels: 1, height: 28, width: 28, numClasses: 10, classNames: [],
    images: Uint8Array.from({ length: n * 784 }, () => Math.floor(r() * 256)),
    labels: Uint8Array.from({ length: n }, (_, i) => i % 10),
  };
}

describe('WebGPU device loss', () => {
  it('is reported, and training resumes from the last checkpoint on a new device', async () => {
    const g = buildModel('mlp');
    const ds = data(128);
    const cfg = { epochs: 3, batchSize: 32, seed: 0, optimizer: { name: 'adam' as const, lr: 1e-3 }, schedule: 'constant' as const, evalEachEpoch: false };
    let checkpoint: Uint8Array | null = null;
    const shapes = Object.fromEntries(g.params.map((p) => [p.name, p.shape]));

    let be = await newBackend();
    let store = new ParamStore(be, g, initHostParams(g, 1));
    let lostError: unknown = null;
    try {
      await train(be, g, store, ds, null, cfg, {
        onEpoch: async (r) => {
          checkpoint = encodeCheckpoint({ model: 'mlp', stage: 'float', meta: { epochsDone: r.epoch }, params: await store.toHost(), shapes });
          if (r.epoch === 1) be.ctx.device.destroy(); // the GPU goes away after the first epoch
        },
      });
    } catch (e) {
      lostError = e;
    }
    expect(String(lostError)).toMatch(/device lost/i);
    expect(be.ctx.lost).not.toBeNull();

    const c = decodeCheckpoint(checkpoint!, 'float-checkpoint');
    expect(c.meta.epochsDone).toBe(1);
    be = await newBackend();
    store = new ParamStore(be, g, c.params);
    const restored: HostParams = await store.toHost();
    for (const name of Object.keys(c.params)) expect(Array.from(restored[name])).toEqual(Array.from(c.params[name]));
    const r = await train(be, g, store, ds, null, { ...cfg, startEpoch: 1 });
    expect(r.epochs.map((e) => e.epoch)).toEqual([2, 3]);
    expect(Number.isFinite(r.epochs[1].loss)).toBe(true);
    store.dispose();
    expect(be.liveTensors()).toBe(0);
    be.dispose();
  });
});
