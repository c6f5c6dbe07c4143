/**
 * A heterogeneous model (Horizon's guide, "heterogeneous models"): the exported ViT on march bayes, where the
 * simulator has no integer layer for the matmul of two activations (a nash-generation layer), softmax or layer norm.
 * prepare marks them float islands, convert makes them 'float' layers (src/sim/float-island.ts: dequantize, float32,
 * quantize), and
 *  - each layer of the simulator, fed the fake-quant model's own integers, agrees with it within 1 LSB (islands
 *    included); on nash-e the matmuls, softmaxes and layer norms are integer (no island left) and agree within 2 LSB,
 *    the layer norms (src/sim/int/layernorm.ts) within 1 LSB; the viewer and the deployment check list no island;
 *  - the model file keeps the islands (their weights int8) and the decoded model computes the same integers;
 *  - the GPU simulator (src/sim/run-gpu.ts) computes the CPU simulator's integers in every layer, on bayes (islands
 *    by round trip to the CPU) and on nash-e (integer matmul, softmax and layer norm in WGSL);
 *  - the viewer marks the islands and their DeQuant / Quant boundaries; the deployment check lists them;
 *  - the QDQ export of the ViT runs in onnxruntime and computes the fake-quant model's output.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Tape } from '../src/engine/autograd.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { withoutLabels, type ImageDataset } from '../src/data/dataset.ts';
import { normalizeImages } from '../src/data/loader.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { importOnnx } from '../src/io/onnx/import.ts';
import { runGraph } from '../src/nn/executor.ts';
import { ParamStore } from '../src/nn/params.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { convertQuantizedModel } from '../src/quant/convert.ts';
import { deployCheck, floatIslandsOf } from '../src/quant/deploy-check.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import { decodeModelFile, encodeModelFile } from '../src/sim/model-file.ts';
import { execLayer, runIntModel } from '../src/sim/run.ts';
import { releaseGpuModel, runIntModelGpu } from '../src/sim/run-gpu.ts';
import type { IntModel } from '../src/sim/model.ts';
import { buildViewGraph, islandBoundary } from '../src/ui/graph-view/graph-model.ts';
import { mulberry32 } from './helpers/random.ts';
import { relError, runOrt } from './helpers/onnx.ts';
import { exportQdqOnnx } from '../src/io/onnx/export-qdq.ts';
import { getTestBackend, destroyTestBackend } from './helpers/gpu.ts';
import type { WebGpuBackend } from '../src/engine/webgpu/webgpu-backend.ts';

const r = importOnnx(new Uint8Array(readFileSync('tests/fixtures/onnx/vit_tiny.onnx')), 'vit_tiny.onnx');
const f = fuse(r.graph, r.host);

function images(n: number, seed: number): ImageDataset {
  const rnd = mulberry32(seed);
  return withoutLabels({
    name: 'noise', images: Uint8Array.from({ length: n * 3 * 16 * 16 }, () => Math.floor(256 * rnd())), labels: new Uint8Array(n),
    count: n, channels: 3, height: 16, width: 16, numClasses: 10, classNames: [],
  });
}

afterAll(destroyTestBackend);

/** runIntModelGpu against runIntModel: the same integers in every layer's dump (timed once each, for the log). */
async function expectGpuEqualsCpu(im: IntModel, xs: Float32Array, n: number, kinds: string[]): Promise<void> {
  for (const k of kinds) expect(im.layers.some((l) => l.op === k), k).toBe(true);
  const t0 = performance.now();
  const cpu = runIntModel(im, xs, n, { dump: true });
  const t1 = performance.now();
  const { ctx } = await getTestBackend() as WebGpuBackend;
  const gpu = await runIntModelGpu(im, xs, n, ctx, { dump: true });
  console.log(`vit_tiny, ${n} images: CPU simulator ${(t1 - t0).toFixed(0)} ms, GPU simulator ${(performance.now() - t1).toFixed(0)} ms (first run: pipelines compiled)`);
  expect(Array.from(gpu.outputInt.data)).toEqual(Array.from(cpu.outputInt.data));
  expect(Array.from(gpu.output)).toEqual(Array.from(cpu.output));
  expect([...gpu.dumps.keys()]).toEqual([...cpu.dumps.keys()]);
  for (const [id, t] of cpu.dumps) {
    const g = gpu.dumps.get(id)!;
    expect(g.shape, id).toEqual(t.shape);
    expect(g.data.constructor, id).toBe(t.data.constructor);
    let diff = 0;
    for (let i = 0; i < t.data.length; i++) if (g.data[i] !== t.data[i]) diff++;
    expect(diff, `${id}: ${diff} of ${t.data.length} values differ`).toBe(0);
  }
  releaseGpuModel(im, ctx);
}

