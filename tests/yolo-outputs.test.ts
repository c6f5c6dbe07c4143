/**
 * Several outputs of any shape, end to end, on the YOLO-style block exported by PyTorch (tests/fixtures/onnx/
 * yolo_block.onnx, scripts/onnx_fixtures_yolo.py: SiLU convs, a C2f channel split + concat, a box-regression conv
 * output [4, 8, 8] and a sigmoid score output [3, 8, 8]):
 *  - import: two outputs, each matching onnxruntime-node within 1e-4 relative on the CPU reference and on WebGPU
 *    (Dawn in Node), fused or not;
 *  - calibration on unlabelled images, 2 distillation QAT steps (the loss sums both outputs), convert: the box output
 *    is an int32 high-precision output (the last conv's accumulator dequantized), the score output int16 (the
 *    sigmoid's table feeds only the output: Horizon's high-precision output for a table op; int8 would be its floor);
 *  - every integer layer fed the fake-quant model's own inputs within 2 LSB; the simulator's two outputs close to the
 *    fake-quant model's; the GPU simulator bit-identical on both; the model file round trip unchanged;
 *  - the QDQ export runs in onnxruntime-node with both outputs (named boxes, scores) and computes the fake quant;
 *  - the deployment check reports both outputs (no top-1 for these: they are not class scores);
 *  - and on a small built graph: an output that also feeds later layers stays an int8 site.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Tape } from '../src/engine/autograd.ts';
import { Optimizer } from '../src/engine/optim/optimizer.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import type { ImageDataset } from '../src/data/dataset.ts';
import { iterateBatches, normalizeImages } from '../src/data/loader.ts';
import { graphOutputs, outputNames } from '../src/graph/ir.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { GraphBuilder } from '../src/graph/builder.ts';
import { buildViewGraph } from '../src/ui/graph-view/graph-model.ts';
import { importOnnx } from '../src/io/onnx/import.ts';
import { exportQdqOnnx } from '../src/io/onnx/export-qdq.ts';
import { buildTorchPackage, torchPackageZip } from '../src/io/torch/export-package.ts';
import { runGraph } from '../src/nn/executor.ts';
import { initHostParams, ParamStore } from '../src/nn/params.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { convertQuantizedModel, type IntModel } from '../src/quant/convert.ts';
import { deployCheck } from '../src/quant/deploy-check.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate, type NodeOverride } from '../src/quant/qconfig.ts';
import { decodeModelProto, int64 } from '../src/io/onnx/proto.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import { decodeModelFile, encodeModelFile } from '../src/sim/model-file.ts';
import { execLayer, runIntModel, type IntTensor } from '../src/sim/run.ts';
import { releaseGpuModel, runIntModelGpu } from '../src/sim/run-gpu.ts';
import { distillStep } from '../src/train/distill.ts';
import { destroyTestBackend, getTestBackend } from './helpers/gpu.ts';
import { fixture, randomInput, relError, runOrtAll, runOursAll } from './helpers/onnx.ts';
import { mulberry32 } from './helpers/random.ts';

afterAll(destroyTestBackend);

const NAME = 'yolo_block';

/** Smooth colour blobs without labels. */
function images(n: number, seed: number, [C, H, W]: number[]): ImageDataset {
  const r = mulberry32(seed);
  const px = new Uint8Array(n * C * H * W);
  for (let i = 0; i < n; i++) {
    const cx = r() * W, cy = r() * H, rad = 3 + r() * 10;
    for (let c = 0; c < C; c++) {
      const amp = 60 + r() * 195;
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
        const d = Math.hypot(x - cx, y - cy);
        px[((i * C + c) * H + y) * W + x] = Math.min(255, Math.round(amp * Math.exp(-(d * d) / (rad * rad)) + r() * 40));
      }
    }
  }
  return { name: 'blobs', count: n, channels: C, height: H, width: W, numClasses: 0, classNames: [], images: px, labels: null };
}

