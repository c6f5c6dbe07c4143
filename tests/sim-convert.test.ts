/**
 * convert() + the simulator against the fake-quant model (VALIDATION state, CPU backend):
 *  - every integer layer fed with the fake-quant model's own (integer) inputs reproduces the fake-quant output
 *    within 1 LSB (cnn-small; mobilenetv2-mini at width 0.5 for depthwise, fused Conv+Add and ReLU6; bernoulli);
 *  - end to end, the simulator's logits agree with the fake-quant model's;
 *  - the fast conv kernel is bit-identical to the reference conv2dAccumulate;
 *  - the datapath is integer-only.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { Tape } from '../src/engine/autograd.ts';
import { buildModel } from '../src/models/zoo.ts';
import { initHostParams, ParamStore } from '../src/nn/params.ts';
import { runGraph } from '../src/nn/executor.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { convertQuantizedModel, weightScales } from '../src/quant/convert.ts';
import { execLayer, runIntModel } from '../src/sim/run.ts';
import { conv2dAccFast } from '../src/sim/fast-conv.ts';
import { useWasmGemm, wasmGemm } from '../src/sim/wasm-gemm.ts';
import { conv2dAccumulate } from '../src/sim/int/conv2d.ts';
import { addInt, computeAddParams } from '../src/sim/int/add.ts';
import { computeMultiplierShift, requantizeHorizon } from '../src/sim/int/requant.ts';
import type { ImageDataset } from '../src/data/dataset.ts';
import type { March } from '../src/quant/march.ts';
import { mulberry32 } from './helpers/random.ts';
import { toInt } from './helpers/sim-ints.ts';

function images(n: number, seed: number): ImageDataset {
  const r = mulberry32(seed);
  // smooth-ish synthetic images (blobs), more like real data than white noise
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

async function setup(model: string, opts: { width?: number; march?: March; template?: string } = {}) {
  const be = createCpuBackend();
  const g0 = buildModel(model, { width: opts.width });
  const f = fuse(g0, initHostParams(g0, 11));
  const store = new ParamStore(be, f.graph, f.host);
  const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate(opts.template ?? 'default_calibration', { march: opts.march ?? 'bayes', observer: 'minmax' })), store);
  await calibrate(qm, images(16, 1), { batchSize: 16 });
  const im = await convertQuantizedModel(qm);
  return { be, qm, im };
}

/** The fake-quant model's values at every node (VALIDATION), for n images. */
async function fakeQuantValues(qm: QuantizedModel, x: Float32Array, n: number) {
  const tape = new Tape(qm.be, false, false);
  const { output, values } = runGraph(tape, qm.plan.graph, qm.store, tape.input(x, [n, 1, 28, 28]), { ...qm.hooks, keep: () => true });
  const out = await qm.be.read(output.value);
  const vals = new Map<string, Float32Array>();
  for (const [id, v] of values) vals.set(id, await qm.be.read(v.value));
  tape.dispose();
  return { out, vals };
}

function batch(n: number, seed: number): Float32Array {
  return Float32Array.from(images(n, seed).images, (p) => p / 255);
}

async function perLayerWithin1Lsb(model: string, opts: { width?: number; march?: March; template?: string } = {}) {
  const { qm, im } = await setup(model, opts);
  const n = 4;
  const x = batch(n, 7);
  const { vals } = await fakeQuantValues(qm, x, n);
  const worst: Record<string, number> = {};
  let checked = 0;
  for (const layer of im.layers) {
    if (layer.op === 'quantize' || layer.op === 'dequantize' || layer.op === 'reshape' || layer.op === 'maxpool2d') continue;
    const ins = layer.inputs.map((id) => toInt(im, id, vals.get(id)!, n));
    const got = execLayer(im, layer, ins);
    const info = im.values[layer.id];
    const ref = vals.get(layer.id)!;
    let max = 0;
    if (info.dtype === 'int32') {
      const C = info.scales.length;
      const inner = ref.length / n / C;
      // int32 output: the fake-quant reference is a float32 sum, good to ~2^-22 of its magnitude; beyond that, 1 LSB.
      for (let i = 0; i < ref.length; i++) {
        const r = ref[i] / info.scales[Math.floor(i / inner) % C];
        max = Math.max(max, Math.abs(r - got.data[i]) - Math.abs(r) * 2 ** -22);
      }
    } else {
      for (let i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(Math.round(ref[i] / info.scales[0]) - got.data[i]));
    }
    worst[layer.id] = max;
    checked++;
  }
  expect(checked).toBeGreaterThan(3);
  for (const [id, m] of Object.entries(worst)) expect(m, `layer ${id}: ${m} LSB`).toBeLessThanOrEqual(1);
  return { qm, im, worst };
}