describe('ViT on march bayes: a heterogeneous model', () => {
  it('prepare marks the float islands; the simulator agrees with the fake quant within 1 LSB per layer; the file keeps them', async () => {
    const be = createCpuBackend();
    const plan = prepare(f.graph, qconfigTemplate('default_calibration', { march: 'bayes', observer: 'minmax' }));
    const islandOps = new Set(plan.floatIslands.map((i) => f.graph.nodes.find((n) => n.id === i.node)!.op));
    expect([...islandOps].sort()).toEqual(['layernorm', 'matmul', 'softmax']);
    expect(plan.floatIslands.find((i) => i.node.endsWith('attn/MatMul'))!.reason).toMatch(/MatMul has no integer implementation for march bayes \(it has one for nash-e, nash-m\)/);
    const qm = new QuantizedModel(be, plan, new ParamStore(be, f.graph, f.host));
    await calibrate(qm, images(16, 1), { batchSize: 8, normalize: r.normalization });
    const im = await convertQuantizedModel(qm);
    const islands = floatIslandsOf(im);
    expect(islands.map((i) => i.name).sort()).toEqual(plan.floatIslands.map((i) => i.node).sort());

    const n = 4;
    const xs = normalizeImages(images(n, 2), r.normalization);
    const tape = new Tape(be, false, false);
    const { output, values } = runGraph(tape, qm.plan.graph, qm.store, tape.input(xs, [n, 3, 16, 16]), { ...qm.hooks, keep: () => true });
    const fq = await be.read(output.value);
    let worst = 0, checked = 0;
    for (const layer of im.layers) {
      if (layer.op === 'quantize' || layer.op === 'dequantize' || im.values[layer.id].dtype === 'int32') continue;
      const ins = await Promise.all(layer.inputs.map(async (id) => {
        const info = im.values[id], v = await be.read(values.get(id)!.value);
        const data = info.dtype === 'int16' ? new Int16Array(v.length) : new Int8Array(v.length);
        for (let i = 0; i < v.length; i++) data[i] = Math.round(v[i] / info.scales[0]);
        return { data, shape: [n, ...info.shape] };
      }));
      const got = execLayer(im, layer, ins);
      const ref = await be.read(values.get(layer.id)!.value), s = im.values[layer.id].scales[0];
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(Math.round(ref[i] / s) - got.data[i]));
      checked++;
    }
    tape.dispose();
    expect(checked).toBeGreaterThan(40);
    expect(worst).toBeLessThanOrEqual(1);

    // the whole model: close to the fake quant; the file round trip computes the same integers
    const sim = runIntModel(im, xs, n);
    let d = 0, m = 0;
    for (let i = 0; i < fq.length; i++) { d = Math.max(d, Math.abs(sim.output[i] - fq[i])); m = Math.max(m, Math.abs(fq[i])); }
    expect(d / m).toBeLessThan(0.05);
    const back = decodeModelFile(encodeModelFile(im), 'vit.qsim');
    expect(Array.from(runIntModel(back, xs, n).outputInt.data)).toEqual(Array.from(sim.outputInt.data));

    // the deployment check lists the islands
    const dc = await deployCheck(qm, im, images(4, 3), async (x, k, dump) => runIntModel(im, x, k, { dump }), { normalize: r.normalization });
    expect(dc.float_islands!.map((i) => i.name)).toEqual(islands.map((i) => i.name));
    expect(Math.min(...dc.layers.map((l) => l.cosine))).toBeGreaterThan(0.99);

    // the viewer: islands drawn as float with their reason, DeQuant into them and Quant out of them
    const vg = buildViewGraph(f.graph, plan);
    const by = new Map(vg.nodes.map((v) => [v.id, v]));
    const sm = vg.nodes.find((v) => v.op === 'softmax')!;
    expect(sm.floatIsland).toMatch(/Softmax has no integer implementation for march bayes/);
    expect(sm.dtype).toBe('float');
    expect(islandBoundary(by.get(sm.inputs[0]), sm)).toBe('dequant'); // the integer scaling (affine) -> softmax
    const gelu = vg.nodes.find((v) => v.op === 'gelu')!;
    expect(gelu.floatIsland).toBeNull();
    expect(gelu.dtype).toBe('int16');
    const ln = vg.nodes.find((v) => v.op === 'layernorm' && v.id.includes('norm2'))!;
    expect(ln.floatIsland).toMatch(/LayerNorm has no integer implementation for march bayes \(it has one for nash-e, nash-m\)/);
    expect(islandBoundary(by.get(ln.inputs[0]), ln)).toBe('dequant'); // the residual add (integer) -> layer norm
    const fc1 = vg.nodes.find((v) => v.inputs.includes(ln.id))!;
    expect(islandBoundary(ln, fc1)).toBe('quant'); // layer norm -> fc1 (integer)
    expect(islandBoundary(fc1, vg.nodes.find((v) => v.inputs.includes(fc1.id)))).toBe(null); // fc1 -> GELU: both integer

    // the GPU simulator: the islands as a round trip to their CPU run, every integer identical
    await expectGpuEqualsCpu(im, xs, n, ['float']);
    qm.store.dispose();
    qm.dispose();
  }, 120_000);

  it('on nash-e the matmuls, softmaxes and layer norms are integer: within 2 LSB of the fake quant per layer (layer norm 1); no island', async () => {
    const be = createCpuBackend();
    const plan = prepare(f.graph, qconfigTemplate('default_calibration', { march: 'nash-e', observer: 'minmax' }));
    expect(plan.floatIslands).toEqual([]);
    const qm = new QuantizedModel(be, plan, new ParamStore(be, f.graph, f.host));
    await calibrate(qm, images(16, 1), { batchSize: 8, normalize: r.normalization });
    const im = await convertQuantizedModel(qm);
    expect(im.layers.filter((l) => l.op === 'matmul')).toHaveLength(4);
    expect(im.layers.filter((l) => l.op === 'layernorm')).toHaveLength(5);
    expect(floatIslandsOf(im)).toEqual([]);
    // the viewer draws the layer norms as integer int16 values, with no DeQuant / Quant boundary around them
    const vg = buildViewGraph(f.graph, plan);
    const by = new Map(vg.nodes.map((v) => [v.id, v]));
    for (const ln of vg.nodes.filter((v) => v.op === 'layernorm')) {
      expect(ln.floatIsland, ln.id).toBeNull();
      expect(ln.dtype, ln.id).toBe('int16');
      expect(islandBoundary(by.get(ln.inputs[0]), ln), ln.id).toBe(null);
    }
    expect(im.layers.filter((l) => l.op === 'transpose').length).toBeGreaterThan(4);
    const n = 4;
    const xs = normalizeImages(images(n, 2), r.normalization);
    const tape = new Tape(be, false, false);
    const { values } = runGraph(tape, qm.plan.graph, qm.store, tape.input(xs, [n, 3, 16, 16]), { ...qm.hooks, keep: () => true });
    const worst = new Map<string, number>();
    for (const layer of im.layers) {
      if (layer.op === 'quantize' || layer.op === 'dequantize' || im.values[layer.id].dtype === 'int32') continue;
      const ins = await Promise.all(layer.inputs.map(async (id) => {
        const info = im.values[id], v = await be.read(values.get(id)!.value);
        const data = info.dtype === 'int16' ? new Int16Array(v.length) : new Int8Array(v.length);
        for (let i = 0; i < v.length; i++) data[i] = Math.round(v[i] / info.scales[0]);
        return { data, shape: [n, ...info.shape] };
      }));
      const got = execLayer(im, layer, ins);
      const ref = await be.read(values.get(layer.id)!.value), s = im.values[layer.id].scales[0];
      let w = 0;
      for (let i = 0; i < ref.length; i++) w = Math.max(w, Math.abs(Math.round(ref[i] / s) - got.data[i]));
      worst.set(layer.op, Math.max(worst.get(layer.op) ?? 0, w));
    }
    tape.dispose();
    for (const [op, w] of worst) expect(w, op).toBeLessThanOrEqual(2);
    // the GPU simulator (integer matmul, softmax and layer norm in WGSL): identical integers in every layer
    await expectGpuEqualsCpu(im, xs, n, ['matmul', 'softmax', 'layernorm', 'transpose']);
    expect(worst.get('matmul')).toBeDefined();
    expect(worst.get('softmax')).toBeDefined();
    expect(worst.get('layernorm')).toBeLessThanOrEqual(1);
    console.log(`vit_tiny on nash-e, worst |simulator − fake quant| per layer kind (LSB): ${[...worst].map(([k, v]) => `${k} ${v}`).join(', ')}`);
    expect(worst.get('transpose')).toBe(0);

    // the QDQ export (int16 sites: opset 21) runs in onnxruntime as written and computes the fake-quant model's output
    const bytes = await exportQdqOnnx(qm);
    const ort = await runOrt(bytes, xs, [n, 3, 16, 16], 'disabled');
    const t2 = new Tape(be, false, false);
    const fq = await be.read(runGraph(t2, qm.plan.graph, qm.store, t2.input(xs, [n, 3, 16, 16]), qm.hooks).output.value);
    t2.dispose();
    const err = relError(ort, fq);
    console.log(`vit_tiny QDQ export (nash-e, ${bytes.length} bytes) in onnxruntime vs the fake-quant model: max |diff| / max |fq| ${err.toExponential(2)}`);
    expect(err).toBeLessThan(0.02);

    // the deployment check: no float island; the layer norm sites close to the fake quant through the whole model
    const dc = await deployCheck(qm, im, images(4, 3), async (x, k, dump) => runIntModel(im, x, k, { dump }), { normalize: r.normalization });
    expect(dc.float_islands).toEqual([]);
    for (const l of dc.layers.filter((l) => l.name.endsWith('layernorm'))) expect(l.cosine, l.name).toBeGreaterThan(0.999);
    qm.store.dispose();
    qm.dispose();
  }, 120_000);
});