describe('the YOLO-style block: import', () => {
  it('has two outputs (boxes [4, 8, 8], scores [3, 8, 8]) that match onnxruntime-node within 1e-4, fused or not', async () => {
    const r = importOnnx(fixture(NAME), `${NAME}.onnx`);
    expect(graphOutputs(r.graph)).toEqual(['dequant_boxes', 'dequant_scores']);
    expect(outputNames(r.graph)).toEqual(['boxes', 'scores']);
    expect(graphOutputs(r.graph).map((id) => r.graph.nodes.find((n) => n.id === id)!.shape)).toEqual([[4, 8, 8], [3, 8, 8]]);
    for (const op of ['silu', 'slice', 'concat', 'add', 'sigmoid']) expect(r.graph.nodes.some((n) => n.op === op), op).toBe(true);
    // the viewer shows and labels each output
    const view = buildViewGraph(r.graph, prepare(r.graph, qconfigTemplate('default_calibration'))).nodes.filter((n) => n.output);
    expect(view.map((n) => [n.id, n.label, n.output, n.dtype])).toEqual([
      ['dequant_boxes', 'output boxes', { name: 'boxes', index: 1, of: 2 }, 'float'], ['dequant_scores', 'output scores', { name: 'scores', index: 2, of: 2 }, 'float'],
    ]);
    const shape = [3, ...r.inputShape];
    const x = randomInput(shape.reduce((a, b) => a * b, 1), 14);
    const ort = await runOrtAll(fixture(NAME), x, shape);
    expect(ort).toHaveLength(2);
    const be = createCpuBackend();
    const f = fuse(r.graph, r.host);
    for (const [what, g, host] of [['unfused', r.graph, r.host], ['fused', f.graph, f.host]] as const) {
      const ours = await runOursAll(be, g, host, x, shape);
      ours.forEach((o, k) => {
        const e = relError(o, ort[k]);
        console.log(`${NAME} ${what}, output ${outputNames(g)[k]}: max relative error vs onnxruntime ${e.toExponential(2)} (CPU reference)`);
        expect(e).toBeLessThan(1e-4);
      });
    }
  });

  it('the same on the WebGPU engine', async () => {
    const be = await getTestBackend();
    const live = be.liveTensors();
    const r = importOnnx(fixture(NAME), `${NAME}.onnx`);
    const shape = [2, ...r.inputShape];
    const x = randomInput(shape.reduce((a, b) => a * b, 1), 15, 0, 1);
    const ort = await runOrtAll(fixture(NAME), x, shape);
    const f = fuse(r.graph, r.host);
    for (const [what, g, host] of [['unfused', r.graph, r.host], ['fused', f.graph, f.host]] as const) {
      const ours = await runOursAll(be, g, host, x, shape);
      expect(ours).toHaveLength(2);
      ours.forEach((o, k) => {
        const e = relError(o, ort[k]);
        console.log(`${NAME} ${what}, output ${outputNames(g)[k]}: max relative error vs onnxruntime ${e.toExponential(2)} (WebGPU)`);
        expect(e).toBeLessThan(1e-4);
      });
    }
    expect(be.liveTensors()).toBe(live);
  });
});

async function quantized(overrides: NodeOverride[] = []) {
  const r = importOnnx(fixture(NAME), `${NAME}.onnx`);
  const f = fuse(r.graph, r.host);
  const be = createCpuBackend();
  const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate('default_calibration', { observer: 'minmax', overrides })), new ParamStore(be, f.graph, f.host));
  const train = images(16, 1, r.inputShape);
  await calibrate(qm, train, { batchSize: 8, normalize: r.normalization });
  // two distillation QAT steps: the float model teaches, the loss sums both outputs
  const teacher = { graph: f.graph, store: new ParamStore(be, f.graph, f.host) };
  qm.setState('QAT');
  const opt = new Optimizer(be, [...qm.store.vars.values()], { name: 'adam', lr: 1e-4 });
  const student = { graph: qm.plan.graph, store: qm.store, hooks: qm.hooks };
  for (const b of [...iterateBatches(train, 8, 0, 0, { shuffle: false, normalize: r.normalization })]) {
    const loss = await distillStep(be, student, teacher, new Set(), { loss: 'mse', featureWeight: 0, withLabels: false }, opt, b, true);
    expect(Number.isFinite(loss)).toBe(true);
  }
  teacher.store.dispose();
  qm.setState('VALIDATION');
  return { r, qm, im: await convertQuantizedModel(qm) };
}

