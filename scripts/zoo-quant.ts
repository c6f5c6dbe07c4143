/**
 * One torchvision zoo model (scripts/zoo-models.ts; for a meaningful top-1, briefly fine-tuned in PyTorch by
 * scripts/zoo_finetune.py) through the whole quantized flow, on the code paths the CLI stages use: import → float evaluation → fuse → prepare
 * (default_calibration) → calibrate → deployment check of the calibrated model (convert, integer simulator,
 * per-layer LSB) → QAT (default_qat prepared on the calibrated parameters and scales, as the qat stage loads its
 * calib checkpoint; a few `train` steps) → deployment check of the QAT model → ONNX QDQ export run in
 * onnxruntime-node, with its graph optimizations off (Q/DQ in float, the format's meaning) and on (its fused integer
 * kernels, which round differently), top-1 compared with the simulator.
 * Shared by scripts/zoo-quant-report.ts (all models, the table in docs/zoo.md) and tests/zoo-quant-flow.test.ts.
 */
import type { Backend } from '../src/engine/backend.ts';
import { firstN, randomSubset, type ImageDataset, type LabelledDataset } from '../src/data/dataset.ts';
import { loadFashionMnist } from '../src/data/fashion-mnist.ts';
import { loadIdxFolder } from '../src/data/idx.ts';
import { normalizeImages, type Normalization } from '../src/data/loader.ts';
import type { Graph } from '../src/graph/ir.ts';
import { fuse } from '../src/graph/passes/fuse.ts';
import { importOnnx } from '../src/io/onnx/import.ts';
import { exportQdqOnnx } from '../src/io/onnx/export-qdq.ts';
import { ParamStore, type HostParams } from '../src/nn/params.ts';
import { argmaxRows } from '../src/nn/metrics.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { convertQuantizedModel } from '../src/quant/convert.ts';
import { deployCheck, type DeployCheckResult } from '../src/quant/deploy-check.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import type { ObserverName } from '../src/quant/observers/index.ts';
import type { QuantizedModel } from '../src/quant/quantized-model.ts';
import { execLayer, runIntModel, type IntTensor } from '../src/sim/run.ts';
import type { IntModel } from '../src/sim/model.ts';
import { Tape } from '../src/engine/autograd.ts';
import { runGraph } from '../src/nn/executor.ts';
import { evaluate } from '../src/train/evaluate.ts';
import { train } from '../src/train/trainer.ts';
import { buildQuantized } from '../src/cli/stages/quant-common.ts';
import { tintedPlanes } from './fashion-as-cifar10.ts';
import { runOrt } from '../tests/helpers/onnx.ts';

/** Fashion-MNIST tinted into 3x32x32 (scripts/fashion-as-cifar10.ts), the zoo's input size, 10 classes. */
export async function fashionAsCifar(trainCount: number, testCount: number): Promise<{ train: LabelledDataset; test: LabelledDataset }> {
  let d;
  try {
    d = await loadIdxFolder('/usr/share/datasets/fashion-mnist');
  } catch {
    d = await loadFashionMnist();
  }
  const tint = (ds: LabelledDataset, name: string): LabelledDataset => {
    const images = new Uint8Array(ds.count * 3 * 32 * 32);
    for (let i = 0; i < ds.count; i++) images.set(tintedPlanes(ds.images.subarray(i * 784, (i + 1) * 784)), i * 3072);
    return { ...ds, name, channels: 3, height: 32, width: 32, images };
  };
  return {
    train: tint(randomSubset(d.train, trainCount, 0), 'fashion-as-cifar10 train'),
    test: tint(randomSubset(d.test, testCount, 0), 'fashion-as-cifar10 test'),
  };
}

export interface ZooQuantOptions {
  calibImages: number;
  qatSteps: number;
  batchSize: number;
  /** QAT: SGD with momentum 0.9 at this learning rate (constant), the qat stage's recipe. */
  qatLr: number;
  /** The calibration observer (default: default_calibration's, MSE). */
  observer?: ObserverName;
  /** Images of the isolated per-layer check (it keeps every value of the graph). */
  layerImages: number;
  onStage?: (stage: string) => void;
}

export const ZOO_QUANT_DEFAULTS: ZooQuantOptions = { calibImages: 64, qatSteps: 4, batchSize: 16, qatLr: 1e-3, layerImages: 16 };

export interface FlowCheck {
  /** Top-1 agreement simulator vs fake-quant model, %. */
  agreement: number;
  /**
   * The largest difference in output LSB of one integer layer fed the fake-quant model's own integer inputs (what
   * the layer's integer arithmetic adds), and its layer.
   */
  maxLsb: number;
  maxLsbLayer: string;
  /** The largest end-to-end difference (the deployment check: the simulator fed its own outputs), and its layer. */
  e2eLsb: number;
  e2eLsbLayer: string;
  acc1: number;
  simAcc1: number;
  layers: DeployCheckResult['layers'];
  /** Per layer (op and id): the isolated difference in LSB. */
  layerLsb: Record<string, number>;
}

