/**
 * Biases on the int32 grid of the integer model (src/qmath/bias.ts): the qparams kernel and the fake quant of a bias
 * on WebGPU vs the CPU reference, the straight-through backward, and the fake-quant model's biases equal to the
 * integer model's (int32 bias times its scale) after calibration and after QAT steps.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Tape, Var } from '../src/engine/autograd.ts';
import type { Backend, BTensor } from '../src/engine/backend.ts';
import { fakeQuantFn } from '../src/engine/fns/fake-quant.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { buildModel } from '../src/models/zoo.ts';
import { runGraph } from '../src/nn/executor.ts';
import { Optimizer } from '../src/engine/optim/optimizer.ts';
import { trainStep } from '../src/train/trainer.ts';
import { initHostParams, ParamStore } from '../src/nn/params.ts';
import { BIAS_RANGE } from '../src/qmath/bias.ts';
import { convertQuantizedModel } from '../src/quant/convert.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import type { ImageDataset } from '../src/data/dataset.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { mulberry32 } from './helpers/random.ts';

afterAll(destroyTestBackend);

const f32 = Math.fround;

/** Input qparams [1, 3] and weight qparams [C, 3] as the model stores them ([scale, f32(1 / scale), 0]). */
const packed = (scales: number[]) => Float32Array.from(scales.flatMap((s) => [f32(s), f32(1 / f32(s)), 0]));

// Weight scales: ordinary, powers of two (bernoulli), the eps floor of an all-zero channel, a large one.
const X_SCALE = 0.0173;
const W_SCALES = [0.0042, 2 ** -7, 1.1920928955078125e-7, 0.731, 0.0042, 0.0042, 0.0042, 0.0042, 0.0042];

/** Biases that hit every case of the grid: ties (half to even), saturation at both ends and its boundary. */
function biases(): Float32Array {
  const s = (c: number) => f32(f32(X_SCALE) * f32(W_SCALES[c]));
  return Float32Array.from([
    0.123, -0.0004, 3.5, -2.25,
    f32(2.5 * s(4)), f32(-3.5 * s(5)), // exact ties: 2 and -4
    f32(2 ** 31 * s(6)) * 4, f32(-(2 ** 31) * s(7)) * 4, // far beyond int32: saturated, no gradient
    f32(2147483520 * s(8)), // the largest float32 inside int32: not clamped
  ]);
}

async function onBoth<T>(f: (be: Backend) => Promise<T>): Promise<[T, T]> {
  return [await f(await getTestBackend()), await f(createCpuBackend())];
}

describe('bias qparams and fake quant on the int32 grid', () => {
  it('WebGPU computes the same qparams, fake-quantized biases and STE gradients as the CPU reference', async () => {
    const [gpu, cpu] = await onBoth(async (be) => {
      const xq = be.upload(packed([X_SCALE]), [1, 3]);
      const wq = be.upload(packed(W_SCALES), [W_SCALES.length, 3]);
      const b = be.upload(biases(), [W_SCALES.length]);
      const qp = be.biasQParams(xq, wq);
      const layout = { outer: 1, channels: W_SCALES.length, inner: 1 };
      const y = be.fakeQuantize(b, qp, layout, BIAS_RANGE);
      const dy = be.upload(Float32Array.from(W_SCALES, (_, i) => i + 1), [W_SCALES.length]);
      const dx = be.fakeQuantizeBackward(dy, b, qp, layout, BIAS_RANGE);
      const out = { qp: await be.read(qp), y: await be.read(y), dx: await be.read(dx) };
      for (const t of [xq, wq, b, qp, y, dy, dx] as BTensor[]) be.release(t);
      expect(be.liveTensors()).toBe(0);
      return out;
    });
    expect(Array.from(gpu.qp)).toEqual(Array.from(cpu.qp));
    expect(Array.from(gpu.y)).toEqual(Array.from(cpu.y));
    expect(Array.from(gpu.dx)).toEqual(Array.from(cpu.dx));
    // the definition: scale = f32(x_scale * w_scale), q = nearbyint(b / scale) clamped to int32, y = f32(q * scale)
    const b = biases();
    for (let c = 0; c < W_SCALES.length; c++) {
      const s = f32(f32(X_SCALE) * f32(W_SCALES[c]));
      expect(cpu.qp[3 * c]).toBe(s);
      expect(cpu.qp[3 * c + 1]).toBe(f32(1 / s));
      const t = f32(b[c] * f32(1 / s));
      const r = Math.abs(t - Math.trunc(t)) === 0.5 ? 2 * Math.round(t / 2) : Math.round(t);
      const q = Math.min(2 ** 31 - 1, Math.max(-(2 ** 31), r));
      expect(cpu.y[c]).toBe(f32(q * s));
      // straight through where the value is inside int32, nothing where it was clamped
      expect(cpu.dx[c]).toBe(r === q ? c + 1 : 0);
    }
    expect(cpu.y[4] / cpu.qp[12]).toBe(2);
    expect(cpu.y[5] / cpu.qp[15]).toBe(-4);
    expect([cpu.dx[6], cpu.dx[7], cpu.dx[8]]).toEqual([0, 0, 9]);
  });
});