describe('convert + simulate vs the fake-quant model', () => {
  it('cnn-small: every layer within 1 LSB, int32 fc output, weights scales as QuantizedModel', async () => {
    const { qm, im } = await perLayerWithin1Lsb('cnn-small');
    const fc = im.layers.find((l) => l.id === 'fc')!;
    expect(fc.op === 'linear' && fc.requant).toBe(null);
    expect(im.values.fc.dtype).toBe('int32');
    // weight scales recomputed from the final weights == the fake-quant model's own
    const host = await qm.store.toHost();
    const { weights } = await qm.scales();
    for (const w of qm.plan.weights) {
      const s = weightScales(host[w.param], w.channels, w.quantMin, w.quantMax, 'bayes');
      expect(Array.from(s)).toEqual(weights[w.param].map(Math.fround));
    }
  });

  it('mobilenetv2-mini (width 0.5): depthwise, fused Conv+Add, ReLU6 within 1 LSB', async () => {
    const { im } = await perLayerWithin1Lsb('mobilenetv2-mini', { width: 0.5 });
    expect(im.layers.some((l) => l.op === 'conv2d' && l.geometry!.groups > 1)).toBe(true);
    expect(im.layers.some((l) => l.op === 'conv2d' && l.addRescale)).toBe(true);
    expect(im.layers.some((l) => l.op === 'conv2d' && l.clamp.lo === 0)).toBe(true); // fused relu6 -> clamp at the zero point
    // the inlined rescale of the add input (int8) gives the same integers as mulShiftRound (int32 add input path)
    const fused = im.layers.find((l) => l.op === 'conv2d' && l.addRescale)!;
    const r = mulberry32(8);
    const [C, H, W] = im.values[fused.inputs[0]].shape;
    const xin = { data: Int8Array.from({ length: 2 * C * H * W }, () => Math.floor(r() * 256) - 128), shape: [2, C, H, W] };
    const a8 = Int8Array.from({ length: 2 * im.values[fused.inputs[1]].shape.reduce((p, q) => p * q, 1) }, () => Math.floor(r() * 256) - 128);
    const ashape = [2, ...im.values[fused.inputs[1]].shape];
    const viaInline = execLayer(im, fused, [xin, { data: a8, shape: ashape }]);
    const viaWide = execLayer(im, fused, [xin, { data: Int32Array.from(a8), shape: ashape }]);
    expect(Array.from(viaInline.data)).toEqual(Array.from(viaWide.data));
  });

  it('int16 activations (default_calibration_int16): every layer within 1 LSB of the int16 grid', async () => {
    const { im } = await perLayerWithin1Lsb('mobilenetv2-mini', { width: 0.5, template: 'default_calibration_int16' });
    expect(im.values['block1.dw.conv'].dtype).toBe('int16');
  });

  it('bernoulli: power-of-two scales give pure shifts, within 1 LSB', async () => {
    const { im } = await perLayerWithin1Lsb('cnn-small', { march: 'bernoulli' });
    for (const l of im.layers) {
      if ((l.op === 'conv2d' || l.op === 'linear') && l.requant) {
        for (const m of l.requant.multiplier) expect(Math.log2(m) % 1).toBe(0);
      }
    }
  });

  it('end to end: top-1 agrees with the fake-quant model, deterministic over batch splits', async () => {
    const { qm, im } = await setup('cnn-small');
    const n = 16;
    const x = batch(n, 9);
    const { out } = await fakeQuantValues(qm, x, n);
    const r = runIntModel(im, x, n);
    let agree = 0;
    for (let i = 0; i < n; i++) {
      const am = (a: Float32Array) => { let b = 0; for (let k = 1; k < 10; k++) if (a[i * 10 + k] > a[i * 10 + b]) b = k; return b; };
      if (am(out) === am(r.output)) agree++;
    }
    expect(agree).toBeGreaterThanOrEqual(15);
    const a = runIntModel(im, x.subarray(0, 8 * 784), 8), b = runIntModel(im, x.subarray(8 * 784), 8);
    expect([...a.output, ...b.output]).toEqual([...r.output]);
  });

  it('the int32 fast path of add equals addInt (random multipliers, shifts, clamps)', async () => {
    const { im } = await setup('cnn-small');
    const add = im.layers.find((l) => l.op === 'add')!;
    if (add.op !== 'add') throw new Error('no add');
    const r = mulberry32(5);
    const a = Int8Array.from({ length: 2 * 48 * 14 * 14 }, () => Math.floor(r() * 256) - 128);
    const b = Int8Array.from({ length: a.length }, () => Math.floor(r() * 256) - 128);
    for (let t = 0; t < 20; t++) {
      const params = computeAddParams('horizon', 0.001 + r() * 0.1, 0.001 + r() * 0.1, 0.001 + r() * 0.1);
      const lo = t % 2 ? 0 : -128;
      const layer = { ...add, params, clamp: { lo, hi: 127 } };
      const got = execLayer(im, layer, [{ data: a, shape: [2, 48, 14, 14] }, { data: b, shape: [2, 48, 14, 14] }]);
      const ref = addInt(a, 0, b, 0, params, { dtype: 'int8', clampMin: lo, clampMax: 127 });
      expect(Array.from(got.data)).toEqual(Array.from(ref));
    }
  });

  it('integer-only datapath: every dumped value between the stubs is an integer array; floats are refused', async () => {
    const { im } = await setup('cnn-small');
    const r = runIntModel(im, batch(2, 3), 2, { dump: true });
    expect(r.dumps.size).toBe(im.layers.length - 1);
    for (const [, t] of r.dumps) expect(t.data instanceof Int8Array || t.data instanceof Int16Array || t.data instanceof Int32Array).toBe(true);
    const conv = im.layers.find((l) => l.op === 'conv2d')!;
    const bad = { data: new Float32Array(784 * 2) as unknown as Int8Array, shape: [2, 1, 28, 28] };
    expect(() => execLayer(im, conv, [bad])).toThrow(TypeError);
  });
});

