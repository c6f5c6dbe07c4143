/**
 * The vit_tiny simulation, CPU simulator (runIntModel) vs GPU simulator (runIntModelGpu), timed once per march:
 * nash-e (integer matmul / softmax / layer norm in WGSL, no island) and bayes (matmul, softmax, layer norm as float islands,
 * round trips to the CPU). Calibrated on noise images; checks that both give the same integer output.
 *
 *   node --import tsx --import ./scripts/wgsl-hooks.mjs scripts/vit-sim-time.ts [images=32] [repeats=3]
 *
 * Prints the median of `repeats` runs of a batch of `images` for each, after one GPU warm-up run (pipeline compiles).
 */
import { readFileSync } from 'node:fs';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { acquireNodeDevice } from '../src/engine/webgpu/node-gpu.ts';
import { WebGpuBackend } from '../src/engine/webgpu/webgpu-backend.ts';
import { withoutLabels, type ImageDataset } from '../src/data/dataset.ts';
import { normalizeImages } from '../src/data/loader.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { importOnnx } from '../src/io/onnx/import.ts';
import { ParamStore } from '../src/nn/params.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { convertQuantizedModel } from '../src/quant/convert.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import { runIntModel } from '../src/sim/run.ts';
import { releaseGpuModel, runIntModelGpu } from '../src/sim/run-gpu.ts';

const n = Number(process.argv[2] ?? 32), repeats = Number(process.argv[3] ?? 3);

function noise(count: number, seed: number): ImageDataset {
  let a = seed >>> 0;
  const rnd = () => ((a = (Math.imul(a, 1664525) + 1013904223) >>> 0) / 4294967296);
  return withoutLabels({
    name: 'noise', images: Uint8Array.from({ length: count * 3 * 16 * 16 }, () => Math.floor(256 * rnd())), labels: new Uint8Array(count),
    count, channels: 3, height: 16, width: 16, numClasses: 10, classNames: [],
  });
}

const median = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)];

const r = importOnnx(new Uint8Array(readFileSync('tests/fixtures/onnx/vit_tiny.onnx')), 'vit_tiny.onnx');
const f = fuse(r.graph, r.host);
const d = await acquireNodeDevice('auto');
const gpu = new WebGpuBackend(d.device, d.adapterName, d.gpu);
console.log(`adapter: ${d.adapterName}; vit_tiny, batch of ${n}, median of ${repeats}`);
for (const march of ['nash-e', 'bayes'] as const) {
  const be = createCpuBackend();
  const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate('default_calibration', { march, observer: 'minmax' })), new ParamStore(be, f.graph, f.host));
  await calibrate(qm, noise(16, 1), { batchSize: 8, normalize: r.normalization });
  const im = await convertQuantizedModel(qm);
  const kinds = [...new Set(im.layers.map((l) => (l.op === 'float' ? `float:${l.fn.kind}` : l.op)))].join(' ');
  const x = normalizeImages(noise(n, 2), r.normalization);
  const cpuMs: number[] = [], gpuMs: number[] = [];
  const ref = runIntModel(im, x, n);
  await runIntModelGpu(im, x, n, gpu.ctx); // warm-up: pipelines and weights
  for (let i = 0; i < repeats; i++) {
    let t = performance.now();
    runIntModel(im, x, n);
    cpuMs.push(performance.now() - t);
    t = performance.now();
    const g = await runIntModelGpu(im, x, n, gpu.ctx);
    gpuMs.push(performance.now() - t);
    if (g.outputInt.data.some((v, j) => v !== ref.outputInt.data[j])) throw new Error(`${march}: GPU and CPU simulators differ`);
  }
  console.log(`${march}: CPU simulator ${median(cpuMs).toFixed(1)} ms, GPU simulator ${median(gpuMs).toFixed(1)} ms (identical outputs); layer kinds: ${kinds}`);
  releaseGpuModel(im, gpu.ctx);
  qm.store.dispose();
  qm.dispose();
}
gpu.dispose();
