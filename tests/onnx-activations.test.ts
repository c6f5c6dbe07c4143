/**
 * The table activations (sigmoid, tanh, hardsigmoid, hardswish, silu, leakyrelu, prelu, clip) through the whole flow
 * on a real PyTorch export (tests/fixtures/onnx/activations*.onnx, scripts/make-onnx-fixtures.py):
 *  - import: PyTorch's x · sigmoid(x) and x · hardsigmoid(x) (below opset 14) are read as one op each;
 *  - calibration, a few QAT steps (the PReLU slope trains), convert, the simulator: every `lut` layer fed with the
 *    fake-quant model's own integer input gives its integer output within 1 LSB (int8 and int16 activations), the
 *    end-to-end logits agree, and the GPU simulator is bit-identical to the CPU one;
 *  - the QDQ export (each op between DQ and Q) runs in onnxruntime-node and agrees with the fake-quant model.
 * (Float import vs onnxruntime, CPU and WebGPU, before and after fusion: onnx-import*.test.ts, FLOAT_FIXTURES.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Tape } from '../src/engine/autograd.ts';
import { Optimizer } from '../src/engine/optim/optimizer.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import type { ImageDataset } from '../src/data/dataset.ts';
import { normalizeImages } from '../src/data/loader.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { importOnnx } from '../src/io/onnx/import.ts';
import { exportQdqOnnx } from '../src/io/onnx/export-qdq.ts';
import { runGraph } from '../src/nn/executor.ts';
import { ParamStore } from '../src/nn/params.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { convertQuantizedModel, type IntModel } from '../src/quant/convert.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import { execLayer, runIntModel, type IntTensor } from '../src/sim/run.ts';
import { releaseGpuModel, runIntModelGpu } from '../src/sim/run-gpu.ts';
import { trainStep } from '../src/train/trainer.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { fixture, runOrt } from './helpers/onnx.ts';
import { mulberry32 } from './helpers/random.ts';

afterAll(destroyTestBackend);

const LUT_OPS = ['hardswish', 'silu', 'leakyrelu', 'prelu', 'clip', 'tanh', 'sigmoid', 'hardsigmoid'];

/** Smooth colour blobs, 3x16x16. */
function images(n: number, seed: number): ImageDataset {
  const r = mulberry32(seed);
  const px = new Uint8Array(n * 768);
  for (let i = 0; i < n; i++) {
    const cx = 3 + r() * 10, cy = 3 + r() * 10, rad = 2 + r() * 6;
    const amp = [r(), r(), r()].map((v) => 80 + v * 175);
    for (let c = 0; c < 3; c++) for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) {
      const d = Math.hypot(x - cx, y - cy);
      px[i * 768 + c * 256 + y * 16 + x] = Math.min(255, Math.round(amp[c] * Math.exp(-(d * d) / (rad * rad)) + r() * 40));
    }
  }
  return { name: 'blobs', count: n, channels: 3, height: 16, width: 16, numClasses: 10, classNames: [], images: px, labels: Uint8Array.from({ length: n }, (_, i) => i % 10) };
}

const argmax = (a: Float32Array, i: number, k: number) => {
  let b = 0;
  for (let j = 1; j < k; j++) if (a[i * k + j] > a[i * k + b]) b = j;
  return b;
};

describe('activations.onnx import', () => {
  it.each(['activations', 'activations17'])('%s: every table op, gates read as one op, no Mul left', (name) => {
    const r = importOnnx(fixture(name), `${name}.onnx`);
    const ops = r.graph.nodes.map((n) => n.op);
    for (const op of [...LUT_OPS, 'relu6']) expect(ops, op).toContain(op);
    expect(ops.filter((o) => o === 'hardsigmoid').length).toBe(1); // the gate of hardswish became part of it
    expect(ops.filter((o) => o === 'sigmoid').length).toBe(1); // the gate of silu likewise
    const prelu = r.graph.nodes.find((n) => n.op === 'prelu')!;
    expect(r.graph.params.find((p) => p.name === prelu.params.slope)!.shape).toEqual([24]);
    const clip = r.graph.nodes.find((n) => n.op === 'clip')!;
    expect(clip.attrs.actParams).toEqual({ alpha: -1, beta: 1 });
    expect(r.graph.nodes.find((n) => n.op === 'leakyrelu')!.attrs.actParams!.alpha).toBeCloseTo(0.1, 7);
  });
});

