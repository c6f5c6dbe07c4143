/** QuantizedModel: FakeQuantState switching, calibration, checkpoint round trips (CPU backend). */
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { Tape } from '../src/engine/autograd.ts';
import type { Backend } from '../src/engine/backend.ts';
import { buildModel } from '../src/models/zoo.ts';
import { initHostParams, ParamStore } from '../src/nn/params.ts';
import { runGraph, type Hooks } from '../src/nn/executor.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { NotCalibratedError, QuantizedModel } from '../src/quant/quantized-model.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { decodeQuantCheckpoint, encodeQuantCheckpoint } from '../src/quant/quant-checkpoint.ts';
import type { ImageDataset } from '../src/data/dataset.ts';
import { mulberry32 } from './helpers/random.ts';

function images(n: number, seed: number): ImageDataset {
  const r = mulberry32(seed);
  return {
    name: 'synthetic', count: n, channels: 1, height: 28, width: 28, numClasses: 10, classNames: [],
    images: Uint8Array.from({ length: n * 784 }, () => Math.floor(r() * 256)),
    labels: Uint8Array.from({ length: n }, (_, i) => i % 10),
  };
}

function setup(be: Backend, template = 'default_calibration', march: 'bayes' | 'bernoulli' = 'bayes') {
  const g0 = buildModel('cnn-small');
  const f = fuse(g0, initHostParams(g0, 5));
  const store = new ParamStore(be, f.graph, f.host);
  return new QuantizedModel(be, prepare(f.graph, qconfigTemplate(template, { march })), store);
}

async function forward(qm: QuantizedModel, x: Float32Array, hooks: Hooks | undefined, training = false) {
  const tape = new Tape(qm.be, false, training);
  const { output, values } = runGraph(tape, qm.plan.graph, qm.store, tape.input(x, [4, 1, 28, 28]), { ...hooks, keep: () => true });
  const out = await qm.be.read(output.value);
  const acts: Record<string, Float32Array> = {};
  for (const site of qm.plan.acts) acts[site.node] = await qm.be.read(values.get(site.node)!.value);
  tape.dispose();
  return { out, acts };
}

const batch = () => Float32Array.from(images(4, 3).images, (p) => p / 255);

describe('QuantizedModel', () => {
  it('VALIDATION before calibration refuses to run; CALIBRATION leaves values float', async () => {
    const be = createCpuBackend();
    const qm = setup(be);
    await expect(forward(qm, batch(), qm.hooks)).rejects.toThrow(NotCalibratedError);
    qm.setState('CALIBRATION');
    const floatOut = (await forward(qm, batch(), undefined)).out;
    const calOut = (await forward(qm, batch(), qm.hooks)).out;
    expect(Array.from(calOut)).toEqual(Array.from(floatOut));
  });

  it('after calibration, VALIDATION fake-quantizes every activation site onto its int8 grid', async () => {
    const be = createCpuBackend();
    const qm = setup(be);
    await calibrate(qm, images(32, 1), { batchSize: 16 });
    expect(qm.state).toBe('VALIDATION');
    const { activations } = await qm.scales();
    const { out, acts } = await forward(qm, batch(), qm.hooks);
    const floatOut = (await forward(qm, batch(), undefined)).out;
    expect(Array.from(out)).not.toEqual(Array.from(floatOut));
    for (const site of qm.plan.acts) {
      const s = activations[site.node];
      expect(s).toBeGreaterThan(0);
      let offGrid = 0, qmin = Infinity, qmax = -Infinity;
      for (const v of acts[site.node]) {
        const q = v / s;
        offGrid = Math.max(offGrid, Math.abs(q - Math.round(q)));
        qmin = Math.min(qmin, Math.round(q));
        qmax = Math.max(qmax, Math.round(q));
      }
      expect(offGrid).toBeLessThan(1e-3);
      expect(qmin).toBeGreaterThanOrEqual(-128);
      expect(qmax).toBeLessThanOrEqual(127);
    }
    // The int32-output layer (fc, consumed only by the DeQuantStub) is not fake-quantized.
    expect(qm.plan.int32Outputs).toEqual(['fc']);
  });

  it('bernoulli gives power-of-two scales', async () => {
    const be = createCpuBackend();
    const qm = setup(be, 'default_calibration', 'bernoulli');
    await calibrate(qm, images(16, 2), { batchSize: 16 });
    await forward(qm, batch(), qm.hooks);
    const { activations, weights } = await qm.scales();
    for (const s of [...Object.values(activations), ...Object.values(weights).flat()]) expect(Number.isInteger(Math.log2(s))).toBe(true);
  });

  it('QAT updates ranges in train passes only; eval passes inside QAT keep them (VALIDATION)', async () => {
    const be = createCpuBackend();
    const qm = setup(be, 'default_qat');
    await calibrate(qm, images(16, 4), { batchSize: 16 });
    const before = (await qm.scales()).activations;
    qm.setState('QAT');
    await forward(qm, Float32Array.from(batch(), (v) => v * 3), qm.hooks, false);
    expect((await qm.scales()).activations).toEqual(before);
    await forward(qm, Float32Array.from(batch(), (v) => v * 3), qm.hooks, true);
    const after = (await qm.scales()).activations;
    expect(after.quant).toBeGreaterThan(before.quant);
    // Moving average with constant 0.01: the range moves by about 1 % of the gap.
    expect(after.quant).toBeLessThan(before.quant * 1.05);
  });

  it('a calib checkpoint reloads to identical outputs', async () => {
    const be = createCpuBackend();
    const qm = setup(be);
    await calibrate(qm, images(32, 6), { batchSize: 16 });
    const want = (await forward(qm, batch(), qm.hooks)).out;
    const bytes = encodeQuantCheckpoint({
      model: 'cnn-small', stage: 'calib', graph: qm.plan.graph, qconfig: qm.plan.qconfig,
      params: await qm.store.toHost(), qsites: await qm.toHost(), meta: {},
    });
    const c = decodeQuantCheckpoint(bytes, 'calib-checkpoint');
    const be2 = createCpuBackend();
    const qm2 = new QuantizedModel(be2, prepare(c.graph, c.qconfig), new ParamStore(be2, c.graph, c.params));
    qm2.loadHost(c.qsites);
    const got = (await forward(qm2, batch(), qm2.hooks)).out;
    expect(Array.from(got)).toEqual(Array.from(want));
    qm2.store.dispose();
    qm2.dispose();
    expect(be2.liveTensors()).toBe(0);
  });
});

