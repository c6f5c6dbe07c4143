/**
 * The FPN-style neck with its natural three outputs (tests/fixtures/onnx/fpn.onnx, scripts/fixtures_dense.py:
 * feature maps p2 [16, 16, 16], p3 [16, 8, 8], p4 [16, 4, 4], nearest upsampling + Add top-down):
 *  - each output matches onnxruntime-node within 1e-4 relative on the CPU reference and on WebGPU, fused or not;
 *  - calibration on unlabelled images, convert: every output straight from a conv is an int32 accumulator output;
 *    every int8 layer fed the fake-quant model's own integers within 1 LSB (the nearest resizes exact); the GPU
 *    simulator computes the same integers for every output; the QDQ export runs in onnxruntime with the three
 *    outputs; the deployment check reports each output.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { withoutLabels, type ImageDataset } from '../src/data/dataset.ts';
import { normalizeImages } from '../src/data/loader.ts';
import { Tape } from '../src/engine/autograd.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { exportQdqOnnx } from '../src/io/onnx/export-qdq.ts';
import { importOnnx } from '../src/io/onnx/import.ts';
import { runGraph } from '../src/nn/executor.ts';
import { ParamStore } from '../src/nn/params.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { convertQuantizedModel } from '../src/quant/convert.ts';
import { deployCheck } from '../src/quant/deploy-check.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import { releaseGpuModel, runIntModelGpu } from '../src/sim/run-gpu.ts';
import { execLayer, runIntModel, type IntTensor } from '../src/sim/run.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { fixture, randomInput, relError, runOrtAll, runOursAll } from './helpers/onnx.ts';
import { mulberry32 } from './helpers/random.ts';

afterAll(destroyTestBackend);

const bytes = fixture('fpn');
const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

function images(n: number, seed: number): ImageDataset {
  const r = mulberry32(seed);
  const px = new Uint8Array(n * 3 * 32 * 32);
  for (let i = 0; i < n; i++) {
    const cx = r() * 32, cy = r() * 32, rad = 4 + r() * 10;
    for (let c = 0; c < 3; c++) {
      const amp = 60 + r() * 195;
      for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) {
        const d = Math.hypot(x - cx, y - cy);
        px[((i * 3 + c) * 32 + y) * 32 + x] = Math.min(255, Math.round(amp * Math.exp(-(d * d) / (rad * rad)) + r() * 40));
      }
    }
  }
  return withoutLabels({ name: 'blobs', count: n, channels: 3, height: 32, width: 32, numClasses: 1, classNames: ['x'], images: px, labels: new Uint8Array(n) });
}

describe('FPN neck with three outputs', () => {
  it('three feature maps, each within 1e-4 of onnxruntime on the CPU reference and WebGPU, fused or not', async () => {
    const r = importOnnx(bytes, 'fpn.onnx');
    const outs = r.graph.outputs!;
    expect(outs.map((id) => r.graph.nodes.find((n) => n.id === id)!.shape)).toEqual([[16, 16, 16], [16, 8, 8], [16, 4, 4]]);
    const shape = [2, ...r.inputShape];
    const x = randomInput(prod(shape), 4);
    const want = await runOrtAll(bytes, x, shape);
    const f = fuse(r.graph, r.host);
    const gpu = await getTestBackend();
    for (const be of [createCpuBackend(), gpu]) {
      for (const [g, host] of [[r.graph, r.host], [f.graph, f.host]] as const) {
        const got = await runOursAll(be, g, host, x, shape);
        expect(got).toHaveLength(3);
        got.forEach((o, k) => expect(relError(o, want[k]), `${be.kind} output ${k}`).toBeLessThan(1e-4));
      }
    }
  });

  it('calibrated and converted: int32 outputs, layers within 1 LSB, GPU = CPU simulator, QDQ in onnxruntime, deployment check per output', async () => {
    const r = importOnnx(bytes, 'fpn.onnx');
    const f = fuse(r.graph, r.host);
    const be = createCpuBackend();
    const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate('default_calibration', { march: 'bayes' })), new ParamStore(be, f.graph, f.host));
    await calibrate(qm, images(8, 1), { batchSize: 8, normalize: r.normalization });
    qm.setState('VALIDATION');
    const im = await convertQuantizedModel(qm);
    expect(im.outputs).toHaveLength(3);
    for (const o of im.outputs!) expect(im.values[im.layers.find((l) => l.id === o)!.inputs[0]].dtype).toBe('int32');

    const n = 4;
    const ds = images(n, 2);
    const x = normalizeImages(ds, r.normalization);
    const tape = new Tape(be, false, false);
    const vals = new Map<string, Float32Array>();
    try {
      const { values } = runGraph(tape, qm.plan.graph, qm.store, tape.input(x, [n, ...r.inputShape]), { ...qm.hooks, keep: () => true });
      for (const [id, v] of values) vals.set(id, await be.read(v.value));
    } finally {
      tape.dispose();
    }
    const toInt = (id: string): IntTensor => {
      const info = im.values[id], v = vals.get(id)!;
      return { data: Int8Array.from(v, (a) => Math.round(a / info.scales[0])), shape: [n, ...info.shape] };
    };
    let resizes = 0;
    for (const layer of im.layers) {
      const info = im.values[layer.id];
      if (layer.op === 'quantize' || layer.op === 'dequantize' || info.dtype !== 'int8') continue;
      const got = execLayer(im, layer, layer.inputs.map(toInt));
      const ref = vals.get(layer.id)!;
      let max = 0;
      for (let i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(Math.round(ref[i] / info.scales[0]) - got.data[i]));
      if (layer.op === 'resize') {
        resizes++;
        expect(max, layer.id).toBe(0);
      }
      expect(max, `${layer.id} (${layer.op})`).toBeLessThanOrEqual(1);
    }
    expect(resizes).toBe(2);

    const sim = runIntModel(im, x, n);
    const { ctx } = await getTestBackend();
    const gpu = await runIntModelGpu(im, x, n, ctx);
    gpu.outputs.forEach((o, k) => expect(Array.from(o.int.data), o.id).toEqual(Array.from(sim.outputs[k].int.data)));
    releaseGpuModel(im, ctx);

    const ort = await runOrtAll(await exportQdqOnnx(qm), x, [n, ...r.inputShape]);
    expect(ort).toHaveLength(3);
    ort.forEach((o, k) => expect(relError(o, sim.outputs[k].output), `QDQ output ${k}`).toBeLessThan(0.05));

    const dc = await deployCheck(qm, im, ds, async (xb, nb, dump) => runIntModel(im, xb, nb, { dump }), { normalize: r.normalization });
    expect(dc.outputs!.map((o) => [o.name, o.shape])).toEqual([['p2', [16, 16, 16]], ['p3', [16, 8, 8]], ['p4', [16, 4, 4]]]);
    for (const o of dc.outputs!) expect(o.cosine).toBeGreaterThan(0.99);
    qm.store.dispose();
    qm.dispose();
  }, 120_000);
});
