/**
 * The fake-quant model's exact integer forward (docs/fixed-point.md §2e) in the flow: after calibration and after QAT
 * steps, every add / sub, mul (per element and per-channel gate), concat rescale and int8 conv (with its fused add and
 * ReLU / ReLU6) of the fake-quant model equals
 * the simulator's layer fed the fake-quant model's own integer inputs, on every value (int8, int16; march nash-e and
 * bernoulli); and its backward is the straight-through estimator of the float op: gradient = the float op's gradient
 * times the output's clamp mask.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Tape, Var } from '../src/engine/autograd.ts';
import { addFn } from '../src/engine/fns/activation.ts';
import { mulFn, subFn } from '../src/engine/fns/eltwise.ts';
import { concatFn } from '../src/engine/fns/pool.ts';
import { convExactFn, requantExactFn } from '../src/engine/fns/requant-exact.ts';
import { Optimizer } from '../src/engine/optim/optimizer.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { normalizeImages } from '../src/data/loader.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { importOnnx } from '../src/io/onnx/import.ts';
import { runGraph } from '../src/nn/executor.ts';
import { ParamStore } from '../src/nn/params.ts';
import { convExactMode, type ExactSpec } from '../src/qmath/requant-exact.ts';
import { quantizeBias } from '../src/qmath/bias.ts';
import { computeHorizonMultiplierShift, mulShiftRound, requantizeValueHorizon } from '../src/qmath/requant-int.ts';
import { conv2dAccumulate } from '../src/sim/int/conv2d.ts';
import { activationClamp, requantSpecFromScales } from '../src/sim/int/requant.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { convertQuantizedModel } from '../src/quant/convert.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import type { March } from '../src/qmath/march.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import { execLayer } from '../src/sim/run.ts';
import { trainStep } from '../src/train/trainer.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { fixture } from './helpers/onnx.ts';
import { mulberry32 } from './helpers/random.ts';
import { toInt } from './helpers/sim-ints.ts';
import { colourBlobs as images } from './helpers/blob-images.ts';

afterAll(destroyTestBackend);

/** For every add / mul / concat-rescale / conv2d layer: the values where the simulator differs from the fake-quant model. */
async function exactLayers(qm: QuantizedModel, name: string, shape: number[], K: number) {
  const n = 8;
  const x = normalizeImages(images(n, 9, shape, K), importOnnx(fixture(name), `${name}.onnx`).normalization);
  const tape = new Tape(qm.be, false, false);
  const { values } = runGraph(tape, qm.plan.graph, qm.store, tape.input(x, [n, ...shape]), { ...qm.hooks, keep: () => true });
  const vals = new Map<string, Float32Array>();
  for (const [id, v] of values) vals.set(id, await qm.be.read(v.value));
  tape.dispose();
  const im = await convertQuantizedModel(qm);
  const diff: Record<string, number> = {};
  for (const layer of im.layers) {
    // the plan's exact ops (a conv only where its integer products sum exactly in float32: int8 inputs)
    if (!qm.exact.has(layer.id)) continue;
    const got = execLayer(im, layer, layer.inputs.map((id) => toInt(im, id, vals.get(id)!, n)));
    const ref = toInt(im, layer.id, vals.get(layer.id)!, n).data;
    let bad = 0;
    for (let i = 0; i < ref.length; i++) if (ref[i] !== got.data[i]) bad++;
    diff[`${layer.op} ${layer.id}`] = bad;
  }
  return diff;
}