/** The fake-quant model's value at every node and every output (VALIDATION state). */
async function fakeQuant(qm: QuantizedModel, x: Float32Array, shape: number[]) {
  const tape = new Tape(qm.be, false, false);
  try {
    const { outputs, values } = runGraph(tape, qm.plan.graph, qm.store, tape.input(x, shape), { ...qm.hooks, keep: () => true });
    const outs = await Promise.all(outputs.map((o) => qm.be.read(o.value)));
    const vals = new Map<string, Float32Array>();
    for (const [id, v] of values) vals.set(id, await qm.be.read(v.value));
    return { outs, vals };
  } finally {
    tape.dispose();
  }
}

/** Worst |simulator − fake quant| in LSB of every integer layer, fed the fake-quant model's integer inputs. */
function perLayerLsb(im: IntModel, vals: Map<string, Float32Array>, n: number): Record<string, number> {
  const toInt = (id: string): IntTensor => {
    const info = im.values[id], v = vals.get(id)!;
    const data = info.dtype === 'int16' ? new Int16Array(v.length) : new Int8Array(v.length);
    for (let i = 0; i < v.length; i++) data[i] = Math.round(v[i] / info.scales[0]);
    return { data, shape: [n, ...info.shape] };
  };
  const worst: Record<string, number> = {};
  for (const layer of im.layers) {
    if (layer.op === 'quantize' || layer.op === 'dequantize') continue;
    const info = im.values[layer.id];
    const got = execLayer(im, layer, layer.inputs.map(toInt));
    const ref = vals.get(layer.id)!;
    const C = info.scales.length, inner = ref.length / n / C;
    let max = 0;
    for (let i = 0; i < ref.length; i++) {
      const lsb = info.scales[C === 1 ? 0 : Math.floor(i / inner) % C];
      // int8 / int16: the fake-quant value is on the grid; int32 (the box conv's accumulator): the real distance
      max = Math.max(max, info.dtype === 'int32' ? Math.abs(ref[i] / lsb - got.data[i]) : Math.abs(Math.round(ref[i] / lsb) - got.data[i]));
    }
    worst[`${layer.op} ${layer.id}`] = max;
  }
  return worst;
}

