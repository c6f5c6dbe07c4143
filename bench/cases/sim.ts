/**
 * The fixed-point simulator's speed (bench rows `sim ...`, `--only=sim`):
 *
 *  (a) `sim cpu <model> b64` — images/s of the CPU simulator (runIntModel, src/sim/run.ts: the code the simulator
 *      worker runs, called in-process, one thread, batch 64) against onnxruntime-web (wasm backend, numThreads 1)
 *      running the ONNX QDQ export (src/io/onnx/export-qdq.ts) of the same quantized model on the same batch.
 *  (b) `sim webgpu <model> b64` — images/s of the WGSL integer path (runIntModelGpu, src/sim/run-gpu.ts: every
 *      layer on the GPU, activations resident between layers, one upload and one read-back per batch) against the
 *      CPU simulator (peer "sim-cpu", ratio = gpu / cpu). Left out with a note when no adapter is available.
 *
 * The models: the zoo's cnn-small and mobilenetv2-mini (width 1), untrained (initHostParams seed 0), fused,
 * calibrated (default_calibration, min/max observers, march bayes) on 16 random images, converted
 * (convertQuantizedModel) and exported (exportQdqOnnx). The weights' values do not change the speed of either
 * side. The timed batch is 64 random images in [0, 1). Before timing, both simulator paths are checked to give
 * the same integers, and the QDQ model's top-1 is compared with the simulator's (printed, for information).
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { ensureZoo, zooFile } from '../../scripts/zoo-models.ts';
import type { Graph } from '../../src/graph/ir.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import type { HostParams } from '../../src/nn/params.ts';
import type { GpuContext } from '../../src/engine/webgpu/gpu-context.ts';
import { createCpuBackend } from '../../src/engine/reference/cpu-backend.ts';
import type { ImageDataset } from '../../src/data/dataset.ts';
import { createRng } from '../../src/data/rng.ts';
import { fuse } from '../../src/graph/passes/fuse.ts';
import { exportQdqOnnx } from '../../src/io/onnx/export-qdq.ts';
import { buildModel } from '../../src/models/zoo.ts';
import { initHostParams, ParamStore } from '../../src/nn/params.ts';
import { calibrate } from '../../src/quant/calibrate.ts';
import { convertQuantizedModel, type IntModel } from '../../src/quant/convert.ts';
import { prepare } from '../../src/quant/prepare.ts';
import { qconfigTemplate } from '../../src/quant/qconfig.ts';
import { QuantizedModel } from '../../src/quant/quantized-model.ts';
import { runIntModel } from '../../src/sim/run.ts';
import { comparePair, row, type BenchOptions, type Row, type RowDetail, type Side } from '../harness.ts';

export interface SimBenchModel {
  name: string;
  im: IntModel;
  onnx: Uint8Array;
  /** The timed batch: `batch` images, NCHW, values in [0, 1). */
  x: Float32Array;
  batch: number;
}

function randomImages(n: number, shape: readonly number[], seed: number): ImageDataset {
  const [c, h, w] = shape;
  const rng = createRng(seed);
  const images = Uint8Array.from({ length: n * c * h * w }, () => Math.floor(rng.float() * 256));
  return { name: 'random', count: n, channels: c, height: h, width: w, numClasses: 10, classNames: [], images, labels: Uint8Array.from({ length: n }, (_, i) => i % 10) };
}

/** torchvision models of the sim rows (exported by scripts/make-onnx-fixtures.py --zoo at 3x32x32, cached). */
export const SIM_TORCHVISION = ['mobilenet_v3_small', 'efficientnet_b0'] as const;

/** The graph and weights of a sim-row model: the project's zoo (untrained, seed 0) or a torchvision export. */
function simGraph(name: string, width?: number): { graph: Graph; host: HostParams } {
  if ((SIM_TORCHVISION as readonly string[]).includes(name)) {
    const file = zooFile(ensureZoo([name]), name);
    return importOnnx(new Uint8Array(readFileSync(file)), `${name}.onnx`);
  }
  const graph = buildModel(name, width === undefined ? {} : { width });
  return { graph, host: initHostParams(graph, 0) };
}

/** Builds, calibrates, converts and exports one model, plus a random batch. */
export async function simBenchModel(name: string, batch: number, width?: number): Promise<SimBenchModel> {
  const be = createCpuBackend();
  const src = simGraph(name, width);
  const g0 = src.graph;
  const f = fuse(g0, src.host);
  const store = new ParamStore(be, f.graph, f.host);
  const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate('default_calibration', { march: 'bayes', observer: 'minmax' })), store);
  try {
    await calibrate(qm, randomImages(16, g0.inputShape, 1), { batchSize: 16 });
    const im = await convertQuantizedModel(qm);
    const onnx = await exportQdqOnnx(qm);
    const rng = createRng(2);
    const x = Float32Array.from({ length: batch * g0.inputShape.reduce((a, b) => a * b, 1) }, () => rng.float());
    return { name, im, onnx, x, batch };
  } finally {
    store.dispose();
    qm.dispose();
  }
}