describe('exact forward: fake quant = simulator layer, on every value', () => {
  for (const [name, tpl, march, ops] of [
    ['se_block', 'default_calibration', 'nash-e', ['add', 'mul', 'conv2d']],
    ['se_block', 'default_calibration_int16', 'nash-e', ['add', 'mul']],
    ['se_block', 'default_calibration', 'bernoulli', ['add', 'mul', 'conv2d']],
    ['se_hardsigmoid', 'default_calibration', 'nash-e', ['mul', 'conv2d']],
    ['shuffle_split_13', 'default_calibration', 'nash-e', ['rescale', 'conv2d']],
    ['shuffle_split_13', 'default_calibration', 'bernoulli', ['rescale', 'conv2d']],
    ['residual', 'default_calibration', 'nash-e', ['conv2d']], // Conv+Add(+ReLU) fused
    ['ceil_pools', 'default_calibration_int16', 'nash-e', ['rescale']],
  ] as const) {
    it(`${name} (${tpl}, ${march}): calibrated and after 2 QAT steps`, async () => {
      const r = importOnnx(fixture(name), `${name}.onnx`);
      const f = fuse(r.graph, r.host);
      const be = createCpuBackend();
      const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate(tpl, { march: march as March, observer: 'mse' })), new ParamStore(be, f.graph, f.host));
      expect(qm.plan.exact.length).toBeGreaterThan(0);
      const fusedAdd = qm.plan.exact.filter((e) => e.op === 'conv' && f.graph.nodes.find((m) => m.id === e.node)!.attrs.addInput);
      if (name === 'residual') expect(fusedAdd.length, 'residual: exact Conv+Add').toBeGreaterThan(0);
      const K = r.graph.numClasses;
      await calibrate(qm, images(16, 1, r.inputShape, K), { batchSize: 8, normalize: r.normalization });
      const calib = await exactLayers(qm, name, r.inputShape, K);
      qm.setState('QAT');
      const train = images(16, 2, r.inputShape, K);
      const x = normalizeImages(train, r.normalization);
      const per = r.inputShape.reduce((a, b) => a * b, 1);
      const opt = new Optimizer(be, [...qm.store.vars.values()], { name: 'sgd', lr: 0.01, momentum: 0.9 });
      for (let s = 0; s < 2; s++) {
        const lo = s * 8;
        const loss = await trainStep(be, qm.plan.graph, qm.store, opt, x.subarray(lo * per, (lo + 8) * per), [8, ...r.inputShape], Float32Array.from(train.labels!.subarray(lo, lo + 8)), true, qm.hooks);
        expect(Number.isFinite(loss)).toBe(true);
      }
      qm.setState('VALIDATION');
      const qat = await exactLayers(qm, name, r.inputShape, K);
      for (const op of ops) expect(Object.keys(calib).some((k) => k.startsWith(`${op} `)), `${name} has a ${op} layer`).toBe(true);
      for (const d of [calib, qat]) for (const [id, bad] of Object.entries(d)) expect(bad, `${id}: ${bad} values differ`).toBe(0);
      // with the exact forward off the same layers are the float op's fake quant again (what was compared before)
      qm.exactEnabled = false;
      const off = await exactLayers(qm, name, r.inputShape, K);
      console.log(`${name} (${tpl}, ${march}): values differing with the float forward ${JSON.stringify(off)}`);
    });
  }
});