describe('fast conv kernel', () => {
  it('the WebAssembly SIMD GEMM is available in Node', () => {
    expect(wasmGemm()).not.toBe(null);
  });

  it('wasm requantization (exact i64) equals requantizeHorizon: extremes, wide products, every shift, int8/int16', () => {
    const r = mulberry32(21);
    const C = 70, inner = 37, N = 2;
    const multiplier = new Int32Array(C), shift = new Int32Array(C);
    for (let c = 0; c < C; c++) {
      // normalised 32-bit multipliers over a wide range of scales, plus denormalised / shift 0 / shift 63 edge cases
      const ms = c === 0 ? { multiplier: 1, shift: 0 } : c === 1 ? { multiplier: 2 ** 31 - 1, shift: 63 } : c === 2 ? { multiplier: 5, shift: 63 }
        : computeMultiplierShift(2 ** (-30 + r() * 33), c % 3 === 0 ? 16 : 32);
      multiplier[c] = ms.multiplier;
      shift[c] = ms.shift;
    }
    const acc = Int32Array.from({ length: N * C * inner }, (_, i) => i % 11 === 0 ? (i % 2 ? 2147483647 : -2147483648)
      : i % 5 === 0 ? Math.floor((r() - 0.5) * 2 ** 32) : Math.floor((r() - 0.5) * 2 ** 16));
    for (const [dtype, lo, hi] of [['int8', -128, 127], ['int8', 0, 77], ['int16', -32768, 32767]] as const) {
      const ref = requantizeHorizon(acc, multiplier, shift, { dtype, clampMin: lo, clampMax: hi }, { channels: C, inner });
      const got = wasmGemm()!.requant(acc, multiplier, shift, dtype, 0, lo, hi, C, inner);
      expect(got.constructor).toBe(ref.constructor);
      expect(Array.from(got)).toEqual(Array.from(ref));
    }
  });

  for (const wasm of [true, false]) it(`is bit-identical to conv2dAccumulate (groups, stride, padding, dilation, int16, wrap-around; ${wasm ? 'wasm SIMD' : 'JS'} path)`, () => {
    useWasmGemm(wasm);
    const r = mulberry32(3);
    const cases = [
      { N: 2, C: 4, H: 7, W: 6, O: 6, KH: 3, KW: 3, s: [1, 1], p: [1, 1], d: [1, 1], g: 1 },
      { N: 1, C: 6, H: 9, W: 9, O: 6, KH: 3, KW: 3, s: [2, 2], p: [1, 1], d: [1, 1], g: 6 },
      { N: 2, C: 4, H: 5, W: 8, O: 8, KH: 1, KW: 1, s: [1, 1], p: [0, 0], d: [1, 1], g: 2 },
      { N: 1, C: 3, H: 10, W: 11, O: 5, KH: 3, KW: 2, s: [2, 1], p: [2, 0], d: [2, 1], g: 1 },
      { N: 2, C: 6, H: 6, W: 5, O: 9, KH: 3, KW: 3, s: [1, 2], p: [1, 1], d: [1, 1], g: 3 },
      { N: 1, C: 1, H: 6, W: 6, O: 3, KH: 3, KW: 3, s: [1, 1], p: [1, 1], d: [1, 1], g: 1 },
      { N: 1, C: 40, H: 3, W: 3, O: 4, KH: 3, KW: 3, s: [1, 1], p: [1, 1], d: [1, 1], g: 1 },
      { N: 2, C: 5, H: 13, W: 17, O: 5, KH: 3, KW: 5, s: [3, 3], p: [2, 1], d: [2, 2], g: 5 }, // depthwise, stride 3, dilation
      { N: 1, C: 4, H: 9, W: 30, O: 4, KH: 3, KW: 3, s: [1, 1], p: [1, 1], d: [1, 1], g: 4 },
    ] as const;
    for (const c of cases) {
      for (const int16 of [false, true]) {
        const x = int16 ? Int16Array.from({ length: c.N * c.C * c.H * c.W }, () => Math.floor(r() * 65536) - 32768)
          : Int8Array.from({ length: c.N * c.C * c.H * c.W }, () => Math.floor(r() * 256) - 128);
        const I = c.C / c.g;
        const w = Int8Array.from({ length: c.O * I * c.KH * c.KW }, () => Math.floor(r() * 256) - 128);
        const bias = Int32Array.from({ length: c.O }, () => Math.floor(r() * 2 ** 32) - 2 ** 31);
        const ref = conv2dAccumulate({ x, xShape: [c.N, c.C, c.H, c.W], xZeroPoint: 0, w, wShape: [c.O, I, c.KH, c.KW], bias },
          { stride: c.s, padding: c.p, dilation: c.d, groups: c.g });
        const fast = conv2dAccFast(x, [c.N, c.C, c.H, c.W], 0, w, [c.O, I, c.KH, c.KW], bias, { stride: c.s, padding: c.p, dilation: c.d, groups: c.g });
        expect(fast.shape).toEqual(ref.shape);
        expect(Buffer.compare(new Uint8Array(fast.acc.buffer), new Uint8Array(ref.acc.buffer))).toBe(0);
      }
    }
    useWasmGemm(true);
  });
});