describe('the YOLO-style block: calibrate (no labels) → distillation QAT → convert → simulator → QDQ export', () => {
  it('int32 box output, every layer within 2 LSB, GPU = CPU simulator, model file, QDQ export with both outputs, deployment check per output', async () => {
    const { r, qm, im } = await quantized();
    // the same with the high-precision score output switched off by a per-node override: int8 scores, as before
    const { qm: qm8, im: im8 } = await quantized([{ match: 'Sigmoid', int32Output: false }]);
    expect(im8.values[im8.layers.find((l) => l.id === 'dequant_scores')!.inputs[0]].dtype).toBe('int8');
    expect(im.outputs).toEqual(['dequant_boxes', 'dequant_scores']);
    const src = (id: string) => im.layers.find((l) => l.id === id)!.inputs[0];
    expect(im.values[src('dequant_boxes')].dtype).toBe('int32'); // straight from a conv: the accumulator
    expect(im.values[src('dequant_boxes')].scales).toHaveLength(4); // x_scale · w_scale[o], per channel
    expect(im.values[src('dequant_scores')].dtype).toBe('int16'); // the sigmoid's table output, read only by the output
    expect(im.layers.some((l) => l.op === 'lut'), 'SiLU / sigmoid as tables').toBe(true);

    const n = 6;
    const ds = images(n, 9, r.inputShape);
    const x = normalizeImages(ds, r.normalization);
    const shape = [n, ...r.inputShape];
    const { outs: fq, vals } = await fakeQuant(qm, x, shape);

    const worst = perLayerLsb(im, vals, n);
    expect(Object.keys(worst).length).toBeGreaterThan(20);
    const top = Math.max(...Object.values(worst));
    console.log(`${NAME}: worst layer ${top.toFixed(3)} LSB (simulator fed the fake-quant inputs), ${Object.keys(worst).length} layers`);
    for (const [id, m] of Object.entries(worst)) expect(m, `layer ${id}: ${m} LSB`).toBeLessThanOrEqual(2);

    const sim = runIntModel(im, x, n, { dump: true });
    expect(sim.outputs.map((o) => o.id)).toEqual(im.outputs);
    expect(sim.outputs.map((o) => o.shape)).toEqual([[n, 4, 8, 8], [n, 3, 8, 8]]);
    sim.outputs.forEach((o, k) => {
      const e = relError(o.output, fq[k]);
      console.log(`${NAME} output ${outputNames(qm.plan.graph)[k]}: simulator vs fake quant, max relative error ${e.toFixed(4)}`);
      expect(e).toBeLessThan(0.1);
    });

    // the model file keeps the outputs; the GPU simulator computes the same integers for both
    const back = decodeModelFile(encodeModelFile(im), `${NAME}.qsbin`);
    expect(back.outputs).toEqual(im.outputs);
    const notDequant = im.layers.find((l) => l.op === 'rescale')!.id;
    expect(() => decodeModelFile(encodeModelFile({ ...im, outputs: [im.output, notDequant] }), 'bad.qsbin')).toThrow(`bad.qsbin: output ${notDequant} is not a dequantize layer`);
    expect(() => decodeModelFile(encodeModelFile({ ...im, outputs: ['dequant_scores', 'dequant_boxes'] }), 'bad.qsbin')).toThrow('outputs must be a list that starts with output dequant_boxes');
    const again = runIntModel(back, x, n);
    again.outputs.forEach((o, k) => expect(Array.from(o.int.data)).toEqual(Array.from(sim.outputs[k].int.data)));
    const { ctx } = await getTestBackend();
    const gpu = await runIntModelGpu(im, x, n, ctx);
    expect(gpu.outputs.map((o) => o.id)).toEqual(im.outputs);
    gpu.outputs.forEach((o, k) => {
      expect(Array.from(o.int.data), `GPU output ${o.id}`).toEqual(Array.from(sim.outputs[k].int.data));
      expect(Array.from(o.output)).toEqual(Array.from(sim.outputs[k].output));
    });
    releaseGpuModel(im, ctx);

    // the QDQ export: both outputs under their names; without graph optimizations onnxruntime computes the fake quant
    const qdq = await exportQdqOnnx(qm);
    const ort = await runOrtAll(qdq, x, shape, 'disabled');
    expect(ort).toHaveLength(2);
    ort.forEach((o, k) => {
      const e = relError(o, fq[k]);
      console.log(`${NAME} output ${outputNames(qm.plan.graph)[k]}: QDQ export in onnxruntime vs fake quant, max relative error ${e.toExponential(2)}`);
      expect(e).toBeLessThan(1e-2);
    });
    // With its graph optimizations onnxruntime fuses Q/DQ into its integer kernels, but only for an opset-13 file:
    // the int16 score output makes the export opset 21, where its QDQ propagation writes an invalid QuantizeLinear
    // (measured with onnxruntime-node: "output_dtype INT8 does not match y_zero_point type UINT8" on the C2f slice).
    expect(int64(decodeModelProto(qdq).opsetImport![0].version)).toBe(21);
    const ort8 = await exportQdqOnnx(qm8);
    expect(int64(decodeModelProto(ort8).opsetImport![0].version)).toBe(13);
    const ortOpt = await runOrtAll(ort8, x, shape);
    const sim8 = runIntModel(im8, x, n);
    ortOpt.forEach((o, k) => expect(relError(o, sim8.outputs[k].output)).toBeLessThan(0.1));

    // end to end vs alone (each layer fed the fake-quant integers) on the int8-score plan: what a layer adds itself
    const dc8 = await deployCheck(qm8, im8, ds, async (xb, nb, dump) => runIntModel(im8, xb, nb, { dump }), { normalize: r.normalization, isolated: true });
    const sig8 = dc8.layers.find((l) => l.name === 'Sigmoid')!;
    console.log(`${NAME} int8 scores: Sigmoid end to end ${sig8.max_lsb} LSB, alone ${sig8.isolated_max_lsb} LSB; ` +
      `every layer alone ≤ ${Math.max(...dc8.layers.map((l) => l.isolated_max_lsb ?? 0))} LSB (int32 outputs not compared alone)`);
    const alone = dc8.layers.filter((l) => l.isolated_max_lsb !== undefined);
    expect(alone.length).toBeGreaterThan(20);
    for (const l of alone) expect(l.isolated_max_lsb, l.name).toBeLessThanOrEqual(1);
    qm8.store.dispose();
    qm8.dispose();
    // the PyTorch package: forward returns (boxes, scores), qparams.json describes both (torch-export-outputs.test.ts
    // runs it in PyTorch)
    const ck = { model: NAME, stage: 'calib' as const, graph: qm.plan.graph, qconfig: qm.plan.qconfig, params: await qm.store.toHost(), qsites: await qm.toHost(), meta: {} };
    expect(torchPackageZip(ck, r.normalization).length).toBeGreaterThan(0);
    expect(buildTorchPackage(ck, r.normalization).qparams.outputs!.map((o) => [o.name, o.dtype])).toEqual([['boxes', 'int32'], ['scores', 'qint16']]);

    // the deployment check compares both outputs (and every layer)
    const dc = await deployCheck(qm, im, ds, async (xb, nb, dump) => runIntModel(im, xb, nb, { dump }), { normalize: r.normalization });
    expect(dc.agreement_top1).toBeNaN(); // the first output (boxes) is not class scores
    expect(dc.outputs!.map((o) => [o.name, o.shape, o.dtype, o.top1_agreement])).toEqual([['boxes', [4, 8, 8], 'int32', null], ['scores', [3, 8, 8], 'int16', null]]);
    for (const o of dc.outputs!) {
      console.log(`${NAME} deployment check, output ${o.name}: cosine ${o.cosine.toFixed(6)}, SQNR ${o.sqnr_db.toFixed(1)} dB, max ${o.max_lsb.toFixed(2)} LSB`);
      expect(o.cosine).toBeGreaterThan(0.99);
      // within one LSB of their own dtype (int16: the sigmoid's 2^-15; int32: the accumulator's x_scale · w_scale): the
      // fake-quant model computes the simulator's integers up to the table (exact on an int8 input) and the int32 conv
      // (float32 sums; measured: scores 0.00, boxes 0.01 LSB)
      expect(o.max_lsb).toBeLessThan(1);
    }
    // end to end (the error carried from earlier layers included): a few int8 LSB; the int16 scores in int8 terms
    expect(dc.layers.filter((l) => l.dtype === 'int8').every((l) => l.max_lsb <= 8)).toBe(true);
    expect(dc.layers.filter((l) => l.dtype === 'int16').every((l) => l.max_lsb / 256 <= 8)).toBe(true);
    qm.store.dispose();
    qm.dispose();
  }, 120_000);
});