describe('exact forward: backward = straight-through estimator of the float op', () => {
  it('add, sub, mul (per element and per channel), concat: gradients = float op gradient times the clamp mask', async () => {
    const be = createCpuBackend();
    const r = mulberry32(5);
    const f32 = Math.fround;
    const shape = [2, 3, 4, 4];
    const size = 96;
    const sa = 0.05, sb = 0.031, so = 0.04; // the output range is narrower than a + b: some values clamp
    const grid = (len: number, s: number) => Float32Array.from({ length: len }, () => f32(Math.round(-128 + r() * 255) * f32(s)));
    const qp = (s: number) => be.upload(Float32Array.from([f32(s), f32(1 / f32(s)), 0]), [1, 3]);
    for (const [op, fn, bShape] of [['add', addFn, shape], ['sub', subFn, shape], ['mul', mulFn, shape], ['mul', mulFn, [2, 3, 1, 1]], ['rescale', concatFn, shape]] as const) {
      const tape = new Tape(be, true, false);
      const a = new Var(be.upload(grid(size, sa), shape), true);
      const bv = grid(bShape.reduce((x, y) => x * y, 1), sb);
      const b = new Var(be.upload(bv, bShape), true);
      const v = tape.apply(fn as never, [a, b], null);
      const spec: ExactSpec = { op, march: 'nash-e', bits: 32, quantMin: -128, quantMax: 127 };
      const qo = qp(op === 'mul' ? so * 0.02 : so);
      const attrs = { spec, qparams: [qp(sa), qp(sb), qo], layout: { outer: 1, channels: 1, inner: v.value.size }, range: { quantMin: -128, quantMax: 127, rounding: 'half_even' as const } };
      const y = tape.apply(requantExactFn, [v, a, b], attrs);
      const gy = Float32Array.from({ length: y.value.size }, () => r() - 0.5);
      tape.backward(y, be.upload(gy, y.shape));
      const vv = await be.read(v.value), inv = (await be.read(qo))[1];
      const mask = Array.from(vv, (t) => { const q = Math.round(f32(t * inv)); return q >= -128 && q <= 127 ? 1 : 0; });
      expect(mask.some((m) => m === 0), `${op}: some values clamp`).toBe(true);
      expect(mask.some((m) => m === 1)).toBe(true);
      const ga = await be.read(a.grad!), gb = await be.read(b.grad!);
      const av = await be.read(a.value);
      const inner = size / bv.length;
      const want = (i: number) => (mask[i] ? gy[i] : 0);
      for (let i = 0; i < size; i++) {
        const wa = op === 'mul' ? f32(want(i) * bv[Math.floor(i / inner)]) : want(i);
        if (op !== 'rescale') expect(ga[i], `${op} da[${i}]`).toBeCloseTo(wa, 6);
      }
      if (op === 'add') for (let i = 0; i < size; i++) expect(gb[i] + 0).toBe(want(i) + 0);
      if (op === 'sub') for (let i = 0; i < size; i++) expect(gb[i] + 0).toBe(-want(i) + 0);
      if (op === 'mul' && inner === 1) for (let i = 0; i < size; i++) expect(gb[i]).toBeCloseTo(want(i) * av[i], 6);
      if (op === 'mul' && inner > 1) for (let c = 0; c < bv.length; c++) {
        let s = 0;
        for (let i = c * inner; i < (c + 1) * inner; i++) s += want(i) * av[i];
        expect(gb[c]).toBeCloseTo(s, 5);
      }
      if (op === 'rescale') {
        // concat along channels of two [2, 3, 4, 4] values: sample n's channels 0..2 from a, 3..5 from b
        for (let n = 0; n < 2; n++) for (let j = 0; j < 48; j++) {
          expect(ga[n * 48 + j] + 0).toBe(want(n * 96 + j) + 0);
          expect(gb[n * 48 + j] + 0).toBe(want(n * 96 + 48 + j) + 0);
        }
      }
      tape.dispose();
    }
  });
});