describe('calibration statistics', () => {
  it('min-max observers fed by device-side reductions give the same scales as reading the tensors back', async () => {
    const be = createCpuBackend();
    const viaDevice = setup(be, 'default_qat'); // moving_average_minmax activations: device min/max
    const viaHost = new QuantizedModel(be, prepare(viaDevice.plan.graph, qconfigTemplate('default_qat', { observer: 'mse' })), viaDevice.store);
    await calibrate(viaDevice, images(32, 8), { batchSize: 16 });
    // Re-derive the expected moving-average ranges on the host from full read-backs.
    const { MovingAverageMinMaxObserver } = await import('../src/quant/observers/index.ts');
    const obs = new Map(viaHost.plan.acts.map((a) => [a.node, new MovingAverageMinMaxObserver({})]));
    viaHost.setState('CALIBRATION');
    for (let b = 0; b < 2; b++) {
      const ds = images(32, 8);
      const x = Float32Array.from(ds.images.subarray(b * 16 * 784, (b + 1) * 16 * 784), (p) => p / 255);
      const tape = new Tape(be, false, false);
      const { values } = runGraph(tape, viaHost.plan.graph, viaHost.store, tape.input(x, [16, 1, 28, 28]), { keep: () => true });
      for (const [node, o] of obs) o.observe(await be.read(values.get(node)!.value), values.get(node)!.shape);
      tape.dispose();
    }
    const got = (await viaDevice.scales()).activations;
    for (const [node, o] of obs) expect(got[node]).toBe(o.calculateQParams().scale[0]);
  });
});

describe('histogram observer in calibration', () => {
  it('fed by device min/max and device histc, it matches the observer fed whole read-back tensors', async () => {
    const be = createCpuBackend();
    const g0 = buildModel('cnn-small');
    const f = fuse(g0, initHostParams(g0, 5));
    const store = new ParamStore(be, f.graph, f.host);
    const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate('default_calibration', { observer: 'histogram' })), store);
    const ds = images(32, 9);
    await calibrate(qm, ds, { batchSize: 16 });
    const got = (await qm.scales()).activations;

    const { HistogramObserver } = await import('../src/quant/observers/index.ts');
    const obs = new Map(qm.plan.acts.map((a) => [a.node, new HistogramObserver({})]));
    for (let b = 0; b < 2; b++) {
      const x = Float32Array.from(ds.images.subarray(b * 16 * 784, (b + 1) * 16 * 784), (p) => p / 255);
      const tape = new Tape(be, false, false);
      const { values } = runGraph(tape, qm.plan.graph, store, tape.input(x, [16, 1, 28, 28]), { keep: () => true });
      for (const [node, o] of obs) o.observe(await be.read(values.get(node)!.value), values.get(node)!.shape);
      tape.dispose();
    }
    for (const [node, o] of obs) expect(got[node]).toBe(o.calculateQParams().scale[0]);
    store.dispose();
    qm.dispose();
    expect(be.liveTensors()).toBe(0);
  });
});
