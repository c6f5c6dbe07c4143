/**
 * Checks ONNX files too large to commit (e.g. torchvision's MnasNet / GoogLeNet written by
 * `scripts/make-onnx-fixtures.py --torchvision-ops-mul DIR`) through the flow:
 *  1. import; float outputs vs onnxruntime-node on random inputs, CPU reference and WebGPU, fused and not
 *     (max |ours - ort| / max |ort|);
 *  2. fuse, calibrate (WebGPU engine, synthetic images), convert; every integer layer fed the fake-quant model's own
 *     integer inputs vs the fake-quant output (worst LSB), and the simulator's top-1 vs the fake-quant model's.
 * Usage: node --import tsx --import ./scripts/wgsl-hooks.mjs scripts/onnx-vs-ort.ts FILE.onnx [...]
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Tape } from '../src/engine/autograd.ts';
import type { Backend } from '../src/engine/backend.ts';
import { createNodeBackend } from '../src/engine/create-node-backend.ts';
import type { ImageDataset } from '../src/data/dataset.ts';
import { normalizeImages } from '../src/data/loader.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import type { Graph } from '../src/graph/ir.ts';
import { importOnnx } from '../src/io/onnx/import.ts';
import { runGraph } from '../src/nn/executor.ts';
import { ParamStore, type HostParams } from '../src/nn/params.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { convertQuantizedModel } from '../src/quant/convert.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import { execLayer, runIntModel } from '../src/sim/run.ts';
import { argmaxRows } from '../src/train/metrics.ts';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}

/** Smooth colour blobs, labels by index. */
function blobs(n: number, seed: number, [C, H, W]: number[], classes: number): ImageDataset {
  const r = lcg(seed);
  const px = new Uint8Array(n * C * H * W);
  for (let i = 0; i < n; i++) {
    const cx = r() * W, cy = r() * H, rad = 2 + r() * 8;
    for (let c = 0; c < C; c++) {
      const amp = 60 + r() * 195;
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
        const d = Math.hypot(x - cx, y - cy);
        px[((i * C + c) * H + y) * W + x] = Math.min(255, Math.round(amp * Math.exp(-(d * d) / (rad * rad)) + r() * 40));
      }
    }
  }
  return { name: 'blobs', count: n, channels: C, height: H, width: W, numClasses: classes, classNames: [], images: px, labels: Uint8Array.from({ length: n }, (_, i) => i % classes) };
}

function relError(a: Float32Array, b: Float32Array): number {
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return a.length === b.length ? d / Math.max(m, 1e-30) : Infinity;
}

async function ours(be: Backend, g: Graph, host: HostParams, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const store = new ParamStore(be, g, host);
  const tape = new Tape(be, false, false);
  try {
    return await be.read(runGraph(tape, g, store, tape.input(x, shape)).output.value);
  } finally {
    tape.dispose();
    store.dispose();
  }
}

const cpu = await createNodeBackend('cpu');
const gpu = await createNodeBackend('webgpu');
for (const file of process.argv.slice(2)) {
  const bytes = new Uint8Array(await readFile(file));
  const name = basename(file);
  const r = importOnnx(bytes, name);
  const N = 4;
  const shape = [N, ...r.inputShape];
  const r0 = lcg(1);
  const x = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * r0() - 1);
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const want = (await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, shape) }))[session.outputNames[0]].data as Float32Array;
  const f = fuse(r.graph, r.host);
  const errs = {
    cpu: relError(await ours(cpu, r.graph, r.host, x, shape), want),
    cpuFused: relError(await ours(cpu, f.graph, f.host, x, shape), want),
    webgpu: relError(await ours(gpu, r.graph, r.host, x, shape), want),
    webgpuFused: relError(await ours(gpu, f.graph, f.host, x, shape), want),
  };
  console.log(`${name}: ${r.graph.nodes.length} nodes; float vs onnxruntime (max |diff| / max |ort|): ${Object.entries(errs).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}`);

  const qm = new QuantizedModel(gpu, prepare(f.graph, qconfigTemplate('default_calibration', { march: 'bayes', observer: 'minmax' })), new ParamStore(gpu, f.graph, f.host));
  const K = r.graph.numClasses;
  await calibrate(qm, blobs(32, 1, r.inputShape, K), { batchSize: 16, normalize: r.normalization });
  const im = await convertQuantizedModel(qm);
  const n = 16;
  const xs = normalizeImages(blobs(n, 9, r.inputShape, K), r.normalization);
  const tape = new Tape(gpu, false, false);
  const { output, values } = runGraph(tape, qm.plan.graph, qm.store, tape.input(xs, [n, ...r.inputShape]), { ...qm.hooks, keep: () => true });
  const fq = await gpu.read(output.value);
  let worst = 0, worstAt = '';
  for (const layer of im.layers) {
    if (layer.op === 'quantize' || layer.op === 'dequantize' || layer.op === 'reshape' || im.values[layer.id].dtype === 'int32') continue;
    const ins = [];
    for (const id of layer.inputs) {
      const info = im.values[id], v = await gpu.read(values.get(id)!.value);
      const data = info.dtype === 'int16' ? new Int16Array(v.length) : new Int8Array(v.length);
      for (let i = 0; i < v.length; i++) data[i] = Math.round(v[i] / info.scales[0]);
      ins.push({ data, shape: [n, ...info.shape] });
    }
    const got = execLayer(im, layer, ins, n);
    const ref = await gpu.read(values.get(layer.id)!.value), s = im.values[layer.id].scales[0];
    for (let i = 0; i < ref.length; i++) {
      const d = Math.abs(Math.round(ref[i] / s) - got.data[i]);
      if (d > worst) { worst = d; worstAt = `${layer.op} ${layer.id}`; }
    }
  }
  tape.dispose();
  const sim = runIntModel(im, xs, n);
  const a = argmaxRows(sim.output, n, K), b = argmaxRows(fq, n, K);
  const agree = a.filter((v, i) => v === b[i]).length;
  console.log(`${name}: calibrated (32 synthetic images), converted: ${im.layers.length} integer layers; worst layer ${worst} LSB${worstAt ? ` (${worstAt})` : ''}; simulator vs fake quant top-1 ${agree}/${n}, max |diff| / max |fq| ${relError(sim.output, fq).toExponential(2)}`);
  qm.store.dispose();
  qm.dispose();
}
gpu.dispose();