describe('exact conv of many taps (the input integers split in high and low parts)', () => {
  it('a 1x1 conv of 1 536 input channels with bias, fused add and ReLU6 = the simulator\'s accumulator and requantization', async () => {
    const be = createCpuBackend();
    const r = mulberry32(8);
    const f32 = Math.fround;
    const [N, C, H, W, O] = [2, 1536, 3, 3, 6];
    const sx = f32(0.021), so = f32(0.05), sa = f32(0.037);
    const sw = Array.from({ length: O }, (_, o) => f32(o < 2 ? 1e-6 : 0.002 + r() * 0.004));
    // inputs at the ends of the int8 range so that a direct float32 sum would not be exact (taps · 128 · 128 > 2^24)
    const qx = Int8Array.from({ length: N * C * H * W }, () => (r() < 0.9 ? 127 : Math.round(-128 + r() * 255)));
    // channels 0, 1: every weight at the end of the range (accumulators beyond 2^24); the others random
    const qw = Int8Array.from({ length: O * C }, (_, i) => (i < 2 * C ? (i < C ? 127 : -127) : Math.round(-127 + r() * 254)));
    const qa = Int8Array.from({ length: N * O * H * W }, () => Math.round(-128 + r() * 255));
    const bias = Float32Array.from({ length: O }, () => (r() - 0.5) * 2);
    const mode = convExactMode(C, 128, 128);
    expect(mode).toBe('split');
    const x = new Var(be.upload(Float32Array.from(qx, (q) => f32(q * sx)), [N, C, H, W]));
    const w = new Var(be.upload(Float32Array.from(qw, (q, i) => f32(q * sw[Math.floor(i / C)])), [O, C, 1, 1]));
    const a = new Var(be.upload(Float32Array.from(qa, (q) => f32(q * sa)), [N, O, H, W]));
    const qp = (s: number[]) => be.upload(Float32Array.from(s.flatMap((v) => [v, f32(1 / v), 0])), [s.length, 3]);
    const bqp = qp(sw.map((v) => f32(sx * v)));
    const tape = new Tape(be, false, false);
    const v = new Var(be.upload(new Float32Array(N * O * H * W), [N, O, H, W]));
    const spec = { mode: mode!, march: 'nash-e', bits: 32, quantMin: -128, quantMax: 127, act: 'relu6', channels: O, inner: H * W } as const;
    const y = tape.apply(convExactFn, [v, x, w, a], {
      spec, geometry: { strideH: 1, strideW: 1, padH: 0, padW: 0, dilationH: 1, dilationW: 1, groups: 1 }, qx: qp([sx]), qw: qp(sw), qo: qp([so]), qa: qp([sa]),
      bias: be.upload(bias, [O]), bqp, layout: { outer: 1, channels: 1, inner: N * O * H * W }, range: { quantMin: -128, quantMax: 127, rounding: 'half_even' },
    });
    const got = Array.from(await be.read(y.value), (t) => Math.round(t / so));
    // the simulator: int32 accumulator with the int32 bias, + the rescaled add input, requantized, ReLU6's clamp
    const { acc } = conv2dAccumulate({ x: qx, xShape: [N, C, H, W], xZeroPoint: 0, w: qw, wShape: [O, C, 1, 1], bias: quantizeBias(bias, sx, Float32Array.from(sw)) });
    const rq = requantSpecFromScales('horizon', sx, sw, so, { march: 'nash-e', bits: 32 });
    const q6 = activationClamp('relu6', so, 0).clampMax!;
    let big = 0;
    for (let i = 0; i < acc.length; i++) {
      const o = Math.floor(i / (H * W)) % O;
      const add = computeHorizonMultiplierShift(sa / (sx * sw[o]), 'nash-e', 32);
      const s = (acc[i] + mulShiftRound(qa[i], add.multiplier, add.shift)) | 0;
      if (Math.abs(s) >= 2 ** 24) big++;
      if (rq.mode !== 'horizon') throw new Error('unreachable');
      expect(got[i], `value ${i}`).toBe(requantizeValueHorizon(s, rq.multiplier[o], rq.shift[o], 0, 0, Math.min(127, q6)));
    }
    expect(big, 'accumulators beyond float32\'s exact integers').toBeGreaterThan(0);
    tape.dispose();
  });
});

describe('exact forward on WebGPU', () => {
  it('shuffle_split_13 calibrated on the CPU: the WebGPU fake-quant model gives the same values at every exact layer', async () => {
    const r = importOnnx(fixture('shuffle_split_13'), 'shuffle_split_13.onnx');
    const f = fuse(r.graph, r.host);
    const cpu = createCpuBackend();
    const plan = prepare(f.graph, qconfigTemplate('default_calibration', { observer: 'mse' }));
    const qm = new QuantizedModel(cpu, plan, new ParamStore(cpu, f.graph, f.host));
    const K = r.graph.numClasses;
    await calibrate(qm, images(16, 1, r.inputShape, K), { batchSize: 8, normalize: r.normalization });
    const gpu = await getTestBackend();
    const qg = new QuantizedModel(gpu, plan, new ParamStore(gpu, f.graph, await qm.store.toHost()));
    qg.loadHost(await qm.toHost());
    qg.setState('VALIDATION');
    const n = 4;
    const x = normalizeImages(images(n, 9, r.inputShape, K), r.normalization);
    const run = async (m: QuantizedModel) => {
      const tape = new Tape(m.be, false, false);
      const { values } = runGraph(tape, plan.graph, m.store, tape.input(x, [n, ...r.inputShape]), { ...m.hooks, keep: (nd) => m.exact.has(nd.id) });
      const out = new Map<string, Float32Array>();
      for (const [id, v] of values) out.set(id, await m.be.read(v.value));
      tape.dispose();
      return out;
    };
    const [c, g] = [await run(qm), await run(qg)];
    expect(c.size).toBeGreaterThan(10);
    for (const [id, v] of c) expect(new Int32Array(g.get(id)!.buffer), id).toEqual(new Int32Array(v.buffer));
    qg.store.dispose();
    qg.dispose();
  });
});
