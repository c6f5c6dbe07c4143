/**
 * The precision analysis of a model with several outputs (issues 13 and 14): the distance of two stages combines the
 * outputs, each normalised so that a big feature map does not dominate (src/quant/analysis/outputs.ts); top-1 and
 * accuracy exist only for an output of class scores; unlabelled data gives distances only.
 *  - the combination on hand-made outputs, figures worked out by hand;
 *  - the FPN neck (tests/fixtures/onnx/fpn.onnx, three feature-map outputs) on unlabelled images: bad cases, layer
 *    comparison and sensitivity; each bad case's distance equals the mean over the outputs of that image's cosine,
 *    computed here directly from the two models' outputs; the layers include the three int32 output layers;
 *  - the YOLO-style block (yolo_block.onnx: boxes and scores maps) on labelled images: still no top-1 or accuracy,
 *    since neither output is class scores; the SQNR combines the outputs' noise-to-signal ratios.
 */
import { describe, expect, it } from 'vitest';
import { withoutLabels, type ImageDataset } from '../src/data/dataset.ts';
import { normalizeImages, type Normalization } from '../src/data/loader.ts';
import { Tape } from '../src/engine/autograd.ts';
import type { Backend } from '../src/engine/backend.ts';
import { createCpuBackend } from '../src/engine/reference/cpu-backend.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { importOnnx } from '../src/io/onnx/import.ts';
import { runGraph, type Hooks } from '../src/nn/executor.ts';
import { ParamStore } from '../src/nn/params.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import { imageDistance, outputsDistance, type AnalysedOutput } from '../src/quant/analysis/outputs.ts';
import { runAnalysis, type AnalyzeSettings } from '../src/quant/analysis/run-analysis.ts';
import { sensitivity } from '../src/quant/analysis/sensitivity.ts';
import { collectBatches, engineStage } from '../src/quant/analysis/stage-runner.ts';
import type { Graph } from '../src/graph/ir.ts';
import { fixture } from './helpers/onnx.ts';
import { mulberry32 } from './helpers/random.ts';

function blobs(n: number, seed: number): ImageDataset {
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
  return { name: 'blobs', count: n, channels: 3, height: 32, width: 32, numClasses: 2, classNames: ['a', 'b'], images: px, labels: Uint8Array.from({ length: n }, (_, i) => i % 2) };
}

const out = (name: string, size: number): AnalysedOutput => ({ id: name, name, shape: [size, 1, 1], size, classScores: false });

describe('distance over several outputs', () => {
  // output A: 2 values per image, B: 4; one image
  const outs = [out('A', 2), out('B', 4)];
  const a = [[3, 4], [1, 1, 1, 1]], b = [[3, 0], [1, 1, 1, 1]];
  it('L1 per element, MSE, cosine and KL per output, then their mean', () => {
    expect(imageDistance('l1', outs, a, b, 0)).toBeCloseTo((4 / 2 + 0) / 2, 12);
    expect(imageDistance('mse', outs, a, b, 0)).toBeCloseTo((16 / 2 + 0) / 2, 12);
    expect(imageDistance('cosine', outs, a, b, 0)).toBeCloseTo((9 / (5 * 3) + 1) / 2, 12);
    expect(outputsDistance('l1', outs, a, b, 1)).toBeCloseTo(1, 12);
  });
  it('SQNR from the mean noise-to-signal ratio: an exact output adds 0, not infinity', () => {
    // A: Σ(a−b)² / Σa² = 16 / 25, B: 0
    expect(imageDistance('sqnr', outs, a, b, 0)).toBeCloseTo(-10 * Math.log10(16 / 25 / 2), 10);
    expect(outputsDistance('sqnr', outs, a, b, 1)).toBeCloseTo(-10 * Math.log10(16 / 25 / 2), 10);
    expect(imageDistance('sqnr', outs, a, a, 0)).toBe(Infinity);
  });
  it('a big exact feature map does not dilute an error in a small output', () => {
    const big = out('B', 1000);
    const ones = Array.from({ length: 1000 }, () => 1);
    expect(imageDistance('l1', [outs[0], big], [a[0], ones], [b[0], ones], 0)).toBeCloseTo(imageDistance('l1', outs, a, b, 0), 12);
  });
});

