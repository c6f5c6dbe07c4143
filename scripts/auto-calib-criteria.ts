/**
 * How each selection criterion of automatic calibration ranks the single observers: every candidate calibrates the
 * whole model alone (as `calib --observer X`, on the same calibration images as `calib`), then on held-out TRAINING
 * images (not the calibration ones; no test image) prints the final-output L2 to the float model, the KL divergence
 * of the softmax outputs, the cross-entropy to the labels, the top-1 agreement with the float model and the top-1
 * accuracy. Used to choose the criterion (issue 13); the test accuracies to compare with come from
 * scripts/ptq-targets.sh (cnn-obs / fcnn-obs).
 * Usage: node --import tsx --import ./scripts/wgsl-hooks.mjs scripts/auto-calib-criteria.ts MODEL_DIR [--onnx F] [HELD_OUT] [CANDIDATES]
 *   (BACKEND=webgpu|cpu, default webgpu; 256 calibration images of calib's seed-1 permutation, held-out images: the next HELD_OUT of it)
 */
import { Tape } from '../src/engine/autograd.ts';
import { createNodeBackend } from '../src/engine/create-node-backend.ts';
import { subset } from '../src/data/dataset.ts';
import { permutation } from '../src/data/rng.ts';
import { iterateBatches } from '../src/data/loader.ts';
import { loadStageData } from '../src/cli/data.ts';
import { runGraph } from '../src/nn/executor.ts';
import { ParamStore } from '../src/nn/params.ts';
import { calibrate } from '../src/quant/calibrate.ts';
import { prepare } from '../src/quant/prepare.ts';
import { qconfigTemplate } from '../src/quant/qconfig.ts';
import { QuantizedModel } from '../src/quant/quantized-model.ts';
import { loadFusedFloat } from '../src/cli/stages/quant-common.ts';
import { dataShapeOf } from '../src/cli/model-source.ts';
import { parseCandidate } from '../src/quant/ptq/auto-calib-candidates.ts';

const args = process.argv.slice(2);
const onnxAt = args.indexOf('--onnx');
const onnx = onnxAt >= 0 ? args.splice(onnxAt, 2)[1] : undefined;
const [dir, held = '2000', cands = 'minmax,percentile,mse,kl'] = args;
const data = await loadStageData('idx:/usr/share/datasets/fashion-mnist', null, null);
const { graph, host, normalization } = await loadFusedFloat({ modelPath: dir, onnx: onnx ?? null, model: "cnn-small", preprocessing: null } as never, dataShapeOf(data));
const be = await createNodeBackend((process.env.BACKEND ?? 'webgpu') as 'webgpu' | 'cpu');
const perm = permutation(data.train.count, 1);
const calibDs = subset(data.train, perm.subarray(0, 256));
const heldDs = subset(data.train, perm.subarray(256, 256 + Number(held)));
const store = new ParamStore(be, graph, host);
const outputs = async (hooks: object) => {
  const out: Float32Array[] = [];
  for (const b of iterateBatches(heldDs, 250, 0, 0, { shuffle: false, normalize: normalization })) {
    const tape = new Tape(be, false, false);
    out.push(await be.read(runGraph(tape, graph, store, tape.input(b.x, b.shape), hooks).output.value));
    tape.dispose();
  }
  return out;
};
const float = await outputs({});
const k = graph.numClasses;
const softmax = (a: Float32Array, i: number) => {
  let m = -Infinity;
  for (let c = 0; c < k; c++) m = Math.max(m, a[i * k + c]);
  const e = Array.from({ length: k }, (_, c) => Math.exp(a[i * k + c] - m));
  const s = e.reduce((x, y) => x + y, 0);
  return e.map((v) => v / s);
};
const argmax = (a: Float32Array, i: number) => {
  let b = 0;
  for (let c = 1; c < k; c++) if (a[i * k + c] > a[i * k + b]) b = c;
  return b;
};
console.log(`held-out: ${heldDs.count} training images (256..${256 + heldDs.count} of calib's seed-1 permutation)`);
for (const label of cands.split(',')) {
  const c = parseCandidate(label);
  // A calibration's observers take their defaults (quantized-model.ts): no observer:parameter here.
  if (label !== c.name) throw new Error(`${label}: only observers at their defaults (a calibration with that observer)`);
  const plan = prepare(graph, qconfigTemplate('default_calibration', { observer: c.name }));
  const qm = new QuantizedModel(be, plan, store);
  await calibrate(qm, calibDs, { batchSize: 64, normalize: normalization });
  qm.setState('VALIDATION');
  const q = await outputs(qm.hooks);
  let l2 = 0, kl = 0, ce = 0, agree = 0, acc = 0, n = 0;
  q.forEach((o, bi) => {
    const f = float[bi];
    for (let i = 0; i < o.length / k; i++, n++) {
      for (let j = 0; j < o.length / (o.length / k); j++) l2 += (o[i * k + j] - f[i * k + j]) ** 2;
      const pq = softmax(o, i), pf = softmax(f, i);
      for (let j = 0; j < k; j++) if (pf[j] > 0) kl += pf[j] * Math.log(pf[j] / Math.max(pq[j], 1e-30));
      const y = heldDs.labels![n];
      ce -= Math.log(Math.max(pq[y], 1e-30));
      if (argmax(o, i) === argmax(f, i)) agree++;
      if (argmax(o, i) === y) acc++;
    }
  });
  console.log(`${label}: L2 ${Math.sqrt(l2).toFixed(4)}  KL ${(kl / n).toExponential(4)}  CE ${(ce / n).toFixed(5)}  agree ${(100 * agree / n).toFixed(2)} %  acc ${(100 * acc / n).toFixed(2)} %`);
  qm.dispose();
}
let facc = 0, n = 0;
float.forEach((o) => { for (let i = 0; i < o.length / k; i++, n++) if (argmax(o, i) === heldDs.labels![n]) facc++; });
console.log(`float: acc ${(100 * facc / n).toFixed(2)} %`);