function images(n: number, seed: number): ImageDataset {
  const r = mulberry32(seed);
  return {
    name: 'synthetic', count: n, channels: 1, height: 28, width: 28, numClasses: 10, classNames: [],
    images: Uint8Array.from({ length: n * 784 }, () => Math.floor(r() * 256)),
    labels: Uint8Array.from({ length: n }, (_, i) => i % 10),
  };
}

/** The bias each conv / linear of the fake-quant model adds (its bias hook's value, read back): only those it changed. */
async function fakeQuantBiases(qm: QuantizedModel): Promise<Map<string, Float32Array>> {
  const seen: [string, Var][] = [];
  const tape = new Tape(qm.be, false, false);
  const hooks = qm.hooks;
  runGraph(tape, qm.plan.graph, qm.store, tape.input(Float32Array.from(images(2, 9).images, (p) => p / 255), [2, 1, 28, 28]), {
    ...hooks,
    biasHook: (n, b, t) => {
      const y = hooks.biasHook!(n, b, t);
      if (y !== b) seen.push([n.id, y]);
      return y;
    },
  });
  const out = new Map<string, Float32Array>();
  for (const [id, v] of seen) out.set(id, await qm.be.read(v.value));
  tape.dispose();
  return out;
}

describe('the fake-quant model adds the integer model\'s biases', () => {
  for (const name of ['cnn-small', 'mlp'] as const) {
    it(`${name}: after calibration and after QAT steps, every bias is the converted int32 bias times its scale`, async () => {
      const be = createCpuBackend();
      const g0 = buildModel(name);
      const host = initHostParams(g0, 5);
      // non-zero biases everywhere (the zoo initialises them to 0)
      const r = mulberry32(4);
      for (const p of g0.params) if (p.name.endsWith('bias')) host[p.name] = Float32Array.from(host[p.name], () => (r() - 0.5) * 0.2);
      const f = fuse(g0, host);
      const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate('default_qat', { march: 'bayes' })), new ParamStore(be, f.graph, f.host));
      // every conv / linear has a bias (folded batch norms give the convs theirs); mlp's fc1 reads the QuantStub's
      // scale through the flatten
      const withBias = f.graph.nodes.filter((n) => (n.op === 'conv2d' || n.op === 'linear') && n.params.bias).map((n) => n.id);
      expect(qm.plan.biases.map((b) => b.node)).toEqual(withBias);
      if (name === 'mlp') expect(qm.plan.biases[0].input).toBe(f.graph.nodes.find((n) => n.op === 'quant_stub')!.id);
      // CALIBRATION: float biases
      qm.setState('CALIBRATION');
      expect((await fakeQuantBiases(qm)).size).toBe(0);
      await calibrate(qm, images(8, 1), { batchSize: 8 });
      const check = async () => {
        const got = await fakeQuantBiases(qm);
        const im = await convertQuantizedModel(qm);
        const { weights } = await qm.scales();
        expect([...got.keys()]).toEqual(withBias);
        for (const [id, b] of got) {
          const layer = im.layers.find((l) => l.id === id) as unknown as { bias: Int32Array; inputs: string[] };
          const xScale = im.values[layer.inputs[0]].scales[0];
          const w = weights[qm.plan.weights.find((s) => s.node === id)!.param];
          expect(Array.from(b)).toEqual(Array.from(layer.bias, (q, c) => f32(q * f32(f32(xScale) * f32(w[c])))));
        }
      };
      await check();
      // QAT: scales move with the weights and activations; every bias gets a gradient (straight through)
      qm.setState('QAT');
      const opt = new Optimizer(be, [...qm.store.vars.values()], { name: 'sgd', lr: 0.05, momentum: 0.9 });
      for (let step = 0; step < 2; step++) {
        const ds = images(4, 10 + step);
        await trainStep(be, qm.plan.graph, qm.store, opt, Float32Array.from(ds.images, (p) => p / 255), [4, 1, 28, 28],
          Float32Array.from(ds.labels!), false, qm.hooks);
        for (const bs of qm.plan.biases) expect((await be.read(qm.store.param(bs.param).grad!)).some((v) => v !== 0)).toBe(true);
      }
      qm.setState('VALIDATION');
      await check();
    });
  }
});

describe('straight-through gradient of a bias', () => {
  it('d loss / d b is d loss / d b_q where b / scale is inside int32, 0 where it was clamped (the STE definition)', async () => {
    const be = createCpuBackend();
    const qp = be.upload(packed(W_SCALES.map((w) => f32(f32(X_SCALE) * f32(w)))), [W_SCALES.length, 3]);
    const b = biases();
    const tape = new Tape(be, true, true);
    const v = new Var(be.upload(b, [b.length]), true, 'b');
    const y = tape.apply(fakeQuantFn, [v], { qparams: qp, layout: { outer: 1, channels: b.length, inner: 1 }, range: BIAS_RANGE });
    const seed = be.upload(Float32Array.from(b, (_, i) => i + 1), [b.length]);
    tape.backward(y, seed);
    expect(Array.from(await be.read(v.grad!))).toEqual([1, 2, 3, 4, 5, 6, 0, 0, 9]);
    tape.dispose();
  });
});