/** The CPU simulator (runIntModel) on the batch, k times. */
export function simCpuSide(m: SimBenchModel): Side {
  return {
    async run(k) {
      for (let i = 0; i < k; i++) runIntModel(m.im, m.x, m.batch);
    },
  };
}

let ortConfigured = false;

/** onnxruntime-web, wasm execution provider, one thread, on the QDQ export. */
export async function ortWebSide(m: SimBenchModel): Promise<Side & { session: ort.InferenceSession; dispose(): Promise<void> }> {
  if (!ortConfigured) {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
    ortConfigured = true;
  }
  const session = await ort.InferenceSession.create(m.onnx, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const shape = [m.batch, ...m.im.inputShape];
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', m.x, shape) };
  return {
    session,
    async run(k) {
      for (let i = 0; i < k; i++) {
        const out = await session.run(feeds);
        for (const t of Object.values(out)) t.dispose();
      }
    },
    dispose: () => session.release(),
  };
}

const argmaxRows = (a: Float32Array, cols: number): number[] =>
  Array.from({ length: a.length / cols }, (_, r) => {
    let b = 0;
    for (let c = 1; c < cols; c++) if (a[r * cols + c] > a[r * cols + b]) b = c;
    return b;
  });

export interface SimGpuRunner {
  /** runIntModelGpu bound to a context (loaded at run time: the GPU path may be missing in a checkout). */
  run(im: IntModel, x: Float32Array, n: number): Promise<{ output: Float32Array; outputInt: { data: ArrayLike<number> } }>;
  ctx: GpuContext;
}

export async function simCases(models: readonly string[], batch: number, o: BenchOptions, log: (s: string) => void,
  gpu: SimGpuRunner | null, notes: string[]): Promise<{ rows: Row[]; details: RowDetail[] }> {
  const rows: Row[] = [], details: RowDetail[] = [];
  const ortName = `onnxruntime-web ${ort.env.versions.web ?? ''} wasm 1 thread`.replace('  ', ' ');
  for (const name of models) {
    log(`simulator ${name}: calibrate, convert, export QDQ`);
    const m = await simBenchModel(name, batch);
    const ours = simCpuSide(m);
    const peer = await ortWebSide(m);
    try {
      // Sanity: the QDQ model and the simulator compute the same function (top-1 agreement, for information).
      const sim = runIntModel(m.im, m.x, m.batch);
      const ortOut = await peer.session.run({ [peer.session.inputNames[0]]: new ort.Tensor('float32', m.x, [m.batch, ...m.im.inputShape]) });
      const ortLogits = ortOut[peer.session.outputNames[0]].data as Float32Array;
      const a = argmaxRows(sim.output, m.im.numClasses), b = argmaxRows(ortLogits, m.im.numClasses);
      const agree = a.filter((v, i) => v === b[i]).length / a.length;
      log(`  top-1 agreement simulator vs onnxruntime-web on the batch: ${(100 * agree).toFixed(1)} %`);
      const r = await comparePair(ours, peer, batch, o);
      const caseName = `sim cpu ${name} b${batch}`;
      rows.push(row(caseName, 'images/s', ortName, r));
      details.push({ case: caseName, ...r, note: `runIntModel (wasm SIMD kernels) vs the QDQ export in onnxruntime-web (wasm EP, numThreads 1); top-1 agreement ${(100 * agree).toFixed(1)} %` });
      log(`  ${caseName}: ours ${r.ours.median.toFixed(1)}, onnxruntime-web ${r.peer.median.toFixed(1)} images/s (${(r.ours.median / r.peer.median).toFixed(2)}x)`);

      if (gpu) {
        const g = await gpu.run(m.im, m.x, m.batch);
        const same = g.outputInt.data.length === sim.outputInt.data.length && sim.outputInt.data.every((v, i) => v === g.outputInt.data[i]);
        if (!same) throw new Error(`${name}: the WGSL path's integer output differs from the CPU simulator's`);
        const gside: Side = {
          async run(k) {
            for (let i = 0; i < k; i++) await gpu.run(m.im, m.x, m.batch);
          },
        };
        const rg = await comparePair(gside, ours, batch, o);
        const gName = `sim webgpu ${name} b${batch}`;
        rows.push(row(gName, 'images/s', 'sim-cpu', rg));
        details.push({ case: gName, ...rg, note: 'runIntModelGpu (WGSL integer kernels, activations on the GPU) vs runIntModel on the CPU; outputs bit-identical (checked)' });
        log(`  ${gName}: gpu ${rg.ours.median.toFixed(1)}, cpu ${rg.peer.median.toFixed(1)} images/s (${(rg.ours.median / rg.peer.median).toFixed(2)}x)`);
      }
    } finally {
      await peer.dispose();
    }
  }
  if (!gpu) notes.push('sim webgpu: rows left out (--sim=cpu, or no WebGPU adapter)');
  return { rows, details };
}