async function quantFlow(template: string) {
  const r = importOnnx(fixture('activations'), 'activations.onnx');
  const f = fuse(r.graph, r.host);
  const be = createCpuBackend();
  const store = new ParamStore(be, f.graph, f.host);
  const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate(template, { march: 'bayes', observer: 'minmax' })), store);
  const data = images(48, 1);
  await calibrate(qm, data, { batchSize: 16, normalize: r.normalization });

  // A few QAT steps: the loss is finite, the PReLU slope (a trainable parameter) moves.
  const slopeName = f.graph.nodes.find((n) => n.op === 'prelu')!.params.slope;
  const slope0 = Float32Array.from(await be.read(store.param(slopeName).value));
  qm.setState('QAT');
  const opt = new Optimizer(be, [...store.vars.values()], { name: 'adam', lr: 1e-3 });
  const x = normalizeImages(data, r.normalization);
  for (let s = 0; s < 3; s++) {
    const b = x.subarray(s * 16 * 768, (s + 1) * 16 * 768);
    const labels = Float32Array.from(data.labels!.subarray(s * 16, (s + 1) * 16));
    const loss = await trainStep(be, f.graph, store, opt, b, [16, 3, 16, 16], labels, true, qm.hooks);
    expect(Number.isFinite(loss)).toBe(true);
  }
  opt.dispose();
  qm.setState('VALIDATION');
  const slope1 = await be.read(store.param(slopeName).value);
  expect(Array.from(slope1)).not.toEqual(Array.from(slope0));
  const im = await convertQuantizedModel(qm);
  return { r, qm, im };
}

/** The fake-quant model's value at every node (VALIDATION), n images. */
async function fakeQuant(qm: QuantizedModel, x: Float32Array, n: number) {
  const tape = new Tape(qm.be, false, false);
  const { output, values } = runGraph(tape, qm.plan.graph, qm.store, tape.input(x, [n, 3, 16, 16]), { ...qm.hooks, keep: () => true });
  const out = await qm.be.read(output.value);
  const vals = new Map<string, Float32Array>();
  for (const [id, v] of values) vals.set(id, await qm.be.read(v.value));
  tape.dispose();
  return { out, vals };
}

function toInt(im: IntModel, id: string, v: Float32Array, n: number): IntTensor {
  const info = im.values[id];
  const data = info.dtype === 'int16' ? new Int16Array(v.length) : new Int8Array(v.length);
  for (let i = 0; i < v.length; i++) data[i] = Math.round(v[i] / info.scales[0]);
  return { data, shape: [n, ...info.shape] };
}