interface Models { be: Backend; graph: Graph; qm: QuantizedModel; floatStore: ParamStore; norm: Normalization }

async function calibrated(file: string, calib: ImageDataset): Promise<Models> {
  const r = importOnnx(fixture(file), `${file}.onnx`);
  const f = fuse(r.graph, r.host);
  const be = createCpuBackend();
  const qm = new QuantizedModel(be, prepare(f.graph, qconfigTemplate('default_calibration', { march: 'bayes' })), new ParamStore(be, f.graph, f.host));
  await calibrate(qm, calib, { batchSize: 8, normalize: r.normalization });
  qm.setState('VALIDATION');
  return { be, graph: f.graph, qm, floatStore: new ParamStore(be, f.graph, f.host), norm: r.normalization };
}

async function analyse(m: Models, test: ImageDataset, s: Partial<AnalyzeSettings>) {
  const grids = new Map<string, { scale: number; quantMin: number; quantMax: number }>();
  const { activations } = await m.qm.scales();
  for (const a of m.qm.plan.acts) grids.set(a.node, { scale: activations[a.node], quantMin: a.quantMin, quantMax: a.quantMax });
  return runAnalysis({
    be: m.be, qm: m.qm, a: engineStage('float', m.be, m.graph, m.floatStore, undefined), b: engineStage('calib', m.be, m.qm.plan.graph, m.qm.store, m.qm.hooks, grids),
    test, train: test, normalize: m.norm, binding: { model: 'm', data: test.name, checkpoint: 'calib' },
  }, { metric: 'cosine', badCases: 4, layersOn: 'batch', layerImages: test.count, batchSize: 8, sensitivity: true, mixedPrecision: false, calibImages: 8, ...s });
}

/** Every output of one image batch, each as a row per image. */
async function outputsFor(m: Models, store: ParamStore, hooks: Hooks | undefined, ds: ImageDataset): Promise<Float32Array[]> {
  const tape = new Tape(m.be, false, false);
  try {
    const { outputs } = runGraph(tape, m.graph, store, tape.input(normalizeImages(ds, m.norm), [ds.count, ds.channels, ds.height, ds.width]), { ...hooks });
    const got: Float32Array[] = [];
    for (const v of outputs) got.push(await m.be.read(v.value));
    return got;
  } finally {
    tape.dispose();
  }
}

function cosine(x: Float32Array, y: Float32Array, off: number, k: number): number {
  let d = 0, nx = 0, ny = 0;
  for (let j = off; j < off + k; j++) { d += x[j] * y[j]; nx += x[j] * x[j]; ny += y[j] * y[j]; }
  return d / Math.sqrt(nx * ny);
}