/**
 * Every integer layer fed the fake-quant model's integer inputs (VALIDATION state, n images): the largest
 * |simulator − fake quant| in the layer's output LSB (int8/int16: integers; int32 outputs: x_scale·w_scale per channel).
 */
export async function layerLsb(qm: QuantizedModel, im: IntModel, x: Float32Array, n: number): Promise<{ max: number; layer: string; all: Record<string, number> }> {
  const tape = new Tape(qm.be, false, false);
  const vals = new Map<string, Float32Array>();
  try {
    const { values } = runGraph(tape, qm.plan.graph, qm.store, tape.input(x, [n, ...im.inputShape]), { ...qm.hooks, keep: () => true });
    for (const [id, v] of values) vals.set(id, await qm.be.read(v.value));
  } finally {
    tape.dispose();
  }
  const toInt = (id: string): IntTensor => {
    const info = im.values[id], v = vals.get(id);
    if (!v) throw new Error(`${im.name}: no fake-quant value for ${id}`);
    if (info.scales.length !== 1) throw new Error(`${im.name}: ${id} (${info.dtype}, per-channel) feeds another layer`);
    const data = info.dtype === 'int16' ? new Int16Array(v.length) : info.dtype === 'int32' ? new Int32Array(v.length) : new Int8Array(v.length);
    for (let i = 0; i < v.length; i++) data[i] = Math.round(v[i] / info.scales[0]);
    return { data, shape: [n, ...info.shape] };
  };
  const all: Record<string, number> = {};
  let max = 0, layer = '';
  for (const l of im.layers) {
    if (l.op === 'quantize' || l.op === 'dequantize') continue;
    const info = im.values[l.id];
    const got = execLayer(im, l, l.inputs.map(toInt));
    const ref = vals.get(l.id)!;
    const C = info.scales.length, inner = ref.length / n / C;
    let m = 0;
    for (let i = 0; i < ref.length; i++) {
      const lsb = C === 1 ? info.scales[0] : info.scales[Math.floor(i / inner) % C];
      const d = C === 1 ? Math.abs(Math.round(ref[i] / lsb) - got.data[i]) : Math.abs(ref[i] / lsb - got.data[i]);
      if (d > m) m = d;
    }
    all[`${l.op} ${l.id}`] = m;
    if (m > max || !layer) [max, layer] = [m, `${l.op} ${l.id}`];
  }
  return { max, layer, all };
}

export interface ZooQuantResult {
  name: string;
  floatAcc: number;
  /** Share of test images predicted as the most frequent class by the float model, %. */
  floatTopClassShare: number;
  calib: FlowCheck;
  qat: FlowCheck;
  /** onnxruntime on the QAT model's QDQ export vs the simulator: optimizations off / on (fused integer kernels), %. */
  qdqUnfused: number;
  qdqFused: number;
  /** QDQ export (optimizations off) vs the QAT fake-quant model, top-1 %: both round half to even, the simulator half up. */
  qdqVsFakeQuant: number;
  seconds: number;
  stageSeconds: Record<string, number>;
}

/** The deployment check with the simulator called in process (the CLI goes through the worker protocol to the same runIntModel). */
async function check(qm: QuantizedModel, test: ImageDataset, normalization: Normalization, batchSize: number, layerImages: number): Promise<{ r: FlowCheck; sim: Float32Array; K: number }> {
  const im = await convertQuantizedModel(qm);
  const n = Math.min(layerImages, test.count);
  const layer = await layerLsb(qm, im, normalizeImages(firstN(test, n), normalization), n);
  const outs: Float32Array[] = [];
  const r = await deployCheck(qm, im, test, async (x, n, dump) => {
    const s = runIntModel(im, x, n, { dump });
    outs.push(s.output!);
    return { output: s.output!, dumps: s.dumps };
  }, { batchSize, normalize: normalization });
  const worst = r.layers.reduce((a, l) => (l.max_lsb > a.max_lsb ? l : a), r.layers[0]);
  const sim = new Float32Array(outs.reduce((a, o) => a + o.length, 0));
  let at = 0;
  for (const o of outs) {
    sim.set(o, at);
    at += o.length;
  }
  return {
    r: {
      agreement: r.agreement_top1, maxLsb: layer.max, maxLsbLayer: layer.layer, e2eLsb: worst.max_lsb, e2eLsbLayer: worst.name,
      acc1: r.qat.acc1, simAcc1: r.int.acc1, layers: r.layers, layerLsb: layer.all,
    },
    sim, K: im.numClasses,
  };
}

function topClassShare(logits: Float32Array, n: number, K: number): number {
  const counts = new Array(K).fill(0);
  for (const c of argmaxRows(logits, n, K)) counts[c]++;
  return (100 * Math.max(...counts)) / n;
}