describe.each([
  ['int8', 'default_calibration'],
  ['int16', 'default_calibration_int16'],
])('activations.onnx %s: calibrate, QAT steps, convert, simulate', (dtype, template) => {
  it('every lut layer within 1 LSB of the fake-quant model; logits agree; GPU simulator bit-identical; QDQ export in onnxruntime', async () => {
    const { r, qm, im } = await quantFlow(template);
    const luts = im.layers.filter((l) => l.op === 'lut');
    expect(luts.map((l) => (l as { fn: string }).fn).sort()).toEqual(['Clip', 'HardSigmoid', 'HardSwish', 'LeakyReLU', 'PReLU', 'SiLU', 'Sigmoid', 'Tanh']);
    for (const l of luts) {
      expect(im.values[l.id].dtype).toBe(dtype);
      expect(im.values[l.inputs[0]].dtype).toBe(dtype);
    }

    const n = 16;
    const ds = images(n, 7);
    const x = normalizeImages(ds, r.normalization);
    const { out: fqOut, vals } = await fakeQuant(qm, x, n);
    const report: string[] = [];
    for (const l of luts) {
      const got = execLayer(im, l, [toInt(im, l.inputs[0], vals.get(l.inputs[0])!, n)]);
      const want = toInt(im, l.id, vals.get(l.id)!, n);
      let maxd = 0, differ = 0;
      for (let i = 0; i < want.data.length; i++) {
        const d = Math.abs(got.data[i] - want.data[i]);
        maxd = Math.max(maxd, d);
        if (d) differ++;
      }
      report.push(`${(l as { fn: string }).fn} max ${maxd} LSB (${differ}/${want.data.length} differ)`);
      expect(maxd, `${l.id}`).toBeLessThanOrEqual(1);
    }
    console.log(`${dtype} lut layers vs fake quant: ${report.join('; ')}`);

    // End to end: the simulator's logits against the fake-quant model's.
    const sim = runIntModel(im, x, n, { dump: true });
    const K = im.numClasses;
    let agree = 0, maxErr = 0, range = 0;
    for (let i = 0; i < n; i++) if (argmax(sim.output, i, K) === argmax(fqOut, i, K)) agree++;
    for (let i = 0; i < fqOut.length; i++) {
      maxErr = Math.max(maxErr, Math.abs(sim.output[i] - fqOut[i]));
      range = Math.max(range, Math.abs(fqOut[i]));
    }
    console.log(`${dtype} simulator vs fake quant: top-1 agreement ${agree}/${n}, max |logit diff| ${maxErr.toExponential(2)} (max |logit| ${range.toFixed(3)})`);
    expect(agree / n).toBeGreaterThanOrEqual(0.9);
    expect(maxErr).toBeLessThan(0.05 * range);

    // The GPU simulator: the same integers, every layer.
    const { ctx } = await getTestBackend();
    const gpu = await runIntModelGpu(im, x, n, ctx, { dump: true });
    expect(Array.from(gpu.outputInt.data)).toEqual(Array.from(sim.outputInt.data));
    for (const l of luts) expect(Array.from(gpu.dumps.get(l.id)!.data), l.id).toEqual(Array.from(sim.dumps.get(l.id)!.data));
    releaseGpuModel(im, ctx);

    // The QDQ export in onnxruntime-node.
    const bytes = await exportQdqOnnx(qm);
    // As written (no graph optimization): with its QDQ fusions onnxruntime runs the per-channel Gemm on its own integer
    // kernel and the logits move by up to ~40 % of their range here (the float fixtures show it too) — not the QDQ
    // semantics the export writes. Quantization itself divides by the scale where the fake quant multiplies by
    // f32(1 / scale): single-LSB flips at near-ties.
    const ort = await runOrt(bytes, x, [n, 3, 16, 16], 'disabled');
    let ortAgree = 0, ortErr = 0, close = 0;
    for (let i = 0; i < n; i++) if (argmax(ort, i, K) === argmax(fqOut, i, K)) ortAgree++;
    for (let i = 0; i < fqOut.length; i++) {
      const d = Math.abs(ort[i] - fqOut[i]);
      ortErr = Math.max(ortErr, d);
      if (d <= 0.01 * range) close++;
    }
    console.log(`${dtype} QDQ export (onnxruntime) vs fake quant: top-1 agreement ${ortAgree}/${n}, ${close}/${fqOut.length} logits within 1 % of the logit range, max |logit diff| ${ortErr.toExponential(2)}`);
    expect(ortAgree / n).toBeGreaterThanOrEqual(0.9);
    expect(close / fqOut.length).toBeGreaterThanOrEqual(0.95);
    qm.store.dispose();
    qm.dispose();
  });
});
