/**
 * The simulator's layer-kind table (src/sim/layers.ts INT_LAYERS with each kind's CPU run, src/sim/gpu/layers.ts
 * GPU_LAYERS with the WGSL runs): execLayer dispatches through it, and a model holding a kind without a WGSL run is
 * refused by runIntModelGpu with a SimError that names the layer, before anything is uploaded or run.
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
import { INT_LAYERS } from '../src/sim/layers.ts';
import { GPU_LAYERS } from '../src/sim/gpu/layers.ts';
import { execLayer, runIntModel, SimError, type IntTensor } from '../src/sim/run.ts';
import { layersWithoutGpu, runIntModelGpu } from '../src/sim/run-gpu.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { mulberry32 } from './helpers/random.ts';

afterAll(destroyTestBackend);

async function cnnSmall(): Promise<{ im: IntModel; x: Float32Array }> {
  const be = createCpuBackend();
  const g0 = buildModel('cnn-small');
  const f = fuse(g0, initHostParams(g0, 3));
  const store = new ParamStore(be, f.graph, f.host);
  const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate('default_calibration', { march: 'bayes', observer: 'minmax' })), store);
  const r = mulberry32(4);
  const images = Uint8Array.from({ length: 8 * 784 }, () => Math.floor(r() * 256));
  await calibrate(qm, { name: 'random', count: 8, channels: 1, height: 28, width: 28, numClasses: 10, classNames: [], images, labels: new Uint8Array(8) }, { batchSize: 8 });
  const im = await convertQuantizedModel(qm);
  store.dispose();
  qm.dispose();
  return { im, x: Float32Array.from(images.subarray(0, 2 * 784), (p) => p / 255) };
}

describe('simulator layer-kind table', () => {
  it('execLayer runs each layer through its kind\'s CPU entry, the same integers as runIntModel', async () => {
    const { im, x } = await cnnSmall();
    const ref = runIntModel(im, x, 2, { dump: true });
    const calls = new Map<string, number>();
    const saved = new Map<string, unknown>();
    for (const l of im.layers) {
      if (l.op === 'quantize' || l.op === 'dequantize' || saved.has(l.op)) continue;
      const def = INT_LAYERS[l.op] as { cpu: (...a: unknown[]) => IntTensor };
      saved.set(l.op, def.cpu);
      const real = def.cpu;
      def.cpu = (...a: unknown[]) => {
        calls.set(l.op, (calls.get(l.op) ?? 0) + 1);
        return real(...a);
      };
    }
    try {
      for (const l of im.layers) {
        if (l.op === 'quantize' || l.op === 'dequantize') continue;
        const y = execLayer(im, l, l.inputs.map((id) => ref.dumps.get(id)!));
        expect(Array.from(y.data), l.id).toEqual(Array.from(ref.dumps.get(l.id)!.data));
      }
    } finally {
      for (const [op, f] of saved) (INT_LAYERS[op as keyof typeof INT_LAYERS] as { cpu: unknown }).cpu = f;
    }
    expect([...calls.keys()].sort()).toEqual([...saved.keys()].sort());
  });

  it('a boundary layer is not run by execLayer', async () => {
    const { im } = await cnnSmall();
    const q = im.layers.find((l) => l.op === 'quantize')!;
    expect(() => execLayer(im, q, [])).toThrow(/quantize is a boundary layer/);
  });

  it('every kind but the float boundary has a GPU run (float islands: a round trip to their CPU run)', () => {
    const kinds = Object.keys(INT_LAYERS).filter((k) => k !== 'quantize' && k !== 'dequantize');
    expect(kinds.filter((k) => !(k in GPU_LAYERS))).toEqual([]);
  });

  it('a model with a kind that has no WGSL run is refused up front, naming the layer', async () => {
    const { im, x } = await cnnSmall();
    const { ctx } = await getTestBackend();
    const entry = GPU_LAYERS.avgpool2d;
    delete GPU_LAYERS.avgpool2d;
    try {
      const pool = im.layers.find((l) => l.op === 'avgpool2d')!;
      expect(layersWithoutGpu(im)).toEqual([`${pool.id} (avgpool2d)`]);
      const err = await runIntModelGpu(im, x, 2, ctx).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(SimError);
      expect((err as Error).message).toContain(`no GPU kernel for layer ${pool.id} (avgpool2d)`);
      expect((err as Error).message).toContain('run it on the CPU simulator');
    } finally {
      GPU_LAYERS.avgpool2d = entry;
    }
    // with the entry back, the same model runs and matches the CPU simulator
    const gpu = await runIntModelGpu(im, x, 2, ctx);
    expect(Array.from(gpu.outputInt.data)).toEqual(Array.from(runIntModel(im, x, 2).outputInt.data));
  });
});