export async function quantFlow(be: Backend, name: string, bytes: Uint8Array, data: { train: ImageDataset; test: ImageDataset }, opts: Partial<ZooQuantOptions> = {}): Promise<ZooQuantResult> {
  const o = { ...ZOO_QUANT_DEFAULTS, ...opts };
  const t0 = performance.now();
  const stageSeconds: Record<string, number> = {};
  let tStage = performance.now();
  const stage = (s: string) => {
    stageSeconds[s] = (performance.now() - tStage) / 1000;
    tStage = performance.now();
    o.onStage?.(s);
  };
  const r = importOnnx(bytes, `${name}.onnx`);
  const norm = r.normalization;
  const { test } = data;
  const host: HostParams = r.host;
  const graph: Graph = r.graph;
  const trainOn = (n: number) => randomSubset(data.train, Math.min(n, data.train.count), 2);

  // float: the model as exported (scripts/zoo_finetune.py fine-tunes it briefly in PyTorch first)
  let floatAcc = NaN, floatTopClassShare = NaN;
  {
    const store = new ParamStore(be, graph, host);
    const logits: Float32Array[] = [];
    const ev = await evaluate(be, graph, store, test, { normalize: norm, batchSize: o.batchSize * 4, onLogits: (l) => logits.push(Float32Array.from(l)) });
    floatAcc = ev.acc1;
    const all = new Float32Array(logits.reduce((a, l) => a + l.length, 0));
    let at = 0;
    for (const l of logits) { all.set(l, at); at += l.length; }
    floatTopClassShare = topClassShare(all, test.count, graph.numClasses);
    store.dispose();
  }
  stage('float');

  // calib: fuse, prepare default_calibration, calibrate (as the calib stage)
  const f = fuse(graph, host);
  const calibQc = qconfigTemplate('default_calibration', o.observer ? { observer: o.observer } : {});
  const cq = buildQuantized(be, f.graph, f.host, calibQc);
  await calibrate(cq, randomSubset(data.train, Math.min(o.calibImages, data.train.count), 1), { batchSize: o.batchSize, normalize: norm });
  cq.setState('VALIDATION');
  stage('calibrate');
  const calib = (await check(cq, test, norm, o.batchSize * 4, o.layerImages)).r;
  const calibParams = await cq.store.toHost(), calibSites = await cq.toHost();
  cq.store.dispose();
  cq.dispose();
  stage('calib check');

  // qat: default_qat on the calibrated parameters and scales (as the qat stage loads calib-checkpoint)
  const qm = buildQuantized(be, f.graph, calibParams, qconfigTemplate('default_qat', { march: calibQc.march }), calibSites);
  qm.setState('QAT');
  await train(be, qm.plan.graph, qm.store, trainOn(o.qatSteps * o.batchSize), null, {
    epochs: 1, batchSize: o.batchSize, seed: 0, schedule: 'constant', normalize: norm, evalEachEpoch: false,
    optimizer: { name: 'sgd', lr: o.qatLr, momentum: 0.9 },
  }, { hooks: qm.hooks });
  qm.setState('VALIDATION');
  stage('qat');
  const q = await check(qm, test, norm, o.batchSize * 4, o.layerImages);
  stage('qat check');

  // compile: the QDQ export of the QAT model in onnxruntime-node, vs the simulator
  const qdq = await exportQdqOnnx(qm);
  const x = normalizeImages(test, norm);
  const shape = [test.count, ...r.inputShape];
  const simTop = argmaxRows(q.sim, test.count, q.K);
  const agree = (logits: Float32Array) => {
    const t = argmaxRows(logits, test.count, q.K);
    let a = 0;
    for (let i = 0; i < test.count; i++) if (t[i] === simTop[i]) a++;
    return (100 * a) / test.count;
  };
  const ortUnfused = await runOrt(qdq, x, shape, 'disabled');
  const qdqUnfused = agree(ortUnfused);
  const qdqFused = agree(await runOrt(qdq, x, shape, 'all'));
  const fqLogits: number[] = [];
  await evaluate(be, qm.plan.graph, qm.store, test, { hooks: qm.hooks, normalize: norm, batchSize: o.batchSize * 4, onLogits: (l, _y, n) => fqLogits.push(...l.subarray(0, n * q.K)) });
  const fqTop = argmaxRows(Float32Array.from(fqLogits), test.count, q.K), ortTop = argmaxRows(ortUnfused, test.count, q.K);
  const qdqVsFakeQuant = (100 * fqTop.filter((c, i) => c === ortTop[i]).length) / test.count;
  qm.store.dispose();
  qm.dispose();
  stage('qdq');
  return {
    name, floatAcc, floatTopClassShare, calib, qat: q.r, qdqUnfused, qdqFused, qdqVsFakeQuant,
    seconds: (performance.now() - t0) / 1000, stageSeconds,
  };
}