describe('an output that also feeds later layers', () => {
  it('stays an int8 site (only a conv that feeds nothing but its DeQuantStub is int32); CPU = GPU simulator, per output', async () => {
    // input -> quant -> conv1 -> relu1 (output "feat", and the input of conv2) -> conv2 (output "head", int32)
    const b = new GraphBuilder('feat-head', [2, 6, 6], 0);
    const q = b.quantStub('input');
    const h = b.relu('relu1', b.conv('conv1', q, 4, 3, { padding: 1 }));
    const y = b.conv('conv2', h, 3, 1);
    const dy = b.op('dequant_head', 'dequant_stub', [y]);
    const dh = b.op('dequant_feat', 'dequant_stub', [h]);
    const g = b.build(dy, [dh]);
    const be = createCpuBackend();
    const f = fuse(g, initHostParams(g, 5));
    const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate('default_calibration', { observer: 'minmax' })), new ParamStore(be, f.graph, f.host));
    const ds = images(8, 3, [2, 6, 6]);
    await calibrate(qm, ds, { batchSize: 8 });
    qm.setState('VALIDATION');
    const im = await convertQuantizedModel(qm);
    expect(outputNames(f.graph)).toEqual(['head', 'feat']);
    const srcOf = (id: string) => im.layers.find((l) => l.id === id)!.inputs[0];
    expect([im.values[srcOf('dequant_head')].dtype, im.values[srcOf('dequant_feat')].dtype]).toEqual(['int32', 'int8']);
    const x = normalizeImages(ds, 'pixel/255');
    const { outs: fq } = await fakeQuant(qm, x, [8, 2, 6, 6]);
    const sim = runIntModel(decodeModelFile(encodeModelFile(im), 'feat-head.qsbin'), x, 8);
    expect(sim.outputs.map((o) => o.shape)).toEqual([[8, 3, 6, 6], [8, 4, 6, 6]]);
    sim.outputs.forEach((o, k) => expect(relError(o.output, fq[k])).toBeLessThan(0.05));
    const { ctx } = await getTestBackend();
    const gpu = await runIntModelGpu(im, x, 8, ctx);
    gpu.outputs.forEach((o, k) => expect(Array.from(o.int.data)).toEqual(Array.from(sim.outputs[k].int.data)));
    releaseGpuModel(im, ctx);
    qm.store.dispose();
    qm.dispose();
  });
});
