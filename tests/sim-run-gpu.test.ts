/**
 * The GPU execution path of the simulator (src/sim/run-gpu.ts runIntModelGpu: every layer on the WGSL integer
 * kernels, activations resident on the GPU) against the CPU simulator (runIntModel) on converted models:
 * cnn-small and mobilenetv2-mini at width 0.5 (depthwise, fused Conv+Add, ReLU6 clamps, global average pooling,
 * an int32 output), calibrated on synthetic images. 100 % equal: the dequantized output, the integer output and
 * every per-layer dump (values, typed-array types, shapes).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { buildModel } from '../src/models/zoo.ts';
import { initHostParams, ParamStore } from '../src/nn/params.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { convertQuantizedModel, type IntModel } from '../src/quant/convert.ts';
import { runIntModel } from '../src/sim/run.ts';
import { releaseGpuModel, runIntModelGpu } from '../src/sim/run-gpu.ts';
import type { ImageDataset } from '../src/data/dataset.ts';
import { encodeModelFile } from '../src/sim/model-file.ts';
import { SimClient } from '../src/sim/client.ts';
import { spawnInProcessSim } from '../src/sim/in-process.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { mulberry32 } from './helpers/random.ts';

afterAll(destroyTestBackend);

function images(n: number, seed: number): ImageDataset {
  const r = mulberry32(seed);
  const px = new Uint8Array(n * 784);
  for (let i = 0; i < n; i++) {
    const cx = 6 + r() * 16, cy = 6 + r() * 16, rad = 4 + r() * 8, amp = 120 + r() * 135;
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
      const d = Math.hypot(x - cx, y - cy);
      px[i * 784 + y * 28 + x] = Math.max(0, Math.min(255, Math.round(amp * Math.exp(-(d * d) / (rad * rad)) + r() * 30)));
    }
  }
  return { name: 'synthetic', count: n, channels: 1, height: 28, width: 28, numClasses: 10, classNames: [], images: px, labels: Uint8Array.from({ length: n }, (_, i) => i % 10) };
}

async function converted(model: string, width?: number): Promise<IntModel> {
  const be = createCpuBackend();
  const g0 = buildModel(model, { width });
  const f = fuse(g0, initHostParams(g0, 5));
  const store = new ParamStore(be, f.graph, f.host);
  const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate('default_calibration', { march: 'bayes', observer: 'minmax' })), store);
  await calibrate(qm, images(16, 1), { batchSize: 16 });
  const im = await convertQuantizedModel(qm);
  store.dispose();
  qm.dispose();
  return im;
}

async function compare(model: string, width?: number) {
  const im = await converted(model, width);
  const n = 6;
  const x = Float32Array.from(images(n, 9).images, (p) => p / 255);
  const cpu = runIntModel(im, x, n, { dump: true });
  const { ctx } = await getTestBackend();
  const gpu = await runIntModelGpu(im, x, n, ctx, { dump: true });
  expect(gpu.outputShape).toEqual(cpu.outputShape);
  expect(gpu.outputInt.data.constructor).toBe(cpu.outputInt.data.constructor);
  expect(Array.from(gpu.outputInt.data)).toEqual(Array.from(cpu.outputInt.data));
  expect(Array.from(gpu.output)).toEqual(Array.from(cpu.output));
  expect([...gpu.dumps.keys()]).toEqual([...cpu.dumps.keys()]);
  let values = 0, nonzero = 0;
  for (const [id, t] of cpu.dumps) {
    const g = gpu.dumps.get(id)!;
    expect(g.shape, id).toEqual(t.shape);
    expect(g.data.constructor, id).toBe(t.data.constructor);
    let diff = 0;
    for (let i = 0; i < t.data.length; i++) {
      if (g.data[i] !== t.data[i]) diff++;
      if (t.data[i] !== 0) nonzero++;
    }
    values += t.data.length;
    expect(diff, `${id}: ${diff} of ${t.data.length} values differ`).toBe(0);
  }
  expect(nonzero / values).toBeGreaterThan(0.2); // not a trivially zero model
  // a second run reuses the uploaded weights and gives the same result
  const again = await runIntModelGpu(im, x, n, ctx);
  expect(Array.from(again.outputInt.data)).toEqual(Array.from(cpu.outputInt.data));
  expect(again.dumps.size).toBe(0);
  releaseGpuModel(im, ctx);
  return im;
}

describe('runIntModelGpu: bit-identical to runIntModel', () => {
  it('cnn-small', async () => {
    await compare('cnn-small');
  });

  it('mobilenetv2-mini width 0.5 (depthwise, fused Conv+Add, ReLU6)', async () => {
    const im = await compare('mobilenetv2-mini', 0.5);
    expect(im.layers.some((l) => l.op === 'conv2d' && l.addRescale)).toBe(true);
    expect(im.layers.some((l) => l.op === 'conv2d' && l.geometry!.groups > 1)).toBe(true);
  });

  it('the simulator host runs a model on device webgpu (load option), the same outputs and dumps as on cpu', async () => {
    const im = await converted('cnn-small');
    const bytes = encodeModelFile(im);
    const { ctx } = await getTestBackend();
    const n = 5;
    const x = Float32Array.from(images(n, 3).images, (p) => p / 255);
    const cpu = new SimClient(spawnInProcessSim);
    const gpu = new SimClient(() => spawnInProcessSim({ gpu: async () => ctx }));
    try {
      expect((await cpu.load(bytes)).device).toBe('cpu');
      expect((await gpu.load(bytes, { device: 'webgpu' })).device).toBe('webgpu');
      const a = await cpu.run([{ x, n }, { x: x.subarray(0, 784 * 2), n: 2 }], { dump: ['conv1', 'fc'].filter((id) => id in im.values) });
      const b = await gpu.run([{ x, n }, { x: x.subarray(0, 784 * 2), n: 2 }], { dump: ['conv1', 'fc'].filter((id) => id in im.values) });
      expect(b.outputs.map((o) => Array.from(o))).toEqual(a.outputs.map((o) => Array.from(o)));
      expect(b.dumps!.map((d) => Object.fromEntries(Object.entries(d).map(([k, t]) => [k, Array.from(t.data)])))).toEqual(
        a.dumps!.map((d) => Object.fromEntries(Object.entries(d).map(([k, t]) => [k, Array.from(t.data)]))));
      // no adapter: the load fails with a message, the client stays usable
      const none = new SimClient(() => spawnInProcessSim({ gpu: async () => { throw new Error('no adapter here'); } }));
      await expect(none.load(bytes, { device: 'webgpu' })).rejects.toThrow(/no adapter here/);
      expect((await none.load(bytes)).device).toBe('cpu');
      none.dispose();
    } finally {
      cpu.dispose();
      gpu.dispose();
    }
  });

  it('refuses an input of the wrong size', async () => {
    const im = await converted('cnn-small');
    const { ctx } = await getTestBackend();
    await expect(runIntModelGpu(im, new Float32Array(10), 1, ctx)).rejects.toThrow(/input has 10 values/);
  });
});