describe('analysis of models with several outputs', () => {
  it('FPN neck, three feature maps, unlabelled: bad cases by the mean cosine over the outputs, layers, sensitivity', async () => {
    const m = await calibrated('fpn', withoutLabels(blobs(8, 1)));
    const test = withoutLabels(blobs(6, 2));
    const { report, bad, layers, sensitivity: sens } = await analyse(m, test, {});
    expect(report.outputs).toEqual([
      { name: 'p2', shape: [16, 16, 16], class_scores: false }, { name: 'p3', shape: [16, 8, 8], class_scores: false }, { name: 'p4', shape: [16, 4, 4], class_scores: false },
    ]);
    // no labels and no class scores: no top-1, no accuracy, no predictions; ranked by distance only
    expect(bad.agreement_top1).toBeNaN();
    expect(bad.acc1_a).toBeNaN();
    expect(bad.worst).toHaveLength(4);
    for (const c of bad.worst) expect(c).toMatchObject({ pred_a: -1, pred_b: -1, disagree: false, label: -1 });
    const ds = bad.worst.map((c) => c.distance);
    expect([...ds].sort((x, y) => x - y)).toEqual(ds); // cosine: smallest (worst) first

    // each image's distance: the mean over p2, p3, p4 of the cosine of that image's two outputs
    const f = await outputsFor(m, m.floatStore, undefined, test), q = await outputsFor(m, m.qm.store, m.qm.hooks, test);
    const sizes = [16 * 16 * 16, 16 * 8 * 8, 16 * 4 * 4];
    for (let i = 0; i < test.count; i++) {
      const want = sizes.reduce((s, k, o) => s + cosine(f[o], q[o], i * k, k), 0) / 3;
      expect(bad.distances[i]).toBeCloseTo(want, 5);
    }
    expect(Math.min(...bad.distances)).toBeLessThan(1);

    // every layer compared, among them the three convs whose accumulators are the int32 outputs
    expect(layers.length).toBeGreaterThan(3);
    for (const id of m.qm.plan.int32Outputs) expect(layers.some((l) => l.name === id), id).toBe(true);
    for (const l of layers) expect(Number.isFinite(l.cosine), l.name).toBe(true);

    // sensitivity: every site, distances only; the whole model's distance is the set mean of the same cosines
    expect(sens!.ranking).toHaveLength(m.qm.plan.acts.length + m.qm.plan.weights.length);
    expect(sens!.acc1_float).toBeNaN();
    for (const e of sens!.ranking) {
      expect(e.acc1_only_this_quantized).toBeNaN();
      expect(e.distance_only_this_quantized).toBeGreaterThan(0.9);
      expect(e.distance_only_this_quantized).toBeLessThanOrEqual(1 + 1e-6);
    }
    expect(sens!.distance_quantized).toBeCloseTo(bad.distances.reduce((s, x) => s + x, 0) / test.count, 5);
    m.qm.dispose();
  }, 120_000);

  it('YOLO block, labelled images but no output of class scores: no top-1 or accuracy; SQNR combines the outputs', async () => {
    const m = await calibrated('yolo_block', blobs(8, 3));
    const test = blobs(8, 4);
    const { report, bad } = await analyse(m, test, { metric: 'sqnr', sensitivity: false });
    expect(report.outputs!.map((o) => [o.name, o.class_scores])).toEqual([['boxes', false], ['scores', false]]);
    expect(bad.agreement_top1).toBeNaN();
    expect(bad.acc1_b).toBeNaN();
    // the sensitivity pass on two sites (the whole ranking is the FPN case's)
    const sites = [{ site: m.qm.plan.acts[1].node, kind: 'activation' as const }, { site: m.qm.plan.weights[0].node, kind: 'weight' as const }];
    const sens = await sensitivity(m.be, m.qm, collectBatches(test, 8, m.norm), 'sqnr', { sites });
    expect(sens.acc1_quantized).toBeNaN();
    expect(sens.ranking).toHaveLength(2);
    for (const c of bad.worst) expect(c.disagree).toBe(false);
    // the whole set: −10·log10 of the mean over boxes and scores of Σ(f − q)² / Σf², computed here
    const f = await outputsFor(m, m.floatStore, undefined, test), q = await outputsFor(m, m.qm.store, m.qm.hooks, test);
    const nsr = f.map((fo, o) => {
      let s = 0, e = 0;
      for (let j = 0; j < fo.length; j++) { s += fo[j] ** 2; e += (fo[j] - q[o][j]) ** 2; }
      return e / s;
    });
    expect(sens.distance_quantized).toBeCloseTo(-10 * Math.log10((nsr[0] + nsr[1]) / 2), 3);
    expect(sens.distance_quantized).toBeGreaterThan(10);
    // sqnr: smallest (worst) first; one site alone costs less than all of them
    expect(sens.ranking[0].distance_only_this_quantized).toBeLessThanOrEqual(sens.ranking[1].distance_only_this_quantized);
    expect(sens.ranking[1].distance_only_this_quantized).toBeGreaterThan(sens.distance_quantized);
    m.qm.dispose();
  }, 120_000);
});
