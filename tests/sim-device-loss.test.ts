/**
 * The simulator host keeps working after its WebGPU device is lost: the next `webgpu` run acquires a fresh device
 * (src/sim/live-gpu.ts), re-uploads the weights and gives the same outputs as before the loss; a loss in the middle of
 * a run retries the batch on a fresh device. Loss is provoked as in device-loss.test.ts, with `device.destroy()`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { acquireNodeDevice } from '../src/engine/webgpu/node-gpu.ts';
import { GpuContext } from '../src/engine/webgpu/gpu-context.ts';
import { buildModel } from '../src/models/zoo.ts';
import { initHostParams } from '../src/nn/params.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { convert } from '../src/quant/convert.ts';
import { encodeModelFile } from '../src/sim/model-file.ts';
import { SimClient } from '../src/sim/client.ts';
import { spawnInProcessSim } from '../src/sim/in-process.ts';
import { runIntModel } from '../src/sim/run.ts';
import { mulberry32 } from './helpers/random.ts';

const devices: { ctx: GpuContext; gpu: unknown }[] = [];
afterAll(() => {
  for (const d of devices) if (!d.ctx.lost) d.ctx.device.destroy();
});

/** A fresh device per call, as the worker's navigator.gpu would give. */
async function freshGpu(): Promise<GpuContext> {
  const d = await acquireNodeDevice('auto');
  const ctx = new GpuContext(d.device);
  devices.push({ ctx, gpu: d.gpu });
  return ctx;
}

function modelBytes() {
  const g0 = buildModel('cnn-small');
  const f = fuse(g0, initHostParams(g0, 2));
  const plan = prepare(f.graph, qconfigTemplate('default_calibration'));
  const r = mulberry32(4);
  const scales: Record<string, number> = {};
  for (const a of plan.acts) scales[a.node] = Math.fround(0.01 + r() * 0.05);
  const im = convert(plan, f.host, scales);
  return { im, bytes: encodeModelFile(im) };
}

describe('simulator: WebGPU device loss', () => {
  it('a run after a loss gets a fresh device and the same outputs as the CPU simulator', async () => {
    const { im, bytes } = modelBytes();
    const r = mulberry32(9);
    const n = 3;
    const x = Float32Array.from({ length: n * 784 }, () => Math.fround(r()));
    const cpu = Array.from(runIntModel(im, x, n).output);
    const client = new SimClient(() => spawnInProcessSim({ gpu: freshGpu }));
    try {
      expect((await client.load(bytes, { device: 'webgpu' })).device).toBe('webgpu');
      expect(Array.from((await client.run([{ x, n }])).outputs[0])).toEqual(cpu);
      expect(devices).toHaveLength(1);

      devices[0].ctx.device.destroy(); // the GPU goes away between two runs
      await new Promise((res) => setTimeout(res, 10));
      expect(devices[0].ctx.lost).not.toBeNull();
      expect(Array.from((await client.run([{ x, n }])).outputs[0])).toEqual(cpu);
      expect(devices).toHaveLength(2);

      // lost in the middle of a run (after its first batch): the next batch runs on a fresh device
      const out = await client.run([{ x, n }, { x, n }], {
        onProgress: (p) => { if (p.batch === 1) devices[1].ctx.device.destroy(); },
      });
      expect(out.outputs.map((o) => Array.from(o))).toEqual([cpu, cpu]);
      expect(devices).toHaveLength(3);
      // and a later load on webgpu uses the live device, not a lost one
      expect((await client.load(bytes, { device: 'webgpu' })).device).toBe('webgpu');
      expect(Array.from((await client.run([{ x, n }])).outputs[0])).toEqual(cpu);
      expect(devices).toHaveLength(3);
    } finally {
      client.dispose();
    }
  });
});
